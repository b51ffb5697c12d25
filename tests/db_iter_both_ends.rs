//! `DbIter` from both ends over a history spread across every layer (the
//! memtable, level 0 and deeper levels, blob files), with overwrites and
//! deletes at several levels: backward is forward reversed, mixed walks
//! take every key once, an open iterator keeps its view at both ends while
//! the database flushes and compacts, and `first`, `last` and
//! `contains_key` read little.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{FaultFs, Fs, MemFs, OpKind};
use cairndb::{Config, Db, DbIter};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn open(fs: Arc<dyn Fs>) -> Db {
    Config::new("/db")
        .fs(fs)
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(256)
        .table_target_bytes(8 << 10)
        .level0_trigger(4)
        .level1_target_bytes(64 << 10)
        .background_threads(false)
        .open()
        .unwrap()
}

fn key(i: u32) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

/// Every 4th value is long enough for a blob file.
fn value(i: u32, round: u32) -> Vec<u8> {
    let len = if i.is_multiple_of(4) { 300 } else { 20 };
    (0..len).map(|j| (i * 7 + round * 13 + j) as u8).collect()
}

/// The oldest writes compacted to the deepest level, overwrites and
/// deletes of them in level 0, newer ones in the memtable.
fn layered(db: &Db) -> Model {
    let mut model = Model::new();
    let put = |model: &mut Model, i: u32, round: u32| {
        db.put(key(i), value(i, round)).unwrap();
        model.insert(key(i), value(i, round));
    };
    for i in 0..1500 {
        put(&mut model, i, 0);
    }
    db.compact().unwrap();
    for i in (0..1500).step_by(3) {
        put(&mut model, i, 1);
    }
    for i in (0..1500).step_by(5) {
        db.delete(key(i)).unwrap();
        model.remove(&key(i));
    }
    db.flush().unwrap();
    for i in (0..1600).step_by(7) {
        put(&mut model, i, 2);
    }
    for i in (0..1500).step_by(11) {
        db.delete(key(i)).unwrap();
        model.remove(&key(i));
    }
    let stats = db.stats();
    assert!(stats.levels[0].tables > 0 && stats.levels.iter().skip(1).any(|l| l.tables > 1), "{stats:?}");
    assert!(stats.blob_files > 0 && stats.memtable_bytes > 0, "{stats:?}");
    model
}

fn collect(iter: impl Iterator<Item = cairndb::Result<(Vec<u8>, Vec<u8>)>>) -> Vec<(Vec<u8>, Vec<u8>)> {
    iter.map(|kv| kv.unwrap()).collect()
}

