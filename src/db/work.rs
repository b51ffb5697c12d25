//! Scheduling state: the condition variable writers, readers and the
//! background threads wait on, the tables compactions hold, and the flush
//! lock. It knows nothing of what the work is (`flush.rs`, `compact.rs`) or
//! who runs it (`workers.rs`).

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::TableId;
use crate::sync::{CondvarExt, MutexExt};

#[derive(Debug, Default)]
struct WorkState {
    shutdown: bool,
    /// Tables being compacted.
    busy: BTreeSet<TableId>,
    /// A manual full compaction holds off background picking.
    manual: bool,
}

/// Coordination between writers, readers and the background threads.
#[derive(Debug, Default)]
pub(crate) struct Work {
    state: Mutex<WorkState>,
    changed: Condvar,
    flush: Mutex<()>,
}

impl Work {
    fn state(&self) -> MutexGuard<'_, WorkState> {
        self.state.locked()
    }

    /// Wakes every waiter: something changed.
    pub(crate) fn notify_all(&self) {
        let _state = self.state();
        self.changed.notify_all();
    }

    /// Serialises flushes, so memtables reach tables in freeze order.
    pub(crate) fn flush_lock(&self) -> MutexGuard<'_, ()> {
        self.flush.locked()
    }

    /// Blocks while `condition` holds and the database is running; rechecks
    /// whenever something changes (and at least every 100 ms).
    pub(crate) fn wait_while(&self, condition: impl Fn() -> bool) {
        let mut state = self.state();
        while !state.shutdown && condition() {
            state = self.changed.wait_locked(state, Duration::from_millis(100));
        }
    }

    /// Picks work with `pick`, which sees the tables already being
    /// compacted, and marks the tables `tables` names busy, in one step.
    pub(crate) fn claim<T>(
        &self,
        pick: impl FnOnce(&BTreeSet<TableId>) -> Option<T>,
        tables: impl FnOnce(&T) -> Vec<TableId>,
    ) -> Option<T> {
        let mut state = self.state();
        let claimed = pick(&state.busy)?;
        state.busy.extend(tables(&claimed));
        Some(claimed)
    }

    /// Marks `tables` free again (a claim is done) and wakes every waiter.
    pub(crate) fn release(&self, tables: &[TableId]) {
        let mut state = self.state();
        for id in tables {
            state.busy.remove(id);
        }
        drop(state);
        self.notify_all();
    }

    /// Blocks until no compaction is running.
    pub(crate) fn wait_until_idle(&self) {
        let mut state = self.state();
        while !state.shutdown && !state.busy.is_empty() {
            state = self.changed.wait_locked(state, Duration::from_millis(100));
        }
    }

    /// Whether no compaction is running now.
    pub(crate) fn is_idle(&self) -> bool {
        self.state().busy.is_empty()
    }

    /// Holds off (`true`) or lets go on (`false`) background compaction
    /// picking, for a manual full compaction; letting go wakes every waiter.
    pub(crate) fn set_manual(&self, manual: bool) {
        self.state().manual = manual;
        if !manual {
            self.notify_all();
        }
    }

    /// Whether a manual full compaction holds off background picking.
    pub(crate) fn is_manual(&self) -> bool {
        self.state().manual
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.state().shutdown
    }

    /// Waits for a change, at most `timeout`; returns false on shutdown.
    pub(crate) fn wait_for_change(&self, timeout: Duration) -> bool {
        let state = self.state();
        if state.shutdown {
            return false;
        }
        let state = self.changed.wait_locked(state, timeout);
        !state.shutdown
    }

    /// Sleeps for `timeout` unless the database shuts down first; returns
    /// false on shutdown.
    pub(crate) fn sleep(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        while !state.shutdown {
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            state = self.changed.wait_locked(state, deadline - now);
        }
        false
    }

    /// Stops every waiter for good.
    pub(crate) fn shutdown(&self) {
        self.state().shutdown = true;
        self.changed.notify_all();
    }
}
