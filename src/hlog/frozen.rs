//! [`FrozenLog`]: a memtable taken out of service by a freeze, on its way to
//! becoming tables.

use std::ops::{Range, RangeBounds};
use std::sync::Arc;

use super::iter::{RangeIter, SortedIter};
use super::memtable::{Lookup, Memtable, ReadAt};
use super::persist::PersistPoint;
use super::shared::Shared;
use crate::{LogAddress, Result, SeqNo};

/// A frozen memtable: immutable, readable until dropped (the database drops
/// it once its tables are installed), and the input of a flush.
#[derive(Debug)]
pub struct FrozenLog {
    shared: Arc<Shared>,
    memtable: Arc<Memtable>,
    commit_end: u64,
    seqno_cut: u64,
    next_base: u64,
}

impl FrozenLog {
    pub(crate) fn new(
        shared: Arc<Shared>,
        memtable: Arc<Memtable>,
        commit_end: u64,
        seqno_cut: u64,
        next_base: u64,
    ) -> FrozenLog {
        FrozenLog { shared, memtable, commit_end, seqno_cut, next_base }
    }

    /// The version of `key` at `at` (`None`: the newest), or `None` when
    /// this log has none. Exact at any seqno: nothing changes in place here.
    pub fn get(&self, key: &[u8], at: Option<SeqNo>) -> Option<Lookup> {
        self.memtable.get(key, ReadAt::Exact(at.map_or(u64::MAX, |s| s.0)))
    }

    /// Keys in `range`, in order, with their version at `at`; tombstones included.
    pub fn range<'a>(&self, range: impl RangeBounds<&'a [u8]>, at: Option<SeqNo>) -> RangeIter {
        let at = ReadAt::Exact(at.map_or(u64::MAX, |s| s.0));
        RangeIter::new(Arc::clone(&self.memtable), range, at, None)
    }

    /// Every version of every key: keys ascending, seqnos descending within
    /// a key, with kinds. (Versions replaced in place are not listed: no
    /// snapshot could see them when they were replaced.)
    pub fn iter_sorted(&self) -> SortedIter {
        SortedIter::new(Arc::clone(&self.memtable))
    }

    /// The freeze cut: every write with seqno <= this is here or in an
    /// older log, every later write in a newer log.
    pub fn seqno_cut(&self) -> SeqNo {
        SeqNo(self.seqno_cut)
    }

    /// Smallest and largest seqno of the records held, if any.
    pub fn seqno_range(&self) -> Option<(SeqNo, SeqNo)> {
        self.memtable.seqno_range().map(|(a, b)| (SeqNo(a), SeqNo(b)))
    }

    /// The addresses this log covers. `end` is where the next log begins:
    /// once this log is in tables, recovery replays from `end`
    /// ([`ReplayFrom::address`](super::ReplayFrom::address)).
    pub fn address_range(&self) -> Range<LogAddress> {
        LogAddress(self.memtable.base())..LogAddress(self.next_base)
    }

    /// Makes this log's whole content durable (and anything older).
    /// Afterwards its records lie in sealed segments below
    /// `PersistPoint::end`. Errors as [`HybridLog::persist`](super::HybridLog::persist).
    pub fn persist(&self) -> Result<PersistPoint> {
        self.shared.durable().flush_to(self.commit_end)
    }

    /// Bytes of log this memtable holds.
    pub fn size_bytes(&self) -> u64 {
        self.memtable.tail() - self.memtable.base()
    }

    /// Distinct keys held.
    pub fn key_count(&self) -> usize {
        self.memtable.key_count()
    }
}
