//! The durable side: which segment holds which addresses (the plan), and
//! the group-commit paths that hand committed ranges to the file system
//! ([`Durable::write_to`]) and fsync them ([`Durable::flush_to`]).
//!
//! Two watermarks, both at commit records: *written* (handed to the file
//! system with `write_at`: survives the death of the process, not of the
//! machine) and *durable* (fsynced: survives a power cut). Durable never
//! passes written; only durable counts for [`PersistPoint`], segment
//! sealing, checkpoints and the log archive.
//!
//! Lock order: writer mutex -> plan; io -> plan. The io mutex is never taken
//! under the writer mutex, so writers never wait for a disk.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use xxhash_rust::xxh3::Xxh3;

use super::memtable::Memtable;
use super::record::{self, HEADER_BYTES, Kind, LAYOUT_OFFSET, split_layout, value_offset};
use super::segment::{self, SegmentHeader, SegmentInfo};
use crate::fs::{Fs, FsFile, OpenOptions};
use crate::sync::{CondvarExt, MutexExt};
use crate::{Error, LogAddress, Result, SeqNo};

/// Locks a mutex; a panic elsewhere does not make the data unusable here.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.locked()
}

/// What a completed persist made durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PersistPoint {
    /// Every write with seqno <= this survives any crash from now on.
    pub seqno: SeqNo,
    /// Address after the last durable commit record: log data up to here is
    /// on disk and fsynced (and never changes again).
    pub end: LogAddress,
}

/// What a completed write-out handed to the file system (see
/// [`HybridLog::write_out`](super::HybridLog::write_out)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrittenPoint {
    /// Every write with seqno <= this is in the file system's hands: it
    /// survives the death of this process (a reopen recovers it), not a
    /// crash of the operating system or a power cut until a
    /// [`PersistPoint`] covers it.
    pub seqno: SeqNo,
    /// Address after the newest commit record written.
    pub end: LogAddress,
}

/// One segment the log has planned: its pages are fixed when allocated.
#[derive(Debug)]
pub(crate) struct PlannedSegment {
    pub(crate) number: u64,
    pub(crate) start: u64,
    /// Start of the next segment (`u64::MAX` while this is the last).
    pub(crate) limit: u64,
    /// The memtable holding its bytes, until it is sealed.
    pub(crate) memtable: Option<Arc<Memtable>>,
    pub(crate) durable_end: u64,
    pub(crate) sealed: bool,
}

impl PlannedSegment {
    /// Where its log bytes end as far as known: its limit, or the end of
    /// its frozen memtable (`u64::MAX` while it may still grow).
    fn data_end(&self) -> u64 {
        self.memtable.as_ref().and_then(|m| m.end()).unwrap_or(u64::MAX).min(self.limit)
    }
}

/// Segment plan and commit watermarks, shared by writer and persister.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) segments: Vec<PlannedSegment>,
    /// End of the newest reserved commit record and the seqno it covers.
    pub(crate) committed_end: u64,
    pub(crate) committed_seqno: u64,
    /// End and seqno of the newest commit handed to the file system.
    pub(crate) written_end: u64,
    pub(crate) written_seqno: u64,
    /// End and seqno of the newest durable (fsynced) commit.
    pub(crate) durable_end: u64,
    pub(crate) durable_seqno: u64,
    pub(crate) next_number: u64,
}

impl Plan {
    /// Starts a segment at `start` for `memtable`'s pages.
    pub(crate) fn start_segment(&mut self, start: u64, memtable: &Arc<Memtable>) {
        if let Some(last) = self.segments.last_mut() {
            last.limit = last.limit.min(start);
        }
        self.segments.push(PlannedSegment {
            number: self.next_number,
            start,
            limit: u64::MAX,
            memtable: Some(Arc::clone(memtable)),
            durable_end: start,
            sealed: false,
        });
        self.next_number += 1;
    }

    pub(crate) fn durable_point(&self) -> PersistPoint {
        PersistPoint { seqno: SeqNo(self.durable_seqno), end: LogAddress(self.durable_end) }
    }

    pub(crate) fn written_point(&self) -> WrittenPoint {
        WrittenPoint { seqno: SeqNo(self.written_seqno), end: LogAddress(self.written_end) }
    }

    pub(crate) fn infos(&self, log_dir: &Path) -> Vec<SegmentInfo> {
        self.segments
            .iter()
            .map(|s| SegmentInfo {
                number: s.number,
                path: segment::path(log_dir, s.number),
                start: LogAddress(s.start),
                durable_end: LogAddress(s.durable_end),
                durable_len_bytes: segment::HEADER_BYTES as u64 + (s.durable_end - s.start),
                sealed: s.sealed,
            })
            .collect()
    }
}

