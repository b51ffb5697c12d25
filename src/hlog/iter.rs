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

/// Walks the index in key order, a chunk at a time, so writers are never
/// blocked for a whole scan.
#[derive(Debug)]
struct KeyCursor {
    next_from: Bound<Vec<u8>>,
    to: Bound<Vec<u8>>,
    chunk: VecDeque<(Vec<u8>, u64)>,
    done: bool,
}

impl KeyCursor {
    fn new<'a>(range: impl RangeBounds<&'a [u8]>) -> KeyCursor {
        KeyCursor {
            next_from: owned(range.start_bound().cloned()),
            to: owned(range.end_bound().cloned()),
            chunk: VecDeque::new(),
            done: false,
        }
    }

    fn next(&mut self, memtable: &Memtable) -> Option<(Vec<u8>, u64)> {
        if self.chunk.is_empty() && !self.done {
            let mut out = Vec::with_capacity(CHUNK_KEYS);
            let from = self.next_from.as_ref().map(Vec::as_slice);
            memtable.index_range(from, self.to.as_ref().map(Vec::as_slice), CHUNK_KEYS, &mut out);
            self.done = out.len() < CHUNK_KEYS;
            if let Some((last, _)) = out.last() {
                self.next_from = Bound::Excluded(last.clone());
            }
            self.chunk.extend(out);
        }
        self.chunk.pop_front()
    }
}

/// Keys in order with the version each has at the read point, tombstones
/// included (they hide older data below the memtable).
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
