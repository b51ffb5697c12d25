//! `Db::wait_for_compactions`: returns once no flush or compaction is due
//! or running, with background threads and without, and the data reads
//! back as a model says.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cairndb::fs::MemFs;
use cairndb::{Config, Db};

fn config(fs: &Arc<MemFs>, background: bool) -> Config {
    Config::new("/db")
        .fs(Arc::clone(fs) as Arc<dyn cairndb::fs::Fs>)
        .memtable_size_bytes(64 << 10)
        .table_target_bytes(32 << 10)
        .level1_target_bytes(128 << 10)
        .level0_trigger(2)
        .background_threads(background)
}

/// Overwrites and deletes over 2,000 keys: many flushes, due compactions.
fn load(db: &Db, model: &mut BTreeMap<Vec<u8>, Vec<u8>>) {
    for i in 0..30_000u64 {
        let key = format!("key{:05}", (i * 7919) % 2000).into_bytes();
        if i % 11 == 0 {
            db.delete(&key).unwrap();
            model.remove(&key);
        } else {
            let value = format!("value {i} {}", "x".repeat((i % 90) as usize)).into_bytes();
            db.put(&key, &value).unwrap();
            model.insert(key, value);
        }
    }
}

/// Level 0 holds too little to be due: fewer tables than the trigger (2),
/// or fewer bytes than trigger x table target / 2 and fewer than three
/// times the trigger in tables (the policy's rule).
fn level0_settled(stats: &cairndb::DbStats) -> bool {
    let l0 = &stats.levels[0];
    l0.tables < 2 || (l0.bytes < 32 << 10 && l0.tables < 6)
}

fn check(db: &Db, model: &BTreeMap<Vec<u8>, Vec<u8>>) {
    let scanned: Vec<(Vec<u8>, Vec<u8>)> = db.iter().map(|e| e.unwrap()).collect();
    let expected: Vec<(Vec<u8>, Vec<u8>)> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(scanned, expected);
}

#[test]
fn background_compaction_is_idle_after_the_wait() {
    let fs = Arc::new(MemFs::new());
    let db = config(&fs, true).open().unwrap();
    let mut model = BTreeMap::new();
    load(&db, &mut model);
    db.wait_for_compactions().unwrap();
    let settled = db.stats();
    assert!(level0_settled(&settled), "level 0 is not due: {:?}", settled.levels);
    assert!(settled.compactions > 0, "the load made compactions due");
    // Idle: the background threads find nothing more to do.
    std::thread::sleep(Duration::from_millis(600));
    let later = db.stats();
    assert_eq!((later.compactions, later.flushes), (settled.compactions, settled.flushes), "nothing was left due");
    assert_eq!(later.levels, settled.levels);
    check(&db, &model);
    // Nothing due: returns at once, and again after a reopen.
    db.wait_for_compactions().unwrap();
    drop(db);
    let db = config(&fs, true).open().unwrap();
    db.wait_for_compactions().unwrap();
    check(&db, &model);
}

#[test]
fn without_background_threads_the_caller_runs_what_is_due() {
    let fs = Arc::new(MemFs::new());
    // Under a high trigger, eight flushed tables stay in level 0; reopened
    // under the trigger of 2 they are due, and nothing runs them (without
    // background threads work runs inline only when a memtable freezes).
    let db = config(&fs, false).level0_trigger(20).open().unwrap();
    let mut model = BTreeMap::new();
    for i in 0..8 {
        let key = format!("key{:05}", i * 300).into_bytes();
        db.put(&key, b"flushed").unwrap();
        model.insert(key, b"flushed".to_vec());
        db.flush().unwrap();
    }
    drop(db);
    let db = config(&fs, false).open().unwrap();
    assert!(!level0_settled(&db.stats()), "{:?}", db.stats().levels);
    db.wait_for_compactions().unwrap();
    let stats = db.stats();
    assert!(level0_settled(&stats), "{:?}", stats.levels);
    assert!(stats.compactions > 0);
    check(&db, &model);
}

#[test]
fn a_writer_running_beside_the_wait_loses_nothing() {
    let fs = Arc::new(MemFs::new());
    let db = config(&fs, true).open().unwrap();
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || {
            let mut model = BTreeMap::new();
            load(&db, &mut model);
            model
        })
    };
    for _ in 0..5 {
        db.wait_for_compactions().unwrap();
    }
    let model = writer.join().unwrap();
    db.wait_for_compactions().unwrap();
    check(&db, &model);
}

#[test]
fn a_read_only_database_returns_at_once() {
    let fs = Arc::new(MemFs::new());
    let db = config(&fs, true).open().unwrap();
    let mut model = BTreeMap::new();
    load(&db, &mut model);
    drop(db);
    let view = config(&fs, true).read_only(true).open().unwrap();
    view.wait_for_compactions().unwrap();
    check(&view, &model);
}