fn pairs<'a>(iter: impl Iterator<Item = (&'a Vec<u8>, &'a Vec<u8>)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    iter.map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Alternates `next` and `next_back` (`front` steps, then `back` steps)
/// until the ends meet; returns what they took, in key order.
fn meet(mut iter: DbIter, front: usize, back: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let (mut from_front, mut from_back) = (Vec::new(), Vec::new());
    'walk: loop {
        for _ in 0..front {
            let Some(kv) = iter.next() else { break 'walk };
            from_front.push(kv.unwrap());
        }
        for _ in 0..back {
            let Some(kv) = iter.next_back() else { break 'walk };
            from_back.push(kv.unwrap());
        }
    }
    assert!(iter.next().is_none() && iter.next_back().is_none(), "both ends stay ended");
    from_front.extend(from_back.into_iter().rev());
    from_front
}

#[test]
fn backward_is_forward_reversed_over_every_layer() {
    let db = open(Arc::new(MemFs::new()));
    let model = layered(&db);
    let mut reversed = collect(db.iter().rev());
    reversed.reverse();
    assert_eq!(reversed, pairs(model.iter()));
    assert_eq!(collect(db.iter()), pairs(model.iter()));
    let (a, b) = (key(333), key(1201));
    assert_eq!(collect(db.range(a.clone()..b.clone()).rev()), pairs(model.range(a.clone()..b.clone()).rev()));
    assert_eq!(collect(db.range(a.clone()..=b.clone()).rev()), pairs(model.range(a.clone()..=b.clone()).rev()));
    assert_eq!(collect(db.range(..=b.clone()).rev()), pairs(model.range(..=b.clone()).rev()));
    assert_eq!(collect(db.range(a.clone()..).rev()), pairs(model.range(a.clone()..).rev()));
    let prefix: Vec<_> = model.iter().filter(|(k, _)| k.starts_with(b"key012")).rev().collect();
    assert_eq!(collect(db.prefix("key012").rev()), pairs(prefix.into_iter()));
}

#[test]
fn mixed_walks_take_every_key_once() {
    let db = open(Arc::new(MemFs::new()));
    let model = layered(&db);
    for (front, back) in [(1, 1), (1, 5), (7, 2), (100, 1), (0, 1), (1, 0)] {
        assert_eq!(meet(db.iter(), front, back), pairs(model.iter()), "{front} forward, {back} back");
    }
    let (a, b) = (key(40), key(90));
    assert_eq!(meet(db.range(a.clone()..b.clone()), 2, 3), pairs(model.range(a..b)));
    let mut one = db.range(key(3)..=key(3));
    assert_eq!(one.next_back().transpose().unwrap(), Some((key(3), model[&key(3)].clone())));
    assert!(one.next().is_none() && one.next_back().is_none());
}

#[test]
fn an_open_iterator_keeps_its_view_at_both_ends_through_flush_and_compaction() {
    let db = open(Arc::new(MemFs::new()));
    let model = layered(&db);
    let snapshot = db.snapshot();
    let mut iter = db.iter();
    let of_snapshot = snapshot.iter();
    let first = iter.next().unwrap().unwrap();
    // Everything changes: every key overwritten or deleted, flushed,
    // compacted (the blob files they referenced become garbage).
    for i in 0..1600u32 {
        if i.is_multiple_of(2) {
            db.delete(key(i)).unwrap();
        } else {
            db.put(key(i), value(i, 9)).unwrap();
        }
    }
    db.compact().unwrap();
    // The back end opens only now, on the new version.
    let mut taken = vec![first];
    let mut back = collect(iter.by_ref().rev().take(300));
    taken.extend(collect(iter.by_ref()));
    back.reverse();
    taken.extend(back);
    assert_eq!(taken, pairs(model.iter()));
    assert_eq!(meet(of_snapshot, 3, 4), pairs(model.iter()));
    assert_eq!(snapshot.first().unwrap(), model.first_key_value().map(|(k, v)| (k.clone(), v.clone())));
    assert_eq!(snapshot.last().unwrap(), model.last_key_value().map(|(k, v)| (k.clone(), v.clone())));
    for i in [0, 1, 4, 5, 8, 1499, 1598] {
        assert_eq!(snapshot.contains_key(key(i)).unwrap(), model.contains_key(&key(i)), "key {i}");
    }
    assert_eq!(db.first().unwrap().map(|(k, _)| k), Some(key(1)));
    assert_eq!(db.last().unwrap().map(|(k, _)| k), Some(key(1599)));
}

#[test]
fn first_last_and_contains_key_read_little() {
    let disk = MemFs::new();
    let model = layered(&open(Arc::new(disk.clone())));
    let fault = FaultFs::new(Arc::new(disk.clone()));
    let db = open(Arc::new(fault.clone()));
    let reads = |f: &dyn Fn()| {
        let before = fault.op_count_of(OpKind::Read);
        f();
        fault.op_count_of(OpKind::Read) - before
    };
    let pair = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
    let ends = reads(&|| {
        assert_eq!(db.first().unwrap(), model.first_key_value().map(pair));
        assert_eq!(db.last().unwrap(), model.last_key_value().map(pair));
    });
    let scan = reads(&|| assert_eq!(db.iter().count(), model.len()));
    assert!(ends * 4 < scan, "first and last read {ends} times, a whole scan {scan}");

    // A key whose newest value is in a blob file: known present without
    // reading it (the blob files can be gone).
    let in_blob = key(4);
    assert!(model[&in_blob].len() >= 256);
    drop(db);
    for entry in disk.read_dir(Path::new("/db/blobs")).unwrap() {
        disk.remove_file(&Path::new("/db/blobs").join(&entry.name)).unwrap();
    }
    let db = open(Arc::new(disk.clone()));
    assert!(db.contains_key(&in_blob).unwrap());
    assert!(db.get(&in_blob).is_err(), "the value itself is gone with its blob file");
    assert!(!db.contains_key(key(5)).unwrap(), "deleted");
    assert!(!db.contains_key(b"absent").unwrap());
}
