//! Deleting a checkpoint: [`delete`].
//!
//! A checkpoint is removed the way a failed checkpoint's staging directory
//! is: its `LOCK` taken, the directory renamed to a staging name beside it
//! (the one step that makes it disappear, atomic and fsynced), then
//! emptied, `LOCK` last. A crash before the rename leaves the checkpoint
//! whole; after it, a staging directory whose lock no one holds, which the
//! next checkpoint (or restore) into the same folder removes.

use std::path::{Path, PathBuf};

use super::{CHECKPOINT_FILE, CheckpointDescription, describe};
use crate::fs::{FileKind, Fs, read_to_vec, sync_parent};
use crate::staging::{remove_staging, staging_path};
use crate::version::{DbLayout, FileName, decode_current, decode_version};
use crate::{Error, Result};

/// What [`delete`] removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedCheckpoint {
    /// The checkpoint's real path (symbolic links on the way resolved).
    pub path: PathBuf,
    /// Its `CHECKPOINT` file, as it was.
    pub description: CheckpointDescription,
    /// Files removed.
    pub files: usize,
    /// Bytes of those files (shared ones, linked from the source, stay in
    /// use there).
    pub bytes: u64,
}

/// Deletes the checkpoint at `path`, refusing what is not plainly one:
///
/// - a directory without a `CHECKPOINT` file (`Error::InvalidArgument`:
///   a database, or something else) or with a damaged one (`Corruption`);
/// - a checkpoint opened for writing since it was taken (it is a database
///   of its own then, and may hold writes nothing else does);
/// - one open in a process now (`Error::Locked`);
/// - one holding a file cairndb does not make (named in the error).
///
/// A checkpoint whose version cannot be read is deleted: it cannot be
/// opened, so it holds nothing to lose. Files the checkpoint shares with
/// its source (hard links, reflinks) stay in the source.
pub fn delete(fs: &dyn Fs, path: &Path) -> Result<DeletedCheckpoint> {
    let path = fs.canonicalize(path)?;
    let Some(description) = describe(fs, &path)? else {
        return Err(Error::invalid(format!(
            "{} is not a checkpoint (it has no {CHECKPOINT_FILE} file); nothing was deleted",
            path.display()
        )));
    };
    let layout = DbLayout::new(&path);
    let _lock = fs.lock(&layout.lock())?;
    if opened_for_writing(fs, &layout) {
        return Err(Error::invalid(format!(
            "{} was opened for writing since it was taken: it is a database of its own now and may hold writes \
             no other copy has; nothing was deleted",
            path.display()
        )));
    }
    let (files, bytes) = tally(fs, &layout)?;
    let staging = staging_path(&path);
    fs.rename(&path, &staging)?;
    sync_parent(fs, &path)?;
    remove_staging(fs, &staging)?;
    sync_parent(fs, &path)?;
    Ok(DeletedCheckpoint { path, description, files, bytes })
}

/// Whether the version `CURRENT` names is past its fork: a copy opened for
/// writing. A version that cannot be read says no.
fn opened_for_writing(fs: &dyn Fs, layout: &DbLayout) -> bool {
    let read = || -> Result<bool> {
        let (id, _) = decode_current(&layout.current(), &read_to_vec(fs, &layout.current())?)?;
        let path = layout.version(id);
        Ok(!decode_version(&path, &read_to_vec(fs, &path)?)?.fork_pending)
    };
    read().unwrap_or(false)
}

/// The files of the checkpoint and their bytes; an error names the first
/// entry a checkpoint does not hold.
fn tally(fs: &dyn Fs, layout: &DbLayout) -> Result<(usize, u64)> {
    let (mut files, mut bytes) = (0, 0);
    let mut count = |dir: &Path, name: &str| -> Result<()> {
        files += 1;
        bytes += fs.metadata(&dir.join(name))?.len;
        Ok(())
    };
    let root = layout.root();
    for entry in fs.read_dir(root)? {
        let name = entry.name.to_str().unwrap_or_default();
        match (name, entry.kind) {
            (DbLayout::TABLES | DbLayout::BLOBS | DbLayout::LOG, FileKind::Dir) => {
                let dir = root.join(name);
                for inner in fs.read_dir(&dir)? {
                    let inner_name = inner.name.to_str().unwrap_or_default();
                    if inner.kind != FileKind::File || !is_file_in(name, inner_name) {
                        return Err(foreign(&dir.join(&inner.name)));
                    }
                    count(&dir, inner_name)?;
                }
            }
            (DbLayout::LOCK | CHECKPOINT_FILE, FileKind::File) => count(root, name)?,
            (_, FileKind::File) if FileName::parse_root(name).is_some() || name.ends_with(".tmp") => count(root, name)?,
            _ => return Err(foreign(&root.join(&entry.name))),
        }
    }
    Ok((files, bytes))
}

/// Whether `name` is one cairndb gives a file in the folder `folder`.
fn is_file_in(folder: &str, name: &str) -> bool {
    let parse = match folder {
        DbLayout::TABLES => FileName::parse_table,
        DbLayout::BLOBS => FileName::parse_blob,
        _ => FileName::parse_log,
    };
    parse(name).is_some() || name.ends_with(".tmp")
}

fn foreign(path: &Path) -> Error {
    Error::invalid(format!(
        "{} is not something a checkpoint holds (put there by hand?); nothing was deleted",
        path.display()
    ))
}
