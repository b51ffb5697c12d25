//! Identifier newtypes shared by every layer.
//!
//! Each prints as its bare number, with `{}` and `{:?}` alike (and honours
//! width and fill): the number is what file names, messages and `cairn`
//! show, so a value reads the same in a log line, an error and a `Debug`
//! dump of a struct holding it.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw integer.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        /// The same as `Display`: the bare number.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// A write's sequence number: writes are totally ordered by it, and a
    /// snapshot or checkpoint at `S` holds exactly the writes with seqno <= `S`.
    SeqNo
);
id_type!(
    /// Names a table file: `tables/{id}.sst`.
    TableId
);
id_type!(
    /// Names a blob file: `blobs/{id}.blob`.
    BlobFileId
);
id_type!(
    /// Numbers the versions of a database: version `N` is the file `v{N}`,
    /// and each new version of a database has a larger id than the last.
    VersionId
);
id_type!(
    /// A backup's id in its store: 1, 2, ..., unique there, and the name of
    /// its manifest (`manifests/manifest-{id:06}.json`).
    BackupId
);
id_type!(
    /// A byte position in the hybrid log's address space, which grows
    /// monotonically across segments.
    LogAddress
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_agree() {
        let printed = |debug: String, display: String| assert_eq!(debug, display);
        printed(format!("{:?}", SeqNo(42)), format!("{}", SeqNo(42)));
        printed(format!("{:?}", TableId(7)), format!("{}", TableId(7)));
        printed(format!("{:?}", BlobFileId(9)), format!("{}", BlobFileId(9)));
        printed(format!("{:?}", LogAddress(4096)), format!("{}", LogAddress(4096)));
        printed(format!("{:?}", VersionId(17)), format!("{}", VersionId(17)));
        printed(format!("{:?}", BackupId(3)), format!("{}", BackupId(3)));
        assert_eq!(format!("{:06}", BackupId(42)), "000042");
        assert_eq!(format!("{}", SeqNo(42)), "42");
        assert_eq!(format!("{:?}", Some(LogAddress(4096))), "Some(4096)");
        assert_eq!(format!("[{:>5}|{:<4?}]", TableId(7), SeqNo(3)), "[    7|3   ]");
    }
}

/// The identity of one timeline of a database: a random `id`, made when the
/// database was created or when a copy of it (a checkpoint, a restored
/// backup) was first opened for writing, and a `generation`: 1 for a
/// database as created, one more than its source's for such a copy.
///
/// Displayed (and parsed) as 32 lowercase hex digits of `id`, `-`, and the
/// generation in decimal: `5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DbIdentity {
    /// The timeline: random, made with it.
    pub id: u128,
    /// How many copies deep it is: 1 for the database as created, one more
    /// than its source's for a copy opened for writing.
    pub generation: u64,
}

impl fmt::Display for DbIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}-{}", self.id, self.generation)
    }
}

impl FromStr for DbIdentity {
    type Err = ParseIdentityError;

    /// Parses exactly what [`Display`](fmt::Display) writes; anything else
    /// (upper case, leading zeros in the generation, generation 0) is a
    /// [`ParseIdentityError`] (as an [`Error`](crate::Error):
    /// `InvalidArgument`).
    fn from_str(text: &str) -> Result<DbIdentity, ParseIdentityError> {
        let bad = || ParseIdentityError { text: text.to_string() };
        let (hex, generation) = text.split_once('-').ok_or_else(bad)?;
        let generation_ok =
            !generation.is_empty() && generation.bytes().all(|b| b.is_ascii_digit()) && !generation.starts_with('0');
        let id = crate::wire::parse_hex(hex, 32).filter(|_| generation_ok).ok_or_else(bad)?;
        let generation = generation.parse().map_err(|_| bad())?;
        Ok(DbIdentity { id, generation })
    }
}

/// A text that is not a [`DbIdentity`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseIdentityError {
    text: String,
}

impl fmt::Display for ParseIdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a database identity (32 lowercase hex digits, '-', a generation from 1, as `cairn info` \
             and `cairn backup list` show it)",
            self.text
        )
    }
}

impl std::error::Error for ParseIdentityError {}

/// One database timeline whose backups a store holds, as
/// [`BackupEngine::databases`](crate::backup::BackupEngine::databases)
/// lists it (here, beside the ids, because
/// [`Error::AmbiguousDatabase`](crate::Error::AmbiguousDatabase) carries it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSummary {
    /// Its identity; `None` for backups made before identities.
    pub database: Option<DbIdentity>,
    /// How many backups of it have a readable manifest.
    pub backups: usize,
    /// Its newest backup.
    pub newest_id: BackupId,
    /// The seqno its newest backup holds.
    pub newest_seqno: SeqNo,
    /// The directory its newest backup was taken from.
    pub source: String,
}
