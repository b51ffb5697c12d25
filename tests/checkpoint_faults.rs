//! Failing one operation of a checkpoint, for every operation in turn and
//! several kinds of failure: the call returns an error (or succeeds by
//! falling back to a copy), no target or staging directory remains, and the
//! source is unharmed — usable at once, or after a reopen when a failed
//! fsync poisoned it.

#[path = "common/crash_points.rs"]
mod crash_points;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs, OpKind};
use cairndb::{CheckpointOptions, Config, Db};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn open(fs: Arc<dyn Fs>, path: &str) -> Db {
    Config::new(path)
        .fs(fs)
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(400)
        .table_target_bytes(16 << 10)
        .background_threads(false)
        .open()
        .unwrap()
}

fn contents(db: &Db) -> State {
    db.iter().map(|kv| kv.unwrap()).collect()
}

fn setup() -> (MemFs, FaultFs, Db, State) {
    let mem = MemFs::new();
    let fault = FaultFs::new(Arc::new(mem.clone()));
    let db = open(Arc::new(fault.clone()), "/db");
    for i in 0..800u32 {
        let value = if i % 30 == 0 { vec![7u8; 500] } else { format!("v{i}").into_bytes() };
        db.put(format!("k{:03}", i % 300), value).unwrap();
    }
    db.persist().unwrap();
    let state = contents(&db);
    (mem, fault, db, state)
}

fn ops_of(options: CheckpointOptions) -> u64 {
    let (_, fault, db, _) = setup();
    fault.reset_counts();
    db.checkpoint_with("/cps/cp", options).unwrap();
    fault.op_count()
}

/// No target and no staging directory: `/cps` holds nothing (or is gone).
fn nothing_left(mem: &MemFs) -> bool {
    !mem.exists(Path::new("/cps")).unwrap() || mem.read_dir(Path::new("/cps")).unwrap().is_empty()
}

fn sweep(kind: FaultKind, options: CheckpointOptions) -> (usize, usize) {
    let total = ops_of(options);
    let (mut failed, mut succeeded) = (0, 0);
    for n in 0..total {
        let (mem, fault, db, state) = setup();
        fault.reset_counts();
        fault.add_rule(FaultRule::Nth { n, kind });
        match db.checkpoint_with("/cps/cp", options) {
            Ok(info) => {
                succeeded += 1;
                let cp = open(Arc::new(mem.clone()), "/cps/cp");
                assert_eq!(contents(&cp), state, "op {n} ({kind:?}): succeeded but wrong");
                assert_eq!(info.path, Path::new("/cps/cp"));
            }
            Err(e) => {
                failed += 1;
                assert!(!e.to_string().is_empty());
                assert!(nothing_left(&mem), "op {n} ({kind:?}): a partial checkpoint remains after {e}");
            }
        }
        fault.clear_rules();
        // The source: usable now, or after a reopen if poisoned.
        let db = if db.stats().poisoned.is_some() {
            drop(db);
            open(Arc::new(mem.clone()), "/db")
        } else {
            db
        };
        assert_eq!(contents(&db), state, "op {n} ({kind:?}): the source changed");
        db.put("after", "works").unwrap();
        db.persist().unwrap();
    }
    (failed, succeeded)
}

#[test]
fn every_single_failure_is_clean() {
    let mut report = Vec::new();
    for flush in [true, false] {
        let options = CheckpointOptions::default().flush(flush);
        for kind in [FaultKind::IO, FaultKind::NO_SPACE, FaultKind::TornWrite] {
            let (failed, succeeded) = sweep(kind, options);
            assert!(failed > 0);
            crash_points::record("checkpoint_faults", 0, (failed + succeeded) as u64, (failed + succeeded) as u64);
            report.push(format!("flush={flush} {kind:?}: {failed} failed cleanly, {succeeded} succeeded"));
        }
    }
    #[expect(clippy::print_stderr, reason = "report the sweep")]
    {
        eprintln!("{}", report.join("\n"));
    }
}

#[test]
fn failing_fsyncs_and_renames_leave_nothing() {
    for (op, kind) in [
        (OpKind::SyncFile, FaultKind::IO),
        (OpKind::SyncDirectory, FaultKind::IO),
        (OpKind::Rename, FaultKind::IO),
        (OpKind::CreateDir, FaultKind::NO_SPACE),
    ] {
        let (mem, fault, db, state) = setup();
        fault.reset_counts();
        fault.add_rule(FaultRule::Kind { op, kind });
        let err = db.checkpoint("/cps/cp").unwrap_err();
        assert!(nothing_left(&mem), "{op:?}: {err}");
        fault.clear_rules();
        let db = if db.stats().poisoned.is_some() {
            drop(db);
            open(Arc::new(mem.clone()), "/db")
        } else {
            db
        };
        assert_eq!(contents(&db), state);
        db.checkpoint("/cps/cp").unwrap();
    }
}

#[test]
fn refused_hard_links_fall_back_to_copies() {
    let (mem, fault, db, state) = setup();
    fault.add_rule(FaultRule::Kind { op: OpKind::HardLink, kind: FaultKind::NOT_PERMITTED });
    let info = db.checkpoint("/cps/cp").unwrap();
    assert_eq!(info.hard_linked, 0);
    assert_eq!(info.copied, info.table_files + info.blob_files);
    assert_eq!(info.bytes_copied, info.bytes_total);
    assert_eq!(contents(&open(Arc::new(mem.clone()), "/cps/cp")), state);
}