/// A failed write or fsync: remembered so every later write fails.
#[derive(Debug, Default)]
pub(crate) struct Poison {
    poisoned: AtomicBool,
    cause: Mutex<String>,
}

impl Poison {
    pub(crate) fn check(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::Poisoned { cause: lock(&self.cause).clone() });
        }
        Ok(())
    }

    pub(crate) fn set(&self, cause: &Error) {
        let mut text = lock(&self.cause);
        if !self.poisoned.load(Ordering::Acquire) {
            *text = cause.to_string();
            self.poisoned.store(true, Ordering::Release);
        }
    }
}

/// The persister's private state, under the io mutex.
#[derive(Debug)]
pub(crate) struct IoState {
    /// Address up to which log bytes have been handed to the file system.
    pub(crate) written: u64,
    /// Address up to which they are fsynced (<= `written`): the lowest
    /// address a power cut can take away, which every commit record
    /// carries as its `run_start`.
    pub(crate) synced: u64,
    /// The one segment holding bytes written but not yet fsynced, if any:
    /// a segment gets bytes only once every earlier one's are fsynced.
    pub(crate) unsynced: Option<u64>,
    /// Open handles of segments not yet sealed; a segment's handle is
    /// dropped only once all its bytes are fsynced.
    pub(crate) files: HashMap<u64, Box<dyn FsFile>>,
}

impl IoState {
    /// Nothing written or fsynced past `address` (where a recovered log
    /// goes on: every byte below it that exists was fsynced by recovery).
    pub(crate) fn at(address: u64) -> IoState {
        IoState { written: address, synced: address, unsynced: None, files: HashMap::new() }
    }

    /// Fsyncs the segment holding unsynced bytes, unless it is `keep`;
    /// `written_to` is where the bytes written so far end (all of them
    /// fsynced afterwards).
    fn sync_unsynced_except(&mut self, keep: Option<u64>, written_to: u64) -> Result<()> {
        if let Some(number) = self.unsynced.filter(|&n| Some(n) != keep) {
            if let Some(file) = self.files.get(&number) {
                file.sync_data()?;
            }
            self.unsynced = None;
            self.synced = self.synced.max(written_to);
        }
        Ok(())
    }

    /// Forgets segment `number`'s handle: it is being removed.
    pub(crate) fn forget(&mut self, number: u64) {
        self.files.remove(&number);
        if self.unsynced == Some(number) {
            self.unsynced = None;
        }
    }
}

/// Who runs the next group commit. One caller at a time leads: it takes
/// the io mutex and writes (and fsyncs) everything committed so far for
/// everyone. The others wait here, not on the io mutex, so a caller whose
/// commit the leader's run covered returns as soon as that run ends,
/// instead of queueing behind the next run's fsync; and callers that come
/// while a run is in flight gather for the next. (Waiting on the io mutex,
/// at 16 writers about 1.7 writes shared an fsync and p99 was 28 ms.)
#[derive(Debug, Default)]
pub(crate) struct Leadership {
    leading: Mutex<bool>,
    done: Condvar,
}

impl Leadership {
    /// `None` once `covered()` holds (the caller's commit is done), else the
    /// guard of the caller's leadership; waits while another leads.
    fn lead_unless(&self, covered: impl Fn() -> bool) -> Option<Leading<'_>> {
        let mut leading = lock(&self.leading);
        loop {
            if covered() {
                return None;
            }
            if !*leading {
                *leading = true;
                return Some(Leading(self));
            }
            // The leader wakes everyone when its run ends; the timeout only
            // bounds the wait should a wake-up ever be missed.
            leading = self.done.wait_locked(leading, Duration::from_millis(50));
        }
    }
}

/// The leadership of one group commit; let go (and the waiters woken) when
/// dropped, after the run's watermark is published.
struct Leading<'a>(&'a Leadership);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        *lock(&self.0.leading) = false;
        self.0.done.notify_all();
    }
}

/// A byte range of one segment to write.
struct Chunk {
    number: u64,
    segment_start: u64,
    from: u64,
    to: u64,
    memtable: Arc<Memtable>,
}

