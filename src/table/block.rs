//! Data blocks: sorted entries with key prefix compression and restart
//! points.
//!
//! ```text
//! entry (repeated):
//!  0   2  shared_len     key bytes shared with the previous entry (0 at a restart)
//!  2   2  unshared_len   key bytes that follow
//!  4   4  value_len
//!  8   8  seqno
//! 16   1  kind           1 = value, 2 = tombstone, 3 = blob reference
//! 17   ..  unshared key bytes, then value bytes
//! trailer:
//!      4 * n  restart offsets (u32, ascending, each the start of an entry with shared_len 0)
//!      4      n, the restart count (>= 1)
//! ```

use std::cmp::Ordering;
use std::sync::Arc;

use super::entry::{Entry, ValueKind, cmp_internal};
use crate::SeqNo;
use crate::wire::{Cursor, get_u32, put_u16, put_u32, put_u64};

/// Offset of `shared_len` in an entry header.
pub(crate) const ENTRY_SHARED_OFFSET: usize = 0;
/// Offset of `unshared_len`.
pub(crate) const ENTRY_UNSHARED_OFFSET: usize = ENTRY_SHARED_OFFSET + 2;
/// Offset of `value_len`.
pub(crate) const ENTRY_VALUE_LEN_OFFSET: usize = ENTRY_UNSHARED_OFFSET + 2;
/// Offset of `seqno`.
pub(crate) const ENTRY_SEQNO_OFFSET: usize = ENTRY_VALUE_LEN_OFFSET + 4;
/// Offset of `kind`.
pub(crate) const ENTRY_KIND_OFFSET: usize = ENTRY_SEQNO_OFFSET + 8;
/// Size of an entry header.
pub(crate) const ENTRY_HEADER_BYTES: usize = ENTRY_KIND_OFFSET + 1;
const _: () = assert!(ENTRY_HEADER_BYTES == 17);
/// Size of one restart offset, and of the restart count.
pub(crate) const RESTART_BYTES: usize = 4;

/// Builds one data block from entries given in table order.
#[derive(Debug)]
pub(crate) struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    since_restart: usize,
    restart_interval: usize,
    last_key: Vec<u8>,
}

impl BlockBuilder {
    /// An empty block with a restart point every `restart_interval` entries.
    pub(crate) fn new(restart_interval: usize) -> Self {
        assert!(restart_interval >= 1);
        BlockBuilder { buf: Vec::new(), restarts: Vec::new(), since_restart: 0, restart_interval, last_key: Vec::new() }
    }

    /// True before the first `add`.
    pub(crate) fn is_empty(&self) -> bool {
        self.restarts.is_empty()
    }

    /// The encoded size so far, trailer included.
    pub(crate) fn size_bytes(&self) -> usize {
        self.buf.len() + RESTART_BYTES * (self.restarts.len() + 1)
    }

    /// Appends an entry; the caller guarantees order and length limits.
    pub(crate) fn add(&mut self, key: &[u8], seqno: SeqNo, kind: ValueKind, value: &[u8]) {
        let shared = if self.restarts.is_empty() || self.since_restart == self.restart_interval {
            self.restarts.push(u32::try_from(self.buf.len()).expect("block under 4 GiB"));
            self.since_restart = 0;
            0
        } else {
            common_prefix(&self.last_key, key)
        };
        self.since_restart += 1;
        put_u16(&mut self.buf, shared as u16);
        put_u16(&mut self.buf, (key.len() - shared) as u16);
        put_u32(&mut self.buf, value.len() as u32);
        put_u64(&mut self.buf, seqno.get());
        self.buf.push(kind.to_byte());
        self.buf.extend_from_slice(&key[shared..]);
        self.buf.extend_from_slice(value);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
    }

    /// Returns the encoded block and resets the builder.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        for r in &self.restarts {
            put_u32(&mut out, *r);
        }
        put_u32(&mut out, self.restarts.len() as u32);
        self.restarts.clear();
        self.since_restart = 0;
        self.last_key.clear();
        out
    }
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count().min(u16::MAX as usize)
}

/// An entry header, checked to lie inside the entry region.
struct EntryHeader {
    shared: usize,
    key_start: usize,
    unshared: usize,
    value_len: usize,
    seqno: SeqNo,
    kind: ValueKind,
}

