//! The shared state of an open database and its write path, up to the
//! freeze; what a freeze makes due (flush, compaction) runs elsewhere
//! (`workers.rs`, `flush.rs`, `compact.rs`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Instant;

use super::config::{Config, KEY_BYTES_MAX, SyncMode, VALUE_BYTES_MAX};
use super::log_hold::LogHolds;
use super::readers::Readers;
use super::work::Work;
use crate::fs::{Fs, FsLock};
use crate::hlog::{Appended, FrozenLog, HlogConfig, HybridLog, Op, ReplayFrom, Snapshot as LogSnapshot, Tail};
use crate::staging::STAGING_PREFIX;
use crate::sync::{MutexExt, RwLockExt};
use crate::table::BlockCache;
use crate::version::{DbLayout, Deleter, DeletionPause, Version, VersionSet};
use crate::{Error, LogAddress, Result, SeqNo};

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

/// What a write did: its seqno, and whether it froze the memtable (which
/// makes a flush due).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Written {
    pub(crate) seqno: SeqNo,
    pub(crate) froze: bool,
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
    pub(crate) archive_gaps: AtomicU64,
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
    pub(crate) readers: Arc<Readers>,
    pub(crate) work: Work,
    pub(crate) counters: Counters,
    poison: Mutex<Option<String>>,
    /// Set with `poison`: writers check this, not the mutex.
    poisoned: AtomicBool,
    /// Whether writers may have to stall (see `behind`), kept by every
    /// change of the memtables or the version, so writers need no lock to
    /// learn that they need not.
    behind_hint: AtomicBool,
    /// Continuous archives' claims on the log (`log_tap.rs`).
    pub(crate) log_holds: LogHolds,
    _lock: Option<Box<dyn FsLock>>,
}

impl Inner {
    /// Opens or creates the database, recovering the memtable from the log;
    /// read-only, as a consistent view ([`Inner::open_view`]).
    pub(crate) fn open(config: Config) -> Result<Arc<Inner>> {
        if config.read_only {
            return Inner::open_view(config);
        }
        Inner::open_once(config)
    }

