//! Which files make up the database.
//!
//! A [`Version`] is an immutable value: the live tables per level, the live
//! blob files, the last seqno in tables and the first log address not yet in
//! tables. [`VersionSet`] persists each new version as a full file `v{N}`
//! and points `CURRENT` at it atomically; files that leave every live version
//! are deleted by the [`Deleter`], unless a [`DeletionPause`] holds them.

mod current;
mod deletion;
mod file;
mod identity;
mod layout;
mod open_files;
mod set;
#[expect(clippy::module_inception, reason = "the subsystem is named after its main type")]
mod version;

pub use crate::types::VersionId;
pub use deletion::{Deleter, DeletionPause};
pub use identity::DbIdentity;
pub(crate) use identity::as_copy;
pub use layout::{DbLayout, FileName};
pub(crate) use open_files::OpenFiles;
pub use set::VersionSet;
pub(crate) use set::encode_version_file;
pub use version::{BlobFile, BlobFileInfo, TableFile, TableInfo, Version, VersionEdit};

pub(crate) use current::{decode_current, encode_current, encode_current_for};
pub(crate) use file::{VersionRecord, decode_version, encode_version};
