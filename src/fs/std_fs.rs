//! [`StdFs`]: the real file system, through `rustix` system calls.
//!
//! A system call takes a path of at most [`PATH_BYTES_MAX`] bytes, but a
//! file system holds deeper ones: the files of a database whose directory
//! path is close to that limit (a checkpoint made there, its staging
//! directory) are longer. Every call therefore names its path relative to
//! a directory ([`Located`]): the working directory for a path that fits,
//! else a directory opened piece by piece along the path (each piece
//! short enough, resolved by the kernel as the whole path would be).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use rustix::fs::{self as sys, AtFlags, CWD, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use super::{DeviceId, DirEntry, FileKind, Fs, FsFile, FsLock, Metadata, OpenOptions};
use crate::sync::MutexExt;
use crate::{Error, Result};

/// Namespace of every path the operating system resolves.
const OS_NAMESPACE: u64 = 0;
/// The longest path a system call takes: Linux's `PATH_MAX` (4096) counts
/// the terminating NUL.
const PATH_BYTES_MAX: usize = 4095;
const FILE_MODE: u32 = 0o644;
const DIR_MODE: u32 = 0o755;

/// The operating system's file systems.
///
/// Reflink support is probed once per device (by cloning an empty scratch
/// file in the directory asked about) and cached.
#[derive(Debug, Default)]
pub struct StdFs {
    reflink_by_device: Mutex<HashMap<u64, bool>>,
}

impl StdFs {
    /// A handle to the operating system's file systems.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Retries a system call interrupted by a signal.
fn retry<T>(mut call: impl FnMut() -> rustix::io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(Errno::INTR) => continue,
            other => return other.map_err(io::Error::from),
        }
    }
}

fn kind_of(mode: u32) -> FileKind {
    kind_of_type(FileType::from_raw_mode(mode))
}

fn kind_of_type(file_type: FileType) -> FileKind {
    match file_type {
        FileType::RegularFile => FileKind::File,
        FileType::Directory => FileKind::Dir,
        FileType::Symlink => FileKind::Symlink,
        _ => FileKind::Other,
    }
}

fn open_flags(options: OpenOptions) -> io::Result<OFlags> {
    let writes = options.write || options.append;
    let mut flags = match (options.read, writes) {
        (true, true) => OFlags::RDWR,
        (false, true) => OFlags::WRONLY,
        (true, false) => OFlags::RDONLY,
        (false, false) => {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "open options ask for neither read nor write"));
        }
    };
    if !writes && (options.create || options.create_new || options.truncate) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "create or truncate without write access"));
    }
    flags |= OFlags::CLOEXEC;
    if options.append {
        flags |= OFlags::APPEND;
    }
    if options.create_new {
        flags |= OFlags::CREATE | OFlags::EXCL;
    } else if options.create {
        flags |= OFlags::CREATE;
    }
    if options.truncate {
        flags |= OFlags::TRUNC;
    }
    Ok(flags)
}

/// A path as a system call takes it: `rest`, relative to `dir` (the
/// working directory when `None`, which leaves an absolute `rest` as it is).
struct Located<'a> {
    dir: Option<OwnedFd>,
    rest: &'a Path,
}

impl Located<'_> {
    fn dir(&self) -> BorrowedFd<'_> {
        self.dir.as_ref().map_or(CWD, AsFd::as_fd)
    }
}

/// Where a system call finds `path`: itself when it fits
/// [`PATH_BYTES_MAX`]; else, from the start, the longest run of whole
/// names that fits is opened (`O_PATH`, following links as a path walk
/// would) and the walk goes on from there, until the rest fits. A single
/// name longer than the limit is `ENAMETOOLONG`, as the kernel says.
fn locate(path: &Path) -> io::Result<Located<'_>> {
    let mut rest = path.as_os_str().as_bytes();
    let mut dir: Option<OwnedFd> = None;
    while rest.len() > PATH_BYTES_MAX {
        let cut = rest[..=PATH_BYTES_MAX].iter().rposition(|&b| b == b'/').ok_or(Errno::NAMETOOLONG)?;
        // A cut at 0 is the root directory itself.
        let head = OsStr::from_bytes(&rest[..cut.max(1)]);
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let at = dir.as_ref().map_or(CWD, AsFd::as_fd);
        dir = Some(retry(|| sys::openat(at, head, flags, Mode::empty()))?);
        rest = &rest[cut..];
        while let [b'/', tail @ ..] = rest {
            rest = tail;
        }
    }
    Ok(Located { dir, rest: Path::new(OsStr::from_bytes(rest)) })
}

