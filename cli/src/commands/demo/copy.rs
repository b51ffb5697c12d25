//! The slow way, for comparison: sizing a directory and copying it file by
//! file (streamed, fsynced), as a backup without checkpoints would.

use std::path::Path;
use std::time::{Duration, Instant};

use cairndb::fs::{FileKind, Fs, copy_file};

/// Files and bytes on disk under `dir`, recursively.
#[derive(Clone, Copy, Debug, Default)]
pub struct Size {
    /// Regular files.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// The size of everything under `dir`.
pub fn measure(fs: &dyn Fs, dir: &Path) -> cairndb::Result<Size> {
    let mut size = Size::default();
    for entry in fs.read_dir(dir)? {
        let path = dir.join(&entry.name);
        match entry.kind {
            FileKind::Dir => {
                let inner = measure(fs, &path)?;
                size.files += inner.files;
                size.bytes += inner.bytes;
            }
            FileKind::File => {
                size.files += 1;
                size.bytes += fs.metadata(&path)?.len;
            }
            FileKind::Symlink | FileKind::Other => {}
        }
    }
    Ok(size)
}

/// Copies `from` into the new directory `to`, fsyncing every file and
/// directory; returns how long it took.
pub fn copy_dir(fs: &dyn Fs, from: &Path, to: &Path) -> cairndb::Result<Duration> {
    let started = Instant::now();
    copy_tree(fs, from, to)?;
    Ok(started.elapsed())
}

fn copy_tree(fs: &dyn Fs, from: &Path, to: &Path) -> cairndb::Result<()> {
    fs.create_dir(to)?;
    for entry in fs.read_dir(from)? {
        let (src, dst) = (from.join(&entry.name), to.join(&entry.name));
        match entry.kind {
            FileKind::Dir => copy_tree(fs, &src, &dst)?,
            FileKind::File => {
                copy_file(fs, &src, fs, &dst, fs.metadata(&src)?.len, true)?;
            }
            FileKind::Symlink | FileKind::Other => {}
        }
    }
    fs.sync_directory(to)
}
