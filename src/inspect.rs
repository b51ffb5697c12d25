//! Reading one table or blob file on its own, outside any database: what
//! `cairn sst dump` and `cairn sst verify` show.
//!
//! Opening a file checks its footer (and a table's index, filter and meta
//! block); [`TableFile::verify`] and [`BlobFile::verify`] read every block
//! or record and check its checksum. Damage is an
//! [`Error::Corruption`](crate::Error::Corruption) naming the file and the
//! offset. The byte formats are in `docs/FORMAT.md` ("Tables", "Blob
//! files").
//!
//! ```
//! use cairndb::fs::MemFs;
//! use cairndb::inspect::{TableFile, TableValue};
//! use cairndb::{Config, Db};
//! use std::sync::Arc;
//!
//! let disk = MemFs::new();
//! let db = Config::new("/db").fs(Arc::new(disk.clone())).open()?;
//! db.put(b"apple", b"red")?;
//! db.flush()?;
//! let table = db.info()?.table_files.remove(0);
//! let file = TableFile::open(&disk, &table)?;
//! assert_eq!(file.meta().entry_count, 1);
//! let entry = file.entries().next().unwrap()?;
//! assert_eq!((entry.key.as_slice(), entry.value), (&b"apple"[..], TableValue::Value(b"red".to_vec())));
//! file.verify()?;
//! # Ok::<(), cairndb::Error>(())
//! ```

use std::path::Path;
use std::sync::Arc;

pub use crate::blob::BlobFileMeta;
use crate::fs::Fs;
pub use crate::table::TableMeta;
use crate::table::{BlockCache, Table, ValueKind};
use crate::version::FileName;
use crate::{BlobFileId, Result, SeqNo, TableId};

/// Blocks are read once each: the cache only has to hold the one in use.
const BLOCK_CACHE_BYTES: usize = 1 << 20;

/// An open table file (`tables/{n}.sst`).
#[derive(Clone, Debug)]
pub struct TableFile {
    table: Table,
}

/// What a table entry holds for its key at its seqno.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableValue {
    /// The value, stored in the table.
    Value(Vec<u8>),
    /// The key was deleted.
    Tombstone,
    /// The value lives in a blob file.
    Blob {
        /// The blob file.
        file: BlobFileId,
        /// Where its record starts in the file.
        offset: u64,
        /// The record's length in bytes.
        len_bytes: u32,
    },
    /// A blob reference whose bytes do not decode (shown raw).
    UnreadableBlobRef(Vec<u8>),
}

/// One entry of a table, in table order (key ascending, then seqno
/// descending).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableEntry {
    /// The key.
    pub key: Vec<u8>,
    /// The write's seqno.
    pub seqno: SeqNo,
    /// What the write did.
    pub value: TableValue,
}

impl TableFile {
    /// Opens the table at `path`, checking its footer, index, filter and
    /// meta block.
    pub fn open(fs: &dyn Fs, path: &Path) -> Result<TableFile> {
        // A table does not record its own id: a database's name for it
        // gives it, another name 0 (the id only labels errors).
        let id = match path.file_name().and_then(|n| n.to_str()).and_then(FileName::parse_table) {
            Some(FileName::Table(id)) => id,
            _ => TableId(0),
        };
        let table = Table::open(fs, path, id, Arc::new(BlockCache::new(BLOCK_CACHE_BYTES)))?;
        Ok(TableFile { table })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.table.path()
    }

    /// What the table's meta block says it holds.
    pub fn meta(&self) -> &TableMeta {
        self.table.meta()
    }

    /// Every entry, in table order; a damaged block ends the walk with an
    /// error.
    pub fn entries(&self) -> impl Iterator<Item = Result<TableEntry>> + '_ {
        self.table.iter().map(|entry| {
            let entry = entry?;
            let value = match (entry.kind, entry.blob_ref()) {
                (ValueKind::Value, _) => TableValue::Value(entry.value),
                (ValueKind::Tombstone, _) => TableValue::Tombstone,
                (ValueKind::BlobRef, Some(r)) => {
                    TableValue::Blob { file: r.file, offset: r.offset, len_bytes: r.len_bytes }
                }
                (ValueKind::BlobRef, None) => TableValue::UnreadableBlobRef(entry.value),
            };
            Ok(TableEntry { key: entry.key, seqno: entry.seqno, value })
        })
    }

    /// Reads every data block from the file and checks its checksum, its
    /// entries, the order across blocks and the counts in the meta block.
    pub fn verify(&self) -> Result<()> {
        self.table.verify()
    }
}

/// An open blob file (`blobs/{n}.blob`).
#[derive(Debug)]
pub struct BlobFile {
    file: crate::blob::BlobFile,
}

/// One record of a blob file, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobRecord {
    /// Where the record starts in the file.
    pub offset: u64,
    /// The key it was written under.
    pub key: Vec<u8>,
    /// The write's seqno.
    pub seqno: SeqNo,
    /// The value (decompressed).
    pub value: Vec<u8>,
}

impl BlobFile {
    /// Opens the blob file at `path`, checking its footer; its id is the
    /// one the footer records.
    pub fn open(fs: &dyn Fs, path: &Path) -> Result<BlobFile> {
        Ok(BlobFile { file: crate::blob::BlobFile::open_as_found(fs, path)? })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// What the file's footer says it holds.
    pub fn meta(&self) -> &BlobFileMeta {
        self.file.meta()
    }

    /// Every record, in file order; a damaged record ends the walk with an
    /// error.
    pub fn records(&self) -> impl Iterator<Item = Result<BlobRecord>> + '_ {
        self.file.iter().map(|item| {
            let (r, record) = item?;
            Ok(BlobRecord { offset: r.offset, key: record.key, seqno: record.seqno, value: record.value })
        })
    }

    /// Reads every record and checks its checksum, and the counts in the
    /// footer.
    pub fn verify(&self) -> Result<()> {
        self.file.verify()
    }
}
