//! Where a copy of a database goes — a checkpoint, a restored backup:
//! checking the target, creating its parent, and the staging directory
//! beside it that the copy is built in and renamed from (`StagingGuard`).
//!
//! A staging directory is named `.cairn-staging.{target name}.{pid}.{n}`
//! (a target name longer than [`NAME_KEPT_BYTES_MAX`] is cut and followed
//! by `~` and a hash of the whole name, so the staging name fits wherever
//! the target's does; see [`staging_name`]) and holds a `LOCK` file its creator keeps locked (a real file lock, so other
//! processes see it) until the directory is renamed to its target or
//! removed. Each checkpoint or restore into a parent first removes the leftovers of
//! crashes there, and must never take a live one for a leftover, also in
//! the instant between creating its directory and locking it:
//!
//! - `LOCK` never exists unlocked while its creator lives: the creator
//!   locks `LOCK.new` (a name no one else opens) and then renames it to
//!   `LOCK`. A staging directory with a `LOCK` someone holds is left alone;
//!   one whose `LOCK` can be taken is removed, `LOCK` last.
//! - A staging directory without `LOCK` is one whose creator died before
//!   locking it, or is about to: removal takes out `LOCK.new` and the then
//!   empty directory, never anything else, and a creator that finds its
//!   directory taken that way starts over under a fresh name.

use std::ffi::{OsStr, OsString};
use std::io;
use std::io::Write as _;
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::fs::{FileKind, Fs, FsLock, create_dir_all_durably, remove_dir_all};
use crate::version::DbLayout;
use crate::{Error, Result};

/// Names of staging directories start with this.
pub const STAGING_PREFIX: &str = ".cairn-staging.";

/// The longest target name a staging name holds whole; a longer one is cut
/// to [`NAME_HEAD_BYTES`] (at most) and followed by `~` and 16 hex digits of
/// its hash.
const NAME_KEPT_BYTES_MAX: usize = 64;
/// How much of a longer target name a staging name keeps.
const NAME_HEAD_BYTES: usize = 40;
/// The longest staging name: the prefix, the kept name, `.{pid}.{n}` (a
/// `u32` and a `u64` in decimal).
pub(crate) const STAGING_NAME_BYTES_MAX: usize = STAGING_PREFIX.len() + NAME_KEPT_BYTES_MAX + 1 + 10 + 1 + 20;
const _: () = assert!(NAME_HEAD_BYTES + 1 + 16 <= NAME_KEPT_BYTES_MAX);
// Fits any file system's name limit (255 bytes on Linux's).
const _: () = assert!(STAGING_NAME_BYTES_MAX <= 128);

/// True for a name a staging directory has, in this format or the one
/// before it (which kept the whole target name): the prefix, as bytes (a
/// target name need not be UTF-8).
pub fn is_staging_name(name: &OsStr) -> bool {
    name.as_bytes().starts_with(STAGING_PREFIX.as_bytes())
}

/// The name a staging directory's lock file is created and locked under
/// before it becomes `LOCK`.
const LOCK_NEW: &str = "LOCK.new";

/// Fresh staging directories tried before giving up: each retry means
/// another call's leftover removal took the last one before it was locked
/// (or a crashed process of the same pid left one by that name).
const STAGING_ATTEMPTS_MAX: usize = 64;

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

/// Checks the target of a checkpoint (`source`: the database it copies) or
/// of a restore (`source`: `None`): a non-empty path that does not exist (a
/// dangling symbolic link counts as existing) and lies inside no database.
/// Returns its real path (see [`resolve`]), which is where it goes: the
/// comparison is made on real paths, so no spelling of the target (through
/// a link to the database, or a link on the way) can put it inside one.
///
/// A database is a directory holding `CURRENT`; a directory created there
/// would be in its way (a `v{N}` one would hide a version file).
pub(crate) fn check_target(fs: &dyn Fs, target: &Path, source: Option<&Path>) -> Result<PathBuf> {
    let what = if source.is_some() { "checkpoint" } else { "restore" };
    if target.as_os_str().is_empty() {
        return Err(Error::invalid(format!("the {what} target path is empty")));
    }
    if target.file_name().is_none() {
        return Err(Error::invalid(format!("{what} target {} names no directory", target.display())));
    }
    let target = resolve(fs, target)?;
    if fs.exists(&target)? {
        return Err(Error::TargetExists { path: target });
    }
    let source = source.map(|s| fs.canonicalize(s)).transpose()?;
    for dir in target.ancestors().skip(1) {
        if fs.exists(&dir.join(DbLayout::CURRENT))? {
            let which = if source.as_deref() == Some(dir) { "the source database" } else { "the database" };
            return Err(Error::invalid(format!(
                "{what} target {} is inside {which} {}; choose a place outside it",
                target.display(),
                dir.display()
            )));
        }
    }
    Ok(target)
}

