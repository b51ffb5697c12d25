//! Creating a checkpoint (`docs/DESIGN.md`, "Checkpoints").

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::target::{StagingGuard, check_target};
use super::verify::{verify_blob, verify_table};
use super::{CHECKPOINT_FILE, CHECKPOINT_FORMAT_VERSION, CheckpointDescription, CheckpointInfo, CheckpointOptions};
use crate::Result;
use crate::db::{Capture, Db};
use crate::fs::{Fs, LinkOutcome, LinkStrategy, OpenOptions, copy_file, link_or_copy};
use crate::version::{DbLayout, FileName, as_copy, encode_current, encode_version_file};

impl Db {
    /// Takes a checkpoint into `target` with default options (flush, sync):
    /// an exact copy of the database as of now, made of reflinks or hard
    /// links where the file system allows, that opens as a database.
    ///
    /// - Exact: it holds every write with seqno <= `info.seqno` and none
    ///   after, whatever writers do meanwhile.
    /// - Atomic: it is built in a staging directory beside `target` and
    ///   renamed into place only once every file and directory in it is
    ///   durable; a crash leaves no target or a complete one.
    /// - Independent: later work on the source never changes it, nor the
    ///   reverse (shared files are immutable; deleting only unlinks).
    ///
    /// `target` must not exist (a dangling symbolic link counts as
    /// existing) and must lie outside the database, and outside any other
    /// (compared by real path: symbolic links resolved); missing parents
    /// are created. `info.path` is that real path. Writers, flushes and compactions continue throughout;
    /// deletions of obsolete files wait until it is done.
    pub fn checkpoint(&self, target: impl AsRef<Path>) -> Result<CheckpointInfo> {
        self.checkpoint_with(target, CheckpointOptions::default())
    }

    /// [`checkpoint`](Db::checkpoint) with options.
    pub fn checkpoint_with(&self, target: impl AsRef<Path>, options: CheckpointOptions) -> Result<CheckpointInfo> {
        create(self, target.as_ref(), options)
    }
}

#[derive(Default)]
struct Tally {
    bytes_total: u64,
    bytes_copied: u64,
    reflinked: usize,
    hard_linked: usize,
    copied: usize,
}

impl Tally {
    fn count(&mut self, outcome: LinkOutcome) {
        self.bytes_total += outcome.bytes;
        match outcome.strategy {
            LinkStrategy::Reflinked => self.reflinked += 1,
            LinkStrategy::HardLinked => self.hard_linked += 1,
            LinkStrategy::Copied => {
                self.copied += 1;
                self.bytes_copied += outcome.bytes;
            }
        }
    }
}

fn create(db: &Db, target: &Path, options: CheckpointOptions) -> Result<CheckpointInfo> {
    let started = Instant::now();
    let inner = db.inner();
    let fs = &*inner.fs;
    let target = check_target(fs, target, Some(inner.layout.root()))?;
    let (mut cleanup, staging) = StagingGuard::create(fs, &target, "checkpoint")?;

    let _pause = inner.pause_deletions();
    let prepared = started.elapsed();
    let capture = inner.capture(options.flush)?;
    let captured = started.elapsed();
    let out = DbLayout::new(&staging);
    let tally = write_files(fs, &inner.layout, &out, &capture, options.sync)?;
    let linked = started.elapsed();
    let description = CheckpointDescription {
        format_version: CHECKPOINT_FORMAT_VERSION,
        source: super::target::normalize(inner.layout.root())?,
        database: capture.version.identity,
        seqno: capture.seqno,
        version_id: capture.version.id.0,
        created_unix_ms: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
        table_files: capture.version.table_count(),
        blob_files: capture.version.blob_files.len(),
        log_segments: capture.log.len(),
        bytes_total: tally.bytes_total,
    };
    write_metadata(fs, &out, &capture, &description, options.sync)?;
    let described = started.elapsed();

    cleanup.rename_into_place(&target, options.sync)?;
    cleanup.disarm();
    log::debug!(
        "checkpoint {}: prepared {prepared:?}, captured {captured:?}, linked {linked:?}, metadata {described:?}, done {:?}",
        target.display(),
        started.elapsed()
    );
    Ok(CheckpointInfo {
        path: target,
        seqno: capture.seqno,
        version_id: capture.version.id.0,
        table_files: description.table_files,
        blob_files: description.blob_files,
        log_segments: description.log_segments,
        bytes_total: tally.bytes_total,
        bytes_copied: tally.bytes_copied,
        reflinked: tally.reflinked,
        hard_linked: tally.hard_linked,
        copied: tally.copied,
        duration: started.elapsed(),
    })
}

