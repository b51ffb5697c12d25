//! `checkpoint::delete`: removes a checkpoint and nothing else; refuses a
//! database, a checkpoint open or opened for writing, and one holding a
//! foreign file; a power cut at every file-system operation leaves the
//! checkpoint whole or gone (a staging leftover the next checkpoint into
//! the folder removes), and the source untouched.

#[path = "common/crash_points.rs"]
mod crash_points;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cairndb::checkpoint::{self, STAGING_PREFIX};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs, OpenOptions};
use cairndb::{Config, Db, Error};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn open(fs: Arc<dyn Fs>, path: &str) -> cairndb::Result<Db> {
    Config::new(path).fs(fs).blob_threshold_bytes(400).background_threads(false).open()
}

fn contents(db: &Db) -> State {
    db.iter().map(|kv| kv.unwrap()).collect()
}

/// `/db` with small and blob-sized values, and its checkpoint `/cps/cp`.
fn source_and_checkpoint(fs: Arc<dyn Fs>) -> (Db, State) {
    let db = open(fs, "/db").unwrap();
    for i in 0..300u32 {
        let value = if i % 30 == 0 { vec![i as u8; 700] } else { format!("value-{i}").into_bytes() };
        db.put(format!("k{i:03}"), value).unwrap();
    }
    db.checkpoint("/cps/cp").unwrap();
    let state = contents(&db);
    (db, state)
}

#[test]
fn deletes_the_checkpoint_and_leaves_the_source_whole() {
    let mem = MemFs::new();
    let fs: Arc<dyn Fs> = Arc::new(mem.clone());
    let (db, state) = source_and_checkpoint(Arc::clone(&fs));
    let deleted = checkpoint::delete(&mem, Path::new("/cps/cp")).unwrap();
    assert_eq!(deleted.path, Path::new("/cps/cp"));
    assert_eq!(deleted.description.seqno.get(), 300);
    assert!(deleted.files >= 4 && deleted.bytes > 0, "{deleted:?}");
    assert!(mem.read_dir(Path::new("/cps")).unwrap().is_empty(), "nothing is left, not even a staging directory");
    assert_eq!(contents(&db), state);
    drop(db);
    let reopened = open(fs, "/db").unwrap();
    assert_eq!(contents(&reopened), state);
}

#[test]
fn refuses_what_is_not_a_checkpoint_to_delete() {
    let mem = MemFs::new();
    let fs: Arc<dyn Fs> = Arc::new(mem.clone());
    let (db, _) = source_and_checkpoint(Arc::clone(&fs));
    let refused = |path: &str| checkpoint::delete(&mem, Path::new(path)).unwrap_err();

    assert!(matches!(refused("/db"), Error::InvalidArgument { what } if what.contains("is not a checkpoint")));
    assert!(refused("/nowhere").is_not_found());

    // Open (and locked) in a process.
    let cp = Config::new("/cps/cp").fs(Arc::clone(&fs)).background_threads(false).open().unwrap();
    assert!(matches!(refused("/cps/cp"), Error::Locked { .. }));
    drop(cp);
    // Opened for writing since: a database of its own now.
    assert!(matches!(refused("/cps/cp"), Error::InvalidArgument { what } if what.contains("opened for writing since")),);

    db.checkpoint("/cps/cp2").unwrap();
    mem.open(Path::new("/cps/cp2/notes.txt"), OpenOptions::create_new()).unwrap();
    assert!(matches!(refused("/cps/cp2"), Error::InvalidArgument { what } if what.contains("notes.txt")));
    for path in ["/db/CURRENT", "/cps/cp/CHECKPOINT", "/cps/cp2/CHECKPOINT", "/cps/cp2/notes.txt"] {
        assert!(mem.exists(Path::new(path)).unwrap(), "{path} is still there");
    }
}

#[test]
fn power_cut_at_every_op_of_a_delete() {
    let count_ops = || {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        let (db, _) = source_and_checkpoint(Arc::new(fault.clone()));
        fault.reset_counts();
        checkpoint::delete(&fault, Path::new("/cps/cp")).unwrap();
        std::mem::forget(db);
        fault.op_count()
    };
    let total = count_ops();
    let mut explored = 0;
    for n in 0..=total {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        let (db, state) = source_and_checkpoint(Arc::new(fault.clone()));
        db.persist().unwrap();
        fault.reset_counts();
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let result = checkpoint::delete(&fault, Path::new("/cps/cp"));
        assert!(result.is_ok() || n < total, "cut at {n} of {total}: {result:?}");
        std::mem::forget(db);
        for crashed in [mem.crash_copy(), mem.crash_copy_torn(n)] {
            check_after_crash(&crashed, &state, n, result.is_ok());
            explored += 1;
        }
    }
    crash_points::record("checkpoint_delete/power_cut", explored as u64, 0, explored as u64);
}

fn check_after_crash(crashed: &MemFs, state: &State, n: u64, acknowledged: bool) {
    let fs: Arc<dyn Fs> = Arc::new(crashed.clone());
    let cp = Path::new("/cps/cp");
    if crashed.exists(cp).unwrap() {
        assert!(!acknowledged, "cut at {n}: a deleted checkpoint came back");
        assert!(checkpoint::describe(crashed, cp).unwrap().is_some(), "cut at {n}");
        assert!(checkpoint::verify(&fs, cp).unwrap().is_ok(), "cut at {n}: a checkpoint left is whole");
    }
    let source = open(Arc::clone(&fs), "/db").unwrap();
    assert_eq!(&contents(&source), state, "cut at {n}: the source is untouched");
    for entry in crashed.read_dir(Path::new("/cps")).unwrap() {
        let name = entry.name.to_string_lossy();
        assert!(name == "cp" || name.starts_with(STAGING_PREFIX), "cut at {n}: stray {name}");
    }
    source.checkpoint("/cps/next").unwrap();
    let left = crashed.read_dir(Path::new("/cps")).unwrap();
    assert!(left.iter().all(|e| !e.name.to_string_lossy().starts_with(STAGING_PREFIX)), "cut at {n}: {left:?}");
}
