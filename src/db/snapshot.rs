//! [`Snapshot`]: a frozen read view of the database.

use std::sync::Arc;

use super::Inner;
use super::iter::DbIter;
use super::range::{KeyRange, prefix_bounds};
use crate::hlog::Snapshot as LogSnapshot;
use crate::{Result, SeqNo};

/// A consistent read view: every read through it sees exactly the writes
/// with seqno <= [`seqno`](Snapshot::seqno), whatever is written, flushed
/// or compacted meanwhile. While it lives, the versions it can see are kept
/// (no in-place update or compaction removes them); drop it promptly.
#[derive(Debug, Clone)]
pub struct Snapshot {
    inner: Arc<Inner>,
    read_point: Arc<LogSnapshot>,
}

impl Snapshot {
    pub(crate) fn new(inner: Arc<Inner>) -> Snapshot {
        let read_point = Arc::new(inner.snapshot());
        Snapshot { inner, read_point }
    }

    /// The seqno this snapshot reads at.
    pub fn seqno(&self) -> SeqNo {
        self.read_point.seqno()
    }

    /// The value of `key` in this snapshot.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        self.inner.get(key.as_ref(), Some(self.seqno()))
    }

    /// Whether `key` has a value in this snapshot (see [`Db::contains_key`](crate::Db::contains_key)).
    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        self.inner.contains_key(key.as_ref(), Some(self.seqno()))
    }

    /// The smallest key of this snapshot and its value, if any.
    pub fn first(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.iter().next().transpose()
    }

    /// The largest key of this snapshot and its value, if any.
    pub fn last(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.iter().next_back().transpose()
    }

    /// Every key and value in this snapshot, in key order; `rev()` for
    /// descending order.
    pub fn iter(&self) -> DbIter {
        self.range(..)
    }

    /// Keys and values in `range`, in key order (see [`KeyRange`]).
    pub fn range(&self, range: impl KeyRange) -> DbIter {
        DbIter::new(&self.inner, Arc::clone(&self.read_point), range.into_bounds())
    }

    /// Keys starting with `prefix`, in key order.
    pub fn prefix(&self, prefix: impl AsRef<[u8]>) -> DbIter {
        DbIter::new(&self.inner, Arc::clone(&self.read_point), prefix_bounds(prefix.as_ref()))
    }
}
