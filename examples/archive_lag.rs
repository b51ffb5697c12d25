//! What continuous log archiving costs and how far behind it runs:
//!
//! (a) **Archive lag**: how long after a commit is durable locally it is
//!     durable in the store. A writer thread puts at full speed (16-byte
//!     keys, 100-byte values, no sync); every 50 ms a probe persists (a
//!     commit), notes the time and the seqno, and the time until
//!     `stats().shipped_seqno` reaches it is one sample (checked every
//!     1 ms). Default archive interval (1 s); to a directory store on the
//!     same disk, and to the S3 server at `CAIRNDB_TEST_S3_ENDPOINT`
//!     (bucket `CAIRNDB_TEST_S3_BUCKET`, default `cairndb-test`) when built
//!     with `--features s3` and that is set. Target: p99 <= interval + 1 s.
//! (b) **Writer throughput** with archiving on and off: the same writer,
//!     `THROUGHPUT_OPS` puts (about 1 GB of log; `CAIRNDB_BENCH_OPS`
//!     overrides) each run into a fresh database, runs interleaved (off,
//!     on, off, on, ...), median and spread of three. Each run also says
//!     how long the writer stalled on flushes, the CPU each background
//!     thread used, and how far the archive was behind when the writer
//!     ended. Target: on >= 90% of off.
//! (c) **Restore speed**: a base backup, then ~`CAIRNDB_BENCH_LOG_MB` MiB
//!     (default 1024) of archived log after it; `restore_to(Latest)`
//!     timed, in MiB/s of archived log replayed.
//!
//! `cargo run --release --features s3 --example archive_lag [DIR]` (DIR:
//! where to work, default a temporary directory under /var/tmp, removed
//! afterwards; `CAIRNDB_BENCH_PARTS=b` runs only part (b), and so on). A
//! few minutes. The machine is shared: expect spread.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cairndb::backup::{ArchiveOptions, BackupEngine, BackupStore, DirStore, RestorePoint};
use cairndb::fs::StdFs;
use cairndb::{Config, Db, SeqNo};

/// How long each lag measurement runs.
const LAG_RUN: Duration = Duration::from_secs(15);
/// How often a lag probe commits.
const PROBE_EVERY: Duration = Duration::from_millis(50);
/// Puts per throughput run (`CAIRNDB_BENCH_OPS` overrides): long enough
/// (about 1 GB of log) that an archive cannot hide its work by running
/// behind and catching up after the writer stops.
const THROUGHPUT_OPS: u64 = 6_000_000;
const ROUNDS: usize = 3;

fn key(i: u64) -> [u8; 16] {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&x.to_be_bytes());
    k[8..].copy_from_slice(&i.to_be_bytes());
    k
}