/// Everything the group commits ([`Durable::flush_to`], [`Durable::write_to`]) need.
pub(crate) struct Durable<'a> {
    pub(crate) fs: &'a dyn Fs,
    pub(crate) log_dir: &'a Path,
    pub(crate) page_size: u64,
    pub(crate) plan: &'a Mutex<Plan>,
    pub(crate) io: &'a Mutex<IoState>,
    pub(crate) written_end: &'a AtomicU64,
    pub(crate) durable_end: &'a AtomicU64,
    pub(crate) poison: &'a Poison,
    pub(crate) counters: &'a RunCounters,
    pub(crate) leadership: &'a Leadership,
}

/// How often each group commit was asked for and how often it ran.
#[derive(Debug, Default)]
pub(crate) struct RunCounters {
    pub(crate) persist_calls: AtomicU64,
    pub(crate) persist_runs: AtomicU64,
    pub(crate) write_out_calls: AtomicU64,
    pub(crate) write_out_runs: AtomicU64,
}

impl Durable<'_> {
    /// Makes the log durable at least up to `target` (a reserved commit end)
    /// and returns the durable point. Group commit: the leader writes
    /// everything committed so far and fsyncs every segment holding bytes
    /// not yet fsynced (also those an earlier [`write_to`](Self::write_to)
    /// wrote); callers its run covers return when it ends.
    pub(crate) fn flush_to(&self, target: u64) -> Result<PersistPoint> {
        self.counters.persist_calls.fetch_add(1, Ordering::Relaxed);
        let Some(_leading) = self.lead_unless_past(self.durable_end, target) else {
            self.poison.check()?;
            return Ok(lock(self.plan).durable_point());
        };
        let mut io = lock(self.io);
        self.poison.check()?;
        self.counters.persist_runs.fetch_add(1, Ordering::Relaxed);
        let (end, seqno) = self.write_committed(&mut io)?;
        if let Err(e) = io.sync_unsynced_except(None, end) {
            self.poison.set(&e);
            return Err(e);
        }
        io.synced = io.synced.max(end);
        let mut plan = lock(self.plan);
        plan.durable_end = end;
        plan.durable_seqno = seqno;
        for s in plan.segments.iter_mut().filter(|s| !s.sealed && s.start < end) {
            let data_end = s.data_end();
            s.durable_end = s.durable_end.max(end.min(data_end));
            // Sealed once no page can be added (a later segment or a freeze
            // set the limit) and everything it holds is durable.
            if s.limit != u64::MAX && s.durable_end >= data_end {
                s.sealed = true;
                s.memtable = None;
                io.forget(s.number);
            }
        }
        self.durable_end.store(end, Ordering::Release);
        Ok(plan.durable_point())
    }

    /// Hands the log to the file system at least up to `target` (a
    /// reserved commit end), without an fsync, and returns the written
    /// point. Group commit as in [`flush_to`](Self::flush_to). Nothing
    /// becomes durable and no segment is sealed here.
    pub(crate) fn write_to(&self, target: u64) -> Result<WrittenPoint> {
        self.counters.write_out_calls.fetch_add(1, Ordering::Relaxed);
        let Some(_leading) = self.lead_unless_past(self.written_end, target) else {
            self.poison.check()?;
            return Ok(lock(self.plan).written_point());
        };
        let mut io = lock(self.io);
        self.poison.check()?;
        self.counters.write_out_runs.fetch_add(1, Ordering::Relaxed);
        self.write_committed(&mut io)?;
        Ok(lock(self.plan).written_point())
    }

    /// `None` once `watermark` reaches `target` (at once, or when the run of
    /// the caller leading now ends), else the lead of the next run. Only a
    /// leader moves the watermarks, so a target not reached when the lead
    /// is taken stays ahead until the leader's own run.
    fn lead_unless_past(&self, watermark: &AtomicU64, target: u64) -> Option<Leading<'_>> {
        let covered = || watermark.load(Ordering::Acquire) >= target;
        if covered() {
            return None;
        }
        self.leadership.lead_unless(covered)
    }

    /// Writes every committed byte not yet written; returns the end and
    /// seqno of the newest commit, now written. A failure poisons.
    fn write_committed(&self, io: &mut IoState) -> Result<(u64, u64)> {
        let (end, seqno, chunks) = self.chunks(io.written);
        if end <= io.written {
            // Nothing committed since the last write-out (or since open).
            return Ok((end, seqno));
        }
        if let Err(e) = self.write_chunks(io, end, &chunks) {
            self.poison.set(&e);
            return Err(e);
        }
        io.written = end;
        let mut plan = lock(self.plan);
        plan.written_end = end;
        plan.written_seqno = seqno;
        self.written_end.store(end, Ordering::Release);
        Ok((end, seqno))
    }

    fn chunks(&self, written: u64) -> (u64, u64, Vec<Chunk>) {
        let plan = lock(self.plan);
        let end = plan.committed_end;
        let mut chunks = Vec::new();
        for s in plan.segments.iter().filter(|s| !s.sealed && s.limit > written && s.start < end) {
            let memtable = s.memtable.as_ref().expect("unsealed segments keep their memtable");
            let from = written.max(s.start);
            let to = end.min(s.limit).min(memtable.end().unwrap_or(u64::MAX));
            if from < to {
                let memtable = Arc::clone(memtable);
                chunks.push(Chunk { number: s.number, segment_start: s.start, from, to, memtable });
            }
        }
        (end, plan.committed_seqno, chunks)
    }

    fn write_chunks(&self, io: &mut IoState, end: u64, chunks: &[Chunk]) -> Result<()> {
        let mut hasher = Xxh3::new();
        let mut buf = Vec::new();
        let mut written_to = io.written;
        for chunk in chunks {
            // Every earlier segment's bytes are fsynced before any go into
            // this one, so a power cut can only cut the newest segment
            // written: an earlier one left short or empty under a later one
            // that survived whole would be a hole no recovery can tell
            // from damage (nor, when it ends at a commit, even see).
            io.sync_unsynced_except(Some(chunk.number), written_to)?;
            buf.clear();
            buf.resize((chunk.to - chunk.from) as usize, 0);
            copy_out(&chunk.memtable, chunk.from, &mut buf);
            seal_records(&mut buf, &mut hasher, io.synced);
            let file = match io.files.entry(chunk.number) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(self.create_segment(chunk.number, chunk.segment_start)?)
                }
            };
            let offset = segment::HEADER_BYTES as u64 + (chunk.from - chunk.segment_start);
            file.write_all_at(&buf, offset)?;
            io.unsynced = Some(chunk.number);
            written_to = chunk.to;
        }
        debug_assert!(chunks.last().is_none_or(|c| c.to == end), "a run ends at a commit record");
        Ok(())
    }

    fn create_segment(&self, number: u64, start: u64) -> Result<Box<dyn FsFile>> {
        let path = segment::path(self.log_dir, number);
        let file = self.fs.open(&path, OpenOptions::create_new())?;
        let header = SegmentHeader { page_size_bytes: self.page_size as u32, number, start };
        file.write_all_at(&header.encode(), 0)?;
        file.sync_data()?;
        self.fs.sync_directory(self.log_dir)?;
        Ok(file)
    }
}

