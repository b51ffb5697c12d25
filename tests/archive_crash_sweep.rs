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

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

mod common;

use cairndb::backup::{BackupEngine, DirStore, LogArchive, RestorableRange, RestorableTimeline, RestorePoint};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::{Db, Result, SeqNo};
use common::archive::{History, check_ranges, check_ranges_but, check_restore, on_demand, restore_point};
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
    /// What the set-up saw acknowledged.
    acked: Acknowledged,
}

/// What the swept part saw acknowledged before the cut.
#[derive(Clone, Debug, Default)]
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
    let persisted = db.persist().unwrap();
    let synced = archive.sync().unwrap();
    let acked = Acknowledged { persisted, synced, bases: Vec::new() };
    Setup { disk, fault, db, engine, archive, history, acked }
}

/// The swept part: writes made durable, then a flush before they are
/// shipped (the hold keeps their segments), a sync (which lets them go);
/// more writes, a base backup (its cut flushes) before they are shipped, a
/// sync; more writes and a sync. Stops at the first error, noting what was
/// acknowledged before it.
fn swept(s: &mut Setup, acked: &mut Acknowledged) -> Result<()> {
    let persist = |db: &Db, acked: &mut Acknowledged| db.persist().map(|seqno| acked.persisted = seqno);
    s.history.fill(&s.db, 400, 150, 200)?;
    persist(&s.db, acked)?;
    s.db.flush()?;
    acked.synced = s.archive.sync()?;
    s.history.fill(&s.db, 550, 80, 200)?;
    persist(&s.db, acked)?;
    acked.bases.push(s.engine.create_backup(&s.db)?.seqno);
    acked.synced = s.archive.sync()?;
    s.history.fill(&s.db, 630, 60, 200)?;
    persist(&s.db, acked)?;
    acked.synced = s.archive.sync()?;
    Ok(())
}

fn ops_of_swept() -> u64 {
    let mut s = setup();
    s.fault.reset_counts();
    let mut acked = s.acked.clone();
    swept(&mut s, &mut acked).unwrap();
    let ops = s.fault.op_count();
    assert!(s.db.stats().files_deleted > 0, "the swept part removes files (shipped log segments, at least)");
    ops
}

/// What a crashed disk claims: the seqno the database recovered to and,
/// per timeline, the restorable ranges, gaps and chunks. Seqnos and chunk
/// sizes are the same in every run, so two crash states with the same
/// claim restore the same history.
type Claim = (SeqNo, Vec<(Vec<(SeqNo, SeqNo)>, Vec<(SeqNo, SeqNo)>, usize, u64)>);

fn claim_of(recovered: SeqNo, timelines: &[RestorableTimeline]) -> Claim {
    let timelines = timelines
        .iter()
        .map(|t| {
            let ranges = t.ranges.iter().map(|r| (r.first_seqno, r.last_seqno)).collect();
            (ranges, t.gaps.iter().map(|g| (g.after, g.resume)).collect(), t.chunks, t.chunk_bytes)
        })
        .collect();
    (recovered, timelines)
}

/// Whether a gap after re-attaching is tolerated: never. (It was, while a
/// power cut between a flush and its shipping lost the archive's hold on
/// the log; `a_power_cut_between_a_flush_and_its_shipping_leaves_no_gap`.)
fn tolerate_reattach_gap() -> bool {
    false
}

/// Besides each new claim, every this many ops a crash state gets the full check.
const FULL_CHECK_EVERY: u64 = 16;

/// What was checked on one crashed disk.
struct Checked {
    restores: u64,
    /// The full check ran (a claim not seen before).
    full: bool,
    /// Re-attaching recorded a gap (the known bug).
    reattach_gap: bool,
}

