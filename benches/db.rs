//! Database workloads on the real disk (the same ones the peer comparison
//! runs): fill N random keys, random point reads, a full scan (forward
//! and reverse), and overwrites of a small hot set. 16-byte keys, 100-byte
//! values.
//!
//! `cargo bench --bench db -- --warm-up-time 1 --measurement-time 5`
//! (`CAIRNDB_BENCH_KEYS` sets N; default 1,000,000).
#![expect(missing_docs, reason = "criterion_group! generates an undocumented function")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use cairndb::{Config, Db};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const VALUE_BYTES: usize = 100;

fn keys() -> u64 {
    std::env::var("CAIRNDB_BENCH_KEYS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000)
}

/// A 16-byte key: a scrambled index, so inserts arrive in random order.
fn key(i: u64) -> [u8; 16] {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ 0xD6E8_FEB8_6659_FD93;
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&x.to_be_bytes());
    k[8..].copy_from_slice(&i.to_be_bytes());
    k
}

fn value(i: u64) -> [u8; VALUE_BYTES] {
    let mut v = [0u8; VALUE_BYTES];
    for (j, b) in v.iter_mut().enumerate() {
        *b = (i as usize).wrapping_mul(31).wrapping_add(j * 7) as u8;
    }
    v
}

fn open(dir: &std::path::Path) -> Db {
    Config::new(dir).open().expect("open")
}

fn fill(db: &Db, n: u64) {
    for i in 0..n {
        db.put(key(i), value(i)).unwrap();
    }
}

fn bench_fill(c: &mut Criterion) {
    let n = keys();
    let mut group = c.benchmark_group("db");
    group.sample_size(10).throughput(Throughput::Elements(n));
    group.bench_function(format!("fill {n} random keys + flush"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
                let db = open(dir.path());
                let start = Instant::now();
                fill(&db, n);
                db.flush().unwrap();
                total += start.elapsed();
            }
            total
        });
    });
    group.finish();
}

fn bench_reads_scan_overwrite(c: &mut Criterion) {
    let n = keys();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let db = open(dir.path());
    fill(&db, n);
    db.flush().unwrap();
    db.compact().unwrap();
    let mut group = c.benchmark_group("db");
    group.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    group.bench_function(format!("random read of {n} keys"), |b| {
        b.iter(|| {
            i = (i + 7_919) % n;
            black_box(db.get(key(i)).unwrap().expect("present"));
        });
    });
    group.bench_function("random read, absent key", |b| {
        b.iter(|| {
            i = (i + 7_919) % n;
            black_box(db.get(key(n + i)).unwrap());
        });
    });
    let hot = (n / 100).max(1);
    group.bench_function(format!("overwrite hot set of {hot} keys"), |b| {
        b.iter(|| {
            i = (i + 7_919) % hot;
            db.put(key(i), value(i + 1)).unwrap();
        });
    });
    group.sample_size(10).throughput(Throughput::Elements(n));
    group.bench_function(format!("full scan of {n} keys"), |b| {
        b.iter(|| {
            let mut count = 0u64;
            for kv in db.iter() {
                black_box(kv.unwrap());
                count += 1;
            }
            assert_eq!(count, n);
        });
    });
    group.bench_function(format!("full reverse scan of {n} keys"), |b| {
        b.iter(|| {
            let mut count = 0u64;
            for kv in db.iter().rev() {
                black_box(kv.unwrap());
                count += 1;
            }
            assert_eq!(count, n);
        });
    });
    group.finish();
}

criterion_group!(benches, bench_fill, bench_reads_scan_overwrite);
criterion_main!(benches);
