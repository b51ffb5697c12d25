//! Dumps: a database dumped and loaded into an empty one holds the same
//! keys and values (binary keys, empty values, blob-sized values; deleted
//! keys absent), checked against a `BTreeMap` model; a dump of a snapshot
//! is exact at its seqno while writers go on; every cut and every flipped
//! bit of a dump is refused with `Error::Corruption`, never a panic.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use cairndb::dump::{self, DumpReader, DumpWriter, HEADER_BYTES, TRAILER_BYTES};
use cairndb::fs::MemFs;
use cairndb::{Config, Db, SeqNo};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

const BLOB_THRESHOLD: usize = 1024;

fn open(fs: &MemFs, path: &str) -> Db {
    Config::new(path)
        .fs(Arc::new(fs.clone()))
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(BLOB_THRESHOLD)
        .background_threads(false)
        .open()
        .unwrap()
}

fn go<T>(_: T) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// A small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Random writes and deletes, with flushes between, mirrored in a model.
fn populate(db: &Db, rng: &mut Rng, ops: usize) -> Model {
    let mut model = Model::new();
    for i in 0..ops {
        let key = match rng.next() % 4 {
            0 => Vec::new(),
            1 => vec![0xff, 0x00, (rng.next() % 8) as u8],
            _ => {
                let len = 1 + (rng.next() % 12) as usize;
                rng.bytes(len)
            }
        };
        match rng.next() % 10 {
            0..=1 => {
                db.delete(&key).unwrap();
                model.remove(&key);
            }
            2 => {
                db.put(&key, b"").unwrap();
                model.insert(key, Vec::new());
            }
            3 => {
                let len = BLOB_THRESHOLD + (rng.next() % 5000) as usize;
                let value = rng.bytes(len);
                db.put(&key, &value).unwrap();
                model.insert(key, value);
            }
            _ => {
                let len = (rng.next() % 100) as usize;
                let value = rng.bytes(len);
                db.put(&key, &value).unwrap();
                model.insert(key, value);
            }
        }
        if i % 300 == 299 {
            db.flush().unwrap();
        }
    }
    // Always some of each: the empty key, a blob-sized value under a
    // binary key, a key deleted after a flush.
    let blob = rng.bytes(3 * BLOB_THRESHOLD);
    for (key, value) in [(&b""[..], &b"empty key"[..]), (b"\x00\xff blob", &blob), (b"deleted", b"soon")] {
        db.put(key, value).unwrap();
        model.insert(key.to_vec(), value.to_vec());
    }
    db.flush().unwrap();
    db.delete(b"deleted").unwrap();
    model.remove(&b"deleted"[..]);
    model
}

fn contents(db: &Db) -> Model {
    db.iter().map(|kv| kv.unwrap()).collect()
}

fn dumped(db: &Db) -> Vec<u8> {
    let mut bytes = Vec::new();
    let info = dump::dump(&db.snapshot(), &mut bytes, "dump", &mut go).unwrap();
    assert!(info.complete);
    assert_eq!(info.bytes, bytes.len() as u64);
    bytes
}

#[test]
fn dump_then_load_equals_the_model() {
    for seed in 1..=4u64 {
        let fs = MemFs::new();
        let source = open(&fs, "/source");
        let model = populate(&source, &mut Rng(seed * 0x9e37_79b9), 1500);
        assert_eq!(contents(&source), model);
        let bytes = dumped(&source);

        let target = open(&fs, "/target");
        let reader = DumpReader::new(&bytes[..], "dump").unwrap();
        assert_eq!(reader.seqno(), source.stats().seqno);
        let info = dump::load(&target, reader, &mut go).unwrap();
        assert!(info.complete);
        assert_eq!(info.records, model.len() as u64);
        assert_eq!(contents(&target), model, "seed {seed}");
        drop(target);
        assert_eq!(contents(&open(&fs, "/target")), model, "durable when load returns");
    }
}

