//! Where a checkpoint goes: checking the target, creating its parent, and
//! the staging directory beside it.
//!
//! A staging directory is named `.cairn-staging.{target name}.{pid}.{n}` and
//! holds a `LOCK` file its creator keeps locked. A staging directory whose
//! lock can be taken is a leftover of a crash (or a failed cleanup) and the
//! next checkpoint into the same parent removes it; one whose lock is held
//! belongs to a checkpoint in progress and is left alone.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::fs::{FileKind, Fs, FsLock, remove_dir_all};
use crate::version::DbLayout;
use crate::{Error, Result};

/// Names of staging directories start with this.
pub const STAGING_PREFIX: &str = ".cairn-staging.";

/// Makes `path` absolute (against the working directory) and removes `.`
/// and `..` lexically, so two spellings of one place compare equal.
pub(crate) fn normalize(path: &Path) -> Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(|e| Error::io("resolve", path, e))?.join(path)
    };
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Checks a checkpoint target: a non-empty path that does not exist (a
/// dangling symbolic link counts as existing), outside the source database.
pub(crate) fn check_target(fs: &dyn Fs, target: &Path, source: &Path) -> Result<PathBuf> {
    if target.as_os_str().is_empty() {
        return Err(Error::invalid("the checkpoint target path is empty"));
    }
    let target = normalize(target)?;
    let source = normalize(source)?;
    if target.starts_with(&source) {
        return Err(Error::invalid(format!(
            "checkpoint target {} is inside the source database {}",
            target.display(),
            source.display()
        )));
    }
    if target.file_name().is_none() {
        return Err(Error::invalid(format!("checkpoint target {} names no directory", target.display())));
    }
    if fs.exists(&target)? {
        return Err(Error::TargetExists { path: target });
    }
    Ok(target)
}

/// Creates `dir` and any missing ancestors, fsyncing each new directory's
/// parent so the new entries are durable. Returns the directories created,
/// outermost first.
pub(crate) fn create_parents(fs: &dyn Fs, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(path) = at.filter(|p| !p.as_os_str().is_empty()) {
        if fs.exists(path)? {
            break;
        }
        missing.push(path.to_path_buf());
        at = path.parent();
    }
    missing.reverse();
    let mut created = Vec::new();
    for path in missing {
        fs.create_dir(&path)?;
        created.push(path.clone());
        if let Some(parent) = path.parent() {
            fs.sync_directory(parent)?;
        }
    }
    Ok(created)
}

/// A fresh staging directory name beside `target`.
pub(crate) fn staging_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    target.with_file_name(format!("{STAGING_PREFIX}{name}.{}.{n}", std::process::id()))
}

/// Locks a freshly created staging directory.
pub(crate) fn lock_staging(fs: &dyn Fs, staging: &Path) -> Result<Box<dyn FsLock>> {
    fs.lock(&staging.join(DbLayout::LOCK))
}

/// Removes staging directories in `parent` that no checkpoint is building.
/// Returns how many were removed.
pub(crate) fn remove_leftovers(fs: &dyn Fs, parent: &Path) -> Result<usize> {
    let mut removed = 0;
    for entry in fs.read_dir(parent)? {
        let is_staging = entry.name.to_str().is_some_and(|n| n.starts_with(STAGING_PREFIX));
        if !is_staging || entry.kind != FileKind::Dir {
            continue;
        }
        let dir = parent.join(&entry.name);
        match fs.lock(&dir.join(DbLayout::LOCK)) {
            Ok(_held) => {
                remove_dir_all(fs, &dir)?;
                log::info!("removed checkpoint staging leftover {}", dir.display());
                removed += 1;
            }
            // Locked: a checkpoint is building it. Gone: it was just renamed.
            Err(Error::Locked { .. }) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/./b/../c")).unwrap(), Path::new("/a/c"));
        assert!(normalize(Path::new("rel")).unwrap().is_absolute());
    }

    #[test]
    fn targets_are_checked() {
        let fs = MemFs::new();
        fs.create_dir(Path::new("/db")).unwrap();
        fs.create_dir(Path::new("/taken")).unwrap();
        assert!(matches!(check_target(&fs, Path::new(""), Path::new("/db")), Err(Error::InvalidArgument { .. })));
        assert!(matches!(check_target(&fs, Path::new("/taken"), Path::new("/db")), Err(Error::TargetExists { .. })));
        let inside = check_target(&fs, Path::new("/db/cp"), Path::new("/db")).unwrap_err();
        assert!(inside.to_string().contains("inside the source"), "{inside}");
        let sneaky = check_target(&fs, Path::new("/x/../db/./cp"), Path::new("/db")).unwrap_err();
        assert!(sneaky.to_string().contains("inside the source"), "{sneaky}");
        assert_eq!(
            check_target(&fs, Path::new("/backups/today"), Path::new("/db")).unwrap(),
            Path::new("/backups/today")
        );
    }

    #[test]
    fn leftovers_are_removed_but_live_staging_and_others_kept() {
        let fs = MemFs::new();
        fs.create_dir(Path::new("/b")).unwrap();
        let live = staging_path(Path::new("/b/t1"));
        fs.create_dir(&live).unwrap();
        let _held = lock_staging(&fs, &live).unwrap();
        let dead = staging_path(Path::new("/b/t2"));
        fs.create_dir(&dead).unwrap();
        drop(lock_staging(&fs, &dead).unwrap());
        fs.create_dir(&dead.join("tables")).unwrap();
        let bare = Path::new("/b/.cairn-staging.t3.1.1");
        fs.create_dir(bare).unwrap();
        fs.create_dir(Path::new("/b/keep")).unwrap();
        assert_eq!(remove_leftovers(&fs, Path::new("/b")).unwrap(), 2);
        assert!(fs.exists(&live).unwrap());
        assert!(!fs.exists(&dead).unwrap() && !fs.exists(bare).unwrap());
        assert!(fs.exists(Path::new("/b/keep")).unwrap());
    }

    #[test]
    fn create_parents_reports_what_it_made() {
        let fs = MemFs::new();
        let made = create_parents(&fs, Path::new("/a/b/c")).unwrap();
        assert_eq!(made, [Path::new("/a"), Path::new("/a/b"), Path::new("/a/b/c")]);
        assert!(create_parents(&fs, Path::new("/a/b")).unwrap().is_empty());
        assert!(fs.crash_copy().exists(Path::new("/a/b/c")).unwrap(), "new parents are durable");
    }
}
