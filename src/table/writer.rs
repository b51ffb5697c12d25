//! [`TableWriter`]: streams sorted entries into a new table file.

use std::cmp::Ordering;
use std::path::Path;

use super::block::BlockBuilder;
use super::entry::{KEY_BYTES_MAX, VALUE_BYTES_MAX, ValueKind, cmp_internal};
use super::filter::{Bloom, key_hash};
use super::footer::Footer;
use super::frame::{BlockHandle, BlockKind, encode_frame};
use super::index::{Index, IndexEntry};
use super::meta::TableMeta;
use crate::blob::BlobRef;
use crate::fs::{Fs, FsFile, OpenOptions};
use crate::{Error, Result, SeqNo};

/// Bytes gathered before one write to the file.
const WRITE_BUFFER_BYTES: usize = 256 << 10;

/// How a table is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableOptions {
    /// A data block is closed once its encoded size reaches this.
    pub block_size_bytes: usize,
    /// Compress blocks with lz4 (each block only if that makes it smaller).
    pub compression: bool,
    /// Bloom filter bits per distinct key; 10 gives about 1% false
    /// positives, 0 writes no filter.
    pub bloom_bits_per_key: u32,
    /// A full key (restart point) every this many entries in a block.
    pub restart_interval: usize,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions { block_size_bytes: 4096, compression: true, bloom_bits_per_key: 10, restart_interval: 16 }
    }
}

/// Writes one immutable table.
///
/// Entries are given in table order (key ascending, then seqno descending)
/// and streamed to the file block by block. The table is durable once
/// [`finish`](Self::finish) returns: the file is fsynced, but the directory
/// entry is not — syncing the directory is the caller's job. A writer
/// dropped before `finish` leaves a partial file that no reader accepts;
/// the caller removes it.
#[derive(Debug)]
pub struct TableWriter {
    file: Box<dyn FsFile>,
    options: TableOptions,
    block: BlockBuilder,
    pending: Vec<u8>,
    pending_offset: u64,
    index: Vec<IndexEntry>,
    key_hashes: Vec<u64>,
    last_key: Vec<u8>,
    last_seqno: SeqNo,
    meta: TableMeta,
}

impl TableWriter {
    /// Creates the table file at `path`, which must not exist.
    pub fn new(fs: &dyn Fs, path: &Path, options: TableOptions) -> Result<Self> {
        if options.block_size_bytes == 0 || options.restart_interval == 0 {
            return Err(Error::invalid("table block size and restart interval must be positive"));
        }
        let file = fs.open(path, OpenOptions::create_new())?;
        Ok(TableWriter {
            file,
            options,
            block: BlockBuilder::new(options.restart_interval),
            pending: Vec::with_capacity(WRITE_BUFFER_BYTES + options.block_size_bytes),
            pending_offset: 0,
            index: Vec::new(),
            key_hashes: Vec::new(),
            last_key: Vec::new(),
            last_seqno: SeqNo(0),
            meta: TableMeta::default(),
        })
    }

    /// Appends an entry.
    ///
    /// # Panics
    ///
    /// When (`key`, `seqno`) does not follow the previous entry in table
    /// order, or `value` does not fit `kind` (a tombstone's is empty, a blob
    /// reference's is an encoded [`BlobRef`]).
    pub fn add(&mut self, key: &[u8], seqno: SeqNo, kind: ValueKind, value: &[u8]) -> Result<()> {
        if key.len() > KEY_BYTES_MAX || value.len() > VALUE_BYTES_MAX {
            return Err(Error::invalid(format!(
                "key of {} bytes or value of {} bytes exceeds the table limits ({KEY_BYTES_MAX}, {VALUE_BYTES_MAX})",
                key.len(),
                value.len()
            )));
        }
        assert!(kind.accepts(value), "value of {} bytes does not fit {kind:?}", value.len());
        let first = self.meta.entry_count == 0;
        assert!(
            first || cmp_internal(&self.last_key, self.last_seqno, key, seqno) == Ordering::Less,
            "table entries must be added in order (key ascending, seqno descending)"
        );
        if first || self.last_key != key {
            self.key_hashes.push(key_hash(key));
        }
        self.count(key, seqno, kind, value);
        self.block.add(key, seqno, kind, value);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.last_seqno = seqno;
        if self.block.size_bytes() >= self.options.block_size_bytes {
            self.close_block()?;
        }
        Ok(())
    }

    /// Entries added so far.
    pub fn entry_count(&self) -> u64 {
        self.meta.entry_count
    }

    /// Bytes the file will have before the filter, index and meta blocks,
    /// for callers that cut tables at a target size.
    pub fn data_size_bytes(&self) -> u64 {
        self.pending_offset + self.pending.len() as u64 + self.block.size_bytes() as u64
    }

    fn count(&mut self, key: &[u8], seqno: SeqNo, kind: ValueKind, value: &[u8]) {
        let m = &mut self.meta;
        if m.entry_count == 0 {
            m.key_min = key.to_vec();
            m.seqno_min = seqno;
            m.seqno_max = seqno;
        }
        m.entry_count += 1;
        m.seqno_min = m.seqno_min.min(seqno);
        m.seqno_max = m.seqno_max.max(seqno);
        m.raw_bytes += (key.len() + value.len()) as u64;
        match kind {
            ValueKind::Value => m.value_count += 1,
            ValueKind::Tombstone => m.tombstone_count += 1,
            ValueKind::BlobRef => {
                m.blob_ref_count += 1;
                m.blob_bytes += BlobRef::decode(value).map_or(0, |r| u64::from(r.len_bytes));
            }
        }
    }

    fn close_block(&mut self) -> Result<()> {
        let raw = self.block.finish();
        let handle = self.append_frame(BlockKind::Data, &raw, self.options.compression);
        self.index.push(IndexEntry { last_key: self.last_key.clone(), last_seqno: self.last_seqno, handle });
        self.meta.data_block_count += 1;
        if self.pending.len() >= WRITE_BUFFER_BYTES {
            self.write_pending()?;
        }
        Ok(())
    }

    fn append_frame(&mut self, kind: BlockKind, raw: &[u8], compress: bool) -> BlockHandle {
        let start = self.pending.len();
        encode_frame(kind, raw, compress, &mut self.pending);
        let len = u32::try_from(self.pending.len() - start).expect("frames are under 4 GiB");
        BlockHandle { offset: self.pending_offset + start as u64, len }
    }

    fn write_pending(&mut self) -> Result<()> {
        self.file.write_all_at(&self.pending, self.pending_offset)?;
        self.pending_offset += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }

    /// Writes the filter, index, meta block and footer, fsyncs the file and
    /// returns what the table holds. A table must hold at least one entry.
    pub fn finish(mut self) -> Result<TableMeta> {
        if self.meta.entry_count == 0 {
            return Err(Error::invalid("a table must hold at least one entry"));
        }
        if !self.block.is_empty() {
            self.close_block()?;
        }
        self.meta.data_bytes = self.pending_offset + self.pending.len() as u64;
        self.meta.key_max = self.last_key.clone();
        let filter_body = Bloom::build(&self.key_hashes, self.options.bloom_bits_per_key);
        let filter = self.append_frame(BlockKind::Filter, &filter_body, false);
        let index = self.append_frame(BlockKind::Index, &Index::encode(&self.index), false);
        let meta = self.append_frame(BlockKind::Meta, &self.meta.encode(), false);
        self.pending.extend_from_slice(&Footer { meta, index, filter }.encode());
        self.write_pending()?;
        self.file.sync_data()?;
        self.meta.file_size_bytes = self.pending_offset;
        Ok(self.meta)
    }
}
