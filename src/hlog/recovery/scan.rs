//! Walking the live segments' records: what the last valid commit covers,
//! and whether what follows it is a tail a crash can leave or damage.
//!
//! What a crash can leave (the crash model of `docs/CRASH_MODEL.md`): each
//! file keeps a prefix of the writes not yet fsynced, the last one possibly
//! cut short. A persist writes whole records ending in a commit record,
//! one write per segment it touches, each segment fsynced before the next
//! is written; a new segment's header is fsynced before any record goes
//! into it. So after the last
//! valid commit, a crash leaves, per segment of the interrupted persist:
//! whole valid records, then at most one record cut short by the end of
//! the file (or, on file systems that expose unwritten space, zeros up to
//! the end of the file). A record is never split across segments.
//!
//! Anything else is damage: a record that is all there but fails its
//! checksum, a commit record that does not match what it covers, a valid
//! record after a cut in the same file, a commit of a later persist after
//! the spot. Pure: no I/O, so every rule is unit-tested below.

use xxhash_rust::xxh3::Xxh3;

use crate::hlog::page::WORD_BYTES;
use crate::hlog::record::{
    self, COMMIT_RECORD_BYTES, COMMIT_VALUE_BYTES, DecodeError, HEADER_BYTES, Kind, LAYOUT_OFFSET, LENGTHS_OFFSET,
    split_layout, split_lengths,
};

/// One live segment's log bytes (after its header).
#[derive(Clone, Copy, Debug)]
pub(super) struct Body<'a> {
    /// Address of `bytes[0]`.
    pub(super) start: u64,
    pub(super) bytes: &'a [u8],
}

impl Body<'_> {
    fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

/// A key record accepted into the memtable: (segment index, offset in its
/// body, address).
pub(super) type Accepted = (usize, usize, u64);

/// A valid commit record, as a scan found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitPoint {
    /// Log address of the commit record.
    pub start: u64,
    /// Log address just after it.
    pub end: u64,
    /// The highest seqno it makes durable.
    pub seqno: u64,
    /// When it was made, in µs since the Unix epoch (`None` in logs written
    /// before commit records carried a time).
    pub time_us: Option<u64>,
    /// Its stored checksum: tells this commit from another at the same place.
    pub checksum: u64,
}

/// What the log holds up to its last valid commit.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Scan {
    pub(super) accepted: Vec<Accepted>,
    pub(super) commits: u64,
    /// Every valid commit, in log order.
    pub(super) points: Vec<CommitPoint>,
    /// End address of the last valid commit and the index of its segment.
    pub(super) commit_end: Option<(u64, usize)>,
    pub(super) commit_seqno: u64,
    /// The first address after the last valid commit that holds anything
    /// (uncommitted records or a torn write): dropped.
    pub(super) tail_at: Option<u64>,
}

/// Bytes a crash cannot explain: in segment `index`, at `offset` of its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Damage {
    pub(super) index: usize,
    pub(super) offset: u64,
    pub(super) what: String,
}

impl Damage {
    fn new(index: usize, offset: u64, what: impl Into<String>) -> Damage {
        Damage { index, offset, what: what.into() }
    }
}

