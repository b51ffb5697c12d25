//! Verifying a checkpoint (or any database directory): every checksum of
//! every file its version names, and that each is there with its size.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{CHECKPOINT_FILE, CheckpointDescription, describe};
use crate::blob::BlobFile;
use crate::fs::{Fs, read_to_vec};
use crate::hlog::{HlogConfig, HybridLog, ReplayFrom};
use crate::table::{BlockCache, Table};
use crate::version::{DbLayout, FileName, TableInfo, VersionRecord, decode_current, decode_version};
use crate::wire::checksum;
use crate::{BlobFileId, Error, LogAddress, Result, SeqNo, TableId, VersionId};

/// One thing wrong with a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The damaged or missing file.
    pub file: PathBuf,
    /// What is wrong with it.
    pub what: String,
}

/// What [`verify`] checked and found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// The version `CURRENT` names.
    pub version_id: VersionId,
    /// The seqno of the newest write the directory holds.
    pub seqno: SeqNo,
    /// Tables checked.
    pub tables: usize,
    /// Blob files checked.
    pub blob_files: usize,
    /// Log segments replayed.
    pub log_segments: usize,
    /// Bytes read and checked.
    pub bytes_checked: u64,
    /// Everything found wrong; empty when the directory is intact.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Progress of a [`verify_with_progress`] run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifyProgress {
    /// Bytes checked so far.
    pub bytes_done: u64,
    /// Bytes to check in all.
    pub bytes_total: u64,
    /// Files checked so far.
    pub files_done: usize,
    /// Files to check in all.
    pub files_total: usize,
}

/// Reads every file of the database or checkpoint at `path` and checks
/// every checksum, that every file the version names is there with its
/// recorded size, and that the log replays. A checkpoint is held to what
/// its `CHECKPOINT` file records: untouched since it was taken, its log
/// must replay exactly to the recorded seqno from the recorded number of
/// segments, with no torn tail (a checkpoint's log ends at a commit by
/// construction); opened read-write since, it must still hold at least
/// that seqno. A database's torn tail is what a crash leaves and is not a
/// problem (its next writable open cuts it). Damage is reported in
/// [`VerifyReport::problems`]; an error means the directory could not be
/// examined at all (not a database, or unreadable). Writes nothing.
pub fn verify(fs: &Arc<dyn Fs>, path: &Path) -> Result<VerifyReport> {
    verify_with_progress(fs, path, &mut |_| {})
}

/// [`verify`], reporting progress after each file.
pub fn verify_with_progress(
    fs: &Arc<dyn Fs>,
    path: &Path,
    progress: &mut dyn FnMut(VerifyProgress),
) -> Result<VerifyReport> {
    let layout = DbLayout::new(path);
    if !fs.exists(&layout.current())? {
        return Err(Error::io(
            "verify",
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a cairndb database or checkpoint (no CURRENT)"),
        ));
    }
    let mut report = VerifyReport::default();
    let record = match load_version(&**fs, &layout) {
        Ok(record) => record,
        Err(problem) => {
            report.problems.push(problem);
            return Ok(report);
        }
    };
    report.version_id = record.id;
    report.seqno = record.last_seqno;
    let tables: Vec<&TableInfo> = record.levels.iter().flatten().collect();
    let segments = log_segments(&**fs, &layout)?;
    let mut done = VerifyProgress {
        files_total: tables.len() + record.blob_files.len() + segments.len(),
        bytes_total: tables.iter().map(|t| t.size_bytes).sum::<u64>()
            + record.blob_files.iter().map(|b| b.size_bytes).sum::<u64>()
            + segments.iter().map(|(_, len)| len).sum::<u64>(),
        ..VerifyProgress::default()
    };
    for table in tables {
        let path = layout.table(table.id);
        let checked = check_file(&**fs, &path, table.size_bytes, |fs, path| verify_table(fs, path, table.id));
        account(&mut report, &mut done, progress, path, table.size_bytes, checked);
        report.tables += 1;
    }
    for blob in &record.blob_files {
        let path = layout.blob(blob.id);
        let checked = check_file(&**fs, &path, blob.size_bytes, |fs, path| verify_blob(fs, path, blob.id));
        account(&mut report, &mut done, progress, path, blob.size_bytes, checked);
        report.blob_files += 1;
    }
    let description = match describe(&**fs, path) {
        Ok(description) => description,
        Err(e) => {
            report.problems.push(Problem { file: path.join(CHECKPOINT_FILE), what: e.to_string() });
            None
        }
    };
    let replay = ReplayFrom { address: record.log_start, next_seqno: SeqNo(record.last_seqno.0 + 1) };
    // The point index is sized from the memtable budget; a replay to check
    // needs none to speak of (recovery sizes it by the records it finds).
    let config =
        HlogConfig { read_only: true, page_size_bytes: 4096, memtable_size_bytes: 1 << 20, ..HlogConfig::default() };
    match HybridLog::open(Arc::clone(fs), &layout.log_dir(), config, replay) {
        Ok((_, recovered)) => {
            report.seqno = report.seqno.max(recovered.last_seqno);
            if let Some(description) = &description {
                let pristine = description.version_id == record.id;
                let found = Found { seqno: report.seqno, torn_at: recovered.torn_at, segments: segments.len() };
                report.problems.extend(against_description(&layout, description, pristine, &found));
            }
        }
        Err(e) => report.problems.push(Problem { file: layout.log_dir(), what: e.to_string() }),
    }
    report.log_segments = segments.len();
    for (_, len) in &segments {
        done.files_done += 1;
        done.bytes_done += len;
        report.bytes_checked += len;
        progress(done);
    }
    Ok(report)
}

