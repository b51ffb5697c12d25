//! Recovery cuts only what a crash can leave (bytes after the last valid
//! commit of the newest segment) and reports everything else as
//! corruption, deleting nothing: the regressions independent probing found
//! (issue 13, items 1-3), on the log alone and through the database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairndb::fs::{Fs, MemFs, OpenOptions, read_to_vec};
use cairndb::internals::hlog::{HlogConfig, HybridLog, RecoveryReport, ReplayFrom, segment};
use cairndb::{Config, Db, LogAddress, SeqNo};

const LOG: &str = "/log";

fn config(read_only: bool) -> HlogConfig {
    HlogConfig {
        page_size_bytes: 4096,
        segment_size_bytes: 8192,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only,
    }
}

const FROM_START: ReplayFrom = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };

fn open_log(fs: &MemFs, read_only: bool) -> cairndb::Result<(HybridLog, RecoveryReport)> {
    HybridLog::open(Arc::new(fs.clone()), Path::new(LOG), config(read_only), FROM_START)
}

fn contents(log: &HybridLog) -> BTreeMap<Vec<u8>, Vec<u8>> {
    log.range(.., None).filter_map(|(k, l)| Some((k, l.value()?.to_vec()))).collect()
}

/// Every file under `dir` with its bytes.
fn files(fs: &MemFs, dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in fs.read_dir(dir).unwrap() {
        let path = dir.join(&entry.name);
        if entry.kind == cairndb::fs::FileKind::Dir {
            out.extend(files(fs, &path));
        } else {
            out.insert(path.clone(), read_to_vec(fs, &path).unwrap());
        }
    }
    out
}

fn edit(fs: &MemFs, path: &Path, change: impl FnOnce(&mut Vec<u8>)) -> MemFs {
    let copy = fs.crash_copy();
    let mut bytes = read_to_vec(&copy, path).unwrap();
    change(&mut bytes);
    let file = copy.open(path, OpenOptions::create_truncate()).unwrap();
    file.write_all_at(&bytes, 0).unwrap();
    file.sync_all().unwrap();
    copy
}

/// One session: open, write `keys` with `tag`, persist, close.
fn session(fs: &MemFs, keys: std::ops::Range<u32>, tag: u8) -> Vec<PathBuf> {
    let (log, _) = open_log(fs, false).unwrap();
    for i in keys {
        log.put(format!("key-{i:03}").as_bytes(), &[tag; 40]).unwrap();
    }
    log.persist().unwrap();
    log.segments().into_iter().map(|s| s.path).collect()
}

#[test]
fn a_write_after_recovering_from_a_torn_segment_keeps_every_write() {
    let fs = MemFs::new();
    session(&fs, 0..20, 1);
    let first = contents(&open_log(&fs.crash_copy(), true).unwrap().0);
    let second = session(&fs, 20..30, 2);
    let newest = second.last().unwrap().clone();
    for cut in [segment::HEADER_BYTES + 3, segment::HEADER_BYTES + 40, segment::HEADER_BYTES + 100] {
        let fs = edit(&fs, &newest, |b| b.truncate(cut));
        let (log, report) = open_log(&fs, false).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(contents(&log), first, "cut at {cut}");
        assert!(report.torn_at.is_some(), "cut at {cut}: {report:?}");
        log.put(b"after", b"recovery").unwrap();
        log.persist().unwrap();
        drop(log);
        for _ in 0..2 {
            let (log, report) = open_log(&fs, false).unwrap_or_else(|e| panic!("cut at {cut}, reopen: {e}"));
            let mut expected = first.clone();
            expected.insert(b"after".to_vec(), b"recovery".to_vec());
            assert_eq!(contents(&log), expected, "cut at {cut}");
            assert_eq!(report.torn_at, None, "cut at {cut}");
        }
    }
}

fn open_db(fs: &MemFs) -> cairndb::Result<Db> {
    Config::new("/db").fs(Arc::new(fs.clone())).background_threads(false).open()
}

fn db_contents(db: &Db) -> BTreeMap<Vec<u8>, Vec<u8>> {
    db.iter().map(|kv| kv.unwrap()).collect()
}

#[test]
fn a_database_torn_in_its_newest_segment_accepts_writes_and_reopens() {
    let fs = MemFs::new();
    for (round, tag) in [(0..50u32, 1u8), (50..80, 2)] {
        let db = open_db(&fs).unwrap();
        for i in round {
            db.put(format!("k{i:03}"), [tag; 30]).unwrap();
        }
        db.persist().unwrap();
    }
    let log_dir = Path::new("/db/log");
    let newest = segment::list(&fs, log_dir).unwrap().into_iter().max().unwrap();
    let fs = edit(&fs, &segment::path(log_dir, newest), |b| b.truncate(segment::HEADER_BYTES + 5));
    let db = open_db(&fs).unwrap();
    let mut expected: BTreeMap<Vec<u8>, Vec<u8>> =
        (0..50u32).map(|i| (format!("k{i:03}").into_bytes(), vec![1; 30])).collect();
    assert_eq!(db_contents(&db), expected);
    db.put(b"after", b"recovery").unwrap();
    db.persist().unwrap();
    drop(db);
    expected.insert(b"after".to_vec(), b"recovery".to_vec());
    let db = open_db(&fs).unwrap();
    assert_eq!(db_contents(&db), expected);
    drop(db);
    let ro = Config::new("/db").fs(Arc::new(fs.clone())).read_only(true).open().unwrap();
    assert_eq!(db_contents(&ro), expected);
}

