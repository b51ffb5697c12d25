//! `latest.json`: which backup is the newest, for tools that want one
//! object to read. A hint only: it is replaced after each commit, so two
//! racing backups may leave it naming the older one; the manifests are the
//! truth ([`BackupEngine::list`](super::BackupEngine::list)).
//!
//! ```text
//! {
//!   "format": "cairndb-backup-latest",
//!   "format_version": 1,
//!   "id": 7,
//!   "manifest": "manifests/manifest-000007.json",
//!   "checksum": "0123456789abcdef"
//! }
//! ```

use super::manifest::manifest_key;
use super::sealed;
use crate::Result;

/// The store key of the pointer to the newest backup.
pub const LATEST_KEY: &str = "latest.json";
/// The `format` member of `latest.json`.
pub const LATEST_FORMAT: &str = "cairndb-backup-latest";
const LATEST_FORMAT_VERSION: u64 = 1;
/// Largest `latest.json` read.
pub const LATEST_BYTES_MAX: u64 = 4096;

/// The bytes of `latest.json` naming backup `id`.
pub fn encode_latest(id: u64) -> Vec<u8> {
    sealed::seal(&[
        ("format", format!("\"{LATEST_FORMAT}\"")),
        ("format_version", LATEST_FORMAT_VERSION.to_string()),
        ("id", id.to_string()),
        ("manifest", format!("\"{}\"", manifest_key(id))),
    ])
}

/// The backup id `latest.json` names; damage is `Error::Corruption`.
pub fn decode_latest(location: &str, bytes: &[u8]) -> Result<u64> {
    let value = sealed::unseal(location, bytes)?;
    let fields = sealed::members(location, &value, &["format", "format_version", "id", "manifest"])?;
    fields.check_format(LATEST_FORMAT, LATEST_FORMAT_VERSION)?;
    let id = fields.u64("id")?;
    if id == 0 || fields.str("manifest")? != manifest_key(id) {
        return Err(fields.bad("the id and the manifest it names disagree"));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(decode_latest("l", &encode_latest(42)).unwrap(), 42);
        let bad = String::from_utf8(encode_latest(42)).unwrap().replace("000042", "000043");
        assert!(decode_latest("l", bad.as_bytes()).unwrap_err().is_corruption());
    }
}
