//! Table benchmarks: build throughput, warm point lookups, absent-key
//! lookups (bloom filter), full scans. Data set: 100k entries, 16-byte
//! keys, 100-byte values (half repeated text, half pseudo-random bytes).
//!
//! `cargo bench --bench table -- --warm-up-time 1 --measurement-time 3`
#![expect(missing_docs, reason = "criterion_group! generates an undocumented function")]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cairndb::fs::{Fs, StdFs};
use cairndb::internals::table::{BlockCache, Table, TableOptions, TableWriter, ValueKind};
use cairndb::{SeqNo, TableId};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ENTRIES: u64 = 100_000;
const VALUE_BYTES: usize = 100;

/// Present keys are even numbers, absent ones odd: both spread over the
/// whole key range. 16 bytes each.
fn key(i: u64) -> Vec<u8> {
    format!("key{:013}", i).into_bytes()
}

fn value(i: u64) -> Vec<u8> {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = format!("value of entry {i:>10} ... padding text").into_bytes();
    v.truncate(VALUE_BYTES / 2);
    while v.len() < VALUE_BYTES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push(x as u8);
    }
    v
}

fn raw_bytes() -> u64 {
    ENTRIES * (16 + VALUE_BYTES as u64)
}

fn build(path: &Path, compression: bool) -> u64 {
    let options = TableOptions { compression, ..TableOptions::default() };
    let mut w = TableWriter::new(&StdFs::new(), path, options).unwrap();
    for i in 0..ENTRIES {
        w.add(&key(i * 2), SeqNo(i + 1), ValueKind::Value, &value(i)).unwrap();
    }
    w.finish().unwrap().file_size_bytes
}

fn bench_build(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let n = AtomicU64::new(0);
    let mut group = c.benchmark_group("table_build");
    group.throughput(Throughput::Bytes(raw_bytes())).sample_size(10);
    for compression in [false, true] {
        let size = build(&dir.path().join(format!("size-{compression}.sst")), compression);
        eprintln!(
            "table file size, 100k x (16 B key + 100 B value), lz4 {compression}: {size} bytes ({:.1}% of {} raw)",
            100.0 * size as f64 / raw_bytes() as f64,
            raw_bytes()
        );
        let name = if compression { "lz4" } else { "plain" };
        group.bench_function(name, |b| {
            b.iter(|| {
                let path = dir.path().join(format!("{}.sst", n.fetch_add(1, Ordering::Relaxed)));
                black_box(build(&path, compression));
                StdFs::new().remove_file(&path).unwrap();
            })
        });
    }
    group.finish();
}

fn open(dir: &Path, compression: bool, cache_bytes: usize) -> Table {
    let path = dir.join(format!("read-{compression}.sst"));
    if !StdFs::new().exists(&path).unwrap() {
        build(&path, compression);
    }
    Table::open(&StdFs::new(), &path, TableId(1), Arc::new(BlockCache::new(cache_bytes))).unwrap()
}

fn bench_reads(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    for compression in [false, true] {
        let table = open(dir.path(), compression, 64 << 20);
        let name = if compression { "lz4" } else { "plain" };
        assert_eq!(table.iter().count() as u64, ENTRIES); // warms the cache
        let false_positives = (0..ENTRIES).filter(|i| table.may_contain(&key(i * 2 + 1))).count();
        eprintln!(
            "bloom false positives ({name}): {false_positives} of {ENTRIES} absent keys ({:.2}%)",
            100.0 * false_positives as f64 / ENTRIES as f64
        );
        let mut i = 0u64;
        c.bench_function(&format!("table_get_warm/{name}"), |b| {
            b.iter(|| {
                i = (i + 7919) % ENTRIES;
                black_box(table.get(&key(i * 2), SeqNo(u64::MAX)).unwrap().unwrap());
            })
        });
        c.bench_function(&format!("table_get_absent/{name}"), |b| {
            b.iter(|| {
                i = (i + 7919) % ENTRIES;
                black_box(table.get(&key(i * 2 + 1), SeqNo(u64::MAX)).unwrap());
            })
        });
        let mut group = c.benchmark_group("table_scan");
        group.throughput(Throughput::Bytes(raw_bytes())).sample_size(10);
        group.bench_function(format!("warm/{name}"), |b| {
            b.iter(|| black_box(table.iter().map(|e| e.unwrap().value.len()).sum::<usize>()))
        });
        let cold = open(dir.path(), compression, 0);
        group.bench_function(format!("uncached/{name}"), |b| {
            b.iter(|| black_box(cold.iter().map(|e| e.unwrap().value.len()).sum::<usize>()))
        });
        group.finish();
    }
}

criterion_group!(benches, bench_build, bench_reads);
criterion_main!(benches);