/// The real path of `path`, which need not exist: its parent's symbolic
/// links resolved as far as the parent exists (`.` and `..` applied as the
/// file system would, relative paths taken from the working directory),
/// then its final name, not followed.
fn resolve(fs: &dyn Fs, path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| Error::invalid(format!("{} names no file", path.display())))?;
    let mut real = if path.is_absolute() { PathBuf::from("/") } else { fs.canonicalize(Path::new("."))? };
    for part in path.parent().into_iter().flat_map(Path::components) {
        match part {
            Component::Normal(step) => {
                real.push(step);
                if fs.exists(&real)? {
                    real = fs.canonicalize(&real)?;
                }
            }
            // `real` is real as far as it exists: its parent is the parent.
            Component::ParentDir => {
                real.pop();
            }
            Component::RootDir => real = PathBuf::from("/"),
            Component::CurDir | Component::Prefix(_) => {}
        }
    }
    real.push(name);
    Ok(real)
}

/// A fresh staging directory name beside `target`.
pub(crate) fn staging_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target.file_name().unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    target.with_file_name(staging_name(name, std::process::id(), n))
}

/// `.cairn-staging.{name}.{pid}.{n}`: [`staging_name_start`] and `n`.
pub(crate) fn staging_name(name: &OsStr, pid: u32, n: u64) -> OsString {
    let mut out = staging_name_start(name, pid).into_vec();
    let _ = write!(out, "{n}");
    debug_assert!(out.len() <= STAGING_NAME_BYTES_MAX);
    OsString::from_vec(out)
}

/// How the names of the staging directories that process `pid` makes for
/// a target named `name` begin, `.cairn-staging.{name}.{pid}.`, a counter
/// following: the target name's bytes as they are (it need not be UTF-8),
/// one over 64 bytes (`NAME_KEPT_BYTES_MAX`) cut to its first
/// 40 (`NAME_HEAD_BYTES`; less, to end on a whole UTF-8 character) and
/// followed by `~` and the xxh3 of the whole name. Recognisable, and at
/// most `STAGING_NAME_BYTES_MAX` bytes with the counter, however long
/// the target's name.
pub fn staging_name_start(name: &OsStr, pid: u32) -> OsString {
    let name = name.as_bytes();
    let mut out = STAGING_PREFIX.as_bytes().to_vec();
    if name.len() <= NAME_KEPT_BYTES_MAX {
        out.extend_from_slice(name);
    } else {
        let mut cut = NAME_HEAD_BYTES;
        // A UTF-8 continuation byte (10xxxxxx) is inside a character.
        while cut > 0 && name[cut] & 0xc0 == 0x80 {
            cut -= 1;
        }
        out.extend_from_slice(&name[..cut]);
        let _ = write!(out, "~{:016x}", xxhash_rust::xxh3::xxh3_64(name));
    }
    let _ = write!(out, ".{pid}.");
    OsString::from_vec(out)
}

/// Creates a staging directory beside `target` and locks it; the lock is
/// held until the directory is renamed to `target` or removed (see the
/// module documentation for why no other call can take it meanwhile).
pub(crate) fn create_staging(fs: &dyn Fs, target: &Path) -> Result<(PathBuf, Box<dyn FsLock>)> {
    let mut attempts = 1;
    loop {
        let staging = staging_path(target);
        let retry = attempts < STAGING_ATTEMPTS_MAX;
        match fs.create_dir(&staging) {
            Err(e) if e.is_already_exists() && retry => {}
            Err(e) => return Err(e),
            Ok(()) => match lock_new_staging(fs, &staging) {
                Ok(lock) => return Ok((staging, lock)),
                Err(e) => {
                    // Ours, and holding at most `LOCK.new`.
                    if let Err(cleanup) = remove_unlocked_staging(fs, &staging) {
                        log::warn!("could not remove the staging directory {}: {cleanup}", staging.display());
                    }
                    if !(e.is_not_found() && retry) {
                        return Err(e);
                    }
                }
            },
        }
        log::debug!("staging directory {} was taken; trying another", staging.display());
        attempts += 1;
    }
}

