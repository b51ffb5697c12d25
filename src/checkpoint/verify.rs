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
/// problem (its next writable open cuts it).
///
/// A database whose owner keeps writing beside the check moves on while
/// it is read: it flushes, compacts and installs new versions, deleting
/// files the check was about to read. What it deleted is no damage, so
/// when the check finds a problem and `CURRENT` changed since it began,
/// each problem is checked again against the newest version (a file it no
/// longer names is dropped, the version and the log are read again); only
/// what is still wrong is reported. A directory that keeps changing under
/// every re-check is an error that says so.
///
/// Damage is reported in [`VerifyReport::problems`]; an error means the
/// directory could not be examined at all (not a database, unreadable,
/// or changing too fast to check). Writes nothing.
pub fn verify(fs: &Arc<dyn Fs>, path: &Path) -> Result<VerifyReport> {
    verify_with_progress(fs, path, &mut |_| {})
}

/// How many times problems found while `CURRENT` changed are checked
/// again against the newest version before the check gives up.
const RECHECKS: u32 = 20;

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
    let mut began = read_current(&**fs, &layout);
    let mut check = check_all(fs, &layout, progress)?;
    for attempt in 0..=RECHECKS {
        if check.found.is_empty() {
            break;
        }
        let now = read_current(&**fs, &layout);
        if now == began {
            break;
        }
        if attempt == RECHECKS {
            return Err(Error::invalid(format!(
                "{}: the database changed under each of {RECHECKS} re-checks of the problems found while its owner                  was writing; verify it again when it is quieter",
                path.display()
            )));
        }
        log::debug!("{}: CURRENT changed while it was checked; checking what was found again", path.display());
        began = now;
        check = recheck(fs, &layout, check)?;
    }
    Ok(check.into_report())
}

/// `CURRENT`'s bytes (`None` when it cannot be read): what tells whether
/// the directory changed.
fn read_current(fs: &dyn Fs, layout: &DbLayout) -> Option<Vec<u8>> {
    read_to_vec(fs, &layout.current()).ok()
}

/// What a problem is about, to check it again after the directory changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    Table(TableId),
    Blob(BlobFileId),
    /// `CURRENT`, the version, the log or `CHECKPOINT`: read again whole.
    VersionAndLog,
}

/// A check in progress: the report so far and what each problem is about.
struct Check {
    report: VerifyReport,
    found: Vec<(Subject, Problem)>,
}

impl Check {
    fn into_report(mut self) -> VerifyReport {
        self.report.problems = self.found.into_iter().map(|(_, problem)| problem).collect();
        self.report
    }
}

/// Checks every file once, as [`verify`] describes.
fn check_all(fs: &Arc<dyn Fs>, layout: &DbLayout, progress: &mut dyn FnMut(VerifyProgress)) -> Result<Check> {
    let mut check = Check { report: VerifyReport::default(), found: Vec::new() };
    let record = match load_version(&**fs, layout) {
        Ok(record) => record,
        Err(problem) => {
            check.found.push((Subject::VersionAndLog, problem));
            return Ok(check);
        }
    };
    check.report.version_id = record.id;
    check.report.seqno = record.last_seqno;
    let tables: Vec<&TableInfo> = record.levels.iter().flatten().collect();
    let segments = log_segments(&**fs, layout)?;
    let mut done = VerifyProgress {
        files_total: tables.len() + record.blob_files.len() + segments.len(),
        bytes_total: tables.iter().map(|t| t.size_bytes).sum::<u64>()
            + record.blob_files.iter().map(|b| b.size_bytes).sum::<u64>()
            + segments.iter().map(|(_, len)| len).sum::<u64>(),
        ..VerifyProgress::default()
    };
    for table in tables {
        let checked = check_table(&**fs, layout, table);
        account(
            &mut check,
            &mut done,
            progress,
            Subject::Table(table.id),
            layout.table(table.id),
            table.size_bytes,
            checked,
        );
        check.report.tables += 1;
    }
    for blob in &record.blob_files {
        let checked = check_blob(&**fs, layout, blob.id, blob.size_bytes);
        account(
            &mut check,
            &mut done,
            progress,
            Subject::Blob(blob.id),
            layout.blob(blob.id),
            blob.size_bytes,
            checked,
        );
        check.report.blob_files += 1;
    }
    let (seqno, problems) = check_log(fs, layout, &record, segments.len());
    check.report.seqno = check.report.seqno.max(seqno);
    check.found.extend(problems.into_iter().map(|problem| (Subject::VersionAndLog, problem)));
    check.report.log_segments = segments.len();
    for (_, len) in &segments {
        done.files_done += 1;
        done.bytes_done += len;
        check.report.bytes_checked += len;
        progress(done);
    }
    Ok(check)
}

