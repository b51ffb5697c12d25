//! [`MemFs`]: an in-memory file system with a crash model.
//!
//! Semantics follow Linux (ext4-like) closely enough that code tested on
//! `MemFs` behaves the same on disk, down to the `io::ErrorKind` and raw OS
//! code of every error. The crash model is described in `docs/CRASH_MODEL.md`.

use crate::sync::MutexExt;

mod crash;
mod ops;
mod state;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rustix::io::Errno;

use self::crash::{SplitMix64, Survival, crash_state};
pub use self::state::DeviceOptions;
use self::state::{Body, Ino, State, errno};
use super::{DeviceId, DirEntry, Fs, FsFile, FsLock, Metadata, OpenOptions};
use crate::{Error, Result};

/// Namespace ids handed out so far; 0 is the operating system's.
static NEXT_NAMESPACE: AtomicU64 = AtomicU64::new(1);

fn next_namespace() -> u64 {
    NEXT_NAMESPACE.fetch_add(1, Ordering::Relaxed)
}

/// An in-memory file system that knows what a power cut would keep.
///
/// A `MemFs` is a handle: clones share one namespace, so a test can keep one
/// clone while the code under test holds an `Arc<dyn Fs>` of another.
///
/// - Paths are absolute, or relative to `/`; `.` and a trailing `/` are
///   ignored, and `..` is rejected with `InvalidInput` (`EINVAL`): callers
///   build paths by joining names. There are no permissions.
/// - Symbolic links ([`MemFs::symlink`]) are followed as Linux does: in
///   every component of a path, and at its end except by `metadata`,
///   `exists`, `remove_file`, `rename`, `hard_link`, `create_dir` and
///   `create_new` opens; `..` in a link's target goes to the parent of the
///   directory reached. A link's target is durable with its entry.
/// - Files are inodes: a handle keeps working after its last name is
///   removed; hard links share one inode.
/// - The root `/` is device 0, with hard links and without reflink unless
///   made by [`MemFs::with_reflink`]; [`MemFs::mount`] adds devices, across
///   which links and renames fail with `CrossesDevices` (`EXDEV`).
/// - Every inode keeps its live and its durable content; see
///   [`MemFs::crash_copy`].
/// - Files are limited to 1 GiB; beyond that writes fail with `EFBIG`.
#[derive(Clone)]
pub struct MemFs {
    state: Arc<Mutex<State>>,
    /// Where [`Fs::unique_id`] draws from: `None` for the operating
    /// system's random source, or a seeded sequence
    /// ([`MemFs::with_unique_ids`]). Shared with crash copies: it belongs
    /// to the machine, not to the disk.
    ids: Arc<Mutex<Option<SplitMix64>>>,
}

/// Locks the namespace. No code path panics while holding the lock, so a
/// poisoned lock still guards a consistent state.
fn lock_state(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.locked()
}

impl MemFs {
    /// An empty file system: just `/`, on a device without reflink.
    pub fn new() -> Self {
        Self::with_root(DeviceOptions::default())
    }

    /// An empty file system whose root device supports reflink.
    pub fn with_reflink() -> Self {
        Self::with_root(DeviceOptions { reflink: true })
    }

    fn with_root(options: DeviceOptions) -> Self {
        Self::from_state(State::new(next_namespace(), vec![options]))
    }

    fn from_state(state: State) -> Self {
        MemFs { state: Arc::new(Mutex::new(state)), ids: Arc::new(Mutex::new(None)) }
    }

    /// A crash copy's file system: `state`, and this one's id source.
    fn after_crash(&self, state: State) -> Self {
        MemFs { state: Arc::new(Mutex::new(state)), ids: Arc::clone(&self.ids) }
    }

    /// Makes [`Fs::unique_id`] return a sequence that depends only on
    /// `seed` (shared with this file system's crash copies), so that a
    /// simulated run repeats exactly. Ids from two file systems given the
    /// same seed collide: give each world its own.
    pub fn with_unique_ids(self, seed: u64) -> Self {
        *self.ids.locked() = Some(SplitMix64::new(seed));
        self
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock_state(&self.state)
    }

