//! Capturing an exact cut of the database for a checkpoint or backup: a
//! version whose files, plus (without a flush) a range of the log, hold
//! every write up to a seqno and none after.

use std::path::PathBuf;
use std::sync::Arc;

use super::flush::flush_oldest_locked;
use super::inner::Inner;
use crate::fs::{Fs, MemFs, copy_file, read_to_vec};
use crate::hlog::{HlogConfig, HybridLog, ReplayFrom};
use crate::version::{DbLayout, Version, encode_version_file};
use crate::{Error, Result, SeqNo};

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
            flush_oldest_locked(self)?;
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

impl Capture {
    /// Checks the version file `v{N}` of the cut on disk: it decodes (its
    /// checksum holds) and holds exactly the captured version. Damage is
    /// `Error::Corruption` naming the file. A file already gone is fine: the
    /// version was superseded, and its file deleted, just before the caller
    /// paused deletions; the cut copies the version from memory.
    pub(crate) fn verify_version_file(&self, fs: &dyn Fs, layout: &DbLayout) -> Result<()> {
        let path = layout.version(self.version.id);
        let bytes = match read_to_vec(fs, &path) {
            Err(e) if e.is_not_found() => return Ok(()),
            other => other?,
        };
        crate::version::decode_version(&path, &bytes)?;
        if bytes != encode_version_file(&self.version).0 {
            return Err(Error::corruption(&path, 0, "differs from the version the database holds in memory"));
        }
        Ok(())
    }

    /// Replays the captured log, as far as it is captured, on a copy in
    /// memory (every record's checksum and the chain of commit records
    /// checked by the recovery that opening the copy will run): it must
    /// reach exactly the cut's seqno. Damage is `Error::Corruption` naming
    /// the segment file.
    pub(crate) fn verify_log(&self, fs: &dyn Fs, layout: &DbLayout) -> Result<()> {
        let Some(last) = self.log.last() else { return Ok(()) };
        let copy = MemFs::new();
        copy.create_dir_all(&layout.log_dir())?;
        for piece in &self.log {
            copy_file(fs, &piece.path, &copy, &piece.path, piece.len_bytes, false)?;
        }
        let replay = ReplayFrom { address: self.version.log_start, next_seqno: SeqNo(self.version.last_seqno.0 + 1) };
        // The point index is sized from the memtable budget; a replay to
        // check needs none to speak of (the log grows it as it recovers).
        let config = HlogConfig {
            read_only: true,
            page_size_bytes: 4096,
            memtable_size_bytes: 1 << 20,
            ..HlogConfig::default()
        };
        let (_, report) = HybridLog::open(Arc::new(copy), &layout.log_dir(), config, replay)?;
        if report.last_seqno != self.seqno || report.torn_at.is_some() {
            let torn = match report.torn_at {
                Some(at) => format!(", with a bad or missing record at log address {at}"),
                None => String::new(),
            };
            let what = format!(
                "the captured log replays to seqno {}{torn}, not to the cut's seqno {}",
                report.last_seqno, self.seqno
            );
            return Err(Error::corruption(&last.path, 0, what));
        }
        Ok(())
    }
}
