//! Point-in-time restore: a base backup and the archived log after it
//! ([`BackupEngine::restore_to`]), and what a store can restore
//! ([`BackupEngine::restorable`]).
//!
//! A timeline's chain of chunks (keys alone: chunk `i` covers the seqnos
//! after `after_i` up to `after_{i+1}`) splits at gap records into *runs*
//! of unbroken history. A base backup of the timeline whose seqno lies in a
//! run makes every commit of the run from its seqno on restorable: the
//! restore downloads the base into a staging directory, replays the
//! archived writes after its seqno up to the commit chosen (each with its
//! own seqno), flushes, and renames the result into place.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::chunk::{
    ARCHIVE_PREFIX, CHUNK_BYTES_MAX, Chunk, ChunkHeader, GAP_CHUNK_BYTES, HEADER_BYTES, decode, parse_chunk_key,
    timeline_prefix,
};
use super::engine::BackupEngine;
use super::manifest::Manifest;
use super::presence::StoredFiles;
use super::progress::BackupProgress;
use super::restore::{RestoreInfo, check_present};
use super::store::{BackupStore, get};
use crate::db::Config;
use crate::hlog::{Op, record};
use crate::staging::{StagingGuard, check_target};
use crate::version::DbIdentity;
use crate::{Error, Result, SeqNo};

/// A point to restore to ([`BackupEngine::restore_to`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestorePoint {
    /// The newest commit at or before this seqno.
    Seqno(SeqNo),
    /// The newest commit made at or before this time.
    Time(SystemTime),
    /// The newest commit in the store.
    Latest,
}

/// A range of commits a store can restore exactly, on one timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestorableRange {
    /// The oldest base backup it starts from.
    pub base: crate::BackupId,
    /// Its first restorable commit (the base's seqno).
    pub first_seqno: SeqNo,
    /// When the base backup was committed.
    pub first_time: SystemTime,
    /// Its last restorable commit.
    pub last_seqno: SeqNo,
    /// When that commit was made (the base's time for a base alone).
    pub last_time: SystemTime,
    /// Base backups in the range, oldest first.
    pub bases: Vec<crate::BackupId>,
}

/// A gap recorded in a timeline's archive: the writes after `after` up
/// to `resume` are not archived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredGap {
    /// The last commit archived before it.
    pub after: SeqNo,
    /// The history continues after this seqno.
    pub resume: SeqNo,
}

/// What a store holds of one timeline, as [`BackupEngine::restorable`]
/// lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestorableTimeline {
    /// The timeline.
    pub timeline: DbIdentity,
    /// Ranges restorable to any commit, oldest first.
    pub ranges: Vec<RestorableRange>,
    /// Gaps in its archive, oldest first.
    pub gaps: Vec<StoredGap>,
    /// The newest commit archived (restorable or not), if any.
    pub archived_to: Option<SeqNo>,
    /// Chunks of archived log in the store.
    pub chunks: usize,
    /// Their bytes.
    pub chunk_bytes: u64,
}

/// One chunk of a timeline's chain, as listed.
#[derive(Clone, Debug)]
pub(crate) struct Link {
    pub(crate) key: String,
    pub(crate) after: SeqNo,
    /// The next chunk's `after`: where this one ends (`None` for the last).
    pub(crate) until: Option<SeqNo>,
    pub(crate) size_bytes: u64,
    pub(crate) is_gap: bool,
}

/// A timeline's chain of chunks, oldest first.
pub(crate) fn chain(store: &dyn BackupStore, timeline: DbIdentity) -> Result<Vec<Link>> {
    let mut links: Vec<Link> = store
        .list(&timeline_prefix(timeline))?
        .into_iter()
        .filter_map(|o| {
            let (t, after) = parse_chunk_key(&o.key)?;
            (t == timeline).then_some(Link {
                key: o.key,
                after,
                until: None,
                size_bytes: o.size_bytes,
                is_gap: o.size_bytes == GAP_CHUNK_BYTES,
            })
        })
        .collect();
    links.sort_by_key(|l| l.after);
    for i in 1..links.len() {
        links[i - 1].until = Some(links[i].after);
    }
    Ok(links)
}

