//! Blob files: append-only files of large values, referenced from tables.
//!
//! Values at or above the blob threshold are written by a [`BlobWriter`]
//! as checksummed records (key, seqno, value, optionally lz4) and
//! referenced from table entries by a [`BlobRef`] (file, offset, length).
//! A blob file is sealed — footer written, file fsynced — before any table
//! that references it becomes part of a version, and never written again.
//! The byte layout is in `docs/FORMAT.md`.
//!
//! ```
//! use cairndb::{BlobFileId, SeqNo};
//! use cairndb::blob::{BlobFile, BlobOptions, BlobWriter};
//! use cairndb::fs::StdFs;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("4.blob");
//! let fs = StdFs::new();
//! let mut w = BlobWriter::new(&fs, &path, BlobFileId(4), BlobOptions { compression: true })?;
//! let r = w.add(b"photo", SeqNo(9), &[7u8; 10_000])?;
//! w.finish()?;
//!
//! let blobs = BlobFile::open(&fs, &path, BlobFileId(4))?;
//! assert_eq!(blobs.read_value(&r, b"photo")?, vec![7u8; 10_000]);
//! blobs.verify()?;
//! # Ok::<(), cairndb::Error>(())
//! ```

mod blob_ref;
pub(crate) mod format;
mod reader;
mod writer;

pub use blob_ref::{BLOB_REF_BYTES, BlobRef};
pub use format::{BLOB_FOOTER_BYTES, BLOB_FORMAT_VERSION, BLOB_MAGIC, BlobFileMeta, BlobRecord, RECORD_HEADER_BYTES};
pub use reader::{BlobFile, BlobIter};
pub use writer::{BlobOptions, BlobWriter};
