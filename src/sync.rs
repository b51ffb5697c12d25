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

/// The calling thread's scheduling priority, lowered by a nice value
/// while its work can wait and restored while it is behind (Linux's
/// per-thread nice value, best effort).
///
/// Background work that must keep up within a bound (the log archive)
/// takes only the CPU the threads writers wait on leave over while it is
/// within that bound, and competes as their equal once it is past it: its
/// total work is the same either way, but it is done in the gaps when it
/// can be. Raising a priority again needs `CAP_SYS_NICE` or an
/// `RLIMIT_NICE` that allows it; where the system refuses (probed once, on
/// a throwaway thread, so no thread is left stuck low), the thread keeps
/// its normal priority throughout: it never risks falling behind.
pub(crate) struct ThreadPriority {
    /// The thread's priority when it started: its normal one.
    normal: i32,
    /// The lowered priority, or `None` when it cannot be lowered and raised again.
    lowered: Option<i32>,
    /// Whether the thread runs at `lowered` now.
    low: bool,
}

impl ThreadPriority {
    /// The calling thread's priority, which [`ThreadPriority::set_behind`]
    /// lowers by `nice` (0 to 19) while the thread is not behind.
    pub(crate) fn new(nice: u8) -> ThreadPriority {
        let normal = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(0);
        let wanted = (normal + i32::from(nice.min(19))).min(19);
        let lowered = (wanted > normal && Self::can_lower_and_raise(normal, wanted)).then_some(wanted);
        if nice > 0 && lowered.is_none() {
            log::info!(
                "this thread keeps its normal priority: the system does not let a thread raise its priority again                  (CAP_SYS_NICE or RLIMIT_NICE), and a lowered one could fall behind for good"
            );
        }
        ThreadPriority { normal, lowered, low: false }
    }

    /// Lowers (not `behind`) or restores (`behind`) the priority, where it
    /// changes and can be changed.
    pub(crate) fn set_behind(&mut self, behind: bool) {
        let Some(lowered) = self.lowered else { return };
        if self.low != behind {
            return;
        }
        let nice = if behind { self.normal } else { lowered };
        match rustix::process::setpriority_process(Some(rustix::thread::gettid()), nice) {
            Ok(()) => self.low = !behind,
            Err(e) => {
                log::warn!("could not set the nice value of this thread to {nice} ({e}): it keeps its normal priority");
                let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), self.normal);
                self.lowered = None;
                self.low = false;
            }
        }
    }

    /// Whether a thread may go from `normal` to `lowered` and back, tried
    /// on a thread of its own.
    fn can_lower_and_raise(normal: i32, lowered: i32) -> bool {
        std::thread::spawn(move || {
            let me = Some(rustix::thread::gettid());
            rustix::process::setpriority_process(me, lowered).is_ok()
                && rustix::process::setpriority_process(me, normal).is_ok()
        })
        .join()
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::ThreadPriority;

    fn nice_now() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("getpriority")
    }

    #[test]
    fn a_thread_is_lowered_while_it_can_wait_and_restored_when_behind() {
        std::thread::spawn(|| {
            let normal = nice_now();
            let mut priority = ThreadPriority::new(10);
            assert_eq!(nice_now(), normal, "nothing changes before it is told");
            priority.set_behind(false);
            match priority.lowered {
                Some(lowered) => {
                    assert_eq!(nice_now(), lowered);
                    assert_eq!(lowered, (normal + 10).min(19));
                    priority.set_behind(true);
                    assert_eq!(nice_now(), normal, "behind: its normal priority again");
                    priority.set_behind(false);
                    assert_eq!(nice_now(), lowered);
                }
                // Unprivileged: it must never be left low.
                None => assert_eq!(nice_now(), normal),
            }
        })
        .join()
        .expect("the thread");
    }

    #[test]
    fn nice_zero_changes_nothing() {
        std::thread::spawn(|| {
            let normal = nice_now();
            let mut priority = ThreadPriority::new(0);
            priority.set_behind(false);
            assert_eq!(nice_now(), normal);
            assert!(priority.lowered.is_none());
        })
        .join()
        .expect("the thread");
    }
}
