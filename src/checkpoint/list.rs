//! Finding checkpoints: [`describe`] one directory, [`list`] a folder of them.

use std::path::{Path, PathBuf};

use super::{CHECKPOINT_FILE, CheckpointDescription};
use crate::fs::{FileKind, Fs, read_to_vec};
use crate::{Error, Result, SeqNo};

/// A checkpoint found by [`list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointListing {
    /// Its directory.
    pub path: PathBuf,
    /// Its `CHECKPOINT` file.
    pub description: CheckpointDescription,
}

/// The description of the checkpoint at `path`, or `None` when `path` is
/// not a checkpoint (has no `CHECKPOINT` file). A damaged file is
/// `Error::Corruption`.
pub fn describe(fs: &dyn Fs, path: &Path) -> Result<Option<CheckpointDescription>> {
    let file = path.join(CHECKPOINT_FILE);
    if !fs.exists(&file)? {
        return Ok(None);
    }
    CheckpointDescription::decode(&file, &read_to_vec(fs, &file)?).map(Some)
}

/// Refuses a checkpoint at `dir` whose files recover to less than the
/// seqno it was taken at (a log segment lost or cut): a checkpoint holds
/// every write up to its seqno by construction. Called by every open; a
/// directory without a description passes, and a damaged description is
/// left for `verify` to report.
pub(crate) fn check_recovered_seqno(fs: &dyn Fs, dir: &Path, recovered: SeqNo) -> Result<()> {
    let description = match describe(fs, dir) {
        Ok(Some(description)) => description,
        Ok(None) => return Ok(()),
        Err(e) => {
            log::warn!("{e}");
            return Ok(());
        }
    };
    if recovered < description.seqno {
        let what = format!(
            "the checkpoint was taken at seqno {}, but its tables and log recover only to seqno {recovered}: \
             a log segment is missing or damaged",
            description.seqno
        );
        return Err(Error::corruption(&dir.join("log"), 0, what));
    }
    Ok(())
}

/// The checkpoints directly under `dir`, newest first. Directories that are
/// not checkpoints are skipped, and so are those with a staging name
/// (being made, or being removed); a checkpoint with a damaged description is
/// an error naming it.
pub fn list(fs: &dyn Fs, dir: &Path) -> Result<Vec<CheckpointListing>> {
    let mut found = Vec::new();
    for entry in fs.read_dir(dir)? {
        // A staging name is a checkpoint being made or removed: never one.
        if entry.kind != FileKind::Dir || crate::staging::is_staging_name(&entry.name) {
            continue;
        }
        let path = dir.join(&entry.name);
        match describe(fs, &path) {
            Ok(Some(description)) => found.push(CheckpointListing { path, description }),
            Ok(None) => {}
            // Removed since the directory was read (a prune renames it away first).
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    found.sort_by(|a, b| {
        (b.description.created_unix_ms, b.description.seqno, &b.path).cmp(&(
            a.description.created_unix_ms,
            a.description.seqno,
            &a.path,
        ))
    });
    Ok(found)
}
