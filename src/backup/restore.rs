//! Restoring a backup into a fresh directory that opens as a database.
//!
//! Like a checkpoint, the restore is built in a staging directory beside the
//! target and renamed into place only when complete: every file downloaded,
//! its size and xxh3-128 checked as the bytes arrive, fsynced; `CURRENT`
//! written last; the directories fsynced. A damaged or missing file stops
//! it before anything appears at the target, and a crash leaves at most a
//! staging directory, which the next restore or checkpoint into the same
//! folder removes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::content::ContentHasher;
use super::engine::BackupEngine;
use super::manifest::{Manifest, ManifestFile};
use super::presence::StoredFiles;
use super::progress::BackupProgress;
use super::store::BackupStore;
use crate::fs::{Fs, OpenOptions};
use crate::staging::{StagingGuard, check_target};
use crate::version::{DbLayout, FileName, encode_current};
use crate::{BackupId, Error, Result, SeqNo};

/// What [`BackupEngine::restore`] made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreInfo {
    /// The backup restored (for a restore to a point: the base backup the
    /// archived log was replayed onto).
    pub id: BackupId,
    /// The database timeline it holds: the restored database reports it
    /// until it is opened for writing, which starts the next generation.
    pub database: Option<crate::DbIdentity>,
    /// The restored database holds every write with seqno <= this, none
    /// after: the backup's seqno, or the commit a restore to a point landed
    /// on (the newest at or before the point asked for).
    pub seqno: SeqNo,
    /// Its directory.
    pub path: PathBuf,
    /// Files downloaded.
    pub files: usize,
    /// Bytes downloaded.
    pub bytes: u64,
    /// How long it took.
    pub duration: Duration,
    /// For a restore to a point ([`restore_to`](BackupEngine::restore_to)):
    /// when the commit landed on was made, if the archive knows (a plain
    /// restore of a backup: `None`).
    pub commit_time: Option<std::time::SystemTime>,
    /// Archived log chunks replayed on top of the backup.
    pub log_chunks: usize,
    /// Bytes of archived log read for them.
    pub log_bytes: u64,
}

impl BackupEngine {
    /// Restores backup `id` into `target`, which must not exist nor lie
    /// inside a database (compared by real path; missing parents are
    /// created). The result opens with `Db::open` and holds
    /// exactly the backup's writes. A missing or damaged file is an error
    /// naming it, and nothing appears at `target`.
    pub fn restore(&self, id: BackupId, target: &Path) -> Result<RestoreInfo> {
        self.restore_with_progress(id, target, &mut |_| {})
    }

    /// [`restore`](Self::restore), reporting progress.
    pub fn restore_with_progress(
        &self,
        id: BackupId,
        target: &Path,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<RestoreInfo> {
        let started = Instant::now();
        let fs = &*self.local;
        let manifest = self.manifest(id)?;
        self.check_scope(&manifest)?;
        check_present(&*self.store, &manifest)?;
        let target = check_target(fs, target, None)?;
        let (mut cleanup, staging) = StagingGuard::create(fs, &target, "restore")?;
        self.fill(&manifest, &staging, progress)?;
        cleanup.rename_into_place(&target, true)?;
        cleanup.disarm();
        Ok(RestoreInfo {
            id,
            database: manifest.database,
            seqno: manifest.seqno,
            path: target,
            files: manifest.files.len(),
            bytes: manifest.bytes_total(),
            duration: started.elapsed(),
            commit_time: None,
            log_chunks: 0,
            log_bytes: 0,
        })
    }

    /// Downloads the files of `manifest` into the empty directory
    /// `staging`, checking each, and writes `CURRENT` last: a database.
    pub(super) fn fill(
        &self,
        manifest: &Manifest,
        staging: &Path,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<()> {
        let fs = &*self.local;
        let store = &*self.store;
        let out = DbLayout::new(staging);
        for dir in [out.tables_dir(), out.blobs_dir(), out.log_dir()] {
            fs.create_dir(&dir)?;
        }
        let mut done = BackupProgress::start(manifest.files.len(), manifest.bytes_total());
        progress(done);
        let mut version_hash = None;
        for file in &manifest.files {
            let hash = download(store, fs, manifest, file, &out.path_of(file.name), &mut |n| {
                done.add_bytes(n);
                progress(done);
            })?;
            if file.name == FileName::Version(manifest.version_id) {
                version_hash = Some(hash);
            }
            done.files_done += 1;
            progress(done);
        }
        let version_hash = version_hash.expect("a decoded manifest holds its version file");
        for dir in [out.tables_dir(), out.blobs_dir(), out.log_dir()] {
            if !fs.read_dir(&dir)?.is_empty() {
                fs.sync_directory(&dir)?;
            }
        }
        // CURRENT last: before it, the directory is no database.
        let current = fs.open(&out.current(), OpenOptions::create_new())?;
        current.write_all_at(&encode_current(manifest.version_id, version_hash), 0)?;
        current.sync_all()?;
        fs.sync_directory(staging)?;
        Ok(())
    }
}

/// Fails, naming every file, when the store lacks a file of `manifest` or
/// holds it with another size: cheaper than finding out halfway.
pub(super) fn check_present(store: &dyn BackupStore, manifest: &Manifest) -> Result<()> {
    let Some(absent) = StoredFiles::list(store)?.absent(manifest) else {
        return Ok(());
    };
    Err(Error::corruption(
        store.location(&absent.first_key).as_ref(),
        0,
        format!(
            "backup {} is damaged, nothing was restored: {}; restore another backup (recover_latest_valid finds \
             the newest intact one)",
            manifest.id, absent.files
        ),
    ))
}

/// Downloads `file` into `path`, checking its size and checksum as the
/// bytes arrive, and fsyncs it. Returns the xxh3-64 of its bytes.
fn download(
    store: &dyn BackupStore,
    fs: &dyn Fs,
    manifest: &Manifest,
    file: &ManifestFile,
    path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let key = file.content.key();
    let damaged = |what: String| {
        Error::corruption(
            store.location(&key).as_ref(),
            0,
            format!(
                "backup {}: {}: {what}; nothing was restored (restore another backup, or verify this one)",
                manifest.id,
                file.db_name()
            ),
        )
    };
    let out = fs.open(path, OpenOptions::create_new())?;
    let mut hasher = ContentHasher::new();
    let expected = file.size_bytes();
    let mut overlong = false;
    let read = store.read(&key, &mut |chunk| {
        let offset = hasher.len_bytes();
        if offset + chunk.len() as u64 > expected {
            overlong = true;
            return Err(Error::invalid("stop reading: longer than recorded"));
        }
        out.write_all_at(chunk, offset)?;
        hasher.update(chunk);
        progress(chunk.len() as u64);
        Ok(())
    });
    match read {
        _ if overlong => return Err(damaged(format!("longer than the {expected} bytes recorded"))),
        Err(e) if e.is_not_found() => return Err(damaged("missing from the store".into())),
        other => other?,
    };
    if hasher.len_bytes() != expected {
        return Err(damaged(format!("{} bytes, but {expected} are recorded", hasher.len_bytes())));
    }
    if hasher.key(file.content.kind) != file.content {
        return Err(damaged("checksum mismatch: the stored bytes are damaged".into()));
    }
    out.sync_all()?;
    Ok(hasher.xxh3_64())
}
