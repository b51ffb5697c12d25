//! Recovery's steps: list and sort the segment files ([`chain`]), read
//! the live ones and judge their records ([`scan`]), cut the torn tail
//! from the files, and build the memtable and the log's plan.
//!
//! The rule (protocol-aware recovery): only what a crash can leave is cut
//! — the bytes after the last valid commit, in the segments the
//! interrupted persist wrote. Recovery truncates the segment holding the
//! last valid commit back to it and removes the later segments, which hold
//! nothing any commit covers (and a newest file a crash left without a
//! whole header). Everything else — a damaged header, a missing or
//! out-of-chain segment, a bad record with anything valid or durable after
//! it — is [`Error::Corruption`] naming the file and offset, and nothing is
//! changed on disk. A read-only open changes nothing in any case.

use std::path::Path;
use std::sync::Arc;

use super::chain::{Chain, SegmentFile, chain};
use super::scan::{Body, Damage, Scan, scan};
use crate::fs::{Fs, OpenOptions, create_dir_all_durably};
use crate::hlog::hash_index::{self, HashIndex};
use crate::hlog::memtable::Memtable;
use crate::hlog::page::Page;
use crate::hlog::persist::{Plan, PlannedSegment};
use crate::hlog::record;
use crate::hlog::segment::{self, SegmentHeader};
use crate::{Error, LogAddress, Result, SeqNo};

/// Where recovery starts and the seqno floor the caller already holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayFrom {
    /// First log address not yet in tables: the start of a memtable (what
    /// [`FrozenLog::address_range`](crate::hlog::FrozenLog::address_range)`.end`
    /// reported), or 0 for a new database. Segments wholly below it are
    /// obsolete and not read.
    pub address: LogAddress,
    /// The smallest seqno the next write may take (one more than the
    /// highest seqno already in tables).
    pub next_seqno: SeqNo,
}

/// What recovery found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segments read (those at or above the replay address).
    pub segments_read: usize,
    /// Key records (values and tombstones) restored into the memtable.
    pub records_recovered: u64,
    /// Valid commit records found.
    pub commits: u64,
    /// Highest seqno restored (or the caller's floor minus one).
    pub last_seqno: SeqNo,
    /// End of the last valid commit record.
    pub durable_end: LogAddress,
    /// Where the first byte after it that was dropped lay, if any was.
    pub torn_at: Option<LogAddress>,
    /// Segment files removed because they held only a torn tail.
    pub segments_removed: Vec<u64>,
    /// Where new writes begin.
    pub next_address: LogAddress,
}

/// What recovery does with a torn tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tail {
    /// Drop it and cut it from the files (unless read-only): what a crash
    /// left.
    CutTorn,
    /// Refuse it as corruption and change nothing: the log of a copy ends
    /// at a commit when made, so a tail in it is damage.
    Refuse,
}

/// What `open` builds the log from.
pub(crate) struct Recovered {
    pub(crate) memtable: Arc<Memtable>,
    pub(crate) plan: Plan,
    pub(crate) page_size: u64,
    pub(crate) last_seqno: u64,
    pub(crate) next_address: u64,
    /// When the last valid commit was made, in µs (0 if unknown).
    pub(crate) last_commit_us: u64,
    pub(crate) report: RecoveryReport,
}

/// A live segment read whole.
struct Loaded {
    number: u64,
    start: u64,
    /// The log bytes (after the header).
    bytes: Vec<u8>,
}