    /// This file system's namespace: the `namespace` of its [`DeviceId`]s,
    /// unique among all `MemFs`s of the process and never 0.
    pub fn namespace(&self) -> u64 {
        self.state().namespace
    }

    /// Makes the existing, empty directory `dir` the root of a new device,
    /// like mounting a second disk there, and returns the device's id.
    ///
    /// Files created below `dir` live on the new device: hard links,
    /// reflinks and renames between it and other devices fail with
    /// `CrossesDevices` (`EXDEV`), and removing or renaming `dir` itself
    /// fails with `ResourceBusy` (`EBUSY`). `dir` must have no entries, live
    /// or durable (`DirectoryNotEmpty`), and must not be `/` or already a
    /// device root (`ResourceBusy`).
    pub fn mount(&self, dir: &Path, options: DeviceOptions) -> Result<DeviceId> {
        let mut state = self.state();
        let ino = state.mount(dir, options).map_err(|e| Error::io("mount", dir, e))?;
        Ok(state.device_id(ino))
    }

    /// Creates a symbolic link at `link` pointing to `target` (which need
    /// not exist; a relative target is taken from `link`'s directory), like
    /// `std::os::unix::fs::symlink`. `link` must not exist
    /// (`AlreadyExists`).
    pub fn symlink(&self, target: &Path, link: &Path) -> Result<()> {
        self.state().symlink(target, link).map_err(|e| Error::io2("symlink", link, target, e))
    }

    /// What a power cut at this instant would leave, as a new, independent
    /// `MemFs` (with a new namespace id, the same devices and options).
    ///
    /// Starting from `/`, only durable entries are followed: an entry is
    /// durable once the directory holding it was synced
    /// ([`Fs::sync_directory`]) after the create, link, rename or removal.
    /// A directory reached that way has its durable entries; a file has its
    /// durable content, as of its last `sync_data`/`sync_all`. Hard links
    /// stay shared. Nothing else survives; handles and locks are not
    /// carried over.
    ///
    /// ```
    /// use std::path::Path;
    /// use cairndb::fs::{Fs, MemFs, OpenOptions, read_to_vec};
    ///
    /// let fs = MemFs::new();
    /// let lost = fs.open(Path::new("/lost"), OpenOptions::create_new())?;
    /// lost.write_all_at(b"never synced", 0)?;
    /// let kept = fs.open(Path::new("/kept"), OpenOptions::create_new())?;
    /// kept.write_all_at(b"synced", 0)?;
    /// kept.sync_data()?;
    /// fs.sync_directory(Path::new("/"))?;
    /// // `/lost`'s entry became durable with the directory sync; its data did not.
    /// lost.write_all_at(b" and then some", 12)?;
    /// fs.create_dir(Path::new("/new"))?; // Not durable: `/` is not synced again.
    ///
    /// let after = fs.crash_copy();
    /// assert_eq!(read_to_vec(&after, Path::new("/kept"))?, b"synced");
    /// assert_eq!(read_to_vec(&after, Path::new("/lost"))?, b"");
    /// assert!(!after.exists(Path::new("/new"))?);
    /// # Ok::<(), cairndb::Error>(())
    /// ```
    pub fn crash_copy(&self) -> MemFs {
        self.after_crash(crash_state(&self.state(), next_namespace(), Survival::Durable))
    }

    /// A harsher power cut than [`MemFs::crash_copy`], chosen by `seed`
    /// (the same seed on the same state gives the same result).
    ///
    /// Besides the durable state, each directory keeps a random prefix of
    /// the entry changes made since its last sync (a rename within one
    /// directory is one change, never split), and each file keeps a random
    /// prefix of its writes and length changes since its last sync, the last
    /// kept write possibly cut short at a random byte: how a torn log tail
    /// arises.
    pub fn crash_copy_torn(&self, seed: u64) -> MemFs {
        let survival = Survival::Torn(SplitMix64::new(seed));
        self.after_crash(crash_state(&self.state(), next_namespace(), survival))
    }