/// 100 pseudo-random bytes (lz4 cannot shrink them), different per `seed`.
fn value(seed: u64) -> [u8; 100] {
    let mut x = seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1;
    let mut v = [0u8; 100];
    for b in &mut v {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    v
}

#[expect(clippy::print_stdout, reason = "the example reports")]
fn report(line: &str) {
    println!("{line}");
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at]
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn open_db(path: &Path) -> Db {
    Config::new(path).open().expect("open the database")
}

fn dir_store(path: &Path) -> Arc<dyn BackupStore> {
    Arc::new(DirStore::open(Arc::new(StdFs::new()), path).expect("open the directory store"))
}

#[cfg(feature = "s3")]
fn s3_store(prefix: &str) -> Option<Arc<dyn BackupStore>> {
    let endpoint = std::env::var("CAIRNDB_TEST_S3_ENDPOINT").ok()?;
    let bucket = std::env::var("CAIRNDB_TEST_S3_BUCKET").unwrap_or_else(|_| "cairndb-test".into());
    let config = cairndb::backup::S3Config::new(bucket)
        .endpoint(endpoint)
        .region("us-east-1")
        .credentials("testing", "testing")
        .prefix(prefix);
    Some(Arc::new(cairndb::backup::S3Store::open(config).expect("open the S3 store (is the server up?)")))
}

#[cfg(not(feature = "s3"))]
fn s3_store(_prefix: &str) -> Option<Arc<dyn BackupStore>> {
    None
}

/// Puts from `first` on until `stop`; how many.
fn write_until(db: &Db, first: u64, stop: &AtomicBool) -> u64 {
    let mut i = first;
    while !stop.load(Ordering::Relaxed) {
        db.put(key(i), value(i)).expect("put");
        i += 1;
    }
    i - first
}

/// (a): lag samples to `store`, with a writer at full speed.
fn lag(work: &Path, name: &str, store: Arc<dyn BackupStore>) {
    let db = open_db(&work.join(format!("lag-{name}")));
    let engine = BackupEngine::new(store);
    engine.create_backup(&db).expect("base backup");
    let archive = engine.archive(&db, ArchiveOptions::default()).expect("start the archive");
    let stop = AtomicBool::new(false);
    let mut samples = Vec::new();
    let written = thread::scope(|scope| {
        let writer = scope.spawn(|| write_until(&db, 0, &stop));
        let started = Instant::now();
        let mut pending: std::collections::VecDeque<(SeqNo, Instant)> = Default::default();
        let mut next_probe = started;
        while started.elapsed() < LAG_RUN || !pending.is_empty() {
            let now = Instant::now();
            if now >= next_probe && started.elapsed() < LAG_RUN {
                let seqno = db.persist().expect("persist");
                pending.push_back((seqno, Instant::now()));
                next_probe = now + PROBE_EVERY;
            }
            let shipped = archive.stats().shipped_seqno;
            while let Some(&(seqno, t0)) = pending.front()
                && shipped >= seqno
            {
                samples.push(t0.elapsed());
                pending.pop_front();
            }
            if started.elapsed() > LAG_RUN + Duration::from_secs(60) {
                panic!("the archive fell more than a minute behind");
            }
            thread::sleep(Duration::from_millis(1));
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().expect("writer")
    });
    let stats = archive.stop().expect("stop the archive");
    samples.sort();
    report(&format!(
        "(a) lag to {name:<4} p50 {}  p99 {}  max {}  ({} probes; writer {:.0} ops/s; {} chunks, {:.0} MiB shipped, {} \
         gaps)",
        secs(percentile(&samples, 0.5)),
        secs(percentile(&samples, 0.99)),
        secs(*samples.last().expect("samples")),
        samples.len(),
        written as f64 / LAG_RUN.as_secs_f64(),
        stats.chunks_shipped,
        stats.bytes_shipped as f64 / f64::from(1 << 20),
        stats.gaps.len()
    ));
}

/// (b): ops/s of one writer putting `THROUGHPUT_OPS` keys, archiving or not.
fn throughput_run(work: &Path, round: usize, archiving: bool, ops: u64) -> f64 {
    let name = format!("tp-{round}-{archiving}");
    let db = open_db(&work.join(&name));
    let engine = BackupEngine::new(dir_store(&work.join(format!("{name}-store"))));
    let archive = archiving.then(|| engine.archive(&db, ArchiveOptions::default()).expect("start the archive"));
    let started = Instant::now();
    for i in 0..ops {
        db.put(key(i), value(i)).expect("put");
    }
    let took = started.elapsed();
    let cpu = threads_cpu();
    let cpu_of = |name: &str| cpu.iter().filter(|(n, _)| n == name).map(|(_, s)| s).sum::<f64>();
    let mut archived = String::new();
    if let Some(archive) = archive {
        let behind = archive.stats().unshipped_bytes;
        let seqno = db.persist().expect("persist");
        let synced = Instant::now();
        assert!(archive.sync().expect("sync the archive") >= seqno);
        let caught_up = synced.elapsed();
        let stats = archive.stop().expect("stop the archive");
        archived = format!(
            "; archive CPU {:.2} s, {:.0} MiB shipped, {:.0} MiB behind when the writer ended, in the store {:.2} s \
             later",
            cpu_of("cairndb-archive"),
            stats.bytes_shipped as f64 / f64::from(1 << 20),
            behind as f64 / f64::from(1 << 20),
            caught_up.as_secs_f64()
        );
    }
    let stats = db.stats();
    report(&format!(
        "    run {round} archive {}: {:.0} ops/s; writer stalled {:.2} s; CPU s: flush {:.2}, compact {:.2}, persist \
         {:.2}{archived}",
        if archiving { "on " } else { "off" },
        ops as f64 / took.as_secs_f64(),
        stats.write_stall_micros as f64 / 1e6,
        cpu_of("cairn-flush"),
        cpu_of("cairn-compact"),
        cpu_of("cairn-persist"),
    ));
    drop(db);
    let _ = std::fs::remove_dir_all(work.join(&name));
    let _ = std::fs::remove_dir_all(work.join(format!("{name}-store")));
    ops as f64 / took.as_secs_f64()
}

/// CPU seconds each live thread of this process has used, by name (from
/// `/proc/self/task`; empty where there is none).
fn threads_cpu() -> Vec<(String, f64)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    // Clock ticks per second: 100 on Linux unless the kernel says otherwise.
    const TICKS: f64 = 100.0;
    tasks
        .filter_map(|task| {
            let dir = task.ok()?.path();
            let name = std::fs::read_to_string(dir.join("comm")).ok()?.trim().to_string();
            let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
            // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some((name, ticks / TICKS))
        })
        .collect()
}

fn throughput(work: &Path) {
    let ops = std::env::var("CAIRNDB_BENCH_OPS").ok().and_then(|s| s.parse().ok()).unwrap_or(THROUGHPUT_OPS);
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        off.push(throughput_run(work, round, false, ops));
        on.push(throughput_run(work, round, true, ops));
    }
    let spread = |xs: &[f64]| {
        let (lo, hi) = (xs.iter().copied().fold(f64::MAX, f64::min), xs.iter().copied().fold(0.0, f64::max));
        format!("{lo:.0}..{hi:.0}")
    };
    let (m_off, m_on) = (median(&mut off.clone()), median(&mut on.clone()));
    report(&format!("(b) writer, archive off  median {m_off:.0} ops/s  (runs {})", spread(&off)));
    report(&format!("(b) writer, archive on   median {m_on:.0} ops/s  (runs {})", spread(&on)));
    report(&format!("(b) on / off             {:.1}%", 100.0 * m_on / m_off));
}

