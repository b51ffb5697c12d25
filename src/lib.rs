//! cairndb: an embeddable LSM key-value engine with instant, exact,
//! crash-safe checkpoints.
//!
//! [`Db`] is the database: writes land in a hybrid-log memtable ([`hlog`])
//! whose durable prefix is the write-ahead log, and are flushed into
//! immutable tables ([`table`]) and blob files ([`blob`]) that leveled
//! compaction ([`compaction`]) keeps tidy; [`version`] records which files
//! make up the database. All storage goes through [`fs::Fs`]: the real file
//! system ([`fs::StdFs`]), an in-memory one with a crash model
//! ([`fs::MemFs`]) and a fault injector ([`fs::FaultFs`]).
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

pub mod backup;
pub mod blob;
pub mod checkpoint;
pub mod compaction;
mod db;
pub mod dump;
mod error;
pub mod fs;
#[doc(hidden)]
pub mod fuzzing;
pub mod hlog;
mod sealed;
mod staging;
mod sync;
pub mod table;
mod types;
pub mod version;
mod wire;

pub use checkpoint::{CheckpointInfo, CheckpointOptions};
pub use db::{
    Config, Db, DbIter, DbStats, KEY_BYTES_MAX, KeyRange, LevelStats, Snapshot, SyncMode, VALUE_BYTES_MAX, WriteBatch,
};
pub use error::{Error, Result};
pub use types::{BlobFileId, LogAddress, SeqNo, TableId};
pub use version::DbIdentity;
