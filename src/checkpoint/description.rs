//! The `CHECKPOINT` file: what a checkpoint is a copy of.
//!
//! A short text file, one `name value` pair per line, in this order:
//!
//! ```text
//! cairndb-checkpoint 2
//! source /path/to/the/database
//! database 5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-1
//! seqno 41234
//! version 17
//! created_unix_ms 1763725000000
//! table_files 12
//! blob_files 2
//! log_segments 0
//! bytes_total 123456789
//! checksum 0123456789abcdef
//! ```
//!
//! The first line names the format and its version (2). `source` is the
//! source directory with every byte outside printable ASCII, and `\`,
//! written as `\xNN`. `database` is the identity of the source's timeline
//! the checkpoint was cut from ([`DbIdentity`]), or `unknown`. `checksum`
//! is the xxh3-64, in hex, of every byte before that line. Version 1 (no
//! `database` line) is still read, as of an unknown database. A reader
//! accepts exactly this format; anything else is `Error::Corruption`.

use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::wire::checksum;
use crate::{DbIdentity, Error, Result, SeqNo};

/// Name of the description file in a checkpoint directory.
pub const CHECKPOINT_FILE: &str = "CHECKPOINT";
/// Format version of the description file this build writes.
pub const CHECKPOINT_FORMAT_VERSION: u32 = 2;
/// The format before `database`, still read.
const FORMAT_VERSION_NO_DATABASE: u32 = 1;
/// How a description names a database without an identity.
const UNKNOWN_DATABASE: &str = "unknown";
const HEADER: &str = "cairndb-checkpoint";

/// What a checkpoint's `CHECKPOINT` file says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointDescription {
    /// Format version of the file.
    pub format_version: u32,
    /// The database directory it was taken from.
    pub source: PathBuf,
    /// The identity of the source's timeline it was cut from (`None` when
    /// unknown: a format 1 description, or a source without one). The
    /// checkpoint opened read-only reports this identity; opened for
    /// writing, it continues as the next generation.
    pub database: Option<DbIdentity>,
    /// It holds every write with seqno <= this, and none after.
    pub seqno: SeqNo,
    /// The version id its `CURRENT` names.
    pub version_id: u64,
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

impl CheckpointDescription {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut text = format!("{HEADER} {}\n", self.format_version);
        let _ = writeln!(text, "source {}", escape(&self.source));
        if self.format_version != FORMAT_VERSION_NO_DATABASE {
            let database = self.database.map_or_else(|| UNKNOWN_DATABASE.to_owned(), |d| d.to_string());
            let _ = writeln!(text, "database {database}");
        }
        for (name, value) in self.numbers() {
            let _ = writeln!(text, "{name} {value}");
        }
        let sum = checksum(text.as_bytes());
        let _ = writeln!(text, "checksum {sum:016x}");
        text.into_bytes()
    }

    fn numbers(&self) -> [(&'static str, u64); 7] {
        [
            ("seqno", self.seqno.0),
            ("version", self.version_id),
            ("created_unix_ms", self.created_unix_ms),
            ("table_files", self.table_files as u64),
            ("blob_files", self.blob_files as u64),
            ("log_segments", self.log_segments as u64),
            ("bytes_total", self.bytes_total),
        ]
    }

    /// Parses the file read from `path`.
    pub fn decode(path: &Path, bytes: &[u8]) -> Result<CheckpointDescription> {
        let bad = |what: &str| Error::corruption(path, 0, format!("CHECKPOINT file: {what}"));
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
        let body_end = text.rfind("checksum ").ok_or_else(|| bad("no checksum line"))?;
        let stored = text[body_end..].strip_prefix("checksum ").and_then(|l| l.strip_suffix('\n'));
        let canonical = |hex: &&str| hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let stored = stored.filter(canonical).and_then(|hex| u64::from_str_radix(hex, 16).ok());
        let stored = stored.ok_or_else(|| bad("bad checksum line"))?;
        if checksum(&bytes[..body_end]) != stored {
            return Err(Error::corruption(path, body_end as u64, "CHECKPOINT file checksum mismatch"));
        }
        let mut lines = text[..body_end].lines();
        let mut field = |name: &str| -> Result<&str> {
            let line = lines.next().ok_or_else(|| bad(&format!("missing {name}")))?;
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
                .ok_or_else(|| bad(&format!("expected {name}")))
        };
        let format_version: u32 = field(HEADER)?.parse().map_err(|_| bad("bad format version"))?;
        if format_version != CHECKPOINT_FORMAT_VERSION && format_version != FORMAT_VERSION_NO_DATABASE {
            return Err(bad(&format!("unsupported format version {format_version}")));
        }
        let source = unescape(field("source")?).ok_or_else(|| bad("bad source path"))?;
        let database = match format_version {
            FORMAT_VERSION_NO_DATABASE => None,
            _ => match field("database")? {
                UNKNOWN_DATABASE => None,
                text => Some(text.parse::<DbIdentity>().map_err(|_| bad("bad database identity"))?),
            },
        };
        let mut number = |name: &str| -> Result<u64> { field(name)?.parse().map_err(|_| bad(&format!("bad {name}"))) };
        Ok(CheckpointDescription {
            format_version,
            source,
            database,
            seqno: SeqNo(number("seqno")?),
            version_id: number("version")?,
            created_unix_ms: number("created_unix_ms")?,
            table_files: number("table_files")? as usize,
            blob_files: number("blob_files")? as usize,
            log_segments: number("log_segments")? as usize,
            bytes_total: number("bytes_total")?,
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

    fn sample() -> CheckpointDescription {
        CheckpointDescription {
            format_version: CHECKPOINT_FORMAT_VERSION,
            source: PathBuf::from(std::ffi::OsStr::from_bytes(b"/data/odd \\ name\n\xff")),
            database: Some(DbIdentity { id: 0xabc, generation: 2 }),
            seqno: SeqNo(41),
            version_id: 7,
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
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 11, "one field per line");
        assert_eq!(CheckpointDescription::decode(Path::new("CHECKPOINT"), &bytes).unwrap(), sample());
        let unknown = CheckpointDescription { database: None, ..sample() };
        assert_eq!(CheckpointDescription::decode(Path::new("CHECKPOINT"), &unknown.encode()).unwrap(), unknown);
    }

    #[test]
    fn format_1_is_read_as_of_an_unknown_database() {
        let old = CheckpointDescription { format_version: 1, database: None, ..sample() };
        let bytes = old.encode();
        assert!(!String::from_utf8_lossy(&bytes).contains("database"));
        assert_eq!(CheckpointDescription::decode(Path::new("CHECKPOINT"), &bytes).unwrap(), old);
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
