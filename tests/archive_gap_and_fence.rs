//! What the archive does when it cannot keep up, when two archivers race,
//! and where a time lands.
//!
//! - **Gap**: a store that fails for longer than `max_unshipped_bytes`
//!   while the database writes and flushes: writers never block or fail, a
//!   gap is recorded (in the archive's stats, in `restorable()`, in
//!   `DbStats::log_archive_gaps`), no restore crosses it (a seqno in it,
//!   or after it before a new base backup, is refused), and coverage is back
//!   with the next base backup.
//! - **Fence**: two archivers of one database on one store — exactly one
//!   ships, the other stops with `Error::ArchiveConflict`, the chain holds
//!   every commit once and restores exactly. Two copies of one database
//!   (same identity, copied byte for byte) archiving to one store: the
//!   second is refused rather than mixing histories.
//! - **Time**: `restore_to(Time(t))` lands on the newest commit made at or
//!   before `t`, and excludes a commit made after it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

mod common;

use cairndb::backup::{ArchiveOptions, BackupEngine, DirStore, LogArchive, RestorePoint};
use cairndb::fs::{FaultFs, FaultKind, FaultRule, Fs, MemFs};
use cairndb::{Db, Error, SeqNo};
use common::archive::{History, check_ranges, check_restore, copy_tree, on_demand, restore_point};
use common::backup::open_db;

/// A database on its own disk, a directory store behind a fault injector.
struct Setup {
    db: Db,
    fault: FaultFs,
    engine: BackupEngine,
    history: History,
}

fn setup() -> Setup {
    let db = open_db(Arc::new(MemFs::new()), "/db");
    let fault = FaultFs::new(Arc::new(MemFs::new()));
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::new(fault.clone()), "/backups").unwrap()));
    Setup { db, fault, engine, history: History::default() }
}

#[test]
fn a_store_down_past_the_cap_leaves_a_gap_no_restore_crosses_and_a_base_backup_ends() {
    let mut s = setup();
    s.history.fill(&s.db, 0, 300, 200).unwrap();
    let base = s.engine.create_backup(&s.db).unwrap();
    // On demand: the thread ships only when asked, so the outage below
    // releases the log once (a timer's retries during it re-hold the log,
    // and each new release counts: `repeated_releases_during_one_outage_are_one_gap`).
    let archive = s.engine.archive(&s.db, on_demand().max_unshipped_bytes(16 << 10)).unwrap();
    s.history.fill(&s.db, 300, 200, 200).unwrap();
    let before = s.db.persist().unwrap();
    assert_eq!(archive.sync().unwrap(), before);

    // The store fails every operation; the writers go on, flushing.
    s.fault.reset_counts();
    s.fault.add_rule(FaultRule::From { n: 0, kind: FaultKind::IO });
    let started = Instant::now();
    for round in 0..6u32 {
        s.history.fill(&s.db, 500 + round * 300, 300, 200).unwrap();
        s.db.persist().unwrap();
        if round == 0 {
            assert!(archive.sync().is_err(), "sync while the store fails");
            let stats = archive.stats();
            assert!(stats.failures == 1 && stats.last_error.is_some() && stats.shipped_seqno == before, "{stats:?}");
        }
        s.db.flush().unwrap();
    }
    let writing = started.elapsed();
    assert!(writing < Duration::from_secs(10), "the writers waited for the store: {writing:?}");
    assert_eq!(s.db.stats().log_archive_gaps, 1, "{:?}", s.db.stats());
    assert!(archive.sync().is_err(), "sync while the store fails");
    let resumed_at = s.db.persist().unwrap();

    // The store is back: the gap is recorded, shipping goes on after it.
    s.fault.clear_rules();
    let _ = archive.sync();
    s.history.fill(&s.db, 2500, 100, 200).unwrap();
    let end = s.db.persist().unwrap();
    assert_eq!(archive.sync().unwrap(), end);
    let stats = archive.stats();
    assert_eq!(stats.gaps.len(), 1, "{stats:?}");
    let gap = stats.gaps[0];
    assert_eq!(gap.after, before, "{stats:?}");
    assert!(before < gap.resume && gap.resume <= resumed_at && gap.lost_bytes > 16 << 10, "{stats:?}");
    assert_eq!(s.db.stats().log_archive_gaps, 1);
    let listed = s.engine.restorable().unwrap();
    assert_eq!(listed.len(), 1);
    let stored: Vec<_> = listed[0].gaps.iter().map(|g| (g.after, g.resume)).collect();
    assert_eq!(stored, [(gap.after, gap.resume)], "{listed:?}");
    assert_eq!(listed[0].archived_to, Some(end));
    let ranges: Vec<_> = listed[0].ranges.iter().map(|r| (r.first_seqno, r.last_seqno)).collect();
    assert_eq!(ranges, [(base.seqno, before)], "only the history before the gap is restorable: {listed:?}");

    // No restore crosses it.
    check_ranges(&s.engine, &s.history, "before the new base");
    for wanted in [before.0 + 1, (before.0 + gap.resume.0) / 2, gap.resume.0, gap.resume.0 + 1, end.0] {
        let refused = restore_point(&s.engine, RestorePoint::Seqno(SeqNo(wanted)));
        assert!(
            refused.is_err(),
            "seqno {wanted} (gap {gap:?}, no base after it) restored: {:?}",
            refused.map(|r| r.0)
        );
    }
    let (latest, _) = restore_point(&s.engine, RestorePoint::Latest).unwrap();
    assert_eq!(latest.seqno, before, "Latest is the newest commit before the gap");
    if let Ok((info, state)) = restore_point(&s.engine, RestorePoint::Time(SystemTime::now())) {
        assert!(info.seqno <= before, "a restore to now crossed the gap: {info:?}");
        assert!(state == s.history.state_at(info.seqno));
    }

    // A base backup brings coverage back.
    let second = s.engine.create_backup(&s.db).unwrap();
    s.history.fill(&s.db, 2600, 200, 200).unwrap();
    let last = s.db.persist().unwrap();
    assert_eq!(archive.sync().unwrap(), last);
    let (ranges, _) = check_ranges(&s.engine, &s.history, "after the new base");
    assert_eq!(ranges.last().map(|r| (r.first_seqno, r.last_seqno)), Some((second.seqno, last)), "{ranges:?}");
    for wanted in [second.seqno.0 + 1, (second.seqno.0 + last.0) / 2, last.0 - 1] {
        check_restore(&s.engine, SeqNo(wanted), false, &s.history, "after the new base");
    }
    let (latest, state) = restore_point(&s.engine, RestorePoint::Latest).unwrap();
    assert_eq!(latest.seqno, last);
    assert!(state == s.history.state_at(last));
    let stats = archive.stop().unwrap();
    assert_eq!(stats.gaps.len(), 1, "{stats:?}");
}