fn open_fd(path: &Path, flags: OFlags) -> io::Result<OwnedFd> {
    let at = locate(path)?;
    retry(|| sys::openat(at.dir(), at.rest, flags, Mode::from_raw_mode(FILE_MODE)))
}

fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    let at = locate(path)?;
    retry(|| sys::openat(at.dir(), at.rest, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()))
}

fn mkdir(path: &Path) -> io::Result<()> {
    let at = locate(path)?;
    retry(|| sys::mkdirat(at.dir(), at.rest, Mode::from_raw_mode(DIR_MODE)))
}

/// `stat`, following a final link or (`follow` false) not.
fn stat(path: &Path, follow: bool) -> io::Result<sys::Stat> {
    let at = locate(path)?;
    let flags = if follow { AtFlags::empty() } else { AtFlags::SYMLINK_NOFOLLOW };
    retry(|| sys::statat(at.dir(), at.rest, flags))
}

fn unlink(path: &Path, flags: AtFlags) -> io::Result<()> {
    let at = locate(path)?;
    retry(|| sys::unlinkat(at.dir(), at.rest, flags))
}

/// The entries of the open directory `fd`, without `.` and `..`; a kind the
/// directory does not record is asked of the entry itself.
fn list_dir(fd: OwnedFd) -> io::Result<Vec<DirEntry>> {
    let mut dir = sys::Dir::new(fd)?;
    let mut entries = Vec::new();
    while let Some(entry) = dir.read() {
        let entry = entry?;
        let name = entry.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        let kind = match entry.file_type() {
            FileType::Unknown => {
                let fd = dir.fd()?;
                kind_of(retry(|| sys::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW))?.st_mode)
            }
            known => kind_of_type(known),
        };
        entries.push(DirEntry { name: OsStr::from_bytes(name.to_bytes()).to_os_string(), kind });
    }
    Ok(entries)
}

fn is_unsupported_clone(errno: Errno) -> bool {
    // EOPNOTSUPP: the file system cannot clone; EXDEV: different file systems;
    // EINVAL / ENOTTY: the ioctl or the range is not accepted here.
    matches!(errno, Errno::OPNOTSUPP | Errno::XDEV | Errno::INVAL | Errno::NOTTY | Errno::NOSYS)
}

impl Fs for StdFs {
    fn open(&self, path: &Path, options: OpenOptions) -> Result<Box<dyn FsFile>> {
        let fd = open_flags(options).and_then(|flags| open_fd(path, flags)).map_err(|e| Error::io("open", path, e))?;
        Ok(Box::new(StdFile { fd, path: path.to_path_buf() }))
    }

    fn create_dir(&self, path: &Path) -> Result<()> {
        mkdir(path).map_err(|e| Error::io("create directory", path, e))
    }

