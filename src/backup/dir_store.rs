//! [`DirStore`]: a backup store in a local directory (another disk, a
//! network mount), through [`Fs`].
//!
//! A key is a path below the root. Every write goes to a fresh temporary
//! file in `.uploads/` (made by the first write), is fsynced, and only then gets its final name: by
//! `rename` for [`put`](BackupStore::put), by a hard link for
//! [`put_if_absent`](BackupStore::put_if_absent) (`link` fails when the name
//! exists, so exactly one of two racing writers wins, and a reader never
//! sees a partial object); then the directory is fsynced. A crash leaves at
//! most a file in `.uploads/`, whose name starts with the time it was begun,
//! for [`remove_stale_uploads`](BackupStore::remove_stale_uploads). A
//! delete unlinks, then fsyncs the directory (once for a whole
//! [`delete_many`](BackupStore::delete_many)).

use std::collections::BTreeSet;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::io::Errno;

use super::clock::{nonce, now_unix_ms};
use super::store::{BackupStore, ObjectInfo, Source, check_key};
use crate::fs::{FileKind, Fs, OpenOptions, StdFs, create_dir_all_durably, sync_parent};
use crate::{Error, Result};

/// Folder of temporary uploads under the root (keys never start with `.`).
pub const UPLOADS_DIR: &str = ".uploads";
/// Bytes moved at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// A backup store in a directory; see the module documentation.
#[derive(Clone, Debug)]
pub struct DirStore {
    fs: Arc<dyn Fs>,
    root: PathBuf,
}

impl DirStore {
    /// The store in `root` on `fs`, creating the directory if missing.
    pub fn open(fs: Arc<dyn Fs>, root: impl Into<PathBuf>) -> Result<DirStore> {
        let root = root.into();
        if !fs.exists(&root)? {
            create_dir_all_durably(&*fs, &root)?;
        }
        Self::open_existing(fs, root)
    }

    /// The store in the directory `root` on `fs`, which must exist. Opening
    /// writes nothing (reading a store needs no write permission); the
    /// first write makes `.uploads/`.
    pub fn open_existing(fs: Arc<dyn Fs>, root: impl Into<PathBuf>) -> Result<DirStore> {
        let root = root.into();
        match fs.metadata(&root) {
            Ok(meta) if meta.is_dir() => Ok(DirStore { fs, root }),
            Ok(_) => Err(Error::invalid(format!("{} is not a directory", root.display()))),
            Err(e) if e.is_not_found() => {
                Err(Error::invalid(format!("no backup store at {} (no such directory)", root.display())))
            }
            Err(e) => Err(e),
        }
    }

    /// The store in `root` on the real file system.
    pub fn open_path(root: impl Into<PathBuf>) -> Result<DirStore> {
        Self::open(Arc::new(StdFs::new()), root)
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    /// The path for `key`, with its folders created (durably).
    fn path_with_parents(&self, key: &str) -> Result<PathBuf> {
        let path = self.path(key)?;
        let mut dir = self.root.clone();
        let parts: Vec<&str> = key.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            dir.push(part);
            if !self.fs.exists(&dir)? {
                create_dir_all_durably(&*self.fs, &dir)?;
            }
        }
        Ok(path)
    }

