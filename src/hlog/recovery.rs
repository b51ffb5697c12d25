//! Recovery: replays segments from an address into a fresh memtable.
//!
//! The log is accepted up to its last valid commit record: a commit whose
//! own checksum holds, whose covered range starts right after the previous
//! commit, and whose range hash matches the records before it. Anything
//! after that is an interrupted persist (torn tail): dropped, and the files
//! cut back so it can never be mistaken for data later. A damaged spot is
//! corruption instead when a commit record written by a *later* persist
//! (its run start lies beyond the damage) survives: the damaged bytes had
//! been fsynced before that persist began; or when a valid record follows
//! the damage in the same file, which a crash cannot leave (a file keeps a
//! prefix of its unsynced writes, the last one possibly cut short).

use std::path::Path;
use std::sync::Arc;

use xxhash_rust::xxh3::Xxh3;

use super::hash_index::HashIndex;
use super::memtable::Memtable;
use super::page::{Page, WORD_BYTES};
use super::persist::{Plan, PlannedSegment};
use super::record::{self, DecodedRecord, Kind};
use super::segment::{self, SegmentHeader};
use crate::fs::{Fs, OpenOptions, read_to_vec, sync_parent};
use crate::{Error, LogAddress, Result, SeqNo};

/// Where recovery starts and the seqno floor the caller already holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayFrom {
    /// First log address not yet in tables: the start of a memtable (what
    /// [`FrozenLog::address_range`](super::FrozenLog::address_range)`.end`
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

/// What `open` builds the log from.
pub(crate) struct Recovered {
    pub(crate) memtable: Arc<Memtable>,
    pub(crate) plan: Plan,
    pub(crate) page_size: u64,
    pub(crate) last_seqno: u64,
    pub(crate) next_address: u64,
    pub(crate) report: RecoveryReport,
}

struct Loaded {
    number: u64,
    header: Result<SegmentHeader, &'static str>,
    /// The log bytes (after the header).
    bytes: Vec<u8>,
}

impl Loaded {
    fn start(&self) -> u64 {
        self.header.map(|h| h.start).unwrap_or(0)
    }

    fn end(&self) -> u64 {
        self.start() + self.bytes.len() as u64
    }
}

/// A key record accepted into the memtable: (segment index, offset, address).
type Accepted = (usize, usize, u64);

