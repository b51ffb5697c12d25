//! `latest.json`: which backup was committed last, and of which database,
//! for tools that want one object to read. A hint only: it is replaced
//! after each commit, so two racing backups may leave it naming the older
//! one, and a store shared by several databases holds one pointer for all
//! of them. The engine never trusts it: "latest" is always worked out from
//! the manifests, per database ([`BackupEngine::latest`](super::BackupEngine::latest)).
//!
//! ```text
//! {
//!   "format": "cairndb-backup-latest",
//!   "format_version": 2,
//!   "id": 7,
//!   "manifest": "manifests/manifest-000007.json",
//!   "database": "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-1",
//!   "checksum": "0123456789abcdef"
//! }
//! ```
//!
//! `database` is `"unknown"` for a backup from before identities; format 1
//! had no `database`.

use super::manifest::manifest_key;
use super::sealed;
use crate::{DbIdentity, Result};

/// The store key of the pointer to the newest backup.
pub const LATEST_KEY: &str = "latest.json";
/// The `format` member of `latest.json`.
pub const LATEST_FORMAT: &str = "cairndb-backup-latest";
const LATEST_FORMAT_VERSION: u64 = 2;
const FORMAT_VERSION_NO_DATABASE: u64 = 1;
const UNKNOWN_DATABASE: &str = "unknown";
/// Largest `latest.json` read.
pub const LATEST_BYTES_MAX: u64 = 4096;

/// What `latest.json` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latest {
    /// The backup committed last.
    pub id: u64,
    /// Its database (`None`: unknown, or a format 1 pointer).
    pub database: Option<DbIdentity>,
}

/// The bytes of `latest.json` naming backup `id` of `database`.
pub fn encode_latest(latest: Latest) -> Vec<u8> {
    let database = latest.database.map_or_else(|| UNKNOWN_DATABASE.to_owned(), |d| d.to_string());
    sealed::seal(&[
        ("format", format!("\"{LATEST_FORMAT}\"")),
        ("format_version", LATEST_FORMAT_VERSION.to_string()),
        ("id", latest.id.to_string()),
        ("manifest", format!("\"{}\"", manifest_key(latest.id))),
        ("database", format!("\"{database}\"")),
    ])
}

/// What `latest.json` names; damage is `Error::Corruption`.
pub fn decode_latest(location: &str, bytes: &[u8]) -> Result<Latest> {
    let value = sealed::unseal(location, bytes)?;
    let fields = sealed::members(location, &value, &["format", "format_version", "id", "manifest", "database"])?;
    let format = fields.check_format(LATEST_FORMAT, &[LATEST_FORMAT_VERSION, FORMAT_VERSION_NO_DATABASE])?;
    let id = fields.u64("id")?;
    if id == 0 || fields.str("manifest")? != manifest_key(id) {
        return Err(fields.bad("the id and the manifest it names disagree"));
    }
    let database = match (format, value.get("database")) {
        (FORMAT_VERSION_NO_DATABASE, None) => None,
        (LATEST_FORMAT_VERSION, Some(_)) => match fields.str("database")? {
            UNKNOWN_DATABASE => None,
            text => Some(text.parse().map_err(|_| fields.bad(format!("{text:?} is not a database identity")))?),
        },
        _ => return Err(fields.bad("\"database\" is missing, or present in format 1")),
    };
    Ok(Latest { id, database })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for database in [None, Some(DbIdentity { id: 9, generation: 2 })] {
            let latest = Latest { id: 42, database };
            assert_eq!(decode_latest("l", &encode_latest(latest)).unwrap(), latest);
        }
        let bad =
            String::from_utf8(encode_latest(Latest { id: 42, database: None })).unwrap().replace("000042", "000043");
        assert!(decode_latest("l", bad.as_bytes()).unwrap_err().is_corruption());
        let old = sealed::seal(&[
            ("format", format!("\"{LATEST_FORMAT}\"")),
            ("format_version", "1".into()),
            ("id", "7".into()),
            ("manifest", format!("\"{}\"", manifest_key(7))),
        ]);
        assert_eq!(decode_latest("l", &old).unwrap(), Latest { id: 7, database: None });
    }
}
