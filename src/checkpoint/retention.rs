//! Keeping a folder of checkpoints: their time-ordered names
//! ([`timed_name`]), the newest one that verifies ([`latest_valid`]) and
//! removing all but the newest few ([`prune`]).
//!
//! Removal is [`delete`]'s: a checkpoint is renamed to a staging name
//! first — which [`list`], `latest_valid` and `Db::open` refuse — and only
//! then emptied, so a crash part-way never leaves a directory that looks
//! like a checkpoint but is not; the next prune finishes such leftovers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{CheckpointDescription, DeletedCheckpoint, delete, describe, list, verify};
use crate::fs::{FileKind, Fs};
use crate::staging::{is_staging_name, remove_leftovers};
use crate::{Error, Result, SeqNo};

/// The name of a checkpoint taken at `unix_ms` (UTC) holding seqno
/// `seqno`: `20261201T212233123Z-4242`, so that names sort by time; with
/// no seqno, the name it has while being made.
pub fn timed_name(unix_ms: u64, seqno: Option<SeqNo>) -> String {
    let (secs, ms) = (unix_ms / 1000, unix_ms % 1000);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let stamp = format!("{year:04}{month:02}{day:02}T{h:02}{m:02}{s:02}{ms:03}Z");
    match seqno {
        Some(seqno) => format!("{stamp}-{seqno}"),
        None => format!("{stamp}-pending"),
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A checkpoint [`latest_valid`] found intact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidCheckpoint {
    /// Its directory.
    pub path: PathBuf,
    /// It holds every write with seqno <= this, none after.
    pub seqno: SeqNo,
    /// Its `CHECKPOINT` file.
    pub description: CheckpointDescription,
}

/// A checkpoint [`latest_valid`] passed over, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedCheckpoint {
    /// Its directory.
    pub path: PathBuf,
    /// Its damage, in one line.
    pub reason: String,
}

/// What [`latest_valid`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatestValid {
    /// The newest checkpoint that verifies, if any.
    pub found: Option<ValidCheckpoint>,
    /// Newer ones skipped, newest first, and why.
    pub skipped: Vec<SkippedCheckpoint>,
}

/// The newest checkpoint directly in `dir` that verifies (every file there
/// and checked by its checksums, its log recovering to its seqno), walking
/// back past damaged ones and saying why each was skipped. A checkpoint
/// whose `CHECKPOINT` file is damaged is skipped too (it is not known how
/// new it is; it is named first).
pub fn latest_valid(fs: &Arc<dyn Fs>, dir: &Path) -> Result<LatestValid> {
    let mut out = LatestValid::default();
    let mut found = Vec::new();
    for entry in fs.read_dir(dir)? {
        if entry.kind != FileKind::Dir || is_staging_name(&entry.name) {
            continue;
        }
        let path = dir.join(&entry.name);
        match describe(&**fs, &path) {
            Ok(Some(description)) => found.push((path, description)),
            // Removed since the directory was read.
            Ok(None) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => out.skipped.push(SkippedCheckpoint { path, reason: e.to_string() }),
        }
    }
    found.sort_by(|a, b| (b.1.created_unix_ms, b.1.seqno, &b.0).cmp(&(a.1.created_unix_ms, a.1.seqno, &a.0)));
    for (path, description) in found {
        let report = match verify(fs, &path) {
            Ok(report) => report,
            // Removed (pruned) meanwhile: not a candidate any more.
            Err(e) if e.is_not_found() && !fs.exists(&path)? => continue,
            Err(e) => return Err(e),
        };
        if report.is_ok() {
            out.found = Some(ValidCheckpoint { seqno: description.seqno, path, description });
            return Ok(out);
        }
        let reason = report.problems.iter().map(|p| format!("{}: {}", p.file.display(), p.what)).collect::<Vec<_>>();
        out.skipped.push(SkippedCheckpoint { path, reason: reason.join("; ") });
    }
    Ok(out)
}

/// What [`prune`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointPrune {
    /// Checkpoints removed, newest first.
    pub removed: Vec<DeletedCheckpoint>,
    /// Checkpoints kept, newest first.
    pub kept: Vec<PathBuf>,
    /// Checkpoints left alone, and why: opened for writing since (a
    /// database of their own), open in a process, or holding foreign files.
    pub refused: Vec<SkippedCheckpoint>,
    /// Leftovers of interrupted checkpoints, restores and removals finished.
    pub leftovers_removed: usize,
}

/// Keeps the newest `keep` checkpoints directly in `dir` (at least 1) —
/// and, with `max_age`, none taken longer ago than that beyond the newest
/// one — and removes the rest, each as [`delete`] does (crash-safe); then
/// finishes the leftovers of interrupted work in `dir`. A checkpoint
/// [`delete`] refuses is reported and kept.
pub fn prune(fs: &dyn Fs, dir: &Path, keep: usize, max_age: Option<Duration>) -> Result<CheckpointPrune> {
    if keep == 0 {
        return Err(Error::invalid("prune must keep at least one checkpoint"));
    }
    let mut out = CheckpointPrune { leftovers_removed: remove_leftovers(fs, dir)?, ..CheckpointPrune::default() };
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let too_old = |d: &CheckpointDescription| {
        max_age.is_some_and(|age| now_ms.saturating_sub(d.created_unix_ms) > age.as_millis() as u64)
    };
    for (i, listing) in list(fs, dir)?.into_iter().enumerate() {
        if i == 0 || (i < keep && !too_old(&listing.description)) {
            out.kept.push(listing.path);
            continue;
        }
        match delete(fs, &listing.path) {
            Ok(deleted) => out.removed.push(deleted),
            Err(e @ (Error::InvalidArgument { .. } | Error::Locked { .. })) => {
                out.refused.push(SkippedCheckpoint { path: listing.path.clone(), reason: e.to_string() });
                out.kept.push(listing.path);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_names_spell_utc_and_sort_by_time() {
        assert_eq!(timed_name(0, Some(SeqNo(1))), "19700101T000000000Z-1");
        assert_eq!(timed_name(1_796_160_153_123, Some(SeqNo(42))), "20261201T212233123Z-42");
        assert_eq!(timed_name(951_782_400_000, None), "20000229T000000000Z-pending");
        let names: Vec<String> = [5_000u64, 86_399_999, 86_400_000, 1_796_160_153_123]
            .iter()
            .map(|&ms| timed_name(ms, Some(SeqNo(9))))
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
}
