//! Writers and background flushes and compactions keep running while 24
//! checkpoints are taken; each checkpoint, opened, equals the model cut at
//! its seqno: every write with seqno <= it, none after.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cairndb::fs::MemFs;
use cairndb::{CheckpointOptions, Config, Db, SeqNo, WriteBatch};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Clone, Debug)]
enum Write {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

fn config(fs: &MemFs, path: &str) -> Config {
    Config::new(path)
        .fs(Arc::new(fs.clone()))
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(300)
        .table_target_bytes(16 << 10)
        .level0_trigger(2)
        .level1_target_bytes(128 << 10)
}

fn writer(db: Db, id: u32, stop: Arc<AtomicBool>) -> Vec<(SeqNo, Vec<Write>)> {
    let mut log = Vec::new();
    let mut i = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("w{id}/{:04}", (i * 7) % 500).into_bytes();
        if i % 10 == 9 {
            // A batch: two keys at once, one of them deleted.
            let other = format!("w{id}/{:04}", (i * 11) % 500).into_bytes();
            let value = format!("batch-{i}").into_bytes();
            let seqno = db.write(WriteBatch::new().put(&key, &value).delete(&other)).unwrap();
            log.push((seqno, vec![Write::Put(key, value), Write::Delete(other)]));
        } else {
            let len = if i.is_multiple_of(17) { 400 } else { 24 };
            let mut value = format!("w{id}-{i}-").into_bytes();
            value.resize(len, b'.');
            let seqno = db.put(&key, &value).unwrap();
            log.push((seqno, vec![Write::Put(key, value)]));
        }
        i += 1;
    }
    log
}

/// The state after every write with seqno <= `at`. A batch's seqno is its
/// last write's, so whole batches fall on one side of any cut.
fn state_at(writes: &BTreeMap<SeqNo, Vec<Write>>, at: SeqNo) -> State {
    let mut state = State::new();
    for (_, batch) in writes.range(..=at) {
        for w in batch {
            match w {
                Write::Put(k, v) => state.insert(k.clone(), v.clone()),
                Write::Delete(k) => state.remove(k),
            };
        }
    }
    state
}

#[test]
fn checkpoints_under_load_are_exact() {
    let fs = MemFs::new();
    let db = config(&fs, "/db").open().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|id| {
            let (db, stop) = (db.clone(), Arc::clone(&stop));
            std::thread::spawn(move || writer(db, id, stop))
        })
        .collect();
    let mut taken = Vec::new();
    for n in 0..24 {
        std::thread::sleep(std::time::Duration::from_millis(15));
        let options = CheckpointOptions::default().flush(n % 2 == 0);
        taken.push(db.checkpoint_with(format!("/cps/{n:02}"), options).unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let mut writes = BTreeMap::new();
    for w in writers {
        for (seqno, batch) in w.join().unwrap() {
            assert!(writes.insert(seqno, batch).is_none(), "seqnos are unique");
        }
    }
    let stats = db.stats();
    assert!(stats.flushes > 5 && stats.compactions > 0, "work ran alongside: {stats:?}");
    assert!(taken.windows(2).all(|w| w[0].seqno <= w[1].seqno));
    assert!(taken.first().unwrap().seqno < taken.last().unwrap().seqno, "writes went on between checkpoints");
    for info in &taken {
        let cp = config(&fs, info.path.to_str().unwrap()).read_only(true).open().unwrap();
        let actual: State = cp.iter().map(|kv| kv.unwrap()).collect();
        let expected = state_at(&writes, info.seqno);
        assert!(!expected.is_empty() || info.seqno.0 == 0);
        assert!(actual == expected, "checkpoint {} at seqno {} is not the model cut", info.path.display(), info.seqno);
    }
}
