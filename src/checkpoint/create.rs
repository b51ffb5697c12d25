//! Creating a checkpoint (`docs/DESIGN.md`, "Checkpoints").

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::verify::{verify_blob, verify_table};
use super::{CHECKPOINT_FILE, CHECKPOINT_FORMAT_VERSION, CheckpointDescription, CheckpointInfo, CheckpointOptions};
use crate::db::{Capture, CutFile, CutSource, Db, Extent};
use crate::fs::{Fs, LinkOutcome, LinkStrategy, OpenOptions, copy_file, link_or_copy};
use crate::staging::{StagingGuard, check_target, normalize};
use crate::version::{DbLayout, FileName, encode_current_for};
use crate::{Error, Result};

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
        create(self, Naming::Exact(target.as_ref()), options)
    }

    /// A new checkpoint inside the folder `dir` (created if missing),
    /// named by the time it was taken and its seqno
    /// ([`timed_name`](super::timed_name): names sort by time).
    pub fn checkpoint_into(&self, dir: impl AsRef<Path>, options: CheckpointOptions) -> Result<CheckpointInfo> {
        create(self, Naming::Timed(dir.as_ref()), options)
    }
}

/// Where a checkpoint goes.
#[derive(Clone, Copy)]
enum Naming<'a> {
    /// At this path.
    Exact(&'a Path),
    /// Inside this folder, named by its time and seqno once captured.
    Timed(&'a Path),
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

fn create(db: &Db, naming: Naming<'_>, options: CheckpointOptions) -> Result<CheckpointInfo> {
    let started = Instant::now();
    let fs = db.fs();
    let provisional = match naming {
        Naming::Exact(target) => target.to_path_buf(),
        Naming::Timed(dir) => dir.join(super::timed_name(now_unix_ms(), None)),
    };
    let mut target = check_target(fs, &provisional, Some(db.path()))?;
    let (mut cleanup, staging) = StagingGuard::create(fs, &target, "checkpoint")?;

    let prepared = started.elapsed();
    let cut = db.cut(options.flush)?;
    let capture = cut.capture();
    let captured = started.elapsed();
    let out = DbLayout::new(&staging);
    let files = cut.files();
    let tally = write_files(fs, &files, &out, options.sync)?;
    let linked = started.elapsed();
    let description = CheckpointDescription {
        format_version: CHECKPOINT_FORMAT_VERSION,
        source: normalize(cut.layout().root())?,
        database: capture.version.identity,
        seqno: capture.seqno,
        version_id: capture.version.id,
        created_unix_ms: now_unix_ms(),
        table_files: capture.version.table_count(),
        blob_files: capture.version.blob_files.len(),
        log_segments: capture.log.len(),
        bytes_total: tally.bytes_total,
    };
    write_metadata(fs, &out, capture, &files, &description, options.sync)?;
    let described = started.elapsed();

    if let Naming::Timed(_) = naming {
        let named = target.with_file_name(super::timed_name(description.created_unix_ms, Some(capture.seqno)));
        if fs.exists(&named)? {
            return Err(Error::TargetExists { path: named });
        }
        target = named;
    }
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
        version_id: capture.version.id,
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

/// Links (or copies) every file of the cut on disk into the staging
/// layout: each table and blob file, and each log segment whose file is
/// exactly its captured prefix; copies the prefix of any other segment.
fn now_unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn write_files(fs: &dyn Fs, files: &[CutFile], out: &DbLayout, sync: bool) -> Result<Tally> {
    for dir in [out.tables_dir(), out.blobs_dir(), out.log_dir()] {
        fs.create_dir(&dir)?;
    }
    let mut tally = Tally::default();
    for file in files {
        let CutSource::Disk(from) = &file.source else { continue };
        let to = file.destination(out);
        // Only a prefix needs the file's length now; a sealed file is its length.
        let len_now = match file.extent {
            Extent::Whole => file.len_bytes,
            Extent::Prefix => fs.metadata(from)?.len,
        };
        let linkable = file.may_link(len_now);
        if !linkable {
            let bytes = copy_file(fs, from, fs, &to, file.len_bytes, sync)?;
            tally.count(LinkOutcome { strategy: LinkStrategy::Copied, bytes });
            continue;
        }
        let outcome = link_or_copy(fs, from, fs, &to, sync)?;
        // A link shares the source's bytes; a copy is new bytes, read from
        // the source, and must not carry damage into the checkpoint.
        if file.extent == Extent::Whole && outcome.strategy == LinkStrategy::Copied {
            verify_copied(fs, from, file.name)?;
        }
        tally.count(outcome);
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

/// Writes the cut's files made in memory (`v{N}`, marked as a copy),
/// `CURRENT` and `CHECKPOINT`, then (with `sync`) fsyncs them and every
/// non-empty directory of the staging layout. All writes come before the
/// first fsync, so one journal commit can carry them all.
fn write_metadata(
    fs: &dyn Fs,
    out: &DbLayout,
    capture: &Capture,
    cut_files: &[CutFile],
    description: &CheckpointDescription,
    sync: bool,
) -> Result<()> {
    let id = capture.version.id;
    let version_file = cut_files.iter().find_map(|f| match &f.source {
        CutSource::Memory(bytes) if f.name == FileName::Version(id) => Some(bytes.as_slice()),
        _ => None,
    });
    let version_file = version_file.expect("a cut lists its version file");
    let (current, checkpoint) = (encode_current_for(id, version_file), description.encode());
    let files = [
        (out.version(id), version_file),
        (out.current(), current.as_slice()),
        (out.root().join(CHECKPOINT_FILE), checkpoint.as_slice()),
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
