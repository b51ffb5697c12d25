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
//!   "format_version": 3,
//!   "id": 7,
//!   "manifest": "manifests/manifest-000007.json",
//!   "database": "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-1",
//!   "checksum": "0123456789abcdef"
//! }
//! ```
//!
//! A sealed JSON document ([`crate::sealed`]); `database` is `"unknown"`
//! for a backup of a database without an identity.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::manifest::manifest_key;
use crate::sealed;
use crate::{BackupId, DbIdentity, Error, Result};

/// The store key of the pointer to the newest backup.
pub const LATEST_KEY: &str = "latest.json";
/// The `format` member of `latest.json`.
pub const LATEST_FORMAT: &str = "cairndb-backup-latest";
const LATEST_FORMAT_VERSION: u64 = 3;
const UNKNOWN_DATABASE: &str = "unknown";
/// Largest `latest.json` read.
pub const LATEST_BYTES_MAX: u64 = 4096;

/// What `latest.json` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latest {
    /// The backup committed last.
    pub id: BackupId,
    /// Its database (`None`: unknown).
    pub database: Option<DbIdentity>,
}

/// The document as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LatestDoc {
    format: String,
    format_version: u64,
    id: u64,
    manifest: String,
    database: String,
}

/// The bytes of `latest.json` naming backup `id` of `database`.
pub fn encode_latest(latest: Latest) -> Vec<u8> {
    sealed::seal(&LatestDoc {
        format: LATEST_FORMAT.to_owned(),
        format_version: LATEST_FORMAT_VERSION,
        id: latest.id.0,
        manifest: manifest_key(latest.id),
        database: latest.database.map_or_else(|| UNKNOWN_DATABASE.to_owned(), |d| d.to_string()),
    })
}

/// What `latest.json` names; damage is `Error::Corruption`.
pub fn decode_latest(location: &str, bytes: &[u8]) -> Result<Latest> {
    let doc: LatestDoc = sealed::unseal(Path::new(location), bytes, LATEST_FORMAT, LATEST_FORMAT_VERSION)?;
    let bad = |what: String| Error::corruption(Path::new(location), 0, what);
    if doc.id == 0 || doc.manifest != manifest_key(BackupId(doc.id)) {
        return Err(bad("the id and the manifest it names disagree".into()));
    }
    let database = match doc.database.as_str() {
        UNKNOWN_DATABASE => None,
        text => Some(text.parse().map_err(|_| bad(format!("{text:?} is not a database identity")))?),
    };
    Ok(Latest { id: BackupId(doc.id), database })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for database in [None, Some(DbIdentity { id: 9, generation: 2 })] {
            let latest = Latest { id: BackupId(42), database };
            assert_eq!(decode_latest("l", &encode_latest(latest)).unwrap(), latest);
        }
        let text = String::from_utf8(encode_latest(Latest { id: BackupId(42), database: None })).unwrap();
        assert!(text.contains("\n  \"database\": \"unknown\",\n"), "{text}");
        let bad = text.replace("000042", "000043");
        assert!(decode_latest("l", bad.as_bytes()).unwrap_err().is_corruption());
    }

    #[test]
    fn disagreements_behind_the_seal_are_corruption() {
        let reseal = |doc: &LatestDoc| decode_latest("l", &sealed::seal(doc));
        let doc = |id, manifest: &str, database: &str| LatestDoc {
            format: LATEST_FORMAT.to_owned(),
            format_version: LATEST_FORMAT_VERSION,
            id,
            manifest: manifest.to_owned(),
            database: database.to_owned(),
        };
        assert_eq!(
            reseal(&doc(7, &manifest_key(BackupId(7)), "unknown")).unwrap(),
            Latest { id: BackupId(7), database: None }
        );
        for odd in [
            doc(0, &manifest_key(BackupId(0)), "unknown"),
            doc(7, &manifest_key(BackupId(8)), "unknown"),
            doc(7, &manifest_key(BackupId(7)), "x-1"),
        ] {
            assert!(reseal(&odd).unwrap_err().is_corruption());
        }
    }
}