/// Everything the module documentation promises, for one crashed disk.
/// Every state gets the checks that need no replay of archived log (the
/// database, the ranges against what was acknowledged, each range's base,
/// re-attaching and syncing); the restores that replay the log (each range's
/// last and middle commit, Latest after re-attaching, all of them again
/// after gc) run once per claim, and on every `FULL_CHECK_EVERY`th op:
/// they cost ~100 ms each in a debug build (the replay opens a database
/// with the default 64 MiB memtable).
fn check_crashed(
    crashed: MemFs,
    history: &History,
    acked: &Acknowledged,
    seen: &mut HashSet<Claim>,
    sampled: bool,
    context: &str,
) -> Checked {
    let fs: Arc<dyn Fs> = Arc::new(crashed);

    // The database: every persisted write, exactly a prefix.
    let db = open_db(Arc::clone(&fs), "/db");
    let recovered = db.stats().seqno;
    assert!(recovered >= acked.persisted, "{context}: recovered to {recovered}, persisted {}", acked.persisted);
    assert!(contents(&db) == history.state_at(recovered), "{context}: the reopened database is not the model");
    let mut history = history.until(recovered);

    // The store: no range past the database, the acknowledged covered.
    let engine =
        BackupEngine::new(Arc::new(DirStore::open(Arc::clone(&fs), "/backups").unwrap())).grace(Duration::ZERO);
    let timelines = engine.restorable().unwrap_or_else(|e| panic!("{context}: restorable: {e}"));
    assert_eq!(timelines.len(), 1, "{context}: {timelines:?}");
    let ranges = timelines[0].ranges.clone();
    assert!(timelines[0].gaps.is_empty(), "{context}: a gap after a crash: {timelines:?}");
    assert!(
        ranges.iter().all(|r| r.last_seqno <= recovered),
        "{context}: a range past the database's {recovered}: {ranges:?}"
    );
    let covers = |seqno: SeqNo| ranges.iter().any(|r| r.first_seqno <= seqno && seqno <= r.last_seqno);
    assert!(covers(acked.synced), "{context}: the synced commit {} is not restorable: {ranges:?}", acked.synced);
    for &base in &acked.bases {
        assert!(covers(base), "{context}: the base backup at {base} is not restorable: {ranges:?}");
    }
    let claim = claim_of(recovered, &timelines);
    let full = seen.insert(claim) || sampled;
    let mut restores = 0;
    if full {
        restores += check_ranges(&engine, &history, context).1;
    } else {
        for range in &ranges {
            check_restore(&engine, range.first_seqno, true, &history, context);
            restores += 1;
        }
    }

    // A new archive continues the chain, and its commits restore.
    let archive = engine.archive(&db, on_demand()).unwrap_or_else(|e| panic!("{context}: re-attach: {e}"));
    history.fill(&db, 1000, 40, 200).unwrap();
    let end = db.persist().unwrap();
    let synced = archive.sync().unwrap_or_else(|e| panic!("{context}: sync after re-attach: {e}"));
    assert_eq!(synced, end, "{context}");
    let stats = archive.stop().unwrap();
    let reattach_gap = !stats.gaps.is_empty();
    if reattach_gap {
        // The known bug (`a_power_cut_between_a_flush_and_its_shipping_leaves_no_gap`):
        // tolerated only in its exact form, so the sweep goes on finding others.
        assert!(tolerate_reattach_gap(), "{context}: re-attaching after the crash recorded a gap: {stats:?}");
        let gap = stats.gaps[0];
        assert_eq!(stats.gaps.len(), 1, "{context}: {stats:?}");
        assert_eq!(Some(gap.after), timelines[0].archived_to, "{context}: the gap starts at the chain's end");
        assert!(gap.after < gap.resume && gap.resume <= recovered, "{context}: {stats:?}");
        // Coverage is back with the next base backup.
        assert_eq!(engine.create_backup(&db).unwrap().seqno, end, "{context}");
    }
    let after_attach = engine.restorable().unwrap();
    let continued = |r: &RestorableRange| r.last_seqno == end && (reattach_gap || r.first_seqno <= acked.synced);
    assert!(
        after_attach[0].ranges.iter().any(continued),
        "{context}: the new chunks do not continue the range of the synced commit {}: {after_attach:?}",
        acked.synced
    );
    if !full {
        return Checked { restores, full, reattach_gap };
    }
    let (latest, state) = restore_point(&engine, RestorePoint::Latest).unwrap();
    assert_eq!(latest.seqno, end, "{context}");
    assert!(state == contents(&db), "{context}: Latest after re-attach is not the database");
    restores += 1;

    // gc leaves every range whole.
    engine.gc().unwrap_or_else(|e| panic!("{context}: gc: {e}"));
    // While the known gap stands, a base backup at the gap's end is refused
    // (`a_base_backup_at_the_end_of_a_gap_restores`, archive_gap_and_fence.rs).
    let refused: Vec<SeqNo> = stats.gaps.iter().map(|g| g.resume).collect();
    let (after_gc, n) = check_ranges_but(&engine, &history, &refused, &format!("{context}, after gc"));
    restores += n;
    let before: Vec<_> = after_attach.into_iter().flat_map(|t| t.ranges).collect();
    assert_eq!(before, after_gc, "{context}: gc changed what is restorable");
    Checked { restores, full, reattach_gap }
}

