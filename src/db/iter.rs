//! [`DbIter`]: ordered iteration over a consistent read point, from either
//! end.

use std::iter::FusedIterator;
use std::ops::Bound;
use std::sync::Arc;

use super::Inner;
use super::level_iter::LevelIter;
use super::merge::{Backward, Forward, MergeIter, Order, Source};
use super::range::KeyBounds;
use crate::hlog::{Lookup, RangeIter, Snapshot as LogSnapshot};
use crate::table::{Entry, Table, ValueKind};
use crate::version::{TableFile, Version};
use crate::{Result, SeqNo};

/// Keys and values in key order, as of the read point the iterator was
/// made at; yields `Result<(key, value)>`. Writes made after its creation
/// are not seen, and nothing it can see is overwritten in place while it
/// lives.
///
/// Double-ended: `next_back` (and so `rev()`) walks from the end of the
/// range. The two ends may be mixed; each key is yielded once, by whichever
/// end reaches it first, and neither end passes the other.
///
/// ```
/// use std::sync::Arc;
/// use cairndb::Config;
/// use cairndb::fs::MemFs;
///
/// let db = Config::new("/data").fs(Arc::new(MemFs::new())).open()?;
/// for key in ["a", "b", "c", "d"] {
///     db.put(key, key.to_uppercase())?;
/// }
/// let newest_first: Vec<_> = db.iter().rev().map(|kv| kv.map(|(k, _)| k)).collect::<cairndb::Result<_>>()?;
/// assert_eq!(newest_first, [b"d", b"c", b"b", b"a"]);
/// let mut both_ends = db.range("b"..);
/// assert_eq!(both_ends.next_back().transpose()?, Some((b"d".to_vec(), b"D".to_vec())));
/// assert_eq!(both_ends.next().transpose()?, Some((b"b".to_vec(), b"B".to_vec())));
/// assert_eq!(both_ends.next().transpose()?, Some((b"c".to_vec(), b"C".to_vec())));
/// assert!(both_ends.next_back().is_none());
/// # Ok::<(), cairndb::Error>(())
/// ```
pub struct DbIter {
    inner: Arc<Inner>,
    read_point: Arc<LogSnapshot>,
    bounds: KeyBounds,
    front: Option<Walk<Forward>>,
    back: Option<Walk<Backward>>,
    /// The last key the front took (yielded, or found deleted): its older
    /// versions are skipped, and the back stops before it. The buffer is
    /// reused.
    front_key: Option<Vec<u8>>,
    /// The last key the back took: the front stops before it.
    back_key: Option<Vec<u8>>,
    /// The entry the back read past the versions of the key it took last.
    back_peeked: Option<Entry>,
    done: bool,
}

/// One end's merge of every source, opened on its first use.
struct Walk<O> {
    merge: MergeIter<O>,
    /// Pins the files the walk reads: none is deleted while it lives.
    version: Arc<Version>,
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
            front: None,
            back: None,
            front_key: None,
            back_key: None,
            back_peeked: None,
            done: false,
        }
    }

    /// The seqno this iterator reads at.
    pub fn seqno(&self) -> SeqNo {
        self.read_point.seqno()
    }

    /// The memtables' and the overlapping tables' entries in direction `D`,
    /// merged, with the version the tables belong to. Each level-0 table is
    /// a source of its own; each deeper level is one, its tables opened one
    /// at a time as the walk reaches them ([`LevelIter`]).
    fn walk<D: Direction>(&self) -> Walk<D> {
        let at = Some(self.read_point.seqno());
        let range = (borrow(&self.bounds.0), borrow(&self.bounds.1));
        let mut sources: Vec<Source> = Vec::new();
        let version = {
            let s = self.inner.memtables();
            sources.push(D::memtable(self.inner.hlog.range(range, at)));
            for frozen in s.frozen.iter().rev() {
                sources.push(D::memtable(frozen.range(range, at)));
            }
            Arc::clone(&s.version)
        };
        for (level, tables) in version.levels.iter().enumerate() {
            let overlapping =
                tables.iter().filter(|t| overlaps(&self.bounds, &t.info.smallest_key, &t.info.largest_key));
            let level_files: Vec<Arc<TableFile>> = overlapping.cloned().collect();
            let groups =
                if level == 0 { level_files.into_iter().map(|t| vec![t]).collect() } else { vec![level_files] };
            for mut files in groups {
                D::walk_order(&mut files);
                let bounds = self.bounds.clone();
                let source = LevelIter::new(&self.inner.readers, files, Box::new(move |t| D::table(t, &bounds)));
                sources.push(Box::new(source));
            }
        }
        Walk { merge: MergeIter::new(sources), version }
    }

    fn advance(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        if self.front.is_none() {
            self.front = Some(self.walk());
        }
        let front = self.front.as_mut().expect("opened above");
        let seqno = self.read_point.seqno();
        for entry in front.merge.by_ref() {
            let entry = entry?;
            if entry.seqno > seqno || self.front_key.as_deref() == Some(entry.key.as_slice()) {
                continue;
            }
            if before_start(&self.bounds, &entry.key) {
                continue;
            }
            if past_end(&self.bounds, &entry.key) || self.back_key.as_deref().is_some_and(|b| entry.key.as_slice() >= b)
            {
                return Ok(None);
            }
            remember(&mut self.front_key, &entry.key);
            let Entry { key, kind, value, .. } = entry;
            if let Some(value) = self.inner.resolve_value(&front.version, &key, kind, value)? {
                return Ok(Some((key, value)));
            }
        }
        Ok(None)
    }

    /// The step of `next_back`. Backwards a key's versions come oldest
    /// first, so the back reads all of them (and the first entry after,
    /// kept for the next step) and takes the newest the read point sees.
    fn advance_back(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        if self.back.is_none() {
            self.back = Some(self.walk());
        }
        let back = self.back.as_mut().expect("opened above");
        let seqno = self.read_point.seqno();
        loop {
            let Some(first) = self.back_peeked.take().map(Ok).or_else(|| back.merge.next()).transpose()? else {
                return Ok(None);
            };
            if before_start(&self.bounds, &first.key)
                || self.front_key.as_deref().is_some_and(|f| first.key.as_slice() <= f)
            {
                return Ok(None);
            }
            if past_end(&self.bounds, &first.key) {
                continue;
            }
            let Entry { key, seqno: first_seqno, kind, value } = first;
            let mut newest = (first_seqno <= seqno).then_some((kind, value));
            while let Some(entry) = back.merge.next().transpose()? {
                if entry.key != key {
                    self.back_peeked = Some(entry);
                    break;
                }
                if entry.seqno <= seqno {
                    newest = Some((entry.kind, entry.value));
                }
            }
            remember(&mut self.back_key, &key);
            if let Some((kind, value)) = newest
                && let Some(value) = self.inner.resolve_value(&back.version, &key, kind, value)?
            {
                return Ok(Some((key, value)));
            }
        }
    }

    /// Ends the iteration after `step` found nothing more or failed.
    fn finish(&mut self, step: Result<Option<(Vec<u8>, Vec<u8>)>>) -> Option<Result<(Vec<u8>, Vec<u8>)>> {
        if !matches!(step, Ok(Some(_))) {
            self.done = true;
        }
        step.transpose()
    }
}

