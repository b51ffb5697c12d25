//! [`Table`]: an open, verified table serving lookups and iteration.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::block::{Block, BlockCursor};
use super::cache::BlockCache;
use super::entry::{Entry, ValueKind, cmp_internal};
use super::filter::{Bloom, key_hash};
use super::footer::{FOOTER_BYTES, Footer};
use super::frame::{BlockHandle, BlockKind, decode_frame};
use super::index::Index;
use super::meta::TableMeta;
use crate::fs::{Fs, FsFile, OpenOptions};
use crate::{Error, Result, SeqNo, TableId};

/// Bytes an open reads from the end of a table: the footer and, in all but
/// large tables, the filter, index and meta block before it, in one read (a
/// larger table takes a second read for those).
const TAIL_READ_BYTES: u64 = 16 << 10;

/// An open table. Cheap to clone (clones share the open file); Send + Sync.
///
/// Opening reads and verifies the footer, filter, index and meta block;
/// data blocks are read on demand, verified, and kept in the shared
/// [`BlockCache`].
#[derive(Clone, Debug)]
pub struct Table {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: TableId,
    path: PathBuf,
    file: Box<dyn FsFile>,
    cache: Arc<BlockCache>,
    cache_key: u64,
    /// Whether the reader's blocks leave the cache when it closes: only
    /// when its cache key is its own (see [`Table::open_cached_as`]).
    forget_on_close: bool,
    index: Index,
    filter: Bloom,
    meta: TableMeta,
}

impl Table {
    /// Opens the table at `path`.
    ///
    /// Fails with [`Error::Corruption`] when the file is not a whole,
    /// intact table of this format version.
    pub fn open(fs: &dyn Fs, path: &Path, id: TableId, cache: Arc<BlockCache>) -> Result<Self> {
        Self::from_file(fs.open(path, OpenOptions::read())?, id, cache)
    }

    /// Opens the table at `path`, its blocks cached under `cache_key` (from
    /// [`BlockCache::new_file_key`]), which the caller keeps for the file:
    /// a later reader of the same file opened under the same key finds the
    /// blocks this one cached. They stay cached when this reader closes;
    /// [`forget_cached_blocks`](Self::forget_cached_blocks) drops them.
    pub(crate) fn open_cached_as(
        fs: &dyn Fs,
        path: &Path,
        id: TableId,
        cache: Arc<BlockCache>,
        cache_key: u64,
    ) -> Result<Self> {
        Self::from_file_keyed(fs.open(path, OpenOptions::read())?, id, cache, Some(cache_key))
    }

    /// Opens a table from a file already open for reading.
    pub fn from_file(file: Box<dyn FsFile>, id: TableId, cache: Arc<BlockCache>) -> Result<Self> {
        Self::from_file_keyed(file, id, cache, None)
    }

    /// Opens `file`, its blocks cached under `cache_key`, or under a key of
    /// its own that it forgets when it closes.
    fn from_file_keyed(file: Box<dyn FsFile>, id: TableId, cache: Arc<BlockCache>, key: Option<u64>) -> Result<Self> {
        let path = file.path().to_path_buf();
        let file_len = file.len()?;
        let corrupt = |offset: u64, what: &str| Error::corruption(&path, offset, what);
        let footer_offset =
            file_len.checked_sub(FOOTER_BYTES as u64).ok_or_else(|| corrupt(0, "file shorter than a table footer"))?;
        let tail_start = file_len.saturating_sub(TAIL_READ_BYTES);
        let mut tail = vec![0u8; (file_len - tail_start) as usize];
        file.read_exact_at(&mut tail, tail_start)?;
        let footer_bytes = &tail[(footer_offset - tail_start) as usize..];
        let footer = Footer::decode(footer_bytes, file_len).map_err(|w| corrupt(footer_offset, w))?;
        // The filter, index and meta block tile the bytes before the footer.
        let (region_start, region) = if footer.filter.offset >= tail_start {
            (tail_start, tail)
        } else {
            let mut region = vec![0u8; (file_len - footer.filter.offset) as usize];
            file.read_exact_at(&mut region, footer.filter.offset)?;
            (footer.filter.offset, region)
        };
        let read = |h: BlockHandle, kind| {
            let at = (h.offset - region_start) as usize;
            decode_frame(kind, &region[at..at + h.len as usize]).map_err(|w| corrupt(h.offset, w))
        };
        let meta = TableMeta::decode(&read(footer.meta, BlockKind::Meta)?, file_len)
            .map_err(|w| corrupt(footer.meta.offset, w))?;
        let data_end = footer.filter.offset;
        let index = Index::decode(&read(footer.index, BlockKind::Index)?, data_end)
            .map_err(|w| corrupt(footer.index.offset, w))?;
        let filter =
            Bloom::decode(&read(footer.filter, BlockKind::Filter)?).map_err(|w| corrupt(footer.filter.offset, w))?;
        check_meta_against_index(&meta, &index, data_end).map_err(|w| corrupt(footer.meta.offset, w))?;
        let forget_on_close = key.is_none();
        let cache_key = key.unwrap_or_else(|| cache.new_file_key());
        let inner = Inner { id, path, file, cache, cache_key, forget_on_close, index, filter, meta };
        Ok(Table { inner: Arc::new(inner) })
    }

