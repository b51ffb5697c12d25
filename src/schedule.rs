//! A job run on a schedule by a background thread ([`Scheduled`]), shared
//! by scheduled checkpoints ([`Db::schedule_checkpoints`](crate::Db::schedule_checkpoints))
//! and scheduled backups
//! ([`BackupEngine::schedule`](crate::backup::BackupEngine::schedule)).
//!
//! Every `interval` the thread runs one tick. A tick that fails is logged
//! and reported through the handle, and the next tick retries; nothing in
//! the thread panics on an error. Dropping the handle stops the thread
//! (after the tick under way, if one is).

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::sync::MutexExt;
use crate::{Error, Result};

/// What one tick did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tick<T> {
    /// It made something.
    Made(T),
    /// Nothing was written since the last one: nothing to do.
    Skipped,
    /// The thing the job works on is gone (the database closed): stop.
    Finished,
}

/// What a schedule has done so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleStats<T> {
    /// Ticks that made something.
    pub made: u64,
    /// Ticks skipped because nothing was written since the last one.
    pub skipped: u64,
    /// Ticks that failed (each retried at the next tick).
    pub failures: u64,
    /// What the newest successful tick made.
    pub last: Option<T>,
    /// The newest failure, until a tick succeeds again.
    pub last_error: Option<String>,
    /// True once the thread stopped (dropped, or the database closed).
    pub stopped: bool,
}

impl<T> Default for ScheduleStats<T> {
    fn default() -> Self {
        ScheduleStats { made: 0, skipped: 0, failures: 0, last: None, last_error: None, stopped: false }
    }
}

#[derive(Debug)]
struct State<T> {
    stats: ScheduleStats<T>,
    stop: bool,
    /// Ticks run (made, skipped or failed): waiters watch it.
    ticks: u64,
    run_now: bool,
}

#[derive(Debug)]
struct Shared<T> {
    state: Mutex<State<T>>,
    wake: Condvar,
    ticked: Condvar,
}

/// A running schedule; stops when dropped.
#[derive(Debug)]
pub(crate) struct Scheduled<T: Send + 'static> {
    shared: Arc<Shared<T>>,
    thread: Option<JoinHandle<()>>,
}

impl<T: Clone + Send + 'static> Scheduled<T> {
    /// Starts a thread named `name` running `tick` every `interval`.
    pub(crate) fn start(
        name: &str,
        interval: Duration,
        mut tick: impl FnMut() -> Result<Tick<T>> + Send + 'static,
    ) -> Result<Scheduled<T>> {
        if interval.is_zero() {
            return Err(Error::invalid("a schedule's interval must be more than zero"));
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State { stats: ScheduleStats::default(), stop: false, ticks: 0, run_now: false }),
            wake: Condvar::new(),
            ticked: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        let what = name.to_string();
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let shared = thread_shared;
                let mut next = Instant::now() + interval;
                loop {
                    {
                        let mut state = shared.state.locked();
                        while !state.stop && !state.run_now && Instant::now() < next {
                            let wait = next.saturating_duration_since(Instant::now());
                            state = shared.wake.wait_timeout(state, wait).unwrap_or_else(|p| p.into_inner()).0;
                        }
                        if state.stop {
                            break;
                        }
                        state.run_now = false;
                    }
                    next = Instant::now() + interval;
                    let outcome = tick();
                    let mut state = shared.state.locked();
                    state.ticks += 1;
                    let finished = match outcome {
                        Ok(Tick::Made(made)) => {
                            state.stats.made += 1;
                            state.stats.last = Some(made);
                            state.stats.last_error = None;
                            false
                        }
                        Ok(Tick::Skipped) => {
                            state.stats.skipped += 1;
                            false
                        }
                        Ok(Tick::Finished) => {
                            state.stats.stopped = true;
                            true
                        }
                        Err(e) => {
                            log::warn!("{what}: a scheduled tick failed (the next one retries): {e}");
                            state.stats.failures += 1;
                            state.stats.last_error = Some(e.to_string());
                            false
                        }
                    };
                    drop(state);
                    shared.ticked.notify_all();
                    if finished {
                        break;
                    }
                }
                shared.state.locked().stats.stopped = true;
                shared.ticked.notify_all();
            })
            .map_err(|e| Error::io("start a schedule thread", name, e))?;
        Ok(Scheduled { shared, thread: Some(thread) })
    }

    /// What it has done so far.
    pub(crate) fn stats(&self) -> ScheduleStats<T> {
        self.shared.state.locked().stats.clone()
    }

    /// Runs a tick now and waits for it; returns the stats after it.
    pub(crate) fn run_now(&self) -> ScheduleStats<T> {
        let mut state = self.shared.state.locked();
        let ticks = state.ticks;
        state.run_now = true;
        self.shared.wake.notify_all();
        while state.ticks == ticks && !state.stats.stopped {
            state = self.shared.ticked.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.stats.clone()
    }
}

impl<T: Send + 'static> Drop for Scheduled<T> {
    fn drop(&mut self) {
        self.shared.state.locked().stop = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
