//! A database of more tables than the process may open files stays usable:
//! under `ulimit -n 1024`, a database of 2,000 tables reads every key,
//! scans both ways, runs a full compaction, takes a checkpoint and opens a
//! read-only view beside itself, while the descriptors the process holds
//! (`/proc/self/fd`) stay under `max_open_files` (per open database) plus
//! a small constant. (Every table reader used to keep its file open for
//! good: reads failed with "Too many open files" past about 1,000 tables,
//! and the full compaction, which opened all its inputs at once, poisoned
//! the database.)
//!
//! The limit is set in a child process: the test re-runs its own binary
//! with an environment variable set, and the child lowers `RLIMIT_NOFILE`
//! before it opens anything.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use cairndb::{Config, Db};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Set in the child, which runs the body under the lowered limit.
const CHILD: &str = "CAIRNDB_OPEN_FILES_CHILD";
/// The descriptor limit the child runs under: the common default.
const NOFILE: u64 = 1024;
/// The bound each database is opened with: well below the table count.
const MAX_OPEN_FILES: usize = 200;
/// Descriptors a database holds besides its table and blob readers (the
/// lock file, log segments, the files a flush or compaction writes, a
/// directory being synced) and those an iterator or compaction holds
/// beyond the cache (one table per level, and level 0's tables).
const SLACK: usize = 40;
const TABLES_MIN: usize = 2_000;
const KEYS: u32 = 24_000;

fn key(i: u32) -> String {
    format!("key{i:08}")
}

fn value(i: u32) -> Vec<u8> {
    (0..400u32).map(|j| (i.wrapping_mul(2_654_435_761) >> (j % 24)) as u8 ^ j as u8).collect()
}

/// Small tables (4 KiB, uncompressed), flushed and compacted inline; keys
/// written in order and a level 1 that never fills, so building thousands
/// of tables takes a compaction per flush (a deeper tree would rewrite a
/// version file of thousands of tables at each of thousands of small
/// compactions: minutes in a debug build).
fn config(path: &Path) -> Config {
    Config::new(path)
        .memtable_size_bytes(64 << 10)
        .table_target_bytes(4 << 10)
        .level1_target_bytes(1 << 30)
        .compression(false)
        .background_threads(false)
        .background_persist_interval(None)
        .max_open_files(MAX_OPEN_FILES)
}

/// A directory in memory where there is one: the test writes thousands of
/// small tables, each fsynced, which on a disk takes minutes.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    match shm.is_dir().then(|| tempfile::tempdir_in(shm)) {
        Some(Ok(dir)) => dir,
        _ => tempfile::tempdir().unwrap(),
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

/// Samples this process's open descriptors every 100 µs; `take_max` gives
/// the most seen since the last call.
struct FdWatch {
    max: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl FdWatch {
    fn start() -> FdWatch {
        let (max, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let thread = {
            let (max, stop) = (Arc::clone(&max), Arc::clone(&stop));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // Less the descriptor the count itself holds.
                    max.fetch_max(open_fds() - 1, Ordering::Relaxed);
                    thread::sleep(Duration::from_micros(100));
                }
            })
        };
        FdWatch { max, stop, thread: Some(thread) }
    }

    fn take_max(&self) -> usize {
        self.max.swap(open_fds() - 1, Ordering::Relaxed).max(open_fds() - 1)
    }
}

impl Drop for FdWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn check_reads(db: &Db) {
    for i in 0..KEYS {
        assert_eq!(db.get(key(i)).unwrap(), Some(value(i)), "{}", key(i));
    }
    let mut n = 0;
    for (i, kv) in db.iter().enumerate() {
        let (k, v) = kv.unwrap();
        assert_eq!((k, v), (key(i as u32).into_bytes(), value(i as u32)));
        n += 1;
    }
    assert_eq!(n, KEYS as usize, "the forward scan");
    let back: Vec<Vec<u8>> = db.iter().rev().take(3_000).map(|kv| kv.unwrap().0).collect();
    let expected: Vec<Vec<u8>> = (KEYS - 3_000..KEYS).rev().map(|i| key(i).into_bytes()).collect();
    assert_eq!(back, expected, "the backward scan");
}

fn body() {
    let limit = Rlimit { current: Some(NOFILE), maximum: Some(NOFILE) };
    setrlimit(Resource::Nofile, limit).expect("lower RLIMIT_NOFILE");
    assert_eq!(getrlimit(Resource::Nofile).current, Some(NOFILE));
    let dir = scratch_dir();
    let path = dir.path().join("db");
    let baseline = open_fds() - 1;
    {
        let db = config(&path).open().unwrap();
        for i in 0..KEYS {
            db.put(key(i), value(i)).unwrap();
        }
        db.flush().unwrap();
    }
    let watch = FdWatch::start();
    let bound = |databases: usize| baseline + databases * MAX_OPEN_FILES + SLACK;
    let db = config(&path).open().unwrap();
    let tables = db.version().table_count();
    assert!(tables >= TABLES_MIN, "only {tables} tables");
    assert!(tables as u64 > NOFILE, "more tables than the process may open files");

    check_reads(&db);
    let stats = db.stats();
    assert_eq!(stats.max_open_files, MAX_OPEN_FILES as u64);
    assert!(stats.open_files > 0 && stats.open_files <= MAX_OPEN_FILES as u64, "{stats:?}");
    let reads = watch.take_max();
    assert!(reads <= bound(1), "reads held {reads} descriptors, more than {}", bound(1));

    db.compact().unwrap();
    let stats = db.stats();
    assert!(stats.poisoned.is_none(), "{stats:?}");
    assert!(db.version().table_count() >= TABLES_MIN, "the compaction wrote small tables again");
    check_reads(&db);
    let compaction = watch.take_max();
    assert!(compaction <= bound(1), "the full compaction held {compaction} descriptors, more than {}", bound(1));

    let checkpoint = dir.path().join("checkpoint");
    db.checkpoint(&checkpoint).unwrap();
    let view = config(&path).read_only(true).create_if_missing(false).open().unwrap();
    let copy = config(&checkpoint).read_only(true).create_if_missing(false).open().unwrap();
    for i in (0..KEYS).step_by(7) {
        assert_eq!(view.get(key(i)).unwrap(), Some(value(i)), "the view: {}", key(i));
        assert_eq!(copy.get(key(i)).unwrap(), Some(value(i)), "the checkpoint: {}", key(i));
    }
    assert_eq!(copy.iter().count(), KEYS as usize, "the checkpoint's scan");
    for opened in [&view, &copy] {
        assert!(opened.stats().open_files <= MAX_OPEN_FILES as u64, "{:?}", opened.stats());
    }
    let three = watch.take_max();
    assert!(three <= bound(3), "three databases held {three} descriptors, more than {}", bound(3));
    drop(watch);
    eprintln!(
        "{tables} tables, max_open_files {MAX_OPEN_FILES}, {baseline} descriptors before: at most {reads} while \
         reading and scanning, {compaction} through the full compaction, {three} with the checkpoint and a view \
         open beside"
    );
}

#[test]
fn two_thousand_tables_under_a_limit_of_1024_descriptors() {
    if std::env::var_os(CHILD).is_some() {
        return body();
    }
    let exe = std::env::current_exe().unwrap();
    let name = "two_thousand_tables_under_a_limit_of_1024_descriptors";
    let out = Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("run the child");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the child failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("1 passed"), "the child ran the test:\n{stdout}\n{stderr}");
    eprint!("{stderr}");
}