    /// [`Inner::open`], one attempt.
    pub(super) fn open_once(config: Config) -> Result<Arc<Inner>> {
        let fs = Arc::clone(&config.fs);
        let layout = DbLayout::new(&config.path);
        let staging = config.path.file_name().is_some_and(|n| n.to_string_lossy().starts_with(STAGING_PREFIX));
        if staging && !config.replaying_into_copy {
            return Err(Error::invalid(format!(
                "{} is a checkpoint or restore being made, or a checkpoint being removed (its name starts with \
                 {STAGING_PREFIX:?}): not a database to open",
                config.path.display()
            )));
        }
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
            // A replay into a restore's staging directory runs under the
            // lock the staging guard holds.
            (!config.replaying_into_copy).then(|| fs.lock(&layout.lock())).transpose()?
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
        let log_holds = if config.read_only { LogHolds::default() } else { LogHolds::open(&*fs, layout.root())? };
        let (hlog, report) = HybridLog::open_with(Arc::clone(&fs), &layout.log_dir(), hlog_config, replay, tail)?;
        if let Some(at) = report.torn_at {
            log::info!("recovery dropped a torn log tail at log address {at}");
        }
        crate::checkpoint::check_recovered_seqno(&*fs, layout.root(), report.last_seqno)?;
        if !config.read_only {
            if !config.replaying_into_copy {
                versions.settle_identity()?;
            }
            let removed = versions.remove_orphans()?;
            if removed > 0 {
                log::info!("removed {removed} files left behind by a crash in {}", layout.root().display());
            }
            // A hold the last run left keeps what its archive has not shipped.
            let keeps =
                log_holds.dormant_from().map_or(version.log_start.0, |a| a.saturating_sub(1).min(version.log_start.0));
            hlog.remove_segments_below(LogAddress(keeps))?;
        }
        let version = versions.current();
        let inner = Arc::new(Inner {
            readers: Arc::new(Readers::new(
                Arc::clone(&fs),
                layout.clone(),
                BlockCache::new(config.block_cache_bytes),
                config.max_open_files_now(),
            )),
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
            log_holds,
            _lock: lock,
        });
        // A level 0 left long by the last run stalls writers from the start.
        inner.update_memtables(|_| ());
        if !inner.config.read_only && inner.hlog.size_bytes() >= inner.config.memtable_size_bytes {
            // Flushed once the workers start (`Workers::start`).
            inner.freeze_now(false);
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

    /// Records a failed flush or compaction: the first that [`poisons`]
    /// fails every later write; one that does not is logged, and the job
    /// runs again (the next time it is due, or asked for).
    pub(crate) fn job_failed(&self, job: &str, error: &Error) {
        if poisons(error) {
            self.latch_poison(error.to_string());
        } else {
            log::warn!("{job} in {} failed and will be tried again: {error}", self.layout.root().display());
        }
    }

    pub(crate) fn latch_poison(&self, cause: String) {
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

    /// Writes a batch of operations atomically, the first at seqno `first`
    /// when given (a write replayed from an archived log keeps its seqno);
    /// freezes the memtable when the write fills it.
    pub(crate) fn write_from(&self, ops: &[Op<'_>], first: Option<SeqNo>) -> Result<Written> {
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
        let mut froze = false;
        let seqno = loop {
            match self.hlog.try_write(ops, first)? {
                Appended::Batch(seqno) => break seqno,
                // The batch fits an empty memtable, not what is left of
                // this one: a fresh one makes room.
                Appended::NeedsFreeze => froze |= self.freeze_now(true).is_some(),
            }
        };
        match self.config.sync {
            SyncMode::Always => drop(self.hlog.persist()?),
            SyncMode::OsBuffered => drop(self.hlog.write_out()?),
            SyncMode::Background => {}
        }
        let full = self.hlog.size_bytes() >= self.config.memtable_size_bytes;
        let froze = (full && self.freeze_now(false).is_some()) || froze;
        Ok(Written { seqno, froze })
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

    /// Swaps the flushed memtable `frozen` for `version`, which holds its
    /// tables, in one step: readers see its writes in one or the other.
    pub(crate) fn replace_frozen(&self, frozen: &Arc<FrozenLog>, version: &Arc<Version>) {
        self.update_memtables(|s| {
            if version.id > s.version.id {
                s.version = Arc::clone(version);
            }
            if s.frozen.first().is_some_and(|f| Arc::ptr_eq(f, frozen)) {
                s.frozen.remove(0);
            }
        });
    }

    /// Deletes the log segments whose records are all in tables, unless
    /// deletions are paused (a checkpoint or backup may be linking them;
    /// [`DbDeletionPause`] retries when the pause ends).
    pub(crate) fn remove_obsolete_log(&self) -> Result<()> {
        let log_start = self.versions.current().log_start;
        // The log's lock first: waiting for a persist's fsync must not hold
        // the deleter's lock, which readers dropping versions take.
        let removal = self.hlog.segment_removal();
        // An archive keeps what it has not shipped yet.
        let holds = self.log_holds.keeps_from(log_start.0, self.hlog.durable_point().end.0, self.layout.root());
        self.counters.archive_gaps.fetch_add(holds.1, Ordering::Relaxed);
        // Durable before the segments go: a restart keeps what is held.
        self.log_holds.persist(&*self.fs, self.layout.root(), holds.0)?;
        // One byte below the hold: the segment ending where it starts (its
        // last commit, by which a resuming archive checks the history) stays.
        let below = match holds.0 {
            Some(keeps) => LogAddress(keeps.saturating_sub(1).min(log_start.0)),
            None => log_start,
        };
        match self.versions.deleter().unless_paused(|| removal.below(below)) {
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
}

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

/// Whether a failed flush or compaction poisons the database: the rule.
///
/// It does, unless the process (or the system) ran out of file descriptors
/// (`EMFILE`, `ENFILE`). That is a shortage, not damage, and it leaves
/// nothing behind that the memory does not know of: an input or output
/// that could not be opened ends the job before its install, whose outputs
/// are then removed (`Output`'s drop, or `install_output`), and a version
/// install that runs out before it replaces `CURRENT` has changed nothing
/// (`VersionSet::install` poisons itself otherwise). So the job can simply
/// run again once descriptors are free. Anything else poisons: a failed
/// write or fsync may have left the disk in a state the memory does not
/// know, corruption says the data cannot be trusted. A failed log write or
/// fsync poisons the log itself, whatever the cause (`hlog`'s `Poison`).
pub(crate) fn poisons(error: &Error) -> bool {
    !error.is_out_of_file_descriptors()
}

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

/// A page size that gives a small memtable budget several pages.
fn page_size_for(memtable_bytes: u64) -> u32 {
    let target = (memtable_bytes / 16).clamp(4096, 1 << 20);
    // A power of two: a multiple of 8 and of 4096.
    (1u64 << (63 - target.leading_zeros())) as u32
}
