//! [`HybridLog`]: the active memtable, seqno assignment, persist and freeze.

use std::ops::RangeBounds;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use super::config::{Appended, HlogConfig, HlogStats, LogAddresses, Op};
use super::frozen::FrozenLog;
use super::hash_index::HashIndex;
use super::iter::RangeIter;
use super::memtable::{Cursor, Lookup, Memtable, ReadAt};
use super::page::Page;
use super::persist::{IoState, PersistPoint, Poison, WrittenPoint, lock};
use super::record::{self, FLAG_BATCH, KEY_BYTES_MAX, VALUE_BYTES_MAX};
use super::recovery::{RecoveryReport, ReplayFrom, Tail, recover};
use super::room::{self, Fit};
use super::segment::{self, SegmentInfo};
use super::shared::{EXPECTED_RECORD_BYTES, SegmentCursor, Shared, WriterState, plan_page};
use super::snapshot::Snapshot;
use crate::fs::Fs;
use crate::sync::RwLockExt;
use crate::{Error, LogAddress, Result, SeqNo};

/// The hybrid-log memtable: where every write lands, and (its durable
/// prefix) the write-ahead log.
///
/// - Writes are atomic batches ([`write`](Self::write)); the log assigns
///   seqnos, one per operation, consecutive within a batch.
/// - Reads see whole batches or nothing, and never a torn value.
/// - An overwrite of a key whose newest record is in the mutable region
///   (written since the last persist), with a value that fits, is done in
///   place when no live [`Snapshot`] could see the old version.
/// - [`persist`](Self::persist) makes every acknowledged write durable with
///   one group commit; [`freeze`](Self::freeze) hands the memtable to a flush
///   and starts a fresh one in O(1).
///
/// All methods take `&self` and may be called from any thread.
#[derive(Debug)]
pub struct HybridLog {
    shared: Arc<Shared>,
}

/// Persists every `interval` while the log lives and is not poisoned.
fn spawn_background_persist(shared: Weak<Shared>, interval: Duration) -> Result<()> {
    let spawned = std::thread::Builder::new().name("cairndb-hlog-persist".into()).spawn(move || {
        loop {
            std::thread::sleep(interval);
            let Some(shared) = shared.upgrade() else { return };
            if let Err(e) = shared.persist() {
                log::warn!("background persist failed, the log is poisoned: {e}");
                return;
            }
        }
    });
    spawned.map(drop).map_err(|e| Error::io("spawn the background persist thread for", "log", e))
}

impl HybridLog {
    /// Opens the log in `log_dir` (created if missing), replaying the
    /// segments from `replay.address` into the memtable.
    ///
    /// Restores exactly the writes covered by the last valid commit record;
    /// a torn tail after it (an interrupted persist) is dropped and cut from
    /// the files. Anything else a crash cannot leave is
    /// [`Error::Corruption`] (`docs/FORMAT.md`, "Recovery"). New writes go
    /// to a new segment.
    pub fn open(
        fs: Arc<dyn Fs>,
        log_dir: &Path,
        config: HlogConfig,
        replay: ReplayFrom,
    ) -> Result<(HybridLog, RecoveryReport)> {
        Self::open_with(fs, log_dir, config, replay, Tail::CutTorn)
    }

