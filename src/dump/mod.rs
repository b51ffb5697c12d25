//! Dumps: a database's live keys and values as one stream of bytes, and
//! back (`docs/FORMAT.md`, "Dump streams").
//!
//! A dump holds every key a snapshot sees and its value, in key order, as
//! of that snapshot's seqno: deleted and overwritten versions are not in
//! it, so loading it gives the same contents, not the same history. It
//! is streamable (written and read front to back, never seeked) and
//! checksummed: a header with magic and version, one framed record per key
//! with its own xxh3, and a trailer with the record count and an xxh3 of
//! every record, so a cut, a flipped bit, a dropped or reordered record is
//! an error, not a smaller database.
//!
//! ```
//! # fn main() -> cairndb::Result<()> {
//! use std::ops::ControlFlow;
//! use std::sync::Arc;
//! use cairndb::{Config, dump};
//! use cairndb::fs::MemFs;
//!
//! let fs = Arc::new(MemFs::new());
//! let db = Config::new("/db").fs(fs.clone()).open()?;
//! db.put(b"k\x00", b"")?;
//! let mut bytes = Vec::new();
//! dump::dump(&db.snapshot(), &mut bytes, "a dump", &mut |_| ControlFlow::Continue(()))?;
//!
//! let copy = Config::new("/copy").fs(fs).open()?;
//! let reader = dump::DumpReader::new(&bytes[..], "a dump")?;
//! let loaded = dump::load(&copy, reader, &mut |_| ControlFlow::Continue(()))?;
//! assert_eq!((loaded.records, copy.get(b"k\x00")?), (1, Some(Vec::new())));
//! # Ok(())
//! # }
//! ```

mod format;
mod reader;
mod writer;

pub(crate) use format::reseal;
pub use format::{DUMP_FORMAT_VERSION, DUMP_MAGIC, HEADER_BYTES, RECORD_OVERHEAD_BYTES, TRAILER_BYTES};
pub use reader::{DumpReader, LoadInfo, load};
pub use writer::{DumpInfo, DumpWriter, dump};

/// How far a dump or load is, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DumpProgress {
    /// Records written or read so far.
    pub records: u64,
    /// Bytes of the stream written or read so far.
    pub bytes: u64,
}
