//! Tables read back exactly what was written: through `get`, `seek` and
//! iteration, with and without compression, with tombstones and blob
//! references, over many block layouts.

mod common;

use std::sync::Arc;

use cairndb::fs::StdFs;
use cairndb::internals::blob::BlobRef;
use cairndb::internals::table::{BlockCache, Entry, Table, TableOptions, TableWriter, ValueKind, cmp_internal};
use cairndb::{BlobFileId, SeqNo, TableId};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

/// A random table: sorted, distinct (key, seqno) entries and the options
/// to write them with, plus keys to probe.
#[derive(Clone, Debug)]
struct Case {
    entries: Vec<Entry>,
    options: TableOptions,
    cache_bytes: usize,
    probes: Vec<(Vec<u8>, SeqNo)>,
}

fn small_key(g: &mut Gen) -> Vec<u8> {
    let len = usize::arbitrary(g) % 6;
    (0..len).map(|_| *g.choose(b"abcz").unwrap()).collect()
}

fn arbitrary_entry(g: &mut Gen) -> Entry {
    let key = small_key(g);
    let seqno = SeqNo(u64::arbitrary(g) % 20);
    let (kind, value) = match u8::arbitrary(g) % 4 {
        0 => (ValueKind::Tombstone, Vec::new()),
        1 => {
            let r = BlobRef {
                file: BlobFileId(u64::arbitrary(g)),
                offset: u64::arbitrary(g),
                len_bytes: u32::arbitrary(g),
            };
            (ValueKind::BlobRef, r.encode().to_vec())
        }
        _ => {
            let len = usize::arbitrary(g) % 300;
            let byte = u8::arbitrary(g);
            (ValueKind::Value, (0..len).map(|i| byte.wrapping_add((i % 5) as u8)).collect())
        }
    };
    Entry { key, seqno, kind, value }
}

impl Arbitrary for Case {
    fn arbitrary(g: &mut Gen) -> Self {
        let n = 1 + usize::arbitrary(g) % (g.size() * 4);
        let mut entries: Vec<Entry> = (0..n).map(|_| arbitrary_entry(g)).collect();
        entries.sort_by(|a, b| cmp_internal(&a.key, a.seqno, &b.key, b.seqno));
        entries.dedup_by(|a, b| a.key == b.key && a.seqno == b.seqno);
        let options = TableOptions {
            block_size_bytes: *g.choose(&[1, 64, 256, 4096]).unwrap(),
            compression: bool::arbitrary(g),
            bloom_bits_per_key: *g.choose(&[0, 1, 10]).unwrap(),
            restart_interval: *g.choose(&[1, 2, 16]).unwrap(),
        };
        let probes = (0..20).map(|_| (small_key(g), SeqNo(u64::arbitrary(g) % 22))).collect();
        Case { entries, options, cache_bytes: *g.choose(&[0, 2048, 1 << 20]).unwrap(), probes }
    }
}

/// The newest version of `key` at or below `snapshot`, from the model.
fn model_get<'a>(entries: &'a [Entry], key: &[u8], snapshot: SeqNo) -> Option<&'a Entry> {
    entries.iter().find(|e| e.key == key && e.seqno <= snapshot)
}

fn write_and_open(case: &Case) -> (tempfile::TempDir, Table) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("1.sst");
    let mut w = TableWriter::new(&StdFs::new(), &path, case.options).unwrap();
    for e in &case.entries {
        w.add(&e.key, e.seqno, e.kind, &e.value).unwrap();
    }
    let meta = w.finish().unwrap();
    let table = Table::open(&StdFs::new(), &path, TableId(1), Arc::new(BlockCache::new(case.cache_bytes))).unwrap();
    assert_eq!(table.meta(), &meta);
    (dir, table)
}

fn reads_back(case: Case) -> TestResult {
    let (_dir, table) = write_and_open(&case);
    let all: Vec<Entry> = table.iter().map(Result::unwrap).collect();
    assert_eq!(all, case.entries);
    table.verify().unwrap();
    let meta = table.meta();
    assert_eq!(meta.entry_count, case.entries.len() as u64);
    assert_eq!(meta.key_min, case.entries[0].key);
    assert_eq!(meta.key_max, case.entries.last().unwrap().key);
    let mut backward: Vec<Entry> = table.iter_rev().map(Result::unwrap).collect();
    backward.reverse();
    assert_eq!(backward, case.entries, "backward iteration");
    for (key, snapshot) in &case.probes {
        let mut rev = table.iter_rev();
        rev.seek_for_prev(key);
        let upto = case.entries.partition_point(|e| e.key <= *key);
        let mut before: Vec<Entry> = rev.map(Result::unwrap).collect();
        before.reverse();
        assert_eq!(before, case.entries[..upto], "seek_for_prev {key:?}");

        let got = table.get(key, *snapshot).unwrap();
        assert_eq!(got.as_ref(), model_get(&case.entries, key, *snapshot), "get {key:?}@{snapshot:?}");
        let from: Vec<Entry> = table.seek(key).map(Result::unwrap).collect();
        let start = case.entries.partition_point(|e| e.key < *key);
        assert_eq!(from, case.entries[start..], "seek {key:?}");
        let mut it = table.iter();
        it.seek_at(key, *snapshot);
        let at = case.entries.partition_point(|e| cmp_internal(&e.key, e.seqno, key, *snapshot).is_lt());
        assert_eq!(it.next().map(Result::unwrap).as_ref(), case.entries.get(at), "seek_at");
    }
    TestResult::passed()
}

