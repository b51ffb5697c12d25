//! Backups on a schedule ([`BackupEngine::schedule`]): a background thread
//! backing a database up into the store, then pruning and collecting
//! garbage to a retention policy; the thread is the one scheduled
//! checkpoints use (`src/schedule.rs`).

use std::time::Duration;

use super::create::BackupInfo;
use super::engine::BackupEngine;
use crate::db::Db;
use crate::schedule::{ScheduleStats, Scheduled, Tick};
use crate::{Error, Result, SeqNo};

/// When [`BackupEngine::schedule`] backs up and how many backups it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupSchedule {
    pub(crate) interval: Duration,
    pub(crate) keep: usize,
    pub(crate) gc: bool,
}

impl BackupSchedule {
    /// A backup every `interval` (a tick with nothing written since the
    /// newest backup is skipped), keeping the newest 10.
    pub fn every(interval: Duration) -> BackupSchedule {
        BackupSchedule { interval, keep: 10, gc: true }
    }

    /// Keep the newest `n` backups of the database (at least 1).
    pub fn keep(mut self, n: usize) -> BackupSchedule {
        self.keep = n.max(1);
        self
    }

    /// Collect garbage after each prune (default), removing the files and
    /// archived log no kept backup needs.
    pub fn gc(mut self, gc: bool) -> BackupSchedule {
        self.gc = gc;
        self
    }
}

/// Scheduled backups running; dropping it stops them (after a backup under
/// way). It does not keep the database open: once the database is dropped,
/// the schedule stops by itself.
#[derive(Debug)]
pub struct BackupScheduler {
    scheduled: Scheduled<BackupInfo>,
}

impl BackupScheduler {
    /// What it has done: backups taken, ticks skipped, failures (each
    /// retried at the next tick), the newest backup and error.
    pub fn stats(&self) -> ScheduleStats<BackupInfo> {
        self.scheduled.stats()
    }

    /// Runs a tick now (back up if anything was written, prune, gc) and
    /// waits for it.
    pub fn run_now(&self) -> ScheduleStats<BackupInfo> {
        self.scheduled.run_now()
    }
}

impl BackupEngine {
    /// Backs `db` up every `schedule.interval` in a background thread, then
    /// [`prune`](Self::prune)s its backups to the newest `keep` and (unless
    /// turned off) runs [`gc`](Self::gc); a tick with nothing written since
    /// the database's newest backup is skipped. Errors (a store down, a gc
    /// busy with another job) are logged and reported by the handle, and
    /// the next tick retries. Dropping the handle stops it.
    pub fn schedule(&self, db: &Db, schedule: BackupSchedule) -> Result<BackupScheduler> {
        let Some(identity) = db.identity() else {
            return Err(Error::invalid("a database opened read-only cannot be backed up on a schedule"));
        };
        let engine = self.clone().database(identity);
        let weak = db.downgrade();
        let mut last: Option<SeqNo> = None;
        let scheduled = Scheduled::start("cairndb-backups", schedule.interval, move || {
            let Some(db) = weak.upgrade() else { return Ok(Tick::Finished) };
            if last.is_none() {
                // After a restart: the newest backup already there counts.
                last = match engine.latest()? {
                    Some(id) => Some(engine.manifest(id)?.seqno),
                    None => None,
                };
            }
            let outcome = if last == Some(db.stats().seqno) {
                Tick::Skipped
            } else {
                let info = engine.create_backup(&db)?;
                last = Some(info.seqno);
                Tick::Made(info)
            };
            engine.prune(schedule.keep)?;
            if schedule.gc {
                engine.gc()?;
            }
            Ok(outcome)
        })?;
        Ok(BackupScheduler { scheduled })
    }
}