/// Reads the table `id` at `path` whole and checks it by its own checksums:
/// footer, meta, index and filter blocks, and every data block (its entries
/// and their order too). Damage is `Error::Corruption` naming `path` and
/// the offset.
pub(crate) fn verify_table(fs: &dyn Fs, path: &Path, id: TableId) -> Result<()> {
    Table::open(fs, path, id, Arc::new(BlockCache::new(0)))?.verify()
}

/// Reads the blob file `id` at `path` whole and checks its footer and every
/// record. Damage is `Error::Corruption` naming `path` and the offset.
pub(crate) fn verify_blob(fs: &dyn Fs, path: &Path, id: BlobFileId) -> Result<()> {
    BlobFile::open(fs, path, id)?.verify()
}

/// What the files of a checkpoint recover to.
struct Found {
    seqno: SeqNo,
    torn_at: Option<LogAddress>,
    segments: usize,
}

/// How a checkpoint's files differ from what its description records.
/// `pristine`: `CURRENT` still names the version it was taken with (a
/// writable open installs a new one before its first write).
fn against_description(
    layout: &DbLayout,
    description: &CheckpointDescription,
    pristine: bool,
    found: &Found,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let log = |what: String| Problem { file: layout.log_dir(), what };
    let recorded = description.seqno;
    if !pristine {
        if found.seqno < recorded {
            problems.push(log(format!(
                "recovers to seqno {}, below the seqno {recorded} the checkpoint was taken at",
                found.seqno
            )));
        }
        return problems;
    }
    if let Some(at) = found.torn_at {
        problems.push(log(format!(
            "the log does not end at a commit (bytes from address {at} on are torn or damaged); \
             a checkpoint's log is complete when taken"
        )));
    }
    if found.seqno != recorded {
        problems
            .push(log(format!("recovers to seqno {}, but the checkpoint was taken at seqno {recorded}", found.seqno)));
    }
    if found.segments != description.log_segments {
        problems.push(log(format!(
            "{} log segments, but the checkpoint was taken with {}",
            found.segments, description.log_segments
        )));
    }
    problems
}

/// Reads `CURRENT` and the version it names, checking both.
fn load_version(fs: &dyn Fs, layout: &DbLayout) -> std::result::Result<VersionRecord, Problem> {
    let problem = |file: PathBuf| move |e: Error| Problem { file, what: e.to_string() };
    let current = layout.current();
    let bytes = read_to_vec(fs, &current).map_err(problem(current.clone()))?;
    let (id, hash) = decode_current(&current, &bytes).map_err(problem(current.clone()))?;
    let path = layout.version(id);
    let bytes = read_to_vec(fs, &path).map_err(problem(path.clone()))?;
    if checksum(&bytes) != hash {
        return Err(Problem { file: path, what: "does not match the hash CURRENT holds for it".into() });
    }
    decode_version(&path, &bytes).map_err(problem(path.clone()))
}

/// Segment files in the log folder, with their lengths.
fn log_segments(fs: &dyn Fs, layout: &DbLayout) -> Result<Vec<(PathBuf, u64)>> {
    let dir = layout.log_dir();
    if !fs.exists(&dir)? {
        return Ok(Vec::new());
    }
    let mut segments = Vec::new();
    for entry in fs.read_dir(&dir)? {
        if entry.name.to_str().and_then(FileName::parse_log).is_some() {
            let path = dir.join(&entry.name);
            let len = fs.metadata(&path)?.len;
            segments.push((path, len));
        }
    }
    Ok(segments)
}

/// Checks a file's presence and size, then its content with `check`.
fn check_file(
    fs: &dyn Fs,
    path: &Path,
    expected_bytes: u64,
    check: impl FnOnce(&dyn Fs, &Path) -> Result<()>,
) -> std::result::Result<(), String> {
    let actual = match fs.metadata(path) {
        Ok(meta) => meta.len,
        Err(e) if e.is_not_found() => return Err("missing".into()),
        Err(e) => return Err(e.to_string()),
    };
    if actual != expected_bytes {
        return Err(format!("{actual} bytes, but the version records {expected_bytes}"));
    }
    check(fs, path).map_err(|e| e.to_string())
}

fn account(
    report: &mut VerifyReport,
    done: &mut VerifyProgress,
    progress: &mut dyn FnMut(VerifyProgress),
    path: PathBuf,
    bytes: u64,
    checked: std::result::Result<(), String>,
) {
    if let Err(what) = checked {
        report.problems.push(Problem { file: path, what });
    }
    done.files_done += 1;
    done.bytes_done += bytes;
    report.bytes_checked += bytes;
    progress(*done);
}
