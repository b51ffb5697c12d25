//! Names of the files in a database directory.
//!
//! File names are rebuilt from numeric ids; a name read from disk is parsed
//! back to an id, never used as a path as-is.

use std::path::{Path, PathBuf};

use super::VersionId;
use crate::{BlobFileId, TableId};

/// A recognised file name in a database directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileName {
    /// `CURRENT`.
    Current,
    /// `v{N}`.
    Version(VersionId),
    /// `tables/{id}.sst`.
    Table(TableId),
    /// `blobs/{id}.blob`.
    Blob(BlobFileId),
    /// `log/{n}.hlog`.
    LogSegment(u64),
}

/// The paths of one database (or checkpoint) directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbLayout {
    root: PathBuf,
}

impl DbLayout {
    /// Name of the file that points at the current version.
    pub const CURRENT: &'static str = "CURRENT";
    /// Name of the lock file.
    pub const LOCK: &'static str = "LOCK";
    /// Folder of table files.
    pub const TABLES: &'static str = "tables";
    /// Folder of blob files.
    pub const BLOBS: &'static str = "blobs";
    /// Folder of log segments.
    pub const LOG: &'static str = "log";

    /// The layout rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DbLayout { root: root.into() }
    }

    /// The database directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `CURRENT`.
    pub fn current(&self) -> PathBuf {
        self.root.join(Self::CURRENT)
    }

    /// `LOCK`.
    pub fn lock(&self) -> PathBuf {
        self.root.join(Self::LOCK)
    }

    /// `v{N}`.
    pub fn version(&self, id: VersionId) -> PathBuf {
        self.root.join(format!("v{}", id.0))
    }

    /// `tables/`.
    pub fn tables_dir(&self) -> PathBuf {
        self.root.join(Self::TABLES)
    }

    /// `blobs/`.
    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join(Self::BLOBS)
    }

    /// `log/`.
    pub fn log_dir(&self) -> PathBuf {
        self.root.join(Self::LOG)
    }

    /// `tables/{id}.sst`.
    pub fn table(&self, id: TableId) -> PathBuf {
        self.tables_dir().join(format!("{}.sst", id.0))
    }

    /// `blobs/{id}.blob`.
    pub fn blob(&self, id: BlobFileId) -> PathBuf {
        self.blobs_dir().join(format!("{}.blob", id.0))
    }

    /// `log/{n}.hlog`.
    pub fn log_segment(&self, n: u64) -> PathBuf {
        self.log_dir().join(format!("{n}.hlog"))
    }

    /// The path of a recognised file.
    pub fn path_of(&self, name: FileName) -> PathBuf {
        match name {
            FileName::Current => self.current(),
            FileName::Version(id) => self.version(id),
            FileName::Table(id) => self.table(id),
            FileName::Blob(id) => self.blob(id),
            FileName::LogSegment(n) => self.log_segment(n),
        }
    }
}

impl FileName {
    /// Parses a file name found in the root directory.
    pub fn parse_root(name: &str) -> Option<FileName> {
        if name == DbLayout::CURRENT {
            return Some(FileName::Current);
        }
        parse_number(name.strip_prefix('v')?).map(|n| FileName::Version(VersionId(n)))
    }

    /// Parses a file name found in `tables/`.
    pub fn parse_table(name: &str) -> Option<FileName> {
        parse_number(name.strip_suffix(".sst")?).map(|n| FileName::Table(TableId(n)))
    }

    /// Parses a file name found in `blobs/`.
    pub fn parse_blob(name: &str) -> Option<FileName> {
        parse_number(name.strip_suffix(".blob")?).map(|n| FileName::Blob(BlobFileId(n)))
    }

    /// Parses a file name found in `log/`.
    pub fn parse_log(name: &str) -> Option<FileName> {
        parse_number(name.strip_suffix(".hlog")?).map(FileName::LogSegment)
    }
}

/// A canonical decimal number: digits only, no leading zero (so each id has
/// exactly one name).
fn parse_number(digits: &str) -> Option<u64> {
    let canonical =
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0'));
    if canonical { digits.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reject_odd_spellings() {
        let layout = DbLayout::new("/db");
        assert_eq!(layout.table(TableId(7)), Path::new("/db/tables/7.sst"));
        assert_eq!(FileName::parse_table("7.sst"), Some(FileName::Table(TableId(7))));
        assert_eq!(FileName::parse_root("v12"), Some(FileName::Version(VersionId(12))));
        assert_eq!(FileName::parse_root("CURRENT"), Some(FileName::Current));
        assert_eq!(FileName::parse_log("3.hlog"), Some(FileName::LogSegment(3)));
        assert_eq!(FileName::parse_blob("9.blob"), Some(FileName::Blob(BlobFileId(9))));
        for odd in ["07.sst", "+7.sst", "7.sst.tmp", ".sst", "x.sst", "99999999999999999999.sst"] {
            assert_eq!(FileName::parse_table(odd), None, "{odd}");
        }
        assert_eq!(FileName::parse_root("v"), None);
        assert_eq!(FileName::parse_root("v1.tmp"), None);
    }
}
