//! Log addresses only grow, so a database that has written a lot of log
//! has a log far out in the address space. No amount of writing may end
//! it: a database whose log starts just below 2^48 (where the point index
//! once stopped) keeps taking writes across flushes, compactions and
//! reopens; only the documented end of the address space, 2^63, refuses
//! a write, and says so.
//!
//! Such a database is made honestly, as the disk of one that has written
//! that much log and flushed it: a real database whose version file (its
//! documented format, `docs/FORMAT.md`, "Version files" and `CURRENT`)
//! records a log start that far out.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{MemFs, read_to_vec, write_file_atomic};
use cairndb::{Config, Db, Error, LogAddress};
use xxhash_rust::xxh3::xxh3_64;

/// Where the point index's 48-bit addresses ended.
const OLD_ADDRESS_END: u64 = 1 << 48;
/// The end of the log's address space (`docs/FORMAT.md`).
const ADDRESS_END: u64 = 1 << 63;

fn config(fs: &MemFs) -> Config {
    // 1 MiB memtables (64 KiB pages): a freeze every few thousand writes.
    Config::new("/db").fs(Arc::new(fs.clone())).background_threads(false).memtable_size_bytes(1 << 20)
}

/// Moves the log start of a closed database's current version to
/// `address`: what the database's version file says after it has written
/// and flushed that much log. Offsets from `docs/FORMAT.md`.
fn set_log_start(fs: &MemFs, root: &Path, address: u64) {
    let current_path = root.join("CURRENT");
    let current = read_to_vec(fs, &current_path).unwrap();
    assert_eq!(&current[..8], b"CAIRNCUR");
    let id = u64::from_le_bytes(current[8..16].try_into().unwrap());
    let version_path = root.join(format!("v{id}"));
    let mut version = read_to_vec(fs, &version_path).unwrap();
    assert_eq!(&version[..8], b"CAIRNVER");
    // The body (at 20) starts: version id, last seqno, log start.
    let log_start_at = 20 + 8 + 8;
    let old = u64::from_le_bytes(version[log_start_at..log_start_at + 8].try_into().unwrap());
    assert!(old <= address, "the log start only grows ({old} -> {address})");
    version[log_start_at..log_start_at + 8].copy_from_slice(&address.to_le_bytes());
    let sum_at = version.len() - 8;
    let sum = xxh3_64(&version[..sum_at]);
    version[sum_at..].copy_from_slice(&sum.to_le_bytes());
    write_file_atomic(fs, &version_path, &version).unwrap();
    let mut current = current;
    current[16..24].copy_from_slice(&xxh3_64(&version).to_le_bytes());
    let sum = xxh3_64(&current[..24]);
    current[24..32].copy_from_slice(&sum.to_le_bytes());
    write_file_atomic(fs, &current_path, &current).unwrap();
}

/// A database whose log has reached `address`, holding `model` in tables.
fn database_at(fs: &MemFs, address: u64, model: &mut BTreeMap<Vec<u8>, Vec<u8>>) {
    let db = config(fs).open().unwrap();
    for i in 0..100u32 {
        let (key, value) = (format!("before-{i:03}").into_bytes(), vec![i as u8; 100]);
        db.put(&key, &value).unwrap();
        model.insert(key, value);
    }
    db.flush().unwrap();
    drop(db);
    set_log_start(fs, Path::new("/db"), address);
}

fn write_round(db: &Db, round: u32, model: &mut BTreeMap<Vec<u8>, Vec<u8>>) {
    for i in 0..2000u32 {
        // Some keys again each round: overwrites, in place and not.
        let key = format!("key-{:05}", (round * 1500 + i) % 9000).into_bytes();
        let value = format!("round {round} write {i} {}", "x".repeat((i % 200) as usize)).into_bytes();
        db.put(&key, &value).unwrap_or_else(|e| panic!("round {round}, write {i}: {e}"));
        model.insert(key, value);
    }
}