/// Locks the new, empty staging directory `staging`: creates and locks
/// `LOCK.new`, then names it `LOCK`. `NotFound` means a leftover removal
/// took the directory or `LOCK.new` first.
fn lock_new_staging(fs: &dyn Fs, staging: &Path) -> Result<Box<dyn FsLock>> {
    let lock = fs.lock(&staging.join(LOCK_NEW))?;
    fs.rename(&staging.join(LOCK_NEW), &staging.join(DbLayout::LOCK))?;
    Ok(lock)
}

/// Removes staging directories in `parent` that no checkpoint or restore
/// is building. A leftover that cannot be removed now is logged and left
/// for the next call. Returns how many were removed.
pub(crate) fn remove_leftovers(fs: &dyn Fs, parent: &Path) -> Result<usize> {
    let mut removed = 0;
    for entry in fs.read_dir(parent)? {
        if !is_staging_name(&entry.name) || entry.kind != FileKind::Dir {
            continue;
        }
        let dir = parent.join(&entry.name);
        match remove_if_abandoned(fs, &dir) {
            Ok(true) => {
                log::info!("removed the staging leftover {} of an interrupted checkpoint or restore", dir.display());
                removed += 1;
            }
            Ok(false) => {}
            Err(e) => log::warn!("left the staging leftover {} for later: {e}", dir.display()),
        }
    }
    Ok(removed)
}

/// Whether anyone is using a staging directory, as `staging_state` tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StagingState {
    /// No process holds it: the leftover of a checkpoint or restore that
    /// was killed (or of a checkpoint whose removal was), safe to remove.
    Abandoned,
    /// A live process holds its `LOCK`: a checkpoint or restore being
    /// made, or a checkpoint being removed.
    InUse,
    /// Named like a staging directory, but without a `LOCK` and holding
    /// files no staging directory holds then: not cairndb's, never removed.
    Unrecognized,
}

