//! [`BackupEngine`]: backups of databases in one [`BackupStore`], and the
//! operations on them that only read or remove manifests (listing, pruning).
//! Taking, verifying, restoring and collecting garbage live beside it.

use std::sync::Arc;
use std::time::Duration;

use super::latest::{LATEST_BYTES_MAX, LATEST_KEY, Latest, decode_latest, encode_latest};
use super::manifest::{MANIFEST_BYTES_MAX, MANIFESTS_PREFIX, Manifest, manifest_key, parse_manifest_key};
use super::presence::StoredFiles;
use super::store::{BackupStore, get};
use crate::fs::{Fs, StdFs};
use crate::{BackupId, DbIdentity, Error, Result};

/// How long a lease or temporary upload may go without a sign of life
/// before it counts as a crashed job's, by default.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);

/// Incremental backups of databases into one store.
///
/// ```
/// use std::sync::Arc;
/// use cairndb::Config;
/// use cairndb::backup::{BackupEngine, DirStore};
/// use cairndb::fs::MemFs;
///
/// let disk = Arc::new(MemFs::new());
/// let db = Config::new("/db").fs(disk.clone()).open()?;
/// db.put(b"k", b"v")?;
/// let engine = BackupEngine::new(Arc::new(DirStore::open(disk.clone(), "/backups")?)).local_fs(disk.clone());
/// let first = engine.create_backup(&db)?;
/// db.put(b"k2", b"v2")?;
/// let second = engine.create_backup(&db)?; // uploads only new files
/// assert!(second.files_skipped > 0 || first.files_uploaded == 1);
/// engine.restore(first.id, "/restored".as_ref())?;
/// let restored = Config::new("/restored").fs(disk).open()?;
/// assert_eq!(restored.get(b"k")?.as_deref(), Some(&b"v"[..]));
/// assert_eq!(restored.get(b"k2")?, None);
/// # Ok::<(), cairndb::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BackupEngine {
    pub(super) store: Arc<dyn BackupStore>,
    pub(super) local: Arc<dyn Fs>,
    pub(super) grace: Duration,
    /// The database chosen ([`database`](Self::database)): `Some(None)`
    /// for backups of an unknown database; `None` when none was chosen.
    pub(super) database: Option<Option<DbIdentity>>,
}

/// A backup found by [`BackupEngine::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupListing {
    /// Its id.
    pub id: BackupId,
    /// Its manifest, when it could be read.
    pub manifest: Option<Manifest>,
    /// Why it is damaged, when it is: its manifest could not be read (then
    /// `manifest` is `None`), or files it names are not in the store with
    /// their recorded sizes (a listing's check, as [`prune`](BackupEngine::prune)
    /// makes; [`verify`](BackupEngine::verify) reads every byte).
    pub problem: Option<String>,
}

/// What [`BackupEngine::prune`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Intact backups removed, newest first.
    pub removed: Vec<BackupId>,
    /// Intact backups kept, newest first.
    pub kept: Vec<BackupId>,
    /// Damaged backups, newest first, and why: neither counted among the
    /// kept nor removed (look at them, then [`delete`](BackupEngine::delete)
    /// each one that cannot be repaired).
    pub damaged: Vec<SkippedBackup>,
}

impl BackupEngine {
    /// An engine over `store`, restoring onto the real file system.
    pub fn new(store: Arc<dyn BackupStore>) -> BackupEngine {
        BackupEngine { store, local: Arc::new(StdFs::new()), grace: DEFAULT_GRACE, database: None }
    }

    /// Restores onto `fs` instead of the real file system.
    pub fn local_fs(mut self, fs: Arc<dyn Fs>) -> BackupEngine {
        self.local = fs;
        self
    }

