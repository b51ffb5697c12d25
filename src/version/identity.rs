//! [`DbIdentity`]: which database a version belongs to, and which timeline
//! of it; and what a writable open does with it.
//!
//! The identity lives in every version file (`docs/FORMAT.md`, "Version
//! files"), so it is as durable as the version, and every version derived
//! from another keeps it. Two events change it, both at a writable open,
//! both installed as a new version before the open returns:
//!
//! - a database without one (its version file predates identities) gets a
//!   fresh random id, generation 1;
//! - a copy — a checkpoint, or a restored backup, whose version file both
//!   write with the *fork pending* mark — starts a new timeline: a fresh
//!   random id, generation + 1, mark cleared. Its new writes then never
//!   pass for the history of the database it was copied from, nor for
//!   those of another copy of it (two checkpoints of one database, both
//!   opened for writing, are two timelines: a shared id with equal
//!   generations would have made them one).
//!
//! A read-only open changes nothing: it reports what the version holds.

use std::fmt;
use std::str::FromStr;

use rustix::io::Errno;
use rustix::rand::{GetRandomFlags, getrandom};

use super::{Version, VersionEdit, VersionSet};
use crate::{Error, Result};

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

impl DbIdentity {
    /// A new database's identity: a random id, generation 1.
    pub(crate) fn random() -> Result<DbIdentity> {
        Ok(DbIdentity { id: random_u128()?, generation: 1 })
    }

    /// The identity of a new timeline copied from this one: a fresh random
    /// id, one generation more.
    pub(crate) fn fork(self) -> Result<DbIdentity> {
        Ok(DbIdentity { id: random_u128()?, generation: self.generation + 1 })
    }
}

fn random_u128() -> Result<u128> {
    let mut bytes = [0u8; 16];
    let mut filled = 0;
    while filled < bytes.len() {
        match getrandom(&mut bytes[filled..], GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(Errno::INTR) => {}
            Err(e) => {
                let source = std::io::Error::from_raw_os_error(e.raw_os_error());
                return Err(Error::io("getrandom", "a database identity", source));
            }
        }
    }
    Ok(u128::from_le_bytes(bytes))
}

impl fmt::Display for DbIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}-{}", self.id, self.generation)
    }
}

impl FromStr for DbIdentity {
    type Err = Error;

    /// Parses exactly what [`Display`](fmt::Display) writes; anything else
    /// (upper case, leading zeros in the generation, generation 0) is
    /// `Error::InvalidArgument`.
    fn from_str(text: &str) -> Result<DbIdentity> {
        let bad = || {
            Error::invalid(format!(
                "{text:?} is not a database identity (32 lowercase hex digits, '-', a generation from 1, as \
                 `cairn info` and `cairn backup list` show it)"
            ))
        };
        let (hex, generation) = text.split_once('-').ok_or_else(bad)?;
        let hex_ok = hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let generation_ok =
            !generation.is_empty() && generation.bytes().all(|b| b.is_ascii_digit()) && !generation.starts_with('0');
        if !hex_ok || !generation_ok {
            return Err(bad());
        }
        let id = u128::from_str_radix(hex, 16).map_err(|_| bad())?;
        let generation = generation.parse().map_err(|_| bad())?;
        Ok(DbIdentity { id, generation })
    }
}

/// The identity a writable open of `version` must install, if any: a
/// fresh one for a database without, the next generation for a copy not
/// yet opened for writing; `None` when it keeps what it has.
pub(crate) fn identity_at_open(
    version: &Version,
    fresh: impl FnOnce() -> Result<DbIdentity>,
) -> Result<Option<DbIdentity>> {
    Ok(match version.identity {
        None => Some(fresh()?),
        Some(identity) if version.fork_pending => Some(identity.fork()?),
        Some(_) => None,
    })
}

impl VersionSet {
    /// For a writable open: gives the database an identity if its version
    /// has none, or starts a new timeline if it is a copy not yet opened
    /// for writing, by installing a new version before returning (durable
    /// like every install). Returns the identity the database has now.
    pub(crate) fn settle_identity(&self) -> Result<DbIdentity> {
        let current = self.current();
        match identity_at_open(&current, DbIdentity::random)? {
            Some(identity) => {
                let installed = self.install(&VersionEdit { identity: Some(identity), ..VersionEdit::default() })?;
                debug_assert!(installed.identity == Some(identity) && !installed.fork_pending);
                Ok(identity)
            }
            None => Ok(current.identity.expect("identity_at_open installs one when there is none")),
        }
    }
}