impl Iterator for DbIter {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.advance();
        self.finish(step)
    }
}

impl DoubleEndedIterator for DbIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.advance_back();
        self.finish(step)
    }
}

/// After the end (or an error) it yields nothing, from either end.
impl FusedIterator for DbIter {}

/// How a walk in one direction reads the memtables and the tables.
trait Direction: Order + Sized + 'static {
    fn memtable(iter: RangeIter) -> Source;
    fn table(table: &Table, bounds: &KeyBounds) -> Source;
    /// Puts a level's tables, sorted by key, in the order the walk meets them.
    fn walk_order(files: &mut [Arc<TableFile>]);
}

impl Direction for Forward {
    fn memtable(iter: RangeIter) -> Source {
        memtable_source(iter)
    }

    fn walk_order(_: &mut [Arc<TableFile>]) {}

    fn table(table: &Table, bounds: &KeyBounds) -> Source {
        Box::new(match &bounds.0 {
            Bound::Included(k) | Bound::Excluded(k) => table.seek(k),
            Bound::Unbounded => table.iter(),
        })
    }
}

impl Direction for Backward {
    fn memtable(iter: RangeIter) -> Source {
        memtable_source(iter.rev())
    }

    fn walk_order(files: &mut [Arc<TableFile>]) {
        files.reverse();
    }

    fn table(table: &Table, bounds: &KeyBounds) -> Source {
        let mut iter = table.iter_rev();
        if let Bound::Included(k) | Bound::Excluded(k) = &bounds.1 {
            iter.seek_for_prev(k);
        }
        Box::new(iter)
    }
}

fn memtable_source(iter: impl Iterator<Item = (Vec<u8>, Lookup)> + Send + 'static) -> Source {
    Box::new(iter.map(|(key, found)| {
        Ok(match found {
            Lookup::Value { seqno, value } => Entry { key, seqno, kind: ValueKind::Value, value },
            Lookup::Tombstone { seqno } => Entry { key, seqno, kind: ValueKind::Tombstone, value: Vec::new() },
        })
    }))
}

/// Sets `slot` to `key`, reusing its buffer.
fn remember(slot: &mut Option<Vec<u8>>, key: &[u8]) {
    let last = slot.get_or_insert_with(Vec::new);
    last.clear();
    last.extend_from_slice(key);
}

fn borrow(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    bound.as_ref().map(Vec::as_slice)
}

fn past_end(bounds: &KeyBounds, key: &[u8]) -> bool {
    match &bounds.1 {
        Bound::Included(end) => key > end.as_slice(),
        Bound::Excluded(end) => key >= end.as_slice(),
        Bound::Unbounded => false,
    }
}

fn before_start(bounds: &KeyBounds, key: &[u8]) -> bool {
    match &bounds.0 {
        Bound::Included(start) => key < start.as_slice(),
        Bound::Excluded(start) => key <= start.as_slice(),
        Bound::Unbounded => false,
    }
}

fn overlaps(bounds: &KeyBounds, smallest: &[u8], largest: &[u8]) -> bool {
    !past_end(bounds, smallest) && !before_start(bounds, largest)
}