    /// Opens `ino` as a handle, counting it so an unlinked inode stays alive.
    /// Takes the state already locked so that nothing can collect the inode
    /// between the lookup and the count.
    fn handle(&self, state: &mut State, ino: Ino, path: &Path, options: OpenOptions) -> MemFile {
        if let Some(inode) = state.inodes.get_mut(&ino) {
            inode.handles += 1;
        }
        MemFile {
            state: Arc::clone(&self.state),
            ino,
            path: path.to_path_buf(),
            read: options.read,
            write: options.write || options.append,
            append: options.append,
        }
    }
}

impl Default for MemFs {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("MemFs")
            .field("namespace", &state.namespace)
            .field("devices", &state.devices)
            .field("inodes", &state.inodes.len())
            .finish()
    }
}

impl Fs for MemFs {
    fn unique_id(&self) -> Result<u128> {
        match &mut *self.ids.locked() {
            Some(ids) => Ok(u128::from(ids.next_u64()) << 64 | u128::from(ids.next_u64())),
            None => super::os_random_u128(),
        }
    }

    fn open(&self, path: &Path, options: OpenOptions) -> Result<Box<dyn FsFile>> {
        let mut state = self.state();
        let ino = state.open(path, options).map_err(|e| Error::io("open", path, e))?;
        Ok(Box::new(self.handle(&mut state, ino, path, options)))
    }

    fn create_dir(&self, path: &Path) -> Result<()> {
        self.state().create_dir(path).map_err(|e| Error::io("create directory", path, e))
    }

    fn create_dir_all(&self, path: &Path) -> Result<()> {
        self.state().create_dir_all(path).map_err(|e| Error::io("create directory", path, e))
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        self.state().read_dir(path).map_err(|e| Error::io("read directory", path, e))
    }

    fn remove_file(&self, path: &Path) -> Result<()> {
        self.state().remove_file(path).map_err(|e| Error::io("remove file", path, e))
    }

    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.state().remove_dir(path).map_err(|e| Error::io("remove directory", path, e))
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.state().rename(from, to).map_err(|e| Error::io2("rename", from, to, e))
    }

    fn metadata(&self, path: &Path) -> Result<Metadata> {
        self.state().metadata(path).map_err(|e| Error::io("stat", path, e))
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        self.state().exists(path).map_err(|e| Error::io("stat", path, e))
    }

    fn hard_link(&self, src: &Path, dst: &Path) -> Result<()> {
        self.state().hard_link(src, dst).map_err(|e| Error::io2("hard-link", src, dst, e))
    }

    fn reflink(&self, src: &Path, dst: &Path) -> Result<()> {
        self.state().reflink(src, dst).map_err(|e| Error::io2("reflink", src, dst, e))
    }

    fn sync_directory(&self, path: &Path) -> Result<()> {
        let mut state = self.state();
        let ino = state.lookup_dir(path).map_err(|e| Error::io("open directory", path, e))?;
        state.sync_dir(ino);
        Ok(())
    }

    fn device_id(&self, path: &Path) -> Result<DeviceId> {
        let state = self.state();
        let ino = state::components(path).and_then(|names| state.lookup(&names));
        ino.map(|ino| state.device_id(ino)).map_err(|e| Error::io("stat", path, e))
    }

    fn supports_reflink(&self, dir: &Path) -> Result<bool> {
        let device = self.device_id(dir)?.device;
        let state = self.state();
        Ok(state.devices.get(device as usize).is_some_and(|d| d.reflink))
    }

    fn canonicalize(&self, path: &Path) -> Result<PathBuf> {
        self.state().canonicalize(path).map_err(|e| Error::io("resolve", path, e))
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn FsLock>> {
        let options = OpenOptions { read: true, write: true, create: true, ..OpenOptions::default() };
        let mut state = self.state();
        let ino = state.open(path, options).map_err(|e| Error::io("open lock file", path, e))?;
        if !state.locked.insert(ino) {
            return Err(Error::Locked { path: path.to_path_buf() });
        }
        if let Some(inode) = state.inodes.get_mut(&ino) {
            inode.handles += 1;
        }
        Ok(Box::new(MemLock { state: Arc::clone(&self.state), ino, path: path.to_path_buf() }))
    }
}

