//! [`VersionSet`]: the current version, persisted as `v{N}` + `CURRENT`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use super::deletion::FileLease;
use super::file::VersionRecord;
use super::version::FileRole;
use super::{
    BlobFile, DbIdentity, DbLayout, Deleter, FileName, TableFile, Version, VersionEdit, decode_current, decode_version,
    encode_current, encode_version,
};
use crate::fs::{FileKind, Fs, OpenOptions, read_to_vec, replace_file, sync_parent, write_file_atomic};
use crate::sync::{MutexExt, RwLockExt};
use crate::wire::checksum;
use crate::{Error, Result};

/// The current version of one database directory and the means to change it.
///
/// Each change writes the full new version to `v{N}` (fsynced, directory
/// fsynced), then replaces `CURRENT` atomically. A crash at any point leaves
/// `CURRENT` naming either the old or the new version, both complete. A
/// failure while installing poisons the set — the disk may hold a state the
/// memory does not, so later installs fail until the database is reopened —
/// unless it is a shortage of file descriptors before `CURRENT` was
/// replaced: then nothing that is read changed, and the install can be
/// tried again.
#[derive(Debug)]
pub struct VersionSet {
    pub(super) fs: Arc<dyn Fs>,
    layout: DbLayout,
    deleter: Arc<Deleter>,
    current: RwLock<Arc<Version>>,
    install_lock: Mutex<()>,
    next_file_id: Arc<AtomicU64>,
    poisoned: AtomicBool,
}

impl VersionSet {
    /// Opens the database at `layout`, or creates one (`v1`, `CURRENT`, and
    /// the `tables/`, `blobs/`, `log/` folders) in a missing or empty
    /// directory when allowed. A directory with files but no `CURRENT` is
    /// never taken over.
    pub fn open(fs: Arc<dyn Fs>, layout: DbLayout, deleter: Arc<Deleter>, create: bool) -> Result<VersionSet> {
        if Self::probe(&*fs, &layout, create)? {
            Self::load(fs, layout, deleter)
        } else {
            Self::create(fs, layout, deleter)
        }
    }

    /// Whether [`open`](Self::open) would load a database at `layout`
    /// (`true`) or create one (`false`: a missing or empty directory, or
    /// an interrupted creation, and `create`); the error `open` would
    /// return otherwise. Only reads, so an open can fail before it creates
    /// anything (a lock file) in a directory that is no database.
    pub fn probe(fs: &dyn Fs, layout: &DbLayout, create: bool) -> Result<bool> {
        if fs.exists(&layout.current())? {
            return Ok(true);
        }
        let root = layout.root();
        if fs.exists(root)? && !holds_only_an_interrupted_creation(fs, layout)? {
            return Err(Error::invalid(format!(
                "{} is not a cairndb database: it holds files but no CURRENT (damaged, or not ours)",
                root.display()
            )));
        }
        if !create {
            return Err(Error::io(
                "open database",
                root,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no database here (CURRENT is missing)"),
            ));
        }
        Ok(false)
    }

    fn create(fs: Arc<dyn Fs>, layout: DbLayout, deleter: Arc<Deleter>) -> Result<VersionSet> {
        fs.create_dir_all(layout.root())?;
        for dir in [layout.tables_dir(), layout.blobs_dir(), layout.log_dir()] {
            if !fs.exists(&dir)? {
                fs.create_dir(&dir)?;
            }
        }
        let version = Version { identity: Some(DbIdentity::new(&*fs)?), ..Version::empty() };
        let bytes = encode_version(&to_record(&version));
        write_synced(&*fs, &layout.version(version.id), &bytes)?;
        write_file_atomic(&*fs, &layout.current(), &encode_current(version.id, checksum(&bytes)))?;
        // The new root's own entry in its parent must be durable too.
        sync_parent(&*fs, layout.root())?;
        Ok(Self::with_version(fs, layout, deleter, version))
    }

    fn load(fs: Arc<dyn Fs>, layout: DbLayout, deleter: Arc<Deleter>) -> Result<VersionSet> {
        let current_path = layout.current();
        let (id, hash) = decode_current(&current_path, &read_to_vec(&*fs, &current_path)?)?;
        let path = layout.version(id);
        let bytes = read_to_vec(&*fs, &path).map_err(|e| {
            if e.is_not_found() {
                Error::corruption(&current_path, 0, format!("CURRENT names v{id}, which is missing"))
            } else {
                e
            }
        })?;
        if checksum(&bytes) != hash {
            return Err(Error::corruption(&path, 0, format!("v{id} does not match the hash CURRENT holds for it")));
        }
        let record = decode_version(&path, &bytes)?;
        if record.id != id {
            return Err(Error::corruption(&path, 0, format!("file v{id} holds version v{}", record.id)));
        }
        let version = from_record(record, &layout, &deleter);
        version.check().map_err(|what| Error::corruption(&path, 0, what))?;
        Ok(Self::with_version(fs, layout, deleter, version))
    }

