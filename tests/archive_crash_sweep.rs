//! A power cut at every file-system operation of continuous archiving
//! across a flush, the removal of shipped log segments and a base backup.
//! The database and the directory store share one `MemFs` behind one
//! `FaultFs`: from the cut on every operation fails, and `crash_copy` (and
//! `crash_copy_torn`) is what the disk keeps.
//!
//! After each cut:
//! - the database reopens with every persisted write, and holds exactly the
//!   writes up to the seqno it recovered to;
//! - every range `restorable()` lists restores exactly (first, last and a
//!   middle commit equal the model at the commit `RestoreInfo` reports),
//!   never reaches past what the database kept, and covers every commit a
//!   `sync()` acknowledged and every base backup acknowledged;
//! - a new archive attached to the reopened database continues the chain
//!   without a gap: `sync()` works and the new commits restore exactly;
//! - `gc` then leaves every range restorable, and exactly.
//!
//! The archive ships only when asked (`common::archive::on_demand`) and the
//! database runs no background threads, so a run's operations come in the
//! same order every time and op `n` is the same op in every run.

use std::sync::Arc;
use std::time::Duration;

mod common;

use cairndb::backup::{BackupEngine, DirStore, LogArchive, RestorePoint};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::{Db, Result, SeqNo};
use common::archive::{History, check_ranges, check_restore, on_demand, restore_point};
use common::backup::{contents, open_db};

/// The database and store before the swept part: a base backup and one
/// archived chunk after it.
struct Setup {
    disk: MemFs,
    fault: FaultFs,
    db: Db,
    engine: BackupEngine,
    archive: LogArchive,
    history: History,
}

/// What the swept part saw acknowledged before the cut.
#[derive(Debug, Default)]
struct Acknowledged {
    /// The newest seqno a `persist` returned.
    persisted: SeqNo,
    /// The newest seqno a `sync` returned.
    synced: SeqNo,
    /// The seqno of each base backup that returned.
    bases: Vec<SeqNo>,
}

fn setup() -> Setup {
    let disk = MemFs::new();
    let fault = FaultFs::new(Arc::new(disk.clone()));
    let fs: Arc<dyn Fs> = Arc::new(fault.clone());
    let db = open_db(Arc::clone(&fs), "/db");
    let engine = BackupEngine::new(Arc::new(DirStore::open(fs, "/backups").unwrap()));
    let mut history = History::default();
    history.fill(&db, 0, 300, 200).unwrap();
    engine.create_backup(&db).unwrap();
    let archive = engine.archive(&db, on_demand()).unwrap();
    history.fill(&db, 300, 100, 200).unwrap();
    db.persist().unwrap();
    archive.sync().unwrap();
    Setup { disk, fault, db, engine, archive, history }
}

/// The swept part: writes shipped, a flush, more shipped (which lets the
/// flushed segments go), a base backup, more shipped. Stops at the first
/// error, noting what was acknowledged before it.
fn swept(s: &mut Setup, acked: &mut Acknowledged) -> Result<()> {
    let persist = |db: &Db, acked: &mut Acknowledged| db.persist().map(|seqno| acked.persisted = seqno);
    s.history.fill(&s.db, 400, 150, 200)?;
    persist(&s.db, acked)?;
    acked.synced = s.archive.sync()?;
    s.db.flush()?;
    s.history.fill(&s.db, 550, 80, 200)?;
    persist(&s.db, acked)?;
    acked.synced = s.archive.sync()?;
    acked.bases.push(s.engine.create_backup(&s.db)?.seqno);
    s.history.fill(&s.db, 630, 60, 200)?;
    persist(&s.db, acked)?;
    acked.synced = s.archive.sync()?;
    Ok(())
}

fn ops_of_swept() -> u64 {
    let mut s = setup();
    s.fault.reset_counts();
    swept(&mut s, &mut Acknowledged::default()).unwrap();
    let ops = s.fault.op_count();
    assert!(s.db.stats().files_deleted > 0, "the swept part removes files (shipped log segments, at least)");
    ops
}

