//! Checking backups: [`BackupEngine::verify`] reads every file of one and
//! checks its size and checksum; [`BackupEngine::recover_latest_valid`]
//! walks back from the newest to the first that passes.

use std::collections::HashMap;

use super::content::{ContentHasher, ContentKey};
use super::engine::{BackupEngine, SkippedBackup};
use super::manifest::Manifest;
use super::progress::BackupProgress;
use super::store::BackupStore;
use crate::{BackupId, Error, Result};

/// One thing wrong with a backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupProblem {
    /// The file's name in the database, e.g. `tables/12.sst`.
    pub name: String,
    /// Where its bytes should be in the store.
    pub location: String,
    /// What is wrong.
    pub what: String,
}

/// What [`BackupEngine::verify`] checked and found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackupVerifyReport {
    /// The backup.
    pub id: BackupId,
    /// Files checked.
    pub files_checked: usize,
    /// Bytes read and checked.
    pub bytes_checked: u64,
    /// Everything found wrong; empty when the backup is intact.
    pub problems: Vec<BackupProblem>,
}

impl BackupVerifyReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What [`BackupEngine::recover_latest_valid`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The newest intact backup, if any.
    pub id: Option<BackupId>,
    /// Newer backups it skipped, newest first, and why.
    pub skipped: Vec<SkippedBackup>,
}

impl BackupEngine {
    /// Reads every file of backup `id` and checks that it is there with
    /// the size and checksum its manifest records. Damage is reported in
    /// the problems; an error means the backup could not be examined (no
    /// such backup, a damaged manifest, or the store failing).
    pub fn verify(&self, id: BackupId) -> Result<BackupVerifyReport> {
        self.verify_with_progress(id, &mut |_| {})
    }

    /// [`verify`](Self::verify), reporting progress.
    pub fn verify_with_progress(
        &self,
        id: BackupId,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<BackupVerifyReport> {
        let manifest = self.manifest(id)?;
        self.check_scope(&manifest)?;
        check(&*self.store, &manifest, &mut HashMap::new(), progress)
    }

    /// The newest backup of the database that is intact (manifest
    /// readable, every file there with its checksum), walking back past
    /// damaged ones and saying why each was skipped; a file shared by
    /// several backups is read once.
    ///
    /// The database is the one chosen with [`database`](Self::database),
    /// else the only one in the store; with more than one and none chosen
    /// it is [`Error::AmbiguousDatabase`], never another database's
    /// backup. Backups of other databases are passed over in silence; an
    /// unreadable manifest newer than the one found is skipped and named
    /// (its database is unknown: it may be this one's).
    pub fn recover_latest_valid(&self) -> Result<Recovery> {
        let listed = self.list_all()?;
        let timeline = self.timeline(&listed)?;
        let mut recovery = Recovery::default();
        let mut checked = HashMap::new();
        for listing in listed {
            let id = listing.id;
            let manifest = match listing.manifest {
                Some(m) if Some(m.database) == timeline => m,
                Some(_) => continue,
                None => {
                    let reason = format!("{} (its database is unknown)", listing.problem.unwrap_or_default());
                    recovery.skipped.push(SkippedBackup { id, reason });
                    continue;
                }
            };
            let report = check(&*self.store, &manifest, &mut checked, &mut |_| {})?;
            if report.is_ok() {
                recovery.id = Some(id);
                return Ok(recovery);
            }
            let reason = report.problems.iter().map(|p| format!("{}: {}", p.name, p.what)).collect::<Vec<_>>();
            recovery.skipped.push(SkippedBackup { id, reason: reason.join("; ") });
        }
        Ok(recovery)
    }
}

/// Checks every file of `manifest`; `checked` remembers verdicts by content
/// key across calls.
fn check(
    store: &dyn BackupStore,
    manifest: &Manifest,
    checked: &mut HashMap<ContentKey, Option<String>>,
    progress: &mut dyn FnMut(BackupProgress),
) -> Result<BackupVerifyReport> {
    let mut report = BackupVerifyReport { id: manifest.id, ..BackupVerifyReport::default() };
    let mut done = BackupProgress::start(manifest.files.len(), manifest.bytes_total());
    progress(done);
    for file in &manifest.files {
        let bytes_before = done.bytes_done;
        let verdict = match checked.get(&file.content) {
            Some(verdict) => verdict.clone(),
            None => {
                let verdict = check_object(store, &file.content, &mut |n| {
                    done.add_bytes(n);
                    progress(done);
                })?;
                checked.insert(file.content, verdict.clone());
                verdict
            }
        };
        if let Some(what) = verdict {
            let key = file.content.key();
            report.problems.push(BackupProblem { name: file.db_name(), location: store.location(&key), what });
        }
        report.files_checked += 1;
        report.bytes_checked += file.size_bytes();
        done.files_done += 1;
        done.bytes_done = bytes_before;
        done.add_bytes(file.size_bytes());
        progress(done);
    }
    Ok(report)
}

/// Reads the object of `content` whole; `None` when it is intact, else
/// what is wrong. Errors other than a missing object are returned.
pub(crate) fn check_object(
    store: &dyn BackupStore,
    content: &ContentKey,
    progress: &mut dyn FnMut(u64),
) -> Result<Option<String>> {
    let key = content.key();
    let mut hasher = ContentHasher::new();
    let expected = content.size_bytes;
    let mut overlong = false;
    let read = store.read(&key, &mut |chunk| {
        if hasher.len_bytes() + chunk.len() as u64 > expected {
            overlong = true;
            return Err(Error::invalid("stop reading: longer than recorded"));
        }
        hasher.update(chunk);
        progress(chunk.len() as u64);
        Ok(())
    });
    match read {
        _ if overlong => return Ok(Some(format!("longer than the {expected} bytes recorded"))),
        Ok(_) => {}
        Err(e) if e.is_not_found() => return Ok(Some("missing from the store".into())),
        Err(e) => return Err(e),
    }
    if hasher.len_bytes() != expected {
        return Ok(Some(format!("{} bytes, but {expected} are recorded", hasher.len_bytes())));
    }
    if hasher.key(content.kind) != *content {
        return Ok(Some("checksum mismatch: the stored bytes are damaged".into()));
    }
    Ok(None)
}
