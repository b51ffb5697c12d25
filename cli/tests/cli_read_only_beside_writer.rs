//! `cairn get`, `scan`, `info` and `verify` open a database read-only
//! while its owner (here, a writer thread of the test process) keeps
//! writing, flushing and compacting: each run sees a consistent cut of it
//! (every write persisted before the command began, and exactly the writes
//! up to some commit) or fails with a clear error, never a hole.
//!
//! The writer puts `k000000000`, `k000000001`, ... in order and publishes
//! how many were persisted; a scan is right when its keys are exactly the
//! first m with m at least what was persisted when the command started.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cairndb::Config;
use common::{cairn, s};

fn key(i: u64) -> String {
    format!("k{i:09}")
}

fn value(i: u64) -> String {
    format!("v{i}")
}

/// Writes keys in order until `stop`, persisting every 200 and publishing
/// how many are persisted; paced (about 20,000 a second) so that it
/// flushes and compacts several times while the commands run.
fn write(path: &Path, persisted: &AtomicU64, stop: &AtomicBool) {
    let db = Config::new(path)
        .memtable_size_bytes(256 << 10)
        .table_target_bytes(64 << 10)
        .level0_trigger(2)
        .level1_target_bytes(256 << 10)
        .open()
        .expect("open the writer");
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        db.put(key(i), value(i)).expect("put");
        i += 1;
        if i.is_multiple_of(20) {
            thread::sleep(Duration::from_millis(1));
        }
        if i.is_multiple_of(200) {
            db.persist().expect("persist");
            persisted.store(i, Ordering::SeqCst);
        }
    }
    db.persist().expect("persist");
    let stats = db.stats();
    assert!(stats.flushes > 3 && stats.compactions > 0, "the writer flushed and compacted: {stats:?}");
}

/// A failed command's error is clear: it names a file of the database the
/// writer deleted under it, or says no consistent view could be had.
fn clear_failure(out: &Output, db: &Path) -> bool {
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines().count() <= 2
        && (err.contains("consistent") || (err.contains(s(db)) && err.to_lowercase().contains("no such file")))
}

/// What is wrong with a scan's keys (`None`: exactly the first m, m at
/// least `before`).
fn scan_hole(stdout: &str, before: u64) -> Option<String> {
    let keys: Vec<&str> = stdout.lines().collect();
    if let Some((i, k)) = keys.iter().enumerate().find(|&(i, k)| *k != key(i as u64)) {
        return Some(format!("key {i} is {k:?}, not {:?} ({} keys)", key(i as u64), keys.len()));
    }
    (keys.len() < before as usize).then(|| format!("{} keys, but {before} were persisted", keys.len()))
}

#[test]
fn commands_beside_a_flushing_compacting_writer_see_a_cut_or_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let persisted = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let runs: u64 = std::env::var("CAIRNDB_TEST_VIEWS").ok().and_then(|s| s.parse().ok()).unwrap_or(120);
    let (mut done, mut failures, mut holes) = (0u64, 0u64, Vec::new());
    let mut unclear = Vec::new();
    thread::scope(|scope| {
        let writer = scope.spawn(|| write(&path, &persisted, &stop));
        while persisted.load(Ordering::SeqCst) < 2_000 && !writer.is_finished() {
            thread::sleep(Duration::from_millis(5));
        }
        let started = Instant::now();
        while done < runs && started.elapsed() < Duration::from_secs(300) && !writer.is_finished() {
            let before = persisted.load(Ordering::SeqCst);
            let what = ["scan", "get", "scan", "info", "scan", "get", "scan", "verify"][(done % 8) as usize];
            let out = match what {
                "scan" => cairn(&["scan", "--no-value", s(&path)]),
                "get" => cairn(&["get", s(&path), &key(before - 1)]),
                _ => cairn(&[what, s(&path)]),
            };
            done += 1;
            if !out.status.success() {
                failures += 1;
                if !clear_failure(&out, &path) {
                    unclear.push(format!(
                        "{what}: {}{}",
                        String::from_utf8_lossy(&out.stderr),
                        String::from_utf8_lossy(&out.stdout)
                    ));
                }
                continue;
            }
            let stdout = String::from_utf8(out.stdout).expect("UTF-8");
            let hole = match what {
                "scan" => scan_hole(&stdout, before),
                "get" => (stdout.trim_end() != value(before - 1))
                    .then(|| format!("get {} printed {stdout:?}, persisted before it began", key(before - 1))),
                _ => None,
            };
            if let Some(hole) = hole {
                holes.push(format!("run {done} ({what}): {hole}"));
            }
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().expect("the writer");
    });
    assert!(done >= runs.min(40), "only {done} commands ran before the writer stopped");
    assert!(holes.is_empty(), "{} of {done} commands saw holes: {:#?}", holes.len(), &holes[..holes.len().min(5)]);
    assert!(unclear.is_empty(), "failures that are no clear error: {unclear:#?}");
    assert!(failures * 10 <= done, "{failures} of {done} commands failed");
    eprintln!("{done} commands, {failures} failed clearly, none with a hole");
}