impl EntryHeader {
    fn read(data: &[u8], pos: usize, entries_end: usize) -> Result<Self, &'static str> {
        let region = data.get(..entries_end).ok_or("entry outside the block")?;
        let mut c = Cursor::at(region, pos);
        let short = "entry header runs past the block";
        let shared = usize::from(c.u16().ok_or(short)?);
        let unshared = usize::from(c.u16().ok_or(short)?);
        let value_len = c.u32().ok_or(short)? as usize;
        let seqno = SeqNo(c.u64().ok_or(short)?);
        let kind = ValueKind::from_byte(c.u8().ok_or(short)?).ok_or("unknown value kind")?;
        let key_start = c.pos();
        if unshared.checked_add(value_len).is_none_or(|n| n > c.remaining()) {
            return Err("entry runs past the block");
        }
        Ok(EntryHeader { shared, key_start, unshared, value_len, seqno, kind })
    }

    fn value_start(&self) -> usize {
        self.key_start + self.unshared
    }

    fn end(&self) -> usize {
        self.value_start() + self.value_len
    }
}

/// A decoded, validated data block.
#[derive(Debug)]
pub(crate) struct Block {
    data: Box<[u8]>,
    entries_end: usize,
    restart_count: usize,
    entry_count: usize,
}

impl Block {
    /// Validates `raw` completely (bounds, restart points, order, kinds) so
    /// that a block that decodes can be walked without surprises.
    pub(crate) fn decode(raw: Vec<u8>) -> Result<Block, &'static str> {
        let count_at = raw.len().checked_sub(RESTART_BYTES).ok_or("block too short")?;
        let restart_count = get_u32(&raw, count_at).ok_or("block too short")? as usize;
        let entries_end = restart_count
            .checked_mul(RESTART_BYTES)
            .and_then(|n| count_at.checked_sub(n))
            .ok_or("restart count larger than the block")?;
        if restart_count == 0 || entries_end == 0 {
            return Err("block has no entries");
        }
        let mut block = Block { data: raw.into_boxed_slice(), entries_end, restart_count, entry_count: 0 };
        block.entry_count = block.validate_entries()?;
        Ok(block)
    }

    fn validate_entries(&self) -> Result<usize, &'static str> {
        let (mut pos, mut next_restart, mut count) = (0, 0, 0);
        let (mut key, mut prev_key) = (Vec::new(), Vec::new());
        let mut prev_seqno = SeqNo(0);
        while pos < self.entries_end {
            let h = EntryHeader::read(&self.data, pos, self.entries_end)?;
            let is_restart = next_restart < self.restart_count && self.restart(next_restart) == pos;
            if is_restart {
                next_restart += 1;
            } else if pos == 0 {
                return Err("first entry is not a restart point");
            }
            if (is_restart && h.shared != 0) || h.shared > key.len() {
                return Err("bad shared key length");
            }
            std::mem::swap(&mut key, &mut prev_key);
            key.clear();
            key.extend_from_slice(&prev_key[..h.shared]);
            key.extend_from_slice(&self.data[h.key_start..h.value_start()]);
            if !h.kind.accepts(&self.data[h.value_start()..h.end()]) {
                return Err("value does not fit its kind");
            }
            if count > 0 && cmp_internal(&prev_key, prev_seqno, &key, h.seqno) != Ordering::Less {
                return Err("entries out of order");
            }
            prev_seqno = h.seqno;
            count += 1;
            pos = h.end();
        }
        if next_restart != self.restart_count {
            return Err("restart point not at an entry");
        }
        Ok(count)
    }

    /// Offset of restart point `i` (< restart_count); 0 past the trailer.
    fn restart(&self, i: usize) -> usize {
        get_u32(&self.data, self.entries_end + i * RESTART_BYTES).unwrap_or(0) as usize
    }

    /// Bytes this block holds in memory.
    pub(crate) fn size_bytes(&self) -> usize {
        self.data.len()
    }

    /// Number of entries.
    pub(crate) fn entry_count(&self) -> usize {
        self.entry_count
    }

    /// The full key stored at restart point `i`.
    fn restart_key(&self, i: usize) -> Result<(&[u8], SeqNo), &'static str> {
        let h = EntryHeader::read(&self.data, self.restart(i), self.entries_end)?;
        Ok((&self.data[h.key_start..h.value_start()], h.seqno))
    }
}

/// A position in a block; owns the block so iterators can outlive lookups.
#[derive(Debug)]
pub(crate) struct BlockCursor {
    block: Arc<Block>,
    next: usize,
    key: Vec<u8>,
    seqno: SeqNo,
    kind: ValueKind,
    value: (usize, usize),
}

impl BlockCursor {
    /// A cursor before the first entry of `block`.
    pub(crate) fn new(block: Arc<Block>) -> Self {
        BlockCursor { block, next: 0, key: Vec::new(), seqno: SeqNo(0), kind: ValueKind::Value, value: (0, 0) }
    }