    fn with_version(fs: Arc<dyn Fs>, layout: DbLayout, deleter: Arc<Deleter>, version: Version) -> VersionSet {
        VersionSet {
            fs,
            layout,
            deleter,
            next_file_id: Arc::new(AtomicU64::new(version.next_file_id)),
            current: RwLock::new(Arc::new(version)),
            install_lock: Mutex::new(()),
            poisoned: AtomicBool::new(false),
        }
    }

    /// The current version.
    pub fn current(&self) -> Arc<Version> {
        Arc::clone(&self.current.read_locked())
    }

    /// The directory layout.
    pub fn layout(&self) -> &DbLayout {
        &self.layout
    }

    /// The deleter obsolete files go through.
    pub fn deleter(&self) -> &Arc<Deleter> {
        &self.deleter
    }

    /// A fresh id for a new table or blob file.
    pub fn new_file_id(&self) -> u64 {
        self.next_file_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A source of fresh file ids that can outlive a borrow of the set.
    pub fn id_source(&self) -> impl Fn() -> u64 + Send + 'static {
        let next = Arc::clone(&self.next_file_id);
        move || next.fetch_add(1, Ordering::Relaxed)
    }

    /// Applies `edit` to the current version, persists the result and makes
    /// it current. Files the edit removes are deleted once no live version
    /// holds them (and no deletion pause is active).
    pub fn install(&self, edit: &VersionEdit) -> Result<Arc<Version>> {
        let _serial = lock(&self.install_lock);
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::Poisoned { cause: "an earlier version change failed".into() });
        }
        let old = self.current();
        let mut next = old.apply(edit, |role| self.lease(role))?;
        next.next_file_id = next.next_file_id.max(self.next_file_id.load(Ordering::Relaxed));
        let next = Arc::new(next);
        if let Err((e, replaced)) = self.persist(&next) {
            if replaced || !e.is_out_of_file_descriptors() {
                self.poisoned.store(true, Ordering::Release);
            }
            return Err(e);
        }
        for id in &edit.remove_tables {
            if let Some((_, table)) = old.table(*id) {
                table.lease.mark_obsolete();
            }
        }
        for id in &edit.remove_blobs {
            if let Some(blob) = old.blob_files.get(id) {
                blob.lease.mark_obsolete();
            }
        }
        *self.current.write_locked() = Arc::clone(&next);
        self.deleter.delete(self.layout.version(old.id));
        Ok(next)
    }

    /// Whether a version change failed and poisoned the set.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    /// Writes `v{N}` and points `CURRENT` at it. On failure, also says
    /// whether `CURRENT` may have been replaced already (a failed directory
    /// fsync after the rename): the disk may then name the new version.
    fn persist(&self, version: &Version) -> Result<(), (Error, bool)> {
        let bytes = encode_version(&to_record(version));
        let path = self.layout.version(version.id);
        let current = self.layout.current();
        write_synced(&*self.fs, &path, &bytes).map_err(|e| (e, false))?;
        replace_file(&*self.fs, &current, &encode_current(version.id, checksum(&bytes))).map_err(|e| (e, false))?;
        // One directory fsync makes both new entries durable; `v{N}` was
        // created first, so no crash can keep the new `CURRENT` without it.
        sync_parent(&*self.fs, &current).map_err(|e| (e, true))
    }

    fn lease(&self, role: FileRole) -> FileLease {
        let path = match role {
            FileRole::Table(id) => self.layout.table(id),
            FileRole::Blob(id) => self.layout.blob(id),
        };
        FileLease::new(path, Arc::clone(&self.deleter))
    }

    /// Removes files a crash left behind: tables and blob files no version
    /// references, older version files and temporary files. Only regular
    /// files with a name cairndb gives are candidates: anything else (a
    /// directory or link by such a name, an unknown name) is left alone,
    /// and a candidate that cannot be removed is logged and skipped, so
    /// nothing here stops the database from opening. Returns how many
    /// files were removed.
    pub fn remove_orphans(&self) -> Result<usize> {
        let version = self.current();
        let live: BTreeSet<FileName> = version
            .tables()
            .map(|(_, t)| FileName::Table(t.info.id))
            .chain(version.blob_files.keys().map(|&id| FileName::Blob(id)))
            .chain([FileName::Current, FileName::Version(version.id)])
            .collect();
        let mut removed = 0;
        let folders: [(std::path::PathBuf, NameParser); 3] = [
            (self.layout.root().to_path_buf(), FileName::parse_root),
            (self.layout.tables_dir(), FileName::parse_table),
            (self.layout.blobs_dir(), FileName::parse_blob),
        ];
        for (dir, parse) in folders {
            for entry in self.fs.read_dir(&dir)? {
                let Some(name) = entry.name.to_str() else { continue };
                let orphan = match parse(name) {
                    Some(file) => !live.contains(&file),
                    None => name.ends_with(".tmp"),
                };
                if !orphan {
                    continue;
                }
                let path = dir.join(name);
                if entry.kind != FileKind::File {
                    log::warn!("left {} alone: named like a database file, but a {:?}", path.display(), entry.kind);
                    continue;
                }
                match self.fs.remove_file(&path) {
                    Ok(()) => removed += 1,
                    Err(e) => log::warn!("could not remove the leftover {}: {e}", path.display()),
                }
            }
        }
        Ok(removed)
    }
}