#[test]
fn a_damaged_segment_header_is_corruption_and_nothing_is_deleted() {
    let fs = MemFs::new();
    session(&fs, 0..20, 1);
    let paths = session(&fs, 20..300, 2);
    assert!(paths.len() >= 3, "{paths:?}");
    for path in &paths {
        for offset in 0..segment::HEADER_BYTES {
            let fs = edit(&fs, path, |b| b[offset] ^= 1 << (offset % 8));
            let before = files(&fs, Path::new(LOG));
            for read_only in [true, false] {
                match open_log(&fs, read_only) {
                    Err(e) => {
                        assert!(e.is_corruption(), "{path:?} byte {offset}: {e}");
                        assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
                    }
                    Ok((log, report)) => {
                        panic!("{path:?} byte {offset}: opened with {} keys, {report:?}", contents(&log).len())
                    }
                }
                assert_eq!(files(&fs, Path::new(LOG)), before, "{path:?} byte {offset}: files changed");
            }
        }
    }
}

#[test]
fn a_missing_segment_the_version_needs_is_corruption() {
    let fs = MemFs::new();
    let paths = session(&fs, 0..300, 1);
    assert!(paths.len() >= 3, "{paths:?}");
    for (i, path) in paths.iter().enumerate() {
        let fs = fs.crash_copy();
        fs.remove_file(path).unwrap();
        if i + 1 == paths.len() {
            // The newest segment gone looks like a crash before it was made:
            // nothing can tell (a checkpoint's description can; see
            // `checkpoint_verify_damage`).
            continue;
        }
        for read_only in [true, false] {
            match open_log(&fs, read_only) {
                Err(e) => assert!(e.is_corruption(), "segment {i} missing: {e}"),
                Ok((log, _)) => panic!("segment {i} missing: opened with {} keys", contents(&log).len()),
            }
        }
    }
}

#[test]
fn a_missing_first_segment_after_a_flush_is_corruption() {
    let fs = MemFs::new();
    let db = open_db(&fs).unwrap();
    for i in 0..100u32 {
        db.put(format!("old{i:03}"), [1; 30]).unwrap();
    }
    db.flush().unwrap();
    db.put(b"new-1", b"in the first live segment").unwrap();
    // A checkpoint without a flush freezes the memtable: later writes go
    // to a second live segment.
    db.checkpoint_with("/cp", cairndb::CheckpointOptions::default().flush(false)).unwrap();
    db.put(b"new-2", b"in the second live segment").unwrap();
    db.persist().unwrap();
    drop(db);
    let log_dir = Path::new("/db/log");
    let numbers = segment::list(&fs, log_dir).unwrap();
    assert!(numbers.len() >= 2, "{numbers:?}");
    let fs = fs.crash_copy();
    assert_eq!(open_db(&fs).unwrap().get(b"new-1").unwrap().as_deref(), Some(&b"in the first live segment"[..]));
    fs.remove_file(&segment::path(log_dir, numbers[0])).unwrap();
    let err = open_db(&fs).map(|_| ()).unwrap_err();
    assert!(err.is_corruption(), "{err}");
    let err = Config::new("/db").fs(Arc::new(fs)).read_only(true).open().map(|_| ()).unwrap_err();
    assert!(err.is_corruption(), "{err}");
}

#[test]
fn what_recovery_accepts_from_the_page_cache_is_made_durable_before_new_writes() {
    // A persist whose fsync fails (or a process killed between its write
    // and its fsync) leaves valid commits that are not on disk. The next
    // process recovers them from the page cache; its own persisted writes
    // must not outlive them (found by the simulator, seed
    // 7201177727332412385: the power cut left a hole that recovery called
    // corruption).
    use cairndb::fs::{FaultFs, FaultKind, FaultRule, OpKind};
    let mem = MemFs::new();
    let db = open_db(&mem).unwrap();
    db.put(b"durable", b"1").unwrap();
    db.persist().unwrap();
    drop(db);
    let fault = FaultFs::new(Arc::new(mem.clone()));
    let db = Config::new("/db").fs(Arc::new(fault.clone())).background_threads(false).open().unwrap();
    db.put(b"cached", b"2").unwrap();
    // The new segment's header is fsynced; the fsync of its records fails.
    let nth = fault.op_count_of(OpKind::SyncFile) + 1;
    fault.add_rule(FaultRule::NthOfKind { op: OpKind::SyncFile, nth, kind: FaultKind::IO });
    assert!(db.persist().is_err());
    drop(db);
    // The process restarts on the same disk: the page cache still shows it.
    let db = open_db(&mem).unwrap();
    assert_eq!(db.get(b"cached").unwrap().as_deref(), Some(&b"2"[..]));
    db.put(b"after", b"3").unwrap();
    db.persist().unwrap();
    drop(db);
    let db = open_db(&mem.crash_copy()).unwrap_or_else(|e| panic!("after the power cut: {e}"));
    let state = db_contents(&db);
    assert_eq!(state.get(&b"after"[..]).map(Vec::as_slice), Some(&b"3"[..]));
    assert_eq!(state.get(&b"cached"[..]).map(Vec::as_slice), Some(&b"2"[..]), "no hole before a durable write");
}
