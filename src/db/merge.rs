//! Merging sorted entry streams (memtables and tables) into one, in table
//! order: key ascending, then seqno descending.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;

use crate::Result;
use crate::table::{Entry, cmp_internal};

/// A sorted source of entries.
pub(crate) type Source = Box<dyn Iterator<Item = Result<Entry>> + Send>;

struct Head {
    entry: Entry,
    source: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    /// Reversed, so the max-heap pops the smallest entry first; earlier
    /// sources win ties.
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_internal(&self.entry.key, self.entry.seqno, &other.entry.key, other.entry.seqno)
            .then(self.source.cmp(&other.source))
            .reverse()
    }
}

/// A k-way merge of sorted sources. An error from any source is returned
/// once and ends the merge.
pub(crate) struct MergeIter {
    sources: Vec<Source>,
    heap: BinaryHeap<Head>,
    failed: bool,
    primed: bool,
}

impl MergeIter {
    /// Merges `sources`; on equal (key, seqno) the earlier source comes first.
    pub(crate) fn new(sources: Vec<Source>) -> MergeIter {
        MergeIter { heap: BinaryHeap::with_capacity(sources.len()), sources, failed: false, primed: false }
    }

    fn pull(&mut self, source: usize) -> Result<()> {
        if let Some(next) = self.sources[source].next() {
            self.heap.push(Head { entry: next?, source });
        }
        Ok(())
    }
}

impl Iterator for MergeIter {
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
        // The smallest head is replaced by its source's next entry in place
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
        let merged: Vec<(String, u64)> = MergeIter::new(vec![a, b])
            .map(|e| e.unwrap())
            .map(|e| (String::from_utf8(e.key).unwrap(), e.seqno.0))
            .collect();
        assert_eq!(merged, [("a".into(), 7), ("a".into(), 5), ("b".into(), 2), ("c".into(), 9), ("c".into(), 1)]);
    }

    #[test]
    fn an_error_ends_the_merge() {
        let bad: Source =
            Box::new(vec![Ok(entry("a", 1)), Err(crate::Error::invalid("boom")), Ok(entry("z", 1))].into_iter());
        let results: Vec<_> = MergeIter::new(vec![bad, source(vec![entry("b", 1)])]).collect();
        assert!(results.iter().any(|r| r.is_err()));
        assert!(results.last().unwrap().is_err(), "nothing after the error");
    }
}
