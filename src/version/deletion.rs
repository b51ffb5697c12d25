//! Deleting obsolete files, and pausing that while checkpoints and backups
//! link files.
//!
//! A file that leaves the current version is marked obsolete; it is deleted
//! when the last live version holding it is dropped (readers keep versions
//! alive). While any [`DeletionPause`] lives, deletions are queued instead,
//! and the queue drains when the last pause ends. Writers never wait.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::fs::Fs;
use crate::sync::MutexExt;

/// Deletes obsolete files, or queues them while paused.
#[derive(Debug)]
pub struct Deleter {
    fs: Arc<dyn Fs>,
    /// A read-only database never deletes anything.
    enabled: bool,
    state: Mutex<DeleterState>,
    deleted: AtomicU64,
}

#[derive(Debug, Default)]
struct DeleterState {
    pauses: usize,
    queued: Vec<PathBuf>,
}

impl Deleter {
    /// A deleter removing files through `fs`; with `enabled` false it never
    /// removes anything (read-only databases).
    pub fn new(fs: Arc<dyn Fs>, enabled: bool) -> Arc<Deleter> {
        Arc::new(Deleter { fs, enabled, state: Mutex::default(), deleted: AtomicU64::new(0) })
    }

    /// Pauses deletions until the returned guard (and every other) drops.
    pub fn pause(self: &Arc<Self>) -> DeletionPause {
        self.state().pauses += 1;
        DeletionPause { deleter: Arc::clone(self) }
    }

    /// True while at least one pause is alive.
    pub fn is_paused(&self) -> bool {
        self.state().pauses > 0
    }

    /// Runs `f` unless deletions are paused, and returns its result; a
    /// pause that starts meanwhile waits for `f` to finish. For deletions
    /// that do not go through [`Deleter::delete`] (log segments).
    pub fn unless_paused<T>(&self, f: impl FnOnce() -> T) -> Option<T> {
        let state = self.state();
        if !self.enabled || state.pauses > 0 {
            return None;
        }
        let out = f();
        drop(state);
        Some(out)
    }

    /// Files waiting for the pause to end.
    pub fn queued_count(&self) -> usize {
        self.state().queued.len()
    }

    /// Files deleted so far.
    pub fn deleted_count(&self) -> u64 {
        self.deleted.load(Ordering::Relaxed)
    }

    /// Deletes `path` now, or when the last pause ends.
    pub fn delete(&self, path: PathBuf) {
        if !self.enabled {
            return;
        }
        {
            let mut state = self.state();
            if state.pauses > 0 {
                state.queued.push(path);
                return;
            }
        }
        self.remove(&path);
    }

    fn remove(&self, path: &std::path::Path) {
        match self.fs.remove_file(path) {
            Ok(()) => {
                self.deleted.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if e.is_not_found() => {}
            // The file stays behind as an orphan; the next open removes it.
            Err(e) => log::warn!("could not delete obsolete file: {e}"),
        }
    }

    fn state(&self) -> MutexGuard<'_, DeleterState> {
        self.state.locked()
    }
}

/// While alive, obsolete files are queued rather than deleted.
#[derive(Debug)]
#[must_use = "deletions resume as soon as the pause is dropped"]
pub struct DeletionPause {
    deleter: Arc<Deleter>,
}

impl Drop for DeletionPause {
    fn drop(&mut self) {
        let queued = {
            let mut state = self.deleter.state();
            state.pauses -= 1;
            if state.pauses > 0 {
                return;
            }
            std::mem::take(&mut state.queued)
        };
        for path in queued {
            self.deleter.remove(&path);
        }
    }
}

/// Ties a file's deletion to the lifetime of the versions holding it.
#[derive(Debug)]
pub(crate) struct FileLease {
    target: Option<(PathBuf, Arc<Deleter>)>,
    obsolete: AtomicBool,
}

impl FileLease {
    /// A lease that deletes `path` through `deleter` once obsolete and dropped.
    pub(crate) fn new(path: PathBuf, deleter: Arc<Deleter>) -> FileLease {
        FileLease { target: Some((path, deleter)), obsolete: AtomicBool::new(false) }
    }

    /// A lease with no file behind it.
    pub(crate) fn detached() -> FileLease {
        FileLease { target: None, obsolete: AtomicBool::new(false) }
    }

    /// The file has left the current version: delete it when dropped.
    pub(crate) fn mark_obsolete(&self) {
        self.obsolete.store(true, Ordering::Release);
    }
}

impl Drop for FileLease {
    fn drop(&mut self) {
        if self.obsolete.load(Ordering::Acquire)
            && let Some((path, deleter)) = self.target.take()
        {
            deleter.delete(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::fs::{MemFs, OpenOptions};

    fn setup() -> (MemFs, Arc<Deleter>) {
        let fs = MemFs::new();
        for name in ["/a", "/b"] {
            fs.open(Path::new(name), OpenOptions::create_new()).unwrap();
        }
        let deleter = Deleter::new(Arc::new(fs.clone()), true);
        (fs, deleter)
    }

    #[test]
    fn pause_queues_until_the_last_guard_drops() {
        let (fs, deleter) = setup();
        let first = deleter.pause();
        let second = deleter.pause();
        deleter.delete(PathBuf::from("/a"));
        assert!(fs.exists(Path::new("/a")).unwrap(), "paused: not deleted");
        assert_eq!(deleter.queued_count(), 1);
        drop(first);
        assert!(fs.exists(Path::new("/a")).unwrap(), "one pause still alive");
        drop(second);
        assert!(!fs.exists(Path::new("/a")).unwrap(), "queue drained");
        deleter.delete(PathBuf::from("/b"));
        assert!(!fs.exists(Path::new("/b")).unwrap(), "unpaused: deleted at once");
        assert_eq!(deleter.deleted_count(), 2);
    }

    #[test]
    fn lease_deletes_only_when_obsolete_and_dropped() {
        let (fs, deleter) = setup();
        drop(FileLease::new(PathBuf::from("/a"), Arc::clone(&deleter)));
        assert!(fs.exists(Path::new("/a")).unwrap(), "live file kept");
        let lease = FileLease::new(PathBuf::from("/a"), Arc::clone(&deleter));
        lease.mark_obsolete();
        assert!(fs.exists(Path::new("/a")).unwrap(), "held: kept");
        drop(lease);
        assert!(!fs.exists(Path::new("/a")).unwrap());
    }

    #[test]
    fn disabled_deleter_never_deletes() {
        let (fs, _) = setup();
        let read_only = Deleter::new(Arc::new(fs.clone()), false);
        read_only.delete(PathBuf::from("/a"));
        assert!(fs.exists(Path::new("/a")).unwrap());
    }
}