    /// The table's id.
    pub fn id(&self) -> TableId {
        self.inner.id
    }

    /// The path the table was opened from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// What the table holds.
    pub fn meta(&self) -> &TableMeta {
        &self.inner.meta
    }

    /// False when the bloom filter proves `key` absent (no block is read).
    pub fn may_contain(&self, key: &[u8]) -> bool {
        self.inner.filter.may_contain(key_hash(key))
    }

    /// The newest version of `key` with seqno <= `snapshot`, whatever its
    /// kind (a tombstone is returned as such).
    pub fn get(&self, key: &[u8], snapshot: SeqNo) -> Result<Option<Entry>> {
        if !self.may_contain(key) {
            return Ok(None);
        }
        let i = self.find_block(key, snapshot);
        if i == self.block_count() {
            return Ok(None);
        }
        let (mut cursor, offset) = (BlockCursor::new(self.block(i)?), self.block_offset(i));
        let found = cursor.seek(key, snapshot).map_err(|w| self.corrupt(offset, w))?;
        Ok((found && cursor.key() == key).then(|| cursor.entry()))
    }

    /// Reads every data block from the file (bypassing the cache) and checks
    /// its checksum, its entries, the order across blocks and the counts in
    /// the meta block.
    pub fn verify(&self) -> Result<()> {
        let mut tally = Tally::default();
        for (i, e) in self.inner.index.entries().iter().enumerate() {
            let block = Arc::new(self.load_block(i)?);
            let walked = tally.walk(BlockCursor::new(block)).map_err(|w| self.corrupt(e.handle.offset, w))?;
            if walked != (e.last_key.as_slice(), e.last_seqno) {
                return Err(self.corrupt(e.handle.offset, "block's last key differs from the index"));
            }
        }
        tally.check(self.meta()).map_err(|w| self.corrupt(self.meta().data_bytes, w))
    }

    /// Drops the table's blocks from the block cache (the file is going).
    pub(crate) fn forget_cached_blocks(&self) {
        self.inner.forget_cached_blocks();
    }

    /// The first block that can hold (`key`, `seqno`) or a later entry.
    pub(crate) fn find_block(&self, key: &[u8], seqno: SeqNo) -> usize {
        self.inner.index.find(key, seqno)
    }

    pub(crate) fn block_count(&self) -> usize {
        self.inner.index.entries().len()
    }

    pub(crate) fn block_offset(&self, i: usize) -> u64 {
        self.inner.index.entries().get(i).map_or(0, |e| e.handle.offset)
    }

    pub(crate) fn corrupt(&self, offset: u64, what: &str) -> Error {
        Error::corruption(&self.inner.path, offset, what)
    }

    /// Data block `i` (< block_count), from the cache or the file.
    pub(crate) fn block(&self, i: usize) -> Result<Arc<Block>> {
        let inner = &self.inner;
        let offset = self.block_offset(i);
        if let Some(block) = inner.cache.get(inner.cache_key, offset) {
            return Ok(block);
        }
        let block = Arc::new(self.load_block(i)?);
        inner.cache.insert(inner.cache_key, offset, Arc::clone(&block));
        Ok(block)
    }