    /// Writes `body` to a new temporary file and fsyncs it.
    fn upload(&self, body: &dyn Source) -> Result<PathBuf> {
        let uploads = self.root.join(UPLOADS_DIR);
        if !self.fs.exists(&uploads)? {
            create_dir_all_durably(&*self.fs, &uploads)?;
        }
        let tmp = uploads.join(format!("{}-{:016x}", now_unix_ms(), nonce()));
        let file = self.fs.open(&tmp, OpenOptions::create_new())?;
        let written = (|| {
            let len = body.len_bytes();
            let mut buf = vec![0u8; CHUNK_BYTES.min(usize::try_from(len).unwrap_or(CHUNK_BYTES)).max(1)];
            let mut offset = 0;
            while offset < len {
                let want = buf.len().min(usize::try_from(len - offset).unwrap_or(usize::MAX));
                let n = body.read_at(&mut buf[..want], offset)?;
                if n == 0 {
                    return Err(Error::io(
                        "upload",
                        &tmp,
                        io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("source ended at {offset} of {len} bytes"),
                        ),
                    ));
                }
                file.write_all_at(&buf[..n], offset)?;
                offset += n as u64;
            }
            file.sync_all()
        })();
        drop(file);
        match written {
            Ok(()) => Ok(tmp),
            Err(e) => {
                self.discard(&tmp);
                Err(e)
            }
        }
    }

    /// Removes a temporary file; a failure only leaves work for
    /// `remove_stale_uploads`.
    fn discard(&self, tmp: &Path) {
        if let Err(e) = self.fs.remove_file(tmp) {
            log::debug!("could not remove the temporary upload {}: {e}", tmp.display());
        }
    }

    /// The directory holding the keys that start with `prefix`, the key
    /// prefix of its entries, and what their names must start with.
    fn prefix_dir<'p>(&self, prefix: &'p str) -> Result<(PathBuf, String, &'p str)> {
        let (dir_part, name_prefix) = match prefix.rfind('/') {
            Some(i) => (&prefix[..i], &prefix[i + 1..]),
            None => ("", prefix),
        };
        Ok(if dir_part.is_empty() {
            (self.root.clone(), String::new(), name_prefix)
        } else {
            (self.path(dir_part)?, format!("{dir_part}/"), name_prefix)
        })
    }

    /// Fsyncs `dir` and every directory below it.
    fn sync_tree(&self, dir: &Path) -> Result<()> {
        for entry in self.fs.read_dir(dir)? {
            if entry.kind == FileKind::Dir && entry.name != UPLOADS_DIR {
                self.sync_tree(&dir.join(&entry.name))?;
            }
        }
        self.fs.sync_directory(dir)
    }

    fn walk(&self, dir: &Path, key_prefix: &str, name_prefix: &str, out: &mut Vec<ObjectInfo>) -> Result<()> {
        for entry in self.fs.read_dir(dir)? {
            let Some(name) = entry.name.to_str() else { continue };
            if !name.starts_with(name_prefix) || check_key(name).is_err() {
                continue;
            }
            let key = format!("{key_prefix}{name}");
            let path = dir.join(name);
            match entry.kind {
                FileKind::Dir => self.walk(&path, &format!("{key}/"), "", out)?,
                FileKind::File => match self.fs.metadata(&path) {
                    Ok(meta) => out.push(ObjectInfo { key, size_bytes: meta.len }),
                    // Deleted since the directory was read.
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e),
                },
                FileKind::Symlink | FileKind::Other => {}
            }
        }
        Ok(())
    }
}

impl BackupStore for DirStore {
    fn location(&self, key: &str) -> String {
        self.root.join(key).display().to_string()
    }

    fn put_if_absent(&self, key: &str, body: &dyn Source) -> Result<()> {
        let path = self.path_with_parents(key)?;
        let tmp = self.upload(body)?;
        let linked = match self.fs.hard_link(&tmp, &path) {
            // The name is ours (a link never replaces one). If it cannot be
            // made durable, take it back, so that an error means "not
            // created"; should a crash bring it back, it is whole.
            Ok(()) => sync_parent(&*self.fs, &path).inspect_err(|_| {
                let _ = self.fs.remove_file(&path);
            }),
            Err(e) if e.is_already_exists() => Err(Error::TargetExists { path }),
            Err(e) if refused(&e) => Err(Error::Unsupported {
                what: format!(
                    "the file system of {} refuses hard links ({e}); a backup directory needs them for create-only \
                     commits",
                    self.root.display()
                ),
            }),
            Err(e) => Err(e),
        };
        self.discard(&tmp);
        linked
    }

