//! cairndb: an embeddable LSM key-value engine with instant, exact,
//! crash-safe checkpoints.
//!
//! This release lays the floor: the file-system layer every later part is
//! built on. All storage goes through [`fs::Fs`], which has a real
//! implementation ([`fs::StdFs`]), an in-memory one with a crash model
//! ([`fs::MemFs`]) and a fault injector ([`fs::FaultFs`]).
//!
//! ```
//! use std::path::Path;
//! use cairndb::fs::{Fs, MemFs, OpenOptions, read_to_vec, write_file_atomic};
//!
//! let fs = MemFs::new();
//! fs.create_dir(Path::new("/db"))?;
//! fs.sync_directory(Path::new("/"))?; // make the new directory's entry durable
//! write_file_atomic(&fs, Path::new("/db/CURRENT"), b"v1")?;
//! // A power cut now keeps the file: write_file_atomic synced it and its directory.
//! let after_crash = fs.crash_copy();
//! assert_eq!(read_to_vec(&after_crash, Path::new("/db/CURRENT"))?, b"v1");
//! # Ok::<(), cairndb::Error>(())
//! ```

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod blob;
pub mod compaction;
mod error;
pub mod fs;
#[doc(hidden)]
pub mod fuzzing;
pub mod hlog;
pub mod table;
mod types;
pub mod version;
mod wire;

pub use error::{Error, Result};
pub use types::{BlobFileId, LogAddress, SeqNo, TableId};
