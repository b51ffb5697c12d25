//! Checkpoints: exact, atomic, instant copies of a database that open as a
//! database ([`Db::checkpoint`](crate::Db::checkpoint)); finding them
//! ([`list`], [`describe`]), whether they were written since ([`state`]),
//! checking them ([`verify`]) and removing them ([`delete`]); the
//! staging leftovers of killed checkpoints and restores ([`leftovers`],
//! [`remove_leftover`]).

mod create;
mod delete;
mod description;
mod leftovers;
mod list;
mod retention;
mod schedule;
mod state;
pub(crate) mod verify;

pub use crate::schedule::ScheduleStats;
pub use crate::staging::{STAGING_PREFIX, is_staging_name, staging_name_start};
pub use delete::{DeletedCheckpoint, delete};
pub use description::{CHECKPOINT_FILE, CHECKPOINT_FORMAT_VERSION, CheckpointDescription};
pub use leftovers::{Leftover, StagingState, leftover_state, leftovers, remove_leftover};
pub(crate) use list::check_recovered_seqno;
pub use list::{CheckpointListing, describe, list};
pub use retention::{
    CheckpointPrune, LatestValid, SkippedCheckpoint, ValidCheckpoint, latest_valid, prune, timed_name,
};
pub use schedule::{CheckpointSchedule, CheckpointScheduler};
pub use state::{CheckpointState, state};
pub use verify::{Problem, VerifyProgress, VerifyReport, verify, verify_with_progress};

use std::path::PathBuf;
use std::time::Duration;

use crate::{SeqNo, VersionId};

/// How [`Db::checkpoint_with`](crate::Db::checkpoint_with) works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointOptions {
    pub(crate) flush: bool,
    pub(crate) sync: bool,
}

impl Default for CheckpointOptions {
    fn default() -> Self {
        CheckpointOptions { flush: true, sync: true }
    }
}

impl CheckpointOptions {
    /// Flush the memtable into tables first (default). Without, the
    /// memtable is frozen and its log persisted and linked instead (a
    /// segment still being appended is copied up to the captured point):
    /// faster for a large memtable, and the checkpoint replays it when
    /// opened.
    pub fn flush(mut self, flush: bool) -> Self {
        self.flush = flush;
        self
    }

    /// Fsync every file and directory before the checkpoint appears
    /// (default). Without, a crash soon after may leave it incomplete.
    pub fn sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }
}

/// What a checkpoint holds and what making it cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointInfo {
    /// Its directory.
    pub path: PathBuf,
    /// It holds every write with seqno <= this, and none after.
    pub seqno: SeqNo,
    /// The id of the version it holds.
    pub version_id: VersionId,
    /// Table files.
    pub table_files: usize,
    /// Blob files.
    pub blob_files: usize,
    /// Log segments (linked, or copied up to the cut; only without a flush).
    pub log_segments: usize,
    /// Bytes of all its files.
    pub bytes_total: u64,
    /// Bytes actually copied (the rest is shared by reflink or hard link).
    pub bytes_copied: u64,
    /// Files reflinked.
    pub reflinked: usize,
    /// Files hard-linked.
    pub hard_linked: usize,
    /// Files copied.
    pub copied: usize,
    /// How long it took.
    pub duration: Duration,
}