    /// Moves to the next entry; `Ok(false)` past the last one.
    pub(crate) fn advance(&mut self) -> Result<bool, &'static str> {
        let b = &self.block;
        if self.next >= b.entries_end {
            return Ok(false);
        }
        let h = EntryHeader::read(&b.data, self.next, b.entries_end)?;
        if h.shared > self.key.len() {
            return Err("bad shared key length");
        }
        self.key.truncate(h.shared);
        self.key.extend_from_slice(&b.data[h.key_start..h.value_start()]);
        (self.seqno, self.kind, self.value) = (h.seqno, h.kind, (h.value_start(), h.end()));
        self.next = h.end();
        Ok(true)
    }

    /// Moves to the first entry at or after (`key`, `seqno`) in table
    /// order; `Ok(false)` when every entry is before it.
    pub(crate) fn seek(&mut self, key: &[u8], seqno: SeqNo) -> Result<bool, &'static str> {
        let start = self.last_restart_before(key, seqno)?;
        self.next = self.block.restart(start);
        self.key.clear();
        while self.advance()? {
            if cmp_internal(&self.key, self.seqno, key, seqno) != Ordering::Less {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The last restart point whose key is before the target (or 0).
    fn last_restart_before(&self, key: &[u8], seqno: SeqNo) -> Result<usize, &'static str> {
        let (mut lo, mut hi) = (0, self.block.restart_count);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let (k, s) = self.block.restart_key(mid)?;
            if cmp_internal(k, s, key, seqno) == Ordering::Less {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// The current entry's key.
    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }

    /// The current entry's seqno.
    pub(crate) fn seqno(&self) -> SeqNo {
        self.seqno
    }

    /// The current entry's kind.
    pub(crate) fn kind(&self) -> ValueKind {
        self.kind
    }

    /// The current entry's value bytes.
    pub(crate) fn value(&self) -> &[u8] {
        self.block.data.get(self.value.0..self.value.1).unwrap_or_default()
    }

    /// The current entry, copied out.
    pub(crate) fn entry(&self) -> Entry {
        Entry { key: self.key.clone(), seqno: self.seqno, kind: self.kind, value: self.value().to_vec() }
    }
}

/// Decodes a data block body and walks every entry; for fuzzing the
/// decoder with the checksum bypassed. Returns the entry count.
#[cfg(test)]
pub(crate) fn decode_and_walk(raw: &[u8]) -> Result<usize, &'static str> {
    let block = Arc::new(Block::decode(raw.to_vec())?);
    let mut cursor = BlockCursor::new(Arc::clone(&block));
    let mut n = 0;
    while cursor.advance()? {
        n += 1;
    }
    if n != block.entry_count() {
        return Err("walk disagrees with validation");
    }
    let probe = (b"m".as_slice(), SeqNo(5));
    BlockCursor::new(block).seek(probe.0, probe.1)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(n: usize, interval: usize) -> Vec<u8> {
        let mut b = BlockBuilder::new(interval);
        for i in 0..n {
            let key = format!("key{:05}", i / 2);
            b.add(key.as_bytes(), SeqNo(100 - (i % 2) as u64), ValueKind::Value, &[i as u8; 3]);
        }
        b.finish()
    }

    #[test]
    fn builds_walks_and_seeks() {
        let block = Arc::new(Block::decode(build(100, 16)).unwrap());
        assert_eq!(block.entry_count(), 100);
        let mut c = BlockCursor::new(Arc::clone(&block));
        assert!(c.seek(b"key00010", SeqNo(99)).unwrap());
        assert_eq!((c.key(), c.seqno()), (b"key00010".as_slice(), SeqNo(99)));
        assert!(c.seek(b"key00010", SeqNo(1000)).unwrap());
        assert_eq!(c.seqno(), SeqNo(100));
        assert!(c.seek(b"key000105", SeqNo(1000)).unwrap());
        assert_eq!(c.key(), b"key00011");
        assert!(!c.seek(b"z", SeqNo(0)).unwrap());
        assert!(c.seek(b"", SeqNo(0)).unwrap());
        assert_eq!(c.key(), b"key00000");
    }

    #[test]
    fn every_truncation_and_flip_is_an_error_or_valid() {
        let raw = build(20, 4);
        for len in 0..raw.len() {
            let _ = decode_and_walk(&raw[..len]);
        }
        for bit in 0..raw.len() * 8 {
            let mut bad = raw.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let _ = decode_and_walk(&bad);
        }
        assert_eq!(decode_and_walk(&raw), Ok(20));
    }
}
