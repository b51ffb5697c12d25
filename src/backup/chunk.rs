//! Archived log chunks: what the continuous log archive stores, one object
//! per shipment, under `archive/{timeline}/{after:020}.chunk` (format in
//! `docs/FORMAT.md`, "Archived log chunks").
//!
//! A chunk continues the timeline's history after the commit at seqno
//! `after`: a **log chunk** holds the log bytes of whole commits, from the
//! one after `after` up to its last commit, as pieces of the segments they
//! were read from; a **gap record** says the history after `after` is lost
//! up to `resume` (the archive fell behind and released the log). The
//! next chunk of the timeline continues after the last seqno this one
//! reaches, so the keys alone tell a timeline's chain: chunk `i` covers the
//! seqnos `(after_i, after_{i+1}]`. A gap record is exactly
//! [`GAP_CHUNK_BYTES`] long and a log chunk always longer, so a listing
//! tells them apart without reading them.
//!
//! Every chunk is written create-only: two archivers of one timeline in
//! one store cannot both continue it after the same commit.

use std::cell::RefCell;
use std::path::Path;

use xxhash_rust::xxh3::Xxh3;

use super::store::Source;
use crate::hlog::{CommitPoint, LogPiece, check_committed_run};
use crate::version::DbIdentity;
use crate::wire::{Cursor, checksum, put_u64};
use crate::{Error, Result, SeqNo};

/// Folder of archived log chunks in a backup store.
pub const ARCHIVE_PREFIX: &str = "archive/";
/// The magic at the start of every chunk.
const MAGIC: &[u8; 8] = b"CAIRNARC";
/// The chunk format version this build writes.
const FORMAT_VERSION: u32 = 1;
/// Bytes of the fixed header (its own checksum included).
pub(crate) const HEADER_BYTES: usize = 120;
/// Bytes of a whole gap record: a header and the trailing checksum.
pub const GAP_CHUNK_BYTES: u64 = HEADER_BYTES as u64 + 8;
/// Bytes of each piece's header: segment number, segment start, first
/// address, length.
const PIECE_HEADER_BYTES: usize = 32;
/// The largest chunk read back.
pub(crate) const CHUNK_BYTES_MAX: u64 = 1 << 32;
const KIND_LOG: u32 = 1;
const KIND_GAP: u32 = 2;

/// The folder of `timeline`'s chunks.
pub(crate) fn timeline_prefix(timeline: DbIdentity) -> String {
    format!("{ARCHIVE_PREFIX}{timeline}/")
}

/// The key of `timeline`'s chunk continuing after seqno `after`.
pub(crate) fn chunk_key(timeline: DbIdentity, after: SeqNo) -> String {
    format!("{}{:020}.chunk", timeline_prefix(timeline), after.0)
}

/// The timeline and `after` seqno a chunk key names, or `None` for a key
/// that is not one.
pub(crate) fn parse_chunk_key(key: &str) -> Option<(DbIdentity, SeqNo)> {
    let rest = key.strip_prefix(ARCHIVE_PREFIX)?;
    let (timeline, name) = rest.split_once('/')?;
    let digits = name.strip_suffix(".chunk")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((timeline.parse().ok()?, SeqNo(digits.parse().ok()?)))
}

/// One segment's bytes in a log chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    /// The segment's number and start address (its header's fields).
    pub(crate) segment: u64,
    pub(crate) segment_start: u64,
    /// Log address of `bytes[0]`.
    pub(crate) from: u64,
    pub(crate) bytes: Vec<u8>,
}

impl Piece {
    pub(crate) fn to(&self) -> u64 {
        self.from + self.bytes.len() as u64
    }
}

/// What every chunk's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChunkHeader {
    pub(crate) timeline: DbIdentity,
    /// The commit this chunk continues after.
    pub(crate) after: SeqNo,
    /// Log chunk: its last commit's seqno; gap record: where the history
    /// resumes (the next chunk continues after it).
    pub(crate) last: SeqNo,
    /// Log chunk: its first and last commit's times (µs since the Unix
    /// epoch; 0 when unknown). Gap record: when it was recorded, twice.
    pub(crate) first_time_us: u64,
    pub(crate) last_time_us: u64,
    /// Log chunk: the log's page size. Gap record: the bytes lost.
    pub(crate) page_size_or_lost: u64,
    /// Log chunk: how many pieces. Gap record: 0.
    pub(crate) pieces: u64,
    /// Log chunk: its last commit record (start, end, stored checksum), by
    /// which an archiver resuming checks that the local log is the same
    /// history. Gap record: the log address the history resumes at, twice,
    /// and 0.
    pub(crate) last_commit: (u64, u64, u64),
    is_gap: bool,
}

