//! The database: [`Db`], its [`Config`], [`WriteBatch`], [`Snapshot`] and
//! iterators.
//!
//! Writes land in the hybrid log (`crate::hlog`). When it passes its budget
//! it is frozen and flushed into level-0 tables (large values into blob
//! files) by a background thread; another thread compacts levels. Reads
//! consult the active memtable, the frozen ones, then the tables of the
//! current version, newest first.

mod batch;
mod capture;
mod compact;
mod config;
mod flush;
mod info;
mod inner;
mod iter;
mod level_iter;
mod log_hold;
mod log_tap;
mod memory;
mod merge;
mod range;
mod read;
mod readers;
mod snapshot;
mod stats;
mod view;
mod work;
mod workers;

pub use batch::WriteBatch;
pub use config::{Config, KEY_BYTES_MAX, SyncMode, VALUE_BYTES_MAX};
pub use info::{DbInfo, LogSegment};
pub use iter::DbIter;
pub use range::KeyRange;
pub use snapshot::Snapshot;
pub use stats::{DbStats, LevelStats};

pub(crate) use capture::{Capture, Cut, CutFile, CutSource, Extent};
pub(crate) use inner::Inner;
pub(crate) use log_tap::{LogStart, LogTap};

use std::path::Path;
use std::sync::Arc;

use workers::Workers;

use crate::hlog::Op;
use crate::version::{DbIdentity, Version};
use crate::{Result, SeqNo};

/// An open database. Cheap to clone and share between threads. The last
/// clone dropped stops the background threads and persists what was
/// written; the directory lock is released once every snapshot and
/// iterator made from it is dropped too.
///
/// ```
/// use std::sync::Arc;
/// use cairndb::{Config, Db, WriteBatch};
/// use cairndb::fs::MemFs;
///
/// let db = Config::new("/data").fs(Arc::new(MemFs::new())).open()?;
/// db.put(b"key", b"value")?;
/// assert_eq!(db.get(b"key")?.as_deref(), Some(&b"value"[..]));
/// db.write(WriteBatch::new().put(b"a", b"1").delete(b"key"))?;
/// let keys: Vec<Vec<u8>> = db.iter().map(|kv| kv.map(|(k, _)| k)).collect::<Result<_, _>>()?;
/// assert_eq!(keys, [b"a".to_vec()]);
/// db.persist()?; // every write above is now durable
/// # Ok::<(), cairndb::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Db {
    inner: Arc<Inner>,
    workers: Arc<Workers>,
}

/// A [`Db`] that does not keep it open: what a background job holds.
#[derive(Clone, Debug)]
pub(crate) struct WeakDb {
    inner: std::sync::Weak<Inner>,
    workers: std::sync::Weak<Workers>,
}

impl WeakDb {
    /// The database, unless every handle to it was dropped.
    pub(crate) fn upgrade(&self) -> Option<Db> {
        Some(Db { inner: self.inner.upgrade()?, workers: self.workers.upgrade()? })
    }
}

impl Config {
    /// Opens the database.
    pub fn open(self) -> Result<Db> {
        Db::open_with(self)
    }
}

impl Db {
    /// Opens (or creates) the database at `path` with defaults, on the real
    /// file system.
    pub fn open(path: impl AsRef<Path>) -> Result<Db> {
        Config::new(path).open()
    }

    pub(crate) fn open_with(config: Config) -> Result<Db> {
        let inner = Inner::open(config)?;
        let workers = Arc::new(Workers::start(&inner)?);
        Ok(Db { inner, workers })
    }