/// Copies log bytes `[from, from + out.len())` of `memtable` into `out`.
fn copy_out(memtable: &Memtable, from: u64, out: &mut [u8]) {
    let mut address = from;
    let mut rest = out;
    while !rest.is_empty() {
        let page = memtable.page(address).expect("committed bytes lie in installed pages");
        let n = ((page.end() - address) as usize).min(rest.len());
        let (now, later) = rest.split_at_mut(n);
        page.read_bytes((address - page.start()) as usize, now);
        rest = later;
        address += n as u64;
    }
}

/// Fills in record checksums (word 0 held the in-memory sequence lock) and
/// commit-record range hashes in a buffer of whole records.
fn seal_records(buf: &mut [u8], hasher: &mut Xxh3, run_start: u64) {
    let mut at = 0;
    while at < buf.len() {
        let layout = u64::from_le_bytes(buf[at + LAYOUT_OFFSET..at + HEADER_BYTES].try_into().expect("8 bytes"));
        let (record_len, kind, _) = split_layout(layout);
        let record_len = record_len as usize;
        assert!(record_len >= HEADER_BYTES && at + record_len <= buf.len(), "record layout broken in memory");
        let rec = &mut buf[at..at + record_len];
        if Kind::from_byte(kind) == Some(Kind::Commit) {
            let hash_at = value_offset(0) + record::COMMIT_RANGE_HASH;
            rec[hash_at..hash_at + 8].copy_from_slice(&hasher.digest().to_le_bytes());
            let run_at = value_offset(0) + record::COMMIT_RUN_START;
            rec[run_at..run_at + 8].copy_from_slice(&run_start.to_le_bytes());
            hasher.reset();
        }
        let sum = record::checksum(rec);
        rec[..8].copy_from_slice(&sum.to_le_bytes());
        if Kind::from_byte(kind) != Some(Kind::Commit) {
            hasher.update(rec);
        }
        at += record_len;
    }
}