fn holds(db: &Db, model: &BTreeMap<Vec<u8>, Vec<u8>>, when: &str) {
    let all: Vec<(Vec<u8>, Vec<u8>)> = db.iter().collect::<Result<_, _>>().unwrap();
    let expected: Vec<(Vec<u8>, Vec<u8>)> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert!(all == expected, "{when}: {} keys read, {} expected", all.len(), expected.len());
    for (key, value) in model.iter().step_by(37) {
        assert_eq!(db.get(key).unwrap().as_ref(), Some(value), "{when}: {}", String::from_utf8_lossy(key));
    }
}

/// The highest log address the database's log segments start at.
fn log_reached(db: &Db) -> u64 {
    let info = db.info().unwrap();
    let segments = info.log_segments.iter().filter_map(|s| s.start.map(|a| a.0));
    segments.max().unwrap_or(0).max(info.log_start.0)
}

#[test]
fn a_log_past_the_old_48_bit_end_keeps_taking_writes_across_flush_compaction_and_reopen() {
    let mut fs = MemFs::new();
    let mut model = BTreeMap::new();
    // 2 MiB below the old end: a few rounds of writes pass it.
    database_at(&fs, OLD_ADDRESS_END - (2 << 20), &mut model);
    let mut db = config(&fs).open().unwrap();
    holds(&db, &model, "after the open at the old end");
    for round in 0..12u32 {
        write_round(&db, round, &mut model);
        match round % 4 {
            0 => db.flush().unwrap(),
            1 => db.compact().unwrap(),
            2 => {
                db.persist().unwrap();
                drop(db);
                db = config(&fs).open().unwrap();
            }
            _ => {
                // A power cut after a persist: recovery replays the log there.
                db.persist().unwrap();
                fs = fs.crash_copy();
                std::mem::forget(db);
                db = config(&fs).open().unwrap();
                holds(&db, &model, &format!("round {round}, after a power cut"));
                write_round(&db, round + 100, &mut model);
            }
        }
        holds(&db, &model, &format!("round {round}"));
    }
    let reached = log_reached(&db);
    assert!(reached > OLD_ADDRESS_END + (1 << 20), "the log reached only {reached}");
    db.compact().unwrap();
    drop(db);
    let db = config(&fs).open().unwrap();
    holds(&db, &model, "after the last reopen");
    assert!(db.info().unwrap().log_start.0 > OLD_ADDRESS_END);
}

#[test]
fn the_end_of_the_address_space_refuses_writes_and_says_so() {
    let fs = MemFs::new();
    let mut model = BTreeMap::new();
    // Room for a few hundred KiB of log before the end.
    database_at(&fs, ADDRESS_END - (1 << 20), &mut model);
    let db = config(&fs).open().unwrap();
    holds(&db, &model, "after the open near the end");
    let mut written = 0u32;
    let error = loop {
        let key = format!("near-the-end-{written:06}").into_bytes();
        match db.put(&key, [7u8; 200]) {
            Ok(_) => {
                model.insert(key, vec![7; 200]);
                written += 1;
            }
            Err(e) => break e,
        }
        assert!(written < 10_000, "1 MiB of address space took {written} writes of 200 bytes");
    };
    assert!(written > 1000, "only {written} writes before the end: {error}");
    let message = error.to_string();
    assert!(matches!(error, Error::InvalidArgument { .. }), "{error:?}");
    assert!(message.contains("address space") && message.contains(&ADDRESS_END.to_string()), "{message}");
    // What was written stays, the database stays readable and durable.
    db.persist().unwrap();
    holds(&db, &model, "after the refusal");
    drop(db);
    let db = config(&fs).open().unwrap();
    holds(&db, &model, "reopened after the refusal");
    assert!(db.info().unwrap().log_start <= LogAddress(ADDRESS_END));
}

#[test]
fn a_log_start_past_the_end_of_the_address_space_is_corruption_not_a_panic() {
    let fs = MemFs::new();
    let mut model = BTreeMap::new();
    database_at(&fs, u64::MAX - 4096, &mut model);
    match config(&fs).open() {
        Err(Error::Corruption { what, .. }) => assert!(what.contains("address space"), "{what}"),
        other => panic!("expected corruption, got {:?}", other.map(|_| "a database")),
    }
}
