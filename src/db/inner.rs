//! The shared state of an open database and its write, freeze and flush
//! paths.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Instant;

use super::config::{Config, KEY_BYTES_MAX, SyncMode, VALUE_BYTES_MAX};
use super::read::Readers;
use super::work::Work;
use crate::blob::BlobOptions;
use crate::compaction::{OutputOptions, Retention};
use crate::fs::{Fs, FsLock};
use crate::hlog::{FrozenLog, HlogConfig, HybridLog, Op, ReplayFrom, Snapshot as LogSnapshot, Tail};
use crate::sync::{MutexExt, RwLockExt};
use crate::table::{BlockCache, TableOptions, ValueKind};
use crate::version::{DbLayout, Deleter, DeletionPause, Version, VersionEdit, VersionSet};
use crate::{Error, Result, SeqNo};

/// Writers stall while frozen memtables holding this many memtable budgets'
/// worth of log wait for flush (bytes, not a count: a checkpoint freezes a
/// partial memtable, which should not cost a stall of its own).
pub(crate) const FROZEN_STALL_MEMTABLES: u64 = 2;

/// What readers need to see together: the frozen memtables (oldest first)
/// and the current version. Readers query the active memtable while holding
/// the read lock, so a freeze (which takes the write lock) never hides a
/// key between the active log and the frozen list, and a flush swaps the
/// frozen memtable for its tables in one step.
#[derive(Debug)]
pub(crate) struct Super {
    pub(crate) frozen: Vec<Arc<FrozenLog>>,
    pub(crate) version: Arc<Version>,
}

/// Counters kept as the database runs.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) flushes: AtomicU64,
    pub(crate) compactions: AtomicU64,
    pub(crate) compaction_bytes_read: AtomicU64,
    pub(crate) compaction_bytes_written: AtomicU64,
    pub(crate) flush_bytes_written: AtomicU64,
    pub(crate) stalls: AtomicU64,
    pub(crate) stall_micros: AtomicU64,
}

/// The state behind every clone of a [`Db`](super::Db).
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) fs: Arc<dyn Fs>,
    pub(crate) layout: DbLayout,
    pub(crate) versions: VersionSet,
    pub(crate) hlog: HybridLog,
    memtables: RwLock<Super>,
    pub(crate) readers: Readers,
    pub(crate) work: Work,
    pub(crate) counters: Counters,
    poison: Mutex<Option<String>>,
    /// Set with `poison`: writers check this, not the mutex.
    poisoned: AtomicBool,
    /// Whether writers may have to stall (see `behind`), kept by every
    /// change of the memtables or the version, so writers need no lock to
    /// learn that they need not.
    behind_hint: AtomicBool,
    _lock: Option<Box<dyn FsLock>>,
}

impl Inner {
    /// Opens or creates the database, recovering the memtable from the log.
    pub(crate) fn open(config: Config) -> Result<Arc<Inner>> {
        let fs = Arc::clone(&config.fs);
        let layout = DbLayout::new(&config.path);
        let lock = if config.read_only {
            None
        } else {
            if config.create_if_missing {
                fs.create_dir_all(layout.root())?;
            } else if !fs.exists(layout.root())? {
                return Err(Error::io(
                    "open database",
                    layout.root(),
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
                ));
            }
            // Before the lock file: a directory that is no database is left as it was.
            VersionSet::probe(&*fs, &layout, config.create_if_missing)?;
            Some(fs.lock(&layout.lock())?)
        };
        let deleter = Deleter::new(Arc::clone(&fs), !config.read_only);
        let create = config.create_if_missing && !config.read_only;
        let versions = VersionSet::open(Arc::clone(&fs), layout.clone(), deleter, create)?;
        if !config.read_only {
            sync_directories(&*fs, &layout)?;
        }
        let version = versions.current();
        let replay = ReplayFrom { address: version.log_start, next_seqno: SeqNo(version.last_seqno.0 + 1) };
        let hlog_config = HlogConfig {
            page_size_bytes: page_size_for(config.memtable_size_bytes),
            memtable_size_bytes: config.memtable_size_bytes,
            read_only: config.read_only,
            ..HlogConfig::default()
        };
        // A copy not yet opened for writing (a checkpoint, a restored
        // backup) is checked whole before anything in it changes: its log
        // ends at a commit, and it holds every write up to its seqno.
        let tail = if version.fork_pending { Tail::Refuse } else { Tail::CutTorn };
        let (hlog, report) = HybridLog::open_with(Arc::clone(&fs), &layout.log_dir(), hlog_config, replay, tail)?;
        if let Some(at) = report.torn_at {
            log::info!("recovery dropped a torn log tail at log address {at}");
        }
        crate::checkpoint::check_recovered_seqno(&*fs, layout.root(), report.last_seqno)?;
        if !config.read_only {
            versions.settle_identity()?;
            let removed = versions.remove_orphans()?;
            if removed > 0 {
                log::info!("removed {removed} files left behind by a crash in {}", layout.root().display());
            }
            hlog.remove_segments_below(version.log_start)?;
        }
        let version = versions.current();
        let inner = Arc::new(Inner {
            readers: Readers::new(Arc::new(BlockCache::new(config.block_cache_bytes))),
            config,
            fs,
            layout,
            versions,
            hlog,
            memtables: RwLock::new(Super { frozen: Vec::new(), version }),
            work: Work::default(),
            counters: Counters::default(),
            poison: Mutex::new(None),
            poisoned: AtomicBool::new(false),
            behind_hint: AtomicBool::new(false),
            _lock: lock,
        });
        // A level 0 left long by the last run stalls writers from the start.
        inner.update_memtables(|_| ());
        if !inner.config.read_only && inner.hlog.size_bytes() >= inner.config.memtable_size_bytes {
            inner.freeze(false)?;
        }
        Ok(inner)
    }