#[test]
fn random_tables_read_back_identically() {
    QuickCheck::new().tests(80).quickcheck(reads_back as fn(Case) -> TestResult);
}

/// A larger table with many blocks, each way of compressing.
#[test]
fn large_table_reads_back_with_and_without_compression() {
    for compression in [false, true] {
        let entries: Vec<Entry> = (0..10_000u32)
            .map(|i| Entry {
                key: format!("user{:08}", i * 3).into_bytes(),
                seqno: SeqNo(u64::from(i) + 1),
                kind: ValueKind::Value,
                value: format!("value-{i}-{}", "x".repeat((i % 50) as usize)).into_bytes(),
            })
            .collect();
        let options = TableOptions { compression, ..TableOptions::default() };
        let case = Case { entries, options, cache_bytes: 1 << 20, probes: Vec::new() };
        let (_dir, table) = write_and_open(&case);
        assert!(table.meta().data_block_count > 50);
        let all: Vec<Entry> = table.iter().map(Result::unwrap).collect();
        assert_eq!(all, case.entries);
        for i in (0..30_000u32).step_by(7) {
            let key = format!("user{i:08}").into_bytes();
            let got = table.get(&key, SeqNo(u64::MAX)).unwrap();
            assert_eq!(got.as_ref(), model_get(&case.entries, &key, SeqNo(u64::MAX)));
        }
        if compression {
            assert!(table.meta().data_bytes < table.meta().raw_bytes, "{:?}", table.meta());
        }
    }
}

#[test]
fn warm_lookups_hit_the_cache() {
    let entries: Vec<Entry> = (0..1000u32)
        .map(|i| Entry { key: i.to_be_bytes().to_vec(), seqno: SeqNo(1), kind: ValueKind::Value, value: vec![1; 100] })
        .collect();
    let case = Case { entries, options: TableOptions::default(), cache_bytes: 1 << 20, probes: Vec::new() };
    let (dir, _) = write_and_open(&case);
    let cache = Arc::new(BlockCache::new(1 << 20));
    let table = Table::open(&StdFs::new(), &dir.path().join("1.sst"), TableId(1), Arc::clone(&cache)).unwrap();
    assert_eq!(table.iter().count(), 1000);
    let blocks = table.meta().data_block_count;
    assert_eq!(cache.stats().misses, blocks);
    for i in 0..1000u32 {
        assert_eq!(table.get(&i.to_be_bytes(), SeqNo(1)).unwrap().unwrap().value, vec![1; 100]);
    }
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.hits), (blocks, 1000), "{stats:?}");
    assert!(stats.used_bytes <= stats.capacity_bytes);
}

#[test]
fn threads_share_a_table_and_a_cache() {
    let entries: Vec<Entry> = (0..5000u32)
        .map(|i| Entry {
            key: i.to_be_bytes().to_vec(),
            seqno: SeqNo(7),
            kind: ValueKind::Value,
            value: vec![i as u8; 50],
        })
        .collect();
    let case = Case { entries, options: TableOptions::default(), cache_bytes: 0, probes: Vec::new() };
    let (dir, _) = write_and_open(&case);
    // Small enough that the threads keep evicting each other's blocks.
    let cache = Arc::new(BlockCache::new(64 << 10));
    let table = Table::open(&StdFs::new(), &dir.path().join("1.sst"), TableId(1), Arc::clone(&cache)).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let (table, entries) = (table.clone(), &case.entries);
            s.spawn(move || {
                for i in (t..5000).step_by(3) {
                    let got = table.get(&i.to_be_bytes(), SeqNo(7)).unwrap();
                    assert_eq!(got.as_ref(), Some(&entries[i as usize]));
                }
                assert!(table.iter().map(Result::unwrap).eq(entries.iter().cloned()));
            });
        }
    });
    assert!(cache.stats().used_bytes <= 64 << 10);
    drop(table);
    assert_eq!(cache.stats().block_count, 0, "a closed table's blocks leave the cache");
}

#[test]
fn empty_table_is_refused_and_order_is_asserted() {
    let dir = tempfile::tempdir().unwrap();
    let w = TableWriter::new(&StdFs::new(), &dir.path().join("1.sst"), TableOptions::default()).unwrap();
    assert!(matches!(w.finish(), Err(cairndb::Error::InvalidArgument { .. })));
    let mut w = TableWriter::new(&StdFs::new(), &dir.path().join("2.sst"), TableOptions::default()).unwrap();
    w.add(b"b", SeqNo(1), ValueKind::Value, b"").unwrap();
    let out_of_order = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = w.add(b"a", SeqNo(1), ValueKind::Value, b"");
    }));
    assert!(out_of_order.is_err());
    let too_long = vec![0u8; cairndb::internals::table::KEY_BYTES_MAX + 1];
    let mut w = TableWriter::new(&StdFs::new(), &dir.path().join("3.sst"), TableOptions::default()).unwrap();
    assert!(w.add(&too_long, SeqNo(1), ValueKind::Value, b"").is_err());
}
