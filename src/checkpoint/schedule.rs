//! Checkpoints on a schedule ([`Db::schedule_checkpoints`]): a background
//! thread taking time-named checkpoints into a folder and pruning it to a
//! retention policy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{CheckpointInfo, CheckpointOptions, list, prune};
use crate::db::Db;
use crate::schedule::{ScheduleStats, Scheduled, Tick};
use crate::{Result, SeqNo};

/// When [`Db::schedule_checkpoints`] takes checkpoints and how many it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointSchedule {
    pub(crate) interval: Duration,
    pub(crate) keep: usize,
    pub(crate) max_age: Option<Duration>,
    pub(crate) flush: bool,
}

impl CheckpointSchedule {
    /// A checkpoint every `interval` (a tick with nothing written since the
    /// last checkpoint is skipped), keeping the newest 10.
    pub fn every(interval: Duration) -> CheckpointSchedule {
        CheckpointSchedule { interval, keep: 10, max_age: None, flush: true }
    }

    /// Keep the newest `n` (at least 1; a smaller value is taken as 1).
    pub fn keep(mut self, n: usize) -> CheckpointSchedule {
        self.keep = n.max(1);
        self
    }

    /// Keep none taken longer ago than `age`, except the newest.
    pub fn max_age(mut self, age: Duration) -> CheckpointSchedule {
        self.max_age = Some(age);
        self
    }

    /// Flush before each checkpoint (default), or link the log instead
    /// (see [`CheckpointOptions::flush`]).
    pub fn flush(mut self, flush: bool) -> CheckpointSchedule {
        self.flush = flush;
        self
    }
}

/// Scheduled checkpoints running; dropping it stops them (after a
/// checkpoint under way). It does not keep the database open: once the
/// database is dropped, the schedule stops by itself.
#[derive(Debug)]
pub struct CheckpointScheduler {
    scheduled: Scheduled<CheckpointInfo>,
    dir: PathBuf,
}

impl CheckpointScheduler {
    /// The folder it takes checkpoints into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What it has done: checkpoints taken, ticks skipped, failures (each
    /// retried at the next tick), the newest checkpoint and error.
    pub fn stats(&self) -> ScheduleStats<CheckpointInfo> {
        self.scheduled.stats()
    }

    /// Runs a tick now (take if anything was written, then prune) and
    /// waits for it.
    pub fn run_now(&self) -> ScheduleStats<CheckpointInfo> {
        self.scheduled.run_now()
    }
}

impl Db {
    /// Takes a checkpoint into the folder `dir` every `schedule.interval`
    /// in a background thread, each named by its time and seqno
    /// ([`timed_name`](super::timed_name)), pruning `dir` to the
    /// schedule's retention ([`prune`]) first, so that it never holds more
    /// than `keep` (with `keep` 1: the old one goes right after the new one
    /// is complete); a tick with nothing written since
    /// the newest checkpoint in `dir` is skipped. Errors are logged and
    /// reported by the handle ([`CheckpointScheduler::stats`]), and the
    /// next tick retries; nothing half-made remains (a checkpoint is atomic,
    /// a removal crash-safe). Dropping the handle stops it.
    pub fn schedule_checkpoints(
        &self,
        dir: impl AsRef<Path>,
        schedule: CheckpointSchedule,
    ) -> Result<CheckpointScheduler> {
        let dir = dir.as_ref().to_path_buf();
        let weak = self.downgrade();
        let tick_dir = dir.clone();
        let mut last: Option<SeqNo> = None;
        let options = CheckpointOptions::default().flush(schedule.flush);
        let scheduled = Scheduled::start("cairndb-checkpoints", schedule.interval, move || {
            let Some(db) = weak.upgrade() else { return Ok(Tick::Finished) };
            let seqno = db.stats().seqno;
            if last.is_none() {
                // After a restart: the newest checkpoint already there counts.
                last = newest_of(&db, &tick_dir)?;
            }
            if last == Some(seqno) {
                prune(db.fs(), &tick_dir, schedule.keep, schedule.max_age)?;
                return Ok(Tick::Skipped);
            }
            // Room first, so the folder never holds more than `keep`.
            if schedule.keep > 1 && db.fs().exists(&tick_dir)? {
                prune(db.fs(), &tick_dir, schedule.keep - 1, schedule.max_age)?;
            }
            let info = db.checkpoint_into(&tick_dir, options)?;
            last = Some(info.seqno);
            if schedule.keep == 1 {
                prune(db.fs(), &tick_dir, 1, schedule.max_age)?;
            }
            Ok(Tick::Made(info))
        })?;
        Ok(CheckpointScheduler { scheduled, dir })
    }
}

/// The seqno of the newest checkpoint of `db`'s timeline in `dir`, if any.
fn newest_of(db: &Db, dir: &Path) -> Result<Option<SeqNo>> {
    if !db.fs().exists(dir)? {
        return Ok(None);
    }
    let identity = db.identity();
    Ok(list(db.fs(), dir)?.into_iter().find(|l| l.description.database == identity).map(|l| l.description.seqno))
}