impl Loaded {
    fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

pub(crate) fn recover(
    fs: &dyn Fs,
    log_dir: &Path,
    page_size: u64,
    expected_keys: usize,
    replay: ReplayFrom,
    read_only: bool,
    tail: Tail,
) -> Result<Recovered> {
    if replay.address.0 > record::ADDRESS_LIMIT {
        let what = format!(
            "the log is to continue at address {}, past the end of the log's address space ({})",
            replay.address,
            record::ADDRESS_LIMIT
        );
        return Err(Error::corruption(log_dir, 0, what));
    }
    let numbers = if !read_only {
        create_dir_all_durably(fs, log_dir)?;
        segment::list(fs, log_dir)?
    } else if fs.exists(log_dir)? {
        segment::list(fs, log_dir)?
    } else {
        Vec::new()
    };
    let files = numbers.iter().map(|&n| list_file(fs, log_dir, n)).collect::<Result<Vec<_>>>()?;
    let chain = chain(&files, replay.address.0).map_err(|d| corrupt(log_dir, files[d.index].number, &d))?;
    for &i in &chain.damaged_obsolete {
        log::warn!(
            "ignoring obsolete log segment {} (below the replay address): its header is damaged",
            files[i].number
        );
    }
    let page_size =
        chain.live.first().and_then(|&i| files[i].header.ok()).map_or(page_size, |h| h.page_size_bytes as u64);
    let loaded = chain.live.iter().map(|&i| load_body(fs, log_dir, &files[i])).collect::<Result<Vec<_>>>()?;
    let bodies: Vec<Body<'_>> = loaded.iter().map(|l| Body { start: l.start, bytes: &l.bytes }).collect();
    let scan = scan(&bodies, page_size).map_err(|d| corrupt(log_dir, loaded[d.index].number, &d))?;
    let cut = Cut::plan(&files, &chain, &loaded, &scan);
    // A copy's log ends at a commit when made: even a segment holding
    // nothing after it is damage there, and nothing is removed.
    if tail == Tail::Refuse && (scan.tail_at.is_some() || !cut.remove.is_empty()) {
        let (number, offset) = match (scan.tail_at, loaded.last()) {
            (Some(at), Some(last)) => {
                let seg = loaded.iter().rfind(|l| l.start <= at).unwrap_or(last);
                (seg.number, segment::HEADER_BYTES as u64 + at.saturating_sub(seg.start))
            }
            _ => (cut.remove[0], 0),
        };
        let what = "the log of a copy (a checkpoint or a restored backup) ends at a commit when made, \
                    but this one does not: its tail is torn or damaged";
        return Err(segment::corrupt(log_dir, number, offset, what));
    }
    // Before anything changes on disk: a corrupt log is left as it is.
    let (base, _, next_address) = bounds(replay, &scan, page_size);
    check_span(log_dir, &loaded[..cut.kept], next_address - base, page_size)?;
    if !read_only {
        cut.apply(fs, log_dir, &loaded)?;
        sync_kept(fs, log_dir, &loaded[..cut.kept])?;
    }
    let expected_keys = expected_keys.max(scan.accepted.len() * 2);
    let hashed = HashIndex::with_capacity(expected_keys);
    build(log_dir, page_size, hashed, replay, &files, &chain, &loaded, scan, cut)
}

fn corrupt(log_dir: &Path, number: u64, damage: &Damage) -> Error {
    segment::corrupt(log_dir, number, segment::HEADER_BYTES as u64 + damage.offset, damage.what.clone())
}

/// A segment file's number, length and header (only the header is read).
fn list_file(fs: &dyn Fs, log_dir: &Path, number: u64) -> Result<SegmentFile> {
    let file = fs.open(&segment::path(log_dir, number), OpenOptions::read())?;
    let len_bytes = file.len()?;
    let mut header_bytes = vec![0u8; segment::HEADER_BYTES.min(len_bytes as usize)];
    file.read_exact_at(&mut header_bytes, 0)?;
    let header = SegmentHeader::decode(&header_bytes).and_then(|h| {
        // Decoded, so the file holds a whole header.
        let body_bytes = len_bytes - segment::HEADER_BYTES as u64;
        if h.number != number {
            Err("segment header names another segment number")
        } else if h.start.checked_add(body_bytes).is_none_or(|end| end > record::ADDRESS_LIMIT) {
            Err("segment start address out of range")
        } else {
            Ok(h)
        }
    });
    Ok(SegmentFile { number, header, len_bytes, header_bytes })
}

fn load_body(fs: &dyn Fs, log_dir: &Path, file: &SegmentFile) -> Result<Loaded> {
    let header = file.header.expect("live segments have valid headers");
    let handle = fs.open(&segment::path(log_dir, file.number), OpenOptions::read())?;
    let body_len = file.len_bytes - segment::HEADER_BYTES as u64;
    let body_len = usize::try_from(body_len).map_err(|_| Error::invalid("a log segment too large to read"))?;
    let mut bytes = vec![0u8; body_len];
    handle.read_exact_at(&mut bytes, segment::HEADER_BYTES as u64)?;
    Ok(Loaded { number: file.number, start: header.start, bytes })
}

/// Fsyncs the segments recovery keeps, before the log takes a write.
///
/// What recovery accepted may have reached only the page cache: a process
/// killed between a persist's write and its fsync, or one whose fsync
/// failed, leaves valid commits that are not on disk. New writes, persisted
/// after them, must not become durable while they are not: a power cut
/// would then leave a hole (acknowledged writes after lost ones) that no
/// recovery could tell from damage. (After a failed fsync Linux may have
/// dropped the dirty pages already; what the page cache still shows is all
/// anyone can make durable.)
fn sync_kept(fs: &dyn Fs, log_dir: &Path, kept: &[Loaded]) -> Result<()> {
    for segment in kept {
        fs.open(&segment::path(log_dir, segment.number), OpenOptions::read())?.sync_data()?;
    }
    if !kept.is_empty() {
        fs.sync_directory(log_dir)?;
    }
    Ok(())
}

/// What recovery cuts from the files: decided first, then applied.
#[derive(Debug, Default)]
struct Cut {
    /// Live segments kept (a prefix of the chain).
    kept: usize,
    /// The segment holding the last commit, truncated to this file length.
    truncate: Option<(u64, u64)>,
    /// Files removed, newest first.
    remove: Vec<u64>,
}

impl Cut {
    /// The segments after the one holding the last valid commit hold a
    /// torn tail or nothing at all (the header of a segment an interrupted
    /// persist created, whose records never reached the disk); either way
    /// they go, so that the next segment, which starts where the log
    /// continues, is never numbered after one that starts further on.
    fn plan(files: &[SegmentFile], chain: &Chain, loaded: &[Loaded], scan: &Scan) -> Cut {
        let mut cut = Cut { kept: scan.commit_end.map_or(0, |(_, index)| index + 1), ..Cut::default() };
        if let Some(i) = chain.torn_creation {
            cut.remove.push(files[i].number);
        }
        debug_assert!(scan.tail_at.is_some() || loaded[cut.kept..].iter().all(|l| l.bytes.is_empty()));
        if scan.tail_at.is_some()
            && let Some((end, index)) = scan.commit_end
            && end < loaded[index].end()
        {
            let len = segment::HEADER_BYTES as u64 + (end - loaded[index].start);
            cut.truncate = Some((loaded[index].number, len));
        }
        cut.remove.extend(loaded[cut.kept..].iter().rev().map(|l| l.number));
        cut
    }

