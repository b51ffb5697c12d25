//! [`Shared`]: the state a hybrid log and its frozen logs share (the
//! writer, the active memtable, the persist plan), and the group commit
//! that makes writes durable.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use super::memtable::{Cursor, Memtable};
use super::page::Page;
use super::persist::{Durable, IoState, Leadership, PersistPoint, Plan, Poison, RunCounters, WrittenPoint, lock};
use super::snapshot::SnapshotRegistry;
use crate::Result;
use crate::fs::Fs;

/// Average record size the point index of a memtable is sized for: a
/// memtable of `memtable_size_bytes` gets room for that many bytes / this
/// keys (beyond it, lookups of further keys use the ordered index).
pub(super) const EXPECTED_RECORD_BYTES: u64 = 128;

/// Now, in µs since the Unix epoch (0 for a clock before it): the time a
/// commit record carries.
pub(super) fn now_unix_us() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX - 1)
}

/// Which segment the writer fills.
#[derive(Debug)]
pub(super) struct SegmentCursor {
    pub(super) bytes: u64,
    pub(super) start_new: bool,
}

/// State only the (one) writer touches.
#[derive(Debug)]
pub(super) struct WriterState {
    pub(super) active: Arc<Memtable>,
    pub(super) cursor: Cursor,
    pub(super) last_seqno: u64,
    pub(super) segment: SegmentCursor,
    /// When the newest commit record was made (µs since the Unix epoch):
    /// commit times never go back, whatever the clock does.
    pub(super) last_commit_us: u64,
}

/// What a [`HybridLog`](super::HybridLog) and its frozen logs share: the
/// writer's state, the active memtable, the persist plan and its I/O.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(super) fs: Arc<dyn Fs>,
    pub(super) log_dir: PathBuf,
    /// Opened read-only: nothing may be written.
    pub(super) read_only: bool,
    pub(super) page_size: u64,
    pub(super) segment_size_bytes: u64,
    /// Keys a memtable's point index is sized for.
    pub(super) expected_keys: usize,
    pub(super) writer: Mutex<WriterState>,
    /// The active memtable, for readers (the writer has its own handle).
    pub(super) active: RwLock<Arc<Memtable>>,
    /// Every batch with seqno <= this is wholly applied.
    pub(super) visible: AtomicU64,
    pub(super) snapshots: Arc<SnapshotRegistry>,
    pub(super) plan: Mutex<Plan>,
    pub(super) io: Mutex<IoState>,
    /// `Plan::written_end` and `Plan::durable_end`, for the group commits'
    /// checks that take no lock.
    pub(super) written_end: AtomicU64,
    pub(super) durable_end: AtomicU64,
    pub(super) poison: Poison,
    pub(super) counters: RunCounters,
    pub(super) leadership: Leadership,
}

impl Shared {
    pub(super) fn persist(&self) -> Result<PersistPoint> {
        let target = self.commit()?;
        self.durable().flush_to(target)
    }

    pub(super) fn write_out(&self) -> Result<WrittenPoint> {
        let target = self.commit()?;
        self.durable().write_to(target)
    }

    /// Reserves a commit record for every write so far; returns its end.
    fn commit(&self) -> Result<u64> {
        let mut w = lock(&self.writer);
        self.poison.check()?;
        Ok(self.reserve_commit(&mut w))
    }

    /// Appends a commit record for everything since the last one, if
    /// anything; returns the end of the newest commit record.
    pub(super) fn reserve_commit(&self, w: &mut WriterState) -> u64 {
        let shared = self;
        let Some(start) = w.cursor.take_uncommitted_start() else {
            return lock(&shared.plan).committed_end;
        };
        let WriterState { active, cursor, last_seqno, segment, last_commit_us } = w;
        *last_commit_us = now_unix_us().max(*last_commit_us);
        let mut on_page = |p: &Arc<Page>| plan_page(&shared.plan, segment, shared.segment_size_bytes, active, p);
        let end = active.append_commit(cursor, *last_seqno, start, *last_commit_us, &mut on_page);
        let mut plan = lock(&shared.plan);
        plan.committed_end = end;
        plan.committed_seqno = *last_seqno;
        end
    }

    pub(crate) fn durable(&self) -> Durable<'_> {
        Durable {
            fs: &*self.fs,
            log_dir: &self.log_dir,
            page_size: self.page_size,
            plan: &self.plan,
            io: &self.io,
            written_end: &self.written_end,
            durable_end: &self.durable_end,
            poison: &self.poison,
            counters: &self.counters,
            leadership: &self.leadership,
        }
    }
}

/// Notes `page` in the persist plan, starting a new segment first when
/// `seg` is full (or a new one was asked for).
pub(super) fn plan_page(
    plan: &Mutex<Plan>,
    seg: &mut SegmentCursor,
    limit: u64,
    memtable: &Arc<Memtable>,
    page: &Page,
) {
    let len = page.len_bytes() as u64;
    if seg.start_new || seg.bytes + len > limit {
        lock(plan).start_segment(page.start(), memtable);
        seg.bytes = 0;
        seg.start_new = false;
    }
    seg.bytes += len;
}
