//! What killed work leaves in a folder: the staging directories of
//! checkpoints and restores that never finished ([`leftovers`]), whether
//! a process still uses one ([`leftover_state`]), and removing those none
//! does ([`remove_leftover`]). The next checkpoint or restore into the same
//! folder removes them too; these are for folders nothing writes into
//! again (`cairn gc DIR`).

use std::path::{Path, PathBuf};

use crate::fs::{FileKind, Fs};
pub use crate::staging::StagingState;
use crate::staging::{is_staging_name, remove_if_abandoned, staging_state};
use crate::{Error, Result};

/// A staging directory found by [`leftovers`], with what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftover {
    /// Its directory.
    pub path: PathBuf,
    /// Files in it, at any depth (its `LOCK` among them).
    pub files: u64,
    /// Their bytes (a file hard-linked or reflinked from its source shares
    /// them with it: removing it frees less).
    pub bytes: u64,
}

/// The staging directories directly in `dir`, by name, each with its files
/// and bytes. Looking locks nothing and changes nothing: whether one is
/// in use is [`leftover_state`]'s to tell. One that goes away while it is
/// looked at (renamed into place, removed) is left out.
pub fn leftovers(fs: &dyn Fs, dir: &Path) -> Result<Vec<Leftover>> {
    let mut found = Vec::new();
    for entry in fs.read_dir(dir)? {
        if entry.kind != FileKind::Dir || !is_staging_name(&entry.name) {
            continue;
        }
        let path = dir.join(&entry.name);
        match tally(fs, &path) {
            Ok((files, bytes)) => found.push(Leftover { path, files, bytes }),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// Files and bytes below `dir`.
fn tally(fs: &dyn Fs, dir: &Path) -> Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in fs.read_dir(&at)? {
            let path = at.join(&entry.name);
            match entry.kind {
                FileKind::Dir => stack.push(path),
                _ => {
                    files += 1;
                    bytes += fs.metadata(&path)?.len;
                }
            }
        }
    }
    Ok((files, bytes))
}

/// Whether the staging directory at `path` is in use ([`StagingState`]),
/// or `None` when it is gone. Telling takes its `LOCK` for an instant when
/// no one holds it.
pub fn leftover_state(fs: &dyn Fs, path: &Path) -> Result<Option<StagingState>> {
    check_staging(path)?;
    staging_state(fs, path)
}

/// Removes the staging directory at `path` if it is abandoned, holding its
/// lock meanwhile (so no checkpoint or restore can take it up), `LOCK`
/// last; returns whether it did. One in use, gone, or not recognised is
/// left as it is.
pub fn remove_leftover(fs: &dyn Fs, path: &Path) -> Result<bool> {
    check_staging(path)?;
    remove_if_abandoned(fs, path)
}

fn check_staging(path: &Path) -> Result<()> {
    match path.file_name() {
        Some(name) if is_staging_name(name) => Ok(()),
        _ => Err(Error::invalid(format!("{} is not a staging directory", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{MemFs, OpenOptions};
    use crate::staging::create_staging;

    #[test]
    fn leftovers_are_listed_with_sizes_and_only_abandoned_ones_removed() {
        let fs = MemFs::new();
        fs.create_dir_all(Path::new("/p/keep")).unwrap();
        let (live, _held) = create_staging(&fs, Path::new("/p/live")).unwrap();
        let (dead, lock) = create_staging(&fs, Path::new("/p/dead")).unwrap();
        drop(lock);
        fs.create_dir(&dead.join("tables")).unwrap();
        fs.open(&dead.join("tables/1.sst"), OpenOptions::create_new()).unwrap().write_all_at(&[7; 100], 0).unwrap();
        let foreign = Path::new("/p/.cairn-staging.x");
        fs.create_dir(foreign).unwrap();
        fs.open(&foreign.join("notes"), OpenOptions::create_new()).unwrap().write_all_at(b"mine", 0).unwrap();

        let found = leftovers(&fs, Path::new("/p")).unwrap();
        let sizes: Vec<_> = found.iter().map(|l| (l.path.clone(), l.files, l.bytes)).collect();
        let mut expected = vec![(dead.clone(), 2, 100), (live.clone(), 1, 0), (foreign.to_path_buf(), 1, 4)];
        expected.sort();
        assert_eq!(sizes, expected, "by name; LOCK counted");
        let state = |p: &Path| leftover_state(&fs, p).unwrap();
        assert_eq!(state(&dead), Some(StagingState::Abandoned));
        assert_eq!(state(&live), Some(StagingState::InUse));
        assert_eq!(state(foreign), Some(StagingState::Unrecognized));
        assert!(leftover_state(&fs, Path::new("/p/keep")).is_err(), "not a staging name");

        assert!(!remove_leftover(&fs, &live).unwrap() && !remove_leftover(&fs, foreign).unwrap());
        assert!(remove_leftover(&fs, &dead).unwrap());
        assert_eq!(state(&dead), None, "gone");
        assert!(fs.exists(&live.join("LOCK")).unwrap() && fs.exists(&foreign.join("notes")).unwrap());
        assert_eq!(leftovers(&fs, Path::new("/p")).unwrap().len(), 2);
    }
}