/// A decoded chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// Whole commits of log.
    Log { header: ChunkHeader, pieces: Vec<Piece>, commits: Vec<CommitPoint> },
    /// History lost between `header.after` and `header.last`.
    Gap { header: ChunkHeader },
}

impl ChunkHeader {
    pub(crate) fn is_gap(&self) -> bool {
        self.is_gap
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_BYTES);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(if self.is_gap { KIND_GAP } else { KIND_LOG }).to_le_bytes());
        put_u64(&mut out, self.timeline.id as u64);
        put_u64(&mut out, (self.timeline.id >> 64) as u64);
        put_u64(&mut out, self.timeline.generation);
        for v in [
            self.after.0,
            self.last.0,
            self.first_time_us,
            self.last_time_us,
            self.page_size_or_lost,
            self.pieces,
            self.last_commit.0,
            self.last_commit.1,
            self.last_commit.2,
        ] {
            put_u64(&mut out, v);
        }
        let sum = checksum(&out);
        put_u64(&mut out, sum);
        debug_assert_eq!(out.len(), HEADER_BYTES);
        out
    }

    /// Decodes a header (the first [`HEADER_BYTES`] of a chunk).
    pub(crate) fn decode(bytes: &[u8]) -> std::result::Result<ChunkHeader, (u64, String)> {
        let bad = |at: usize, what: &str| (at as u64, what.to_string());
        if bytes.len() < HEADER_BYTES {
            return Err(bad(0, "shorter than a chunk header"));
        }
        if &bytes[..8] != MAGIC {
            return Err(bad(0, "not an archived log chunk (bad magic)"));
        }
        let mut c = Cursor::at(bytes, 8);
        let version = c.u32().expect("length checked");
        if version != FORMAT_VERSION {
            return Err(bad(8, &format!("chunk format version {version}, this build reads {FORMAT_VERSION}")));
        }
        let stored = u64::from_le_bytes(bytes[HEADER_BYTES - 8..HEADER_BYTES].try_into().expect("8 bytes"));
        if checksum(&bytes[..HEADER_BYTES - 8]) != stored {
            return Err(bad(HEADER_BYTES - 8, "chunk header checksum mismatch"));
        }
        let kind = c.u32().expect("length checked");
        let low = c.u64().expect("length checked");
        let high = c.u64().expect("length checked");
        let generation = c.u64().expect("length checked");
        let mut v = [0u64; 9];
        for slot in &mut v {
            *slot = c.u64().expect("length checked");
        }
        let is_gap = match kind {
            KIND_LOG => false,
            KIND_GAP => true,
            _ => return Err(bad(12, &format!("unknown chunk kind {kind}"))),
        };
        if generation == 0 {
            return Err(bad(32, "timeline with generation 0"));
        }
        let header = ChunkHeader {
            timeline: DbIdentity { id: u128::from(low) | u128::from(high) << 64, generation },
            after: SeqNo(v[0]),
            last: SeqNo(v[1]),
            first_time_us: v[2],
            last_time_us: v[3],
            page_size_or_lost: v[4],
            pieces: v[5],
            last_commit: (v[6], v[7], v[8]),
            is_gap,
        };
        if header.last <= header.after {
            return Err(bad(48, "the chunk ends at or before the commit it continues after"));
        }
        if header.first_time_us > header.last_time_us {
            return Err(bad(56, "the chunk's first commit is later than its last"));
        }
        if is_gap && header.pieces != 0 {
            return Err(bad(80, "a gap record with log pieces"));
        }
        Ok(header)
    }
}

/// A log chunk of `pieces` (whole commits after `after`, checked by the
/// caller as the restore will check them), encoded; and its header.
pub(crate) fn encode_log(
    timeline: DbIdentity,
    after: SeqNo,
    page_size: u64,
    pieces: &[Piece],
    commits: &[CommitPoint],
) -> (ChunkHeader, Vec<u8>) {
    let mut chunk = LogChunkBuffer::default();
    for piece in pieces {
        chunk
            .add_piece(piece.segment, piece.segment_start, piece.from, piece.bytes.len())
            .copy_from_slice(&piece.bytes);
    }
    let header = chunk.seal(timeline, after, page_size, commits);
    (header, chunk.sealed().to_vec())
}