/// The gap ends where the database's log began when the archive held it
/// again; a base backup made there (its cut flushed everything before)
/// starts a range `restorable()` lists from that very seqno — and
/// `restore_to(Seqno(that seqno))` must restore it, not call it part of the
/// gap.
#[test]
fn a_base_backup_at_the_end_of_a_gap_restores() {
    let mut s = setup();
    s.history.fill(&s.db, 0, 200, 100).unwrap();
    s.engine.create_backup(&s.db).unwrap();
    let archive = s.engine.archive(&s.db, on_demand().max_unshipped_bytes(4 << 10)).unwrap();
    s.history.fill(&s.db, 200, 100, 100).unwrap();
    let before = s.db.persist().unwrap();
    assert_eq!(archive.sync().unwrap(), before);
    // The store fails; one failed attempt (an on-demand archive then waits
    // for the next sync); writes past the cap and a flush release the log.
    s.fault.add_rule(FaultRule::Kind { op: cairndb::fs::OpKind::Open, kind: FaultKind::IO });
    s.history.fill(&s.db, 300, 300, 100).unwrap();
    s.db.persist().unwrap();
    assert!(archive.sync().is_err());
    s.db.flush().unwrap();
    assert_eq!(s.db.stats().log_archive_gaps, 1);
    // The store is back: a base backup first, then the archive catches up.
    s.fault.clear_rules();
    let base = s.engine.create_backup(&s.db).unwrap();
    s.history.fill(&s.db, 600, 50, 100).unwrap();
    let end = s.db.persist().unwrap();
    assert_eq!(archive.sync().unwrap(), end);
    let gap = archive.stats().gaps[0];
    assert_eq!((gap.after, gap.resume), (before, base.seqno), "the gap ends at the base");
    let listed = s.engine.restorable().unwrap();
    assert!(listed[0].ranges.iter().any(|r| (r.first_seqno, r.last_seqno) == (base.seqno, end)), "{listed:?}");
    check_restore(&s.engine, end, true, &s.history, "the last commit");
    check_restore(&s.engine, base.seqno, true, &s.history, "the base at the gap's end");
}

