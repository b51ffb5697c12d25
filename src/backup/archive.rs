//! The continuous log archive ([`BackupEngine::archive`]): a background
//! thread that ships every newly durable range of a database's log to the
//! store as [chunks](super::chunk), whole commits each, create-only.
//!
//! - **Where it resumes.** A timeline's chain of chunks in the store ends
//!   at some commit. A new archive continues right after it when the local
//!   log still holds it (checked against the commit record the chunk names:
//!   another history under the same identity is refused); when the local
//!   log no longer does, and writes were lost in between, it records a gap
//!   and continues from the oldest log the database still has.
//! - **Retention.** While it runs, the database keeps every log segment it
//!   has not shipped ([`LogTap`]); once it falls more than
//!   `max_unshipped_bytes` behind, the database releases them, and the
//!   archive records a gap as soon as the store takes writes again.
//! - **Fence.** Each chunk's key names the commit it continues after, and
//!   is created only if absent: of two archivers of one timeline in one
//!   store, the one that loses a race stops with
//!   [`Error::ArchiveConflict`].

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::chunk::{
    ChunkHeader, GAP_CHUNK_BYTES, HEADER_BYTES, LogChunkBuffer, chunk_key, encode_gap, parse_chunk_key, timeline_prefix,
};
use super::clock::now_unix_us;
use super::engine::BackupEngine;
use super::store::{BackupStore, Source};
use crate::db::{Db, LogStart, LogTap};
use crate::hlog::{CommitPoint, SegmentInfo, committed_prefix, record};
use crate::sync::{MutexExt, ThreadPriority};
use crate::version::DbIdentity;
use crate::{Error, LogAddress, Result, SeqNo};

/// How a [`LogArchive`] ships the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveOptions {
    pub(crate) interval: Duration,
    pub(crate) chunk_bytes: u64,
    pub(crate) max_unshipped_bytes: u64,
    pub(crate) nice: u8,
}

impl Default for ArchiveOptions {
    fn default() -> Self {
        ArchiveOptions {
            interval: Duration::from_secs(1),
            chunk_bytes: 16 << 20,
            max_unshipped_bytes: 1 << 30,
            nice: 10,
        }
    }
}

impl ArchiveOptions {
    /// Ship what became durable at most this long after it did (default 1
    /// s): one store request per interval at most while writes go on,
    /// whatever their size.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Ship at once when this many bytes of durable log wait (default 16
    /// MiB), and make no chunk much larger (a single larger commit is
    /// shipped whole).
    pub fn chunk_bytes(mut self, bytes: u64) -> Self {
        self.chunk_bytes = bytes.max(4096);
        self
    }

    /// How far the archive may fall behind (bytes of durable log not yet in
    /// the store) before the database stops keeping the log for it
    /// (default 1 GiB): writers never wait for a slow or dead store, and
    /// the archive records a gap instead.
    pub fn max_unshipped_bytes(mut self, bytes: u64) -> Self {
        self.max_unshipped_bytes = bytes;
        self
    }

    /// How much the archive thread lowers its priority while it is within
    /// its interval (0 to 19, a Linux nice value added to the thread's
    /// own; default 10): reading, checking and storing the log costs about
    /// 2 ms of CPU per MiB, and while the oldest commit not yet shipped is
    /// younger than the interval the archive takes only the CPU the
    /// writers, flushes and compactions of the machine leave. Once that
    /// commit has waited an interval (or a `sync` or stop waits), it ships
    /// at its normal priority until it has caught up, so a busy machine
    /// delays it by about a chunk, not without bound. Where the system
    /// does not let a thread raise its priority again (no `CAP_SYS_NICE`,
    /// `RLIMIT_NICE` 0) the thread keeps its normal priority throughout;
    /// 0 does the same everywhere.
    pub fn nice(mut self, nice: u8) -> Self {
        self.nice = nice.min(19);
        self
    }
}