    pub(crate) fn memtables(&self) -> RwLockReadGuard<'_, Super> {
        self.memtables.read_locked()
    }

    /// The current version.
    pub(crate) fn current_version(&self) -> Arc<Version> {
        Arc::clone(&self.memtables().version)
    }

    /// A registered read point at the newest complete write.
    pub(crate) fn snapshot(&self) -> LogSnapshot {
        self.hlog.snapshot()
    }

    /// Fails when writes are not allowed: read-only, or poisoned.
    pub(crate) fn check_writable(&self) -> Result<()> {
        if self.config.read_only {
            return Err(Error::ReadOnly { path: self.layout.root().to_path_buf() });
        }
        match self.poison_cause() {
            Some(cause) => Err(Error::Poisoned { cause }),
            None => Ok(()),
        }
    }

    /// Records the first background failure; every later write fails with it.
    pub(crate) fn set_poison(&self, error: &Error) {
        self.latch_poison(error.to_string());
    }

    fn latch_poison(&self, cause: String) {
        let mut poison = self.poison.locked();
        if poison.is_none() {
            log::error!("database poisoned: {cause}");
            *poison = Some(cause);
            self.poisoned.store(true, Ordering::Release);
        }
        drop(poison);
        self.work.notify_all();
    }

    /// Why writes are refused, if they are: a failed background job, or a
    /// failed log write or fsync (the log poisons itself; the database
    /// takes it over, so flushes, compactions and the close's persist stop
    /// too).
    pub(crate) fn poison_cause(&self) -> Option<String> {
        if !self.poisoned.load(Ordering::Acquire) {
            if !self.hlog.is_poisoned() {
                return None;
            }
            self.latch_poison(self.hlog.poison_cause()?);
        }
        self.poison.locked().clone()
    }

    /// Writes a batch of operations atomically.
    pub(crate) fn write(&self, ops: &[Op<'_>]) -> Result<SeqNo> {
        self.check_writable()?;
        for op in ops {
            let (key, value) = match op {
                Op::Put { key, value } => (*key, *value),
                Op::Delete { key } => (*key, &[][..]),
            };
            if key.len() > KEY_BYTES_MAX {
                return Err(Error::invalid(format!("key of {} bytes exceeds {KEY_BYTES_MAX}", key.len())));
            }
            if value.len() > VALUE_BYTES_MAX {
                return Err(Error::invalid(format!("value of {} bytes exceeds {VALUE_BYTES_MAX}", value.len())));
            }
        }
        self.stall_if_needed()?;
        let seqno = self.hlog.write(ops)?;
        if self.config.sync == SyncMode::Always {
            self.hlog.persist()?;
        }
        if self.hlog.size_bytes() >= self.config.memtable_size_bytes {
            self.freeze(false)?;
        }
        Ok(seqno)
    }

    /// Waits while flushes or level 0 are too far behind; counts the stall.
    fn stall_if_needed(&self) -> Result<()> {
        if !self.config.background_threads {
            return Ok(());
        }
        // The hint is exact as of the last change to the memtables or the
        // version; a writer racing that change may write once more.
        if !self.behind_hint.load(Ordering::Acquire) {
            return Ok(());
        }
        let behind = || self.behind(&self.memtables());
        if !behind() {
            return Ok(());
        }
        let started = Instant::now();
        self.counters.stalls.fetch_add(1, Ordering::Relaxed);
        self.work.wait_while(|| behind() && self.poison_cause().is_none());
        self.counters.stall_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        self.check_writable()
    }

    /// Whether flushes or level 0 are too far behind for writers to go on.
    fn behind(&self, s: &Super) -> bool {
        let frozen_bytes: u64 = s.frozen.iter().map(|f| f.size_bytes()).sum();
        frozen_bytes >= FROZEN_STALL_MEMTABLES * self.config.memtable_size_bytes
            || self.level0_backlog(&s.version) >= self.config.level0_stall
    }

    /// Changes the memtables or the version; the stall hint follows.
    fn update_memtables<T>(&self, change: impl FnOnce(&mut Super) -> T) -> T {
        let mut s = self.memtables.write_locked();
        let out = change(&mut s);
        self.behind_hint.store(self.behind(&s), Ordering::Release);
        out
    }

    /// How far level 0 is behind, in memtable-sized units: its bytes over
    /// the memtable budget (so the small tables checkpoints flush weigh
    /// little), or a third of its table count, whichever is more.
    fn level0_backlog(&self, version: &Version) -> usize {
        let l0 = &version.levels[0];
        let bytes: u64 = l0.iter().map(|t| t.info.size_bytes).sum();
        let by_bytes = bytes.div_ceil(self.config.memtable_size_bytes.max(1)) as usize;
        by_bytes.max(l0.len() / 3)
    }

    /// Makes every acknowledged write durable.
    pub(crate) fn persist(&self) -> Result<SeqNo> {
        self.check_writable()?;
        Ok(self.hlog.persist()?.seqno)
    }

    /// Freezes the active memtable (when full, or when `force` and not
    /// empty) and hands it to the flusher. Returns whether it froze.
    pub(crate) fn freeze(&self, force: bool) -> Result<bool> {
        if self.freeze_now(force).is_none() {
            return Ok(false);
        }
        if self.config.background_threads {
            self.work.notify_all();
        } else {
            while self.flush_oldest()? {}
            while self.compact_once()? {}
        }
        Ok(true)
    }

    /// Freezes the active memtable (when full, or when `force` and not
    /// empty) without starting its flush; returns the frozen log.
    pub(crate) fn freeze_now(&self, force: bool) -> Option<Arc<FrozenLog>> {
        self.update_memtables(|s| {
            let size = self.hlog.size_bytes();
            if size == 0 || (!force && size < self.config.memtable_size_bytes) {
                return None;
            }
            let frozen = Arc::new(self.hlog.freeze());
            s.frozen.push(Arc::clone(&frozen));
            Some(frozen)
        })
    }

    /// Freezes and flushes everything written so far.
    pub(crate) fn flush(&self) -> Result<()> {
        self.check_writable()?;
        self.freeze(true)?;
        while self.flush_oldest()? {}
        Ok(())
    }

    /// Writes the oldest frozen memtable to level-0 tables and installs
    /// them. Returns false when there was nothing to flush.
    pub(crate) fn flush_oldest(&self) -> Result<bool> {
        let _one_at_a_time = self.work.flush_lock();
        self.flush_oldest_locked()
    }

    /// [`flush_oldest`](Self::flush_oldest) for a caller holding the flush
    /// lock. A failure poisons the database: the disk may hold a partial
    /// state only a reopen (recovering from the log) sorts out.
    pub(crate) fn flush_oldest_locked(&self) -> Result<bool> {
        self.check_writable()?;
        self.write_frozen_oldest().inspect_err(|e| self.set_poison(e))
    }

    fn write_frozen_oldest(&self) -> Result<bool> {
        let Some(frozen) = self.memtables().frozen.first().cloned() else {
            return Ok(false);
        };
        let retention = Retention::new(self.hlog.live_snapshots(), false);
        let mut output = self.output();
        let mut group: Vec<(SeqNo, ValueKind, Vec<u8>)> = Vec::new();
        let mut key: Vec<u8> = Vec::new();
        for entry in frozen.iter_sorted() {
            if entry.key != key && !group.is_empty() {
                write_group(&mut output, &retention, &key, &mut group)?;
            }
            if entry.key != key {
                key = entry.key.clone();
            }
            let kind = match entry.kind {
                crate::hlog::EntryKind::Value => ValueKind::Value,
                crate::hlog::EntryKind::Tombstone => ValueKind::Tombstone,
            };
            group.push((entry.seqno, kind, entry.value));
        }
        if !group.is_empty() {
            write_group(&mut output, &retention, &key, &mut group)?;
        }
        let (tables, blobs) = output.finish()?;
        let written: u64 = tables.iter().map(|t| t.size_bytes).chain(blobs.iter().map(|b| b.size_bytes)).sum();
        let edit = VersionEdit {
            add_tables: tables.into_iter().map(|t| (0, t)).collect(),
            add_blobs: blobs,
            last_seqno: Some(frozen.seqno_cut()),
            log_start: Some(frozen.address_range().end),
            ..VersionEdit::default()
        };
        let version = self.versions.install(&edit)?;
        self.update_memtables(|s| {
            if version.id > s.version.id {
                s.version = Arc::clone(&version);
            }
            if s.frozen.first().is_some_and(|f| Arc::ptr_eq(f, &frozen)) {
                s.frozen.remove(0);
            }
        });
        self.counters.flushes.fetch_add(1, Ordering::Relaxed);
        self.counters.flush_bytes_written.fetch_add(written, Ordering::Relaxed);
        self.remove_obsolete_log()?;
        self.work.notify_all();
        Ok(true)
    }

    /// Deletes the log segments whose records are all in tables, unless
    /// deletions are paused (a checkpoint or backup may be linking them;
    /// [`DbDeletionPause`] retries when the pause ends).
    pub(crate) fn remove_obsolete_log(&self) -> Result<()> {
        let log_start = self.versions.current().log_start;
        // The log's lock first: waiting for a persist's fsync must not hold
        // the deleter's lock, which readers dropping versions take.
        let removal = self.hlog.segment_removal();
        match self.versions.deleter().unless_paused(|| removal.below(log_start)) {
            Some(Err(e)) => Err(e),
            Some(Ok(_)) | None => Ok(()),
        }
    }

    /// Pauses the deletion of obsolete files, tables and log segments alike,
    /// until the guard drops.
    pub(crate) fn pause_deletions(&self) -> DbDeletionPause<'_> {
        DbDeletionPause { pause: Some(self.versions.deleter().pause()), inner: self }
    }

    /// Makes `version` visible to readers if it is newer than theirs.
    pub(crate) fn publish(&self, version: &Arc<Version>) {
        self.update_memtables(|s| {
            if version.id > s.version.id {
                s.version = Arc::clone(version);
            }
        });
    }

    /// A fresh output for flush or compaction.
    pub(crate) fn output(&self) -> crate::compaction::Output {
        let options = OutputOptions {
            table: TableOptions { compression: self.config.compression, ..TableOptions::default() },
            blob: BlobOptions { compression: self.config.compression },
            table_target_bytes: self.config.table_target_bytes,
            blob_threshold_bytes: self.config.blob_threshold_bytes,
            blob_file_target_bytes: 256 << 20,
        };
        let ids = self.versions.id_source();
        crate::compaction::Output::new(Arc::clone(&self.fs), self.layout.clone(), options, Box::new(ids))
    }
}

