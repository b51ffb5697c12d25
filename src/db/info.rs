//! [`Db::info`]: where the database's files stand — what its current
//! version records, and the log segments on disk — for tools such as
//! `cairn info`.

use std::path::PathBuf;

use super::Db;
use crate::fs::{Fs, OpenOptions};
use crate::hlog::segment::{self, SegmentHeader};
use crate::{DbIdentity, LogAddress, Result, SeqNo, VersionId};

/// The database's files at one moment: its current version and its log.
///
/// A snapshot: a flush or compaction after the call may replace the
/// tables and remove old segments.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DbInfo {
    /// Which database and timeline this is (see [`Db::identity`]).
    pub identity: Option<DbIdentity>,
    /// The database is a checkpoint or restored backup that becomes a new
    /// timeline at its first writable open.
    pub fork_pending: bool,
    /// The current version's id (its file is `v{id}`).
    pub version_id: VersionId,
    /// The newest write the tables hold; newer ones are in the log.
    pub tables_seqno: SeqNo,
    /// Where an open replays the log from.
    pub log_start: LogAddress,
    /// The table files of the current version, level by level.
    pub table_files: Vec<PathBuf>,
    /// The blob files of the current version, by id.
    pub blob_files: Vec<PathBuf>,
    /// The log segment files on disk, oldest first.
    pub log_segments: Vec<LogSegment>,
}

/// One log segment file (`log/{number}.hlog`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogSegment {
    /// The segment's number.
    pub number: u64,
    /// Its path.
    pub path: PathBuf,
    /// The log address its header says it starts at; `None` when the
    /// header cannot be read or does not decode (a torn or damaged
    /// segment: opening the database says which).
    pub start: Option<LogAddress>,
    /// The file's length.
    pub len_bytes: u64,
}

impl Db {
    /// The database's files now: the current version and the log segments
    /// on disk.
    pub fn info(&self) -> Result<DbInfo> {
        let inner = &self.inner;
        let version = inner.current_version();
        let layout = &inner.layout;
        Ok(DbInfo {
            identity: version.identity,
            fork_pending: version.fork_pending,
            version_id: version.id,
            tables_seqno: version.last_seqno,
            log_start: version.log_start,
            table_files: version.tables().map(|(_, t)| layout.table(t.info.id)).collect(),
            blob_files: version.blob_files.keys().map(|id| layout.blob(*id)).collect(),
            log_segments: log_segments(&*inner.fs, &layout.log_dir())?,
        })
    }
}

/// The segments in `log_dir`, with the start address each header records.
fn log_segments(fs: &dyn Fs, log_dir: &std::path::Path) -> Result<Vec<LogSegment>> {
    let mut found = Vec::new();
    for number in segment::list(fs, log_dir)? {
        let path = segment::path(log_dir, number);
        // A flush may remove an old segment between the listing and here.
        let file = match fs.open(&path, OpenOptions::read()) {
            Ok(file) => file,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let mut header = [0u8; segment::HEADER_BYTES];
        let start = match file.read_exact_at(&mut header, 0) {
            Ok(()) => SegmentHeader::decode(&header).ok().map(|h| LogAddress(h.start)),
            Err(_) => None,
        };
        found.push(LogSegment { number, path, start, len_bytes: file.len()? });
    }
    Ok(found)
}
