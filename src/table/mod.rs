//! Tables: immutable, sorted, checksummed files of entries (`.sst`).
//!
//! A [`TableWriter`] streams entries in table order — key ascending, then
//! seqno descending, so several versions of a key can share a table — into
//! data blocks, then writes a bloom filter, an index, a meta block and a
//! footer. [`Table::open`] verifies everything but the data blocks, which
//! are verified as they are read and kept in a shared [`BlockCache`].
//! The byte layout is in `docs/FORMAT.md`.
//!
//! ```
//! use std::sync::Arc;
//! use cairndb::{SeqNo, TableId};
//! use cairndb::fs::StdFs;
//! use cairndb::table::{BlockCache, Table, TableOptions, TableWriter, ValueKind};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("1.sst");
//! let fs = StdFs::new();
//! let mut w = TableWriter::new(&fs, &path, TableOptions::default())?;
//! w.add(b"apple", SeqNo(7), ValueKind::Value, b"red")?;
//! w.add(b"apple", SeqNo(3), ValueKind::Value, b"green")?;
//! w.add(b"pear", SeqNo(5), ValueKind::Tombstone, b"")?;
//! let meta = w.finish()?;
//! assert_eq!(meta.entry_count, 3);
//!
//! let table = Table::open(&fs, &path, TableId(1), Arc::new(BlockCache::new(8 << 20)))?;
//! assert_eq!(table.get(b"apple", SeqNo(5))?.unwrap().value, b"green");
//! assert_eq!(table.get(b"pear", SeqNo(9))?.unwrap().kind, ValueKind::Tombstone);
//! assert!(table.get(b"plum", SeqNo(9))?.is_none());
//! assert_eq!(table.iter().count(), 3);
//! # Ok::<(), cairndb::Error>(())
//! ```

pub(crate) mod block;
mod cache;
mod entry;
pub(crate) mod filter;
pub(crate) mod footer;
pub(crate) mod frame;
pub(crate) mod index;
mod iter;
pub(crate) mod meta;
mod reader;
mod writer;

pub use cache::{BlockCache, CacheStats};
pub use entry::{Entry, KEY_BYTES_MAX, VALUE_BYTES_MAX, ValueKind, cmp_internal};
pub use footer::{FOOTER_BYTES, TABLE_FORMAT_VERSION, TABLE_MAGIC};
pub use iter::{TableIter, TableRevIter};
pub use meta::TableMeta;
pub use reader::Table;
pub use writer::{TableOptions, TableWriter};

pub(crate) use frame::decompress_lz4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_are_shareable_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Table>();
        send_sync::<TableIter>();
        send_sync::<BlockCache>();
        send_sync::<TableWriter>();
        send_sync::<crate::blob::BlobFile>();
    }
}