/// Checks the problems of `check` again against the newest version: a
/// table or blob file it no longer names was deleted by the owner, not
/// damaged; one it still names is checked again; the version and the log
/// are read again whole when any problem was about them.
fn recheck(fs: &Arc<dyn Fs>, layout: &DbLayout, check: Check) -> Result<Check> {
    let mut report = check.report;
    let record = match load_version(&**fs, layout) {
        Ok(record) => record,
        Err(problem) => return Ok(Check { report, found: vec![(Subject::VersionAndLog, problem)] }),
    };
    report.version_id = record.id;
    report.seqno = report.seqno.max(record.last_seqno);
    let mut found = Vec::new();
    let mut version_and_log = false;
    for (subject, problem) in check.found {
        match subject {
            Subject::Table(id) => {
                if let Some(table) = record.levels.iter().flatten().find(|t| t.id == id)
                    && let Err(what) = check_table(&**fs, layout, table)
                {
                    found.push((subject, Problem { file: problem.file, what }));
                }
            }
            Subject::Blob(id) => {
                if let Some(blob) = record.blob_files.iter().find(|b| b.id == id)
                    && let Err(what) = check_blob(&**fs, layout, id, blob.size_bytes)
                {
                    found.push((subject, Problem { file: problem.file, what }));
                }
            }
            Subject::VersionAndLog => version_and_log = true,
        }
    }
    if version_and_log {
        let segments = log_segments(&**fs, layout)?;
        let (seqno, problems) = check_log(fs, layout, &record, segments.len());
        report.seqno = report.seqno.max(seqno);
        report.log_segments = segments.len();
        found.extend(problems.into_iter().map(|problem| (Subject::VersionAndLog, problem)));
    }
    Ok(Check { report, found })
}

fn check_table(fs: &dyn Fs, layout: &DbLayout, table: &TableInfo) -> std::result::Result<(), String> {
    check_file(fs, &layout.table(table.id), table.size_bytes, |fs, path| verify_table(fs, path, table.id))
}

fn check_blob(fs: &dyn Fs, layout: &DbLayout, id: BlobFileId, size_bytes: u64) -> std::result::Result<(), String> {
    check_file(fs, &layout.blob(id), size_bytes, |fs, path| verify_blob(fs, path, id))
}

/// Replays the log after `record` and holds a checkpoint to its
/// description; returns the seqno the log recovers to and the problems.
fn check_log(fs: &Arc<dyn Fs>, layout: &DbLayout, record: &VersionRecord, segments: usize) -> (SeqNo, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut seqno = record.last_seqno;
    let description = match describe(&**fs, layout.root()) {
        Ok(description) => description,
        Err(e) => {
            problems.push(Problem { file: layout.root().join(CHECKPOINT_FILE), what: e.to_string() });
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
            seqno = seqno.max(recovered.last_seqno);
            if let Some(description) = &description {
                let pristine = description.version_id == record.id;
                let found = Found { seqno, torn_at: recovered.torn_at, segments };
                problems.extend(against_description(layout, description, pristine, &found));
            }
        }
        Err(e) => problems.push(Problem { file: layout.log_dir(), what: e.to_string() }),
    }
    (seqno, problems)
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
            // One the owner removed since the listing is no longer the log's.
            match fs.metadata(&path) {
                Ok(meta) => segments.push((path, meta.len)),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
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
    check: &mut Check,
    done: &mut VerifyProgress,
    progress: &mut dyn FnMut(VerifyProgress),
    subject: Subject,
    path: PathBuf,
    bytes: u64,
    checked: std::result::Result<(), String>,
) {
    if let Err(what) = checked {
        check.found.push((subject, Problem { file: path, what }));
    }
    done.files_done += 1;
    done.bytes_done += bytes;
    check.report.bytes_checked += bytes;
    progress(*done);
}
