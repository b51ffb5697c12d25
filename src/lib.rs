//! cairndb: an embeddable LSM key-value engine with instant, exact,
//! crash-safe checkpoints.
//!
//! [`Db`] is the database: writes land in a hybrid-log memtable whose
//! durable prefix is the write-ahead log, and are flushed into immutable
//! tables and blob files that leveled compaction keeps tidy; a version
//! file records which files make up the database (`docs/DESIGN.md` has
//! the architecture). All storage goes through [`fs::Fs`]: the real file
//! system ([`fs::StdFs`]), an in-memory one with a crash model
//! ([`fs::MemFs`]) and a fault injector ([`fs::FaultFs`]).
//!
//! The public surface:
//! - [`Db`], opened by [`Db::open`] or a [`Config`]; [`WriteBatch`],
//!   [`Snapshot`], [`DbIter`]; [`DbStats`] and [`DbInfo`];
//! - [`checkpoint`]: [`Db::checkpoint`] with [`CheckpointOptions`], and
//!   [`checkpoint::verify`], [`checkpoint::list`], [`checkpoint::describe`];
//! - [`backup`]: incremental, content-addressed backups to a directory or
//!   S3-compatible storage;
//! - [`dump`]: a database as one portable stream, and back;
//! - [`inspect`]: one table or blob file on its own, for tools;
//! - [`fs`]: the file-system layer and its implementations;
//! - ids ([`SeqNo`], [`LogAddress`], [`TableId`], [`BlobFileId`],
//!   [`DbIdentity`]) and the one [`Error`];
//! - with the `conformance` feature, `conformance`: the `Fs` and
//!   `BackupStore` test suites for outside implementations.
//!
//! [`internals`] exposes the layers beneath (the hybrid log, tables, blob
//! files, versions, compaction) for cairndb's own tests, benchmarks and
//! fuzz targets, with no stability promise.
//!
//! On the real disk, [`Db::open`] creates or opens a database in a
//! directory:
//!
//! ```
//! use cairndb::{Db, WriteBatch};
//!
//! let dir = std::env::temp_dir().join(format!("cairndb-example-{}", std::process::id()));
//! let _ = std::fs::remove_dir_all(&dir); // a leftover of an earlier run
//! let db = Db::open(&dir)?;
//! db.write(WriteBatch::new().put(b"apple", b"red").put(b"pear", b"green").put(b"plum", b"purple"))?;
//! db.persist()?; // durable from here on
//! assert!(db.contains_key(b"pear")?);
//! let descending: Vec<Vec<u8>> = db.iter().rev().map(|kv| kv.map(|(k, _)| k)).collect::<Result<_, _>>()?;
//! assert_eq!(descending, [b"plum".to_vec(), b"pear".to_vec(), b"apple".to_vec()]);
//! for kv in db.range("b".."pf") {
//!     let (key, value) = kv?;
//!     assert_eq!((key.as_slice(), value.as_slice()), (&b"pear"[..], &b"green"[..]));
//! }
//! drop(db); // closes it (and releases its directory lock)
//! std::fs::remove_dir_all(&dir).expect("remove the example's directory");
//! # Ok::<(), cairndb::Error>(())
//! ```
//!
//! On [`fs::MemFs`], a power cut can be simulated:
//!
//! ```
//! use std::sync::Arc;
//! use cairndb::{Config, WriteBatch};
//! use cairndb::fs::MemFs;
//!
//! let disk = MemFs::new();
//! let db = Config::new("/data").fs(Arc::new(disk.clone())).open()?;
//! db.write(WriteBatch::new().put(b"apple", b"red").put(b"pear", b"green"))?;
//! db.persist()?; // durable from here on
//! db.put(b"plum", b"purple")?; // not yet persisted
//!
//! // Cut the power: what survives is exactly what was persisted (or more).
//! let after_crash = disk.crash_copy();
//! std::mem::forget(db); // the process died with the power
//! let db = Config::new("/data").fs(Arc::new(after_crash)).open()?;
//! assert_eq!(db.get(b"pear")?.as_deref(), Some(&b"green"[..]));
//! let keys: Vec<Vec<u8>> = db.iter().map(|kv| kv.map(|(k, _)| k)).collect::<Result<_, _>>()?;
//! assert!(keys.starts_with(&[b"apple".to_vec(), b"pear".to_vec()]));
//! # Ok::<(), cairndb::Error>(())
//! ```

#![warn(clippy::print_stdout, clippy::print_stderr)]
#![deny(missing_docs)]

pub mod backup;
#[doc(hidden)]
pub mod blob;
pub mod checkpoint;
#[doc(hidden)]
pub mod compaction;
#[cfg(feature = "conformance")]
pub mod conformance;
mod db;
pub mod dump;
mod error;
pub mod fs;
#[doc(hidden)]
pub mod fuzzing;
#[doc(hidden)]
pub mod hlog;
pub mod inspect;
mod schedule;
mod sealed;
mod staging;
mod sync;
#[doc(hidden)]
pub mod table;
mod types;
#[doc(hidden)]
pub mod version;
mod wire;

/// The layers beneath the public API, for cairndb's own tests, benchmarks
/// and fuzz targets: **no stability promise**, any release may change them.
///
/// - `hlog`: the hybrid-log memtable and its segment files (the log);
/// - `table`: table files (writer, reader, blocks, filters, cache);
/// - `blob`: blob files, where large values live;
/// - `version`: version files, the version set, the directory layout,
///   deferred deletion and database identity;
/// - `compaction`: the compaction policy and its output.
pub mod internals {
    #[doc(no_inline)]
    pub use crate::{blob, compaction, hlog, table, version};
}

pub use checkpoint::{CheckpointInfo, CheckpointOptions};
pub use db::{
    Config, Db, DbInfo, DbIter, DbStats, KEY_BYTES_MAX, KeyRange, LevelStats, LogSegment, Snapshot, SyncMode,
    VALUE_BYTES_MAX, WriteBatch,
};
pub use error::{Error, Result};
pub use types::{BackupId, BlobFileId, DbIdentity, LogAddress, ParseIdentityError, SeqNo, TableId, VersionId};
