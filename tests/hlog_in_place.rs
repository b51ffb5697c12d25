//! In-place updates happen for same-size overwrites of a hot key in the
//! mutable region, and never while a snapshot could see the old version.

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::MemFs;
use cairndb::internals::hlog::{HlogConfig, HybridLog, Lookup, Op, ReplayFrom};
use cairndb::{LogAddress, SeqNo};

fn open() -> HybridLog {
    let config = HlogConfig {
        page_size_bytes: 64 << 10,
        segment_size_bytes: 1 << 20,
        memtable_size_bytes: 1 << 20,
        persist_interval_ms: 0,
        read_only: false,
    };
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    HybridLog::open(Arc::new(MemFs::new()), Path::new("/log"), config, replay).unwrap().0
}

fn value(log: &HybridLog, key: &[u8], at: Option<SeqNo>) -> Option<Vec<u8>> {
    log.get(key, at).and_then(|l| l.value().map(<[u8]>::to_vec))
}

#[test]
fn repeated_same_size_overwrites_do_not_grow_the_tail() {
    let log = open();
    log.put(b"hot", &[0; 100]).unwrap();
    let tail = log.addresses().tail;
    for i in 1..=1000u32 {
        log.put(b"hot", &[i as u8; 100]).unwrap();
    }
    assert_eq!(log.addresses().tail, tail, "overwrites appended records");
    assert_eq!(log.stats().in_place_updates, 1000);
    assert_eq!(log.get(b"hot", None), Some(Lookup::Value { seqno: SeqNo(1001), value: vec![232; 100] }));
    // Smaller values and deletes fit too; a value past the 8-byte-rounded capacity does not.
    log.put(b"hot", b"short").unwrap();
    log.delete(b"hot").unwrap();
    assert_eq!(log.addresses().tail, tail);
    assert_eq!(log.get(b"hot", None), Some(Lookup::Tombstone { seqno: SeqNo(1003) }));
    log.put(b"hot", &[9; 105]).unwrap();
    assert!(log.addresses().tail > tail);
    assert_eq!(value(&log, b"hot", None), Some(vec![9; 105]));
}

#[test]
fn a_live_snapshot_keeps_the_version_it_sees() {
    let log = open();
    log.put(b"hot", b"v1").unwrap();
    let snap = log.snapshot();
    let tail = log.addresses().tail;
    log.put(b"hot", b"v2").unwrap();
    assert!(log.addresses().tail > tail, "overwrote a version a snapshot sees");
    assert_eq!(log.stats().in_place_updates, 0);
    // v2 is newer than every live snapshot: it may be replaced in place.
    let tail = log.addresses().tail;
    log.put(b"hot", b"v3").unwrap();
    assert_eq!(log.addresses().tail, tail);
    assert_eq!(log.stats().in_place_updates, 1);
    assert_eq!(value(&log, b"hot", Some(snap.seqno())), Some(b"v1".to_vec()));
    assert_eq!(value(&log, b"hot", None), Some(b"v3".to_vec()));
    // A clone keeps it registered after the original goes.
    let again = snap.clone();
    drop(snap);
    let snap2 = log.snapshot();
    log.put(b"hot", b"v4").unwrap();
    assert_eq!(log.stats().in_place_updates, 1, "snap2 sees v3");
    assert_eq!(value(&log, b"hot", Some(snap2.seqno())), Some(b"v3".to_vec()));
    assert_eq!(value(&log, b"hot", Some(again.seqno())), Some(b"v1".to_vec()));
    drop((again, snap2));
    log.put(b"hot", b"v5").unwrap();
    assert_eq!(log.stats().in_place_updates, 2);
    assert_eq!(log.stats().live_snapshots, 0);
}

#[test]
fn persisted_records_are_never_updated_in_place() {
    let log = open();
    log.put(b"hot", b"durable").unwrap();
    log.persist().unwrap();
    let tail = log.addresses().tail;
    log.put(b"hot", b"new-one").unwrap();
    assert!(log.addresses().tail > tail, "overwrote a record below read_only");
    let tail = log.addresses().tail;
    log.put(b"hot", b"new-two").unwrap();
    assert_eq!(log.addresses().tail, tail, "the fresh record is mutable");
    assert_eq!(log.stats().in_place_updates, 1);
}

#[test]
fn batches_always_append_and_stay_atomic() {
    let log = open();
    log.write(&[Op::Put { key: b"a", value: b"1" }, Op::Put { key: b"b", value: b"1" }]).unwrap();
    let tail = log.addresses().tail;
    let seqno = log.write(&[Op::Put { key: b"a", value: b"2" }, Op::Put { key: b"b", value: b"2" }]).unwrap();
    assert_eq!(seqno, SeqNo(4));
    assert!(log.addresses().tail > tail);
    assert_eq!(log.stats().in_place_updates, 0);
    assert_eq!(value(&log, b"a", Some(SeqNo(2))), Some(b"1".to_vec()));
    assert_eq!(value(&log, b"b", Some(SeqNo(4))), Some(b"2".to_vec()));
}

#[test]
fn frozen_logs_are_never_updated() {
    let log = open();
    log.put(b"hot", b"old").unwrap();
    let frozen = log.freeze();
    log.put(b"hot", b"new").unwrap();
    assert_eq!(frozen.get(b"hot", None).unwrap().value(), Some(&b"old"[..]));
    assert_eq!(value(&log, b"hot", None), Some(b"new".to_vec()));
}