/// Writes one key's versions (newest first) that the retention rule keeps.
/// While alive, no obsolete file of the database is deleted; when the last
/// pause ends, queued table and blob files go, and so do the log segments
/// flushes left behind meanwhile.
#[must_use = "deletions resume as soon as the pause is dropped"]
pub(crate) struct DbDeletionPause<'a> {
    pause: Option<DeletionPause>,
    inner: &'a Inner,
}

impl Drop for DbDeletionPause<'_> {
    fn drop(&mut self) {
        drop(self.pause.take());
        if let Err(e) = self.inner.remove_obsolete_log() {
            // The segments stay; the next flush or open removes them.
            log::warn!("could not remove obsolete log segments: {e}");
        }
    }
}

pub(crate) fn write_group(
    output: &mut crate::compaction::Output,
    retention: &Retention,
    key: &[u8],
    group: &mut Vec<(SeqNo, ValueKind, Vec<u8>)>,
) -> Result<()> {
    let flags: Vec<(SeqNo, bool)> = group.iter().map(|(s, k, _)| (*s, *k == ValueKind::Tombstone)).collect();
    for ((seqno, kind, value), keep) in group.drain(..).zip(retention.select(&flags)) {
        if keep {
            output.add(key, seqno, kind, &value)?;
        }
    }
    Ok(())
}

/// A page size that gives a small memtable budget several pages.
/// Makes the directories' entries durable: what a writable open builds on
/// must be on disk before it deletes or writes anything. A process that
/// died (or whose directory fsync failed) after renaming `CURRENT` leaves
/// the new version visible but not durable; deleting the files only the
/// old version needs would lose them all at the next power cut.
fn sync_directories(fs: &dyn Fs, layout: &DbLayout) -> Result<()> {
    for dir in [layout.root().to_path_buf(), layout.tables_dir(), layout.blobs_dir(), layout.log_dir()] {
        if fs.exists(&dir)? {
            fs.sync_directory(&dir)?;
        }
    }
    Ok(())
}

fn page_size_for(memtable_bytes: u64) -> u32 {
    let target = (memtable_bytes / 16).clamp(4096, 1 << 20);
    // A power of two: a multiple of 8 and of 4096.
    (1u64 << (63 - target.leading_zeros())) as u32
}