/// An outage during which the archive retries (here: a sync) re-holds the
/// log each time, and each later flush past the cap releases it again:
/// `DbStats::log_archive_gaps` counts every release ("each is a gap in its
/// archive"), but the archive records one gap, whose `lost_bytes` is only
/// what the last release dropped.
#[test]
fn repeated_releases_during_one_outage_are_one_gap() {
    let mut s = setup();
    s.history.fill(&s.db, 0, 200, 100).unwrap();
    s.engine.create_backup(&s.db).unwrap();
    let archive = s.engine.archive(&s.db, on_demand().max_unshipped_bytes(4 << 10)).unwrap();
    s.history.fill(&s.db, 200, 100, 100).unwrap();
    let before = s.db.persist().unwrap();
    assert_eq!(archive.sync().unwrap(), before);
    s.fault.add_rule(FaultRule::From { n: 0, kind: FaultKind::IO });
    let mut released = 0;
    for round in 0..3u32 {
        s.history.fill(&s.db, 300 + round * 300, 300, 100).unwrap();
        s.db.persist().unwrap();
        s.db.flush().unwrap();
        released = s.db.stats().log_archive_gaps;
        // A retry: the archive holds the log again, then fails to record the gap.
        assert!(archive.sync().is_err());
    }
    s.fault.clear_rules();
    let _ = archive.sync();
    let stats = archive.stop().unwrap();
    assert_eq!(stats.gaps.len(), 1, "{stats:?}");
    let counted = released == stats.gaps.len() as u64;
    let lost = stats.gaps[0].lost_bytes > 3 * (4 << 10);
    assert!(
        counted && lost,
        "DbStats::log_archive_gaps is {released} for {} gap(s) recorded; the gap's lost_bytes cover the whole \
         outage (3 releases past 4 KiB each): {lost}; {stats:?}",
        stats.gaps.len()
    );
}

/// A writer that persists now and then until told to stop.
fn write_until(db: &Db, history: &Mutex<History>, stop: &AtomicBool) {
    let mut i = 10_000;
    while !stop.load(Ordering::Relaxed) {
        history.lock().unwrap().fill(db, i, 20, 300).unwrap();
        db.persist().unwrap();
        i += 20;
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Of two archives of one timeline, exactly one stopped with a conflict.
fn exactly_one_ships(archives: [LogArchive; 2], end: SeqNo) {
    let synced: Vec<_> = archives.iter().map(LogArchive::sync).collect();
    let winners: Vec<usize> = (0..2).filter(|&i| synced[i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{synced:?}");
    assert_eq!(synced[winners[0]].as_ref().unwrap(), &end);
    let loser = 1 - winners[0];
    assert!(matches!(synced[loser], Err(Error::ArchiveConflict { .. })), "{synced:?}");
    let stats: Vec<_> = archives.iter().map(LogArchive::stats).collect();
    assert!(stats[loser].stopped.is_some() && stats[winners[0]].stopped.is_none(), "{stats:?}");
    let [a, b] = archives;
    let (winner, loser) = if winners[0] == 0 { (a, b) } else { (b, a) };
    assert!(matches!(loser.stop(), Err(Error::ArchiveConflict { .. })));
    winner.stop().unwrap();
}

/// Every commit is restorable once: one range from the base to `end`, no
/// gap, restores at spread seqnos exact.
fn chain_is_whole(engine: &BackupEngine, history: &History, base: SeqNo, end: SeqNo) {
    let listed = engine.restorable().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].gaps.is_empty(), "{listed:?}");
    let ranges: Vec<_> = listed[0].ranges.iter().map(|r| (r.first_seqno, r.last_seqno)).collect();
    assert_eq!(ranges, [(base, end)], "{listed:?}");
    check_ranges(engine, history, "the fenced chain");
    for k in 1..6 {
        check_restore(engine, SeqNo(base.0 + (end.0 - base.0) * k / 6), false, history, "the fenced chain");
    }
}

#[test]
fn two_archivers_of_one_database_exactly_one_ships() {
    let s = setup();
    let history = Mutex::new(s.history);
    history.lock().unwrap().fill(&s.db, 0, 300, 300).unwrap();
    let base = s.engine.create_backup(&s.db).unwrap();
    // Two engines on two handles of the same store directory.
    let other = BackupEngine::new(Arc::new(DirStore::open(Arc::new(s.fault.clone()), "/backups").unwrap()));
    let options = ArchiveOptions::default().interval(Duration::from_millis(5)).chunk_bytes(4096);
    let archives = [s.engine.archive(&s.db, options).unwrap(), other.archive(&s.db, options).unwrap()];
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| write_until(&s.db, &history, &stop));
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
    });
    let end = s.db.persist().unwrap();
    exactly_one_ships(archives, end);
    chain_is_whole(&s.engine, &history.lock().unwrap(), base.seqno, end);
}