/// A log chunk built in place, reused from one shipment to the next: the
/// log bytes are read straight into the buffer the store is handed, so
/// shipping copies each byte once and allocates nothing once warm.
#[derive(Debug, Default)]
pub(crate) struct LogChunkBuffer {
    /// Room for the header, then each piece's header and bytes; once
    /// sealed, the whole chunk. Never shrinks (but see
    /// [`LogChunkBuffer::shrink_to`]): what lies past `used` is left
    /// from earlier chunks, and overwritten before it is used.
    buf: Vec<u8>,
    /// Bytes of `buf` in use.
    used: usize,
    pieces: Vec<PieceSpan>,
}

/// Where one piece lies in a [`LogChunkBuffer`].
#[derive(Clone, Copy, Debug)]
struct PieceSpan {
    segment: u64,
    segment_start: u64,
    from: u64,
    /// Offset of the piece's bytes (just after its header).
    at: usize,
    len: usize,
}

impl LogChunkBuffer {
    /// Empties the buffer for the next chunk (keeping its memory).
    pub(crate) fn clear(&mut self) {
        self.used = HEADER_BYTES;
        self.pieces.clear();
    }

    /// Makes `buf` at least `len` long.
    fn grow_to(&mut self, len: usize) {
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
    }

    /// Room for the next piece: `len` bytes of segment `segment` (which
    /// starts at log address `segment_start`) from log address `from`,
    /// for the caller to fill.
    pub(crate) fn add_piece(&mut self, segment: u64, segment_start: u64, from: u64, len: usize) -> &mut [u8] {
        if self.used < HEADER_BYTES {
            self.clear();
        }
        let at = self.used + PIECE_HEADER_BYTES;
        self.used = at + len;
        self.grow_to(self.used);
        self.pieces.push(PieceSpan { segment, segment_start, from, at, len });
        &mut self.buf[at..self.used]
    }

    /// The pieces added so far, as log.
    pub(crate) fn log_pieces(&self) -> Vec<LogPiece<'_>> {
        self.pieces.iter().map(|p| LogPiece { start: p.from, bytes: &self.buf[p.at..p.at + p.len] }).collect()
    }

    /// Segment number and first address of piece `index`.
    pub(crate) fn piece_origin(&self, index: usize) -> (u64, u64) {
        let piece = &self.pieces[index];
        (piece.segment, piece.from)
    }

    /// Cuts the pieces at the end of the last of `commits` (whole commits
    /// after `after`, which the pieces hold from their start) and makes
    /// the buffer the chunk: header and piece headers (the checksum comes
    /// as [`LogChunkBuffer::sealed`] is read). Returns the header.
    pub(crate) fn seal(
        &mut self,
        timeline: DbIdentity,
        after: SeqNo,
        page_size: u64,
        commits: &[CommitPoint],
    ) -> ChunkHeader {
        let (first, last) =
            (commits.first().expect("a chunk has commits"), commits.last().expect("a chunk has commits"));
        let end = last.end;
        let kept = self.pieces.iter().take_while(|p| p.from < end).count();
        self.pieces.truncate(kept);
        let tail = self.pieces.last_mut().expect("the commits lie in the pieces");
        tail.len = tail.len.min(usize::try_from(end - tail.from).expect("within the piece"));
        self.used = tail.at + tail.len;
        for piece in &self.pieces {
            let mut fields = Vec::with_capacity(PIECE_HEADER_BYTES);
            for v in [piece.segment, piece.segment_start, piece.from, piece.len as u64] {
                put_u64(&mut fields, v);
            }
            self.buf[piece.at - PIECE_HEADER_BYTES..piece.at].copy_from_slice(&fields);
        }
        let header = ChunkHeader {
            timeline,
            after,
            last: SeqNo(last.seqno),
            first_time_us: first.time_us.unwrap_or(0),
            last_time_us: last.time_us.unwrap_or(0).max(first.time_us.unwrap_or(0)),
            page_size_or_lost: page_size,
            pieces: self.pieces.len() as u64,
            last_commit: (last.start, last.end, last.checksum),
            is_gap: false,
        };
        self.buf[..HEADER_BYTES].copy_from_slice(&header.encode());
        header
    }

    /// The sealed chunk, to hand to a store.
    pub(crate) fn sealed(&self) -> SealedChunk<'_> {
        SealedChunk { body: &self.buf[..self.used], hashed: RefCell::new((Xxh3::new(), 0)) }
    }

    /// Log bytes in the pieces.
    pub(crate) fn log_bytes(&self) -> u64 {
        self.pieces.iter().map(|p| p.len as u64).sum()
    }

    /// Gives back memory a rare huge commit made it take, keeping about
    /// `keep` bytes for the next chunk.
    pub(crate) fn shrink_to(&mut self, keep: usize) {
        if self.buf.len() > keep.saturating_mul(2) {
            *self = LogChunkBuffer::default();
        }
    }
}

