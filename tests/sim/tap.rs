//! A tap on the world's disk: while armed, it takes what a power cut would
//! leave just before every operation that changes that (a write, a length
//! change, a directory change, an fsync), so one run of an action yields
//! the crash states at every step of it. Torn copies (a random prefix of
//! the unsynced changes) before writes, durable-only copies before syncs.
//! At most [`STATES_MAX`] are kept per sweep, spread evenly over the
//! action (the stride doubles when they would not fit).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cairndb::Result;
use cairndb::fs::{DeviceId, DirEntry, Fs, FsFile, FsLock, MemFs, Metadata, OpenOptions};

/// Crash states kept per sweep at most.
pub const STATES_MAX: usize = 24;

#[derive(Debug, Default)]
struct Taken {
    /// Operations seen since the sweep began.
    ops: u64,
    /// Keep the state before operation `n` when `n % stride == 0`.
    stride: u64,
    states: Vec<(u64, MemFs)>,
    seed: u64,
}

#[derive(Debug, Default)]
pub struct TapState {
    armed: AtomicBool,
    taken: Mutex<Taken>,
}

impl TapState {
    /// Starts a sweep; `seed` chooses the torn copies.
    pub fn arm(&self, seed: u64) {
        *self.taken.lock().unwrap() = Taken { stride: 1, seed, ..Taken::default() };
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Ends the sweep and returns the crash states taken, in order.
    pub fn disarm(&self) -> Vec<MemFs> {
        self.armed.store(false, Ordering::SeqCst);
        std::mem::take(&mut self.taken.lock().unwrap().states).into_iter().map(|(_, m)| m).collect()
    }

    fn before(&self, mem: &MemFs, sync: bool) {
        if !self.armed.load(Ordering::SeqCst) {
            return;
        }
        let mut taken = self.taken.lock().unwrap();
        let n = taken.ops;
        taken.ops += 1;
        if !n.is_multiple_of(taken.stride) {
            return;
        }
        let state = if sync { mem.crash_copy() } else { mem.crash_copy_torn(taken.seed.wrapping_add(n)) };
        taken.states.push((n, state));
        if taken.states.len() > STATES_MAX {
            taken.stride *= 2;
            let stride = taken.stride;
            taken.states.retain(|(n, _)| n.is_multiple_of(stride));
        }
    }
}

/// The `Fs` the world's `FaultFs` wraps: the `MemFs`, tapped.
#[derive(Debug)]
pub struct Tap {
    mem: MemFs,
    state: Arc<TapState>,
}

impl Tap {
    pub fn new(mem: MemFs, state: Arc<TapState>) -> Tap {
        Tap { mem, state }
    }

    fn before(&self, sync: bool) {
        self.state.before(&self.mem, sync);
    }
}

#[derive(Debug)]
struct TapFile {
    inner: Box<dyn FsFile>,
    mem: MemFs,
    state: Arc<TapState>,
}

impl FsFile for TapFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.inner.read_at(buf, offset)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize> {
        self.state.before(&self.mem, false);
        self.inner.write_at(buf, offset)
    }
    fn len(&self) -> Result<u64> {
        self.inner.len()
    }
    fn set_len(&self, len: u64) -> Result<()> {
        self.state.before(&self.mem, false);
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> Result<()> {
        self.state.before(&self.mem, true);
        self.inner.sync_data()
    }
    fn sync_all(&self) -> Result<()> {
        self.state.before(&self.mem, true);
        self.inner.sync_all()
    }
    fn path(&self) -> &Path {
        self.inner.path()
    }
}

impl Fs for Tap {
    fn open(&self, path: &Path, options: OpenOptions) -> Result<Box<dyn FsFile>> {
        if options.mutates() {
            self.before(false);
        }
        let inner = self.mem.open(path, options)?;
        Ok(Box::new(TapFile { inner, mem: self.mem.clone(), state: Arc::clone(&self.state) }))
    }
    fn create_dir(&self, path: &Path) -> Result<()> {
        self.before(false);
        self.mem.create_dir(path)
    }
    fn create_dir_all(&self, path: &Path) -> Result<()> {
        self.before(false);
        self.mem.create_dir_all(path)
    }
    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        self.mem.read_dir(path)
    }
    fn remove_file(&self, path: &Path) -> Result<()> {
        self.before(false);
        self.mem.remove_file(path)
    }
    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.before(false);
        self.mem.remove_dir(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.before(false);
        self.mem.rename(from, to)
    }
    fn metadata(&self, path: &Path) -> Result<Metadata> {
        self.mem.metadata(path)
    }
    fn exists(&self, path: &Path) -> Result<bool> {
        self.mem.exists(path)
    }
    fn hard_link(&self, src: &Path, dst: &Path) -> Result<()> {
        self.before(false);
        self.mem.hard_link(src, dst)
    }
    fn reflink(&self, src: &Path, dst: &Path) -> Result<()> {
        self.before(false);
        self.mem.reflink(src, dst)
    }
    fn sync_directory(&self, path: &Path) -> Result<()> {
        self.before(true);
        self.mem.sync_directory(path)
    }
    fn device_id(&self, path: &Path) -> Result<DeviceId> {
        self.mem.device_id(path)
    }
    fn canonicalize(&self, path: &Path) -> Result<PathBuf> {
        self.mem.canonicalize(path)
    }
    fn supports_reflink(&self, dir: &Path) -> Result<bool> {
        self.mem.supports_reflink(dir)
    }
    fn lock(&self, path: &Path) -> Result<Box<dyn FsLock>> {
        self.mem.lock(path)
    }
}
