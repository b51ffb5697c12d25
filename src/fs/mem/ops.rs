//! Path operations on a `MemFs` namespace, with the checks and error codes
//! Linux applies. Each returns a bare `io::Error`; `MemFs` names the
//! operation and the paths.

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};

use rustix::io::Errno;

use super::state::{Body, DirNode, DirOp, FileNode, FileOp, Ino, ROOT, State, SymlinkNode, components, errno};
use crate::fs::{DirEntry, FileKind, Metadata, OpenOptions};

/// Rejects option sets `open(2)` (through `std`) would reject, with the same
/// kind `StdFs` reports.
fn check_options(options: OpenOptions) -> io::Result<()> {
    let writes = options.write || options.append;
    if !options.read && !writes {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "open options ask for neither read nor write"));
    }
    if !writes && (options.create || options.create_new || options.truncate) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "create or truncate without write access"));
    }
    Ok(())
}

impl State {
    /// Opens (or creates) the inode at `path`; the caller counts the handle.
    /// A final symbolic link is followed (and a missing file it names
    /// created), except with `create_new`, which fails on any link.
    pub(super) fn open(&mut self, path: &Path, options: OpenOptions) -> io::Result<Ino> {
        check_options(options)?;
        let names = components(path)?;
        let parent = self.lookup_parent(&names)?;
        let existing = match parent {
            None => Some(ROOT),
            Some((dir, name)) => self.entry(dir, name),
        };
        match (existing, parent) {
            (Some(_), _) if options.create_new => Err(errno(Errno::EXIST)),
            (Some(ino), _) if self.kind(ino) == FileKind::Symlink => self.open_through_link(&names, options),
            (Some(ino), _) => self.open_existing(ino, options),
            (None, Some((dir, name))) if options.create || options.create_new => Ok(self.create_file(dir, name)),
            (None, _) => Err(errno(Errno::NOENT)),
        }
    }

    /// Opens the file a final symbolic link leads to, creating it (where
    /// the link points) if missing and allowed.
    fn open_through_link(&mut self, names: &[&OsStr], options: OpenOptions) -> io::Result<Ino> {
        let walk = self.walk(names, true)?;
        let last = walk.last();
        match walk.missing {
            None => self.open_existing(last, options),
            Some(name) if options.create => Ok(self.create_file(last, &name)),
            Some(_) => Err(errno(Errno::NOENT)),
        }
    }

    fn open_existing(&mut self, ino: Ino, options: OpenOptions) -> io::Result<Ino> {
        let writes = options.write || options.append;
        match self.inodes.get_mut(&ino).map(|n| &mut n.body) {
            Some(Body::Dir(_)) if writes => Err(errno(Errno::ISDIR)),
            // Opening follows links; a link left here means a loop.
            Some(Body::Symlink(_)) => Err(errno(Errno::LOOP)),
            Some(Body::File(file)) if options.truncate => file.set_len(0).map(|()| ino),
            Some(_) => Ok(ino),
            None => Err(errno(Errno::NOENT)),
        }
    }

    fn create_file(&mut self, dir: Ino, name: &OsStr) -> Ino {
        self.create(dir, name, Body::File(FileNode::default()))
    }

    /// Adds a new inode under `dir`, on `dir`'s device.
    fn create(&mut self, dir: Ino, name: &OsStr, body: Body) -> Ino {
        self.maybe_collect_garbage();
        let ino = self.alloc(self.device_of(dir), body);
        self.change_dir(dir, DirOp::Set { name: name.to_owned(), ino });
        ino
    }

    /// `mkdir(2)`.
    pub(super) fn create_dir(&mut self, path: &Path) -> io::Result<()> {
        let names = components(path)?;
        let Some((dir, name)) = self.lookup_parent(&names)? else {
            return Err(errno(Errno::EXIST));
        };
        if self.entry(dir, name).is_some() {
            return Err(errno(Errno::EXIST));
        }
        self.create(dir, name, Body::Dir(DirNode::default()));
        Ok(())
    }

    /// `mkdir -p`: an existing directory (or link to one) is fine, an
    /// existing file is `EEXIST` at the end of the path and `ENOTDIR` before
    /// it, a dangling link `ENOENT`.
    pub(super) fn create_dir_all(&mut self, path: &Path) -> io::Result<()> {
        if path.as_os_str().is_empty() {
            return Ok(());
        }
        let names = components(path)?;
        let mut dir = ROOT;
        for (i, name) in names.iter().enumerate() {
            let existing = match self.entry(dir, name) {
                Some(child) if self.kind(child) == FileKind::Symlink => Some(self.lookup(&names[..=i])?),
                other => other,
            };
            dir = match existing {
                Some(child) if self.kind(child) == FileKind::Dir => child,
                Some(_) if i + 1 == names.len() => return Err(errno(Errno::EXIST)),
                Some(_) => return Err(errno(Errno::NOTDIR)),
                None => self.create(dir, name, Body::Dir(DirNode::default())),
            };
        }
        Ok(())
    }

