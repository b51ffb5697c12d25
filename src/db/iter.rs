//! [`DbIter`]: ordered iteration over a consistent read point.

use std::ops::Bound;
use std::sync::Arc;

use super::Inner;
use super::merge::{MergeIter, Source};
use super::range::KeyBounds;
use crate::hlog::{Lookup, Snapshot as LogSnapshot};
use crate::table::{Entry, ValueKind};
use crate::version::Version;
use crate::{Result, SeqNo};

fn borrowed(bounds: &KeyBounds) -> (Bound<&[u8]>, Bound<&[u8]>) {
    (borrow(&bounds.0), borrow(&bounds.1))
}

fn borrow(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Keys and values in key order, as of the read point the iterator was
/// made at; yields `Result<(key, value)>`. Writes made after its creation
/// are not seen, and nothing it can see is overwritten in place while it
/// lives.
pub struct DbIter {
    inner: Arc<Inner>,
    read_point: Arc<LogSnapshot>,
    bounds: KeyBounds,
    merge: Option<MergeIter>,
    /// Pins the files the iterator reads: none is deleted while it lives.
    version: Option<Arc<Version>>,
    last_key: Option<Vec<u8>>,
    done: bool,
}

impl std::fmt::Debug for DbIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbIter").field("seqno", &self.read_point.seqno()).field("done", &self.done).finish()
    }
}

impl DbIter {
    pub(crate) fn new(inner: &Arc<Inner>, read_point: impl Into<Arc<LogSnapshot>>, bounds: KeyBounds) -> DbIter {
        DbIter {
            inner: Arc::clone(inner),
            read_point: read_point.into(),
            bounds,
            merge: None,
            version: None,
            last_key: None,
            done: false,
        }
    }

    /// The seqno this iterator reads at.
    pub fn seqno(&self) -> SeqNo {
        self.read_point.seqno()
    }

    fn sources(&mut self) -> Result<Vec<Source>> {
        let at = Some(self.read_point.seqno());
        let range = borrowed(&self.bounds);
        let mut sources: Vec<Source> = Vec::new();
        let version = {
            let s = self.inner.memtables();
            sources.push(memtable_source(self.inner.hlog.range(range, at)));
            for frozen in s.frozen.iter().rev() {
                sources.push(memtable_source(frozen.range(range, at)));
            }
            Arc::clone(&s.version)
        };
        self.version = Some(Arc::clone(&version));
        for (_, file) in version.tables() {
            if !overlaps(&self.bounds, &file.info.smallest_key, &file.info.largest_key) {
                continue;
            }
            let table = self.inner.table(file)?;
            let iter = match &self.bounds.0 {
                Bound::Included(k) | Bound::Excluded(k) => table.seek(k),
                Bound::Unbounded => table.iter(),
            };
            sources.push(Box::new(iter));
        }
        Ok(sources)
    }

    fn past_end(&self, key: &[u8]) -> bool {
        match &self.bounds.1 {
            Bound::Included(end) => key > end.as_slice(),
            Bound::Excluded(end) => key >= end.as_slice(),
            Bound::Unbounded => false,
        }
    }

    fn before_start(&self, key: &[u8]) -> bool {
        match &self.bounds.0 {
            Bound::Included(start) => key < start.as_slice(),
            Bound::Excluded(start) => key <= start.as_slice(),
            Bound::Unbounded => false,
        }
    }

    fn advance(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        if self.merge.is_none() {
            self.merge = Some(MergeIter::new(self.sources()?));
        }
        let seqno = self.read_point.seqno();
        while let Some(entry) = self.merge.as_mut().and_then(Iterator::next) {
            let entry = entry?;
            if entry.seqno > seqno || self.last_key.as_deref() == Some(entry.key.as_slice()) {
                continue;
            }
            if self.before_start(&entry.key) {
                continue;
            }
            if self.past_end(&entry.key) {
                return Ok(None);
            }
            // The key is kept to skip its older versions; the buffer is reused.
            let last_key = self.last_key.get_or_insert_with(Vec::new);
            last_key.clear();
            last_key.extend_from_slice(&entry.key);
            let Entry { key, kind, value, .. } = entry;
            let version = self.version.as_deref().expect("the sources pinned their version");
            if let Some(value) = self.inner.resolve_value(version, &key, kind, value)? {
                return Ok(Some((key, value)));
            }
        }
        Ok(None)
    }
}

impl Iterator for DbIter {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(kv)) => Some(Ok(kv)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

fn memtable_source(iter: crate::hlog::RangeIter) -> Source {
    Box::new(iter.map(|(key, found)| {
        Ok(match found {
            Lookup::Value { seqno, value } => Entry { key, seqno, kind: ValueKind::Value, value },
            Lookup::Tombstone { seqno } => Entry { key, seqno, kind: ValueKind::Tombstone, value: Vec::new() },
        })
    }))
}

fn overlaps(bounds: &KeyBounds, smallest: &[u8], largest: &[u8]) -> bool {
    let starts_before_end = match &bounds.1 {
        Bound::Included(end) => smallest <= end.as_slice(),
        Bound::Excluded(end) => smallest < end.as_slice(),
        Bound::Unbounded => true,
    };
    let ends_after_start = match &bounds.0 {
        Bound::Included(start) => largest >= start.as_slice(),
        Bound::Excluded(start) => largest > start.as_slice(),
        Bound::Unbounded => true,
    };
    starts_before_end && ends_after_start
}
