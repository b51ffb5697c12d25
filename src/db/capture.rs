//! Capturing an exact cut of the database for a checkpoint or backup: a
//! version whose files, plus (without a flush) a range of the log, hold
//! every write up to a seqno and none after.

use std::path::PathBuf;
use std::sync::Arc;

use super::Inner;
use crate::version::Version;
use crate::{Result, SeqNo};

/// A log segment of a frozen memtable, up to a length. Frozen segments are
/// never appended again (new writes go to a new segment), and the capture
/// persists them first, so a checkpoint may link one whose file is exactly
/// this long; otherwise it copies this prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LogPiece {
    pub(crate) number: u64,
    pub(crate) path: PathBuf,
    pub(crate) len_bytes: u64,
}

/// An exact cut: opening `version` and replaying `log` (from
/// `version.log_start`) restores exactly the writes with seqno <= `seqno`.
#[derive(Debug)]
pub(crate) struct Capture {
    pub(crate) version: Arc<Version>,
    pub(crate) seqno: SeqNo,
    pub(crate) log: Vec<LogPiece>,
}

impl Inner {
    /// Cuts the database at the newest write. With `flush`, the memtable is
    /// frozen and flushed and the cut is a version alone; without, it is
    /// frozen and persisted, and the cut is the current version plus the
    /// log of every unflushed memtable up to the frozen one's commit.
    ///
    /// Writers continue throughout: they move to a fresh memtable, whose
    /// writes (all with higher seqnos) are outside the cut. The flush lock
    /// is held until the cut is taken, so no later memtable's flush can
    /// slip into the captured version; compactions may run, but they only
    /// rearrange data at or below the cut.
    pub(crate) fn capture(&self, flush: bool) -> Result<Capture> {
        self.check_writable()?;
        let result = if flush {
            let _flushes = self.work.flush_lock();
            let frozen = self.freeze_now(true);
            self.capture_flushed(frozen)
        } else {
            self.freeze_now(true);
            self.capture_with_log()
        };
        self.work.notify_all();
        result
    }

    /// Flushes frozen memtables up to the cut — the one just frozen, or
    /// the newest already frozen — and no further: writers may freeze more
    /// meanwhile, and chasing them could go on for ever.
    fn capture_flushed(&self, frozen: Option<Arc<crate::hlog::FrozenLog>>) -> Result<Capture> {
        let Some(cut) = frozen.or_else(|| self.memtables().frozen.last().cloned()) else {
            let version = self.current_version();
            return Ok(Capture { seqno: version.last_seqno, version, log: Vec::new() });
        };
        let seqno = cut.seqno_cut();
        while self.memtables().frozen.iter().any(|f| Arc::ptr_eq(f, &cut)) {
            self.flush_oldest_locked()?;
        }
        let version = self.current_version();
        debug_assert_eq!(version.last_seqno.max(seqno), version.last_seqno, "the cut is in the tables");
        Ok(Capture { seqno, version, log: Vec::new() })
    }

    /// The version and every frozen memtable, read together: the cut is the
    /// newest frozen memtable's. No flush lock is needed: a flush swaps a
    /// frozen memtable for its tables in one step under the same lock, and
    /// the caller's deletion pause keeps the captured log segments on disk.
    fn capture_with_log(&self) -> Result<Capture> {
        let (version, newest) = {
            let s = self.memtables();
            (Arc::clone(&s.version), s.frozen.last().cloned())
        };
        let Some(newest) = newest else {
            // Everything frozen is already in tables: the version is the cut.
            return Ok(Capture { seqno: version.last_seqno, version, log: Vec::new() });
        };
        newest.persist()?;
        let end = newest.address_range().end;
        let log = self
            .hlog
            .segments()
            .into_iter()
            .filter(|s| s.start < end && s.durable_end > version.log_start && s.durable_len_bytes > 0)
            .map(|s| LogPiece { number: s.number, path: s.path, len_bytes: s.durable_len_bytes })
            .collect();
        Ok(Capture { seqno: newest.seqno_cut(), version, log })
    }
}