/// A held [`Fs::lock`]: keeps the lock file's inode locked (and alive).
struct MemLock {
    state: Arc<Mutex<State>>,
    ino: Ino,
    path: PathBuf,
}

impl fmt::Debug for MemLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemLock").field("path", &self.path).field("ino", &self.ino).finish()
    }
}

impl FsLock for MemLock {}

impl Drop for MemLock {
    fn drop(&mut self) {
        let mut state = lock_state(&self.state);
        state.locked.remove(&self.ino);
        release(&mut state, self.ino);
    }
}

fn release(state: &mut State, ino: Ino) {
    if let Some(inode) = state.inodes.get_mut(&ino) {
        inode.handles = inode.handles.saturating_sub(1);
    }
}

/// An open file (or a directory opened for reading) of a [`MemFs`].
struct MemFile {
    state: Arc<Mutex<State>>,
    ino: Ino,
    path: PathBuf,
    read: bool,
    write: bool,
    append: bool,
}

impl fmt::Debug for MemFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemFile").field("path", &self.path).field("ino", &self.ino).finish()
    }
}

impl Drop for MemFile {
    fn drop(&mut self) {
        release(&mut lock_state(&self.state), self.ino);
    }
}

impl MemFile {
    /// Runs `f` on the file's inode; a directory is `EISDIR`.
    fn with_file<T>(&self, op: &'static str, f: impl FnOnce(&mut state::FileNode) -> io::Result<T>) -> Result<T> {
        let mut state = lock_state(&self.state);
        let result = match state.inodes.get_mut(&self.ino).map(|n| &mut n.body) {
            Some(Body::File(file)) => f(file),
            Some(Body::Dir(_)) => Err(errno(Errno::ISDIR)),
            // Opening follows links and handles keep their inode alive:
            // neither can happen.
            Some(Body::Symlink(_)) | None => Err(errno(Errno::BADF)),
        };
        result.map_err(|e| Error::io(op, &self.path, e))
    }

    /// Like `fsync`: for a file its content (`MemFs` has no metadata to
    /// tell `sync_data` from `sync_all`), for a directory its entries.
    fn sync(&self) -> Result<()> {
        let mut state = lock_state(&self.state);
        match state.file_mut(self.ino) {
            Some(file) => file.sync(),
            None => state.sync_dir(self.ino),
        }
        Ok(())
    }

    fn require(allowed: bool, code: Errno) -> io::Result<()> {
        if allowed { Ok(()) } else { Err(errno(code)) }
    }
}

impl FsFile for MemFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.with_file("read", |file| {
            Self::require(self.read, Errno::BADF)?;
            let start = usize::try_from(offset).unwrap_or(usize::MAX).min(file.live.len());
            let n = buf.len().min(file.live.len() - start);
            buf[..n].copy_from_slice(&file.live[start..start + n]);
            Ok(n)
        })
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize> {
        Self::require(self.write, Errno::BADF).map_err(|e| Error::io("write", &self.path, e))?;
        self.with_file("write", |file| {
            let offset = if self.append { file.live.len() as u64 } else { offset };
            file.write(offset, buf).map(|()| buf.len())
        })
    }

    fn len(&self) -> Result<u64> {
        let state = lock_state(&self.state);
        Ok(match state.inodes.get(&self.ino).map(|n| &n.body) {
            Some(Body::File(file)) => file.live.len() as u64,
            _ => 0,
        })
    }

    fn set_len(&self, len: u64) -> Result<()> {
        Self::require(self.write, Errno::INVAL).map_err(|e| Error::io("truncate", &self.path, e))?;
        self.with_file("truncate", |file| file.set_len(len))
    }

    fn sync_data(&self) -> Result<()> {
        self.sync()
    }

    fn sync_all(&self) -> Result<()> {
        self.sync()
    }

    fn path(&self) -> &Path {
        &self.path
    }
}