/// How a walk over one segment's records stopped early.
enum Stop {
    /// A record cut short by the end of the file, or zeros to its end.
    Tear(&'static str),
    Damage(String),
}

/// Classifies the first thing at `bytes[0]` (log address `address`) that
/// is not a valid record.
fn stop_at(bytes: &[u8], error: DecodeError, address: u64, page_size: u64) -> Stop {
    match error {
        DecodeError::Incomplete => match cut_commit_problem(bytes, address, page_size) {
            None => Stop::Tear("a record cut short"),
            Some(what) => Stop::Damage(what.to_string()),
        },
        DecodeError::Invalid(_) if bytes.iter().all(|&b| b == 0) => Stop::Tear("zeros"),
        DecodeError::Invalid(what) => Stop::Damage(what.to_string()),
    }
}

/// Why a commit record cut short by the end of the file cannot be one a
/// persist wrote. A commit record is [`COMMIT_RECORD_BYTES`] bytes, or up to
/// a word short of a header longer when the memtable stretched it to the
/// end of its page; so a damaged length in a whole commit record is not
/// taken for a cut.
fn cut_commit_problem(bytes: &[u8], address: u64, page_size: u64) -> Option<&'static str> {
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    if bytes.len() < HEADER_BYTES {
        return None;
    }
    let (len, kind, _) = split_layout(word(LAYOUT_OFFSET));
    if Kind::from_byte(kind) != Some(Kind::Commit) {
        return None;
    }
    let (key_len, value_len) = split_lengths(word(LENGTHS_OFFSET));
    let len = u64::from(len);
    let stretched_to_page_end =
        len < (COMMIT_RECORD_BYTES + HEADER_BYTES) as u64 && (address + len).is_multiple_of(page_size);
    if key_len != 0
        || value_len as usize != COMMIT_VALUE_BYTES
        || !(len == COMMIT_RECORD_BYTES as u64 || stretched_to_page_end)
    {
        return Some("commit record with a length no persist writes");
    }
    None
}

/// Walks the records of `segments` (in chain order, their headers already
/// checked) up to the last valid commit, and proves that whatever follows
/// it is a torn tail; otherwise returns the damage.
pub(super) fn scan(segments: &[Body<'_>], page_size: u64) -> Result<Scan, Damage> {
    scan_after(segments, page_size, 0, Records::Keep)
}

/// The most record bytes the walk reads before adding them to the range
/// hash: small enough that they are still in cache, large enough that the
/// hash runs at its bulk speed.
const HASH_RUN_BYTES: usize = 64 << 10;

/// Whether a scan lists the key records it accepts ([`Scan::accepted`]):
/// recovery replays them; a check of shipped log needs only the commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Records {
    Keep,
    Skip,
}