/// Whether the staging directory `dir` is in use, or `None` when it is gone
/// (renamed into place, or removed). Telling takes a free `LOCK` for an
/// instant, as [`remove_leftovers`] does.
pub(crate) fn staging_state(fs: &dyn Fs, dir: &Path) -> Result<Option<StagingState>> {
    let lock = dir.join(DbLayout::LOCK);
    if !fs.exists(&lock)? {
        let entries = match fs.read_dir(dir) {
            Err(e) if e.is_not_found() => return Ok(None),
            other => other?,
        };
        // No `LOCK` yet: its creator died before locking it, or is about to.
        let ours = entries.iter().all(|e| e.name == LOCK_NEW);
        return Ok(Some(if ours { StagingState::Abandoned } else { StagingState::Unrecognized }));
    }
    match fs.lock(&lock) {
        Ok(_held) => Ok(Some(StagingState::Abandoned)),
        Err(Error::Locked { .. }) => Ok(Some(StagingState::InUse)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Removes the staging directory `dir` if no one is building it; returns
/// whether it did.
pub(crate) fn remove_if_abandoned(fs: &dyn Fs, dir: &Path) -> Result<bool> {
    if !fs.exists(&dir.join(DbLayout::LOCK))? {
        let removed = remove_unlocked_staging(fs, dir)?;
        if !removed && fs.exists(dir)? && !fs.exists(&dir.join(DbLayout::LOCK))? {
            log::warn!("left {} alone: named like a staging directory, but holds what none does", dir.display());
        }
        return Ok(removed);
    }
    match fs.lock(&dir.join(DbLayout::LOCK)) {
        Ok(_held) => remove_staging(fs, dir).map(|()| true),
        // Locked: being built. Gone: just renamed to its target, or removed.
        Err(Error::Locked { .. }) => Ok(false),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes a staging directory that has no `LOCK`: its `LOCK.new`, then
/// the directory if that left it empty. Returns whether it is gone.
fn remove_unlocked_staging(fs: &dyn Fs, dir: &Path) -> Result<bool> {
    match fs.remove_file(&dir.join(LOCK_NEW)) {
        Err(e) if !e.is_not_found() => return Err(e),
        _ => {}
    }
    match fs.remove_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        // Locked since (`LOCK` appeared), or not a staging directory of ours.
        Err(e) if e.io_kind() == Some(io::ErrorKind::DirectoryNotEmpty) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes a staging directory (or a checkpoint renamed from one) whose
/// lock the caller holds, `LOCK` last: until then, leftover removal finds
/// it locked. What someone else removed meanwhile is no error.
pub(crate) fn remove_staging(fs: &dyn Fs, dir: &Path) -> Result<()> {
    let gone = |result: Result<()>| match result {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    };
    let entries = match fs.read_dir(dir) {
        Err(e) if e.is_not_found() => return Ok(()),
        other => other?,
    };
    for entry in entries.iter().filter(|e| e.name != DbLayout::LOCK) {
        let path = dir.join(&entry.name);
        gone(if entry.kind == FileKind::Dir { remove_dir_all(fs, &path) } else { fs.remove_file(&path) })?;
    }
    gone(fs.remove_file(&dir.join(DbLayout::LOCK)))?;
    gone(fs.remove_dir(dir))
}

/// What a copy being built — a checkpoint or a restore — takes back if it
/// fails: its staging directory; once renamed into place, its target (an
/// error means "not created", so a target whose rename could not be made
/// durable is removed again: should a crash bring it back, it is whole);
/// and the parent directories it created.
pub(crate) struct StagingGuard<'a> {
    fs: &'a dyn Fs,
    /// "checkpoint" or "restore", for the warning when removal fails.
    what: &'static str,
    staging: Option<PathBuf>,
    target: Option<PathBuf>,
    created_parents: Vec<PathBuf>,
    /// The staging directory's lock, released only after the removal (a
    /// field drops after `drop`), so no other call takes it meanwhile.
    lock: Option<Box<dyn FsLock>>,
}

impl<'a> StagingGuard<'a> {
    /// Creates `target`'s missing parents and a locked staging directory
    /// beside it (after removing abandoned ones); returns the guard and
    /// the staging directory.
    pub(crate) fn create(fs: &'a dyn Fs, target: &Path, what: &'static str) -> Result<(StagingGuard<'a>, PathBuf)> {
        let parent = target.parent().expect("a checked target has a parent");
        let mut guard = StagingGuard {
            fs,
            what,
            staging: None,
            target: None,
            created_parents: create_dir_all_durably(fs, parent)?,
            lock: None,
        };
        remove_leftovers(fs, parent)?;
        let (staging, lock) = create_staging(fs, target)?;
        guard.staging = Some(staging.clone());
        guard.lock = Some(lock);
        Ok((guard, staging))
    }

    /// Renames the staging directory to `target` and makes that durable; if
    /// the rename's directory sync fails, the target is taken back.
    pub(crate) fn rename_into_place(&mut self, target: &Path, sync: bool) -> Result<()> {
        let staging = self.staging.clone().expect("a staged copy");
        self.fs.rename(&staging, target)?;
        self.staging = None;
        self.target = Some(target.to_path_buf());
        if sync {
            self.fs.sync_directory(target.parent().expect("a checked target has a parent"))?;
        }
        Ok(())
    }

    /// The copy is complete: nothing is taken back.
    pub(crate) fn disarm(mut self) {
        self.staging = None;
        self.target = None;
        self.created_parents.clear();
    }
}

impl Drop for StagingGuard<'_> {
    fn drop(&mut self) {
        let staging = match self.target.take() {
            Some(target) => self.take_back(&target),
            None => self.staging.take(),
        };
        if let Some(dir) = staging
            && let Err(e) = remove_staging(self.fs, &dir)
            && !e.is_not_found()
        {
            log::warn!("could not remove the partial {} {}: {e}", self.what, dir.display());
        }
        for dir in self.created_parents.iter().rev() {
            let _ = self.fs.remove_dir(dir);
        }
    }
}

impl StagingGuard<'_> {
    /// Takes a renamed-into-place `target` back: renames it to a staging
    /// name, and returns that name to be emptied only once the rename is
    /// durable. Until then a crash can bring `target` back, and it must
    /// come back whole: the removals inside it could reach the disk before
    /// the rename does. When the rename cannot be made durable, the copy
    /// stays whole under the staging name for the next call into the same
    /// folder to remove.
    fn take_back(&self, target: &Path) -> Option<PathBuf> {
        let away = staging_path(target);
        let parent = target.parent().expect("a checked target has a parent");
        if let Err(e) = self.fs.rename(target, &away) {
            log::warn!("could not take back the failed {} {}: {e}", self.what, target.display());
            return None;
        }
        match self.fs.sync_directory(parent) {
            Ok(()) => Some(away),
            Err(e) => {
                log::warn!(
                    "left the failed {} whole at {} (its parent's sync failed: {e}); the next {} into {} removes it",
                    self.what,
                    away.display(),
                    self.what,
                    parent.display()
                );
                None
            }
        }
    }
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
        let db = Some(Path::new("/db"));
        fs.create_dir(Path::new("/db")).unwrap();
        fs.open(Path::new("/db/CURRENT"), crate::fs::OpenOptions::create_new()).unwrap();
        fs.create_dir(Path::new("/taken")).unwrap();
        assert!(matches!(check_target(&fs, Path::new(""), db), Err(Error::InvalidArgument { .. })));
        assert!(matches!(check_target(&fs, Path::new("/taken"), db), Err(Error::TargetExists { .. })));
        let inside = check_target(&fs, Path::new("/db/cp"), db).unwrap_err();
        assert!(inside.to_string().contains("inside the source"), "{inside}");
        let sneaky = check_target(&fs, Path::new("/x/../db/./cp"), db).unwrap_err();
        assert!(sneaky.to_string().contains("inside the source"), "{sneaky}");
        let deep = check_target(&fs, Path::new("/db/missing/cp"), db).unwrap_err();
        assert!(deep.to_string().contains("inside the source"), "{deep}");
        let restore = check_target(&fs, Path::new("/db/r"), None).unwrap_err();
        assert!(restore.to_string().contains("restore target /db/r is inside the database /db"), "{restore}");
        assert_eq!(check_target(&fs, Path::new("/backups/today"), db).unwrap(), Path::new("/backups/today"));
    }

    #[test]
    fn targets_are_compared_by_real_path() {
        let fs = MemFs::new();
        fs.create_dir_all(Path::new("/data/db")).unwrap();
        fs.open(Path::new("/data/db/CURRENT"), crate::fs::OpenOptions::create_new()).unwrap();
        fs.symlink(Path::new("/data/db"), Path::new("/link")).unwrap();
        fs.symlink(Path::new("db"), Path::new("/data/relative")).unwrap();
        fs.symlink(Path::new(".."), Path::new("/data/db/up")).unwrap();
        for (target, source) in [("/data/db/v9", "/link"), ("/link/v9", "/data/db"), ("/data/relative/v9", "/link")] {
            let err = check_target(&fs, Path::new(target), Some(Path::new(source))).unwrap_err();
            assert!(err.to_string().contains("inside the source database /data/db"), "{target}: {err}");
        }
        // Through a link inside the database and back out of it.
        assert_eq!(check_target(&fs, Path::new("/link/up/cp"), None).unwrap(), Path::new("/data/cp"));
        assert_eq!(resolve(&fs, Path::new("/link/../cp")).unwrap(), Path::new("/data/cp"), "`..` is physical");
        assert_eq!(resolve(&fs, Path::new("/gone/../cp")).unwrap(), Path::new("/cp"));
        assert_eq!(resolve(&fs, Path::new("rel/cp")).unwrap(), Path::new("/rel/cp"), "MemFs starts from /");
    }

    #[test]
    fn leftovers_are_removed_but_live_staging_and_others_kept() {
        let fs = MemFs::new();
        fs.create_dir(Path::new("/b")).unwrap();
        let (live, _held) = create_staging(&fs, Path::new("/b/t1")).unwrap();
        assert_eq!(fs.read_dir(&live).unwrap()[0].name, DbLayout::LOCK);
        let (dead, lock) = create_staging(&fs, Path::new("/b/t2")).unwrap();
        drop(lock);
        fs.create_dir(&dead.join("tables")).unwrap();
        let bare = Path::new("/b/.cairn-staging.t3.1.1");
        fs.create_dir(bare).unwrap();
        // A crash between locking `LOCK.new` and renaming it.
        let unnamed = Path::new("/b/.cairn-staging.t4.1.1");
        fs.create_dir(unnamed).unwrap();
        drop(fs.lock(&unnamed.join(LOCK_NEW)).unwrap());
        // Not ours: no LOCK, and something besides LOCK.new.
        // A leftover of a target whose name is not UTF-8.
        let (raw, lock) = create_staging(&fs, &Path::new("/b").join(OsStr::from_bytes(b"t\xff"))).unwrap();
        drop(lock);
        let foreign = Path::new("/b/.cairn-staging.t5.1.1");
        fs.create_dir_all(&foreign.join("data")).unwrap();
        fs.create_dir(Path::new("/b/keep")).unwrap();
        assert_eq!(remove_leftovers(&fs, Path::new("/b")).unwrap(), 4);
        assert!(fs.exists(&live.join(DbLayout::LOCK)).unwrap());
        for gone in [&dead, bare, unnamed, &raw] {
            assert!(!fs.exists(gone).unwrap(), "{}", gone.display());
        }
        assert!(fs.exists(&foreign.join("data")).unwrap() && fs.exists(Path::new("/b/keep")).unwrap());
    }

    #[test]
    fn staging_names_are_bounded_and_recognisable() {
        let name = |target: &[u8]| staging_name(OsStr::from_bytes(target), u32::MAX, u64::MAX);
        assert_eq!(name(b"today"), OsStr::new(".cairn-staging.today.4294967295.18446744073709551615"));
        let kept = [b'k'; NAME_KEPT_BYTES_MAX];
        assert!(name(&kept).as_bytes().windows(kept.len()).any(|w| w == kept), "a name this long is kept whole");
        let mut seen = std::collections::BTreeSet::new();
        for len in NAME_KEPT_BYTES_MAX + 1..=255 {
            let target = vec![b'x'; len];
            let staging = name(&target);
            assert!(staging.len() <= STAGING_NAME_BYTES_MAX, "{len}: {staging:?}");
            assert!(is_staging_name(&staging));
            assert!(staging.as_bytes().starts_with(b".cairn-staging.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx~"));
            assert!(seen.insert(staging), "{len}: names of other targets differ");
        }
        // Cut on a character boundary: "é" is two bytes, and byte 40 of
        // "aéé..." is the second byte of one; the head stays UTF-8.
        let accented = format!("a{}", "é".repeat(100));
        let staging = name(accented.as_bytes());
        assert!(std::str::from_utf8(staging.as_bytes()).is_ok(), "{staging:?}");
        // Not UTF-8 at all: the bytes as they are.
        let raw = name(b"\xff\xfe\n");
        assert_eq!(&raw.as_bytes()[STAGING_PREFIX.len()..][..3], b"\xff\xfe\n");
        assert!(is_staging_name(&raw) && is_staging_name(OsStr::new(".cairn-staging.t.1.1")));
        assert!(!is_staging_name(OsStr::new(".cairn-stagin")) && !is_staging_name(OsStr::new("cp")));
    }

    #[test]
    fn a_staging_directory_taken_before_its_lock_is_made_again() {
        let fs = crate::fs::FaultFs::new(std::sync::Arc::new(MemFs::new()));
        fs.create_dir(Path::new("/b")).unwrap();
        // The first attempt's rename fails as if a leftover removal had
        // taken `LOCK.new` first.
        let not_found = crate::fs::FaultKind::Errno(rustix::io::Errno::NOENT.raw_os_error());
        fs.add_rule(crate::fs::FaultRule::NthOfKind { op: crate::fs::OpKind::Rename, nth: 0, kind: not_found });
        let (staging, _held) = create_staging(&fs, Path::new("/b/t")).unwrap();
        let names: Vec<_> = fs.read_dir(Path::new("/b")).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, [staging.file_name().unwrap()], "the first attempt's directory is gone");
    }

    #[test]
    fn parents_created_are_reported() {
        let fs = MemFs::new();
        let made = create_dir_all_durably(&fs, Path::new("/a/b/c")).unwrap();
        assert_eq!(made, [Path::new("/a"), Path::new("/a/b"), Path::new("/a/b/c")]);
        assert!(create_dir_all_durably(&fs, Path::new("/a/b")).unwrap().is_empty());
        assert!(fs.crash_copy().exists(Path::new("/a/b/c")).unwrap(), "new parents are durable");
    }
}
