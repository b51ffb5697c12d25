//! `SyncMode::OsBuffered` on a real file system: a process writing at
//! full speed from three threads is killed with `SIGKILL` mid-load, and
//! every write it acknowledged is there when the database is reopened.
//!
//! The child is this test binary run again with an environment variable
//! set. It opens the database with default settings but the mode (and a
//! small memtable, so flushes and segment rolls happen under the load),
//! writes, and prints `ack THREAD INDEX` on stdout after each write
//! returns. The parent reads the acknowledgements from the pipe, kills the
//! child once it has seen enough of them, reads what was already in the
//! pipe, reopens the database and looks every acknowledged key up.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cairndb::{Config, SyncMode};

/// Set in the child: the database directory.
const CHILD_DB: &str = "CAIRNDB_SIGKILL_CHILD_DB";
const THREADS: u32 = 3;
/// Acknowledgements the parent waits for before the kill.
const ACKS_BEFORE_KILL: usize = 30_000;
/// The child stops by itself after this long (the parent failed).
const CHILD_RUN_MAX: Duration = Duration::from_secs(60);

fn key(thread: u32, i: u64) -> String {
    format!("t{thread}-{i:010}")
}

fn value(thread: u32, i: u64) -> Vec<u8> {
    let seed = (u64::from(thread) << 40) ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..100u64).map(|j| (seed >> (j % 56)) as u8 ^ j as u8).collect()
}

fn child(path: &Path) {
    let db = Config::new(path).sync(SyncMode::OsBuffered).memtable_size_bytes(1 << 20).open().unwrap();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    thread::scope(|s| {
        for t in 0..THREADS {
            let (db, stop) = (&db, &stop);
            s.spawn(move || {
                let out = std::io::stdout();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    db.put(key(t, i), value(t, i)).unwrap();
                    // One line, one write to the pipe: written only after
                    // the put returned.
                    out.lock().write_all(format!("ack {t} {i}\n").as_bytes()).unwrap();
                    i += 1;
                    if started.elapsed() > CHILD_RUN_MAX {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
}

/// Parses a whole `ack THREAD INDEX` line.
fn parse_ack(line: &[u8]) -> Option<(u32, u64)> {
    let line = std::str::from_utf8(line.strip_suffix(b"\n")?).ok()?;
    let mut words = line.strip_prefix("ack ")?.split(' ');
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

#[test]
fn every_acknowledged_write_survives_sigkill_mid_load() {
    if let Some(path) = std::env::var_os(CHILD_DB) {
        return child(&PathBuf::from(path));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let name = "every_acknowledged_write_survives_sigkill_mid_load";
    let mut process = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, &path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the child");
    let mut out = BufReader::new(process.stdout.take().unwrap());
    let mut acked: Vec<(u32, u64)> = Vec::new();
    let mut line = Vec::new();
    let mut killed_after = None;
    loop {
        line.clear();
        if out.read_until(b'\n', &mut line).unwrap() == 0 {
            break;
        }
        // A line cut short is no acknowledgement.
        acked.extend(parse_ack(&line));
        if killed_after.is_none() && acked.len() >= ACKS_BEFORE_KILL {
            process.kill().expect("SIGKILL the child");
            killed_after = Some(acked.len());
        }
    }
    let status = process.wait().unwrap();
    let sigkill = rustix::process::Signal::KILL.as_raw();
    assert_eq!(status.signal(), Some(sigkill), "the child ended otherwise: {status}");
    let killed_after = killed_after.expect("killed");
    assert!(acked.len() >= ACKS_BEFORE_KILL);

    let db = Config::new(&path).create_if_missing(false).open().unwrap();
    let mut missing = Vec::new();
    for &(t, i) in &acked {
        match db.get(key(t, i)).unwrap() {
            Some(v) if v == value(t, i) => {}
            other => missing.push((key(t, i), other.map(|v| v.len()))),
        }
    }
    let stats = db.stats();
    eprintln!(
        "{} writes acknowledged ({killed_after} seen before the kill), {} flushed tables, seqno {} after reopen",
        acked.len(),
        stats.levels.iter().map(|l| l.tables).sum::<usize>(),
        stats.seqno
    );
    assert!(
        missing.is_empty(),
        "{} acknowledged writes lost, such as {:?}",
        missing.len(),
        &missing[..3.min(missing.len())]
    );
    assert!(stats.seqno.0 >= acked.len() as u64);
}
