//! Taking a backup (`docs/DESIGN.md`, "Backups"):
//!
//! 1. Take a backup lease (so no gc runs meanwhile).
//! 2. Pause deletions and capture an exact cut, as a checkpoint does: a
//!    version (plus, without a flush, log segments up to a length).
//! 3. Check the log (replayed as far as captured) and the version file
//!    (decoded) of the cut by their own checksums.
//! 4. Hash every file of the cut (xxh3-128) into its content key; check
//!    each table and blob file whose content no format 2 manifest names by
//!    its own checksums (read whole); upload only those whose key the store
//!    lacks, re-checking the hash as the store reads the file. A damaged
//!    file fails the backup with `Error::Corruption` naming it, and nothing
//!    is committed.
//! 5. Commit the manifest create-only: losing that race is
//!    [`Error::BackupConflict`], never success.
//! 6. Point `latest.json` at it; release the lease and the pause.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::clock::now_unix_ms;
use super::content::{ContentHasher, ContentKey, ContentKind, FILES_PREFIX};
use super::engine::BackupEngine;
use super::latest::{LATEST_KEY, Latest, encode_latest};
use super::lease::{Lease, LeaseKind};
use super::manifest::{MANIFESTS_PREFIX, Manifest, ManifestFile, db_name, parse_manifest_key};
use super::progress::BackupProgress;
use super::scope::database_name;
use super::store::{BackupStore, Source};
use crate::checkpoint::verify::{verify_blob, verify_table};
use crate::db::{CutFile, CutSource, Db, Extent};
use crate::fs::{Fs, FsFile, OpenOptions};
use crate::version::FileName;
use crate::{BackupId, Error, Result, SeqNo, VersionId};

/// Manifests read, newest first, for contents already checked.
const CHECKED_MANIFESTS_MAX: usize = 16;
/// Bytes read from a source file at a time while hashing.
const HASH_CHUNK_BYTES: usize = 1 << 20;

/// How [`BackupEngine::create_backup_with`] works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupOptions {
    pub(crate) flush: bool,
    pub(crate) id: Option<BackupId>,
}

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions { flush: true, id: None }
    }
}

impl BackupOptions {
    /// Flush the memtable into tables first (default). Without, the
    /// memtable's frozen log segments are backed up instead, and replay
    /// when the restored database opens.
    pub fn flush(mut self, flush: bool) -> Self {
        self.flush = flush;
        self
    }

    /// Commit under this id instead of the next free one. If the id is
    /// taken, the backup fails with [`Error::BackupConflict`].
    pub fn id(mut self, id: BackupId) -> Self {
        self.id = Some(id);
        self
    }
}

/// What a backup holds and what taking it moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    /// Its id.
    pub id: BackupId,
    /// The database timeline it holds.
    pub database: Option<crate::DbIdentity>,
    /// It holds every write with seqno <= this, and none after.
    pub seqno: SeqNo,
    /// The id of the version it holds.
    pub version_id: VersionId,
    /// Files it holds.
    pub files_total: usize,
    /// Bytes of all its files.
    pub bytes_total: u64,
    /// Files uploaded, because the store did not hold their content yet.
    pub files_uploaded: usize,
    /// Bytes uploaded.
    pub bytes_uploaded: u64,
    /// Files the store already held (from earlier backups): not uploaded.
    pub files_skipped: usize,
    /// Bytes not uploaded.
    pub bytes_skipped: u64,
    /// How long it took.
    pub duration: Duration,
}

impl BackupEngine {
    /// Backs `db` up with default options (flush first): an exact copy as
    /// of now, uploading only files the store does not hold yet.
    pub fn create_backup(&self, db: &Db) -> Result<BackupInfo> {
        self.create_backup_with(db, BackupOptions::default(), &mut |_| {})
    }

