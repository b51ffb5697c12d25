//! A power cut at every file-system operation of a backup into a directory
//! store (the first into an empty store, and an incremental one): after the
//! crash the backup is either listed and restores to exactly the source at
//! its seqno, or absent (never absent once acknowledged); earlier backups
//! are untouched; and a gc then leaves no unreferenced file, temporary
//! upload or lease behind. Then the same with one failed operation at a
//! time (not a power cut): the store stays consistent and the next backup
//! succeeds.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod common;

use cairndb::Db;
use cairndb::backup::{BackupEngine, BackupInfo, DirStore, UPLOADS_DIR};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use common::backup::{Model, leases, open_db, restored_state, unreferenced_files};

/// A source database with two rounds of writes, and a store on its own disk
/// behind a fault injector. With `incremental`, a first backup is already
/// in the store when the one under test starts.
struct Setup {
    store_disk: MemFs,
    fault: FaultFs,
    /// The engine under test, on `fault` (its store opened before any fault).
    engine: BackupEngine,
    db: Db,
    model: Model,
    first: Option<BackupInfo>,
}

fn setup(incremental: bool) -> Setup {
    let source: Arc<dyn Fs> = Arc::new(MemFs::new());
    let db = open_db(source, "/db");
    let mut model = Model::default();
    model.fill(&db, 0, 1200, 400);
    let store_disk = MemFs::new();
    let fault = FaultFs::new(Arc::new(store_disk.clone()));
    let engine = engine_on(Arc::new(fault.clone()));
    let first = incremental.then(|| engine.create_backup(&db).unwrap());
    model.fill(&db, 1200, 300, 400);
    Setup { store_disk, fault, engine, db, model, first }
}

fn engine_on(disk: Arc<dyn Fs>) -> BackupEngine {
    BackupEngine::new(Arc::new(DirStore::open(disk, "/backups").unwrap()))
}

fn ops_of(incremental: bool) -> u64 {
    let s = setup(incremental);
    s.fault.reset_counts();
    s.engine.create_backup(&s.db).unwrap();
    s.fault.op_count()
}

/// The store as a crash left it: the backup under test is listed and exact,
/// or absent; the first is intact; gc cleans up everything else. Returns
/// whether the backup under test is there.
fn check_store(crashed: MemFs, s: &Setup, acknowledged: Option<&BackupInfo>, context: &str) -> bool {
    let engine = engine_on(Arc::new(crashed.clone())).grace(Duration::ZERO);
    let listed = engine.list().unwrap();
    assert!(listed.iter().all(|l| l.manifest.is_some()), "{context}: a damaged manifest is listed: {listed:?}");
    let expected_first = s.first.as_ref().map(|f| f.id);
    let tested = listed.iter().map(|l| l.id).find(|&id| Some(id) != expected_first);
    if let Some(first) = &s.first {
        assert!(listed.iter().any(|l| l.id == first.id), "{context}: the first backup vanished");
        assert_eq!(restored_state(&engine, first.id), s.model.state_at(first.seqno), "{context}");
    }
    match tested {
        Some(id) => {
            let manifest = engine.manifest(id).unwrap();
            if let Some(info) = acknowledged {
                assert_eq!((id, manifest.seqno), (info.id, info.seqno), "{context}");
            }
            assert!(engine.verify(id).unwrap().is_ok(), "{context}");
            assert_eq!(restored_state(&engine, id), s.model.state_at(manifest.seqno), "{context}");
        }
        None => assert!(acknowledged.is_none(), "{context}: an acknowledged backup vanished"),
    }
    engine.gc().unwrap();
    assert_eq!(unreferenced_files(&engine), Vec::<String>::new(), "{context}");
    assert!(leases(&**engine.store()).is_empty(), "{context}");
    // The first write makes `.uploads/`: a cut before it leaves none.
    match crashed.read_dir(&Path::new("/backups").join(UPLOADS_DIR)) {
        Ok(uploads) => assert!(uploads.is_empty(), "{context}"),
        Err(e) => assert!(e.is_not_found(), "{context}: {e}"),
    }
    if let Some(id) = tested {
        assert_eq!(restored_state(&engine, id), s.model.state_at(engine.manifest(id).unwrap().seqno), "{context}");
    }
    tested.is_some()
}

