//! Running out of file descriptors (`EMFILE`, `ENFILE`) is a shortage, not
//! damage: the operation that hit it fails with an error that says so, the
//! database is not poisoned, and the same operation succeeds once
//! descriptors are free again; a background flush or compaction that hits
//! it tries again later. (A full compaction that ran out used to poison the
//! database until a reopen.)

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cairndb::fs::{
    DeviceId, DirEntry, FaultFs, FaultKind, FaultRule, Fs, FsFile, FsLock, MemFs, Metadata, OpKind, OpenOptions,
};
use cairndb::{Config, Db, Error, Result};

const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

fn config(fs: Arc<dyn Fs>) -> Config {
    Config::new("/db")
        .fs(fs)
        .memtable_size_bytes(64 << 10)
        .table_target_bytes(4 << 10)
        .level0_trigger(100)
        .background_threads(false)
        .background_persist_interval(None)
        .max_open_files(2)
}

fn key(round: u32, i: u32) -> String {
    format!("key{i:05}-{round}")
}

/// Three flushes of 300 keys each: several level-0 tables, none open yet
/// on a fresh open.
fn fill(db: &Db) {
    for round in 0..3 {
        for i in 0..300 {
            db.put(key(round, i), format!("value {round} {i}")).unwrap();
        }
        db.flush().unwrap();
    }
}

fn check_all(db: &Db) {
    for round in 0..3 {
        for i in 0..300 {
            assert_eq!(db.get(key(round, i)).unwrap(), Some(format!("value {round} {i}").into_bytes()));
        }
    }
}

fn is_shortage(e: &Error) -> bool {
    matches!(e.raw_os_error(), Some(EMFILE | ENFILE))
}

#[test]
fn a_compaction_out_of_descriptors_fails_cleanly_and_succeeds_later() {
    let mem = MemFs::new();
    let fault = FaultFs::new(Arc::new(mem.clone()));
    drop({
        let db = config(Arc::new(mem.clone())).open().unwrap();
        fill(&db);
        db
    });
    let db = config(Arc::new(fault.clone())).open().unwrap();
    let tables = db.version().table_count();
    assert!(tables > 4, "{tables} tables");
    for errno in [EMFILE, ENFILE] {
        fault.add_rule(FaultRule::Kind { op: OpKind::Open, kind: FaultKind::Errno(errno) });
        let err = db.compact().unwrap_err();
        assert!(is_shortage(&err), "{err}");
        assert!(err.to_string().contains("/db/tables/"), "the error names the file: {err}");
        assert!(err.to_string().contains("max_open_files"), "the error says what to do: {err}");
        let read = db.get(key(0, 7));
        assert!(read.as_ref().is_err_and(is_shortage), "a read of a closed table fails too: {read:?}");
        assert_eq!(db.stats().poisoned, None, "not poisoned by errno {errno}");
        db.put("written", "while short").unwrap();
        fault.clear_rules();
    }
    assert_eq!(db.version().table_count(), tables, "nothing changed");
    check_all(&db);
    db.compact().unwrap();
    assert_eq!(db.version().levels[0].len(), 0, "compacted once descriptors were free");
    check_all(&db);
    assert_eq!(db.get("written").unwrap().as_deref(), Some(&b"while short"[..]));
}

/// Whichever open of a flush or compaction runs out — an input, an output
/// table, the version file, `CURRENT`'s temporary file — the database stays
/// usable, loses nothing, and the retry succeeds.
#[test]
fn running_out_at_any_open_of_a_flush_or_compaction_does_not_poison() {
    for job in ["flush", "compact"] {
        for nth in 0.. {
            let mem = MemFs::new();
            let fault = FaultFs::new(Arc::new(mem.clone()));
            let db = config(Arc::new(fault.clone())).open().unwrap();
            fill(&db);
            for i in 0..300 {
                db.put(key(9, i), "unflushed").unwrap();
            }
            db.persist().unwrap();
            let base = fault.op_count_of(OpKind::Open);
            fault.add_rule(FaultRule::NthOfKind { op: OpKind::Open, nth: base + nth, kind: FaultKind::Errno(EMFILE) });
            let result = if job == "flush" { db.flush() } else { db.compact() };
            let injected = fault.injected_count() > 0;
            fault.clear_rules();
            match result {
                Ok(()) if !injected => break,
                Ok(()) => {}
                Err(e) => assert!(is_shortage(&e), "{job}, open {nth}: {e}"),
            }
            assert_eq!(db.stats().poisoned, None, "{job}, open {nth}");
            if job == "flush" { db.flush() } else { db.compact() }.unwrap();
            check_all(&db);
            db.put("after", "retry").unwrap();
            db.persist().unwrap();
            drop(db);
            let db = config(Arc::new(mem.crash_copy())).open().unwrap();
            check_all(&db);
            assert_eq!(db.get(key(9, 299)).unwrap().as_deref(), Some(&b"unflushed"[..]), "{job}, open {nth}");
            assert_eq!(db.get("after").unwrap().as_deref(), Some(&b"retry"[..]), "{job}, open {nth}");
        }
    }
}

/// `MemFs`, except that opening an existing table for reading fails with
/// `EMFILE` while `short` is set (writing new tables still works).
#[derive(Debug)]
struct ShortFs {
    inner: MemFs,
    short: AtomicBool,
}

impl Fs for ShortFs {
    fn open(&self, path: &Path, options: OpenOptions) -> Result<Box<dyn FsFile>> {
        if self.short.load(Ordering::SeqCst) && !options.mutates() && path.extension().is_some_and(|e| e == "sst") {
            return Err(Error::io("open", path, std::io::Error::from_raw_os_error(EMFILE)));
        }
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

fn wait_for(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_background_compaction_out_of_descriptors_tries_again_later() {
    let fs = Arc::new(ShortFs { inner: MemFs::new(), short: AtomicBool::new(false) });
    let db = config(fs.clone()).background_threads(true).level0_trigger(4).max_open_files(1).open().unwrap();
    fs.short.store(true, Ordering::SeqCst);
    for round in 0..4 {
        for i in 0..300 {
            db.put(key(round, i), format!("value {round} {i}")).unwrap();
        }
        db.flush().unwrap();
    }
    // Level 0 is due: the compactor tries, runs out, and waits to try again.
    std::thread::sleep(Duration::from_millis(500));
    let stats = db.stats();
    assert_eq!((stats.compactions, stats.poisoned.as_deref()), (0, None), "{stats:?}");
    db.put("still", "writable").unwrap();
    fs.short.store(false, Ordering::SeqCst);
    wait_for("the compaction", || db.stats().compactions > 0);
    assert_eq!(db.stats().poisoned, None);
    assert_eq!(db.get(key(3, 299)).unwrap().as_deref(), Some(&b"value 3 299"[..]));
    assert_eq!(db.get("still").unwrap().as_deref(), Some(&b"writable"[..]));
}
