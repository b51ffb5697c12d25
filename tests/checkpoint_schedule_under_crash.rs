//! A scheduled checkpoint tick (prune to make room, then a new time-named
//! checkpoint) under a power cut at every file-system operation, and under
//! an error (EIO, ENOSPC) at every operation:
//!
//! - after a cut, every directory `checkpoint::list` shows verifies and
//!   opens with the source's state at its seqno, `latest_valid` returns the
//!   newest listed, the source reopens with everything persisted, and the
//!   next prune leaves no leftover;
//! - after an error, the tick is reported (`stats().failures`), nothing
//!   half-made is listed, the database keeps serving writes unless the
//!   error hit its own files (then it is poisoned, as every failed write of
//!   the database is, and reopens), and the next tick succeeds.

#[path = "common/crash_points.rs"]
mod crash_points;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cairndb::checkpoint::{self, CheckpointSchedule, STAGING_PREFIX};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::{Config, Db, SeqNo};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn open(fs: Arc<dyn Fs>, path: &str) -> cairndb::Result<Db> {
    Config::new(path).fs(fs).memtable_size_bytes(64 << 10).table_target_bytes(16 << 10).background_threads(false).open()
}

fn contents(db: &Db) -> State {
    db.iter().map(|kv| kv.unwrap()).collect()
}

/// Writes `n` puts from `from`, recording the state after each seqno.
fn fill(db: &Db, from: u32, n: u32, states: &mut BTreeMap<SeqNo, State>, state: &mut State) {
    for i in from..from + n {
        let key = format!("k{:03}", (i * 7) % 90).into_bytes();
        let value = format!("value-{i}").into_bytes();
        let seqno = db.put(&key, &value).unwrap();
        state.insert(key, value);
        states.insert(seqno, state.clone());
    }
}