    /// Writes `ops` atomically; a freeze it causes makes a flush due.
    fn write_ops(&self, ops: &[Op<'_>]) -> Result<SeqNo> {
        self.write_ops_from(ops, None)
    }

    fn write_ops_from(&self, ops: &[Op<'_>], first: Option<SeqNo>) -> Result<SeqNo> {
        let written = self.inner.write_from(ops, first)?;
        if written.froze {
            self.workers.frozen()?;
        }
        Ok(written.seqno)
    }

    /// Sets `key` to `value`.
    pub fn put(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<SeqNo> {
        self.write_ops(&[Op::Put { key: key.as_ref(), value: value.as_ref() }])
    }

    /// Deletes `key` (a no-op if absent).
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<SeqNo> {
        self.write_ops(&[Op::Delete { key: key.as_ref() }])
    }

    /// Applies every write of `batch` atomically; returns the seqno of its last write.
    pub fn write(&self, batch: WriteBatch) -> Result<SeqNo> {
        let ops: Vec<Op<'_>> = batch
            .ops
            .iter()
            .map(|op| match op {
                batch::BatchOp::Put { key, value } => Op::Put { key, value },
                batch::BatchOp::Delete { key } => Op::Delete { key },
            })
            .collect();
        self.write_ops(&ops)
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        self.inner.get(key.as_ref(), None)
    }

    /// Whether `key` has a value: a point lookup like [`get`](Self::get)
    /// that copies no value out of a table and reads no blob file.
    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        self.inner.contains_key(key.as_ref(), None)
    }

    /// The smallest key and its value, if any: the first step of
    /// [`iter`](Self::iter), which reads one block of each table at most
    /// (more only to step over deleted keys).
    pub fn first(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.iter().next().transpose()
    }

    /// The largest key and its value, if any: the first step of
    /// `iter().rev()`.
    pub fn last(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.iter().next_back().transpose()
    }

    /// Every key and value, in key order, as of now; `rev()` for
    /// descending order.
    pub fn iter(&self) -> DbIter {
        self.range(..)
    }

    /// Keys and values in `range`, in key order, as of now: `..`, `a..`,
    /// `..b`, `a..b`, `a..=b` over any `AsRef<[u8]>` keys, or two
    /// [`Bound`](std::ops::Bound)s (see [`KeyRange`]).
    pub fn range(&self, range: impl KeyRange) -> DbIter {
        let snapshot = self.inner.snapshot();
        DbIter::new(&self.inner, snapshot, range.into_bounds())
    }

    /// Keys starting with `prefix`, in key order, as of now.
    pub fn prefix(&self, prefix: impl AsRef<[u8]>) -> DbIter {
        let snapshot = self.inner.snapshot();
        DbIter::new(&self.inner, snapshot, range::prefix_bounds(prefix.as_ref()))
    }

    /// A consistent read view of the database as of now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(Arc::clone(&self.inner))
    }

    /// Makes every write acknowledged so far durable (a group commit shared
    /// by concurrent callers).
    pub fn persist(&self) -> Result<SeqNo> {
        self.inner.persist()
    }

    /// Freezes the memtable and writes it to level-0 tables now; returns
    /// once they are part of the database.
    pub fn flush(&self) -> Result<()> {
        self.workers.flush()
    }

    /// Flushes, then merges every table into one sorted run at the deepest
    /// level in use, dropping deleted and overwritten data no snapshot needs.
    pub fn compact(&self) -> Result<()> {
        self.workers.compact_full()
    }

    /// Returns once no flush and no compaction is due or running: the
    /// level shape (and the space) a database settles at once compaction
    /// is idle. Due work runs in the caller's thread beside the background
    /// threads'; writes made meanwhile can make more due, so under a
    /// steady writer it returns only when compaction catches up. A
    /// read-only database returns at once; a poisoned one fails with
    /// [`Error::Poisoned`](crate::Error::Poisoned).
    pub fn wait_for_compactions(&self) -> Result<()> {
        self.workers.wait_for_compactions()
    }

    /// Counters and sizes.
    pub fn stats(&self) -> DbStats {
        self.inner.stats()
    }

    /// The database directory.
    pub fn path(&self) -> &Path {
        self.inner.layout.root()
    }

    /// The file system the database is on.
    pub(crate) fn fs(&self) -> &dyn crate::fs::Fs {
        &*self.inner.fs
    }

    /// A handle that does not keep the database open.
    pub(crate) fn downgrade(&self) -> WeakDb {
        WeakDb { inner: Arc::downgrade(&self.inner), workers: Arc::downgrade(&self.workers) }
    }

    /// Cuts the database (`docs/DESIGN.md`, "Capture"): deletions pause
    /// and the cut is captured, with a flush or without, until the guard
    /// drops.
    pub(crate) fn cut(&self, flush: bool) -> Result<Cut<'_>> {
        self.inner.cut(flush)
    }

    /// Attaches a continuous archive to the log: nothing from the current
    /// version's log start on is removed until shipped (`log_tap.rs`).
    pub(crate) fn log_tap(&self, max_unshipped_bytes: u64) -> Result<(LogTap, LogStart)> {
        LogTap::attach(&self.inner, max_unshipped_bytes)
    }

    /// Replays `ops`, written with seqnos `first..`, from an archived log.
    pub(crate) fn write_replayed(&self, first: SeqNo, ops: &[Op<'_>]) -> Result<SeqNo> {
        self.write_ops_from(ops, Some(first))
    }

    /// Ends a replay at the commit `seqno`: the last seqno written becomes
    /// it, if no replayed record kept it.
    pub(crate) fn end_replay_at(&self, seqno: SeqNo) {
        self.inner.hlog.advance_seqno_to(seqno);
    }

    /// Which database this is, and which timeline of it (`docs/FORMAT.md`,
    /// "Version files", its "Identity" paragraph): made randomly with the
    /// database and kept in its version file; a checkpoint or restored
    /// backup opened for writing is a new timeline, with a fresh id and
    /// the next generation (before this open returned). `None` only for a
    /// database from before identities opened read-only (a writable open
    /// gives it one).
    pub fn identity(&self) -> Option<DbIdentity> {
        self.inner.current_version().identity
    }

    /// The current version (which files make up the database), for
    /// cairndb's own tests: its type is internal ([`Db::info`] is the
    /// public view).
    #[doc(hidden)]
    pub fn version(&self) -> Arc<Version> {
        self.inner.current_version()
    }
}