    /// Removes the later segments newest first — so a crash part-way
    /// leaves a shorter chain holding the same tail — then truncates.
    fn apply(&self, fs: &dyn Fs, log_dir: &Path, loaded: &[Loaded]) -> Result<()> {
        debug_assert!(loaded.iter().skip(self.kept).all(|l| self.remove.contains(&l.number)));
        for &number in &self.remove {
            fs.remove_file(&segment::path(log_dir, number))?;
        }
        if !self.remove.is_empty() {
            fs.sync_directory(log_dir)?;
        }
        if let Some((number, len)) = self.truncate {
            let file = fs.open(&segment::path(log_dir, number), OpenOptions::read_write())?;
            file.set_len(len)?;
            file.sync_all()?;
        }
        Ok(())
    }
}

#[expect(clippy::too_many_arguments, reason = "recovery's pieces, passed once")]
fn build(
    log_dir: &Path,
    page_size: u64,
    hashed: HashIndex,
    replay: ReplayFrom,
    files: &[SegmentFile],
    chain: &Chain,
    loaded: &[Loaded],
    scan: Scan,
    cut: Cut,
) -> Result<Recovered> {
    let (base, durable_end, next_address) = bounds(replay, &scan, page_size);
    let memtable = Arc::new(Memtable::recovered(base, page_size, next_address - base, hashed));
    // End of the last installed record: the gap before the next one (if on
    // the same page) holds records not installed, and gets padded over.
    let mut installed_to = base;
    for &(index, offset, address) in &scan.accepted {
        let bytes = &loaded[index].bytes[offset..];
        let rec = record::decode(bytes).expect("scan decoded it");
        install_record(&memtable, address, &bytes[..rec.len_bytes]);
        let page_start = memtable.page(address).expect("just installed").start();
        let from = installed_to.max(page_start);
        if from < address {
            // Whole records lie between two records of one page: a gap too
            // small for one comes from a segment placed where no writer
            // would have put it.
            if address - from < record::HEADER_BYTES as u64 {
                let offset = segment::HEADER_BYTES + offset;
                let what = "record does not start where a page's records can";
                return Err(segment::corrupt(log_dir, loaded[index].number, offset as u64, what));
            }
            memtable.pad_recovered(from, address);
        }
        installed_to = address + rec.len_bytes as u64;
        memtable.index_recovered(address, rec.key, rec.seqno);
    }
    memtable.set_recovered_tail(next_address);
    let last_seqno = scan.commit_seqno.max(replay.next_seqno.0.saturating_sub(1));
    let last_commit_us = scan.points.last().and_then(|p| p.time_us).unwrap_or(0);
    let (segments, next_number) = plan_segments(files, chain, &loaded[..cut.kept], durable_end, &cut.remove);
    let plan = Plan {
        segments,
        committed_end: durable_end,
        committed_seqno: last_seqno,
        written_end: durable_end,
        written_seqno: last_seqno,
        durable_end,
        durable_seqno: last_seqno,
        next_number,
    };
    let report = RecoveryReport {
        segments_read: loaded.len(),
        records_recovered: scan.accepted.len() as u64,
        commits: scan.commits,
        last_seqno: SeqNo(last_seqno),
        durable_end: LogAddress(durable_end),
        torn_at: scan.tail_at.map(LogAddress),
        segments_removed: cut.remove,
        next_address: LogAddress(next_address),
    };
    Ok(Recovered { memtable, plan, page_size, last_seqno, next_address, last_commit_us, report })
}

/// The recovered memtable's base (the replay address's page), the end of
/// the last valid commit, and where new writes begin (the next page).
fn bounds(replay: ReplayFrom, scan: &Scan, page_size: u64) -> (u64, u64, u64) {
    let base = replay.address.0 - replay.address.0 % page_size;
    let durable_end = scan.commit_end.map_or(base, |(e, _)| e);
    let next_address = durable_end.max(replay.address.0).next_multiple_of(page_size);
    (base, durable_end, next_address)
}

/// Checks that the log to replay spans no more address space than its
/// bytes fill. A writer leaves less than a page between one segment's end
/// and the next one's start (a new memtable starts at the next page
/// boundary), so the span is at most the segments' bytes and a page per
/// segment; wider is damage, reported at the first segment placed further
/// out, and would ask for page slots (and point-index offsets) no memtable
/// needs.
fn check_span(log_dir: &Path, loaded: &[Loaded], span: u64, page_size: u64) -> Result<()> {
    let bytes: u64 = loaded.iter().map(|l| l.bytes.len() as u64).sum();
    let explained = bytes.saturating_add((loaded.len() as u64 + 2).saturating_mul(page_size));
    if span <= explained.min(hash_index::OFFSET_LIMIT) {
        return Ok(());
    }
    let gap = |i: usize| loaded[i].start.saturating_sub(loaded[i - 1].end());
    let far = (1..loaded.len()).find(|&i| gap(i) >= page_size).unwrap_or(loaded.len().saturating_sub(1));
    let segment = loaded.get(far).expect("a span wider than two pages has segments");
    let what = format!(
        "the log spans {span} bytes of addresses for {bytes} bytes of segments: this segment starts {} bytes \
         after the one before it ends, where a writer leaves less than a page ({page_size} bytes)",
        if far == 0 { 0 } else { gap(far) }
    );
    Err(segment::corrupt(log_dir, segment.number, 0, what))
}

/// The segments the log knows after recovery, in address order, and the
/// number of the next one: one more than the newest file left, so the
/// chain stays gapless (a number of a removed torn file is used again).
fn plan_segments(
    files: &[SegmentFile],
    chain: &Chain,
    kept: &[Loaded],
    durable_end: u64,
    removed: &[u64],
) -> (Vec<PlannedSegment>, u64) {
    let sealed = |number: u64, start: u64, end: u64| PlannedSegment {
        number,
        start,
        limit: end,
        memtable: None,
        durable_end: end,
        sealed: true,
    };
    let mut segments = Vec::new();
    for &i in &chain.obsolete {
        let start = files[i].header.expect("obsolete segments have valid headers").start;
        let end = start + files[i].len_bytes.saturating_sub(segment::HEADER_BYTES as u64);
        segments.push(sealed(files[i].number, start, end));
    }
    // Known only to lie below the replay address: removable at once.
    for &i in &chain.damaged_obsolete {
        segments.push(sealed(files[i].number, 0, 0));
    }
    for s in kept {
        segments.push(sealed(s.number, s.start, s.end().min(durable_end.max(s.start))));
    }
    segments.sort_by_key(|s| (s.start, s.number));
    let newest = segments.iter().map(|s| s.number).max();
    let next_number = newest.map(|n| n + 1).or(removed.iter().copied().min()).unwrap_or(0);
    (segments, next_number)
}

/// Copies one record's bytes into the memtable, creating its page.
fn install_record(memtable: &Memtable, address: u64, bytes: &[u8]) {
    let page = match memtable.page(address) {
        Some(page) => Arc::clone(page),
        None => {
            let page_size = memtable.page_size();
            let start = address - (address - memtable.base()) % page_size;
            let len = (address + bytes.len() as u64 - start).next_multiple_of(page_size);
            let page = Arc::new(Page::new(start, len as usize));
            memtable.install_page(Arc::clone(&page));
            page
        }
    };
    page.write_bytes((address - page.start()) as usize, bytes);
}