    /// [`open`](Self::open) with a choice of what a torn tail is: for a
    /// copy (a checkpoint, a restored backup), whose log ends at a commit
    /// when made, it is damage, and nothing is cut.
    pub(crate) fn open_with(
        fs: Arc<dyn Fs>,
        log_dir: &Path,
        config: HlogConfig,
        replay: ReplayFrom,
        tail: Tail,
    ) -> Result<(HybridLog, RecoveryReport)> {
        if config.page_size_bytes < 4096 || !config.page_size_bytes.is_multiple_of(8) {
            return Err(Error::invalid("page_size_bytes must be a multiple of 8 of at least 4096"));
        }
        let expected_keys = (config.memtable_size_bytes / EXPECTED_RECORD_BYTES) as usize;
        let page_size = u64::from(config.page_size_bytes);
        let recovered = recover(&*fs, log_dir, page_size, expected_keys, replay, config.read_only, tail)?;
        let memtable = recovered.memtable;
        let shared = Shared {
            fs,
            log_dir: log_dir.to_path_buf(),
            page_size: recovered.page_size,
            segment_size_bytes: config.segment_size_bytes,
            expected_keys,
            writer: Mutex::new(WriterState {
                active: Arc::clone(&memtable),
                cursor: Cursor::new(recovered.next_address),
                last_seqno: recovered.last_seqno,
                segment: SegmentCursor { bytes: 0, start_new: true },
                last_commit_us: recovered.last_commit_us,
            }),
            active: RwLock::new(memtable),
            visible: AtomicU64::new(recovered.last_seqno),
            snapshots: Arc::default(),
            written_end: AtomicU64::new(recovered.plan.written_end),
            durable_end: AtomicU64::new(recovered.plan.durable_end),
            plan: Mutex::new(recovered.plan),
            io: Mutex::new(IoState::at(recovered.next_address)),
            poison: Poison::default(),
            counters: Default::default(),
            leadership: Default::default(),
            read_only: config.read_only,
        };
        let shared = Arc::new(shared);
        if config.persist_interval_ms > 0 && !config.read_only {
            spawn_background_persist(Arc::downgrade(&shared), Duration::from_millis(config.persist_interval_ms))?;
        }
        Ok((HybridLog { shared }, recovered.report))
    }

