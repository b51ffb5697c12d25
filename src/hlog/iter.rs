//! Iterators over a memtable in key order.

use std::collections::VecDeque;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use super::memtable::{Lookup, Memtable, ReadAt, Version};
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

/// Every version of every key of a frozen log: keys ascending, and for each
/// key seqnos descending.
#[derive(Debug)]
pub struct SortedIter {
    memtable: Arc<Memtable>,
    keys: KeyCursor,
    pending: VecDeque<SortedEntry>,
    versions: Vec<Version>,
}

impl SortedIter {
    pub(crate) fn new(memtable: Arc<Memtable>) -> SortedIter {
        SortedIter { memtable, keys: KeyCursor::new::<'static>(..), pending: VecDeque::new(), versions: Vec::new() }
    }
}

impl Iterator for SortedIter {
    type Item = SortedEntry;

    fn next(&mut self) -> Option<SortedEntry> {
        while self.pending.is_empty() {
            let (key, address) = self.keys.next(&self.memtable)?;
            self.versions.clear();
            self.memtable.versions(address, &mut self.versions);
            for v in self.versions.drain(..) {
                let kind = if v.kind == Kind::Value { EntryKind::Value } else { EntryKind::Tombstone };
                let seqno = SeqNo(v.seqno);
                self.pending.push_back(SortedEntry { key: key.clone(), seqno, kind, value: v.value });
            }
        }
        self.pending.pop_front()
    }
}