/// A gap an archive recorded: the history after `after` is lost up to
/// `resume` (no restore crosses it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveGap {
    /// The last commit shipped before it.
    pub after: SeqNo,
    /// The commit the archive continued after.
    pub resume: SeqNo,
    /// Bytes of log the archive was behind when the database released it.
    pub lost_bytes: u64,
}

/// What a [`LogArchive`] has done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveStats {
    /// The timeline shipped.
    pub timeline: DbIdentity,
    /// Every commit up to this seqno is in the store (or before a gap).
    pub shipped_seqno: SeqNo,
    /// The newest commit durable locally.
    pub durable_seqno: SeqNo,
    /// Bytes of durable log not yet in the store.
    pub unshipped_bytes: u64,
    /// Chunks stored by this archive.
    pub chunks_shipped: u64,
    /// Bytes of log stored by this archive.
    pub bytes_shipped: u64,
    /// How long after it was made the newest shipped commit reached the
    /// store.
    pub last_lag: Option<Duration>,
    /// Gaps this archive recorded.
    pub gaps: Vec<ArchiveGap>,
    /// Shipments that failed (each retried).
    pub failures: u64,
    /// The newest failure, while the archive has not shipped since.
    pub last_error: Option<String>,
    /// Set when the archive stopped for good (another archiver won the
    /// timeline): why.
    pub stopped: Option<String>,
}

/// A database's log being shipped to a backup store as it commits; from
/// [`BackupEngine::archive`]. Dropping it ships what is durable and stops
/// (as [`stop`](Self::stop) does, without the report). The database stays
/// open (its lock held) until the archive is dropped.
#[derive(Debug)]
pub struct LogArchive {
    shared: Arc<Shared>,
    tap: Arc<LogTap>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Wakes the thread (a sync, a stop).
    wake: Condvar,
    /// Wakes waiters after every attempt.
    attempted: Condvar,
}

#[derive(Debug)]
struct State {
    stats: ArchiveStats,
    /// Counts shipping attempts (successful or not).
    attempts: u64,
    /// A caller waits for everything up to this seqno.
    sync_wanted: bool,
    stop: bool,
    /// The thread ended.
    ended: bool,
    /// The error of the newest failed attempt.
    last_failure: Option<Error>,
    /// The error that stopped it for good.
    fatal: Option<Error>,
}

/// Where the archive stands: the next chunk continues after `after`,
/// from log address `address`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Position {
    after: SeqNo,
    address: u64,
}

/// A gap to record before shipping on.
#[derive(Clone, Copy, Debug)]
struct PendingGap {
    /// Where the history resumes, when the log is already held there (a
    /// new archive); `None` after a release: the log is held again, at
    /// its current start, only when the gap can be recorded.
    resume: Option<LogStart>,
    /// The first record of a timeline's archive: the history before the
    /// database's log start was never archived (and the key after seqno 0
    /// fences two first archivers).
    genesis: bool,
}