    /// Applies `batch` atomically and returns the seqno of its last
    /// operation (the current seqno for an empty batch).
    ///
    /// Atomic for readers (no read point sees part of it) and for recovery
    /// (a persist covers all of it or none of it). Not durable until a later
    /// [`persist`](Self::persist) returns. Fails with
    /// [`Error::Poisoned`] after a failed log write or fsync, with
    /// [`Error::ReadOnly`] when the log was opened read-only, and with
    /// [`Error::InvalidArgument`] for an oversized key or value, a batch
    /// larger than any memtable can hold, one the active memtable has no
    /// room left for (freeze, then write it again: see
    /// [`try_write`](Self::try_write)), or one that would pass the end of
    /// the log's address space ([`record::ADDRESS_LIMIT`]).
    pub fn write(&self, batch: &[Op<'_>]) -> Result<SeqNo> {
        self.try_write(batch, None)?.or_full()
    }

    /// Writes `batch` as [`write`](Self::write) does, its first operation
    /// taking seqno `first` (the seqnos before it, from the last one
    /// written, are skipped): replaying a log shipped elsewhere, so that
    /// every write keeps its seqno. `first` at or below the last seqno
    /// written is an `InvalidArgument` error.
    pub fn write_at(&self, first: SeqNo, batch: &[Op<'_>]) -> Result<SeqNo> {
        self.try_write(batch, Some(first))?.or_full()
    }

    /// Moves the last seqno written to `seqno` if it is below (a replay
    /// ending at a commit whose own seqno no record kept).
    pub fn advance_seqno_to(&self, seqno: SeqNo) {
        let mut w = lock(&self.shared.writer);
        if w.last_seqno < seqno.0 {
            w.last_seqno = seqno.0;
            self.shared.visible.store(seqno.0, Ordering::Release);
        }
    }

    /// Writes `batch` as [`write`](Self::write) does (from seqno `first`
    /// as [`write_at`](Self::write_at) does, when given), or reports
    /// [`Appended::NeedsFreeze`], writing nothing, when the active memtable
    /// has no room left for it but an empty one has: the caller freezes
    /// and writes it again.
    pub fn try_write(&self, batch: &[Op<'_>], first: Option<SeqNo>) -> Result<Appended> {
        self.refuse_if_read_only()?;
        for op in batch {
            let (key, (_, value)) = (op.key(), op.kind_and_value());
            if key.len() > KEY_BYTES_MAX || value.len() > VALUE_BYTES_MAX {
                return Err(Error::invalid(format!(
                    "key of {} bytes or value of {} bytes exceeds the limits ({KEY_BYTES_MAX}, {VALUE_BYTES_MAX})",
                    key.len(),
                    value.len()
                )));
            }
        }
        let shared = &*self.shared;
        let mut guard = lock(&shared.writer);
        shared.poison.check()?;
        let w = &mut *guard;
        if let Some(first) = first
            && first.0 <= w.last_seqno
        {
            return Err(Error::invalid(format!(
                "a replayed write at seqno {first} does not follow the last one written, {}",
                w.last_seqno
            )));
        }
        // Decided before anything changes: a batch goes in whole or not at all.
        let lens = || batch.iter().map(|op| record::record_len_for(op.key().len(), op.kind_and_value().1.len()) as u64);
        match room::fit(w.active.base(), w.cursor.place(), lens, shared.page_size) {
            Fit::Here => {}
            Fit::AfterFreeze => return Ok(Appended::NeedsFreeze),
            Fit::Never { bytes } => return Err(too_large(batch.len(), bytes, shared.page_size)),
            Fit::PastAddressLimit => return Err(past_address_limit(w.cursor.tail())),
        }
        if let Some(first) = first {
            w.last_seqno = first.0 - 1;
        }
        let (single, flags) = if batch.len() == 1 { (true, 0) } else { (false, FLAG_BATCH) };
        let max_live = shared.snapshots.max_live();
        for op in batch {
            w.last_seqno += 1;
            let (key, (kind, value)) = (op.key(), op.kind_and_value());
            let hash = Memtable::hash(key);
            let head = w.active.head(hash, key);
            if single
                && let Some(head) = head.address()
                && w.active.update_in_place(head, w.last_seqno, kind, value, max_live)
            {
                continue;
            }
            let WriterState { active, cursor, last_seqno, segment, .. } = w;
            let mut on_page = |p: &Arc<Page>| plan_page(&shared.plan, segment, shared.segment_size_bytes, active, p);
            active.append_key_record(cursor, *last_seqno, kind, flags, key, value, (hash, head), &mut on_page);
        }
        shared.visible.store(w.last_seqno, Ordering::Release);
        Ok(Appended::Batch(SeqNo(w.last_seqno)))
    }

    /// Writes `batch` and persists it: when this returns `Ok`, the batch
    /// (and every write acknowledged before it) survives any crash.
    pub fn write_sync(&self, batch: &[Op<'_>]) -> Result<SeqNo> {
        let seqno = self.write(batch)?;
        self.persist()?;
        Ok(seqno)
    }

    /// Sets `key` to `value` (a one-operation batch).
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<SeqNo> {
        self.write(&[Op::Put { key, value }])
    }

    /// Deletes `key` (a one-operation batch).
    pub fn delete(&self, key: &[u8]) -> Result<SeqNo> {
        self.write(&[Op::Delete { key }])
    }

    /// The version of `key` in the active memtable at `at`, or `None` when
    /// the memtable has none (look further down).
    ///
    /// `at: Some(S)` returns exactly the newest version with seqno <= S; S
    /// must be held by a live [`Snapshot`] (or be the current
    /// [`visible_seqno`](Self::visible_seqno) with no writer running), else
    /// an in-place update may have replaced that version. `at: None` returns
    /// the newest wholly applied write.
    pub fn get(&self, key: &[u8], at: Option<SeqNo>) -> Option<Lookup> {
        let active = self.shared.active.read_locked();
        active.get(key, self.read_at(at))
    }

    fn read_at(&self, at: Option<SeqNo>) -> ReadAt {
        match at {
            Some(s) => ReadAt::Exact(s.0),
            None => ReadAt::Latest(self.shared.visible.load(Ordering::Acquire)),
        }
    }

    /// Keys of the active memtable in `range`, in order, each with its
    /// version at `at` (same rules as [`get`](Self::get)); tombstones
    /// included. For an exact view, pass a snapshot's seqno, or use
    /// [`range_at_snapshot`](Self::range_at_snapshot).
    pub fn range<'a>(&self, range: impl RangeBounds<&'a [u8]>, at: Option<SeqNo>) -> RangeIter {
        RangeIter::new(self.active_memtable(), range, self.read_at(at), None)
    }

    /// Like [`range`](Self::range) at a snapshot the iterator holds itself:
    /// an exact view at the current seqno for as long as it lives.
    pub fn range_at_snapshot<'a>(&self, range: impl RangeBounds<&'a [u8]>) -> RangeIter {
        let snapshot = self.snapshot();
        let at = ReadAt::Exact(snapshot.seqno().0);
        RangeIter::new(self.active_memtable(), range, at, Some(snapshot))
    }

    fn active_memtable(&self) -> Arc<Memtable> {
        Arc::clone(&self.shared.active.read_locked())
    }

    /// Registers a snapshot at the current seqno: every version it can see
    /// stays readable while it lives (in-place updates spare them).
    pub fn snapshot(&self) -> Snapshot {
        // Under the writer mutex, so no in-place update races the choice.
        let w = lock(&self.shared.writer);
        self.shared.snapshots.register(w.last_seqno)
    }

    /// The newest seqno whose batch is wholly visible.
    pub fn visible_seqno(&self) -> SeqNo {
        SeqNo(self.shared.visible.load(Ordering::Acquire))
    }

    /// Makes every write acknowledged so far durable: moves `read_only` to
    /// the tail with a commit record, writes all committed log bytes not yet
    /// on disk, and fsyncs (one fsync per segment touched, usually one).
    /// Concurrent callers share the work (group commit).
    ///
    /// On `Ok(point)`, every write with seqno <= `point.seqno` (at least all
    /// writes acknowledged before the call) survives any crash. On a write
    /// or fsync error the log is poisoned: this and every later write or
    /// persist fail with [`Error::Poisoned`]. A log opened read-only fails
    /// with [`Error::ReadOnly`].
    pub fn persist(&self) -> Result<PersistPoint> {
        self.refuse_if_read_only()?;
        self.shared.persist()
    }

    /// Hands every write acknowledged so far to the file system, without
    /// an fsync: reserves a commit record at the tail (as
    /// [`persist`](Self::persist) does) and writes all committed log bytes
    /// not yet written. Concurrent callers share the work (group commit).
    ///
    /// On `Ok(point)`, every write with seqno <= `point.seqno` survives
    /// the death of this process (a reopen recovers it), but not a crash
    /// of the operating system or a power cut: for that, a later
    /// `persist` must cover it. Errors as `persist`.
    pub fn write_out(&self) -> Result<WrittenPoint> {
        self.refuse_if_read_only()?;
        self.shared.write_out()
    }

    fn refuse_if_read_only(&self) -> Result<()> {
        if self.shared.read_only {
            return Err(Error::ReadOnly { path: self.shared.log_dir.clone() });
        }
        Ok(())
    }

    /// The newest durable (fsynced) commit.
    pub fn durable_point(&self) -> PersistPoint {
        lock(&self.shared.plan).durable_point()
    }

    /// The newest commit handed to the file system, fsynced or not: at or
    /// past [`durable_point`](Self::durable_point).
    pub fn written_point(&self) -> WrittenPoint {
        lock(&self.shared.plan).written_point()
    }

    /// The newest durable commit and the segments holding the log, read
    /// together: every durable byte below the point lies in one of them.
    pub fn durable_log(&self) -> (PersistPoint, Vec<SegmentInfo>) {
        let plan = lock(&self.shared.plan);
        (plan.durable_point(), plan.infos(&self.shared.log_dir))
    }

    /// The page size of the log's memtables and segments.
    pub fn page_size_bytes(&self) -> u64 {
        self.shared.page_size
    }

    /// Freezes the active memtable and starts a fresh one, in O(1) (no I/O,
    /// no copying); writers continue on the fresh one at once.
    ///
    /// A cut in seqno order: every write with seqno <= the frozen log's
    /// [`seqno_cut`](FrozenLog::seqno_cut) is in the frozen log, every later
    /// one in the fresh log. The frozen log's records become immutable; call
    /// [`FrozenLog::persist`] before relying on them being durable.
    pub fn freeze(&self) -> FrozenLog {
        let shared = &*self.shared;
        // Sized before the writer mutex is taken: writers do not wait for it.
        let hashed = HashIndex::with_capacity(shared.expected_keys);
        let mut w = lock(&shared.writer);
        let commit_end = shared.reserve_commit(&mut w);
        let old = Arc::clone(&w.active);
        let tail = w.cursor.tail();
        old.set_end(tail);
        old.set_read_only(tail);
        let next_base = tail.next_multiple_of(shared.page_size);
        let fresh = Arc::new(Memtable::new(next_base, shared.page_size, hashed));
        if let Some(last) = lock(&shared.plan).segments.last_mut() {
            last.limit = last.limit.min(next_base);
        }
        w.cursor = Cursor::new(next_base);
        w.segment = SegmentCursor { bytes: 0, start_new: true };
        w.active = Arc::clone(&fresh);
        *shared.active.write_locked() = fresh;
        FrozenLog::new(Arc::clone(&self.shared), old, commit_end, w.last_seqno, next_base)
    }

    /// Bytes of log the active memtable holds (records, padding, commit
    /// records): compare with the memtable budget to decide on a freeze.
    pub fn size_bytes(&self) -> u64 {
        let active = self.shared.active.read_locked();
        active.tail() - active.base()
    }

    /// The active memtable's address bounds.
    pub fn addresses(&self) -> LogAddresses {
        let active = self.active_memtable();
        LogAddresses {
            begin: LogAddress(active.base()),
            head: LogAddress(active.base()),
            read_only: LogAddress(active.read_only()),
            tail: LogAddress(active.tail()),
        }
    }

    /// Counters of the active memtable.
    pub fn stats(&self) -> HlogStats {
        let active = self.active_memtable();
        HlogStats {
            in_place_updates: active.in_place_updates(),
            key_count: active.key_count(),
            record_bytes: active.record_bytes(),
            live_snapshots: self.shared.snapshots.count(),
            persist_calls: self.shared.counters.persist_calls.load(Ordering::Relaxed),
            persist_runs: self.shared.counters.persist_runs.load(Ordering::Relaxed),
            write_out_calls: self.shared.counters.write_out_calls.load(Ordering::Relaxed),
            write_out_runs: self.shared.counters.write_out_runs.load(Ordering::Relaxed),
        }
    }

    /// The segment files the log knows, in address order, with the address
    /// range each holds durably. A checkpoint copies `durable_len_bytes` of
    /// each (or links it when `sealed`) up to a [`PersistPoint::end`].
    pub fn segments(&self) -> Vec<SegmentInfo> {
        lock(&self.shared.plan).infos(&self.shared.log_dir)
    }

    /// Deletes the segments that hold only addresses below `address` (the
    /// first log address not yet in tables); returns their numbers. See
    /// [`SegmentRemoval::below`].
    pub fn remove_segments_below(&self, address: LogAddress) -> Result<Vec<u64>> {
        self.segment_removal().below(address)
    }

    /// Waits for a persist in progress and holds off new ones until the
    /// returned guard removes segments or drops, so no persist writes a
    /// file being removed. Taking it before a lock that must not wait for
    /// a disk (the deleter's) keeps that lock clear of the fsync.
    pub fn segment_removal(&self) -> SegmentRemoval<'_> {
        SegmentRemoval { shared: &self.shared, io: lock(&self.shared.io) }
    }

    /// The seqnos of live snapshots, ascending: what a flush or compaction
    /// must keep readable.
    pub fn live_snapshots(&self) -> Vec<SeqNo> {
        self.shared.snapshots.seqnos()
    }

    /// True after a failed log write or fsync.
    pub fn is_poisoned(&self) -> bool {
        self.shared.poison.check().is_err()
    }

    /// What poisoned the log, if anything did.
    pub fn poison_cause(&self) -> Option<String> {
        match self.shared.poison.check() {
            Ok(()) => None,
            Err(Error::Poisoned { cause }) => Some(cause),
            Err(other) => Some(other.to_string()),
        }
    }
}

/// The error for a batch no memtable can hold: it needs `bytes` of log
/// (its records, what page switches leave unused, and the commit record
/// after it) from a page boundary, more than a memtable spans.
fn too_large(ops: usize, bytes: u64, page_size: u64) -> Error {
    let span = room::span_bytes_max(page_size);
    Error::invalid(format!(
        "a batch of {ops} operations needs {bytes} bytes of log, more than a memtable can hold: {span} bytes \
         ({} pages of {page_size} bytes); split it into smaller batches",
        span / page_size
    ))
}

/// The error for a write past the end of the log's address space.
fn past_address_limit(tail: u64) -> Error {
    Error::invalid(format!(
        "the log's address space is used up: the log is at address {tail}, and its addresses end at {} (2^63); \
         no more writes fit",
        record::ADDRESS_LIMIT
    ))
}

/// The log's persists held off, to remove obsolete segments; from
/// [`HybridLog::segment_removal`].
#[must_use = "holding it only blocks persists; call `below`"]
pub struct SegmentRemoval<'a> {
    shared: &'a Shared,
    io: MutexGuard<'a, IoState>,
}