/// The first two archivers of a timeline, attached at different log
/// starts (a flush in between): the create-only key of a chunk is the only
/// fence, and their first chunks have different keys, so both ship — the
/// chain then holds chunks after 0 and after the flush, overlapping.
#[test]
fn two_first_archivers_attached_across_a_flush_exactly_one_ships() {
    let mut s = setup();
    s.history.fill(&s.db, 0, 200, 100).unwrap();
    s.db.persist().unwrap();
    let first = s.engine.archive(&s.db, on_demand()).unwrap();
    s.db.flush().unwrap();
    let base = s.engine.create_backup(&s.db).unwrap();
    let second = s.engine.archive(&s.db, on_demand()).unwrap();
    s.history.fill(&s.db, 200, 100, 100).unwrap();
    let end = s.db.persist().unwrap();
    let synced = [first.sync(), second.sync()];
    let conflicts = synced.iter().filter(|r| matches!(r, Err(Error::ArchiveConflict { .. }))).count();
    assert_eq!(conflicts, 1, "exactly one of the two archivers stops: {synced:?}");
    drop((first, second));
    chain_is_whole(&s.engine, &s.history, base.seqno, end);
}

/// `/a`, written and closed, copied byte for byte to `/b`; both open.
fn twin_databases() -> (Arc<dyn Fs>, Db, Db, History) {
    let fs: Arc<dyn Fs> = Arc::new(MemFs::new());
    let mut history = History::default();
    {
        let a = open_db(Arc::clone(&fs), "/a");
        history.fill(&a, 0, 300, 200).unwrap();
        a.persist().unwrap();
    }
    copy_tree(&*fs, Path::new("/a"), Path::new("/b"));
    let (a, b) = (open_db(Arc::clone(&fs), "/a"), open_db(Arc::clone(&fs), "/b"));
    assert_eq!(a.identity(), b.identity(), "a byte-for-byte copy keeps the identity");
    (fs, a, b, history)
}

/// After `n` writes of its own to `db`, attaching an archive of it to
/// `engine`'s store fails with `ArchiveConflict`, at attach or at sync.
fn refused(engine: &BackupEngine, db: &Db, from: u32, n: u32) {
    let mut twin = History::default();
    twin.fill(db, from, n, 50).unwrap();
    db.persist().unwrap();
    let attached = engine.archive(db, on_demand());
    let error = match attached {
        Err(e) => e,
        Ok(archive) => archive.sync().expect_err("the twin's archive synced"),
    };
    assert!(matches!(error, Error::ArchiveConflict { .. }), "{error}");
}

#[test]
fn a_byte_for_byte_copy_of_a_database_cannot_archive_into_the_same_chain() {
    for twin_writes in [50, 400] {
        let (fs, a, b, mut history) = twin_databases();
        let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::clone(&fs), "/backups").unwrap()));
        let base = engine.create_backup(&a).unwrap();
        let archive = engine.archive(&a, on_demand()).unwrap();
        history.fill(&a, 300, 200, 200).unwrap();
        let end = a.persist().unwrap();
        assert_eq!(archive.sync().unwrap(), end);
        // The twin wrote less than the chain holds, or more (another history).
        refused(&engine, &b, 5000, twin_writes);
        history.fill(&a, 500, 50, 200).unwrap();
        let end = a.persist().unwrap();
        assert_eq!(archive.sync().unwrap(), end, "twin_writes={twin_writes}");
        archive.stop().unwrap();
        chain_is_whole(&engine, &history, base.seqno, end);
    }
}