/// The outcome of scanning the loaded segments.
#[derive(Default)]
struct Scan {
    accepted: Vec<Accepted>,
    commits: u64,
    /// End of the last valid commit and its segment index.
    commit_end: Option<(u64, usize)>,
    commit_seqno: u64,
    /// The first spot after the last valid commit that is not part of it.
    bad: Option<(usize, u64, &'static str)>,
    /// Anything (bad bytes or uncommitted records) follows the last commit.
    tail_dropped: Option<u64>,
}

pub(crate) fn recover(
    fs: &dyn Fs,
    log_dir: &Path,
    page_size: u64,
    expected_keys: usize,
    replay: ReplayFrom,
    read_only: bool,
) -> Result<Recovered> {
    let numbers = if !read_only {
        create_dir_durably(fs, log_dir)?;
        segment::list(fs, log_dir)?
    } else if fs.exists(log_dir)? {
        segment::list(fs, log_dir)?
    } else {
        Vec::new()
    };
    let mut obsolete = Vec::new();
    let mut loaded = Vec::new();
    for &number in &numbers {
        let segment = load(fs, log_dir, number)?;
        match segment.header {
            Ok(h) if h.start < replay.address.0 => {
                if segment.end() > replay.address.0 {
                    return Err(Error::invalid(format!(
                        "replay address {} lies inside log segment {number} ({}..{})",
                        replay.address,
                        h.start,
                        segment.end()
                    )));
                }
                obsolete.push(segment);
            }
            _ => loaded.push(segment),
        }
    }
    let page_size = loaded
        .iter()
        .chain(&obsolete)
        .find_map(|s| s.header.ok().map(|h| h.page_size_bytes as u64))
        .unwrap_or(page_size);
    let scan = scan(&loaded);
    if let Some((index, address, what)) = scan.bad
        && let Some(valid_at) = evidence_after(&loaded, index, address)
    {
        let seg = &loaded[index];
        let offset = segment::HEADER_LEN as u64 + address.saturating_sub(seg.start());
        return Err(segment::corrupt(
            log_dir,
            seg.number,
            offset,
            format!("{what} at log address {address}, yet a valid record follows at address {valid_at}"),
        ));
    }
    let removed = if read_only { Vec::new() } else { cut_tail(fs, log_dir, &loaded, &scan)? };
    let expected_keys = expected_keys.max(scan.accepted.len() * 2);
    let hashed = HashIndex::with_capacity(expected_keys);
    build(log_dir, page_size, hashed, replay, &obsolete, &loaded, scan, removed)
}

/// Creates `dir` and any missing ancestors, syncing each parent so the new
/// entries survive a crash.
fn create_dir_durably(fs: &dyn Fs, dir: &Path) -> Result<()> {
    if fs.exists(dir)? {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_durably(fs, parent)?;
    }
    fs.create_dir(dir)?;
    sync_parent(fs, dir)
}

fn load(fs: &dyn Fs, log_dir: &Path, number: u64) -> Result<Loaded> {
    let mut bytes = read_to_vec(fs, &segment::path(log_dir, number))?;
    let header = SegmentHeader::decode(&bytes).and_then(|h| {
        if h.number != number {
            Err("segment header names another segment number")
        } else if h.start.checked_add(bytes.len() as u64).is_none() {
            Err("segment start address out of range")
        } else {
            Ok(h)
        }
    });
    bytes.drain(..segment::HEADER_LEN.min(bytes.len()));
    Ok(Loaded { number, header, bytes })
}

fn scan(loaded: &[Loaded]) -> Scan {
    let mut scan = Scan::default();
    let mut pending: Vec<Accepted> = Vec::new();
    let mut covered_start: Option<u64> = None;
    let mut hasher = Xxh3::new();
    // Where the next segment must start; `None` when a gap is allowed (at
    // the start, or after a commit that ends a segment: a freeze).
    let mut expected: Option<u64> = None;
    'segments: for (i, seg) in loaded.iter().enumerate() {
        let start = seg.start();
        let contiguous_start = expected.unwrap_or(start);
        let problem = if seg.header.is_err() {
            seg.header.err()
        } else if i > 0 && seg.number != loaded[i - 1].number + 1 {
            Some("a segment file is missing before this one")
        } else if start != contiguous_start || scan.commit_end.is_some_and(|(e, _)| start < e) {
            Some("segment does not continue the log")
        } else {
            None
        };
        if let Some(what) = problem {
            // Damage between files lies at the end of the previous one.
            let (index, previous_end) = if i > 0 { (i - 1, loaded[i - 1].end()) } else { (i, start) };
            let index = if seg.header.is_err() { i } else { index };
            scan.bad = Some((index, expected.unwrap_or(previous_end), what));
            break;
        }
        let mut offset = 0;
        while offset < seg.bytes.len() {
            let address = start + offset as u64;
            let rec = match record::decode(&seg.bytes[offset..]) {
                Ok(rec) => rec,
                Err(record::DecodeError::Incomplete) => {
                    scan.bad = Some((i, address, "record cut short"));
                    break 'segments;
                }
                Err(record::DecodeError::Invalid(what)) => {
                    scan.bad = Some((i, address, what));
                    break 'segments;
                }
            };
            if rec.kind == Kind::Commit {
                let payload = rec.commit_payload().expect("decode checked the commit shape");
                if covered_start != Some(payload.covered_start)
                    || hasher.digest() != payload.range_hash
                    || rec.seqno < scan.commit_seqno
                {
                    scan.bad = Some((i, address, "commit record does not match the records it covers"));
                    break 'segments;
                }
                scan.accepted.append(&mut pending);
                scan.commits += 1;
                scan.commit_end = Some((address + rec.len as u64, i));
                scan.commit_seqno = rec.seqno;
                covered_start = None;
                hasher.reset();
            } else {
                covered_start.get_or_insert(address);
                hasher.update(&seg.bytes[offset..offset + rec.len]);
                if matches!(rec.kind, Kind::Value | Kind::Tombstone) {
                    pending.push((i, offset, address));
                }
            }
            offset += rec.len;
        }
        let ends_at_commit = scan.commit_end.is_some_and(|(e, _)| e == seg.end()) || seg.bytes.is_empty();
        expected = if ends_at_commit && covered_start.is_none() { None } else { Some(seg.end()) };
    }
    if scan.bad.is_some() || covered_start.is_some() {
        let committed = scan.commit_end.map(|(e, _)| e);
        scan.tail_dropped = committed.or(covered_start).or(scan.bad.map(|(_, a, _)| a));
    }
    scan
}

