//! Iterators over a memtable in key order.

use std::collections::VecDeque;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use super::memtable::{Lookup, Memtable, ReadAt, SortedVersions};
use super::record::Kind;
use super::snapshot::Snapshot;
use crate::SeqNo;

/// Keys fetched from the index per lock acquisition.
const CHUNK_KEYS: usize = 64;

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    bound.map(<[u8]>::to_vec)
}

/// Walks the index in key order from either end, a chunk at a time, so
/// writers are never blocked for a whole scan.
///
/// The keys not fetched yet lie in the gap between `low` and `high`; the
/// front fetches from the gap's low end into `front` (ascending), the back
/// from its high end into `back` (descending). Once the gap is used up,
/// each end goes on into the other's chunk from its far side, so every key
/// is taken once and the two ends never pass each other.
#[derive(Debug)]
struct KeyCursor {
    low: Bound<Vec<u8>>,
    high: Bound<Vec<u8>>,
    front: VecDeque<(Vec<u8>, u64)>,
    back: VecDeque<(Vec<u8>, u64)>,
    gap_fetched: bool,
}

impl KeyCursor {
    fn new<'a>(range: impl RangeBounds<&'a [u8]>) -> KeyCursor {
        KeyCursor {
            low: owned(range.start_bound().cloned()),
            high: owned(range.end_bound().cloned()),
            front: VecDeque::new(),
            back: VecDeque::new(),
            gap_fetched: false,
        }
    }

    fn next(&mut self, memtable: &Memtable) -> Option<(Vec<u8>, u64)> {
        if self.front.is_empty() {
            self.fetch(memtable, false);
        }
        self.front.pop_front().or_else(|| self.back.pop_back())
    }

    fn next_back(&mut self, memtable: &Memtable) -> Option<(Vec<u8>, u64)> {
        if self.back.is_empty() {
            self.fetch(memtable, true);
        }
        self.back.pop_front().or_else(|| self.front.pop_back())
    }

    /// Moves the next chunk of the gap, from its low end or (`descending`)
    /// its high end, into that end's chunk.
    fn fetch(&mut self, memtable: &Memtable, descending: bool) {
        if self.gap_fetched {
            return;
        }
        let mut out = Vec::with_capacity(CHUNK_KEYS);
        let (low, high) = (self.low.as_ref().map(Vec::as_slice), self.high.as_ref().map(Vec::as_slice));
        memtable.index_range(low, high, CHUNK_KEYS, descending, &mut out);
        self.gap_fetched = out.len() < CHUNK_KEYS;
        let (edge, chunk) =
            if descending { (&mut self.high, &mut self.back) } else { (&mut self.low, &mut self.front) };
        if let Some((last, _)) = out.last() {
            *edge = Bound::Excluded(last.clone());
        }
        chunk.extend(out);
    }
}

/// Keys in order with the version each has at the read point, tombstones
/// included (they hide older data below the memtable). Double-ended:
/// `next_back` (or `rev()`) walks from the end of the range.
///
/// Reading at a registered snapshot (or in a frozen log) gives an exact
/// view; reading at "latest" gives each key's newest complete write at the
/// moment it is visited.
#[derive(Debug)]
pub struct RangeIter {
    memtable: Arc<Memtable>,
    at: ReadAt,
    keys: KeyCursor,
    _snapshot: Option<Snapshot>,
}

impl RangeIter {
    pub(crate) fn new<'a>(
        memtable: Arc<Memtable>,
        range: impl RangeBounds<&'a [u8]>,
        at: ReadAt,
        snapshot: Option<Snapshot>,
    ) -> RangeIter {
        RangeIter { memtable, at, keys: KeyCursor::new(range), _snapshot: snapshot }
    }
}

impl Iterator for RangeIter {
    type Item = (Vec<u8>, Lookup);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (key, address) = self.keys.next(&self.memtable)?;
            if let Some(found) = self.memtable.read_chain(address, self.at) {
                return Some((key, found));
            }
        }
    }
}

/// Keys in descending order from the end of the range; mixed with `next`,
/// each key is yielded once, by whichever end reaches it first.
impl DoubleEndedIterator for RangeIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        loop {
            let (key, address) = self.keys.next_back(&self.memtable)?;
            if let Some(found) = self.memtable.read_chain(address, self.at) {
                return Some((key, found));
            }
        }
    }
}

/// Whether an entry is a value or a deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A put.
    Value,
    /// A delete.
    Tombstone,
}

/// One version of one key, as a table writer consumes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortedEntry {
    /// The key.
    pub key: Vec<u8>,
    /// The version's seqno.
    pub seqno: SeqNo,
    /// Put or delete.
    pub kind: EntryKind,
    /// The value (empty for a tombstone).
    pub value: Vec<u8>,
}

/// Versions read ahead per batch; see [`SortedIter::fill`].
const BATCH: usize = 32;

/// Every version of every key of a frozen log: keys ascending, and for each
/// key seqnos descending. The first call to `next` sorts the whole log.
#[derive(Debug)]
pub struct SortedIter {
    memtable: Arc<Memtable>,
    sorted: Option<SortedVersions>,
    next: usize,
    ready: VecDeque<SortedEntry>,
}

impl SortedIter {
    pub(crate) fn new(memtable: Arc<Memtable>) -> SortedIter {
        SortedIter { memtable, sorted: None, next: 0, ready: VecDeque::with_capacity(BATCH) }
    }

    /// Reads the next batch of versions. In key order the records lie at
    /// random places in the pages, so each is a cache (and TLB) miss: the
    /// batch touches all its records (and keys) first, with loads
    /// independent of each other that the CPU overlaps, and copies them
    /// afterwards.
    fn fill(&mut self) {
        let memtable = &*self.memtable;
        let sorted = self.sorted.get_or_insert_with(|| memtable.sorted_versions());
        let batch = self.next..(self.next + BATCH).min(sorted.len());
        let mut lengths = [0u64; BATCH];
        let mut key_bytes = [0u8; BATCH];
        for ((slot, key_byte), i) in lengths.iter_mut().zip(&mut key_bytes).zip(batch.clone()) {
            let v = sorted.get(i).expect("in range");
            if v.kind == Kind::Value {
                *slot = memtable.frozen_lengths(v.address);
            }
            *key_byte = sorted.key(v).last().copied().unwrap_or(0);
        }
        // The key bytes were loaded only to bring them into the cache.
        std::hint::black_box(key_bytes);
        for (&lengths, i) in lengths.iter().zip(batch.clone()) {
            let v = sorted.get(i).expect("in range");
            let (kind, value) = match v.kind {
                Kind::Value => (EntryKind::Value, memtable.frozen_value(v.address, lengths)),
                _ => (EntryKind::Tombstone, Vec::new()),
            };
            self.ready.push_back(SortedEntry { key: sorted.key(v).to_vec(), seqno: SeqNo(v.seqno), kind, value });
        }
        self.next = batch.end;
    }
}

impl Iterator for SortedIter {
    type Item = SortedEntry;

    fn next(&mut self) -> Option<SortedEntry> {
        if self.ready.is_empty() {
            self.fill();
        }
        self.ready.pop_front()
    }
}