    /// [`create_backup`](Self::create_backup) with options, reporting
    /// progress.
    ///
    /// The backup holds every write with seqno <= `info.seqno` and none
    /// after; writers continue meanwhile, and obsolete files wait for it to
    /// finish before they are deleted. It appears in [`list`](Self::list)
    /// only once every file is stored and its manifest committed. Fails with
    /// [`Error::StoreBusy`] while a gc runs on the store, and with
    /// [`Error::BackupConflict`] if another writer committed the same id.
    /// Its manifest records the database's identity ([`Db::identity`]);
    /// with a [`database`](Self::database) chosen, another database is
    /// refused.
    pub fn create_backup_with(
        &self,
        db: &Db,
        options: BackupOptions,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<BackupInfo> {
        let started = Instant::now();
        if let Some(chosen) = self.database
            && chosen != db.identity()
        {
            return Err(Error::invalid(format!(
                "{} is database {}, not the chosen database {}",
                db.path().display(),
                database_name(db.identity()),
                database_name(chosen)
            )));
        }
        let store = &*self.store;
        let mut lease = Lease::acquire(store, LeaseKind::Backup, self.grace)?;
        let cut = db.cut(options.flush)?;
        let (fs, capture) = (cut.fs(), cut.capture());
        let plan = plan(fs, cut.files())?;
        cut.verify_version_file().map_err(refused)?;
        cut.verify_log().map_err(refused)?;
        let bytes_total = plan.iter().map(|p| p.len_bytes).sum();
        let checked = self.checked_contents(capture.version.identity)?;
        let (files, uploaded) = store_files(fs, store, &plan, &checked, &mut lease, progress)?;
        let id = match options.id {
            Some(id) => id,
            None => next_id(store)?,
        };
        let manifest = Manifest {
            id,
            created_unix_ms: now_unix_ms(),
            source: crate::staging::normalize(cut.layout().root())?.to_string_lossy().into_owned(),
            database: capture.version.identity,
            seqno: capture.seqno,
            version_id: capture.version.id,
            files,
        };
        commit(store, &manifest)?;
        // The backup is committed; a stale pointer is only a hint gone stale.
        if let Err(e) = store.put(LATEST_KEY, &encode_latest(Latest { id, database: manifest.database })) {
            log::warn!("backup {id} is committed, but {} could not be updated: {e}", store.location(LATEST_KEY));
        }
        drop(lease);
        Ok(BackupInfo {
            id,
            database: manifest.database,
            seqno: capture.seqno,
            version_id: manifest.version_id,
            files_total: plan.len(),
            bytes_total,
            files_uploaded: uploaded.files,
            bytes_uploaded: uploaded.bytes,
            files_skipped: plan.len() - uploaded.files,
            bytes_skipped: bytes_total - uploaded.bytes,
            duration: started.elapsed(),
        })
    }
}

/// Files and bytes uploaded.
#[derive(Default)]
struct Uploaded {
    files: usize,
    bytes: u64,
}

/// Hashes every planned file, checks those whose content is not in
/// `checked`, and uploads those the store lacks (or holds with another
/// size); returns the manifest entries.
fn store_files(
    fs: &dyn Fs,
    store: &dyn BackupStore,
    plan: &[Planned],
    checked: &HashSet<ContentKey>,
    lease: &mut Lease<'_>,
    progress: &mut dyn FnMut(BackupProgress),
) -> Result<(Vec<ManifestFile>, Uploaded)> {
    let mut stored: HashMap<String, u64> =
        store.list(FILES_PREFIX)?.into_iter().map(|o| (o.key, o.size_bytes)).collect();
    // What is there may be there only until a crash (an earlier upload whose
    // directory sync failed): the manifest may name it only once it stays.
    store.settle(FILES_PREFIX)?;
    let mut done = BackupProgress::start(plan.len(), plan.iter().map(|p| p.len_bytes).sum());
    progress(done);
    let mut files = Vec::with_capacity(plan.len());
    let mut uploaded = Uploaded::default();
    for planned in plan {
        lease.refresh_if_due()?;
        let bytes_before = done.bytes_done;
        let content = planned.hash(fs)?;
        if !checked.contains(&content) {
            planned.verify(fs).map_err(refused)?;
        }
        let key = content.key();
        if stored.get(&key) != Some(&content.size_bytes) {
            // A long upload keeps its lease fresh, chunk by chunk.
            planned.upload(fs, store, &content, &mut |n| {
                done.add_bytes(n);
                progress(done);
                lease.refresh_if_due()
            })?;
            stored.insert(key, content.size_bytes);
            uploaded.files += 1;
            uploaded.bytes += content.size_bytes;
        }
        done.files_done += 1;
        done.bytes_done = bytes_before;
        done.add_bytes(planned.len_bytes);
        progress(done);
        files.push(ManifestFile { name: planned.name, content });
    }
    Ok((files, uploaded))
}

impl BackupEngine {
    /// Contents already checked by their kind's checksums: every file a
    /// format 2 manifest names (such a backup checked each file whose
    /// content was not already known to be checked, so by induction every
    /// one was, byte for byte: equal content keys are equal bytes). Read
    /// from the newest manifests down to this database's newest backup, at
    /// most [`CHECKED_MANIFESTS_MAX`] of them; an unreadable one adds
    /// nothing. A file hashing to one of these keys needs no second read.
    fn checked_contents(&self, database: Option<crate::DbIdentity>) -> Result<HashSet<ContentKey>> {
        let mut checked = HashSet::new();
        for id in self.ids()?.into_iter().rev().take(CHECKED_MANIFESTS_MAX) {
            let manifest = match self.manifest(id) {
                Ok(m) => m,
                Err(e) if e.is_corruption() || e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            // Format 1 manifests (no database) come from builds that did not check.
            if manifest.database.is_none() {
                continue;
            }
            checked.extend(manifest.files.iter().map(|f| f.content));
            if manifest.database == database {
                break;
            }
        }
        Ok(checked)
    }
}

/// A damaged file is never stored as if it were data: the error says the
/// backup stopped there.
fn refused(e: Error) -> Error {
    e.refusing("nothing was backed up")
}

/// Commits `manifest` create-only.
fn commit(store: &dyn BackupStore, manifest: &Manifest) -> Result<()> {
    match store.put_if_absent(&manifest.key(), &manifest.encode()) {
        Err(e) if e.is_already_exists() => Err(Error::BackupConflict { store: store.location(""), id: manifest.id }),
        other => other,
    }
}

/// One past the highest backup id in the store.
fn next_id(store: &dyn BackupStore) -> Result<BackupId> {
    let highest = store.list(MANIFESTS_PREFIX)?.iter().filter_map(|o| parse_manifest_key(&o.key)).max();
    Ok(BackupId(highest.map_or(0, BackupId::get) + 1))
}

/// A file of the cut: a prefix of a file on the database's disk, or bytes
/// in memory (the version file).
#[derive(Debug)]
struct Planned {
    name: FileName,
    kind: ContentKind,
    path: Option<PathBuf>,
    bytes: Vec<u8>,
    len_bytes: u64,
}

/// Every file of the cut, each on disk checked against the size the cut
/// records: a whole file exactly, a prefix at least.
fn plan(fs: &dyn Fs, files: Vec<CutFile>) -> Result<Vec<Planned>> {
    files
        .into_iter()
        .map(|file| {
            let kind = ContentKind::of(file.name).expect("database files have a kind");
            let (path, bytes) = match file.source {
                CutSource::Disk(path) => (Some(path), Vec::new()),
                CutSource::Memory(bytes) => (None, bytes),
            };
            if let Some(path) = &path {
                let actual = fs.metadata(path)?.len;
                if actual < file.len_bytes || (file.extent == Extent::Whole && actual != file.len_bytes) {
                    let what = format!("{actual} bytes, but the cut records {}", file.len_bytes);
                    return Err(Error::corruption(path, 0, what));
                }
            }
            Ok(Planned { name: file.name, kind, path, bytes, len_bytes: file.len_bytes })
        })
        .collect()
}

impl Planned {
    fn open(&self, fs: &dyn Fs) -> Result<Option<Box<dyn FsFile>>> {
        self.path.as_ref().map(|p| fs.open(p, OpenOptions::read())).transpose()
    }

