//! What a checkpoint costs, measured on the real disk:
//!
//! 1. the time of a checkpoint (flush included: each has fresh writes in the
//!    memtable) of a database of 100 k and of 2 M keys (16-byte keys,
//!    100-byte values), against `cp -r` + `sync` of the same directory;
//! 2. writer throughput while a checkpoint is taken every second, as a
//!    fraction of the throughput without.
//!
//! `cargo run --release --example checkpoint_cost [DIR]` (DIR: where to
//! work, default a temporary directory under target/). Medians of several
//! rounds; the machine is shared, so expect some spread.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cairndb::{CheckpointInfo, Config, Db};

const ROUNDS: usize = 5;

fn key(i: u64) -> [u8; 16] {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&x.to_be_bytes());
    k[8..].copy_from_slice(&i.to_be_bytes());
    k
}

fn value(i: u64) -> [u8; 100] {
    let mut v = [0u8; 100];
    for (j, b) in v.iter_mut().enumerate() {
        *b = (i as usize).wrapping_mul(131).wrapping_add(j) as u8;
    }
    v
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[expect(clippy::print_stdout, reason = "the example reports")]
fn report(line: &str) {
    println!("{line}");
}

fn du(path: &Path) -> u64 {
    let out = Command::new("du").args(["-sb"]).arg(path).output().expect("du runs");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Times `cp -r` of the database directory plus `sync`, `ROUNDS` times.
fn copy_directory(db: &Path, work: &Path) -> f64 {
    let mut times = Vec::new();
    for r in 0..ROUNDS {
        let to = work.join(format!("cp-r-{r}"));
        let start = Instant::now();
        assert!(Command::new("cp").arg("-r").arg(db).arg(&to).status().unwrap().success());
        assert!(Command::new("sync").status().unwrap().success());
        times.push(ms(start.elapsed()));
        let _ = std::fs::remove_dir_all(&to);
    }
    median(times)
}

fn checkpoint_size(n: u64, work: &Path) {
    let dir = work.join(format!("db-{n}"));
    let db = Config::new(&dir).open().unwrap();
    for i in 0..n {
        db.put(key(i), value(i)).unwrap();
    }
    db.flush().unwrap();
    db.compact().unwrap();
    // Let the setup's writeback finish, so both sizes are timed on a quiet disk.
    assert!(Command::new("sync").status().unwrap().success());
    std::thread::sleep(Duration::from_secs(1));
    let mut times = Vec::new();
    let mut last: Option<CheckpointInfo> = None;
    for r in 0..ROUNDS as u64 {
        // Fresh writes in the memtable, so every checkpoint includes a flush.
        for i in 0..1000 {
            db.put(key(n + r * 1000 + i), value(i)).unwrap();
        }
        let info = db.checkpoint(work.join(format!("cp-{n}-{r}"))).unwrap();
        times.push(ms(info.duration));
        last = Some(info);
    }
    let info = last.unwrap();
    let checkpoint_ms = median(times);
    // `cp -r` of a live database races with its file deletions (which is why
    // checkpoints exist): the baseline copies it closed.
    drop(db);
    let copy_ms = copy_directory(&dir, work);
    report(&format!(
        "{n:>9} keys | {:>7.1} MB on disk | checkpoint {checkpoint_ms:>7.2} ms ({} tables, {} blob files; {} reflinked, {} hard-linked, {} copied) | cp -r + sync {copy_ms:>8.1} ms | {:>6.0}x faster",
        du(&dir) as f64 / 1e6,
        info.table_files,
        info.blob_files,
        info.reflinked,
        info.hard_linked,
        info.copied,
        copy_ms / checkpoint_ms,
    ));
}

/// Puts per second over `seconds`, optionally with a checkpoint every second.
fn throughput(db: &Db, seconds: u64, checkpoints_in: Option<&Path>, base: u64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let writer = {
        let (db, stop, count) = (db.clone(), Arc::clone(&stop), Arc::clone(&count));
        std::thread::spawn(move || {
            let mut i = base;
            while !stop.load(Ordering::Relaxed) {
                db.put(key(i), value(i)).unwrap();
                i += 1;
                count.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let start = Instant::now();
    let total = Duration::from_secs(seconds);
    let mut taken = 0;
    let before = db.stats();
    let mut checkpoint_ms = Vec::new();
    while start.elapsed() < total {
        std::thread::sleep(Duration::from_secs(1).min(total.saturating_sub(start.elapsed())));
        if let Some(dir) = checkpoints_in {
            let info = db.checkpoint(dir.join(format!("load-{base}-{taken}"))).unwrap();
            checkpoint_ms.push(ms(info.duration));
            taken += 1;
        }
    }
    if std::env::var_os("CAIRNDB_EXAMPLE_VERBOSE").is_some() {
        let after = db.stats();
        report(&format!(
            "  {} checkpoints {checkpoint_ms:.0?} ms; stalls +{} ({} ms); flushes +{}; compactions +{}; L0 {} tables",
            if checkpoints_in.is_some() { "with" } else { "without" },
            after.write_stalls - before.write_stalls,
            (after.write_stall_micros - before.write_stall_micros) / 1000,
            after.flushes - before.flushes,
            after.compactions - before.compactions,
            after.levels[0].tables,
        ));
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn non_blocking(work: &Path) {
    let db = Config::new(work.join("db-load")).open().unwrap();
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS as u64 {
        // Interleaved, so drift on a shared machine hits both alike.
        without.push(throughput(&db, 4, None, round * 100_000_000));
        with.push(throughput(&db, 4, Some(work), round * 100_000_000 + 50_000_000));
    }
    let (a, b) = (median(without), median(with));
    report(&format!(
        "writer throughput: {a:.0} puts/s without checkpoints, {b:.0} puts/s with one every second: {:.1}%",
        100.0 * b / a
    ));
}

fn main() {
    env_logger::init();
    let arg = std::env::args().nth(1);
    // A temporary directory on the project's disk (target/), not a tmpfs.
    let tmp = tempfile::tempdir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/target")).unwrap();
    let work = arg.as_deref().map_or(tmp.path(), Path::new);
    report(&format!("working in {}", work.display()));
    let sizes: Vec<u64> = match std::env::var("CAIRNDB_EXAMPLE_SIZES") {
        Ok(list) => list.split(',').filter_map(|n| n.parse().ok()).collect(),
        Err(_) => vec![100_000, 2_000_000],
    };
    for n in sizes {
        checkpoint_size(n, work);
    }
    if std::env::var_os("CAIRNDB_EXAMPLE_SKIP_LOAD").is_none() {
        non_blocking(work);
    }
}
