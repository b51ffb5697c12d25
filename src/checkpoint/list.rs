//! Finding checkpoints: [`describe`] one directory, [`list`] a folder of them.

use std::path::{Path, PathBuf};

use super::{CHECKPOINT_FILE, CheckpointDescription};
use crate::Result;
use crate::fs::{FileKind, Fs, read_to_vec};

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

/// The checkpoints directly under `dir`, newest first. Directories that are
/// not checkpoints are skipped; a checkpoint with a damaged description is
/// an error naming it.
pub fn list(fs: &dyn Fs, dir: &Path) -> Result<Vec<CheckpointListing>> {
    let mut found = Vec::new();
    for entry in fs.read_dir(dir)? {
        if entry.kind != FileKind::Dir {
            continue;
        }
        let path = dir.join(&entry.name);
        if let Some(description) = describe(fs, &path)? {
            found.push(CheckpointListing { path, description });
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