/// A database with three scheduled checkpoints in `/cps` (keep 3) and
/// writes since; the tick under test then removes the oldest and takes a
/// fourth.
fn setup(fault: &FaultFs) -> (Db, checkpoint::CheckpointScheduler, BTreeMap<SeqNo, State>) {
    let db = open(Arc::new(fault.clone()), "/db").unwrap();
    let (mut states, mut state) = (BTreeMap::new(), State::new());
    let schedule =
        db.schedule_checkpoints("/cps", CheckpointSchedule::every(Duration::from_secs(3600)).keep(3)).unwrap();
    for round in 0..4 {
        fill(&db, round * 60, 60, &mut states, &mut state);
        if round < 3 {
            let stats = schedule.run_now();
            assert_eq!(stats.failures, 0, "{stats:?}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    db.persist().unwrap();
    (db, schedule, states)
}

fn listed_all_verify(fs: &Arc<dyn Fs>, states: &BTreeMap<SeqNo, State>, at: &str) -> usize {
    let listed = checkpoint::list(&**fs, Path::new("/cps")).unwrap();
    for listing in &listed {
        let report = checkpoint::verify(fs, &listing.path).unwrap();
        assert!(report.is_ok(), "{at}: {} listed but damaged: {report:?}", listing.path.display());
        let copy = Config::new(&listing.path).fs(Arc::clone(fs)).read_only(true).open().unwrap();
        assert_eq!(&contents(&copy), &states[&listing.description.seqno], "{at}: {}", listing.path.display());
    }
    listed.len()
}

#[test]
fn power_cut_at_every_op_of_a_scheduled_tick() {
    let count = {
        let fault = FaultFs::new(Arc::new(MemFs::new()));
        let (_db, schedule, _) = setup(&fault);
        fault.reset_counts();
        assert_eq!(schedule.run_now().made, 4);
        fault.op_count()
    };
    let mut explored = 0u64;
    for n in 0..=count {
        let mem = MemFs::new();
        let fault = FaultFs::new(Arc::new(mem.clone()));
        let (db, schedule, states) = setup(&fault);
        fault.reset_counts();
        fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        schedule.run_now();
        drop(schedule);
        std::mem::forget(db);
        for crashed in [mem.crash_copy(), mem.crash_copy_torn(n)] {
            let at = format!("cut at {n} of {count}");
            let fs: Arc<dyn Fs> = Arc::new(crashed.clone());
            let listed = listed_all_verify(&fs, &states, &at);
            assert!((2..=4).contains(&listed), "{at}: {listed} checkpoints");
            let newest = checkpoint::list(&*fs, Path::new("/cps")).unwrap()[0].path.clone();
            assert_eq!(checkpoint::latest_valid(&fs, Path::new("/cps")).unwrap().found.unwrap().path, newest, "{at}");
            let source = open(Arc::clone(&fs), "/db").unwrap();
            assert_eq!(contents(&source), *states.values().next_back().unwrap(), "{at}: persisted writes kept");
            checkpoint::prune(&*fs, Path::new("/cps"), 3, None).unwrap();
            let left = fs.read_dir(Path::new("/cps")).unwrap();
            assert!(left.iter().all(|e| !e.name.to_string_lossy().starts_with(STAGING_PREFIX)), "{at}: {left:?}");
            assert!(listed_all_verify(&fs, &states, &at) <= 3);
            explored += 1;
        }
    }
    crash_points::record("checkpoint_schedule_under_crash/power", explored, 0, explored);
}

#[test]
fn an_error_at_every_op_of_a_scheduled_tick_is_reported_and_retried() {
    let count = {
        let fault = FaultFs::new(Arc::new(MemFs::new()));
        let (_db, schedule, _) = setup(&fault);
        fault.reset_counts();
        schedule.run_now();
        fault.op_count()
    };
    let mut faults = 0u64;
    for errno in [FaultKind::IO, FaultKind::NO_SPACE] {
        for n in 0..count {
            let fault = FaultFs::new(Arc::new(MemFs::new()));
            let (db, schedule, mut states) = setup(&fault);
            fault.reset_counts();
            fault.add_rule(FaultRule::Nth { n, kind: errno });
            let stats = schedule.run_now();
            fault.clear_rules();
            faults += 1;
            let at = format!("{errno:?} at {n} of {count}");
            let fs: Arc<dyn Fs> = Arc::new(fault.clone());
            listed_all_verify(&fs, &states, &at);
            let db = match db.put("after", "the fault") {
                Ok(seqno) => {
                    let mut state = states.values().next_back().unwrap().clone();
                    state.insert(b"after".to_vec(), b"the fault".to_vec());
                    states.insert(seqno, state);
                    db
                }
                Err(cairndb::Error::Poisoned { cause }) => {
                    // The error hit the database's own files (its flush or
                    // log): it refuses writes until reopened, as always.
                    assert!(cause.contains("/db"), "{at}: poisoned by a fault outside the database: {cause}");
                    drop(schedule);
                    drop(db);
                    let reopened = open(Arc::clone(&fs), "/db").unwrap();
                    let again = reopened
                        .schedule_checkpoints("/cps", CheckpointSchedule::every(Duration::from_secs(3600)).keep(3))
                        .unwrap();
                    let stats = again.run_now();
                    assert_eq!(stats.failures, 0, "{at}: the tick after a reopen: {stats:?}");
                    listed_all_verify(&fs, &states, &at);
                    continue;
                }
                Err(e) => panic!("{at}: writes fail after a failed tick: {e}"),
            };
            if stats.made == 3 {
                assert_eq!(stats.failures, 1, "{at}: a failed tick is reported: {stats:?}");
                assert!(stats.last_error.is_some());
            }
            let next = schedule.run_now();
            assert_eq!(next.failures, stats.failures, "{at}: the next tick succeeds: {next:?}");
            assert!(next.made == 4 || next.made == 5, "{at}: {next:?}");
            assert!(listed_all_verify(&fs, &states, &at) <= 3);
            drop(schedule);
            drop(db);
        }
    }
    crash_points::record("checkpoint_schedule_under_crash/faults", 0, faults, faults);
}
