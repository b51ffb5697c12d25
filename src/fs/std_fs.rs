//! [`StdFs`]: the real file system, through `rustix` system calls.

use std::collections::HashMap;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{self as sys, AtFlags, CWD, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use super::{DeviceId, DirEntry, FileKind, Fs, FsFile, FsLock, Metadata, OpenOptions};
use crate::sync::MutexExt;
use crate::{Error, Result};

/// Namespace of every path the operating system resolves.
const OS_NAMESPACE: u64 = 0;
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
    match FileType::from_raw_mode(mode) {
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

fn open_fd(path: &Path, flags: OFlags) -> io::Result<OwnedFd> {
    retry(|| sys::open(path, flags, Mode::from_raw_mode(FILE_MODE)))
}

fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    retry(|| sys::open(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()))
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
        retry(|| sys::mkdir(path, Mode::from_raw_mode(DIR_MODE))).map_err(|e| Error::io("create directory", path, e))
    }

    fn create_dir_all(&self, path: &Path) -> Result<()> {
        if path.as_os_str().is_empty() {
            return Ok(());
        }
        match retry(|| sys::mkdir(path, Mode::from_raw_mode(DIR_MODE))) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return match retry(|| sys::stat(path)) {
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
        match retry(|| sys::mkdir(path, Mode::from_raw_mode(DIR_MODE))) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(Error::io("create directory", path, e)),
            _ => Ok(()),
        }
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        let map = |e| Error::io("read directory", path, e);
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(path).map_err(map)? {
            let entry = entry.map_err(map)?;
            let file_type = entry.file_type().map_err(map)?;
            let kind = if file_type.is_file() {
                FileKind::File
            } else if file_type.is_dir() {
                FileKind::Dir
            } else if file_type.is_symlink() {
                FileKind::Symlink
            } else {
                FileKind::Other
            };
            entries.push(DirEntry { name: entry.file_name(), kind });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    fn remove_file(&self, path: &Path) -> Result<()> {
        retry(|| sys::unlink(path)).map_err(|e| Error::io("remove file", path, e))
    }

    fn remove_dir(&self, path: &Path) -> Result<()> {
        retry(|| sys::rmdir(path)).map_err(|e| Error::io("remove directory", path, e))
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        retry(|| sys::renameat(CWD, from, CWD, to)).map_err(|e| Error::io2("rename", from, to, e))
    }

    fn metadata(&self, path: &Path) -> Result<Metadata> {
        let st = retry(|| sys::lstat(path)).map_err(|e| Error::io("stat", path, e))?;
        Ok(Metadata {
            kind: kind_of(st.st_mode),
            len: st.st_size as u64,
            nlink: st.st_nlink,
            device: DeviceId { namespace: OS_NAMESPACE, device: st.st_dev },
        })
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        match retry(|| sys::lstat(path)) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) if e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error()) => Ok(false),
            Err(e) => Err(Error::io("stat", path, e)),
        }
    }

    fn hard_link(&self, src: &Path, dst: &Path) -> Result<()> {
        retry(|| sys::linkat(CWD, src, CWD, dst, AtFlags::empty())).map_err(|e| Error::io2("hard-link", src, dst, e))
    }

    fn reflink(&self, src: &Path, dst: &Path) -> Result<()> {
        let err = |e| Error::io2("reflink", src, dst, e);
        let src_fd = open_fd(src, OFlags::RDONLY | OFlags::CLOEXEC).map_err(err)?;
        let dst_flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
        let dst_fd = open_fd(dst, dst_flags).map_err(err)?;
        if let Err(e) = retry(|| sys::ioctl_ficlone(&dst_fd, &src_fd)) {
            drop(dst_fd);
            let _ = retry(|| sys::unlink(dst));
            return Err(err(e));
        }
        Ok(())
    }

    fn sync_directory(&self, path: &Path) -> Result<()> {
        let fd = open_dir(path).map_err(|e| Error::io("open directory", path, e))?;
        retry(|| sys::fsync(&fd)).map_err(|e| Error::io("fsync directory", path, e))
    }

    fn device_id(&self, path: &Path) -> Result<DeviceId> {
        let st = retry(|| sys::stat(path)).map_err(|e| Error::io("stat", path, e))?;
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
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::CLOEXEC;
        let fd = open_fd(path, flags).map_err(|e| Error::io("open lock file", path, e))?;
        match retry(|| sys::flock(&fd, FlockOperation::NonBlockingLockExclusive)) {
            Ok(()) => Ok(Box::new(StdLock { _fd: fd })),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(Error::Locked { path: path.to_path_buf() }),
            Err(e) => Err(Error::io("lock", path, e)),
        }
    }
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
    let _ = retry(|| sys::unlink(&src));
    let _ = retry(|| sys::unlink(&dst));
    result
}

#[derive(Debug)]
struct StdLock {
    _fd: OwnedFd,
}

impl FsLock for StdLock {}

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