impl BackupEngine {
    /// Starts shipping `db`'s log to the store as it commits (see
    /// [`LogArchive`]): a background thread stores every newly durable
    /// range of whole commits as a chunk, at most every
    /// [`interval`](ArchiveOptions::interval), sooner when
    /// [`chunk_bytes`](ArchiveOptions::chunk_bytes) wait.
    ///
    /// Together with the base backups of the same timeline in the store,
    /// the archive makes every commit restorable
    /// ([`restore_to`](Self::restore_to)). It continues the timeline's
    /// archive where the store's ends; if the database no longer holds the
    /// log from there (it ran without an archive meanwhile), it records a
    /// gap first. Fails with [`Error::ArchiveConflict`] when the store's
    /// archive of this timeline is not this database's history, and with
    /// the store's error when it cannot be read.
    pub fn archive(&self, db: &Db, options: ArchiveOptions) -> Result<LogArchive> {
        let Some(timeline) = db.identity() else {
            return Err(Error::invalid("a database opened read-only has no log to archive"));
        };
        if let Some(chosen) = self.database
            && chosen != Some(timeline)
        {
            return Err(Error::invalid(format!(
                "{} is database {timeline}, not the chosen database {}",
                db.path().display(),
                super::scope::database_name(chosen)
            )));
        }
        let (tap, start) = db.log_tap(options.max_unshipped_bytes)?;
        let tap = Arc::new(tap);
        let store = Arc::clone(&self.store);
        let (position, gap) = resume(&*store, &tap, timeline, start)?;
        let (durable, _) = tap.durable_log();
        let stats = ArchiveStats {
            timeline,
            shipped_seqno: position.after,
            durable_seqno: durable.seqno,
            unshipped_bytes: durable.end.0.saturating_sub(position.address),
            chunks_shipped: 0,
            bytes_shipped: 0,
            last_lag: None,
            gaps: Vec::new(),
            failures: 0,
            last_error: None,
            stopped: None,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                stats,
                attempts: 0,
                sync_wanted: false,
                stop: false,
                ended: false,
                last_failure: None,
                fatal: None,
            }),
            wake: Condvar::new(),
            attempted: Condvar::new(),
        });
        let mut shipper = Shipper {
            store,
            tap: Arc::clone(&tap),
            timeline,
            options,
            position,
            gap,
            shared: Arc::clone(&shared),
            chunk: LogChunkBuffer::default(),
            waited_for: false,
        };
        let thread = std::thread::Builder::new()
            .name("cairndb-archive".into())
            .spawn(move || shipper.run())
            .map_err(|e| Error::io("start the log archive thread", db.path(), e))?;
        Ok(LogArchive { shared, tap, thread: Some(thread) })
    }
}