#[test]
fn power_cut_at_every_op_of_archiving_across_flush_removal_and_base_backup() {
    let total = ops_of_swept();
    let (mut cuts, mut restores, mut full, mut reattach_gaps) = (0u64, 0u64, 0u64, 0u64);
    let mut seen = HashSet::new();
    for n in 0..=total {
        let mut s = setup();
        s.fault.reset_counts();
        s.fault.add_rule(FaultRule::From { n, kind: FaultKind::IO });
        let mut acked = s.acked.clone();
        let result = swept(&mut s, &mut acked);
        assert!(result.is_ok() || n < total, "cut at {n} of {total}: {result:?}");
        let Setup { disk, db, archive, history, .. } = s;
        drop(archive);
        drop(db);
        for (crashed, how) in [(disk.crash_copy(), "crash"), (disk.crash_copy_torn(n), "torn crash")] {
            let context = format!("{how} at op {n} of {total}");
            let checked = check_crashed(crashed, &history, &acked, &mut seen, n % FULL_CHECK_EVERY == 0, &context);
            restores += checked.restores;
            full += u64::from(checked.full);
            reattach_gaps += u64::from(checked.reattach_gap);
            cuts += 1;
        }
    }
    #[expect(clippy::print_stderr, reason = "report the size of the sweep")]
    {
        eprintln!(
            "archive crash sweep: {cuts} crash states over {total} ops ({full} distinct claims fully checked), \
             {restores} restores checked, {reattach_gaps} re-attached with the known gap"
        );
    }
    common::crash_points::record("archive_crash_sweep", cuts, 0, cuts);
}

/// The smallest case of the gap the sweep finds: writes made durable and
/// flushed into tables, a power cut before the archive ships them. The
/// reopened database no longer holds their log (the archive's hold on the
/// segments lived in memory only), so a new archive records a gap over
/// writes that were durable all along, and nothing after it restores until
/// the next base backup.
#[test]
fn a_power_cut_between_a_flush_and_its_shipping_leaves_no_gap() {
    let disk = MemFs::new();
    let fs: Arc<dyn Fs> = Arc::new(disk.clone());
    let db = open_db(Arc::clone(&fs), "/db");
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::clone(&fs), "/backups").unwrap()));
    let mut history = History::default();
    history.fill(&db, 0, 100, 50).unwrap();
    engine.create_backup(&db).unwrap();
    let archive = engine.archive(&db, on_demand()).unwrap();
    history.fill(&db, 100, 100, 50).unwrap();
    let shipped = db.persist().unwrap();
    assert_eq!(archive.sync().unwrap(), shipped);
    history.fill(&db, 200, 100, 50).unwrap();
    let flushed = db.persist().unwrap();
    db.flush().unwrap();
    // The power cut: nothing after the flush reached the disk.
    let crashed: Arc<dyn Fs> = Arc::new(disk.crash_copy());
    drop(archive);
    drop(db);

    let db = open_db(Arc::clone(&crashed), "/db");
    assert_eq!(db.stats().seqno, flushed);
    let engine = BackupEngine::new(Arc::new(DirStore::open(crashed, "/backups").unwrap()));
    let archive = engine.archive(&db, on_demand()).unwrap();
    history.fill(&db, 300, 10, 50).unwrap();
    let end = db.persist().unwrap();
    let synced = archive.sync();
    let stats = archive.stop().unwrap();
    assert!(stats.gaps.is_empty(), "a gap over writes that were durable locally: {stats:?} (sync: {synced:?})");
    let (info, state) = restore_point(&engine, RestorePoint::Seqno(flushed)).unwrap();
    assert_eq!((info.seqno, state), (flushed, history.state_at(flushed)));
    assert_eq!(restore_point(&engine, RestorePoint::Latest).unwrap().0.seqno, end);
}