/// A sealed log chunk as a store reads it: the body, then its checksum,
/// which is computed as the body is read. A store reads an object front to
/// back in slices, so each slice is hashed while it is in cache, on its way
/// to the store: the checksum costs no pass of its own over a chunk larger
/// than the caches.
pub(crate) struct SealedChunk<'a> {
    /// Everything before the checksum.
    body: &'a [u8],
    /// The hash of `body[..n]`, and `n`.
    hashed: RefCell<(Xxh3, usize)>,
}

impl SealedChunk<'_> {
    /// The checksum of `body[..to]` hashed so far, extended to `to`.
    fn hash_to(&self, to: usize) {
        let mut hashed = self.hashed.borrow_mut();
        let (hasher, done) = &mut *hashed;
        if *done < to {
            hasher.update(&self.body[*done..to]);
            *done = to;
        }
    }

    /// The trailing checksum.
    fn checksum(&self) -> [u8; 8] {
        self.hash_to(self.body.len());
        self.hashed.borrow().0.digest().to_le_bytes()
    }

    /// The whole chunk.
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 8);
        out.extend_from_slice(self.body);
        out.extend_from_slice(&self.checksum());
        out
    }
}

impl Source for SealedChunk<'_> {
    fn len_bytes(&self) -> u64 {
        self.body.len() as u64 + 8
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let body_len = self.body.len();
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        if start < body_len {
            let n = buf.len().min(body_len - start);
            // A read past the hashed part hashes what comes before it
            // first (at most once: the hash only moves forward).
            self.hash_to(start);
            buf[..n].copy_from_slice(&self.body[start..start + n]);
            let mut hashed = self.hashed.borrow_mut();
            let (hasher, done) = &mut *hashed;
            if *done < start + n {
                hasher.update(&buf[*done - start..n]);
                *done = start + n;
            }
            return Ok(n);
        }
        let trailer = self.checksum();
        let at = (start - body_len).min(8);
        let n = buf.len().min(8 - at);
        buf[..n].copy_from_slice(&trailer[at..at + n]);
        Ok(n)
    }
}

/// A gap record: the history after `after` is lost up to `resume`, which
/// the log continues from at address `resume_address`.
pub(crate) fn encode_gap(
    timeline: DbIdentity,
    after: SeqNo,
    resume: SeqNo,
    resume_address: u64,
    lost_bytes: u64,
    now_us: u64,
) -> (ChunkHeader, Vec<u8>) {
    let header = ChunkHeader {
        timeline,
        after,
        last: resume,
        first_time_us: now_us,
        last_time_us: now_us,
        page_size_or_lost: lost_bytes,
        pieces: 0,
        last_commit: (resume_address, resume_address, 0),
        is_gap: true,
    };
    let mut out = header.encode();
    let sum = checksum(&out);
    put_u64(&mut out, sum);
    debug_assert_eq!(out.len() as u64, GAP_CHUNK_BYTES);
    (header, out)
}

/// Decodes a whole chunk read from `location`, checking everything: the
/// checksums, the pieces' shape, and that the log bytes are whole valid
/// commits after `header.after` ending at `header.last` (the rules
/// recovery applies). Damage is `Error::Corruption` naming the location.
pub(crate) fn decode(location: &str, bytes: &[u8]) -> Result<Chunk> {
    decode_inner(bytes).map_err(|(offset, what)| Error::corruption(Path::new(location), offset, what))
}