impl LogArchive {
    /// Returns once everything durable locally when it was called is in
    /// the store: the seqno shipped up to. Fails with the store's error if
    /// the next attempt fails (the archive retries on its own), with
    /// [`Error::ArchiveConflict`] if the archive stopped, and with an
    /// `InvalidArgument` error naming the gap if one swallowed the range.
    pub fn sync(&self) -> Result<SeqNo> {
        let target = self.tap.durable_log().0.seqno;
        let mut state = self.shared.state.locked();
        loop {
            if let Some(fatal) = &state.fatal {
                return Err(clone_error(fatal));
            }
            if state.stats.shipped_seqno >= target {
                if let Some(gap) = state.stats.gaps.iter().find(|g| g.after < target && target <= g.resume) {
                    return Err(Error::invalid(format!(
                        "the archive has a gap after seqno {} (resuming after {}): writes up to {target} are not \
                         all archived",
                        gap.after, gap.resume
                    )));
                }
                return Ok(state.stats.shipped_seqno);
            }
            if state.ended {
                return Err(Error::invalid("the log archive has stopped"));
            }
            let attempts = state.attempts;
            state.sync_wanted = true;
            self.shared.wake.notify_all();
            while state.attempts == attempts && !state.ended {
                state = self.shared.attempted.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if let Some(fatal) = &state.fatal {
                return Err(clone_error(fatal));
            }
            if state.stats.shipped_seqno < target
                && let Some(failure) = &state.last_failure
            {
                return Err(clone_error(failure));
            }
        }
    }

    /// What the archive has done so far.
    pub fn stats(&self) -> ArchiveStats {
        self.shared.state.locked().stats.clone()
    }

    /// Ships what is durable, stops the thread and reports; the error of
    /// the last attempt if it failed.
    pub fn stop(mut self) -> Result<ArchiveStats> {
        self.finish();
        let state = self.shared.state.locked();
        if let Some(fatal) = &state.fatal {
            return Err(clone_error(fatal));
        }
        if let Some(failure) = &state.last_failure
            && state.stats.unshipped_bytes > 0
        {
            return Err(clone_error(failure));
        }
        Ok(state.stats.clone())
    }

    fn finish(&mut self) {
        {
            let mut state = self.shared.state.locked();
            state.stop = true;
        }
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LogArchive {
    fn drop(&mut self) {
        self.finish();
    }
}

/// An error again, for a second caller (errors are not `Clone`: their I/O
/// sources are not).
fn clone_error(e: &Error) -> Error {
    match e {
        Error::ArchiveConflict { store, timeline, what } => {
            Error::ArchiveConflict { store: store.clone(), timeline: *timeline, what: what.clone() }
        }
        Error::Io { op, path, dest, source } => Error::Io {
            op,
            path: path.clone(),
            dest: dest.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        Error::Corruption { file, offset, what } => {
            Error::Corruption { file: file.clone(), offset: *offset, what: what.clone() }
        }
        other => Error::invalid(other.to_string()),
    }
}

/// Where a new archive of `timeline` continues, and a gap to record first.
fn resume(
    store: &dyn BackupStore,
    tap: &LogTap,
    timeline: DbIdentity,
    start: LogStart,
) -> Result<(Position, Option<PendingGap>)> {
    let listed = store.list(&timeline_prefix(timeline))?;
    let Some(last) = listed.iter().rev().find(|o| parse_chunk_key(&o.key).is_some_and(|(t, _)| t == timeline)) else {
        // The timeline's first chunk: every archiver of it starts with the
        // key after seqno 0, so of two first archivers one loses.
        let position = Position { after: SeqNo(0), address: start.address.0 };
        let genesis = (start.seqno > SeqNo(0)).then_some(PendingGap { resume: Some(start), genesis: true });
        return Ok((position, genesis));
    };
    let location = store.location(&last.key);
    let head = store.get_range(&last.key, 0..HEADER_BYTES as u64)?;
    let header = ChunkHeader::decode(&head).map_err(|(at, what)| Error::corruption(location.as_ref(), at, what))?;
    if header.timeline != timeline || parse_chunk_key(&last.key).map(|(_, a)| a) != Some(header.after) {
        return Err(Error::corruption(location.as_ref(), 0, "the chunk's header does not match its key"));
    }
    if header.is_gap() != (last.size_bytes == GAP_CHUNK_BYTES) {
        return Err(Error::corruption(location.as_ref(), 0, "the chunk's size does not match its kind"));
    }
    // The chain ends after `header.last`, at address `end`.
    let end = header.last_commit.1;
    let conflict = |what: String| Error::ArchiveConflict { store: store.location(""), timeline, what };
    // A chain ending exactly at the log start ends with the memtable
    // before it, whose segments are gone: nothing to check, nothing lost
    // if the tables hold exactly up to its last commit.
    if end >= start.retained.0 {
        let (durable, segments) = tap.durable_log();
        if end > durable.end.0 || header.last > durable.seqno {
            return Err(conflict(format!(
                "the store's archive reaches seqno {} (log address {end}), past this database's durable log \
                 (seqno {}, address {}): another copy of this database, with the same identity, was archived there",
                header.last, durable.seqno, durable.end
            )));
        }
        if !header.is_gap() {
            let (commit_start, commit_end, checksum) = header.last_commit;
            match read_record(tap, &segments, commit_start, commit_end)? {
                Some((seqno, sum)) if seqno == header.last.0 && sum == checksum => {
                    return Ok((Position { after: header.last, address: end }, None));
                }
                Some(_) => {
                    return Err(conflict(format!(
                        "the store's archive ends with a commit at seqno {} (log address {commit_start}) that this \
                         database's log does not hold: it is another history under the same identity",
                        header.last
                    )));
                }
                // Its segment is gone (below the log start): as below.
                None => {}
            }
        } else if end >= start.retained.0 {
            return Ok((Position { after: header.last, address: end }, None));
        }
    }
    // The log from the chain's end is gone from the disk (or was never
    // held past the log start).
    if start.seqno == header.last {
        return Ok((Position { after: header.last, address: start.address.0 }, None));
    }
    if start.seqno < header.last {
        return Err(Error::corruption(
            location.as_ref(),
            0,
            format!(
                "the chunk ends at seqno {} and log address {end}, but this database's log starts at address {} \
                 with seqno {} in tables",
                header.last, start.address, start.seqno
            ),
        ));
    }
    let position = Position { after: header.last, address: end };
    Ok((position, Some(PendingGap { resume: Some(start), genesis: false })))
}

/// The seqno and stored checksum of the commit record at `start..end` of the
/// local log, if it is one.
fn read_record(tap: &LogTap, segments: &[SegmentInfo], start: u64, end: u64) -> Result<Option<(u64, u64)>> {
    let Some(segment) = segments.iter().find(|s| s.start.0 <= start && end <= s.durable_end.0) else {
        return Ok(None);
    };
    let mut bytes = vec![0u8; usize::try_from(end - start).map_err(|_| Error::invalid("a log range too large"))?];
    tap.read_into(segment, start, &mut bytes)?;
    Ok(match record::decode(&bytes) {
        Ok(rec) if rec.kind == record::Kind::Commit && rec.len_bytes == bytes.len() => {
            Some((rec.seqno, u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"))))
        }
        _ => None,
    })
}

/// The thread's side.
struct Shipper {
    store: Arc<dyn BackupStore>,
    tap: Arc<LogTap>,
    timeline: DbIdentity,
    options: ArchiveOptions,
    position: Position,
    gap: Option<PendingGap>,
    shared: Arc<Shared>,
    /// The chunk being built, its memory kept from one to the next.
    chunk: LogChunkBuffer,
    /// Someone waits for the archive (a sync, a stop): ship at the
    /// thread's normal priority, however recent the log.
    waited_for: bool,
}

/// What one look at the log found to do.
enum Outcome {
    Idle,
    Shipped,
}

impl Shipper {
    fn run(&mut self) {
        let mut priority = ThreadPriority::new(self.options.nice);
        let tick = (self.options.interval / 4).clamp(Duration::from_millis(5), Duration::from_millis(100));
        let mut last_ship = Instant::now();
        let mut retry_at: Option<Instant> = None;
        let mut backoff = self.options.interval.max(Duration::from_millis(100));
        loop {
            let (stop, sync_wanted) = {
                let mut state = self.shared.state.locked();
                if !state.stop && !state.sync_wanted {
                    state = self.shared.wake.wait_timeout(state, tick).unwrap_or_else(|p| p.into_inner()).0;
                }
                (state.stop, std::mem::take(&mut state.sync_wanted))
            };
            let (durable, _) = self.tap.durable_log();
            let waiting = durable.end.0.saturating_sub(self.position.address);
            let due = sync_wanted
                || stop
                || self.gap.is_some()
                || self.tap.released().is_some()
                || (waiting > 0 && last_ship.elapsed() >= self.options.interval)
                || waiting >= self.options.chunk_bytes;
            let retry_wait = retry_at.is_some_and(|at| Instant::now() < at) && !sync_wanted && !stop;
            if due && !retry_wait {
                self.waited_for = sync_wanted || stop;
                match self.ship_all(&mut priority) {
                    Ok(_) => {
                        retry_at = None;
                        backoff = self.options.interval.max(Duration::from_millis(100));
                        last_ship = Instant::now();
                        self.note(|state| state.last_failure = None);
                    }
                    Err(e @ Error::ArchiveConflict { .. }) => {
                        log::error!("{e}");
                        self.note(|state| {
                            state.stats.stopped = Some(e.to_string());
                            state.fatal = Some(e);
                        });
                        break;
                    }
                    Err(e) => {
                        log::warn!("the log archive could not ship (it retries): {e}");
                        retry_at = Some(Instant::now() + backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        self.note(|state| {
                            state.stats.failures += 1;
                            state.stats.last_error = Some(e.to_string());
                            state.last_failure = Some(e);
                        });
                    }
                }
            } else {
                priority.set_behind(false);
                self.note(|_| {});
            }
            if stop {
                break;
            }
        }
        // Stopped (asked to, or for good): the log is no longer held.
        self.tap.detach();
        let mut state = self.shared.state.locked();
        state.ended = true;
        drop(state);
        self.shared.attempted.notify_all();
    }

    /// Records the outcome of an attempt (and the log's state) and wakes
    /// the waiters.
    fn note(&self, change: impl FnOnce(&mut State)) {
        let (durable, _) = self.tap.durable_log();
        let mut state = self.shared.state.locked();
        change(&mut state);
        state.stats.durable_seqno = durable.seqno;
        state.stats.shipped_seqno = self.position.after;
        state.stats.unshipped_bytes = durable.end.0.saturating_sub(self.position.address);
        state.attempts += 1;
        drop(state);
        self.shared.attempted.notify_all();
    }

    /// Ships everything durable now (at least one chunk's worth at a time).
    fn ship_all(&mut self, priority: &mut ThreadPriority) -> Result<Outcome> {
        let mut outcome = Outcome::Idle;
        loop {
            if self.gap.is_none() && self.tap.released().is_some() {
                self.gap = Some(PendingGap { resume: None, genesis: false });
            }
            if let Some(gap) = self.gap {
                self.record_gap(gap)?;
                outcome = Outcome::Shipped;
            }
            match self.ship_one(priority)? {
                Outcome::Idle => return Ok(outcome),
                Outcome::Shipped => outcome = Outcome::Shipped,
            }
        }
    }

    /// Records the pending gap, then continues from where the history
    /// resumes. After a release the log is held again (at its current
    /// start) only while the record is written: if that fails, the hold is
    /// let go again, so an outage costs one gap, not one per flush.
    fn record_gap(&mut self, gap: PendingGap) -> Result<()> {
        let resume = match gap.resume {
            Some(resume) => resume,
            None => self.tap.hold_again(),
        };
        if resume.seqno <= self.position.after {
            // Nothing was lost: the log continues from the database's log start.
            self.position.address = resume.address.0;
            self.gap = None;
            return Ok(());
        }
        let lost_bytes = resume.address.0.saturating_sub(self.position.address);
        let (_, bytes) =
            encode_gap(self.timeline, self.position.after, resume.seqno, resume.address.0, lost_bytes, now_unix_us());
        if let Err(e) = self.put(&bytes) {
            if gap.resume.is_none() {
                self.tap.let_go();
            }
            return Err(e);
        }
        let recorded = ArchiveGap { after: self.position.after, resume: resume.seqno, lost_bytes };
        if !gap.genesis {
            log::error!(
                "the log archive of {} has a gap: the writes after seqno {} up to {} are not archived ({} bytes \
                 of log lost); restores cannot cross it, coverage resumes with the next base backup",
                self.timeline,
                recorded.after,
                recorded.resume,
                lost_bytes
            );
        }
        self.position = Position { after: resume.seqno, address: resume.address.0 };
        self.gap = None;
        self.tap.shipped_to(resume.address);
        if !gap.genesis {
            self.note_only(|state| state.stats.gaps.push(recorded));
        } else {
            self.note_only(|_| {});
        }
        Ok(())
    }

    fn note_only(&self, change: impl FnOnce(&mut State)) {
        let mut state = self.shared.state.locked();
        change(&mut state);
        state.stats.shipped_seqno = self.position.after;
    }

    /// Stores `bytes` as the chunk continuing after the position, create-only.
    fn put(&self, bytes: &dyn Source) -> Result<()> {
        let key = chunk_key(self.timeline, self.position.after);
        match self.store.put_if_absent(&key, bytes) {
            Err(e) if e.is_already_exists() => Err(Error::ArchiveConflict {
                store: self.store.location(""),
                timeline: self.timeline,
                what: format!(
                    "another archiver stored {} first (the history after seqno {})",
                    self.store.location(&key),
                    self.position.after
                ),
            }),
            other => other,
        }
    }

    /// Whether the archive is behind: the oldest commit it has yet to ship
    /// has waited an interval or more (at a full-speed writer chunks fill
    /// in a fraction of one; at a slow one, when CPU is spare anyway, the
    /// interval passes first).
    fn behind(&self, oldest: &CommitPoint) -> bool {
        oldest.time_us.is_none_or(|t| Duration::from_micros(now_unix_us().saturating_sub(t)) >= self.options.interval)
    }

    /// Ships the next chunk of durable log, if there is any.
    fn ship_one(&mut self, priority: &mut ThreadPriority) -> Result<Outcome> {
        let (durable, segments) = self.tap.durable_log();
        if durable.end.0 <= self.position.address {
            return Ok(Outcome::Idle);
        }
        let page_size = self.tap.page_size_bytes();
        let mut budget = self.options.chunk_bytes;
        let commits = loop {
            let read = self.read_pieces(&segments, durable.end.0, budget)?;
            let found = committed_prefix(&self.chunk.log_pieces(), page_size, self.position.after.0).map_err(|d| {
                let (segment, from) = self.chunk.piece_origin(d.piece);
                Error::corruption(
                    &self.tap.path().join("log"),
                    d.offset,
                    format!(
                        "segment {segment} at log address {}: {} (the archive ships nothing it cannot check)",
                        from + d.offset,
                        d.what
                    ),
                )
            })?;
            // The commits that fit the budget (at least one).
            let fit = found.commits.iter().take_while(|c| c.end - self.position.address <= budget).count().max(1);
            if found.commits.is_empty() {
                if read >= durable.end.0 - self.position.address {
                    return Err(Error::corruption(
                        &self.tap.path().join("log"),
                        0,
                        format!("no whole commit in the durable log after log address {}", self.position.address),
                    ));
                }
                budget = budget.saturating_mul(2);
                continue;
            }
            let mut commits = found.commits;
            commits.truncate(fit);
            break commits;
        };
        let last = *commits.last().expect("at least one");
        priority.set_behind(self.waited_for || self.behind(&commits[0]));
        self.chunk.seal(self.timeline, self.position.after, page_size, &commits);
        let shipped_bytes = self.chunk.log_bytes();
        let stored = self.put(&self.chunk.sealed());
        self.chunk.shrink_to(usize::try_from(self.options.chunk_bytes).unwrap_or(usize::MAX));
        stored?;
        self.position = Position { after: SeqNo(last.seqno), address: last.end };
        self.tap.shipped_to(LogAddress(last.end));
        let lag = last.time_us.map(|t| Duration::from_micros(now_unix_us().saturating_sub(t)));
        self.note_only(|state| {
            state.stats.chunks_shipped += 1;
            state.stats.bytes_shipped += shipped_bytes;
            state.stats.last_lag = lag;
            state.stats.last_error = None;
        });
        Ok(Outcome::Shipped)
    }

    /// Reads the durable log from the position up to `end`, about
    /// `budget` bytes of it, into the chunk buffer, one piece per segment;
    /// returns the bytes read.
    fn read_pieces(&mut self, segments: &[SegmentInfo], end: u64, budget: u64) -> Result<u64> {
        self.chunk.clear();
        let mut left = budget;
        for segment in segments {
            if left == 0 {
                break;
            }
            let from = self.position.address.max(segment.start.0);
            let to = segment.durable_end.0.min(end).min(from.saturating_add(left));
            if from >= to {
                continue;
            }
            let len = usize::try_from(to - from).map_err(|_| Error::invalid("a log range too large"))?;
            let room = self.chunk.add_piece(segment.number, segment.start.0, from, len);
            self.tap.read_into(segment, from, room)?;
            left -= to - from;
        }
        Ok(budget - left)
    }
}