/// True when `layout`'s directory holds nothing but what creating a
/// database writes before `CURRENT` (the lock file, empty `tables/`,
/// `blobs/` and `log/`, `v1`, `CURRENT.tmp`): a creation a crash
/// interrupted, which nothing was ever acknowledged from. Anything else
/// means the directory is not ours to take over.
fn holds_only_an_interrupted_creation(fs: &dyn Fs, layout: &DbLayout) -> Result<bool> {
    for entry in fs.read_dir(layout.root())? {
        let Some(name) = entry.name.to_str() else { return Ok(false) };
        let expected = match name {
            DbLayout::LOCK | "v1" | "CURRENT.tmp" => entry.kind == FileKind::File,
            DbLayout::TABLES | DbLayout::BLOBS | DbLayout::LOG => {
                entry.kind == FileKind::Dir && fs.read_dir(&layout.root().join(name))?.is_empty()
            }
            _ => false,
        };
        if !expected {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Parses a file name found in one folder of the database.
type NameParser = fn(&str) -> Option<FileName>;

fn lock(mutex: &Mutex<()>) -> MutexGuard<'_, ()> {
    mutex.locked()
}

/// Writes a new file (replacing a leftover of the same name) and fsyncs it.
fn write_synced(fs: &dyn Fs, path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let file = fs.open(path, OpenOptions::create_truncate())?;
    file.write_all_at(bytes, 0)?;
    file.sync_all()
}

/// The bytes of `v{N}` for `version`, and the xxh3 `CURRENT` records for them.
pub(crate) fn encode_version_file(version: &Version) -> (Vec<u8>, u64) {
    let bytes = encode_version(&to_record(version));
    let hash = checksum(&bytes);
    (bytes, hash)
}

fn to_record(version: &Version) -> VersionRecord {
    VersionRecord {
        id: version.id,
        levels: version.levels.iter().map(|l| l.iter().map(|t| t.info.clone()).collect()).collect(),
        blob_files: version.blob_files.values().map(|b| b.info.clone()).collect(),
        last_seqno: version.last_seqno,
        log_start: version.log_start,
        next_file_id: version.next_file_id,
        identity: version.identity,
        fork_pending: version.fork_pending,
    }
}

fn from_record(record: VersionRecord, layout: &DbLayout, deleter: &Arc<Deleter>) -> Version {
    let lease = |path| FileLease::new(path, Arc::clone(deleter));
    let mut version = Version {
        id: record.id,
        levels: record
            .levels
            .into_iter()
            .map(|level| {
                level
                    .into_iter()
                    .map(|info| {
                        let path = layout.table(info.id);
                        TableFile::new(info, lease(path))
                    })
                    .collect()
            })
            .collect(),
        blob_files: record
            .blob_files
            .into_iter()
            .map(|info| (info.id, BlobFile::new(info.clone(), lease(layout.blob(info.id)))))
            .collect(),
        last_seqno: record.last_seqno,
        log_start: record.log_start,
        next_file_id: record.next_file_id,
        identity: record.identity,
        fork_pending: record.fork_pending,
    };
    version.sort_levels();
    version
}