    /// How long a lease or a temporary upload may go without a sign of life
    /// before [`gc`](Self::gc) takes it for a crashed job's and removes it
    /// (default [`DEFAULT_GRACE`], an hour). Never shorter than the longest
    /// pause a live job may take between two refreshes (a minute at least
    /// is wise); zero is for tests after a simulated crash.
    pub fn grace(mut self, grace: Duration) -> BackupEngine {
        self.grace = grace;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn BackupStore> {
        &self.store
    }

    /// Ids of every backup in the store, oldest first.
    pub fn ids(&self) -> Result<Vec<BackupId>> {
        let mut ids: Vec<BackupId> =
            self.store.list(MANIFESTS_PREFIX)?.iter().filter_map(|o| parse_manifest_key(&o.key)).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// The manifest of backup `id`. A missing one is a `NotFound` I/O
    /// error; a damaged one is `Error::Corruption`.
    pub fn manifest(&self, id: BackupId) -> Result<Manifest> {
        let key = manifest_key(id);
        let location = self.store.location(&key);
        let bytes = get(&*self.store, &key, MANIFEST_BYTES_MAX).map_err(|e| {
            if e.is_not_found() {
                Error::io(
                    "read backup",
                    &location,
                    std::io::Error::new(std::io::ErrorKind::NotFound, format!("there is no backup {id}")),
                )
            } else {
                e
            }
        })?;
        let manifest = Manifest::decode(&location, &bytes)?;
        if manifest.id != id {
            return Err(Error::corruption(location.as_ref(), 0, format!("holds backup {}", manifest.id)));
        }
        Ok(manifest)
    }

    /// Every backup, newest first, each with its database (in its
    /// manifest); a damaged one is listed with its problem: an unreadable
    /// manifest, or files missing from the store (one listing of the
    /// store's files, not a read of them). With a
    /// [`database`](Self::database) chosen, only its backups and those
    /// whose manifest is unreadable (their database is unknown).
    pub fn list(&self) -> Result<Vec<BackupListing>> {
        // Manifests before files, as prune: the files of a listed backup
        // were stored before it was committed.
        let mut listed = self.list_all()?;
        listed.retain(|l| l.manifest.as_ref().is_none_or(|m| self.in_scope(m)));
        let stored = StoredFiles::list(&*self.store)?;
        for listing in &mut listed {
            if let Some(absent) = listing.manifest.as_ref().and_then(|m| stored.absent(m)) {
                listing.problem = Some(format!("not in the store: {}", absent.files));
            }
        }
        Ok(listed)
    }

    /// Every backup of every database, newest first.
    pub(crate) fn list_all(&self) -> Result<Vec<BackupListing>> {
        let mut out = Vec::new();
        for id in self.ids()?.into_iter().rev() {
            match self.manifest(id) {
                Ok(manifest) => out.push(BackupListing { id, manifest: Some(manifest), problem: None }),
                // Pruned since the listing.
                Err(e) if e.is_not_found() => {}
                Err(e) if e.is_corruption() => {
                    out.push(BackupListing { id, manifest: None, problem: Some(e.to_string()) })
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The newest backup of the database (see [`database`](Self::database);
    /// with none chosen, of the only database in the store, else
    /// [`Error::AmbiguousDatabase`]) whose manifest reads; `None` when it
    /// has none. Worked out from the manifests, never from `latest.json`.
    /// It may be damaged: [`recover_latest_valid`](Self::recover_latest_valid)
    /// finds the newest intact one.
    pub fn latest(&self) -> Result<Option<BackupId>> {
        let listed = self.list_all()?;
        let Some(timeline) = self.timeline(&listed)? else { return Ok(None) };
        Ok(listed.iter().filter_map(|l| l.manifest.as_ref()).find(|m| m.database == timeline).map(|m| m.id))
    }

    /// Removes every intact backup of the database but the newest `keep`
    /// (at least 1). Their files stay until [`gc`](Self::gc) finds no
    /// backup uses them.
    ///
    /// The database is the one chosen with [`database`](Self::database),
    /// else the only one in the store (more than one is
    /// [`Error::AmbiguousDatabase`]); other databases' backups are left
    /// alone. Only backups that can be restored count: a manifest that
    /// reads and decodes, every file it names in the store with its
    /// recorded size (a listing, not a read of every byte:
    /// [`verify`](Self::verify) does that). Damaged backups — and unreadable
    /// manifests, whose database is unknown — are reported in
    /// [`PruneReport::damaged`] and never removed; with fewer intact backups
    /// than `keep`, nothing is.
    pub fn prune(&self, keep: usize) -> Result<PruneReport> {
        if keep == 0 {
            return Err(Error::invalid("prune must keep at least one backup"));
        }
        // Manifests before files: a backup committed after the listing is
        // not seen, and the files of one listed were stored before its commit.
        let listed = self.list_all()?;
        let timeline = self.timeline(&listed)?;
        let stored = StoredFiles::list(&*self.store)?;
        let mut report = PruneReport::default();
        for listing in &listed {
            let id = listing.id;
            let damage = match &listing.manifest {
                Some(m) if Some(m.database) != timeline => continue,
                Some(m) => stored.absent(m).map(|a| format!("not in the store: {}", a.files)),
                None => Some(format!("{} (its database is unknown)", listing.problem.as_deref().unwrap_or_default())),
            };
            match damage {
                Some(reason) => report.damaged.push(SkippedBackup { id, reason }),
                None if report.kept.len() < keep => report.kept.push(id),
                None => report.removed.push(id),
            }
        }
        self.store.delete_many(&report.removed.iter().map(|&id| manifest_key(id)).collect::<Vec<_>>())?;
        let left = listed.into_iter().filter(|l| !report.removed.contains(&l.id));
        self.point_latest_at(left.filter_map(|l| l.manifest).next())?;
        Ok(report)
    }

    /// Removes backup `id` (its manifest; its files stay until
    /// [`gc`](Self::gc)). Removing a missing backup is an error.
    pub fn delete(&self, id: BackupId) -> Result<()> {
        let key = manifest_key(id);
        if self.store.head(&key)?.is_none() {
            return Err(Error::io(
                "delete backup",
                self.store.location(&key),
                std::io::Error::new(std::io::ErrorKind::NotFound, format!("there is no backup {id}")),
            ));
        }
        self.store.delete(&key)?;
        self.point_latest_at(self.list_all()?.into_iter().find_map(|l| l.manifest))
    }

    /// Makes `latest.json` name `newest`, the newest backup left with a
    /// readable manifest, and its database (or removes it when none is).
    fn point_latest_at(&self, newest: Option<Manifest>) -> Result<()> {
        let newest = newest.map(|m| Latest { id: m.id, database: m.database });
        let pointed = match get(&*self.store, LATEST_KEY, LATEST_BYTES_MAX) {
            Ok(bytes) => decode_latest(&self.store.location(LATEST_KEY), &bytes).ok(),
            Err(_) => None,
        };
        match newest {
            Some(latest) if pointed != Some(latest) => self.store.put(LATEST_KEY, &encode_latest(latest)),
            Some(_) => Ok(()),
            None => self.store.delete(LATEST_KEY),
        }
    }
}

/// A backup [`BackupEngine::recover_latest_valid`] (or a listing) passed over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedBackup {
    /// Its id.
    pub id: BackupId,
    /// Why: its damage, in one line.
    pub reason: String,
}
