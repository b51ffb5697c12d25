//! Which database's backups an operation works on (`docs/DESIGN.md`,
//! "Backups"; identities in `src/version/identity.rs`).
//!
//! A store may hold backups of many databases, and of several timelines of
//! one (a restored copy opened for writing is a new generation). Every
//! manifest records the [`DbIdentity`] of the timeline it holds (`None`:
//! made before identities, an unknown database). "Latest"-style operations
//! — [`latest`](BackupEngine::latest),
//! [`recover_latest_valid`](BackupEngine::recover_latest_valid),
//! [`prune`](BackupEngine::prune) — work on one timeline: the one chosen
//! with [`BackupEngine::database`] (or
//! [`unknown_database`](BackupEngine::unknown_database)), else the only one
//! among the readable manifests; with more than one and no choice they fail
//! with [`Error::AmbiguousDatabase`], listing them. An unreadable manifest
//! belongs to no known timeline: it is reported, never counted.

use std::fmt;

use super::engine::{BackupEngine, BackupListing};
use super::manifest::Manifest;
pub use crate::types::DatabaseSummary;
use crate::{DbIdentity, Error, Result};

impl fmt::Display for DatabaseSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.database {
            Some(identity) => write!(f, "{identity}")?,
            None => f.write_str("an unknown database (backups from before identities: choose it as `unknown`)")?,
        }
        write!(
            f,
            " with {} backup{}, the newest {} at seqno {} of {}",
            self.backups,
            if self.backups == 1 { "" } else { "s" },
            self.newest_id,
            self.newest_seqno,
            self.source
        )
    }
}

/// The timelines of `listed` (newest first), newest first.
pub(crate) fn summarize(listed: &[BackupListing]) -> Vec<DatabaseSummary> {
    let mut out: Vec<DatabaseSummary> = Vec::new();
    for manifest in listed.iter().filter_map(|l| l.manifest.as_ref()) {
        match out.iter_mut().find(|d| d.database == manifest.database) {
            Some(summary) => summary.backups += 1,
            None => out.push(DatabaseSummary {
                database: manifest.database,
                backups: 1,
                newest_id: manifest.id,
                newest_seqno: manifest.seqno,
                source: manifest.source.clone(),
            }),
        }
    }
    out
}

impl BackupEngine {
    /// Works on the backups of `database` only: `latest`,
    /// `recover_latest_valid`, `prune` and `list` consider no other, and
    /// `create_backup`, `verify` and `restore` refuse a backup (or a
    /// database) of another. Needed when the store holds backups of more
    /// than one database or timeline (see [`databases`](Self::databases)).
    pub fn database(mut self, database: DbIdentity) -> BackupEngine {
        self.database = Some(Some(database));
        self
    }

    /// Like [`database`](Self::database), for the backups made before
    /// identities (their manifests name no database).
    pub fn unknown_database(mut self) -> BackupEngine {
        self.database = Some(None);
        self
    }

    /// Every database timeline with a readable manifest in the store,
    /// newest first (whatever [`database`](Self::database) chose).
    pub fn databases(&self) -> Result<Vec<DatabaseSummary>> {
        Ok(summarize(&self.list_all()?))
    }

    /// The timeline latest-style operations work on, given every listing
    /// (newest first): the chosen one, else the only one; `None` when no
    /// manifest is readable. More than one and no choice is
    /// [`Error::AmbiguousDatabase`].
    pub(crate) fn timeline(&self, listed: &[BackupListing]) -> Result<Option<Option<DbIdentity>>> {
        if let Some(chosen) = self.database {
            return Ok(Some(chosen));
        }
        let databases = summarize(listed);
        match databases.as_slice() {
            [] => Ok(None),
            [only] => Ok(Some(only.database)),
            _ => Err(Error::AmbiguousDatabase { store: self.store.location(""), databases }),
        }
    }

    /// Whether `manifest` is of the chosen database (always, when none is
    /// chosen).
    pub(crate) fn in_scope(&self, manifest: &Manifest) -> bool {
        self.database.is_none_or(|chosen| chosen == manifest.database)
    }

    /// Fails unless `manifest` is of the chosen database.
    pub(crate) fn check_scope(&self, manifest: &Manifest) -> Result<()> {
        if self.in_scope(manifest) {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "backup {} is of database {}, not of the chosen database {}",
            manifest.id,
            database_name(manifest.database),
            database_name(self.database.flatten())
        )))
    }
}

/// A database identity in a message: `unknown` for none.
pub(crate) fn database_name(database: Option<DbIdentity>) -> String {
    database.map_or_else(|| "unknown".to_owned(), |d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BackupId, SeqNo, VersionId};

    fn listing(id: u64, database: Option<DbIdentity>) -> BackupListing {
        let manifest = Manifest {
            id: BackupId(id),
            created_unix_ms: 0,
            source: format!("/db{id}"),
            database,
            seqno: SeqNo(id * 10),
            version_id: VersionId(1),
            files: Vec::new(),
        };
        BackupListing { id: BackupId(id), manifest: Some(manifest), problem: None }
    }

    #[test]
    fn timelines_are_summarized_newest_first() {
        let (a, b) = (DbIdentity { id: 1, generation: 1 }, DbIdentity { id: 1, generation: 2 });
        let damaged = BackupListing { id: BackupId(6), manifest: None, problem: Some("bad".into()) };
        let listed = [damaged, listing(5, Some(b)), listing(4, Some(a)), listing(3, None), listing(2, Some(a))];
        let summary = summarize(&listed);
        let seen: Vec<_> = summary.iter().map(|d| (d.database, d.backups, d.newest_id.get())).collect();
        assert_eq!(seen, [(Some(b), 1, 5), (Some(a), 2, 4), (None, 1, 3)]);
        assert!(summary[1].to_string().starts_with(&format!("{a} with 2 backups, the newest 4 at seqno 40")));
        assert!(summary[2].to_string().contains("unknown"));
    }
}