#[test]
fn a_dump_of_a_snapshot_is_exact_at_its_seqno() {
    let fs = MemFs::new();
    let db = open(&fs, "/db");
    let model = populate(&db, &mut Rng(7), 800);
    let snapshot = db.snapshot();
    db.put(b"after", b"the snapshot").unwrap();
    db.delete(model.keys().next().unwrap()).unwrap();
    let mut bytes = Vec::new();
    dump::dump(&snapshot, &mut bytes, "dump", &mut go).unwrap();
    let read: Model = DumpReader::new(&bytes[..], "dump").unwrap().map(|kv| kv.unwrap()).collect();
    assert_eq!(read, model);
}

#[test]
fn every_cut_of_a_dump_is_refused() {
    let fs = MemFs::new();
    let db = open(&fs, "/db");
    populate(&db, &mut Rng(3), 60);
    let bytes = dumped(&db);
    for len in 0..bytes.len() {
        let error = DumpReader::new(&bytes[..len], "dump").and_then(|r| r.collect::<cairndb::Result<Vec<_>>>());
        let error = error.expect_err(&format!("a dump cut to {len} of {} bytes", bytes.len()));
        assert!(error.is_corruption(), "cut at {len}: {error}");
        assert!(error.to_string().contains("truncated"), "cut at {len}: {error}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let error = DumpReader::new(&longer[..], "dump").unwrap().collect::<cairndb::Result<Vec<_>>>().unwrap_err();
    assert!(error.to_string().contains("bytes after the trailer"), "{error}");
}

#[test]
fn every_flipped_bit_of_a_dump_is_refused() {
    let fs = MemFs::new();
    let db = open(&fs, "/db");
    db.put(b"a\x00", b"").unwrap();
    db.put(b"b", vec![7u8; 40]).unwrap();
    let bytes = dumped(&db);
    assert_eq!(bytes.len(), HEADER_BYTES + 17 + 2 + 17 + 1 + 40 + TRAILER_BYTES);
    for bit in 0..bytes.len() * 8 {
        let mut bad = bytes.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let result = DumpReader::new(&bad[..], "dump").and_then(|r| r.collect::<cairndb::Result<Vec<_>>>());
        let error = result.expect_err(&format!("bit {bit} flipped"));
        assert!(error.is_corruption(), "bit {bit}: {error}");
    }
}

#[test]
fn records_dropped_or_reordered_are_refused() {
    let record = |key: &[u8]| {
        let mut w = DumpWriter::new(Vec::new(), "d", SeqNo(1)).unwrap();
        w.put(key, b"v").unwrap();
        let (bytes, _) = w.finish().unwrap();
        bytes[HEADER_BYTES..bytes.len() - TRAILER_BYTES].to_vec()
    };
    let mut w = DumpWriter::new(Vec::new(), "d", SeqNo(1)).unwrap();
    w.put(b"a", b"v").unwrap();
    w.put(b"b", b"v").unwrap();
    assert!(w.put(b"a", b"v").is_err(), "the writer refuses keys out of order");
    let (whole, _) = w.finish().unwrap();
    let (head, tail) = (&whole[..HEADER_BYTES], &whole[whole.len() - TRAILER_BYTES..]);
    let read = |middle: Vec<u8>| {
        let bytes = [head, &middle, tail].concat();
        DumpReader::new(&bytes[..], "d").unwrap().collect::<cairndb::Result<Vec<_>>>().unwrap_err().to_string()
    };
    assert!(read(record(b"a")).contains("the trailer counts 2 records"), "a dropped record");
    assert!(read([record(b"b"), record(b"a")].concat()).contains("out of order"), "reordered");
    assert!(read([record(b"a"), record(b"c")].concat()).contains("checksum does not match"), "replaced");
}

#[test]
fn a_length_beyond_the_limits_is_refused_before_anything_is_allocated() {
    let mut w = DumpWriter::new(Vec::new(), "d", SeqNo(1)).unwrap();
    w.put(b"k", b"v").unwrap();
    let (mut bytes, _) = w.finish().unwrap();
    // The value length of the only record, claimed as 4 GiB - 1.
    bytes[HEADER_BYTES + 5..HEADER_BYTES + 9].copy_from_slice(&u32::MAX.to_le_bytes());
    let error = DumpReader::new(&bytes[..], "d").unwrap().next().unwrap().unwrap_err();
    assert!(error.to_string().contains("value length 4294967295 exceeds"), "{error}");
}
