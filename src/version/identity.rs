//! [`DbIdentity`] (defined with the other ids in `src/types.rs`): which
//! database a version belongs to, and which timeline of it; here, what a
//! writable open does with it.
//!
//! The identity lives in every version file (`docs/FORMAT.md`, "Version
//! files"), so it is as durable as the version, and every version derived
//! from another keeps it. Two events change it, both at a writable open,
//! both installed as a new version before the open returns:
//!
//! - a database without one (its version file predates identities) gets a
//!   fresh id, generation 1;
//! - a copy — a checkpoint, or a restored backup, whose version file both
//!   write with the *fork pending* mark — starts a new timeline: a fresh
//!   id, generation + 1, mark cleared. Its new writes then never
//!   pass for the history of the database it was copied from, nor for
//!   those of another copy of it (two checkpoints of one database, both
//!   opened for writing, are two timelines: a shared id with equal
//!   generations would have made them one).
//!
//! A read-only open changes nothing: it reports what the version holds.

pub use crate::types::DbIdentity;

use super::{Version, VersionEdit, VersionSet};
use crate::Result;
use crate::fs::Fs;

impl DbIdentity {
    /// A new database's identity: a fresh id (from [`Fs::unique_id`]),
    /// generation 1.
    pub(crate) fn new(fs: &dyn Fs) -> Result<DbIdentity> {
        Ok(DbIdentity { id: fs.unique_id()?, generation: 1 })
    }

    /// The identity of a new timeline copied from this one: a fresh id,
    /// one generation more.
    pub(crate) fn fork(self, fs: &dyn Fs) -> Result<DbIdentity> {
        Ok(DbIdentity { id: fs.unique_id()?, generation: self.generation + 1 })
    }
}

/// The identity a writable open of `version` must install, if any: a
/// fresh one for a database without, the next generation for a copy not
/// yet opened for writing; `None` when it keeps what it has.
pub(crate) fn identity_at_open(version: &Version, fs: &dyn Fs) -> Result<Option<DbIdentity>> {
    Ok(match version.identity {
        None => Some(DbIdentity::new(fs)?),
        Some(identity) if version.fork_pending => Some(identity.fork(fs)?),
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
        match identity_at_open(&current, &*self.fs)? {
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
    use crate::Error;

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
            let err = odd.parse::<DbIdentity>().unwrap_err();
            assert!(matches!(Error::from(err), Error::InvalidArgument { .. }), "{odd:?}");
        }
    }

    #[test]
    fn new_identities_differ() {
        let fs = crate::fs::MemFs::new();
        let (a, b) = (DbIdentity::new(&fs).unwrap(), DbIdentity::new(&fs).unwrap());
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
        let fs = crate::fs::MemFs::new();
        let none = Version::empty();
        let fresh = identity_at_open(&none, &fs).unwrap().unwrap();
        assert_eq!(fresh.generation, 1);
        let own = Version { identity: Some(DbIdentity { id: 3, generation: 4 }), ..Version::empty() };
        assert_eq!(identity_at_open(&own, &fs).unwrap(), None);
        let forked = identity_at_open(&as_copy(&own), &fs).unwrap().unwrap();
        assert_eq!(forked.generation, 5);
        assert_ne!(forked.id, 3, "a timeline of its own");
    }
}