    fn create_dir_all(&self, path: &Path) -> Result<()> {
        if path.as_os_str().is_empty() {
            return Ok(());
        }
        match mkdir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return match stat(path, true) {
                    Ok(st) if kind_of(st.st_mode) == FileKind::Dir => Ok(()),
                    Ok(_) => Err(Error::io("create directory", path, e)),
                    Err(e) => Err(Error::io("create directory", path, e)),
                };
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("create directory", path, e)),
        }
        if let Some(parent) = path.parent() {
            self.create_dir_all(parent)?;
        }
        match mkdir(path) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(Error::io("create directory", path, e)),
            _ => Ok(()),
        }
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        let mut entries = open_dir(path).and_then(list_dir).map_err(|e| Error::io("read directory", path, e))?;
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    fn remove_file(&self, path: &Path) -> Result<()> {
        unlink(path, AtFlags::empty()).map_err(|e| Error::io("remove file", path, e))
    }

    fn remove_dir(&self, path: &Path) -> Result<()> {
        unlink(path, AtFlags::REMOVEDIR).map_err(|e| Error::io("remove directory", path, e))
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        (|| {
            let (src, dst) = (locate(from)?, locate(to)?);
            retry(|| sys::renameat(src.dir(), src.rest, dst.dir(), dst.rest))
        })()
        .map_err(|e| Error::io2("rename", from, to, e))
    }

    fn metadata(&self, path: &Path) -> Result<Metadata> {
        let st = stat(path, false).map_err(|e| Error::io("stat", path, e))?;
        Ok(Metadata {
            kind: kind_of(st.st_mode),
            len: st.st_size as u64,
            nlink: st.st_nlink,
            device: DeviceId { namespace: OS_NAMESPACE, device: st.st_dev },
        })
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        match stat(path, false) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) if e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error()) => Ok(false),
            Err(e) => Err(Error::io("stat", path, e)),
        }
    }

    fn hard_link(&self, src: &Path, dst: &Path) -> Result<()> {
        (|| {
            let (from, to) = (locate(src)?, locate(dst)?);
            retry(|| sys::linkat(from.dir(), from.rest, to.dir(), to.rest, AtFlags::empty()))
        })()
        .map_err(|e| Error::io2("hard-link", src, dst, e))
    }

    fn reflink(&self, src: &Path, dst: &Path) -> Result<()> {
        let err = |e| Error::io2("reflink", src, dst, e);
        let src_fd = open_fd(src, OFlags::RDONLY | OFlags::CLOEXEC).map_err(err)?;
        let dst_flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
        let dst_fd = open_fd(dst, dst_flags).map_err(err)?;
        if let Err(e) = retry(|| sys::ioctl_ficlone(&dst_fd, &src_fd)) {
            drop(dst_fd);
            let _ = unlink(dst, AtFlags::empty());
            return Err(err(e));
        }
        Ok(())
    }

    fn sync_directory(&self, path: &Path) -> Result<()> {
        let fd = open_dir(path).map_err(|e| Error::io("open directory", path, e))?;
        retry(|| sys::fsync(&fd)).map_err(|e| Error::io("fsync directory", path, e))
    }

    fn device_id(&self, path: &Path) -> Result<DeviceId> {
        let st = stat(path, true).map_err(|e| Error::io("stat", path, e))?;
        Ok(DeviceId { namespace: OS_NAMESPACE, device: st.st_dev })
    }

    fn supports_reflink(&self, dir: &Path) -> Result<bool> {
        let device = self.device_id(dir)?.device;
        if let Some(&known) = lock_map(&self.reflink_by_device).get(&device) {
            return Ok(known);
        }
        let supported = probe_reflink(dir)?;
        lock_map(&self.reflink_by_device).insert(device, supported);
        Ok(supported)
    }

    fn canonicalize(&self, path: &Path) -> Result<PathBuf> {
        std::fs::canonicalize(path).map_err(|e| Error::io("resolve", path, e))
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn FsLock>> {
        // Under `HELD` from the look-up to the lock, so no other handle of
        // this process opens (and, closing, unlocks) a file it holds.
        let mut held = held_locks();
        if let Ok(st) = stat(path, true)
            && held.contains_key(&FileId::of(&st))
        {
            return Err(Error::Locked { path: path.to_path_buf() });
        }
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC;
        let fd = open_fd(path, flags).map_err(|e| Error::io("open lock file", path, e))?;
        let id = FileId::of(&retry(|| sys::fstat(&fd)).map_err(|e| Error::io("stat", path, e))?);
        if let Some(strays) = held.get_mut(&id) {
            // Renamed onto `path` since the look-up (a staging `LOCK.new`
            // becoming `LOCK`): closing this descriptor now would release
            // the holder's lock, so it closes with the holder's.
            strays.push(fd);
            return Err(Error::Locked { path: path.to_path_buf() });
        }
        match retry(|| sys::fcntl_lock(&fd, FlockOperation::NonBlockingLockExclusive)) {
            Ok(()) => {
                held.insert(id, Vec::new());
                Ok(Box::new(StdLock { fd: Some(fd), id }))
            }
            Err(e) if matches!(e.raw_os_error().map(Errno::from_raw_os_error), Some(Errno::AGAIN | Errno::ACCESS)) => {
                Err(Error::Locked { path: path.to_path_buf() })
            }
            Err(e) => Err(Error::io("lock", path, e)),
        }
    }
}

/// A file by identity, however it is named now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    fn of(st: &sys::Stat) -> FileId {
        FileId { device: st.st_dev, inode: st.st_ino }
    }
}

/// The lock files this process holds, each with descriptors of it opened
/// since that must stay open until its lock is released.
///
/// The locks are `fcntl` record locks: they belong to the process, so a
/// child forked while a database is open does not keep it locked after the
/// database closes (an `flock` belongs to the descriptor, which the child
/// holds a copy of until it execs). Two costs of process-owned locks are
/// paid here: they never exclude another handle of the same process, and
/// closing any descriptor of the file releases them.
fn held_locks() -> std::sync::MutexGuard<'static, HashMap<FileId, Vec<OwnedFd>>> {
    static HELD: OnceLock<Mutex<HashMap<FileId, Vec<OwnedFd>>>> = OnceLock::new();
    HELD.get_or_init(Default::default).locked()
}

fn lock_map(map: &Mutex<HashMap<u64, bool>>) -> std::sync::MutexGuard<'_, HashMap<u64, bool>> {
    map.locked()
}