/// Every timeline with chunks in the store.
pub(crate) fn archived_timelines(store: &dyn BackupStore) -> Result<BTreeSet<DbIdentity>> {
    Ok(store.list(ARCHIVE_PREFIX)?.iter().filter_map(|o| parse_chunk_key(&o.key).map(|(t, _)| t)).collect())
}

/// A run of unbroken history: the commits after `after` up to `end`.
#[derive(Clone, Copy, Debug)]
struct Run {
    after: SeqNo,
    end: SeqNo,
    end_time_us: u64,
}

fn read_header(store: &dyn BackupStore, link: &Link) -> Result<ChunkHeader> {
    let bytes = store.get_range(&link.key, 0..HEADER_BYTES as u64)?;
    let location = store.location(&link.key);
    let header = ChunkHeader::decode(&bytes).map_err(|(at, what)| Error::corruption(location.as_ref(), at, what))?;
    if header.after != link.after || header.is_gap() != link.is_gap || link.until.is_some_and(|u| u != header.last) {
        return Err(Error::corruption(
            location.as_ref(),
            0,
            "the chunk's header does not continue the chain its key and its neighbours make",
        ));
    }
    Ok(header)
}

/// The runs of `links`, each ending at a log chunk.
fn runs(store: &dyn BackupStore, links: &[Link]) -> Result<Vec<Run>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < links.len() {
        if links[i].is_gap {
            i += 1;
            continue;
        }
        let first = i;
        while i + 1 < links.len() && !links[i + 1].is_gap {
            i += 1;
        }
        let header = read_header(store, &links[i])?;
        out.push(Run { after: links[first].after, end: header.last, end_time_us: header.last_time_us });
        i += 1;
    }
    Ok(out)
}

fn time_of_us(us: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(us)
}

