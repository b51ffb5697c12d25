//! What each `SyncMode` costs a fill: puts of 16-byte keys (random order)
//! and 100-byte values into a fresh database with defaults but the mode,
//! from 1 thread and from 4 (each a quarter of the keys), timed from the
//! first put to the last put's return (flushes run in the background
//! meanwhile; the close is not timed).
//!
//! `cargo run --release --example sync_mode_cost [DIR] [OPS]` (DIR: where
//! to work, default the system's temporary directory — a real disk, since
//! fsyncs are the point; OPS: puts per fill in `Background` and
//! `OsBuffered`, default 1,000,000). `Always` fsyncs every write (shared
//! by concurrent writers), so it gets OPS / 50 puts. Three rounds, the
//! modes taking turns; each figure is the median of its rounds.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cairndb::{Config, SyncMode};

const ROUNDS: usize = 3;
const THREADS: [u64; 2] = [1, 4];
const MODES: [SyncMode; 3] = [SyncMode::Background, SyncMode::OsBuffered, SyncMode::Always];

fn key(i: u64) -> [u8; 16] {
    let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&h.rotate_left(17).to_be_bytes());
    k[8..].copy_from_slice(&(h ^ i).to_be_bytes());
    k
}

fn value(i: u64) -> [u8; 100] {
    let mut v = [0u8; 100];
    for (j, b) in v.iter_mut().enumerate() {
        *b = (i.wrapping_mul(0xBF58_476D_1CE4_E5B9) >> (j % 56)) as u8 ^ j as u8;
    }
    v
}

fn ops_for(mode: SyncMode, ops: u64) -> u64 {
    if mode == SyncMode::Always { ops / 50 } else { ops }
}

/// One fill: seconds from the first put to the last one's return.
fn fill(dir: &Path, mode: SyncMode, threads: u64, ops: u64) -> f64 {
    let db = Config::new(dir).sync(mode).open().expect("open");
    let per_thread = ops / threads;
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let db = &db;
            s.spawn(move || {
                for i in t * per_thread..(t + 1) * per_thread {
                    db.put(key(i), value(i)).expect("put");
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    drop(db);
    std::fs::remove_dir_all(dir).expect("remove the database");
    seconds
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let base = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let ops: u64 = args.next().map_or(1_000_000, |s| s.parse().expect("OPS is a number"));
    let work = base.join(format!("cairndb-sync-mode-cost-{}", std::process::id()));
    let cases: Vec<(SyncMode, u64)> = MODES.iter().flat_map(|&m| THREADS.iter().map(move |&t| (m, t))).collect();
    let mut seconds = vec![Vec::new(); cases.len()];
    for round in 0..ROUNDS {
        for (c, &(mode, threads)) in cases.iter().enumerate() {
            let dir = work.join(format!("{round}-{c}"));
            seconds[c].push(fill(&dir, mode, threads, ops_for(mode, ops)));
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("fill of 16-byte keys and 100-byte values in {}, median of {ROUNDS} rounds\n", base.display());
    println!("| mode | threads | puts | seconds | puts/s | µs per put (wall) |");
    println!("|---|---|---|---|---|---|");
    for (c, &(mode, threads)) in cases.iter().enumerate() {
        let n = ops_for(mode, ops) / threads * threads;
        let s = median(seconds[c].clone());
        println!("| {mode:?} | {threads} | {n} | {s:.2} | {:.0} | {:.2} |", n as f64 / s, s * 1e6 / n as f64);
    }
}