    fn put(&self, key: &str, body: &dyn Source) -> Result<()> {
        let path = self.path_with_parents(key)?;
        let tmp = self.upload(body)?;
        if let Err(e) = self.fs.rename(&tmp, &path) {
            self.discard(&tmp);
            return Err(e);
        }
        sync_parent(&*self.fs, &path)
    }

    fn read(&self, key: &str, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<u64> {
        let path = self.path(key)?;
        let file = self.fs.open(&path, OpenOptions::read())?;
        let len = file.len()?;
        let mut buf = vec![0u8; CHUNK_BYTES.min(usize::try_from(len).unwrap_or(CHUNK_BYTES)).max(1)];
        let mut offset = 0;
        while offset < len {
            let want = buf.len().min(usize::try_from(len - offset).unwrap_or(usize::MAX));
            file.read_exact_at(&mut buf[..want], offset)?;
            sink(&buf[..want])?;
            offset += want as u64;
        }
        Ok(len)
    }

    fn get_range(&self, key: &str, range: Range<u64>) -> Result<Vec<u8>> {
        let path = self.path(key)?;
        let file = self.fs.open(&path, OpenOptions::read())?;
        let end = range.end.min(file.len()?);
        let start = range.start.min(end);
        let mut buf = vec![0u8; usize::try_from(end - start).map_err(|_| Error::invalid("range too large"))?];
        file.read_exact_at(&mut buf, start)?;
        Ok(buf)
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let (dir, key_prefix, name_prefix) = self.prefix_dir(prefix)?;
        let mut out = Vec::new();
        match self.fs.metadata(&dir) {
            Ok(meta) if meta.is_dir() => self.walk(&dir, &key_prefix, name_prefix, &mut out)?,
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.delete_many(&[key.to_owned()])
    }

    fn settle(&self, prefix: &str) -> Result<()> {
        let (dir, _, _) = self.prefix_dir(prefix)?;
        match self.fs.metadata(&dir) {
            Ok(meta) if meta.is_dir() => self.sync_tree(&dir),
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn delete_many(&self, keys: &[String]) -> Result<()> {
        let mut dirs = BTreeSet::new();
        for key in keys {
            let path = self.path(key)?;
            match self.fs.remove_file(&path) {
                // Gone already, perhaps by a delete whose sync failed: the
                // sync below makes sure it stays gone.
                Err(e) if e.is_not_found() => {}
                other => other?,
            }
            dirs.insert(path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone()));
        }
        for dir in dirs {
            match self.fs.sync_directory(&dir) {
                Err(e) if e.is_not_found() => {}
                other => other?,
            }
        }
        Ok(())
    }

    fn head(&self, key: &str) -> Result<Option<u64>> {
        match self.fs.metadata(&self.path(key)?) {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len)),
            Ok(_) => Ok(None),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn remove_stale_uploads(&self, cutoff_unix_ms: u64) -> Result<usize> {
        let dir = self.root.join(UPLOADS_DIR);
        let mut removed = 0;
        let entries = match self.fs.read_dir(&dir) {
            Err(e) if e.is_not_found() => return Ok(0), // Nothing was ever written.
            entries => entries?,
        };
        for entry in entries {
            let begun = entry.name.to_str().and_then(|n| n.split('-').next()).and_then(|ms| ms.parse::<u64>().ok());
            // A name not of our making is no one's upload in progress.
            if begun.is_none_or(|ms| ms <= cutoff_unix_ms) {
                match self.fs.remove_file(&dir.join(&entry.name)) {
                    Ok(()) => removed += 1,
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }
}

/// A hard link the file system will not make here.
fn refused(e: &Error) -> bool {
    e.raw_os_error()
        .map(Errno::from_raw_os_error)
        .is_some_and(|errno| matches!(errno, Errno::PERM | Errno::OPNOTSUPP | Errno::XDEV | Errno::MLINK))
}