fn time_of_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// `time` in whole µs since the Unix epoch, rounded down.
fn us_of(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// A timeline's intact base backups, by seqno.
struct Bases(Vec<Manifest>);

impl Bases {
    fn in_run(&self, run: &Run) -> impl Iterator<Item = &Manifest> {
        self.0.iter().filter(move |m| run.after <= m.seqno && m.seqno <= run.end)
    }
}

impl BackupEngine {
    fn bases(&self, timeline: DbIdentity) -> Result<Bases> {
        let stored = StoredFiles::list(&*self.store)?;
        let mut bases: Vec<Manifest> = self
            .list_all()?
            .into_iter()
            .filter_map(|l| l.manifest)
            .filter(|m| m.database == Some(timeline) && stored.absent(m).is_none())
            .collect();
        bases.sort_by_key(|m| (m.seqno, m.id));
        Ok(Bases(bases))
    }

    /// The timeline a restore to a point works on: the chosen database,
    /// else the only one with backups or an archive in the store.
    fn point_in_time_timeline(&self) -> Result<DbIdentity> {
        match self.database {
            Some(Some(chosen)) => return Ok(chosen),
            Some(None) => return Err(Error::invalid("backups of an unknown database have no archived log")),
            None => {}
        }
        let listed = self.list_all()?;
        let mut timelines: BTreeSet<DbIdentity> =
            listed.iter().filter_map(|l| l.manifest.as_ref().and_then(|m| m.database)).collect();
        timelines.extend(archived_timelines(&*self.store)?);
        match timelines.len() {
            0 => Err(Error::invalid(format!("{} holds no backups of any database", self.store.location("")))),
            1 => Ok(*timelines.first().expect("one")),
            _ => Err(Error::AmbiguousDatabase {
                store: self.store.location(""),
                databases: super::scope::summarize(&listed),
            }),
        }
    }

    /// Per timeline (only the chosen one, with [`database`](Self::database)),
    /// the ranges of commits the store can restore exactly — each from a
    /// base backup through the archived log that follows it — and the gaps
    /// recorded in its archive. A base backup with no archived log after it
    /// is a range of one commit.
    pub fn restorable(&self) -> Result<Vec<RestorableTimeline>> {
        let mut timelines: BTreeSet<DbIdentity> =
            self.list_all()?.iter().filter_map(|l| l.manifest.as_ref().and_then(|m| m.database)).collect();
        timelines.extend(archived_timelines(&*self.store)?);
        if let Some(chosen) = self.database {
            timelines.retain(|t| Some(*t) == chosen);
        }
        timelines.iter().map(|&t| self.restorable_timeline(t)).collect()
    }

    fn restorable_timeline(&self, timeline: DbIdentity) -> Result<RestorableTimeline> {
        let store = &*self.store;
        let links = chain(store, timeline)?;
        let runs = runs(store, &links)?;
        let bases = self.bases(timeline)?;
        let mut ranges = Vec::new();
        let mut covered = BTreeSet::new();
        for run in &runs {
            let in_run: Vec<&Manifest> = bases.in_run(run).collect();
            let Some(first) = in_run.first() else { continue };
            covered.extend(in_run.iter().map(|m| m.id));
            ranges.push(RestorableRange {
                base: first.id,
                first_seqno: first.seqno,
                first_time: time_of_ms(first.created_unix_ms),
                last_seqno: run.end,
                last_time: time_of_us(run.end_time_us),
                bases: in_run.iter().map(|m| m.id).collect(),
            });
        }
        for base in bases.0.iter().filter(|m| !covered.contains(&m.id)) {
            ranges.push(RestorableRange {
                base: base.id,
                first_seqno: base.seqno,
                first_time: time_of_ms(base.created_unix_ms),
                last_seqno: base.seqno,
                last_time: time_of_ms(base.created_unix_ms),
                bases: vec![base.id],
            });
        }
        ranges.sort_by_key(|r| (r.first_seqno, r.last_seqno));
        // A gap record after seqno 0 starts a timeline's archive (nothing
        // before the database's log start then was archived): no gap.
        let gaps = links
            .iter()
            .filter(|l| l.is_gap && l.after > SeqNo(0))
            .map(|l| Ok(StoredGap { after: l.after, resume: read_header(store, l)?.last }))
            .collect::<Result<Vec<_>>>()?;
        Ok(RestorableTimeline {
            timeline,
            ranges,
            gaps,
            archived_to: runs.last().map(|r| r.end),
            chunks: links.iter().filter(|l| !l.is_gap).count(),
            chunk_bytes: links.iter().filter(|l| !l.is_gap).map(|l| l.size_bytes).sum(),
        })
    }

    /// Restores the state of one commit into `target` (which must not
    /// exist, as for [`restore`](Self::restore)): the newest commit at or
    /// before `point` on the timeline (the chosen
    /// [`database`](Self::database), else the only one in the store), from
    /// the newest base backup at or before it and the archived log after
    /// that. The result holds every write with seqno <= the commit's and
    /// none after, opens with `Db::open`, and is a copy: opened for
    /// writing, it starts a new timeline. [`RestoreInfo`] says which commit
    /// it landed on and when that commit was made.
    ///
    /// A point no base backup precedes, or one inside a gap of the archive,
    /// is an `InvalidArgument` error saying what is restorable nearby;
    /// damaged chunks are `Error::Corruption` naming them. Nothing appears
    /// at `target` on any error.
    pub fn restore_to(&self, point: RestorePoint, target: &Path) -> Result<RestoreInfo> {
        self.restore_to_with_progress(point, target, &mut |_| {})
    }

    /// [`restore_to`](Self::restore_to), reporting the base backup's
    /// download as it goes.
    pub fn restore_to_with_progress(
        &self,
        point: RestorePoint,
        target: &Path,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<RestoreInfo> {
        let started = Instant::now();
        let timeline = self.point_in_time_timeline()?;
        let store = &*self.store;
        let links = chain(store, timeline)?;
        let runs = runs(store, &links)?;
        let bases = self.bases(timeline)?;
        let plan = resolve(store, &links, &runs, &bases, point)?;
        let base = plan.base;
        check_present(store, base)?;
        let fs = &*self.local;
        let target = check_target(fs, target, None)?;
        let (mut cleanup, staging) = StagingGuard::create(fs, &target, "restore")?;
        self.fill(base, &staging, progress)?;
        let mut replayed = Replayed::default();
        if plan.commit > base.seqno {
            replayed = self.replay(&staging, &links, base.seqno, plan.commit)?;
        }
        cleanup.rename_into_place(&target, true)?;
        cleanup.disarm();
        Ok(RestoreInfo {
            id: base.id,
            database: base.database,
            seqno: plan.commit,
            path: target,
            files: base.files.len(),
            bytes: base.bytes_total() + replayed.bytes,
            duration: started.elapsed(),
            commit_time: plan.time_us.map(time_of_us),
            log_chunks: replayed.chunks,
            log_bytes: replayed.bytes,
        })
    }

    /// Replays the archived writes after `from` up to `to` into the restored
    /// base in `staging`, then flushes it.
    fn replay(&self, staging: &Path, links: &[Link], from: SeqNo, to: SeqNo) -> Result<Replayed> {
        let mut config = Config::new(staging)
            .fs(std::sync::Arc::clone(&self.local))
            .create_if_missing(false)
            .background_persist_interval(None);
        config.replaying_into_copy = true;
        let db = config.open()?;
        let mut replayed = Replayed::default();
        for link in links.iter().filter(|l| l.until.is_none_or(|u| u > from) && l.after < to) {
            let location = self.store.location(&link.key);
            let bytes = get(&*self.store, &link.key, CHUNK_BYTES_MAX)?;
            let chunk = decode(&location, &bytes)?;
            let Chunk::Log { header, pieces, commits } = chunk else {
                return Err(Error::corruption(location.as_ref(), 0, "a gap inside a restorable range"));
            };
            if header.after != link.after || link.until.is_some_and(|u| u != header.last) {
                return Err(Error::corruption(location.as_ref(), 0, "the chunk does not continue the chain"));
            }
            debug_assert!(commits.iter().any(|c| SeqNo(c.seqno) >= to) || header.last < to);
            let mut records = Vec::new();
            for piece in &pieces {
                let mut offset = 0;
                while offset < piece.bytes.len() {
                    let rec = record::decode(&piece.bytes[offset..]).map_err(|e| {
                        Error::corruption(location.as_ref(), offset as u64, format!("archived log record: {e:?}"))
                    })?;
                    if matches!(rec.kind, record::Kind::Value | record::Kind::Tombstone)
                        && from.0 < rec.seqno
                        && rec.seqno <= to.0
                    {
                        records.push(rec);
                    }
                    offset += rec.len_bytes;
                }
            }
            records.sort_by_key(|r| r.seqno);
            for rec in &records {
                let op = match rec.kind {
                    record::Kind::Value => Op::Put { key: rec.key, value: rec.value },
                    _ => Op::Delete { key: rec.key },
                };
                db.write_replayed(SeqNo(rec.seqno), &[op])?;
            }
            replayed.chunks += 1;
            replayed.bytes += bytes.len() as u64;
        }
        db.end_replay_at(to);
        db.flush()?;
        let reached = db.stats().seqno;
        if reached != to {
            return Err(Error::invalid(format!("the replay reached seqno {reached}, not the commit {to}")));
        }
        drop(db);
        Ok(replayed)
    }
}

#[derive(Default)]
struct Replayed {
    chunks: usize,
    bytes: u64,
}

/// The commit a restore lands on and the base it starts from.
struct Plan<'a> {
    base: &'a Manifest,
    commit: SeqNo,
    time_us: Option<u64>,
}

/// The commits of a log chunk: (seqno, time).
fn commits_of(store: &dyn BackupStore, link: &Link) -> Result<Vec<(SeqNo, u64)>> {
    let location = store.location(&link.key);
    let bytes = get(store, &link.key, CHUNK_BYTES_MAX)?;
    match decode(&location, &bytes)? {
        Chunk::Log { commits, .. } => Ok(commits.iter().map(|c| (SeqNo(c.seqno), c.time_us.unwrap_or(0))).collect()),
        Chunk::Gap { .. } => Ok(Vec::new()),
    }
}

fn resolve<'a>(
    store: &dyn BackupStore,
    links: &[Link],
    runs: &[Run],
    bases: &'a Bases,
    point: RestorePoint,
) -> Result<Plan<'a>> {
    let describe = || {
        let covered = |b: &Manifest| runs.iter().any(|r| r.after <= b.seqno && b.seqno <= r.end);
        let ranges: Vec<String> = runs
            .iter()
            .filter_map(|r| bases.in_run(r).next().map(|b| format!("{}..={}", b.seqno, r.end)))
            .chain(bases.0.iter().filter(|b| !covered(b)).map(|b| format!("{}", b.seqno)))
            .collect();
        if ranges.is_empty() { "nothing".to_string() } else { ranges.join(", ") }
    };
    // The commit: the newest at or before the point, in archived log or as
    // a base backup's seqno. A time `t` takes a commit made at `c` µs (so
    // at some instant in [c, c + 1 µs)) only when c + 1 µs <= t: never one
    // made after the point.
    let (commit, time_us) = match point {
        RestorePoint::Latest => {
            let archived =
                runs.iter().filter(|r| bases.in_run(r).next().is_some()).map(|r| (r.end, Some(r.end_time_us)));
            let based = bases.0.iter().map(|b| (b.seqno, None));
            archived.chain(based).max_by_key(|(s, _)| *s).ok_or_else(|| {
                Error::invalid("the store holds no base backup of this database: nothing is restorable")
            })?
        }
        RestorePoint::Seqno(wanted) => {
            let mut best: Option<(SeqNo, Option<u64>)> =
                bases.0.iter().filter(|b| b.seqno <= wanted).map(|b| (b.seqno, None)).max_by_key(|(s, _)| *s);
            if let Some(i) = links.iter().rposition(|l| l.after < wanted) {
                let link = &links[i];
                let candidate = if link.is_gap {
                    // The state at the gap's end is known (a base there
                    // restores it); the commits strictly inside are lost.
                    let until = link.until.unwrap_or(link.after);
                    if wanted >= until {
                        Some((until, None))
                    } else if link.after == SeqNo(0) || best.is_some_and(|(s, _)| s > link.after) {
                        // Before the archive began (its opening record), or
                        // a base inside the gap: the bases decide.
                        None
                    } else {
                        return Err(Error::invalid(format!(
                            "seqno {wanted} lies in a gap of the archive (the writes after {} up to {until} were \
                             not archived); restorable: {}",
                            link.after,
                            describe()
                        )));
                    }
                } else {
                    let found =
                        commits_of(store, link)?.into_iter().filter(|(s, _)| *s <= wanted).max_by_key(|(s, _)| *s);
                    Some(found.map(|(s, t)| (s, Some(t))).unwrap_or((link.after, None)))
                };
                if let Some(candidate) = candidate
                    && best.is_none_or(|(s, _)| s < candidate.0)
                {
                    best = Some(candidate);
                }
            }
            best.ok_or_else(|| {
                Error::invalid(format!("no base backup at or before seqno {wanted}; restorable: {}", describe()))
            })?
        }
        RestorePoint::Time(when) => {
            let wanted = us_of(when);
            let made_by = |us: u64| us < wanted;
            let mut best: Option<(SeqNo, Option<u64>)> = bases
                .0
                .iter()
                .filter(|b| made_by(b.created_unix_ms.saturating_mul(1000).saturating_add(999)))
                .map(|b| (b.seqno, None))
                .max_by_key(|(s, _)| *s);
            // The newest log chunk whose first commit was made by then:
            // times grow with seqnos along a timeline.
            let logs: Vec<&Link> = links.iter().filter(|l| !l.is_gap).collect();
            let (mut low, mut high) = (0usize, logs.len());
            while low < high {
                let mid = (low + high) / 2;
                if made_by(read_header(store, logs[mid])?.first_time_us) {
                    low = mid + 1;
                } else {
                    high = mid;
                }
            }
            if low > 0 {
                let link = logs[low - 1];
                let found = commits_of(store, link)?.into_iter().filter(|(_, t)| made_by(*t)).max_by_key(|(s, _)| *s);
                if let Some((s, t)) = found
                    && best.is_none_or(|(b, _)| b < s)
                {
                    best = Some((s, Some(t)));
                }
            }
            best.ok_or_else(|| {
                Error::invalid(format!(
                    "nothing restorable was made at or before that time; restorable: {}",
                    describe()
                ))
            })?
        }
    };
    // The base: the newest at or before the commit in the same run (or
    // the commit is a base's own seqno).
    let run = runs.iter().find(|r| r.after < commit && commit <= r.end);
    let base = bases
        .0
        .iter()
        .filter(|b| b.seqno <= commit)
        .rev()
        .find(|b| b.seqno == commit || run.is_some_and(|r| r.after <= b.seqno && b.seqno <= r.end));
    let Some(base) = base else {
        return Err(Error::invalid(format!(
            "no base backup precedes seqno {commit} in unbroken archived log; restorable: {}",
            describe()
        )));
    };
    Ok(Plan { base, commit, time_us })
}