/// Clones an empty scratch file inside `dir` to learn whether the file system
/// there supports `FICLONE`. The scratch files are removed either way.
fn probe_reflink(dir: &Path) -> Result<bool> {
    static PROBE_COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = PROBE_COUNTER.fetch_add(1, Ordering::Relaxed);
    let stem = format!(".cairn-reflink-probe.{}.{n}", std::process::id());
    let src = dir.join(format!("{stem}.src"));
    let dst = dir.join(format!("{stem}.dst"));
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
    let result = (|| {
        let src_fd = open_fd(&src, flags).map_err(|e| Error::io("create", &src, e))?;
        let dst_fd = open_fd(&dst, flags).map_err(|e| Error::io("create", &dst, e))?;
        match retry(|| sys::ioctl_ficlone(&dst_fd, &src_fd)) {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error().map(Errno::from_raw_os_error).is_some_and(is_unsupported_clone) => Ok(false),
            Err(e) => Err(Error::io2("reflink", &src, &dst, e)),
        }
    })();
    let _ = unlink(&src, AtFlags::empty());
    let _ = unlink(&dst, AtFlags::empty());
    result
}

#[derive(Debug)]
struct StdLock {
    fd: Option<OwnedFd>,
    id: FileId,
}

impl FsLock for StdLock {}

impl Drop for StdLock {
    fn drop(&mut self) {
        // Closed under `HELD`: a handle of this process locking the file
        // once it is out of the map must not have its lock released by
        // this close.
        let mut held = held_locks();
        drop(self.fd.take());
        held.remove(&self.id);
    }
}

#[derive(Debug)]
struct StdFile {
    fd: OwnedFd,
    path: PathBuf,
}

impl FsFile for StdFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        retry(|| rustix::io::pread(&self.fd, &mut *buf, offset)).map_err(|e| Error::io("read", &self.path, e))
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize> {
        retry(|| rustix::io::pwrite(&self.fd, buf, offset)).map_err(|e| Error::io("write", &self.path, e))
    }

    fn len(&self) -> Result<u64> {
        let st = retry(|| sys::fstat(&self.fd)).map_err(|e| Error::io("stat", &self.path, e))?;
        Ok(st.st_size as u64)
    }

    fn set_len(&self, len: u64) -> Result<()> {
        retry(|| sys::ftruncate(&self.fd, len)).map_err(|e| Error::io("truncate", &self.path, e))
    }

    fn sync_data(&self) -> Result<()> {
        retry(|| sys::fdatasync(&self.fd)).map_err(|e| Error::io("fdatasync", &self.path, e))
    }

    fn sync_all(&self) -> Result<()> {
        retry(|| sys::fsync(&self.fd)).map_err(|e| Error::io("fsync", &self.path, e))
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path below `root` of at least `len` bytes, in names of 200 bytes.
    fn deep(root: &Path, len: usize) -> PathBuf {
        let mut path = root.to_path_buf();
        let mut i = 0;
        while path.as_os_str().len() < len {
            path.push(format!("{i:03}{}", "d".repeat(197)));
            i += 1;
        }
        path
    }

    #[test]
    fn paths_longer_than_a_system_call_takes_work() {
        let tmp = tempfile::tempdir().unwrap();
        let fs = StdFs::new();
        let dir = deep(tmp.path(), 2 * PATH_BYTES_MAX);
        fs.create_dir_all(&dir).unwrap();
        assert!(fs.metadata(&dir).unwrap().is_dir());
        let file = dir.join("f");
        fs.open(&file, OpenOptions::create_new()).unwrap().write_all_at(b"abc", 0).unwrap();
        fs.hard_link(&file, &dir.join("g")).unwrap();
        fs.rename(&dir.join("g"), &tmp.path().join("g")).unwrap();
        assert_eq!(fs.metadata(&tmp.path().join("g")).unwrap().nlink, 2, "one inode under both paths");
        let names: Vec<_> = fs.read_dir(&dir).unwrap().into_iter().map(|e| (e.name, e.kind)).collect();
        assert_eq!(names, [("f".into(), FileKind::File)]);
        fs.sync_directory(&dir).unwrap();
        let _held = fs.lock(&dir.join("LOCK")).unwrap();
        assert!(matches!(fs.lock(&dir.join("LOCK")), Err(Error::Locked { .. })));
        assert_eq!(fs.device_id(&dir).unwrap(), fs.device_id(tmp.path()).unwrap());
        fs.remove_file(&file).unwrap();
        assert!(!fs.exists(&file).unwrap());
        let err = fs.open(&dir.join("x".repeat(300)), OpenOptions::create_new()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::NAMETOOLONG.raw_os_error()), "{err}");
        // Relative to the working directory as well: `..` steps and all.
        let relative = deep(Path::new("."), PATH_BYTES_MAX + 1);
        assert!(!fs.exists(&relative).unwrap());
    }
}