/// Proof that the damage at `bad_address` (in segment `index`) is not a
/// torn tail: the address of a valid record after it in the same file (a
/// file keeps a prefix of its writes, so a crash leaves nothing valid after
/// a tear), or of a commit record in any later file whose persist began
/// after `bad_address` (so the damaged bytes had been fsynced).
fn evidence_after(loaded: &[Loaded], index: usize, bad_address: u64) -> Option<u64> {
    for (i, seg) in loaded.iter().enumerate().skip(index) {
        if seg.header.is_err() {
            continue;
        }
        let first = (bad_address + 1).saturating_sub(seg.start()).next_multiple_of(WORD_BYTES as u64);
        for offset in (first as usize..seg.bytes.len()).step_by(WORD_BYTES) {
            let Ok(rec) = record::decode(&seg.bytes[offset..]) else { continue };
            let later_run = DecodedRecord::commit_payload(&rec).is_some_and(|p| p.run_start > bad_address);
            if i == index || later_run {
                return Some(seg.start() + offset as u64);
            }
        }
    }
    None
}

/// Cuts the files back to the last valid commit: truncates the segment
/// holding it and removes every later segment. Returns removed numbers.
fn cut_tail(fs: &dyn Fs, log_dir: &Path, loaded: &[Loaded], scan: &Scan) -> Result<Vec<u64>> {
    if scan.tail_dropped.is_none() {
        return Ok(Vec::new());
    }
    let keep = match scan.commit_end {
        Some((end, index)) => {
            let seg = &loaded[index];
            if end < seg.end() {
                let path = segment::path(log_dir, seg.number);
                let file = fs.open(&path, OpenOptions::read_write())?;
                file.set_len(segment::HEADER_LEN as u64 + (end - seg.start()))?;
                file.sync_all()?;
            }
            index + 1
        }
        None => 0,
    };
    let removed: Vec<u64> = loaded[keep..].iter().map(|s| s.number).collect();
    for &number in &removed {
        fs.remove_file(&segment::path(log_dir, number))?;
    }
    if !removed.is_empty() {
        fs.sync_directory(log_dir)?;
    }
    Ok(removed)
}

#[expect(clippy::too_many_arguments, reason = "recovery's pieces, passed once")]
fn build(
    log_dir: &Path,
    page_size: u64,
    hashed: HashIndex,
    replay: ReplayFrom,
    obsolete: &[Loaded],
    loaded: &[Loaded],
    scan: Scan,
    removed: Vec<u64>,
) -> Result<Recovered> {
    let base = replay.address.0 - replay.address.0 % page_size;
    let durable_end = scan.commit_end.map_or(base, |(e, _)| e);
    let next_address = durable_end.max(replay.address.0).next_multiple_of(page_size);
    let memtable = Arc::new(Memtable::new(base, page_size, hashed));
    // End of the last installed record: the gap before the next one (if on
    // the same page) holds records not installed, and gets padded over.
    let mut installed_to = base;
    for &(index, offset, address) in &scan.accepted {
        let bytes = &loaded[index].bytes[offset..];
        let rec = record::decode(bytes).expect("scan decoded it");
        install_record(&memtable, address, &bytes[..rec.len]);
        let page_start = memtable.page(address).expect("just installed").start();
        let from = installed_to.max(page_start);
        if from < address {
            // Whole records lie between two records of one page: a gap too
            // small for one comes from a segment placed where no writer
            // would have put it.
            if address - from < record::HEADER_LEN as u64 {
                let offset = segment::HEADER_LEN + offset;
                let what = "record does not start where a page's records can";
                return Err(segment::corrupt(log_dir, loaded[index].number, offset as u64, what));
            }
            memtable.pad_recovered(from, address);
        }
        installed_to = address + rec.len as u64;
        memtable.index_recovered(address, rec.key, rec.seqno);
    }
    memtable.set_recovered_tail(next_address);
    let last_seqno = scan.commit_seqno.max(replay.next_seqno.0.saturating_sub(1));
    let kept = loaded.len() - removed.len();
    let mut segments: Vec<PlannedSegment> = obsolete
        .iter()
        .chain(&loaded[..kept])
        .map(|s| {
            let end = s.end().min(durable_end.max(s.start()));
            let end = if s.start() < replay.address.0 { s.end() } else { end };
            PlannedSegment {
                number: s.number,
                start: s.start(),
                limit: end,
                memtable: None,
                durable_end: end,
                sealed: true,
            }
        })
        .collect();
    segments.sort_by_key(|s| s.start);
    let next_number = obsolete.iter().chain(loaded).map(|s| s.number + 1).max().unwrap_or(0);
    let plan = Plan {
        segments,
        committed_end: durable_end,
        committed_seqno: last_seqno,
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
        torn_at: scan.tail_dropped.map(LogAddress),
        segments_removed: removed,
        next_address: LogAddress(next_address),
    };
    Ok(Recovered { memtable, plan, page_size, last_seqno, next_address, report })
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
