//! Writers, readers, flushes and compactions at once; then a reopen must
//! hold exactly the final state every writer produced.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cairndb::fs::MemFs;
use cairndb::{Config, Db};

const WRITERS: u64 = 3;
const KEYS_PER_WRITER: u64 = 400;
const ROUNDS: u64 = 12;

fn open(fs: &MemFs) -> Db {
    Config::new("/db")
        .fs(Arc::new(fs.clone()))
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(300)
        .table_target_bytes(16 << 10)
        .level0_trigger(2)
        .level1_target_bytes(128 << 10)
        .open()
        .unwrap()
}

fn value(writer: u64, key: u64, round: u64) -> Vec<u8> {
    let len = if key.is_multiple_of(17) { 400 } else { 30 };
    let mut v = format!("w{writer}-k{key}-r{round}-").into_bytes();
    v.resize(len, b'.');
    v
}

#[test]
fn writers_readers_flushes_and_compactions_at_once() {
    let fs = MemFs::new();
    let db = open(&fs);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for w in 0..WRITERS {
        let db = db.clone();
        threads.push(std::thread::spawn(move || {
            for round in 0..ROUNDS {
                for k in 0..KEYS_PER_WRITER {
                    let key = format!("w{w}/{k:04}");
                    if round == ROUNDS - 1 && k % 5 == 0 {
                        db.delete(&key).unwrap();
                    } else {
                        db.put(&key, value(w, k, round)).unwrap();
                    }
                }
            }
        }));
    }
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let db = db.clone();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut checks = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // Every value seen is one some writer wrote for that key.
                    let snapshot = db.snapshot();
                    let mut last: Option<Vec<u8>> = None;
                    for kv in snapshot.prefix(format!("w{}/", r % WRITERS)) {
                        let (k, v) = kv.unwrap();
                        assert!(last.as_ref().is_none_or(|l| *l < k), "keys in order");
                        let text = String::from_utf8_lossy(&v);
                        let key = String::from_utf8_lossy(&k);
                        let (writer, n) = key.split_once('/').unwrap();
                        assert!(text.starts_with(&format!("{writer}-k{}-r", n.parse::<u64>().unwrap())), "{text}");
                        assert_eq!(snapshot.get(&k).unwrap().as_ref(), Some(&v), "snapshot get agrees with scan");
                        last = Some(k);
                        checks += 1;
                    }
                }
                checks
            })
        })
        .collect();
    let flusher = {
        let db = db.clone();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                db.flush().unwrap();
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    for t in threads {
        t.join().unwrap();
    }
    db.compact().unwrap();
    stop.store(true, Ordering::Relaxed);
    let checks: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    flusher.join().unwrap();
    assert!(checks > 0);

    let mut expected = BTreeMap::new();
    for w in 0..WRITERS {
        for k in 0..KEYS_PER_WRITER {
            if k % 5 != 0 {
                expected.insert(format!("w{w}/{k:04}").into_bytes(), value(w, k, ROUNDS - 1));
            }
        }
    }
    let stats = db.stats();
    assert!(stats.flushes > 0 && stats.compactions > 0, "{stats:?}");
    assert!(stats.poisoned.is_none());
    let actual: BTreeMap<_, _> = db.iter().map(|kv| kv.unwrap()).collect();
    assert_eq!(actual, expected);
    drop(db);
    let db = open(&fs);
    let reopened: BTreeMap<_, _> = db.iter().map(|kv| kv.unwrap()).collect();
    assert_eq!(reopened, expected, "after reopen");
}
