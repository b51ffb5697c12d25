//! What backups move and how fast, on the real disk:
//!
//! 1. a full backup of a database (16-byte keys, 100-byte incompressible
//!    values) into a directory store on the same disk, in MiB/s of bytes
//!    uploaded (each file read once to hash it, once to copy it, fsynced);
//! 2. a restore of it into a fresh directory (every checksum verified as the
//!    bytes arrive, fsynced), in MiB/s;
//! 3. an incremental backup after 1% of the keys were overwritten: the files
//!    and bytes it sent, against the database's size — right after the
//!    change (its flush adds a table), and again after a full compaction has
//!    merged the change into the sorted run (an LSM rewrites the tables the
//!    change overlaps, and a file-level incremental backup sends them).
//!
//! The database is compacted before the first backup, so no compaction runs
//! in the background while it is measured.
//!
//! `cargo run --release --example backup_throughput [DIR] [KEYS]` (DIR:
//! where to work, default a temporary directory under target/; KEYS default
//! 2,000,000). Medians of three rounds; the machine is shared, so expect
//! some spread.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cairndb::backup::{BackupEngine, BackupInfo, DirStore};
use cairndb::{Config, Db, WriteBatch};

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

fn mib_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / f64::from(1 << 20)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

#[expect(clippy::print_stdout, reason = "the example reports")]
fn report(line: &str) {
    println!("{line}");
}

fn load(db: &Db, keys: u64) {
    for start in (0..keys).step_by(1000) {
        let mut batch = WriteBatch::new();
        for i in start..(start + 1000).min(keys) {
            batch = batch.put(key(i), value(i));
        }
        db.write(batch).unwrap();
    }
    db.flush().unwrap();
}

fn report_incremental(when: &str, inc: &BackupInfo) {
    report(&format!(
        "incremental   {when}: {} of {} files, {:.2} MiB of {:.1} MiB sent ({:.2}%) in {:.0} ms",
        inc.files_uploaded,
        inc.files_total,
        mib(inc.bytes_uploaded),
        mib(inc.bytes_total),
        100.0 * inc.bytes_uploaded as f64 / inc.bytes_total as f64,
        inc.duration.as_secs_f64() * 1e3
    ));
}

fn engine(store: &Path) -> BackupEngine {
    BackupEngine::new(Arc::new(DirStore::open_path(store).unwrap()))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let work = match args.get(1) {
        Some(dir) => std::path::PathBuf::from(dir),
        None => tempfile::tempdir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/target")).unwrap().keep(),
    };
    let keys: u64 = args.get(2).map_or(2_000_000, |k| k.parse().expect("KEYS is a number"));
    std::fs::create_dir_all(&work).unwrap();
    let db = Config::new(work.join("db")).open().unwrap();
    load(&db, keys);
    db.compact().unwrap();
    report(&format!("database      {keys} keys of 16 + 100 B in {}", work.display()));

    let mut full: Vec<BackupInfo> = Vec::new();
    let mut full_rates = Vec::new();
    for round in 0..ROUNDS {
        let info = engine(&work.join(format!("store-{round}"))).create_backup(&db).unwrap();
        full_rates.push(mib_per_s(info.bytes_uploaded, info.duration));
        full.push(info);
    }
    let first = &full[0];
    report(&format!(
        "full backup   {} files, {:.1} MiB: {:.0} MiB/s (median of {ROUNDS}: {})",
        first.files_total,
        mib(first.bytes_total),
        median(full_rates.clone()),
        full_rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
    ));

    let mut restore_rates = Vec::new();
    for round in 0..ROUNDS {
        let info = engine(&work.join("store-0")).restore(first.id, &work.join(format!("restored-{round}"))).unwrap();
        restore_rates.push(mib_per_s(info.bytes, info.duration));
    }
    report(&format!(
        "restore       {:.0} MiB/s (median of {ROUNDS}: {})",
        median(restore_rates.clone()),
        restore_rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
    ));

    // Overwrite 1% of the keys, spread over the whole key space.
    let changed = keys / 100;
    for start in (0..changed).step_by(1000) {
        let mut batch = WriteBatch::new();
        for j in start..(start + 1000).min(changed) {
            let i = j.wrapping_mul(7919) % keys;
            batch = batch.put(key(i), value(i + keys));
        }
        db.write(batch).unwrap();
    }
    let inc = engine(&work.join("store-0")).create_backup(&db).unwrap();
    report_incremental(&format!("after {changed} keys (1%) changed"), &inc);
    db.compact().unwrap();
    let inc = engine(&work.join("store-0")).create_backup(&db).unwrap();
    report_incremental("after a full compaction merged them", &inc);
    if args.get(1).is_none() {
        drop(db);
        std::fs::remove_dir_all(&work).unwrap();
    }
}
