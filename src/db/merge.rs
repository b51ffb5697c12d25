//! Merging sorted entry streams (memtables and tables) into one, in table
//! order (key ascending, then seqno descending) or its reverse.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;
use std::marker::PhantomData;

use crate::Result;
use crate::table::{Entry, cmp_internal};

/// A sorted source of entries.
pub(crate) type Source = Box<dyn Iterator<Item = Result<Entry>> + Send>;

/// The order a merge's sources are sorted in, and it yields.
pub(crate) trait Order {
    /// How `a` and `b` are ordered.
    fn cmp(a: &Entry, b: &Entry) -> Ordering;
}

/// Table order: key ascending, then seqno descending.
pub(crate) enum Forward {}

/// Reverse table order: key descending, then seqno ascending.
pub(crate) enum Backward {}

impl Order for Forward {
    fn cmp(a: &Entry, b: &Entry) -> Ordering {
        cmp_internal(&a.key, a.seqno, &b.key, b.seqno)
    }
}

impl Order for Backward {
    fn cmp(a: &Entry, b: &Entry) -> Ordering {
        cmp_internal(&b.key, b.seqno, &a.key, a.seqno)
    }
}

struct Head<O> {
    entry: Entry,
    source: usize,
    order: PhantomData<fn() -> O>,
}

impl<O: Order> PartialEq for Head<O> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<O: Order> Eq for Head<O> {}

impl<O: Order> PartialOrd for Head<O> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<O: Order> Ord for Head<O> {
    /// Reversed, so the max-heap pops the first entry in `O` first; earlier
    /// sources win ties.
    fn cmp(&self, other: &Self) -> Ordering {
        O::cmp(&self.entry, &other.entry).then(self.source.cmp(&other.source)).reverse()
    }
}

/// A k-way merge of sources sorted in order `O`. An error from any source
/// is returned once and ends the merge.
pub(crate) struct MergeIter<O> {
    sources: Vec<Source>,
    heap: BinaryHeap<Head<O>>,
    failed: bool,
    primed: bool,
}

impl<O: Order> MergeIter<O> {
    /// Merges `sources`; on equal (key, seqno) the earlier source comes first.
    pub(crate) fn new(sources: Vec<Source>) -> MergeIter<O> {
        MergeIter { heap: BinaryHeap::with_capacity(sources.len()), sources, failed: false, primed: false }
    }

    fn pull(&mut self, source: usize) -> Result<()> {
        if let Some(next) = self.sources[source].next() {
            self.heap.push(Head { entry: next?, source, order: PhantomData });
        }
        Ok(())
    }
}

impl<O: Order> Iterator for MergeIter<O> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        if self.failed {
            return None;
        }
        if !self.primed {
            self.primed = true;
            for source in 0..self.sources.len() {
                if let Err(e) = self.pull(source) {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        // The first head is replaced by its source's next entry in place
        // (one sift down) rather than popped and pushed (two).
        let mut top = self.heap.peek_mut()?;
        match self.sources[top.source].next() {
            Some(Ok(next)) => Some(Ok(std::mem::replace(&mut top.entry, next))),
            None => Some(Ok(PeekMut::pop(top).entry)),
            Some(Err(e)) => {
                drop(top);
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeqNo;
    use crate::table::ValueKind;

    fn entry(key: &str, seqno: u64) -> Entry {
        Entry { key: key.into(), seqno: SeqNo(seqno), kind: ValueKind::Value, value: Vec::new() }
    }

    fn source(entries: Vec<Entry>) -> Source {
        Box::new(entries.into_iter().map(Ok))
    }

    #[test]
    fn merges_in_table_order() {
        let a = source(vec![entry("a", 5), entry("c", 1)]);
        let b = source(vec![entry("a", 7), entry("b", 2), entry("c", 9)]);
        let merged: Vec<(String, u64)> = MergeIter::<Forward>::new(vec![a, b])
            .map(|e| e.unwrap())
            .map(|e| (String::from_utf8(e.key).unwrap(), e.seqno.0))
            .collect();
        assert_eq!(merged, [("a".into(), 7), ("a".into(), 5), ("b".into(), 2), ("c".into(), 9), ("c".into(), 1)]);
    }

    #[test]
    fn merges_in_reverse_table_order() {
        let a = source(vec![entry("c", 1), entry("a", 5)]);
        let b = source(vec![entry("c", 9), entry("b", 2), entry("a", 7)]);
        let merged: Vec<(String, u64)> = MergeIter::<Backward>::new(vec![a, b])
            .map(|e| e.unwrap())
            .map(|e| (String::from_utf8(e.key).unwrap(), e.seqno.0))
            .collect();
        assert_eq!(merged, [("c".into(), 1), ("c".into(), 9), ("b".into(), 2), ("a".into(), 5), ("a".into(), 7)]);
    }

    #[test]
    fn an_error_ends_the_merge() {
        let bad: Source =
            Box::new(vec![Ok(entry("a", 1)), Err(crate::Error::invalid("boom")), Ok(entry("z", 1))].into_iter());
        let results: Vec<_> = MergeIter::<Forward>::new(vec![bad, source(vec![entry("b", 1)])]).collect();
        assert!(results.iter().any(|r| r.is_err()));
        assert!(results.last().unwrap().is_err(), "nothing after the error");
    }
}