/// (c): a base backup, ~`log_mib` of archived log, `restore_to(Latest)`.
fn restore(work: &Path, log_mib: u64) {
    let db = open_db(&work.join("restore-src"));
    for i in 0..100_000 {
        db.put(key(i), value(i)).expect("put");
    }
    let engine = BackupEngine::new(dir_store(&work.join("restore-store")));
    engine.create_backup(&db).expect("base backup");
    let archive = engine.archive(&db, ArchiveOptions::default()).expect("start the archive");
    let mut i = 100_000u64;
    while archive.stats().bytes_shipped + archive.stats().unshipped_bytes < log_mib << 20 {
        for _ in 0..10_000 {
            db.put(key(i), value(i)).expect("put");
            i += 1;
        }
    }
    db.persist().expect("persist");
    archive.sync().expect("sync the archive");
    archive.stop().expect("stop the archive");
    let last = db.stats().seqno;
    drop(db);
    let started = Instant::now();
    let info = engine.restore_to(RestorePoint::Latest, &work.join("restored")).expect("restore");
    let took = started.elapsed();
    assert_eq!(info.seqno, last, "the restore lands on the last commit");
    report(&format!(
        "(c) restore_to(Latest): base backup + {:.0} MiB of archived log ({} chunks, {} writes) in {} = {:.1} MiB/s \
         of log replayed",
        info.log_bytes as f64 / f64::from(1 << 20),
        info.log_chunks,
        i - 100_000,
        secs(took),
        info.log_bytes as f64 / f64::from(1 << 20) / took.as_secs_f64()
    ));
}

fn main() {
    let temp;
    let work = match std::env::args().nth(1) {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            temp = tempfile::Builder::new().prefix("cairndb-archive-lag").tempdir_in("/var/tmp").expect("temp dir");
            temp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&work).expect("create the work directory");
    let log_mib = std::env::var("CAIRNDB_BENCH_LOG_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(1024);
    // Which parts to run: `CAIRNDB_BENCH_PARTS=b` runs only (b); default all.
    let parts = std::env::var("CAIRNDB_BENCH_PARTS").unwrap_or_else(|_| "abc".into());
    report(&format!("working in {} (16-byte keys, 100-byte values)", work.display()));
    if parts.contains('a') {
        lag(&work, "dir", dir_store(&work.join("lag-dir-store")));
        let prefix = format!("archive-lag-{}", std::process::id());
        if let Some(store) = s3_store(&prefix) {
            lag(&work, "s3", store);
        } else {
            report("(a) lag to s3: skipped (set CAIRNDB_TEST_S3_ENDPOINT and build with --features s3)");
        }
    }
    if parts.contains('b') {
        throughput(&work);
    }
    if parts.contains('c') {
        restore(&work, log_mib);
    }
}