#[test]
fn twin_databases_archiving_at_once_exactly_one_ships() {
    let (fs, a, b, history) = twin_databases();
    let engine = BackupEngine::new(Arc::new(DirStore::open(Arc::clone(&fs), "/backups").unwrap()));
    let base = engine.create_backup(&a).unwrap();
    // The base's cut flushed `a`: flush `b` too, so both archives start at
    // the same log start (from different ones, even two archivers of one
    // database both ship: `two_first_archivers_attached_across_a_flush_exactly_one_ships`).
    b.flush().unwrap();
    let options = ArchiveOptions::default().interval(Duration::from_millis(5));
    let archives = [engine.archive(&a, options).unwrap(), engine.archive(&b, options).unwrap()];
    let histories = [Mutex::new(history.clone()), Mutex::new(history)];
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| write_until(&a, &histories[0], &stop));
        scope.spawn(|| write_until(&b, &histories[1], &stop));
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
    });
    let ends = [a.persist().unwrap(), b.persist().unwrap()];
    let synced: Vec<_> = archives.iter().map(LogArchive::sync).collect();
    let winners: Vec<usize> = (0..2).filter(|&i| synced[i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{synced:?}");
    let w = winners[0];
    assert!(matches!(synced[1 - w], Err(Error::ArchiveConflict { .. })), "{synced:?}");
    drop(archives);
    // The chain is the winner's history alone.
    chain_is_whole(&engine, &histories[w].lock().unwrap(), base.seqno, ends[w]);
}

#[test]
fn a_time_restore_lands_on_the_newest_commit_made_by_then() {
    let mut s = setup();
    s.history.fill(&s.db, 0, 100, 50).unwrap();
    s.engine.create_backup(&s.db).unwrap();
    let archive = s.engine.archive(&s.db, on_demand()).unwrap();
    let mut points = Vec::new();
    for round in 0..5u32 {
        s.history.put(&s.db, "round", format!("{round}")).unwrap();
        let seqno = s.db.persist().unwrap();
        std::thread::sleep(Duration::from_millis(3));
        points.push((seqno, SystemTime::now()));
        std::thread::sleep(Duration::from_millis(3));
    }
    archive.sync().unwrap();
    for (i, &(seqno, t)) in points.iter().enumerate() {
        let (info, state) = restore_point(&s.engine, RestorePoint::Time(t)).unwrap();
        assert_eq!(info.seqno, seqno, "time point {i}: {info:?}");
        let made = info.commit_time.expect("a replayed commit's time");
        assert!(made <= t, "landed on a commit made after the point: {info:?}");
        assert_eq!(state.get(&b"round"[..]).map(Vec::as_slice), Some(format!("{i}").as_bytes()));
        assert!(state == s.history.state_at(seqno));
    }
    archive.stop().unwrap();
}

/// A commit made within the same millisecond as, but after, the point:
/// commit times are kept in milliseconds, and the point is compared after
/// rounding it down to one, so such a commit is taken in. Tries points just
/// after a millisecond begins until a commit lands in the same one.
#[test]
fn a_commit_made_just_after_the_time_point_is_excluded() {
    let ms = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis();
    let mut s = setup();
    s.history.fill(&s.db, 0, 100, 50).unwrap();
    s.engine.create_backup(&s.db).unwrap();
    let archive = s.engine.archive(&s.db, on_demand()).unwrap();
    for attempt in 0..50u32 {
        s.history.put(&s.db, "x", format!("before {attempt}")).unwrap();
        let before = s.db.persist().unwrap();
        std::thread::sleep(Duration::from_millis(2));
        let t = loop {
            let now = SystemTime::now();
            if now.duration_since(SystemTime::UNIX_EPOCH).unwrap().subsec_micros() % 1000 < 100 {
                break now;
            }
        };
        s.history.put(&s.db, "x", format!("after {attempt}")).unwrap();
        let after = s.db.persist().unwrap();
        archive.sync().unwrap();
        let (latest, _) = restore_point(&s.engine, RestorePoint::Latest).unwrap();
        assert_eq!(latest.seqno, after);
        let made = latest.commit_time.expect("a replayed commit's time");
        if ms(made) != ms(t) {
            continue;
        }
        let (info, state) = restore_point(&s.engine, RestorePoint::Time(t)).unwrap();
        let context =
            format!("attempt {attempt}: the point is in ms {}, as is the commit {after} made after it", ms(t));
        assert_eq!(info.seqno, before, "{context}; landed on {info:?}");
        assert!(state == s.history.state_at(before), "{context}");
        archive.stop().unwrap();
        return;
    }
    panic!("no commit landed in the millisecond of its point in 50 attempts");
}
