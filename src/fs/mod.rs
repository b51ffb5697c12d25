//! The file-system layer: the only door to the disk.
//!
//! Everything cairndb stores goes through [`Fs`] and [`FsFile`], so that every
//! write path can be crashed ([`MemFs::crash_copy`]) and faulted ([`FaultFs`])
//! in tests, and so that checkpoints can choose reflink, hard link or copy per
//! file system ([`link_or_copy`]).
//!
//! The traits hold only what differs per implementation; helpers built from
//! them ([`read_to_vec`], [`write_file_atomic`], ...) live in `util`.
//!
//! # Contract
//!
//! Every implementation runs the shared conformance suite in
//! `tests/fs_conformance.rs`. In short:
//!
//! - Paths are absolute or relative to the process's working directory
//!   (`StdFs`) or to the root (`MemFs`); `MemFs` ignores `.` and rejects
//!   `..` (`InvalidInput`), so callers build paths by joining names.
//! - Errors are [`Error::Io`](crate::Error::Io) naming the path (and the
//!   destination of two-path operations), with an `io::Error` whose kind is
//!   the one the OS would report (`NotFound`, `AlreadyExists`,
//!   `CrossesDevices`, `DirectoryNotEmpty`, ...).
//! - A file's data is durable after `sync_data`/`sync_all`; a directory
//!   entry (create, rename, link, remove) is durable after `sync_directory`
//!   of the directory holding it. Nothing else is promised to survive a
//!   crash.
//! - `exists` and `metadata` do not follow a final symbolic link: a dangling
//!   link exists. `canonicalize` follows every link.
//! - `read_dir` lists names in byte order, without `.` and `..`.

mod fault;
mod link;
pub(crate) mod machine;
mod mem;
mod std_fs;
mod util;

pub use fault::{FaultFs, FaultKind, FaultRule, OpKind};
pub use link::{LinkOutcome, LinkStrategy, copy_file, link_or_copy};
pub use mem::{DeviceOptions, MemFs};
pub use std_fs::StdFs;
pub(crate) use util::replace_file;
pub use util::{create_dir_all_durably, read_to_vec, remove_dir_all, sync_parent, write_file_atomic};

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::Result;

/// How [`Fs::open`] opens a file; mirrors `std::fs::OpenOptions`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Every write goes to the end of the file (implies `write`).
    pub append: bool,
    /// Create the file if it does not exist.
    pub create: bool,
    /// Create the file; fail with `AlreadyExists` if it exists.
    pub create_new: bool,
    /// Truncate the file to length zero on open.
    pub truncate: bool,
}

impl OpenOptions {
    /// Read-only access to an existing file.
    pub const fn read() -> Self {
        OpenOptions { read: true, write: false, append: false, create: false, create_new: false, truncate: false }
    }

    /// Read and write a file that must not exist yet.
    pub const fn create_new() -> Self {
        OpenOptions { read: true, write: true, append: false, create: false, create_new: true, truncate: false }
    }

    /// Read and write a file, creating it if missing and truncating it.
    pub const fn create_truncate() -> Self {
        OpenOptions { read: true, write: true, append: false, create: true, create_new: false, truncate: true }
    }

    /// Read and write an existing file.
    pub const fn read_write() -> Self {
        OpenOptions { read: true, write: true, append: false, create: false, create_new: false, truncate: false }
    }

    /// Whether opening with these options can change the file system.
    pub const fn mutates(&self) -> bool {
        self.write || self.append || self.create || self.create_new || self.truncate
    }
}

/// What kind of object a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (not followed).
    Symlink,
    /// Anything else (device, socket, fifo).
    Other,
}

/// What [`Fs::metadata`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// File, directory, link, ...
    pub kind: FileKind,
    /// Length in bytes (for a file).
    pub len: u64,
    /// Number of hard links to the object.
    pub nlink: u64,
    /// The device the object lives on.
    pub device: DeviceId,
}

impl Metadata {
    /// True for a regular file.
    pub fn is_file(&self) -> bool {
        self.kind == FileKind::File
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == FileKind::Dir
    }
}

/// One entry of [`Fs::read_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's file name (no directory part).
    pub name: OsString,
    /// What it is (a symbolic link is reported as such, not followed).
    pub kind: FileKind,
}

/// Which storage a path lives on, comparable across [`Fs`] instances.
///
/// Two paths can be hard-linked or reflinked to each other only when their
/// `DeviceId`s are equal: same namespace (the same OS, or the same `MemFs`)
/// and same device within it. Comparing ids lets a checkpoint know a link
/// would cross devices before trying it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId {
    /// Which file-system namespace: 0 for the operating system, a unique
    /// value per [`MemFs`] instance.
    pub namespace: u64,
    /// The device within that namespace (`st_dev` for the OS).
    pub device: u64,
}

/// A held lock on a path; dropping it releases the lock.
pub trait FsLock: Send + Sync + fmt::Debug {}

/// A file system: the only way cairndb reaches storage.
///
/// Object-safe; used as `Arc<dyn Fs>`.
pub trait Fs: Send + Sync + fmt::Debug {
    /// Opens (or creates) a file.
    fn open(&self, path: &Path, options: OpenOptions) -> Result<Box<dyn FsFile>>;

