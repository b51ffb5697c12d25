//! Checking a run of log bytes read from the segments for shipping
//! elsewhere (the continuous log archive), or read back from there: it
//! must be whole commits, each valid by the rules recovery applies
//! (`docs/FORMAT.md`, "Recovery"), with nothing after the last one.

use super::scan::{Body, CommitPoint, Records, Scan, scan_after};

/// Bytes of one segment: log addresses `start..start + bytes.len()`.
#[derive(Clone, Copy, Debug)]
pub struct LogPiece<'a> {
    /// Address of `bytes[0]`.
    pub start: u64,
    /// The bytes.
    pub bytes: &'a [u8],
}

/// What a run of whole commits holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommittedRun {
    /// Its commits, in log order (at least one).
    pub commits: Vec<CommitPoint>,
}

/// Why a run is not whole commits: in piece `piece`, at `offset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDamage {
    /// Index of the piece.
    pub piece: usize,
    /// Offset in its bytes.
    pub offset: u64,
    /// What is wrong.
    pub what: String,
}

/// Checks that `pieces` (consecutive parts of the log, in address order,
/// the first starting just after a commit at seqno `after_seqno`, or at a
/// memtable's start) are whole valid commits, every key record with a
/// seqno above `after_seqno`, and nothing after the last commit.
pub fn check_committed_run(
    pieces: &[LogPiece<'_>],
    page_size: u64,
    after_seqno: u64,
) -> Result<CommittedRun, RunDamage> {
    let scan = scan_pieces(pieces, page_size, after_seqno)?;
    let last = pieces.len().checked_sub(1);
    let end = last.map(|i| (i, pieces[i].start + pieces[i].bytes.len() as u64));
    if let Some(at) = scan.tail_at {
        let piece = pieces.iter().rposition(|p| p.start <= at).unwrap_or(0);
        let what = format!("log address {at} is not covered by a commit: the run does not end at one");
        return Err(RunDamage { piece, offset: at.saturating_sub(pieces[piece].start), what });
    }
    match (scan.commit_end, end) {
        (Some((commit_end, _)), Some((_, end))) if commit_end == end => {}
        _ => {
            let piece = last.unwrap_or(0);
            let what = "the run holds no commit, or does not end with one".to_string();
            return Err(RunDamage { piece, offset: 0, what });
        }
    }
    Ok(run_of(scan))
}

/// The whole commits at the start of `pieces` (as [`check_committed_run`]
/// checks them), which may end in part of a commit: what a reader of a
/// prefix of the durable log finds. Empty when no commit is whole.
pub fn committed_prefix(pieces: &[LogPiece<'_>], page_size: u64, after_seqno: u64) -> Result<CommittedRun, RunDamage> {
    let scan = scan_pieces(pieces, page_size, after_seqno)?;
    Ok(run_of(scan))
}

/// The recovery scan of `pieces` as log bodies, its damage named by piece.
fn scan_pieces(pieces: &[LogPiece<'_>], page_size: u64, after_seqno: u64) -> Result<Scan, RunDamage> {
    let bodies: Vec<Body<'_>> = pieces.iter().map(|p| Body { start: p.start, bytes: p.bytes }).collect();
    scan_after(&bodies, page_size, after_seqno, Records::Skip).map_err(|d| RunDamage {
        piece: d.index,
        offset: d.offset,
        what: d.what,
    })
}

/// The commits a scan accepted.
fn run_of(scan: Scan) -> CommittedRun {
    CommittedRun { commits: scan.points }
}
