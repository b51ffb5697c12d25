//! [`FaultFs`]: wraps any [`Fs`] and injects errors by rule.
//!
//! Every operation on the file system or on a file opened through it is
//! counted, starting at 0. Rules decide which operations fail and how, so a
//! test can sweep "fail op N" for N = 0, 1, 2, ... along a write path, or
//! simulate a power cut at op N (every op from N on fails; then take
//! [`MemFs::crash_copy`](super::MemFs::crash_copy) of the inner file system).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rustix::io::Errno;

use super::{DeviceId, DirEntry, Fs, FsFile, FsLock, Metadata, OpenOptions};
use crate::sync::MutexExt;
use crate::{Error, Result};

/// The kinds of operation [`FaultFs`] counts and can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpKind {
    /// [`Fs::open`] (mutating when the options can change the file system).
    Open,
    /// [`Fs::create_dir`] and [`Fs::create_dir_all`].
    CreateDir,
    /// [`Fs::read_dir`].
    ReadDir,
    /// [`Fs::remove_file`].
    RemoveFile,
    /// [`Fs::remove_dir`].
    RemoveDir,
    /// [`Fs::rename`].
    Rename,
    /// [`Fs::metadata`], [`Fs::exists`], [`Fs::device_id`],
    /// [`Fs::canonicalize`], [`FsFile::len`].
    Stat,
    /// [`Fs::hard_link`].
    HardLink,
    /// [`Fs::reflink`].
    Reflink,
    /// [`Fs::supports_reflink`].
    ProbeReflink,
    /// [`Fs::sync_directory`].
    SyncDirectory,
    /// [`Fs::lock`].
    Lock,
    /// [`FsFile::read_at`].
    Read,
    /// [`FsFile::write_at`].
    Write,
    /// [`FsFile::set_len`].
    SetLen,
    /// [`FsFile::sync_data`] and [`FsFile::sync_all`].
    SyncFile,
}

impl OpKind {
    /// True for operations that can change what is stored.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            OpKind::CreateDir
                | OpKind::RemoveFile
                | OpKind::RemoveDir
                | OpKind::Rename
                | OpKind::HardLink
                | OpKind::Reflink
                | OpKind::ProbeReflink
                | OpKind::Write
                | OpKind::SetLen
                | OpKind::Lock
        )
    }

    /// True for fsync-like operations.
    pub fn is_sync(self) -> bool {
        matches!(self, OpKind::SyncDirectory | OpKind::SyncFile)
    }
}

/// How an operation chosen by a rule fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Return this OS error code (e.g. `EIO`, `ENOSPC`, `EOPNOTSUPP`) without
    /// doing anything.
    Errno(i32),
    /// For writes: write the first half of the buffer and report that short
    /// count, as a real `pwrite` may. Other operations are not affected.
    ShortWrite,
    /// For writes: write the first half of the buffer, then fail with `EIO`
    /// (a torn write). Other operations fail with `EIO`.
    TornWrite,
}

impl FaultKind {
    /// `EIO`: an I/O error.
    pub const IO: FaultKind = FaultKind::Errno(Errno::IO.raw_os_error());
    /// `ENOSPC`: the disk is full.
    pub const NO_SPACE: FaultKind = FaultKind::Errno(Errno::NOSPC.raw_os_error());
    /// `EOPNOTSUPP`: the file system does not support the operation.
    pub const UNSUPPORTED: FaultKind = FaultKind::Errno(Errno::OPNOTSUPP.raw_os_error());
    /// `EXDEV`: the operation would cross devices.
    pub const CROSS_DEVICE: FaultKind = FaultKind::Errno(Errno::XDEV.raw_os_error());
    /// `EPERM`: not permitted (what some file systems say to hard links).
    pub const NOT_PERMITTED: FaultKind = FaultKind::Errno(Errno::PERM.raw_os_error());
}

/// Which operations fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultRule {
    /// Operation number `n` (counting every operation from 0) fails once.
    Nth {
        /// The operation index.
        n: u64,
        /// How it fails.
        kind: FaultKind,
    },
    /// Every operation from number `n` on fails: a power cut at `n`.
    From {
        /// The first failing operation index.
        n: u64,
        /// How they fail.
        kind: FaultKind,
    },
    /// Every operation of kind `op` fails.
    Kind {
        /// The operation kind.
        op: OpKind,
        /// How they fail.
        kind: FaultKind,
    },
    /// Only the `nth` (from 0) operation of kind `op` fails.
    NthOfKind {
        /// The operation kind.
        op: OpKind,
        /// Which occurrence of that kind, from 0.
        nth: u64,
        /// How it fails.
        kind: FaultKind,
    },
}

