//! A lease object as another process writes it (`docs/FORMAT.md`,
//! "Leases"). Not part of `common/mod.rs`: the tool's tests share that and
//! do not link `xxhash_rust`; the crate's tests include this with `#[path]`.

/// The bytes of a `kind` lease ("gc" or "backup") refreshed at
/// `refreshed_unix_ms`.
pub fn lease_body(kind: &str, refreshed_unix_ms: u128) -> Vec<u8> {
    let body = format!(
        "{{\n  \"format\": \"cairndb-lease\",\n  \"format_version\": 2,\n  \"kind\": \"{kind}\",\n  \
         \"pid\": 1,\n  \"refreshed_unix_ms\": {refreshed_unix_ms},\n"
    );
    let sum = xxhash_rust::xxh3::xxh3_64(body.as_bytes());
    format!("{body}  \"checksum\": \"{sum:016x}\"\n}}\n").into_bytes()
}