/// What one crashed disk was checked for.
#[derive(Default)]
struct Checked {
    restores: u64,
}

/// Everything the module documentation promises, for one crashed disk.
fn check_crashed(crashed: MemFs, history: &History, acked: &Acknowledged, context: &str) -> Checked {
    let fs: Arc<dyn Fs> = Arc::new(crashed);
    let mut checked = Checked::default();

    // The database: every persisted write, exactly a prefix.
    let db = open_db(Arc::clone(&fs), "/db");
    let recovered = db.stats().seqno;
    assert!(recovered >= acked.persisted, "{context}: recovered to {recovered}, persisted {}", acked.persisted);
    assert!(contents(&db) == history.state_at(recovered), "{context}: the reopened database is not the model");
    let history = history.until(recovered);

    // The store: each range exact, none past the database, the acknowledged covered.
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::clone(&fs), "/backups").unwrap())).grace(Duration::ZERO);
    let (ranges, restores) = check_ranges(&engine, &history, context);
    checked.restores += restores;
    assert!(ranges.iter().all(|r| r.last_seqno <= recovered), "{context}: a range past the database's {recovered}: {ranges:?}");
    assert!(
        ranges.iter().any(|r| r.first_seqno <= acked.synced && acked.synced <= r.last_seqno),
        "{context}: the synced commit {} is not restorable: {ranges:?}",
        acked.synced
    );
    for base in &acked.bases {
        assert!(ranges.iter().any(|r| r.first_seqno == *base), "{context}: the base backup at {base} is lost: {ranges:?}");
    }

    // A new archive continues the chain, and its commits restore.
    let archive = engine.archive(&db, on_demand()).unwrap_or_else(|e| panic!("{context}: re-attach: {e}"));
    let mut history = history;
    history.fill(&db, 1000, 40, 200).unwrap();
    let end = db.persist().unwrap();
    let synced = archive.sync().unwrap_or_else(|e| panic!("{context}: sync after re-attach: {e}"));
    assert_eq!(synced, end, "{context}");
    let stats = archive.stop().unwrap();
    assert!(stats.gaps.is_empty(), "{context}: re-attaching after the crash recorded a gap: {stats:?}");
    let (latest, state) = restore_point(&engine, RestorePoint::Latest).unwrap();
    assert_eq!(latest.seqno, end, "{context}");
    assert!(state == contents(&db), "{context}: Latest after re-attach is not the database");
    check_restore(&engine, recovered, true, &history, context);
    checked.restores += 2;

    // gc leaves every range whole.
    let before: Vec<_> = engine.restorable().unwrap().into_iter().flat_map(|t| t.ranges).collect();
    engine.gc().unwrap_or_else(|e| panic!("{context}: gc: {e}"));
    let (after, restores) = check_ranges(&engine, &history, &format!("{context}, after gc"));
    checked.restores += restores;
    assert_eq!(before, after, "{context}: gc changed what is restorable");
    checked
}

#[test]
fn power_cut_at_every_op_of_archiving_across_flush_removal_and_base_backup() {
    let total = ops_of_swept();
    let (mut cuts, mut restores) = (0u64, 0u64);
    for n in 0..=total {
        let mut s = setup();
        s.fault.reset_counts();
        s.fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let mut acked = Acknowledged::default();
        let result = swept(&mut s, &mut acked);
        assert!(result.is_ok() || n < total, "cut at {n} of {total}: {result:?}");
        let Setup { disk, db, archive, history, .. } = s;
        drop(archive);
        drop(db);
        for (crashed, how) in [(disk.crash_copy(), "crash"), (disk.crash_copy_torn(n), "torn crash")] {
            let context = format!("{how} at op {n} of {total}");
            restores += check_crashed(crashed, &history, &acked, &context).restores;
            cuts += 1;
        }
    }
    #[expect(clippy::print_stderr, reason = "report the size of the sweep")]
    {
        eprintln!("archive crash sweep: {cuts} crash states over {total} ops, {restores} restores checked");
    }
    common::crash_points::record("archive_crash_sweep", cuts, 0, cuts);
}
