//! Helpers built from the [`Fs`] trait methods alone.

use std::path::{Path, PathBuf};

use super::{FileKind, Fs, OpenOptions};
use crate::{Error, Result};

/// Largest file [`read_to_vec`] will load, to bound memory on a corrupt or
/// unexpected path.
const READ_TO_VEC_MAX_BYTES: u64 = 1 << 30;

/// Reads a whole file into memory.
pub fn read_to_vec(fs: &dyn Fs, path: &Path) -> Result<Vec<u8>> {
    let file = fs.open(path, OpenOptions::read())?;
    let len = file.len()?;
    if len > READ_TO_VEC_MAX_BYTES {
        return Err(Error::invalid(format!(
            "{} is {len} bytes, more than the {READ_TO_VEC_MAX_BYTES} bytes read_to_vec loads",
            path.display()
        )));
    }
    let mut buf = vec![0u8; len as usize];
    file.read_exact_at(&mut buf, 0)?;
    Ok(buf)
}

/// Replaces `path` with `data` atomically and durably: writes a temporary
/// file beside it, fsyncs it, renames it over `path`, and fsyncs the
/// directory. After a crash the file holds either its old content or `data`.
pub fn write_file_atomic(fs: &dyn Fs, path: &Path, data: &[u8]) -> Result<()> {
    replace_file(fs, path, data)?;
    sync_parent(fs, path)
}

/// [`write_file_atomic`] but for the directory fsync: after a crash the
/// file may hold its old content even once this returned. On an error
/// `path` is as it was (the rename is the last step).
pub(crate) fn replace_file(fs: &dyn Fs, path: &Path, data: &[u8]) -> Result<()> {
    let name = path.file_name().ok_or_else(|| Error::invalid(format!("{} has no file name", path.display())))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let file = fs.open(&tmp, OpenOptions::create_truncate())?;
    let written = file.write_all_at(data, 0).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| fs.rename(&tmp, path)) {
        let _ = fs.remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Fsyncs the directory that holds `path`.
pub fn sync_parent(fs: &dyn Fs, path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => fs.sync_directory(parent),
        _ => fs.sync_directory(Path::new(".")),
    }
}

/// Creates `dir` and its missing ancestors so that each new entry is
/// durable: every directory made has its parent fsynced after it (one a
/// racing caller made meanwhile too: its entry must be durable before
/// ours). Returns the directories created, outermost first.
///
/// An error leaves no new directory behind: those made are removed again,
/// innermost first. A directory whose parent's sync failed is visible but
/// not durable, and a later call that found it there would build on
/// something a crash takes away (everything put in it since).
pub fn create_dir_all_durably(fs: &dyn Fs, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(path) = at.filter(|p| !p.as_os_str().is_empty()) {
        if fs.exists(path)? {
            break;
        }
        missing.push(path.to_path_buf());
        at = path.parent();
    }
    missing.reverse();
    let mut created: Vec<PathBuf> = Vec::new();
    for path in missing {
        let step = match fs.create_dir(&path) {
            Ok(()) => {
                created.push(path.clone());
                Ok(())
            }
            Err(e) if e.is_already_exists() && fs.metadata(&path).is_ok_and(|m| m.is_dir()) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = step.and_then(|()| sync_parent(fs, &path)) {
            for made in created.iter().rev() {
                if let Err(e) = fs.remove_dir(made) {
                    log::warn!("could not remove {} after a failed create: {e}", made.display());
                }
            }
            return Err(e);
        }
    }
    Ok(created)
}

/// Removes a directory and everything below it. Symbolic links are removed,
/// never followed.
pub fn remove_dir_all(fs: &dyn Fs, path: &Path) -> Result<()> {
    for entry in fs.read_dir(path)? {
        let child = path.join(&entry.name);
        match entry.kind {
            FileKind::Dir => remove_dir_all(fs, &child)?,
            _ => fs.remove_file(&child)?,
        }
    }
    fs.remove_dir(path)
}