/// Links (or copies) every table and blob file of the captured version, and
/// copies the captured log, into the staging layout.
fn write_files(fs: &dyn Fs, src: &DbLayout, out: &DbLayout, capture: &Capture, sync: bool) -> Result<Tally> {
    for dir in [out.tables_dir(), out.blobs_dir(), out.log_dir()] {
        fs.create_dir(&dir)?;
    }
    let mut tally = Tally::default();
    let tables = capture.version.tables().map(|(_, t)| FileName::Table(t.info.id));
    let blobs = capture.version.blob_files.keys().map(|&id| FileName::Blob(id));
    for name in tables.chain(blobs) {
        let (from, to) = (src.path_of(name), out.path_of(name));
        let outcome = link_or_copy(fs, &from, fs, &to, sync)?;
        // A link shares the source's bytes; a copy is new bytes, read from
        // the source, and must not carry damage into the checkpoint.
        if outcome.strategy == LinkStrategy::Copied {
            verify_copied(fs, &from, name)?;
        }
        tally.count(outcome);
    }
    // Captured log segments belong to frozen memtables and were persisted by
    // the capture: complete and never appended again, so one whose file is
    // exactly the captured length is shared like a table. Anything else is
    // copied up to the captured length.
    for piece in &capture.log {
        let to = out.log_segment(piece.number);
        if fs.metadata(&piece.path)?.len == piece.len_bytes {
            tally.count(link_or_copy(fs, &piece.path, fs, &to, sync)?);
        } else {
            let bytes = copy_file(fs, &piece.path, fs, &to, piece.len_bytes, sync)?;
            tally.count(LinkOutcome { strategy: LinkStrategy::Copied, bytes });
        }
    }
    Ok(tally)
}

/// Checks the source of a copied table or blob file by its own checksums;
/// damage fails the checkpoint (its cleanup guard removes the staging
/// directory) with `Error::Corruption` naming the source file.
fn verify_copied(fs: &dyn Fs, from: &Path, name: FileName) -> Result<()> {
    let checked = match name {
        FileName::Table(id) => verify_table(fs, from, id),
        FileName::Blob(id) => verify_blob(fs, from, id),
        FileName::LogSegment(_) | FileName::Version(_) | FileName::Current => Ok(()),
    };
    checked.map_err(|e| e.refusing("the checkpoint was not made"))
}

/// Writes `v{N}`, `CURRENT` and `CHECKPOINT`, then (with `sync`) fsyncs
/// them and every non-empty directory of the staging layout. All writes
/// come before the first fsync, so one journal commit can carry them all.
fn write_metadata(
    fs: &dyn Fs,
    out: &DbLayout,
    capture: &Capture,
    description: &CheckpointDescription,
    sync: bool,
) -> Result<()> {
    // Marked as a copy: its first writable open starts a new timeline.
    let (version_bytes, hash) = encode_version_file(&as_copy(&capture.version));
    let files = [
        (out.version(capture.version.id), version_bytes),
        (out.current(), encode_current(capture.version.id, hash)),
        (out.root().join(CHECKPOINT_FILE), description.encode()),
    ];
    let mut written = Vec::with_capacity(files.len());
    for (path, bytes) in &files {
        let file = fs.open(path, OpenOptions::create_new())?;
        file.write_all_at(bytes, 0)?;
        written.push(file);
    }
    if !sync {
        return Ok(());
    }
    for file in &written {
        file.sync_all()?;
    }
    for dir in [out.tables_dir(), out.blobs_dir(), out.log_dir()] {
        if !fs.read_dir(&dir)?.is_empty() {
            fs.sync_directory(&dir)?;
        }
    }
    fs.sync_directory(out.root())
}
