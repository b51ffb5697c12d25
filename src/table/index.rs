//! The index block: the last key of every data block and where it lies.
//!
//! ```text
//! 0   4   block count n
//! then n entries:
//!     2   key_len
//!     ..  key (the block's last key)
//!     8   seqno (the block's last seqno)
//!     12  block handle (offset u64, len u32)
//! ```

use std::cmp::Ordering;

use super::entry::cmp_internal;
use super::frame::{BLOCK_HANDLE_BYTES, BlockHandle, FRAME_HEADER_BYTES};
use crate::SeqNo;
use crate::wire::{Cursor, key_prefix, put_u16, put_u32, put_u64};

/// Size of the block count at the start of the index.
pub(crate) const INDEX_COUNT_BYTES: usize = 4;
const _: () = assert!(INDEX_COUNT_BYTES == size_of::<u32>());
/// Fixed bytes of an index entry besides its key.
pub(crate) const INDEX_ENTRY_FIXED_BYTES: usize = 2 + 8 + BLOCK_HANDLE_BYTES;
const _: () = assert!(INDEX_ENTRY_FIXED_BYTES == 22);

/// One data block as the index knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    /// The block's last key.
    pub(crate) last_key: Vec<u8>,
    /// The block's last seqno.
    pub(crate) last_seqno: SeqNo,
    /// Where the block lies.
    pub(crate) handle: BlockHandle,
}

/// The decoded index: data blocks in table order.
#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: Vec<IndexEntry>,
    /// Each entry's key prefix ([`key_prefix`]), side by side: a lookup's binary search
    /// compares these and reaches for a key's bytes (a pointer away, often
    /// a cache miss) only when the prefixes are equal.
    prefixes: Vec<u64>,
}

impl Index {
    /// Encodes `entries` as an index block body.
    pub(crate) fn encode(entries: &[IndexEntry]) -> Vec<u8> {
        let mut out = Vec::new();
        put_u32(&mut out, entries.len() as u32);
        for e in entries {
            put_u16(&mut out, e.last_key.len() as u16);
            out.extend_from_slice(&e.last_key);
            put_u64(&mut out, e.last_seqno.get());
            e.handle.encode(&mut out);
        }
        out
    }