    /// Creates one directory; its parent must exist.
    fn create_dir(&self, path: &Path) -> Result<()>;

    /// Creates a directory and any missing parents; existing ones are fine.
    fn create_dir_all(&self, path: &Path) -> Result<()>;

    /// Lists a directory, sorted by name.
    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>>;

    /// Removes a file (or symbolic link).
    fn remove_file(&self, path: &Path) -> Result<()>;

    /// Removes an empty directory.
    fn remove_dir(&self, path: &Path) -> Result<()>;

    /// Renames `from` to `to`, atomically replacing a file at `to`.
    fn rename(&self, from: &Path, to: &Path) -> Result<()>;

    /// Describes a path without following a final symbolic link.
    fn metadata(&self, path: &Path) -> Result<Metadata>;

    /// True when something (even a dangling symbolic link) is at `path`.
    fn exists(&self, path: &Path) -> Result<bool>;

    /// Makes `dst` a new name for the file `src`; fails if `dst` exists.
    fn hard_link(&self, src: &Path, dst: &Path) -> Result<()>;

    /// Makes `dst` a new file sharing `src`'s data blocks copy-on-write;
    /// fails if `dst` exists or the file system cannot clone.
    fn reflink(&self, src: &Path, dst: &Path) -> Result<()>;

    /// Makes the directory's entries durable (fsync on the directory).
    fn sync_directory(&self, path: &Path) -> Result<()>;

    /// The device holding `path` (which must exist).
    fn device_id(&self, path: &Path) -> Result<DeviceId>;

    /// The absolute path of the existing `path` with `.`, `..` and every
    /// symbolic link resolved, like `realpath(3)`; relative paths start
    /// from the working directory (`MemFs`: the root). A missing path, or
    /// one passing a dangling link, is `NotFound`.
    fn canonicalize(&self, path: &Path) -> Result<PathBuf>;

    /// Whether files in directory `dir` can be reflinked to each other.
    fn supports_reflink(&self, dir: &Path) -> Result<bool>;

    /// Takes an exclusive lock on the file at `path` (creating it if
    /// missing), failing with [`Error::Locked`](crate::Error::Locked) when
    /// someone holds it.
    fn lock(&self, path: &Path) -> Result<Box<dyn FsLock>>;

    /// A new 128-bit identifier, unique with overwhelming probability: the
    /// id of a new database or timeline. The environment supplies it (like
    /// RocksDB's `Env::GenerateUniqueId`) so that a simulated one can make
    /// a run repeatable; the default reads the operating system's random
    /// source.
    fn unique_id(&self) -> Result<u128> {
        os_random_u128()
    }
}

/// 128 bits from the operating system's random source (`getrandom(2)`).
pub fn os_random_u128() -> Result<u128> {
    use rustix::io::Errno;
    use rustix::rand::{GetRandomFlags, getrandom};
    let mut bytes = [0u8; 16];
    let mut filled = 0;
    while filled < bytes.len() {
        match getrandom(&mut bytes[filled..], GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(Errno::INTR) => {}
            Err(e) => {
                let source = std::io::Error::from_raw_os_error(e.raw_os_error());
                return Err(crate::Error::io("getrandom", "a unique id", source));
            }
        }
    }
    Ok(u128::from_le_bytes(bytes))
}

/// An open file.
pub trait FsFile: Send + Sync + fmt::Debug {
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read
    /// (0 at or past the end).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize>;

    /// Writes up to `buf.len()` bytes at `offset`, returning how many were
    /// written; may be short. In append mode `offset` is ignored.
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize>;

    /// The file's current length.
    fn len(&self) -> Result<u64>;

    /// Truncates or extends the file.
    fn set_len(&self, len: u64) -> Result<()>;

    /// Makes the file's data (and the length) durable.
    fn sync_data(&self) -> Result<()>;

    /// Makes the file's data and all metadata durable.
    fn sync_all(&self) -> Result<()>;

    /// The path the file was opened with, for error messages.
    fn path(&self) -> &Path;

    /// True when the file is empty.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Reads exactly `buf.len()` bytes at `offset`; a short file is an
    /// `UnexpectedEof` error.
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> Result<()> {
        while !buf.is_empty() {
            let n = self.read_at(buf, offset)?;
            if n == 0 {
                return Err(crate::Error::io(
                    "read",
                    self.path(),
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("file ends before offset {}", offset + buf.len() as u64),
                    ),
                ));
            }
            buf = &mut buf[n..];
            offset += n as u64;
        }
        Ok(())
    }

    /// Writes all of `buf` at `offset`, retrying short writes.
    fn write_all_at(&self, mut buf: &[u8], mut offset: u64) -> Result<()> {
        while !buf.is_empty() {
            let n = self.write_at(buf, offset)?;
            if n == 0 {
                return Err(crate::Error::io(
                    "write",
                    self.path(),
                    std::io::Error::from(std::io::ErrorKind::WriteZero),
                ));
            }
            buf = &buf[n..];
            offset += n as u64;
        }
        Ok(())
    }
}
