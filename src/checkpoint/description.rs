//! The `CHECKPOINT` file: what a checkpoint is a copy of.
//!
//! A sealed JSON document ([`crate::sealed`]; `docs/FORMAT.md`,
//! "`CHECKPOINT`"):
//!
//! ```text
//! {
//!   "format": "cairndb-checkpoint",
//!   "format_version": 3,
//!   "source": "/path/to/the/database",
//!   "database": "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-1",
//!   "seqno": 41234,
//!   "version_id": 17,
//!   "created_unix_ms": 1763725000000,
//!   "table_files": 12,
//!   "blob_files": 2,
//!   "log_segments": 0,
//!   "bytes_total": 123456789,
//!   "checksum": "0123456789abcdef"
//! }
//! ```
//!
//! `source` is the source directory with every byte outside printable
//! ASCII, and `\`, written as `\xNN` (so any path, UTF-8 or not, comes
//! back byte for byte). `database` is the identity of the source's timeline
//! the checkpoint was cut from ([`DbIdentity`]), or `unknown`. A reader
//! accepts exactly this format; anything else is `Error::Corruption`.

use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sealed;
use crate::{DbIdentity, Error, Result, SeqNo, VersionId};

/// Name of the description file in a checkpoint directory.
pub const CHECKPOINT_FILE: &str = "CHECKPOINT";
/// Format version of the description file this build writes (and reads).
pub const CHECKPOINT_FORMAT_VERSION: u32 = 3;
/// The `format` member of the description file.
const CHECKPOINT_FORMAT: &str = "cairndb-checkpoint";
/// How a description names a database without an identity.
const UNKNOWN_DATABASE: &str = "unknown";

/// What a checkpoint's `CHECKPOINT` file says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointDescription {
    /// Format version of the file ([`CHECKPOINT_FORMAT_VERSION`]).
    pub format_version: u32,
    /// The database directory it was taken from.
    pub source: PathBuf,
    /// The identity of the source's timeline it was cut from (`None` when
    /// unknown: a source without one). The checkpoint opened read-only
    /// reports this identity; opened for writing, it continues as the next
    /// generation.
    pub database: Option<DbIdentity>,
    /// It holds every write with seqno <= this, and none after.
    pub seqno: SeqNo,
    /// The version id its `CURRENT` names.
    pub version_id: VersionId,
    /// When it was taken, in milliseconds since the Unix epoch.
    pub created_unix_ms: u64,
    /// Table files it holds.
    pub table_files: usize,
    /// Blob files it holds.
    pub blob_files: usize,
    /// Log segments it holds.
    pub log_segments: usize,
    /// Bytes of all those files.
    pub bytes_total: u64,
}

/// The document as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DescriptionDoc {
    format: String,
    format_version: u64,
    source: String,
    database: String,
    seqno: u64,
    version_id: u64,
    created_unix_ms: u64,
    table_files: u64,
    blob_files: u64,
    log_segments: u64,
    bytes_total: u64,
}

impl CheckpointDescription {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        assert_eq!(self.format_version, CHECKPOINT_FORMAT_VERSION, "only the current format is written");
        sealed::seal(&DescriptionDoc {
            format: CHECKPOINT_FORMAT.to_owned(),
            format_version: u64::from(CHECKPOINT_FORMAT_VERSION),
            source: escape(&self.source),
            database: self.database.map_or_else(|| UNKNOWN_DATABASE.to_owned(), |d| d.to_string()),
            seqno: self.seqno.0,
            version_id: self.version_id.0,
            created_unix_ms: self.created_unix_ms,
            table_files: self.table_files as u64,
            blob_files: self.blob_files as u64,
            log_segments: self.log_segments as u64,
            bytes_total: self.bytes_total,
        })
    }

    /// Parses the file read from `path`; damage is `Error::Corruption`.
    pub fn decode(path: &Path, bytes: &[u8]) -> Result<CheckpointDescription> {
        let doc: DescriptionDoc = sealed::unseal(path, bytes, CHECKPOINT_FORMAT, u64::from(CHECKPOINT_FORMAT_VERSION))?;
        let bad = |what: String| Error::corruption(path, 0, format!("CHECKPOINT file: {what}"));
        let source = unescape(&doc.source)
            .filter(|source| escape(source) == doc.source)
            .ok_or_else(|| bad(format!("{:?} is not an escaped path", doc.source)))?;
        let database = match doc.database.as_str() {
            UNKNOWN_DATABASE => None,
            text => Some(text.parse::<DbIdentity>().map_err(|_| bad(format!("bad database identity {text:?}")))?),
        };
        let count = |name: &str, n: u64| usize::try_from(n).map_err(|_| bad(format!("{name} {n} is out of range")));
        Ok(CheckpointDescription {
            format_version: CHECKPOINT_FORMAT_VERSION,
            source,
            database,
            seqno: SeqNo(doc.seqno),
            version_id: VersionId(doc.version_id),
            created_unix_ms: doc.created_unix_ms,
            table_files: count("table_files", doc.table_files)?,
            blob_files: count("blob_files", doc.blob_files)?,
            log_segments: count("log_segments", doc.log_segments)?,
            bytes_total: doc.bytes_total,
        })
    }
}