#[derive(Debug, Default)]
struct FaultState {
    rules: Vec<FaultRule>,
    ops: u64,
    mutating_ops: u64,
    ops_by_kind: Vec<(OpKind, u64)>,
    injected: u64,
}

impl FaultState {
    /// Counts one operation and returns the fault to inject, if any.
    fn next(&mut self, op: OpKind) -> Option<FaultKind> {
        let index = self.ops;
        self.ops += 1;
        if op.is_mutating() {
            self.mutating_ops += 1;
        }
        let of_kind = match self.ops_by_kind.iter_mut().find(|(k, _)| *k == op) {
            Some((_, count)) => {
                *count += 1;
                *count - 1
            }
            None => {
                self.ops_by_kind.push((op, 1));
                0
            }
        };
        let fault = self.rules.iter().find_map(|rule| match *rule {
            FaultRule::Nth { n, kind } if n == index => Some(kind),
            FaultRule::From { n, kind } if index >= n => Some(kind),
            FaultRule::Kind { op: o, kind } if o == op => Some(kind),
            FaultRule::NthOfKind { op: o, nth, kind } if o == op && nth == of_kind => Some(kind),
            _ => None,
        })?;
        // A short write only concerns writes; elsewhere the rule is inert.
        if fault == FaultKind::ShortWrite && op != OpKind::Write {
            return None;
        }
        self.injected += 1;
        Some(fault)
    }
}

/// A file system that forwards to another and injects faults by rule.
///
/// Cheap to clone; clones share rules and counters.
#[derive(Clone, Debug)]
pub struct FaultFs {
    inner: Arc<dyn Fs>,
    state: Arc<Mutex<FaultState>>,
}

impl FaultFs {
    /// Wraps `inner` with no rules: every operation is forwarded.
    pub fn new(inner: Arc<dyn Fs>) -> Self {
        FaultFs { inner, state: Arc::default() }
    }

    /// The wrapped file system.
    pub fn inner(&self) -> &Arc<dyn Fs> {
        &self.inner
    }

    /// Adds a rule.
    pub fn add_rule(&self, rule: FaultRule) {
        self.state().rules.push(rule);
    }

    /// Removes every rule (counters are kept).
    pub fn clear_rules(&self) {
        self.state().rules.clear();
    }

    /// Sets the counters back to zero.
    pub fn reset_counts(&self) {
        let mut state = self.state();
        state.ops = 0;
        state.mutating_ops = 0;
        state.ops_by_kind.clear();
        state.injected = 0;
    }

    /// Operations seen since creation or the last reset.
    pub fn op_count(&self) -> u64 {
        self.state().ops
    }

    /// Operations seen that can change what is stored.
    pub fn mutating_op_count(&self) -> u64 {
        self.state().mutating_ops
    }

    /// Operations of one kind seen.
    pub fn op_count_of(&self, op: OpKind) -> u64 {
        let state = self.state();
        state.ops_by_kind.iter().find(|(k, _)| *k == op).map_or(0, |(_, n)| *n)
    }

    /// Faults injected so far.
    pub fn injected_count(&self) -> u64 {
        self.state().injected
    }

    fn state(&self) -> MutexGuard<'_, FaultState> {
        lock(&self.state)
    }

    /// Counts `op` and returns the injected error for it, if any.
    fn check(&self, op: OpKind, path: &Path, name: &'static str) -> Result<()> {
        check(&self.state, op, path, name)
    }
}

fn lock(state: &Mutex<FaultState>) -> MutexGuard<'_, FaultState> {
    state.locked()
}

fn injected_error(kind: FaultKind) -> io::Error {
    match kind {
        FaultKind::Errno(code) => io::Error::from_raw_os_error(code),
        FaultKind::ShortWrite | FaultKind::TornWrite => io::Error::from_raw_os_error(Errno::IO.raw_os_error()),
    }
}

fn check(state: &Mutex<FaultState>, op: OpKind, path: &Path, name: &'static str) -> Result<()> {
    match lock(state).next(op) {
        Some(kind) => Err(Error::io(name, path, injected_error(kind))),
        None => Ok(()),
    }
}

fn check2(state: &Mutex<FaultState>, op: OpKind, from: &Path, to: &Path, name: &'static str) -> Result<()> {
    match lock(state).next(op) {
        Some(kind) => Err(Error::io2(name, from, to, injected_error(kind))),
        None => Ok(()),
    }
}

