//! How large a `WriteBatch` may be: any batch whose records fit one
//! memtable's address range is written whole, whatever its operation
//! count; one that could not fit even an empty memtable is refused up
//! front, with an error that names the limit.

use std::path::Path;
use std::sync::Arc;

use cairndb::fs::MemFs;
use cairndb::internals::hlog::{HlogConfig, HybridLog, Op, ReplayFrom};
use cairndb::{Config, Db, Error, LogAddress, SeqNo, WriteBatch};

const OPS: u32 = 1_100_000;

fn key(i: u32) -> [u8; 8] {
    let mut key = *b"k0000000";
    key[1..].copy_from_slice(&format!("{i:07}").into_bytes());
    key
}

fn value(i: u32) -> [u8; 8] {
    u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes()
}

/// Every write of the batch by point lookups, and the first thousand and
/// the last in order.
fn holds_the_batch(db: &Db, when: &str) {
    for i in 0..OPS {
        assert_eq!(db.get(key(i)).unwrap(), Some(value(i).to_vec()), "{when}: key {i}");
    }
    let first: Vec<(Vec<u8>, Vec<u8>)> = db.iter().take(1000).collect::<Result<_, _>>().unwrap();
    let expected: Vec<(Vec<u8>, Vec<u8>)> = (0..1000).map(|i| (key(i).to_vec(), value(i).to_vec())).collect();
    assert!(first == expected, "{when}: the first keys in order");
    let last = db.iter().next_back().unwrap().unwrap();
    assert_eq!(last, (key(OPS - 1).to_vec(), value(OPS - 1).to_vec()), "{when}");
}

/// 1.1 M puts in one batch: more operations than pages a memtable has.
fn big_batch() -> WriteBatch {
    let mut batch = WriteBatch::new();
    for i in 0..OPS {
        batch.push_put(key(i), value(i));
    }
    batch
}

#[test]
fn a_batch_of_1_1_million_small_puts_is_written_whole_and_read_back() {
    // 256 MiB memtables, 1 MiB pages: 2^20 of them, fewer than the batch's
    // operations, and far more room than its 62 MB of records need.
    let fs = MemFs::new();
    let config = |fs: &MemFs| {
        Config::new("/db").fs(Arc::new(fs.clone())).background_threads(false).memtable_size_bytes(256 << 20)
    };
    let db = config(&fs).open().unwrap();
    db.put(b"a first write", b"so the memtable is not empty").unwrap();
    db.delete(b"a first write").unwrap();
    let batch = big_batch();
    let seqno = db.write(batch).unwrap();
    assert_eq!(seqno, SeqNo(2 + u64::from(OPS)));
    assert_eq!(db.stats().memtable_keys, OPS as usize + 1);
    for i in (0..OPS).step_by(101) {
        assert_eq!(db.get(key(i)).unwrap(), Some(value(i).to_vec()), "key {i}");
    }
    db.persist().unwrap();
    // A power cut: the log holds the batch whole.
    let after = fs.crash_copy();
    std::mem::forget(db);
    let db = config(&after).open().unwrap();
    assert_eq!(db.stats().memtable_keys, OPS as usize + 1);
    holds_the_batch(&db, "reopened after a power cut");
    assert_eq!(db.get(b"a first write").unwrap(), None);
}

fn small_log(fs: &MemFs) -> HybridLog {
    // 4 KiB pages: 2^20 of them, 4 GiB, is all one memtable can address.
    let config = HlogConfig { page_size_bytes: 4096, memtable_size_bytes: 64 << 10, ..HlogConfig::default() };
    let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
    HybridLog::open(Arc::new(fs.clone()), Path::new("/log"), config, replay).unwrap().0
}

#[test]
fn a_batch_no_memtable_can_hold_is_refused_naming_the_limit() {
    let fs = MemFs::new();
    let log = small_log(&fs);
    log.put(b"k", b"v").unwrap();
    // Three values of 1.5 GiB: 4.5 GiB of records, more than any memtable
    // with 4 KiB pages addresses (the values are never touched: refused
    // before anything is copied).
    let huge = vec![0u8; 3 << 29];
    let batch: Vec<Op<'_>> = (0..3).map(|_| Op::Put { key: b"big", value: &huge }).collect();
    let error = log.try_write(&batch, None).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::InvalidArgument { .. }), "{error:?}");
    let limit = (4096u64 << 20).to_string();
    assert!(message.contains("batch") && message.contains(&limit), "{message}");
    // Nothing of it went in; the log goes on.
    assert_eq!(log.get(b"big", None), None);
    assert_eq!(log.put(b"k2", b"v2").unwrap(), SeqNo(2));
}
