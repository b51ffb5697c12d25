//! A file the database deletes is closed by then: no reader of a file that
//! no version holds stays open (`/proc/self/fd` shows no `(deleted)` entry
//! of the database), even when an old iterator read it after it left the
//! current version, or a read raced the compaction that removed it.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};

use cairndb::fs::{DeviceId, DirEntry, Fs, FsFile, FsLock, Metadata, OpenOptions, StdFs};
use cairndb::{Config, Db, Result};

/// Descriptors of this process open on files under `dir` that were deleted.
fn deleted_fds_under(dir: &Path) -> Vec<String> {
    let prefix = dir.canonicalize().unwrap().display().to_string();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|target| target.display().to_string())
        .filter(|target| target.starts_with(&prefix) && target.ends_with(" (deleted)"))
        .collect()
}

fn big(i: u32) -> Vec<u8> {
    (0..4000u32).map(|j| (i * 31 + j) as u8).collect()
}

#[test]
fn a_blob_file_collected_under_a_live_iterator_is_closed_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let db = Config::new(dir.path().join("db"))
        .blob_threshold_bytes(1000)
        .memtable_size_bytes(4 << 20)
        .background_threads(false)
        .open()
        .unwrap();
    for i in 0..200u32 {
        db.put(format!("k{i:03}"), big(i)).unwrap();
    }
    db.flush().unwrap();
    let old_blob = *db.version().blob_files.keys().next().unwrap();
    for i in 0..180u32 {
        db.put(format!("k{i:03}"), b"small now").unwrap();
    }
    db.flush().unwrap();
    // Sees only k180.. as large values: the old ones are not its to keep.
    let mut iter = db.range("k180"..);
    assert_eq!(iter.next().unwrap().unwrap().1, big(180));
    db.compact().unwrap();
    assert!(!db.version().blob_files.contains_key(&old_blob), "collected under the iterator");
    let rest: Vec<_> = iter.by_ref().map(|kv| kv.unwrap().1).collect();
    assert_eq!(rest, (181..200).map(big).collect::<Vec<_>>(), "the iterator still reads the old file");
    drop(iter);
    assert!(!dir.path().join(format!("db/blobs/{old_blob}.blob")).exists(), "deleted once the iterator ended");
    assert_eq!(deleted_fds_under(dir.path()), Vec::<String>::new());
    assert_eq!(db.get("k190").unwrap(), Some(big(190)));
}

/// `StdFs`, except that the first open of a table by one chosen thread
/// waits until released, so a test can run a compaction inside a read.
#[derive(Debug)]
struct GateFs {
    inner: StdFs,
    gate: Mutex<Option<Gate>>,
}

#[derive(Debug)]
struct Gate {
    thread: ThreadId,
    arrived: SyncSender<()>,
    release: Receiver<()>,
}

impl GateFs {
    fn wait_if_gated(&self, path: &Path) {
        if path.extension().is_none_or(|e| e != "sst") {
            return;
        }
        let mut armed = self.gate.lock().unwrap();
        if armed.as_ref().is_some_and(|g| g.thread == thread::current().id()) {
            let gate = armed.take().unwrap();
            drop(armed);
            gate.arrived.send(()).unwrap();
            gate.release.recv().unwrap();
        }
    }
}

impl Fs for GateFs {
    fn open(&self, path: &Path, options: OpenOptions) -> Result<Box<dyn FsFile>> {
        self.wait_if_gated(path);
        self.inner.open(path, options)
    }
    fn create_dir(&self, path: &Path) -> Result<()> {
        self.inner.create_dir(path)
    }
    fn create_dir_all(&self, path: &Path) -> Result<()> {
        self.inner.create_dir_all(path)
    }
    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>> {
        self.inner.read_dir(path)
    }
    fn remove_file(&self, path: &Path) -> Result<()> {
        self.inner.remove_file(path)
    }
    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.inner.remove_dir(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.inner.rename(from, to)
    }
    fn metadata(&self, path: &Path) -> Result<Metadata> {
        self.inner.metadata(path)
    }
    fn exists(&self, path: &Path) -> Result<bool> {
        self.inner.exists(path)
    }
    fn hard_link(&self, src: &Path, dst: &Path) -> Result<()> {
        self.inner.hard_link(src, dst)
    }
    fn reflink(&self, src: &Path, dst: &Path) -> Result<()> {
        self.inner.reflink(src, dst)
    }
    fn sync_directory(&self, path: &Path) -> Result<()> {
        self.inner.sync_directory(path)
    }
    fn device_id(&self, path: &Path) -> Result<DeviceId> {
        self.inner.device_id(path)
    }
    fn canonicalize(&self, path: &Path) -> Result<PathBuf> {
        self.inner.canonicalize(path)
    }
    fn supports_reflink(&self, dir: &Path) -> Result<bool> {
        self.inner.supports_reflink(dir)
    }
    fn lock(&self, path: &Path) -> Result<Box<dyn FsLock>> {
        self.inner.lock(path)
    }

    fn unique_id(&self) -> Result<u128> {
        self.inner.unique_id()
    }
}

#[test]
fn a_table_read_racing_the_compaction_that_removes_it_does_not_keep_it_open() {
    let dir = tempfile::tempdir().unwrap();
    let fs = Arc::new(GateFs { inner: StdFs::new(), gate: Mutex::new(None) });
    let open = || {
        Config::new(dir.path().join("db")).fs(fs.clone()).level0_trigger(10).background_threads(false).open().unwrap()
    };
    let db: Db = open();
    for round in 0..2 {
        for i in 0..100u32 {
            db.put(format!("k{i:03}"), format!("v{round}")).unwrap();
        }
        db.flush().unwrap();
    }
    drop(db);
    let db = open(); // No table opened yet.
    let (arrived_tx, arrived) = sync_channel(0);
    let (release, release_rx) = sync_channel(0);
    let value = thread::scope(|s| {
        let reader = s.spawn(|| {
            *fs.gate.lock().unwrap() =
                Some(Gate { thread: thread::current().id(), arrived: arrived_tx, release: release_rx });
            db.get("k050").unwrap()
        });
        arrived.recv().unwrap(); // The read holds the old version and opens a table.
        db.compact().unwrap();
        release.send(()).unwrap();
        reader.join().unwrap()
    });
    assert_eq!(value.as_deref(), Some(&b"v1"[..]));
    assert_eq!(db.version().table_count(), 1, "the flushed tables were compacted away");
    assert_eq!(deleted_fds_under(dir.path()), Vec::<String>::new());
}