    /// Checks a table or blob file by its own checksums (every block,
    /// record, index and footer). The log and the version file are checked
    /// with the capture they belong to.
    fn verify(&self, fs: &dyn Fs) -> Result<()> {
        match (self.name, &self.path) {
            (FileName::Table(id), Some(path)) => verify_table(fs, path, id),
            (FileName::Blob(id), Some(path)) => verify_blob(fs, path, id),
            _ => Ok(()),
        }
    }

    /// Reads the file once to find its content key.
    fn hash(&self, fs: &dyn Fs) -> Result<ContentKey> {
        let mut hasher = ContentHasher::new();
        let Some(file) = self.open(fs)? else {
            hasher.update(&self.bytes);
            return Ok(hasher.key(self.kind));
        };
        let mut buf = vec![0u8; HASH_CHUNK_BYTES];
        let mut offset = 0;
        while offset < self.len_bytes {
            let want = buf.len().min(usize::try_from(self.len_bytes - offset).unwrap_or(usize::MAX));
            file.read_exact_at(&mut buf[..want], offset)?;
            hasher.update(&buf[..want]);
            offset += want as u64;
        }
        Ok(hasher.key(self.kind))
    }

    /// Uploads the file under `content`'s key, hashing it again as the
    /// store reads it: if the bytes sent are not the bytes hashed, the
    /// object is deleted and the backup fails.
    fn upload(
        &self,
        fs: &dyn Fs,
        store: &dyn BackupStore,
        content: &ContentKey,
        progress: &mut dyn FnMut(u64) -> Result<()>,
    ) -> Result<()> {
        let key = content.key();
        let file = self.open(fs)?;
        let source = CheckedSource {
            file: file.as_deref(),
            bytes: &self.bytes,
            len_bytes: self.len_bytes,
            path: self.path.as_deref().unwrap_or(Path::new("")),
            seen: RefCell::new(Seen { hasher: ContentHasher::new(), in_order: true }),
            progress: RefCell::new(progress),
        };
        store.put(&key, &source)?;
        let seen = source.seen.into_inner();
        if seen.in_order && seen.hasher.len_bytes() == self.len_bytes && seen.hasher.key(self.kind) != *content {
            let _ = store.delete(&key);
            let path = self.path.clone().unwrap_or_else(|| PathBuf::from(db_name(self.name)));
            return Err(Error::corruption(&path, 0, "the file changed while it was being backed up"));
        }
        Ok(())
    }
}

/// What a [`CheckedSource`] has served, when the store read it in order.
struct Seen {
    hasher: ContentHasher,
    in_order: bool,
}

/// The bytes of a planned file as the store reads them, hashed on the way.
struct CheckedSource<'a> {
    file: Option<&'a dyn FsFile>,
    bytes: &'a [u8],
    len_bytes: u64,
    path: &'a Path,
    seen: RefCell<Seen>,
    progress: RefCell<&'a mut dyn FnMut(u64) -> Result<()>>,
}

impl Source for CheckedSource<'_> {
    fn len_bytes(&self) -> u64 {
        self.len_bytes
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let want = buf.len().min(usize::try_from(self.len_bytes.saturating_sub(offset)).unwrap_or(usize::MAX));
        let n = match self.file {
            Some(file) => {
                let n = file.read_at(&mut buf[..want], offset)?;
                if n == 0 && want > 0 {
                    return Err(Error::corruption(self.path, offset, "the file is shorter than when it was hashed"));
                }
                n
            }
            None => self.bytes.read_at(&mut buf[..want], offset)?,
        };
        let mut seen = self.seen.borrow_mut();
        if seen.in_order && offset == seen.hasher.len_bytes() {
            seen.hasher.update(&buf[..n]);
        } else {
            seen.in_order = false;
        }
        (self.progress.borrow_mut())(n as u64)?;
        Ok(n)
    }
}