/// Returns how many crash states left the backup listed, and absent.
fn power_cut_sweep(incremental: bool) -> (usize, usize) {
    let total = ops_of(incremental);
    let (mut listed, mut absent) = (0, 0);
    for n in 0..=total {
        let s = setup(incremental);
        s.fault.reset_counts();
        s.fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let result = s.engine.create_backup(&s.db);
        assert!(result.is_ok() || n < total, "cut at {n} of {total}: {result:?}");
        for (crashed, how) in [(s.store_disk.crash_copy(), "crash"), (s.store_disk.crash_copy_torn(n), "torn crash")] {
            let context = format!("incremental={incremental}, {how} at op {n} of {total}");
            if check_store(crashed, &s, result.as_ref().ok(), &context) {
                listed += 1;
            } else {
                absent += 1;
            }
        }
    }
    assert!(listed > 0 && absent > 0, "the sweep saw both outcomes: {listed} listed, {absent} absent");
    let cuts = (listed + absent) as u64;
    let source = if incremental { "backup_crash_sweep/incremental" } else { "backup_crash_sweep/first" };
    common::crash_points::record(source, cuts, 0, cuts);
    (listed, absent)
}

#[test]
fn power_cut_at_every_op_of_a_first_backup() {
    let (listed, absent) = power_cut_sweep(false);
    #[expect(clippy::print_stderr, reason = "report the size of the sweep")]
    {
        eprintln!("first backup: {listed} crash states with the backup, {absent} without");
    }
}

#[test]
fn power_cut_at_every_op_of_an_incremental_backup() {
    let (listed, absent) = power_cut_sweep(true);
    #[expect(clippy::print_stderr, reason = "report the size of the sweep")]
    {
        eprintln!("incremental backup: {listed} crash states with the backup, {absent} without");
    }
}

#[test]
fn one_failed_op_at_a_time_leaves_a_consistent_store() {
    let total = ops_of(true);
    let (mut failed, mut succeeded, mut power_cuts) = (0, 0, 0u64);
    for n in 0..total {
        for kind in [FaultKind::IO, FaultKind::NO_SPACE, FaultKind::TornWrite] {
            let s = setup(true);
            s.fault.reset_counts();
            s.fault.add_rule(FaultRule::Nth { n, kind });
            let result = s.engine.create_backup(&s.db);
            s.fault.clear_rules();
            match &result {
                Ok(_) => succeeded += 1,
                Err(e) => {
                    failed += 1;
                    assert!(!e.to_string().is_empty());
                }
            }
            let context = format!("op {n} of {total} failed with {kind:?}: {result:?}");
            let listed = check_store(s.store_disk.clone(), &s, result.as_ref().ok(), &context);
            assert_eq!(listed, result.is_ok(), "{context}: listed exactly when it succeeded");
            // The next backup works.
            let next = engine_on(Arc::new(s.store_disk.clone())).create_backup(&s.db).unwrap();
            assert_eq!(
                restored_state(&engine_on(Arc::new(s.store_disk.clone())), next.id),
                s.model.state_at(next.seqno)
            );
            // And a power cut after it keeps every backup it lists whole:
            // the failed op left nothing the next backup trusted in vain.
            every_listed_backup_is_whole(s.store_disk.crash_copy(), &s, &format!("{context}, then a power cut"));
            power_cuts += 1;
        }
    }
    assert!(failed > 0 && succeeded > 0, "{failed} failed, {succeeded} succeeded");
    #[expect(clippy::print_stderr, reason = "report the size of the sweep")]
    {
        eprintln!("single faults over {total} ops: {failed} failed cleanly, {succeeded} succeeded");
    }
    common::crash_points::record("backup_crash_sweep/single_faults", power_cuts, failed + succeeded, power_cuts);
}

fn every_listed_backup_is_whole(crashed: MemFs, s: &Setup, context: &str) {
    let engine = engine_on(Arc::new(crashed));
    for listing in engine.list().unwrap() {
        let id = listing.id;
        let manifest = listing.manifest.unwrap_or_else(|| panic!("{context}: backup {id} unreadable"));
        let report = engine.verify(id).unwrap();
        assert!(report.is_ok(), "{context}: backup {id} is listed but damaged: {:?}", report.problems);
        assert_eq!(restored_state(&engine, id), s.model.state_at(manifest.seqno), "{context}: backup {id}");
    }
}