fn escape(path: &Path) -> String {
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn unescape(text: &str) -> Option<PathBuf> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'\\' {
            let hex = tail.get(1..3).filter(|_| tail.first() == Some(&b'x'))?;
            bytes.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            rest = &tail[3..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    Some(PathBuf::from(std::ffi::OsString::from(std::ffi::OsStr::from_bytes(&bytes))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::checksum;

    fn sample() -> CheckpointDescription {
        CheckpointDescription {
            format_version: CHECKPOINT_FORMAT_VERSION,
            source: PathBuf::from(std::ffi::OsStr::from_bytes(b"/data/odd \\ name\n\xff")),
            database: Some(DbIdentity { id: 0xabc, generation: 2 }),
            seqno: SeqNo(41),
            version_id: VersionId(7),
            created_unix_ms: 1_763_725_000_000,
            table_files: 3,
            blob_files: 1,
            log_segments: 2,
            bytes_total: 99_999,
        }
    }

    #[test]
    fn round_trip_with_odd_paths() {
        let bytes = sample().encode();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text.lines().count(), 14, "one member per line: {text}");
        assert!(text.contains("\n  \"source\": \"/data/odd \\\\x5c name\\\\x0a\\\\xff\",\n"), "{text}");
        assert_eq!(CheckpointDescription::decode(Path::new("CHECKPOINT"), &bytes).unwrap(), sample());
        let unknown = CheckpointDescription { database: None, ..sample() };
        assert_eq!(CheckpointDescription::decode(Path::new("CHECKPOINT"), &unknown.encode()).unwrap(), unknown);
    }

    #[test]
    fn odd_values_behind_the_seal_are_corruption() {
        let text = String::from_utf8(sample().encode()).unwrap();
        let body = &text[..text.rfind("  \"checksum\"").unwrap()];
        let reseal = |body: String| format!("{body}  \"checksum\": \"{:016x}\"\n}}\n", checksum(body.as_bytes()));
        assert_eq!(
            CheckpointDescription::decode(Path::new("CP"), reseal(body.to_owned()).as_bytes()).unwrap(),
            sample()
        );
        for (what, from, to) in [
            ("old version", "\"format_version\": 3", "\"format_version\": 2"),
            ("bad escape", "\\\\x5c", "\\\\x5"),
            ("upper-case escape", "\\\\xff", "\\\\xFF"),
            ("unescaped byte", " name", " n\\u00e9me"),
            ("bad identity", "\"database\": \"", "\"database\": \"x"),
            ("unknown member", "\"seqno\": 41,", "\"seqno\": 41,\n  \"seqno_max\": 41,"),
            ("negative", "\"table_files\": 3,", "\"table_files\": -3,"),
        ] {
            assert!(body.contains(from), "{what}");
            let result = CheckpointDescription::decode(Path::new("CP"), reseal(body.replacen(from, to, 1)).as_bytes());
            let err = result.unwrap_err();
            assert!(err.is_corruption() && err.to_string().starts_with("corruption in CP at offset"), "{what}: {err}");
        }
    }

    #[test]
    fn every_flip_and_truncation_is_corruption() {
        let bytes = sample().encode();
        for i in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[i / 8] ^= 1 << (i % 8);
            let result = CheckpointDescription::decode(Path::new("CHECKPOINT"), &bad);
            assert!(result.as_ref().is_err_and(Error::is_corruption), "flip {i}: {result:?}");
        }
        for len in 0..bytes.len() {
            assert!(CheckpointDescription::decode(Path::new("CHECKPOINT"), &bytes[..len]).is_err());
        }
    }
}