    /// Lists a directory, sorted by name.
    pub(super) fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        let dir = self.dir(self.lookup(&components(path)?)?)?;
        let entries = dir.live.iter();
        Ok(entries.map(|(name, &ino)| DirEntry { name: name.clone(), kind: self.kind(ino) }).collect())
    }

    /// `unlink(2)`.
    pub(super) fn remove_file(&mut self, path: &Path) -> io::Result<()> {
        let names = components(path)?;
        let Some((dir, name)) = self.lookup_parent(&names)? else {
            return Err(errno(Errno::ISDIR));
        };
        let ino = self.entry(dir, name).ok_or_else(|| errno(Errno::NOENT))?;
        if self.kind(ino) == FileKind::Dir {
            return Err(errno(Errno::ISDIR));
        }
        self.change_dir(dir, DirOp::Remove { name: name.to_owned() });
        Ok(())
    }

    /// `rmdir(2)`.
    pub(super) fn remove_dir(&mut self, path: &Path) -> io::Result<()> {
        let names = components(path)?;
        let Some((dir, name)) = self.lookup_parent(&names)? else {
            return Err(errno(Errno::BUSY));
        };
        let ino = self.entry(dir, name).ok_or_else(|| errno(Errno::NOENT))?;
        let node = self.dir(ino)?;
        if node.mount_root {
            return Err(errno(Errno::BUSY));
        }
        if !node.live.is_empty() {
            return Err(errno(Errno::NOTEMPTY));
        }
        self.change_dir(dir, DirOp::Remove { name: name.to_owned() });
        Ok(())
    }

    /// `rename(2)`: replaces a file at `to` atomically; a rename within one
    /// directory is one pending change, across two it is one in each.
    /// Symbolic links at either end are renamed or replaced, not followed.
    pub(super) fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        let (from_names, to_names) = (components(from)?, components(to)?);
        let busy = || errno(Errno::BUSY);
        let (from_dir, from_name) = self.lookup_parent(&from_names)?.ok_or_else(busy)?;
        let ino = self.entry(from_dir, from_name).ok_or_else(|| errno(Errno::NOENT))?;
        let (to_dir, to_name) = self.lookup_parent(&to_names)?.ok_or_else(busy)?;
        if self.device_of(from_dir) != self.device_of(to_dir) {
            return Err(errno(Errno::XDEV));
        }
        let target = self.entry(to_dir, to_name);
        if target == Some(ino) {
            return Ok(()); // Two names of one inode: POSIX says do nothing.
        }
        self.check_rename(ino, target, &to_names)?;
        let (from_name, to_name) = (from_name.to_owned(), to_name.to_owned());
        if from_dir == to_dir {
            self.change_dir(from_dir, DirOp::Move { from: from_name, to: to_name, ino });
        } else {
            self.change_dir(to_dir, DirOp::Set { name: to_name, ino });
            self.change_dir(from_dir, DirOp::Remove { name: from_name });
        }
        Ok(())
    }

    fn check_rename(&self, ino: Ino, target: Option<Ino>, to: &[&OsStr]) -> io::Result<()> {
        let Ok(dir) = self.dir(ino) else {
            return match target.map(|t| self.kind(t)) {
                Some(FileKind::Dir) => Err(errno(Errno::ISDIR)),
                _ => Ok(()),
            };
        };
        if dir.mount_root {
            return Err(errno(Errno::BUSY));
        }
        let to_dirs = self.walk(&to[..to.len() - 1], true)?.chain;
        if to_dirs.iter().any(|&(_, dir)| dir == ino) {
            return Err(errno(Errno::INVAL)); // Into its own subtree.
        }
        let Some(target) = target else { return Ok(()) };
        let target = self.dir(target)?; // A file target is ENOTDIR.
        if target.mount_root {
            Err(errno(Errno::BUSY))
        } else if !target.live.is_empty() {
            Err(errno(Errno::NOTEMPTY))
        } else {
            Ok(())
        }
    }

    /// `lstat(2)`: a symbolic link's length is that of its target's path.
    pub(super) fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        let ino = self.lookup_no_follow(&components(path)?)?;
        let len = match self.inodes.get(&ino).map(|n| &n.body) {
            Some(Body::File(file)) => file.live.len() as u64,
            Some(Body::Symlink(link)) => link.target.as_os_str().len() as u64,
            _ => 0,
        };
        let (kind, nlink, device) = (self.kind(ino), self.nlink(ino), self.device_id(ino));
        Ok(Metadata { kind, len, nlink, device })
    }

    /// True when `path` names something, a dangling symbolic link included;
    /// a missing name or a file used as a directory is `false`, anything
    /// else wrong is an error.
    pub(super) fn exists(&self, path: &Path) -> io::Result<bool> {
        match components(path).and_then(|names| self.lookup_no_follow(&names)) {
            Ok(_) => Ok(true),
            Err(e) if is_absent(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The destination directory and name of a link or clone, which must
    /// not exist, and the source's inode (a final symbolic link followed
    /// when `follow_src`).
    fn link_ends<'p>(&self, src: &[&OsStr], follow_src: bool, dst: &[&'p OsStr]) -> io::Result<(Ino, Ino, &'p OsStr)> {
        let ino = if follow_src { self.lookup(src)? } else { self.lookup_no_follow(src)? };
        let (dir, name) = self.lookup_parent(dst)?.ok_or_else(|| errno(Errno::EXIST))?;
        if self.entry(dir, name).is_some() {
            return Err(errno(Errno::EXIST));
        }
        Ok((ino, dir, name))
    }

    /// `link(2)`: a symbolic link at `src` is linked itself, not followed.
    pub(super) fn hard_link(&mut self, src: &Path, dst: &Path) -> io::Result<()> {
        let dst_names = components(dst)?;
        let (ino, dir, name) = self.link_ends(&components(src)?, false, &dst_names)?;
        if self.device_of(ino) != self.device_of(dir) {
            return Err(errno(Errno::XDEV));
        }
        if self.kind(ino) == FileKind::Dir {
            return Err(errno(Errno::PERM));
        }
        self.change_dir(dir, DirOp::Set { name: name.to_owned(), ino });
        Ok(())
    }

    /// `FICLONE` into a new file. Like a real clone, the new file's content
    /// is not durable until it is synced.
    pub(super) fn reflink(&mut self, src: &Path, dst: &Path) -> io::Result<()> {
        let dst_names = components(dst)?;
        let (ino, dir, name) = self.link_ends(&components(src)?, true, &dst_names)?;
        let content = match self.inodes.get(&ino).map(|n| &n.body) {
            Some(Body::File(file)) => file.live.clone(),
            _ => return Err(errno(Errno::ISDIR)),
        };
        let device = self.device_of(dir);
        if self.device_of(ino) != device {
            return Err(errno(Errno::XDEV));
        }
        if !self.devices.get(device as usize).is_some_and(|d| d.reflink) {
            return Err(errno(Errno::OPNOTSUPP));
        }
        let mut file = FileNode::default();
        if !content.is_empty() {
            file.pending.push(FileOp::Write { offset: 0, data: content.clone() });
        }
        file.live = content;
        self.create(dir, name, Body::File(file));
        Ok(())
    }

    /// `symlink(2)`: a new link at `link` pointing to `target`, which need
    /// not exist.
    pub(super) fn symlink(&mut self, target: &Path, link: &Path) -> io::Result<()> {
        if target.as_os_str().is_empty() {
            return Err(errno(Errno::NOENT));
        }
        let names = components(link)?;
        let (dir, name) = self.lookup_parent(&names)?.ok_or_else(|| errno(Errno::EXIST))?;
        if self.entry(dir, name).is_some() {
            return Err(errno(Errno::EXIST));
        }
        self.create(dir, name, Body::Symlink(SymlinkNode { target: target.to_path_buf(), nlink: 0 }));
        Ok(())
    }

    /// `realpath(3)`: the path from the root to what `path` names, every
    /// symbolic link followed.
    pub(super) fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        let walk = self.walk(&components(path)?, true)?;
        if walk.missing.is_some() {
            return Err(errno(Errno::NOENT));
        }
        Ok(walk.path())
    }

    /// The directory at `path`, for a directory sync.
    pub(super) fn lookup_dir(&self, path: &Path) -> io::Result<Ino> {
        let ino = self.lookup(&components(path)?)?;
        self.dir(ino)?;
        Ok(ino)
    }

    /// Makes the empty directory at `dir` the root of a new device.
    pub(super) fn mount(&mut self, dir: &Path, options: super::state::DeviceOptions) -> io::Result<Ino> {
        let ino = self.lookup_dir(dir)?;
        let node = self.dir(ino)?;
        if ino == ROOT || node.mount_root {
            return Err(errno(Errno::BUSY));
        }
        if !node.live.is_empty() || !node.durable.is_empty() || !node.pending.is_empty() {
            return Err(errno(Errno::NOTEMPTY));
        }
        let device = self.devices.len() as u64;
        self.devices.push(options);
        if let Some(inode) = self.inodes.get_mut(&ino) {
            inode.device = device;
            if let Body::Dir(node) = &mut inode.body {
                node.mount_root = true;
            }
        }
        Ok(ino)
    }
}

/// True for the errors that mean "nothing is there".
fn is_absent(e: &io::Error) -> bool {
    let code = e.raw_os_error();
    code == Some(Errno::NOENT.raw_os_error()) || code == Some(Errno::NOTDIR.raw_os_error())
}
