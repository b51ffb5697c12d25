//! What the bound on open files costs reads: random point reads and a full
//! scan over a database of about 2,000 tables, with `max_open_files` below
//! the table count (a read of a table not among the most recently used
//! reopens it: an `open`, a `stat`, four reads, and checking and parsing
//! its footer, meta block, index and filter) and above it (every table
//! stays open); and what one reopen costs, split into opening the file and
//! reading and parsing what a table reader holds.
//!
//! `cargo run --release --example open_files_cost [DIR]` (DIR: where to
//! work, default `/dev/shm` when it exists, else target/). Two table sizes:
//! 4 KiB (the whole database fits the block cache, so a reopen is all a
//! read costs beyond the cache) and 256 KiB (a bigger index and filter to
//! parse at each reopen; the data does not fit the 64 MiB block cache).
//! The bounds take turns round by round, and each figure is the median of
//! its rounds: the machine is shared, so expect some spread. Last, what
//! reopening a table of the default size (32 MiB) costs.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairndb::fs::{Fs, OpenOptions, StdFs};
use cairndb::internals::table::{BlockCache, Table};
use cairndb::{Config, Db, TableId};

const ROUNDS: usize = 5;
const GETS: u64 = 100_000;
const BOUNDS: [usize; 3] = [64, 512, 4096];

fn key(i: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(b"key.....");
    k[8..].copy_from_slice(&i.to_be_bytes());
    k
}

fn value(i: u64, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (j % 56)) as u8 ^ j as u8).collect()
}

/// Keys in order into a level 1 that never fills: one compaction per
/// flush, so thousands of tables are quick to build.
fn config(path: &Path, table_bytes: u64) -> Config {
    Config::new(path)
        .memtable_size_bytes((table_bytes * 16).max(1 << 20))
        .table_target_bytes(table_bytes)
        .level1_target_bytes(1 << 40)
        .background_threads(false)
}

fn build(path: &Path, table_bytes: u64, keys: u64, value_len: usize) -> usize {
    let db = config(path, table_bytes).max_open_files(64).open().unwrap();
    for i in 0..keys {
        db.put(key(i), value(i, value_len)).unwrap();
    }
    db.flush().unwrap();
    db.version().table_count()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn per(d: Duration, n: u64) -> f64 {
    d.as_secs_f64() * 1e9 / n as f64
}

/// ns per random point read.
fn random_gets(db: &Db, keys: u64, seed: &mut u64) -> f64 {
    let started = Instant::now();
    for _ in 0..GETS {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        assert!(db.get(key(*seed % keys)).unwrap().is_some());
    }
    per(started.elapsed(), GETS)
}

/// ms per full scan.
fn scan(db: &Db, keys: u64) -> f64 {
    let started = Instant::now();
    assert_eq!(db.iter().count() as u64, keys);
    started.elapsed().as_secs_f64() * 1e3
}

/// Median µs to open and close a table file, and to open a table reader
/// on it (open, read and parse) and close it, over up to 500 tables.
fn reopen_cost(path: &Path) -> (f64, f64) {
    let fs = StdFs::new();
    let cache = Arc::new(BlockCache::new(64 << 20));
    let mut tables: Vec<_> = fs.read_dir(&path.join("tables")).unwrap().into_iter().map(|e| e.name).collect();
    tables.truncate(500);
    let (mut files, mut readers) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for name in &tables {
            drop(fs.open(&path.join("tables").join(name), OpenOptions::read()).unwrap());
        }
        files.push(per(started.elapsed(), tables.len() as u64) / 1e3);
        let started = Instant::now();
        for name in &tables {
            let id = TableId(name.to_string_lossy().trim_end_matches(".sst").parse().unwrap());
            drop(Table::open(&fs, &path.join("tables").join(name), id, Arc::clone(&cache)).unwrap());
        }
        readers.push(per(started.elapsed(), tables.len() as u64) / 1e3);
    }
    (median(files), median(readers))
}

#[expect(clippy::print_stdout, reason = "the example reports")]
fn report(line: &str) {
    println!("{line}");
}

/// What reopening a table of the default target size costs.
fn default_size_reopen(base: &str) {
    let dir = tempfile::tempdir_in(base).unwrap();
    let path = dir.path().join("db");
    let db = Config::new(&path).background_threads(false).open().unwrap();
    for i in 0..400_000u64 {
        db.put(key(i), value(i, 200)).unwrap();
    }
    db.flush().unwrap();
    let tables = db.version().levels[0].iter().map(|t| t.info.size_bytes >> 20).collect::<Vec<_>>();
    drop(db);
    let (file_us, reader_us) = reopen_cost(&path);
    report(&format!(
        "tables of {tables:?} MiB (the default target size, 32 MiB): reopened in {reader_us:.0} µs (opening and \
         closing the file {file_us:.1} µs)"
    ));
}

fn main() {
    let base = std::env::args().nth(1).unwrap_or_else(|| {
        if Path::new("/dev/shm").is_dir() {
            "/dev/shm".into()
        } else {
            concat!(env!("CARGO_MANIFEST_DIR"), "/target").into()
        }
    });
    for (table_bytes, keys, value_len) in [(4u64 << 10, 24_000u64, 400usize), (256 << 10, 1_500_000, 320)] {
        let dir = tempfile::tempdir_in(&base).unwrap();
        let path = dir.path().join("db");
        let started = Instant::now();
        let tables = build(&path, table_bytes, keys, value_len);
        report(&format!(
            "{tables} tables of {} KiB, {keys} keys of {value_len}-byte values (built in {:.1} s)",
            table_bytes >> 10,
            started.elapsed().as_secs_f64()
        ));
        let (file_us, reader_us) = reopen_cost(&path);
        report(&format!(
            "  a table reopened: {reader_us:.1} µs (of which opening and closing the file {file_us:.1} µs, reading \
             and parsing footer, meta, index and filter the rest)"
        ));
        // Read-only views, so that all three can be open at once.
        let view = |bound| config(&path, table_bytes).read_only(true).max_open_files(bound).open().unwrap();
        let dbs: Vec<Db> = BOUNDS.iter().map(|&bound| view(bound)).collect();
        for db in &dbs {
            // One pass first, so the block cache holds what it can.
            scan(db, keys);
        }
        let mut seed = 0x2545_F491_4F6C_DD1D_u64;
        let (mut gets, mut scans) = (vec![Vec::new(); BOUNDS.len()], vec![Vec::new(); BOUNDS.len()]);
        for _ in 0..ROUNDS {
            for (i, db) in dbs.iter().enumerate() {
                gets[i].push(random_gets(db, keys, &mut seed));
                scans[i].push(scan(db, keys));
            }
        }
        for (i, bound) in BOUNDS.iter().enumerate() {
            let (get_ns, scan_ms) = (median(gets[i].clone()), median(scans[i].clone()));
            report(&format!(
                "  max_open_files {bound:>5}: {get_ns:>7.0} ns per random get, {scan_ms:>7.1} ms per full scan \
                 ({} files open after)",
                dbs[i].stats().open_files
            ));
        }
    }
    default_size_reopen(&base);
}
