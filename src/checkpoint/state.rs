//! [`CheckpointState`]: whether a checkpoint directory still holds what it
//! was taken with, or has been opened for writing (and written) since.
//!
//! Its `CHECKPOINT` description never changes: it says where and when the
//! checkpoint was cut. Opened for writing, the directory continues as a
//! database of its own (a new timeline, see `docs/FORMAT.md`, "Version
//! files"), so what it holds now is learnt from its version and seqno.

use std::path::Path;
use std::sync::Arc;

use super::CheckpointDescription;
use crate::fs::Fs;
use crate::{Config, Db, DbIdentity, Result, SeqNo, VersionId};

/// What a checkpoint directory is now, next to what its description says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointState {
    /// Never opened for writing: it holds every write up to the
    /// description's seqno, and none after.
    AsTaken,
    /// Opened for writing since it was taken: a database of its own now,
    /// `database` (the next generation of the source's timeline), whose
    /// newest write is `seqno`. Equal to the description's seqno when
    /// nothing was written yet.
    Continued {
        /// The newest write it holds now.
        seqno: SeqNo,
        /// Its identity now.
        database: Option<DbIdentity>,
    },
}

impl CheckpointState {
    /// The state of `db`, open on the checkpoint directory that
    /// `description` describes.
    pub fn of(description: &CheckpointDescription, db: &Db) -> CheckpointState {
        let version = db.version();
        decide(description, version.id, version.fork_pending, db.stats().seqno, version.identity)
    }

    /// Writes after the checkpoint's seqno (0 when as taken).
    pub fn written_since(&self, description: &CheckpointDescription) -> u64 {
        match self {
            CheckpointState::AsTaken => 0,
            CheckpointState::Continued { seqno, .. } => seqno.get().saturating_sub(description.seqno.get()),
        }
    }
}

/// The state of the checkpoint at `path`, described by `description`: it
/// is opened read-only (which writes nothing) to learn its seqno.
pub fn state(fs: Arc<dyn Fs>, path: &Path, description: &CheckpointDescription) -> Result<CheckpointState> {
    let db = Config::new(path).fs(fs).read_only(true).background_threads(false).open()?;
    Ok(CheckpointState::of(description, &db))
}

/// A writable open forks a checkpoint (clearing `fork_pending` and
/// installing a new version) before any write; a checkpoint from before
/// identities has no pending fork, but a writable open still installs a
/// version of its own.
fn decide(
    description: &CheckpointDescription,
    version_id: VersionId,
    fork_pending: bool,
    seqno: SeqNo,
    database: Option<DbIdentity>,
) -> CheckpointState {
    let untouched = seqno == description.seqno && (fork_pending || version_id == description.version_id);
    match untouched {
        true => CheckpointState::AsTaken,
        false => CheckpointState::Continued { seqno, database },
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::checkpoint::CHECKPOINT_FORMAT_VERSION;

    fn description() -> CheckpointDescription {
        CheckpointDescription {
            format_version: CHECKPOINT_FORMAT_VERSION,
            source: PathBuf::from("/db"),
            database: None,
            seqno: SeqNo(89),
            version_id: VersionId(7),
            created_unix_ms: 0,
            table_files: 1,
            blob_files: 0,
            log_segments: 0,
            bytes_total: 100,
        }
    }

    #[test]
    fn as_taken_until_a_writable_open_or_a_write() {
        let d = description();
        assert_eq!(decide(&d, VersionId(7), true, SeqNo(89), None), CheckpointState::AsTaken);
        assert_eq!(
            decide(&d, VersionId(7), false, SeqNo(89), None),
            CheckpointState::AsTaken,
            "from before identities"
        );
        let opened = decide(&d, VersionId(8), false, SeqNo(89), None);
        assert_eq!(opened, CheckpointState::Continued { seqno: SeqNo(89), database: None });
        assert_eq!(opened.written_since(&d), 0);
        let written = decide(&d, VersionId(8), false, SeqNo(90), None);
        assert_eq!(written.written_since(&d), 1);
        assert!(matches!(decide(&d, VersionId(7), false, SeqNo(90), None), CheckpointState::Continued { .. }));
    }
}