    /// Decodes an index body and checks that the blocks are in strict table
    /// order and tile `[0, data_end)` exactly, with no gap or overlap.
    pub(crate) fn decode(body: &[u8], data_end: u64) -> Result<Index, &'static str> {
        let mut c = Cursor::new(body);
        let count = c.u32().ok_or("index too short")? as usize;
        if count.saturating_mul(INDEX_ENTRY_FIXED_BYTES) > c.remaining() {
            return Err("index count larger than the index");
        }
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            entries.push(decode_entry(&mut c)?);
        }
        if c.remaining() != 0 {
            return Err("index has trailing bytes");
        }
        check_tiling(&entries, data_end)?;
        let prefixes = entries.iter().map(|e| key_prefix(&e.last_key)).collect();
        Ok(Index { entries, prefixes })
    }

    /// The blocks, in order.
    pub(crate) fn entries(&self) -> &[IndexEntry] {
        &self.entries
    }

    /// The first block that can hold (`key`, `seqno`) or a later entry:
    /// the first whose last entry is not before it.
    pub(crate) fn find(&self, key: &[u8], seqno: SeqNo) -> usize {
        let prefix = key_prefix(key);
        let (mut low, mut high) = (0, self.entries.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let before = match self.prefixes[mid].cmp(&prefix) {
                Ordering::Less => true,
                Ordering::Greater => false,
                Ordering::Equal => {
                    let e = &self.entries[mid];
                    cmp_internal(&e.last_key, e.last_seqno, key, seqno) == Ordering::Less
                }
            };
            if before {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }
}

fn decode_entry(c: &mut Cursor<'_>) -> Result<IndexEntry, &'static str> {
    let short = "index entry runs past the index";
    let key_len = usize::from(c.u16().ok_or(short)?);
    let last_key = c.take(key_len).ok_or(short)?.to_vec();
    let last_seqno = SeqNo(c.u64().ok_or(short)?);
    let handle = BlockHandle::decode(c).ok_or(short)?;
    Ok(IndexEntry { last_key, last_seqno, handle })
}

fn check_tiling(entries: &[IndexEntry], data_end: u64) -> Result<(), &'static str> {
    let mut expected_offset = 0u64;
    for (i, e) in entries.iter().enumerate() {
        if e.handle.offset != expected_offset || (e.handle.len as usize) <= FRAME_HEADER_BYTES {
            return Err("index block handles do not tile the data region");
        }
        expected_offset = e.handle.end().ok_or("index block handle past the end of any file")?;
        if let Some(prev) = i.checked_sub(1).map(|p| &entries[p]) {
            let order = cmp_internal(&prev.last_key, prev.last_seqno, &e.last_key, e.last_seqno);
            if order != Ordering::Less {
                return Err("index keys out of order");
            }
        }
    }
    if expected_offset != data_end {
        return Err("index block handles do not cover the data region");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &[u8], seqno: u64, offset: u64, len: u32) -> IndexEntry {
        IndexEntry { last_key: key.to_vec(), last_seqno: SeqNo(seqno), handle: BlockHandle { offset, len } }
    }

    #[test]
    fn round_trips_and_finds() {
        let entries = vec![entry(b"b", 5, 0, 100), entry(b"b", 3, 100, 50), entry(b"d", 1, 150, 30)];
        let idx = Index::decode(&Index::encode(&entries), 180).unwrap();
        assert_eq!(idx.entries(), entries.as_slice());
        assert_eq!(idx.find(b"a", SeqNo(0)), 0);
        assert_eq!(idx.find(b"b", SeqNo(4)), 1);
        assert_eq!(idx.find(b"c", SeqNo(9)), 2);
        assert_eq!(idx.find(b"e", SeqNo(9)), 3);
        assert!(Index::decode(&Index::encode(&entries), 181).is_err());
        let unordered = vec![entry(b"b", 3, 0, 100), entry(b"b", 5, 100, 50)];
        assert!(Index::decode(&Index::encode(&unordered), 150).is_err());
    }

    quickcheck::quickcheck! {
        /// The prefix-first search finds what a plain binary search over the
        /// whole keys finds, with keys crowded around shared prefixes and
        /// zero bytes (where padding could confuse it).
        fn find_agrees_with_a_plain_search(keys: Vec<(u8, u8, u8)>, probes: Vec<(u8, u8, u8, u8)>) -> bool {
            let key = |a: u8, b: u8, len: u8| {
                let mut k = vec![b'k'; (len % 12) as usize];
                if let Some(x) = k.get_mut(a as usize % 12) {
                    *x = b % 3;
                }
                k
            };
            let mut sorted: Vec<(Vec<u8>, u64)> = keys.iter().map(|&(a, b, len)| (key(a, b, len), u64::from(a % 4))).collect();
            sorted.sort_by(|x, y| cmp_internal(&x.0, SeqNo(x.1), &y.0, SeqNo(y.1)));
            sorted.dedup();
            let entries: Vec<IndexEntry> =
                sorted.iter().enumerate().map(|(i, (k, s))| entry(k, *s, i as u64 * 100, 100)).collect();
            let idx = Index::decode(&Index::encode(&entries), entries.len() as u64 * 100).unwrap();
            probes.iter().all(|&(a, b, len, s)| {
                let (k, s) = (key(a, b, len), SeqNo(u64::from(s % 5)));
                let plain = entries.partition_point(|e| cmp_internal(&e.last_key, e.last_seqno, &k, s) == Ordering::Less);
                idx.find(&k, s) == plain
            })
        }
    }
}