impl Fs for FaultFs {
    fn open(&self, path: &Path, options: OpenOptions) -> Result<Box<dyn FsFile>> {
        {
            let mut state = self.state();
            if options.mutates() {
                state.mutating_ops += 1;
            }
        }
        self.check(OpKind::Open, path, "open")?;
        let inner = self.inner.open(path, options)?;
        Ok(Box::new(FaultFile { inner, state: Arc::clone(&self.state) }))
    }

    fn create_dir(&self, path: &Path) -> Result<()> {
        self.check(OpKind::CreateDir, path, "create directory")?;
        self.inner.create_dir(path)
    }

    fn create_dir_all(&self, path: &Path) -> Result<()> {
        self.check(OpKind::CreateDir, path, "create directory")?;
        self.inner.create_dir_all(path)
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        self.check(OpKind::ReadDir, path, "read directory")?;
        self.inner.read_dir(path)
    }

    fn remove_file(&self, path: &Path) -> Result<()> {
        self.check(OpKind::RemoveFile, path, "remove file")?;
        self.inner.remove_file(path)
    }

    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.check(OpKind::RemoveDir, path, "remove directory")?;
        self.inner.remove_dir(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        check2(&self.state, OpKind::Rename, from, to, "rename")?;
        self.inner.rename(from, to)
    }

    fn metadata(&self, path: &Path) -> Result<Metadata> {
        self.check(OpKind::Stat, path, "stat")?;
        self.inner.metadata(path)
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        self.check(OpKind::Stat, path, "stat")?;
        self.inner.exists(path)
    }

    fn hard_link(&self, src: &Path, dst: &Path) -> Result<()> {
        check2(&self.state, OpKind::HardLink, src, dst, "hard-link")?;
        self.inner.hard_link(src, dst)
    }

    fn reflink(&self, src: &Path, dst: &Path) -> Result<()> {
        check2(&self.state, OpKind::Reflink, src, dst, "reflink")?;
        self.inner.reflink(src, dst)
    }

    fn sync_directory(&self, path: &Path) -> Result<()> {
        self.check(OpKind::SyncDirectory, path, "fsync directory")?;
        self.inner.sync_directory(path)
    }

    fn device_id(&self, path: &Path) -> Result<DeviceId> {
        self.check(OpKind::Stat, path, "stat")?;
        self.inner.device_id(path)
    }

    fn supports_reflink(&self, dir: &Path) -> Result<bool> {
        self.check(OpKind::ProbeReflink, dir, "probe reflink")?;
        self.inner.supports_reflink(dir)
    }

    fn canonicalize(&self, path: &Path) -> Result<PathBuf> {
        self.check(OpKind::Stat, path, "resolve")?;
        self.inner.canonicalize(path)
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn FsLock>> {
        self.check(OpKind::Lock, path, "lock")?;
        self.inner.lock(path)
    }

    fn unique_id(&self) -> Result<u128> {
        self.inner.unique_id()
    }
}

#[derive(Debug)]
struct FaultFile {
    inner: Box<dyn FsFile>,
    state: Arc<Mutex<FaultState>>,
}

impl FaultFile {
    fn check(&self, op: OpKind, name: &'static str) -> Result<()> {
        check(&self.state, op, self.inner.path(), name)
    }
}

impl FsFile for FaultFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.check(OpKind::Read, "read")?;
        self.inner.read_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize> {
        let fault = lock(&self.state).next(OpKind::Write);
        let half = buf.len() / 2;
        match fault {
            None => self.inner.write_at(buf, offset),
            Some(FaultKind::ShortWrite) if half > 0 => self.inner.write_at(&buf[..half], offset),
            Some(FaultKind::ShortWrite) => self.inner.write_at(buf, offset),
            Some(kind @ FaultKind::TornWrite) => {
                if half > 0 {
                    self.inner.write_all_at(&buf[..half], offset)?;
                }
                Err(Error::io("write", self.inner.path(), injected_error(kind)))
            }
            Some(kind) => Err(Error::io("write", self.inner.path(), injected_error(kind))),
        }
    }

    fn len(&self) -> Result<u64> {
        self.check(OpKind::Stat, "stat")?;
        self.inner.len()
    }

    fn set_len(&self, len: u64) -> Result<()> {
        self.check(OpKind::SetLen, "truncate")?;
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> Result<()> {
        self.check(OpKind::SyncFile, "fdatasync")?;
        self.inner.sync_data()
    }

    fn sync_all(&self) -> Result<()> {
        self.check(OpKind::SyncFile, "fsync")?;
        self.inner.sync_all()
    }

    fn path(&self) -> &Path {
        self.inner.path()
    }
}