fn decode_inner(bytes: &[u8]) -> std::result::Result<Chunk, (u64, String)> {
    let header = ChunkHeader::decode(bytes)?;
    let bad = |at: usize, what: String| (at as u64, what);
    if bytes.len() < HEADER_BYTES + 8 {
        return Err(bad(HEADER_BYTES, "the chunk ends before its checksum".into()));
    }
    let body_end = bytes.len() - 8;
    let stored = u64::from_le_bytes(bytes[body_end..].try_into().expect("8 bytes"));
    if checksum(&bytes[..body_end]) != stored {
        return Err(bad(body_end, "chunk checksum mismatch".into()));
    }
    if header.is_gap {
        if bytes.len() as u64 != GAP_CHUNK_BYTES {
            return Err(bad(HEADER_BYTES, "a gap record with a body".into()));
        }
        return Ok(Chunk::Gap { header });
    }
    let page_size = header.page_size_or_lost;
    if page_size < 4096 || !page_size.is_multiple_of(8) {
        return Err(bad(72, format!("page size {page_size} is not one a log uses")));
    }
    let mut c = Cursor::at(&bytes[..body_end], HEADER_BYTES);
    let mut pieces: Vec<Piece> = Vec::new();
    for i in 0..header.pieces {
        let at = c.pos();
        let fields = (c.u64(), c.u64(), c.u64(), c.u64());
        let (Some(segment), Some(segment_start), Some(from), Some(len)) = fields else {
            return Err(bad(at, format!("piece {i} is cut short")));
        };
        let data = usize::try_from(len)
            .ok()
            .and_then(|len| c.take(len))
            .ok_or_else(|| bad(at, format!("piece {i} is cut short")))?;
        if from < segment_start || from.checked_add(len).is_none() || len == 0 {
            return Err(bad(at, format!("piece {i} lies outside its segment")));
        }
        if let Some(prev) = pieces.last() {
            let follows = (segment == prev.segment && segment_start == prev.segment_start && from == prev.to())
                || (segment == prev.segment + 1 && from == segment_start && segment_start >= prev.to());
            if !follows {
                return Err(bad(at, format!("piece {i} does not continue the log where piece {} ends", i - 1)));
            }
        }
        pieces.push(Piece { segment, segment_start, from, bytes: data.to_vec() });
    }
    if c.remaining() != 0 {
        return Err(bad(c.pos(), "bytes after the last piece".into()));
    }
    let run: Vec<LogPiece<'_>> = pieces.iter().map(|p| LogPiece { start: p.from, bytes: &p.bytes }).collect();
    let checked = check_committed_run(&run, page_size, header.after.0).map_err(|d| {
        let piece_offset: usize = HEADER_BYTES
            + pieces[..d.piece].iter().map(|p| PIECE_HEADER_BYTES + p.bytes.len()).sum::<usize>()
            + PIECE_HEADER_BYTES;
        bad(piece_offset + d.offset as usize, format!("archived log: {}", d.what))
    })?;
    let last = checked.commits.last().expect("a checked run has commits");
    let first = checked.commits.first().expect("a checked run has commits");
    if SeqNo(last.seqno) != header.last || (last.start, last.end, last.checksum) != header.last_commit {
        return Err(bad(48, "the header does not name the chunk's last commit".into()));
    }
    let first_us = first.time_us.unwrap_or(0);
    if first_us != header.first_time_us || last.time_us.unwrap_or(0).max(first_us) != header.last_time_us {
        return Err(bad(56, "the header does not hold the chunk's first and last commit times".into()));
    }
    Ok(Chunk::Log { header, pieces, commits: checked.commits })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline() -> DbIdentity {
        DbIdentity { id: 0x5b2e_9c0d_4a7f_4e1b_8c3d_2a1f_0e9d_8c7b, generation: 3 }
    }

    #[test]
    fn keys_round_trip_and_sort_by_seqno() {
        let key = chunk_key(timeline(), SeqNo(42));
        assert_eq!(key, "archive/5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-3/00000000000000000042.chunk");
        assert_eq!(parse_chunk_key(&key), Some((timeline(), SeqNo(42))));
        crate::backup::check_key(&key).unwrap();
        assert!(chunk_key(timeline(), SeqNo(9)) < chunk_key(timeline(), SeqNo(10)));
        for bad in ["archive/x/00000000000000000042.chunk", "archive/5b2e9c0d4a7f4e1b8c3d2a1f0e9d8c7b-3/42.chunk"] {
            assert_eq!(parse_chunk_key(bad), None, "{bad}");
        }
    }

    /// Pieces of made-up log bytes (the buffer does not read them) and a
    /// commit ending `cut` bytes into the last piece.
    fn fill(chunk: &mut LogChunkBuffer, lens: &[usize], seed: u8, cut: usize) -> Vec<CommitPoint> {
        chunk.clear();
        let mut from = 4096;
        for (i, &len) in lens.iter().enumerate() {
            let room = chunk.add_piece(7 + i as u64, from, from, len);
            for (j, b) in room.iter_mut().enumerate() {
                *b = (j as u8).wrapping_mul(31).wrapping_add(seed);
            }
            from += len as u64;
        }
        let end = from - (lens.last().copied().unwrap_or(0) - cut) as u64;
        vec![CommitPoint { start: end - 48, end, seqno: 99, time_us: Some(5), checksum: 77 }]
    }

    #[test]
    fn a_reused_buffer_builds_what_a_fresh_one_does() {
        let mut reused = LogChunkBuffer::default();
        fill(&mut reused, &[300_000, 200_000], 1, 150_000);
        reused.seal(
            timeline(),
            SeqNo(3),
            4096,
            &[CommitPoint { start: 4096, end: 4096 + 400_000, seqno: 50, time_us: None, checksum: 1 }],
        );
        for (lens, cut) in [(&[1000usize, 2000][..], 1000), (&[64][..], 64), (&[5000, 6000, 7000][..], 1)] {
            let commits = fill(&mut reused, lens, 9, cut);
            let header = reused.seal(timeline(), SeqNo(3), 4096, &commits);
            let mut fresh = LogChunkBuffer::default();
            fill(&mut fresh, lens, 9, cut);
            assert_eq!(fresh.seal(timeline(), SeqNo(3), 4096, &commits), header);
            assert_eq!(reused.sealed().to_vec(), fresh.sealed().to_vec(), "pieces {lens:?}");
            let expected_log: usize = lens[..lens.len() - 1].iter().sum::<usize>() + cut;
            assert_eq!(reused.log_bytes(), expected_log as u64);
            let bytes = reused.sealed().to_vec();
            assert_eq!(checksum(&bytes[..bytes.len() - 8]).to_le_bytes(), bytes[bytes.len() - 8..]);
        }
    }

    #[test]
    fn a_sealed_chunk_reads_the_same_in_any_order_and_slicing() {
        let mut chunk = LogChunkBuffer::default();
        let commits = fill(&mut chunk, &[10_000, 7_000], 4, 3_333);
        chunk.seal(timeline(), SeqNo(1), 4096, &commits);
        let whole = chunk.sealed().to_vec();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..50 {
            let source = chunk.sealed();
            assert_eq!(source.len_bytes(), whole.len() as u64);
            let mut out = vec![0u8; whole.len()];
            // Slices of random sizes, front to back in the even rounds and
            // in a random order in the odd ones.
            let mut slices = Vec::new();
            let mut at = 0;
            while at < whole.len() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let n = (x % 4000) as usize + 1;
                slices.push((at, n.min(whole.len() - at)));
                at += n;
            }
            if round % 2 == 1 {
                slices.sort_by_key(|&(at, _)| (at as u64).wrapping_mul(x) % 1009);
            }
            for (at, n) in slices {
                let got = source.read_at(&mut out[at..at + n], at as u64).unwrap();
                assert!(got > 0 && got <= n);
                if got < n {
                    // A short read (never past the body): read the rest.
                    crate::backup::store::read_exact(&source, &mut out[at + got..at + n], (at + got) as u64, "t")
                        .unwrap();
                }
            }
            assert_eq!(out, whole, "round {round}");
            assert_eq!(source.read_at(&mut [0u8; 4], whole.len() as u64).unwrap(), 0, "nothing past the end");
        }
    }

    #[test]
    fn gap_records_round_trip_and_have_their_size() {
        let (header, bytes) = encode_gap(timeline(), SeqNo(10), SeqNo(99), 8192, 1 << 30, 1_700_000_000_000_000);
        assert_eq!(bytes.len() as u64, GAP_CHUNK_BYTES);
        assert_eq!(decode("gap", &bytes).unwrap(), Chunk::Gap { header });
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 1;
            assert!(decode("gap", &damaged).is_err(), "a flip at {i} went unnoticed");
        }
        assert!(decode("gap", &bytes[..bytes.len() - 1]).is_err());
    }
}