/// `version` marked as a copy: what a checkpoint or a backup writes as its
/// version file, so that the first writable open of the copy starts a new
/// timeline.
pub(crate) fn as_copy(version: &Version) -> Version {
    Version { fork_pending: true, ..version.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip_and_odd_spellings_are_refused() {
        let identity = DbIdentity { id: 0x5b2e_9c0d_4a7f_4e1b_8c3d_2a1f_0e9d_8c7b, generation: 12 };
        let text = identity.to_string();
        assert_eq!(text, "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-12");
        assert_eq!(text.parse::<DbIdentity>().unwrap(), identity);
        let small = DbIdentity { id: 1, generation: 1 };
        assert_eq!(small.to_string().parse::<DbIdentity>().unwrap(), small);
        for odd in [
            "",
            "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b",
            "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-",
            "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-0",
            "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-012",
            "5B2E9C0D4A7F4E1B8C3D2A1F0E9D8C7B-1",
            "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7-1",
            "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b0-1",
            "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-+1",
            "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-1-2",
            "5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-99999999999999999999999",
        ] {
            assert!(matches!(odd.parse::<DbIdentity>(), Err(Error::InvalidArgument { .. })), "{odd:?}");
        }
    }

    #[test]
    fn random_identities_differ() {
        let (a, b) = (DbIdentity::random().unwrap(), DbIdentity::random().unwrap());
        assert_ne!(a.id, b.id);
        assert_eq!((a.generation, b.generation), (1, 1));
    }

    /// A database whose version file predates identities: a read-only open
    /// says it has none; the first writable open gives it one, durably,
    /// before it returns; later opens keep it.
    #[test]
    fn a_database_from_before_identities_gets_one_at_its_first_writable_open() {
        use std::sync::Arc;

        use crate::fs::{Fs, MemFs, read_to_vec, write_file_atomic};
        use crate::version::{DbLayout, decode_current, decode_version, encode_current};
        use crate::wire::checksum;

        let disk = MemFs::new();
        let open = |fs: &MemFs, read_only: bool| {
            crate::Config::new("/db").fs(Arc::new(fs.clone())).read_only(read_only).background_threads(false).open()
        };
        let db = open(&disk, false).unwrap();
        db.put(b"k", b"v").unwrap();
        db.flush().unwrap();
        drop(db);
        // Rewrite the current version in format 1.
        let layout = DbLayout::new("/db");
        let (id, _) = decode_current(&layout.current(), &read_to_vec(&disk, &layout.current()).unwrap()).unwrap();
        let path = layout.version(id);
        let record = decode_version(&path, &read_to_vec(&disk, &path).unwrap()).unwrap();
        let old = super::super::file::tests::encode_format_1(&record);
        let file = disk.open(&path, crate::fs::OpenOptions::create_truncate()).unwrap();
        file.write_all_at(&old, 0).unwrap();
        file.sync_all().unwrap();
        write_file_atomic(&disk, &layout.current(), &encode_current(id, checksum(&old))).unwrap();

        assert_eq!(open(&disk, true).unwrap().identity(), None, "read-only: nothing assigned");
        assert_eq!(read_to_vec(&disk, &path).unwrap(), old, "read-only: nothing written");
        let db = open(&disk, false).unwrap();
        let assigned = db.identity().expect("a writable open assigns an identity");
        assert_eq!(assigned.generation, 1);
        assert_eq!(db.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
        // Durable before the open returned: a power cut now keeps it.
        let after_crash = disk.crash_copy();
        std::mem::forget(db);
        assert_eq!(open(&after_crash, true).unwrap().identity(), Some(assigned));
        assert_eq!(open(&after_crash, false).unwrap().identity(), Some(assigned), "kept, not assigned again");
    }

    #[test]
    fn a_writable_open_assigns_forks_or_keeps() {
        let fresh = DbIdentity { id: 7, generation: 1 };
        let none = Version::empty();
        assert_eq!(identity_at_open(&none, || Ok(fresh)).unwrap(), Some(fresh));
        let own = Version { identity: Some(DbIdentity { id: 3, generation: 4 }), ..Version::empty() };
        let never = || -> Result<DbIdentity> { panic!("no fresh identity needed") };
        assert_eq!(identity_at_open(&own, never).unwrap(), None);
        let forked = identity_at_open(&as_copy(&own), never).unwrap().unwrap();
        assert_eq!(forked.generation, 5);
        assert_ne!(forked.id, 3, "a timeline of its own");
    }
}