/// [`scan`] of records that all follow a commit at `after_seqno`: every
/// key record must have a higher seqno.
pub(super) fn scan_after(
    segments: &[Body<'_>],
    page_size: u64,
    after_seqno: u64,
    records: Records,
) -> Result<Scan, Damage> {
    let mut walk = Walk { page_size, keep_records: records == Records::Keep, ..Walk::default() };
    if records == Records::Skip {
        // A shipped run is whole commits: a key record's bytes are proved
        // by the range hash of the commit that covers it (whose own
        // checksum is verified), and a record no commit covers is not
        // shipped. A tear in the middle shows as a commit that does not
        // match; recovery, which must tell a tear from damage, checks
        // every record.
        walk.checksums = record::Checksum::SkipUnlessCommit;
    }
    walk.scan.commit_seqno = after_seqno;
    for (i, seg) in segments.iter().enumerate() {
        if let Some(expected) = walk.expected {
            if seg.start < expected {
                let what = format!("segment starts at log address {} inside the one before it", seg.start);
                return Err(Damage::new(i, 0, what));
            }
            if seg.start > expected {
                // The file before ends short of where this one starts: a
                // persist cut at a record boundary, if nothing contradicts it.
                let previous = &segments[i - 1];
                let offset = previous.bytes.len() as u64;
                return walk.tear(segments, i - 1, offset, "a segment that ends before the next one starts");
            }
        }
        if walk.scan.commit_end.is_some_and(|(end, _)| seg.start < end) {
            return Err(Damage::new(i, 0, "segment starts before the end of a commit in an earlier segment"));
        }
        let mut offset = 0;
        // Where the records not yet in the range hash begin: the records
        // between commits lie back to back, so each run is hashed at once.
        let mut unhashed: Option<usize> = None;
        while offset < seg.bytes.len() {
            let bytes = &seg.bytes[offset..];
            let address = seg.start + offset as u64;
            let rec = match record::decode_checked(bytes, walk.checksums) {
                Ok(rec) => rec,
                Err(error) => {
                    return match stop_at(bytes, error, address, page_size) {
                        Stop::Tear(what) => walk.tear(segments, i, offset as u64, what),
                        Stop::Damage(what) => Err(Damage::new(i, offset as u64, what)),
                    };
                }
            };
            if rec.kind == Kind::Commit {
                if let Some(from) = unhashed.take() {
                    walk.hasher.update(&seg.bytes[from..offset]);
                }
            } else {
                unhashed.get_or_insert(offset);
            }
            walk.take(i, offset, address, &rec, &bytes[..rec.len_bytes])?;
            offset += rec.len_bytes;
            // Hashed in runs of about HASH_RUN_BYTES, while they are in cache.
            if let Some(from) = unhashed
                && offset - from >= HASH_RUN_BYTES
            {
                walk.hasher.update(&seg.bytes[from..offset]);
                unhashed = None;
            }
        }
        if let Some(from) = unhashed {
            walk.hasher.update(&seg.bytes[from..]);
        }
        let ends_at_commit = walk.scan.commit_end.is_some_and(|(e, _)| e == seg.end()) || seg.bytes.is_empty();
        // A gap may follow a segment that ends at a commit (a freeze starts
        // the next memtable on a fresh page); otherwise the next continues it.
        walk.expected = if ends_at_commit && walk.covered_start.is_none() { None } else { Some(seg.end()) };
    }
    walk.scan.tail_at = walk.covered_start.map(|covered| walk.scan.commit_end.map_or(covered, |(e, _)| e));
    Ok(walk.scan)
}

#[derive(Default)]
struct Walk {
    scan: Scan,
    pending: Vec<Accepted>,
    /// First record after the last commit.
    covered_start: Option<u64>,
    hasher: Xxh3,
    /// Where the next segment must start; `None` when a gap is allowed.
    expected: Option<u64>,
    page_size: u64,
    /// Smallest and largest seqno of the key records since the last commit.
    pending_seqnos: Option<(u64, u64)>,
    /// Whether the accepted key records are listed.
    keep_records: bool,
    /// Which records' checksums decoding verifies.
    checksums: record::Checksum,
}

impl Walk {
    fn take(
        &mut self,
        i: usize,
        offset: usize,
        address: u64,
        rec: &record::DecodedRecord<'_>,
        raw: &[u8],
    ) -> Result<(), Damage> {
        if rec.kind == Kind::Commit {
            let payload = rec.commit_payload().expect("decode checked the commit shape");
            if self.covered_start != Some(payload.covered_start)
                || self.hasher.digest() != payload.range_hash
                || rec.seqno < self.scan.commit_seqno
            {
                return Err(Damage::new(i, offset as u64, "commit record does not match the records it covers"));
            }
            // A commit makes durable the writes after the previous one, up
            // to its seqno; a persist copies only records no write changes
            // any more, so no record it covers lies outside that range.
            if let Some((low, high)) = self.pending_seqnos.take()
                && (low <= self.scan.commit_seqno || high > rec.seqno)
            {
                let what = format!(
                    "commit record at seqno {} covers records with seqnos {low}..={high}, outside {}..={}",
                    rec.seqno,
                    self.scan.commit_seqno + 1,
                    rec.seqno
                );
                return Err(Damage::new(i, offset as u64, what));
            }
            self.scan.accepted.append(&mut self.pending);
            self.scan.commits += 1;
            self.scan.points.push(CommitPoint {
                start: address,
                end: address + rec.len_bytes as u64,
                seqno: rec.seqno,
                time_us: rec.commit_time_us(),
                checksum: u64::from_le_bytes(raw[..8].try_into().expect("a record has a checksum word")),
            });
            self.scan.commit_end = Some((address + rec.len_bytes as u64, i));
            self.scan.commit_seqno = rec.seqno;
            self.covered_start = None;
            self.hasher.reset();
        } else {
            self.covered_start.get_or_insert(address);
            if matches!(rec.kind, Kind::Value | Kind::Tombstone) {
                if self.keep_records {
                    self.pending.push((i, offset, address));
                }
                let (low, high) = self.pending_seqnos.get_or_insert((rec.seqno, rec.seqno));
                *low = (*low).min(rec.seqno);
                *high = (*high).max(rec.seqno);
            }
        }
        Ok(())
    }

    /// The walk stopped at `offset` of segment `index`, at something a
    /// crash can leave; accepts it as the torn tail unless the rest of the
    /// log proves otherwise.
    fn tear(mut self, segments: &[Body<'_>], index: usize, offset: u64, what: &str) -> Result<Scan, Damage> {
        let seg = &segments[index];
        let address = seg.start + offset;
        let describe = |found: String| format!("{what} at log address {address}, yet {found}");
        let rest = &seg.bytes[offset as usize..];
        if let Some(valid) = valid_record_within(rest) {
            let found = format!("a valid record follows at address {}", address + valid);
            return Err(Damage::new(index, offset, describe(found)));
        }
        if let Some(next) = segments.get(index + 1)
            && let Some(claimed_end) = claimed_end(rest).map(|len| address + len)
            && claimed_end > next.start
        {
            let found = format!("the record would end at {claimed_end}, past the next segment's start {}", next.start);
            return Err(Damage::new(index, offset, describe(found)));
        }
        for (j, later) in segments.iter().enumerate().skip(index + 1) {
            check_later(j, later, address, self.page_size).map_err(|d| Damage { what: describe(d.what), ..d })?;
        }
        self.scan.tail_at = Some(self.scan.commit_end.map(|(e, _)| e).or(self.covered_start).unwrap_or(address));
        Ok(self.scan)
    }
}

/// The length a record cut short claims, when its header is all there.
fn claimed_end(bytes: &[u8]) -> Option<u64> {
    let layout = bytes.get(LAYOUT_OFFSET..LAYOUT_OFFSET + 8)?;
    let (len, _, _) = split_layout(u64::from_le_bytes(layout.try_into().expect("8 bytes")));
    Some(u64::from(len))
}

/// Offset of a valid record starting at a word boundary after `bytes[0]`:
/// a file keeps a prefix of its writes, so nothing valid follows a tear.
fn valid_record_within(bytes: &[u8]) -> Option<u64> {
    (WORD_BYTES..bytes.len()).step_by(WORD_BYTES).find(|&at| record::decode(&bytes[at..]).is_ok()).map(|at| at as u64)
}

/// A segment after a tear at `torn_at` must itself be the interrupted
/// persist's: valid records and at most a tear at its end, and no commit of
/// a persist that began after the tear (which would prove it durable).
fn check_later(index: usize, seg: &Body<'_>, torn_at: u64, page_size: u64) -> Result<(), Damage> {
    let mut offset = 0;
    while offset < seg.bytes.len() {
        let bytes = &seg.bytes[offset..];
        match record::decode(bytes) {
            Ok(rec) => {
                if let Some(payload) = rec.commit_payload()
                    && payload.run_start > torn_at
                {
                    let address = seg.start + offset as u64;
                    let what = format!("a later persist's commit record at address {address} proves it durable");
                    return Err(Damage::new(index, offset as u64, what));
                }
                offset += rec.len_bytes;
            }
            Err(error) => {
                return match stop_at(bytes, error, seg.start + offset as u64, page_size) {
                    Stop::Tear(_) => Ok(()),
                    Stop::Damage(what) => {
                        Err(Damage::new(index, offset as u64, format!("a later segment holds damage ({what})")))
                    }
                };
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlog::record::{encode, record_len_for};

    const PAGE: u64 = 4096;

    fn scan(segments: &[Body<'_>]) -> Result<Scan, Damage> {
        super::scan(segments, PAGE)
    }

    /// Builds a log body by hand: records and commits with true hashes.
    struct Builder {
        start: u64,
        bytes: Vec<u8>,
        hasher: Xxh3,
        covered: Option<u64>,
        seqno: u64,
    }

    impl Builder {
        fn new(start: u64) -> Builder {
            Builder { start, bytes: Vec::new(), hasher: Xxh3::new(), covered: None, seqno: 0 }
        }

        fn address(&self) -> u64 {
            self.start + self.bytes.len() as u64
        }

        fn put(&mut self, key: &[u8]) -> &mut Builder {
            self.seqno += 1;
            let mut rec = vec![0u8; record_len_for(key.len(), 8)];
            encode(&mut rec, self.seqno, Kind::Value, 0, key, b"01234567");
            self.covered.get_or_insert(self.address());
            self.hasher.update(&rec);
            self.bytes.extend_from_slice(&rec);
            self
        }

        fn commit(&mut self, run_start: u64) -> &mut Builder {
            let mut payload = [0u8; COMMIT_VALUE_BYTES];
            payload[..8].copy_from_slice(&self.covered.take().unwrap().to_le_bytes());
            payload[8..16].copy_from_slice(&self.hasher.digest().to_le_bytes());
            payload[16..].copy_from_slice(&run_start.to_le_bytes());
            self.hasher.reset();
            let mut rec = vec![0u8; COMMIT_RECORD_BYTES];
            encode(&mut rec, self.seqno, Kind::Commit, 0, &[], &payload);
            self.bytes.extend_from_slice(&rec);
            self
        }
    }

    fn body(b: &Builder) -> Body<'_> {
        Body { start: b.start, bytes: &b.bytes }
    }

    fn two_commits() -> Builder {
        let mut b = Builder::new(0);
        b.put(b"a").put(b"b").commit(0);
        let run = b.address();
        b.put(b"c").commit(run);
        b
    }

    #[test]
    fn a_whole_log_is_accepted_to_its_last_commit() {
        let b = two_commits();
        let scan = scan(&[body(&b)]).unwrap();
        assert_eq!(scan.commits, 2);
        assert_eq!(scan.accepted.len(), 3);
        assert_eq!(scan.commit_end, Some((b.bytes.len() as u64, 0)));
        assert_eq!(scan.tail_at, None);
    }

    #[test]
    fn every_cut_is_a_torn_tail() {
        let b = two_commits();
        let first_end = (2 * record_len_for(1, 8) + COMMIT_RECORD_BYTES) as u64;
        for len in first_end as usize + 1..b.bytes.len() {
            let scan = scan(&[Body { start: 0, bytes: &b.bytes[..len] }]).unwrap();
            assert_eq!(scan.commits, 1, "cut at {len}");
            assert_eq!(scan.tail_at, Some(first_end), "cut at {len}");
        }
    }

    #[test]
    fn every_flipped_bit_is_damage() {
        let b = two_commits();
        for at in 0..b.bytes.len() {
            for bit in 0..8 {
                let mut bytes = b.bytes.clone();
                bytes[at] ^= 1 << bit;
                assert!(scan(&[Body { start: 0, bytes: &bytes }]).is_err(), "byte {at} bit {bit}");
            }
        }
    }

    #[test]
    fn zeros_after_the_last_commit_are_a_torn_tail_but_garbage_is_not() {
        let mut b = two_commits();
        b.bytes.extend_from_slice(&[0; 100]);
        assert!(scan(&[body(&b)]).unwrap().tail_at.is_some());
        b.bytes.extend_from_slice(&[7; 100]);
        assert!(scan(&[body(&b)]).is_err());
    }

    #[test]
    fn a_tear_across_segments_is_a_tail_unless_a_later_persist_committed() {
        // One persist wrote the end of segment 0 and all of segment 1.
        let mut a = Builder::new(0);
        a.put(b"a").commit(0);
        let run = a.address();
        a.put(b"b").put(b"c");
        let mut b = Builder::new(a.address());
        b.hasher = a.hasher.clone();
        b.covered = a.covered;
        b.seqno = a.seqno;
        b.put(b"d").commit(run);
        let whole = scan(&[body(&a), body(&b)]).unwrap();
        assert_eq!((whole.commits, whole.tail_at), (2, None));
        // Segment 0 cut short (inside a record, or at a record boundary).
        for cut in [a.bytes.len() - 3, a.bytes.len() - record_len_for(1, 8)] {
            let torn = Body { start: 0, bytes: &a.bytes[..cut] };
            let scan = scan(&[torn, body(&b)]).unwrap();
            assert_eq!((scan.commits, scan.tail_at), (1, Some(run)), "cut at {cut}");
        }
        // A later persist's commit in segment 1 proves the cut is damage.
        let mut b2 =
            Builder { start: b.start, bytes: b.bytes.clone(), hasher: Xxh3::new(), covered: None, seqno: b.seqno };
        let run2 = b2.address();
        b2.put(b"e").commit(run2);
        let torn = Body { start: 0, bytes: &a.bytes[..a.bytes.len() - 3] };
        assert!(scan(&[torn, body(&b2)]).is_err());
    }

    #[test]
    fn a_commit_covering_records_outside_its_seqnos_is_damage() {
        let mut b = Builder::new(0);
        b.put(b"a").put(b"b").commit(0);
        let run = b.address();
        b.put(b"c").commit(run);
        assert!(scan(&[body(&b)]).is_ok());
        // The second commit claims seqno 2 while covering seqno 3.
        let mut low = Builder::new(0);
        low.put(b"a").put(b"b").commit(0);
        low.seqno = 3;
        let run = low.address();
        low.put(b"c");
        low.seqno = 2;
        low.commit(run);
        assert!(scan(&[body(&low)]).is_err());
        // A record after the first commit that no later write could be.
        let mut old = Builder::new(0);
        old.put(b"a").put(b"b").commit(0);
        old.seqno = 1;
        let run = old.address();
        old.put(b"c");
        old.seqno = 3;
        old.commit(run);
        assert!(scan(&[body(&old)]).is_err());
    }

    #[test]
    fn a_cut_record_claiming_bytes_past_its_segment_is_damage() {
        let mut a = Builder::new(0);
        a.put(b"a").commit(0);
        let run = a.address();
        a.put(b"b");
        let mut b = Builder::new(a.address());
        b.hasher = a.hasher.clone();
        b.covered = a.covered;
        b.seqno = a.seqno;
        b.put(b"c").commit(run);
        let mut bytes = a.bytes.clone();
        let last = bytes.len() - record_len_for(1, 8);
        bytes[last + LAYOUT_OFFSET] ^= 0x40; // claims 64 more bytes
        assert!(scan(&[Body { start: 0, bytes: &bytes }, body(&b)]).is_err());
    }

    #[test]
    fn a_shipped_scan_finds_every_flip_without_checking_each_record() {
        // Commits covering more than a hash run, the first one split
        // across two segments at a record boundary.
        let mut b = Builder::new(0);
        let mut split = 0;
        for round in 0..3 {
            for i in 0..1500u32 {
                if round == 0 && i == 700 {
                    split = b.bytes.len();
                }
                b.put(&i.to_le_bytes());
            }
            let at = b.address();
            b.commit(at);
        }
        let (head, tail) = b.bytes.split_at(split);
        let segments = [Body { start: 0, bytes: head }, Body { start: split as u64, bytes: tail }];
        let end = b.address();
        let whole = |scan: &Result<Scan, Damage>, points: &[CommitPoint]| matches!(scan, Ok(s) if s.tail_at.is_none() && s.commit_end.map(|c| c.0) == Some(end) && s.points == points);
        let kept = scan_after(&segments, PAGE, 0, Records::Keep).unwrap();
        assert_eq!(kept.points.len(), 3);
        let shipped = scan_after(&segments, PAGE, 0, Records::Skip);
        assert!(whole(&shipped, &kept.points), "both modes find the same commits");
        assert!(shipped.unwrap().accepted.is_empty(), "a shipped scan lists no records");
        // A flip anywhere (a sample of positions, each bit) makes the run
        // not whole commits: damage, or a commit missing.
        for at in (0..b.bytes.len()).step_by(997).chain(b.bytes.len() - COMMIT_RECORD_BYTES..b.bytes.len()) {
            for bit in 0..8 {
                let mut bytes = b.bytes.clone();
                bytes[at] ^= 1 << bit;
                let (head, tail) = bytes.split_at(split);
                let damaged = [Body { start: 0, bytes: head }, Body { start: split as u64, bytes: tail }];
                let scan = scan_after(&damaged, PAGE, 0, Records::Skip);
                assert!(!whole(&scan, &kept.points), "a flip of bit {bit} at {at} went unnoticed");
            }
        }
    }
}
