//! Locks that ignore poisoning, in one place. No code path panics while
//! holding a lock, so a lock a panicking thread left poisoned still guards
//! a consistent state: taking it anyway is right, and saying so once here
//! beats saying it at every call.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

/// [`Mutex::lock`], poisoned or not.
pub(crate) trait MutexExt<T> {
    fn locked(&self) -> MutexGuard<'_, T>;
}

impl<T> MutexExt<T> for Mutex<T> {
    fn locked(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// [`RwLock::read`] and [`RwLock::write`], poisoned or not.
pub(crate) trait RwLockExt<T> {
    fn read_locked(&self) -> RwLockReadGuard<'_, T>;
    fn write_locked(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T> RwLockExt<T> for RwLock<T> {
    fn read_locked(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_locked(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// [`Condvar::wait_timeout`], poisoned or not; returns the guard.
pub(crate) trait CondvarExt {
    fn wait_locked<'a, T>(&self, guard: MutexGuard<'a, T>, timeout: Duration) -> MutexGuard<'a, T>;
}

impl CondvarExt for Condvar {
    fn wait_locked<'a, T>(&self, guard: MutexGuard<'a, T>, timeout: Duration) -> MutexGuard<'a, T> {
        self.wait_timeout(guard, timeout).unwrap_or_else(PoisonError::into_inner).0
    }
}

/// Lowers the calling thread's scheduling priority to `nice` (0 to 19,
/// higher yields more; Linux's per-thread nice value), so background work
/// takes the CPU the threads writers wait on leave over. Best effort: where
/// the system refuses, the thread runs at its old priority, and says so.
pub(crate) fn set_thread_nice(nice: u8) {
    if nice == 0 {
        return;
    }
    let nice = i32::from(nice.min(19));
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), nice) {
        log::debug!("could not set the nice value of this thread to {nice}: {e}");
    }
}