impl std::fmt::Debug for SegmentRemoval<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentRemoval").finish_non_exhaustive()
    }
}

impl SegmentRemoval<'_> {
    /// Deletes the segments that hold only addresses below `address`;
    /// returns their numbers.
    ///
    /// Such a segment's records are in tables, so it goes whether or not
    /// it was ever persisted: a frozen log flushed before the persister
    /// reached it is dropped from the plan (with its memtable) instead of
    /// being written out for nothing. The directory is not fsynced: a
    /// crash may bring them back, and recovery then ignores them.
    pub fn below(mut self, address: LogAddress) -> Result<Vec<u64>> {
        let shared = self.shared;
        let mut plan = lock(&shared.plan);
        let mut removed = Vec::new();
        while let Some(first) = plan.segments.first() {
            // `limit` is where the next segment starts: every address the
            // segment can ever hold lies below it.
            if first.limit > address.0 {
                break;
            }
            let number = first.number;
            self.io.forget(number);
            match shared.fs.remove_file(&segment::path(&shared.log_dir, number)) {
                Ok(()) => {}
                // Never persisted: the file was never created.
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    // Its records are in tables: it is never written again
                    // (a persist would otherwise find its unwritten tail and
                    // try to create the file anew); the next call retries.
                    let first = &mut plan.segments[0];
                    first.sealed = true;
                    first.memtable = None;
                    return Err(e);
                }
            }
            removed.push(number);
            plan.segments.remove(0);
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::StdFs;

    fn small() -> HlogConfig {
        HlogConfig {
            page_size_bytes: 4096,
            segment_size_bytes: 16 << 10,
            memtable_size_bytes: 1 << 20,
            persist_interval_ms: 0,
            read_only: false,
        }
    }

    fn open(dir: &Path) -> (HybridLog, RecoveryReport) {
        let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
        HybridLog::open(Arc::new(StdFs::new()), &dir.join("log"), small(), replay).unwrap()
    }

    fn value_of(log: &HybridLog, key: &[u8]) -> Option<Vec<u8>> {
        log.get(key, None).and_then(|l| l.value().map(<[u8]>::to_vec))
    }

    #[test]
    fn writes_read_back_persist_and_recover() {
        let dir = tempfile::tempdir().unwrap();
        let (log, report) = open(dir.path());
        assert_eq!(report.records_recovered, 0);
        assert_eq!(log.put(b"a", b"1").unwrap(), SeqNo(1));
        log.write(&[Op::Put { key: b"b", value: b"2" }, Op::Delete { key: b"a" }]).unwrap();
        for i in 0..500u32 {
            log.put(format!("k{i:04}").as_bytes(), &[i as u8; 50]).unwrap();
        }
        assert_eq!(log.get(b"a", None), Some(Lookup::Tombstone { seqno: SeqNo(3) }));
        assert_eq!(value_of(&log, b"a"), None);
        assert_eq!(log.get(b"a", Some(SeqNo(1))).unwrap().value(), Some(&b"1"[..]));
        let point = log.persist().unwrap();
        assert_eq!(point.seqno, SeqNo(503));
        log.put(b"lost", b"not persisted").unwrap();
        drop(log);
        let (log, report) = open(dir.path());
        assert_eq!(report.records_recovered, 503);
        assert_eq!(report.last_seqno, SeqNo(503));
        assert_eq!(value_of(&log, b"b"), Some(b"2".to_vec()));
        assert_eq!(value_of(&log, b"k0499"), Some(vec![243; 50]));
        assert_eq!(log.get(b"a", None), Some(Lookup::Tombstone { seqno: SeqNo(3) }));
        assert_eq!(log.get(b"lost", None), None);
        assert_eq!(log.put(b"c", b"3").unwrap(), SeqNo(504));
        assert!(log.segments().len() > 2, "{:?}", log.segments());
        let keys: Vec<_> = log.range(&b"k0100"[..]..&b"k0103"[..], None).map(|(k, _)| k).collect();
        assert_eq!(keys, vec![b"k0100".to_vec(), b"k0101".to_vec(), b"k0102".to_vec()]);
    }

    #[test]
    fn a_full_point_index_falls_back_to_the_ordered_index() {
        let dir = tempfile::tempdir().unwrap();
        let config = HlogConfig { memtable_size_bytes: 1024, ..small() };
        let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
        let (log, _) = HybridLog::open(Arc::new(StdFs::new()), &dir.path().join("log"), config, replay).unwrap();
        for round in 0..3u8 {
            for i in 0..300u32 {
                log.put(format!("key-{i:03}").as_bytes(), &[round; 20]).unwrap();
            }
        }
        for i in 0..300u32 {
            assert_eq!(value_of(&log, format!("key-{i:03}").as_bytes()), Some(vec![2; 20]), "key {i}");
        }
        assert_eq!(log.get(b"absent", None), None);
        assert_eq!(log.range(.., None).count(), 300);
        assert!(log.stats().in_place_updates > 0);
    }

    #[test]
    fn background_persist_makes_writes_durable_without_a_sync() {
        let fs = crate::fs::MemFs::new();
        let config = HlogConfig { persist_interval_ms: 2, ..small() };
        let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
        let (log, _) = HybridLog::open(Arc::new(fs.clone()), Path::new("/log"), config, replay).unwrap();
        let seqno = log.put(b"k", b"v").unwrap();
        let waited = std::time::Instant::now();
        while log.durable_point().seqno < seqno {
            assert!(waited.elapsed().as_secs() < 10, "no background persist happened");
            std::thread::sleep(Duration::from_millis(1));
        }
        let (after, _) = HybridLog::open(Arc::new(fs.crash_copy()), Path::new("/log"), small(), replay).unwrap();
        assert_eq!(value_of(&after, b"k"), Some(b"v".to_vec()));
    }

    #[test]
    fn segments_below_a_flushed_log_can_be_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = open(dir.path());
        for i in 0..300u32 {
            log.put(format!("old-{i:03}").as_bytes(), &[1; 60]).unwrap();
        }
        let frozen = log.freeze();
        log.put(b"new", b"1").unwrap();
        frozen.persist().unwrap();
        log.persist().unwrap();
        let next = frozen.address_range().end;
        let before = log.segments();
        assert!(before.iter().filter(|s| s.start < next).count() >= 2, "{before:?}");
        // The database flushed the frozen log to tables; its segments go.
        drop(frozen);
        let removed = log.remove_segments_below(next).unwrap();
        assert_eq!(removed.len(), before.iter().filter(|s| s.start < next).count());
        assert!(log.segments().iter().all(|s| s.start >= next));
        drop(log);
        let replay = ReplayFrom { address: next, next_seqno: SeqNo(301) };
        let (log, report) = HybridLog::open(Arc::new(StdFs::new()), &dir.path().join("log"), small(), replay).unwrap();
        assert_eq!(report.records_recovered, 1);
        assert_eq!(value_of(&log, b"new"), Some(b"1".to_vec()));
        assert_eq!(log.put(b"x", b"y").unwrap(), SeqNo(302));
    }

    #[test]
    fn freeze_cuts_and_hands_out_sorted_versions() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = open(dir.path());
        log.put(b"x", b"1").unwrap();
        let snap = log.snapshot();
        log.put(b"y", b"1").unwrap();
        log.put(b"x", b"2").unwrap();
        let frozen = log.freeze();
        log.put(b"x", b"3").unwrap();
        assert_eq!(frozen.seqno_cut(), SeqNo(3));
        assert_eq!(frozen.get(b"x", None).unwrap().value(), Some(&b"2"[..]));
        assert_eq!(value_of(&log, b"x"), Some(b"3".to_vec()));
        assert_eq!(log.get(b"y", None), None);
        let entries: Vec<_> = frozen.iter_sorted().map(|e| (e.key, e.seqno.0, e.value)).collect();
        assert_eq!(
            entries,
            vec![
                (b"x".to_vec(), 3, b"2".to_vec()),
                (b"x".to_vec(), 1, b"1".to_vec()),
                (b"y".to_vec(), 2, b"1".to_vec()),
            ]
        );
        drop(snap);
        frozen.persist().unwrap();
        let next = frozen.address_range().end;
        assert!(log.segments().iter().filter(|s| s.start < next).all(|s| s.sealed));
        log.persist().unwrap();
        drop((log, frozen));
        let replay = ReplayFrom { address: next, next_seqno: SeqNo(4) };
        let (log, report) = HybridLog::open(Arc::new(StdFs::new()), &dir.path().join("log"), small(), replay).unwrap();
        assert_eq!(report.records_recovered, 1);
        assert_eq!(value_of(&log, b"x"), Some(b"3".to_vec()));
        assert_eq!(log.get(b"y", None), None);
    }
}