    fn load_block(&self, i: usize) -> Result<Block> {
        let entry = self.inner.index.entries().get(i);
        let handle = entry.map(|e| e.handle).ok_or_else(|| self.corrupt(0, "no such block"))?;
        let raw = read_frame(self.inner.file.as_ref(), &self.inner.path, handle, BlockKind::Data)?;
        Block::decode(raw).map_err(|w| self.corrupt(handle.offset, w))
    }
}

impl Inner {
    fn forget_cached_blocks(&self) {
        let offsets = self.index.entries().iter().map(|e| e.handle.offset);
        self.cache.forget(self.cache_key, offsets);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.forget_on_close {
            self.forget_cached_blocks();
        }
    }
}

/// Reads and verifies one frame whose handle has been checked against the
/// file's length.
fn read_frame(file: &dyn FsFile, path: &Path, h: BlockHandle, kind: BlockKind) -> Result<Vec<u8>> {
    let mut frame = vec![0u8; h.len as usize];
    file.read_exact_at(&mut frame, h.offset)?;
    decode_frame(kind, &frame).map_err(|w| Error::corruption(path, h.offset, w))
}

fn check_meta_against_index(meta: &TableMeta, index: &Index, data_end: u64) -> Result<(), &'static str> {
    let last = index.entries().last().ok_or("table has no data blocks")?;
    if meta.data_bytes != data_end || meta.data_block_count != index.entries().len() as u64 {
        return Err("meta block disagrees with the index");
    }
    if last.last_key != meta.key_max || meta.key_min > meta.key_max {
        return Err("meta key range disagrees with the index");
    }
    Ok(())
}

/// Counts gathered by [`Table::verify`].
#[derive(Default)]
struct Tally {
    entries: u64,
    values: u64,
    tombstones: u64,
    blob_refs: u64,
    raw_bytes: u64,
    key_min: Option<Vec<u8>>,
    seqno_range: Option<(SeqNo, SeqNo)>,
    last: Option<(Vec<u8>, SeqNo)>,
}

impl Tally {
    /// Walks a block, checking order against everything before it; returns
    /// the block's last key.
    fn walk(&mut self, mut c: BlockCursor) -> Result<(&[u8], SeqNo), &'static str> {
        while c.advance()? {
            if let Some((k, s)) = &self.last
                && cmp_internal(k, *s, c.key(), c.seqno()) != Ordering::Less
            {
                return Err("entries out of order across blocks");
            }
            self.count(&c);
            self.last = Some((c.key().to_vec(), c.seqno()));
        }
        self.last.as_ref().map(|(k, s)| (k.as_slice(), *s)).ok_or("empty block")
    }

    fn count(&mut self, c: &BlockCursor) {
        self.entries += 1;
        self.raw_bytes += (c.key().len() + c.value().len()) as u64;
        match c.kind() {
            ValueKind::Value => self.values += 1,
            ValueKind::Tombstone => self.tombstones += 1,
            ValueKind::BlobRef => self.blob_refs += 1,
        }
        self.key_min.get_or_insert_with(|| c.key().to_vec());
        let (lo, hi) = self.seqno_range.get_or_insert((c.seqno(), c.seqno()));
        (*lo, *hi) = ((*lo).min(c.seqno()), (*hi).max(c.seqno()));
    }

    fn check(&self, meta: &TableMeta) -> Result<(), &'static str> {
        let counts = [self.entries, self.values, self.tombstones, self.blob_refs, self.raw_bytes];
        let expected = [meta.entry_count, meta.value_count, meta.tombstone_count, meta.blob_ref_count, meta.raw_bytes];
        if counts != expected {
            return Err("entry counts differ from the meta block");
        }
        if self.key_min.as_deref() != Some(meta.key_min.as_slice())
            || self.seqno_range != Some((meta.seqno_min, meta.seqno_max))
        {
            return Err("key or seqno range differs from the meta block");
        }
        Ok(())
    }
}
