//! Who runs flushes and compactions: the `cairn-flush`, `cairn-compact` and
//! `cairn-persist` threads, or — with `background_threads(false)` — the
//! caller, inline, once a freeze makes them due.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::compact::{compact_everything, compact_once};
use super::flush::flush_oldest;
use super::inner::Inner;
use crate::Result;

/// The background threads of one open database; dropping this stops and
/// joins them, then persists what was written.
#[derive(Debug)]
pub(crate) struct Workers {
    inner: Arc<Inner>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts the flusher, the compactor and the persister (unless
    /// read-only or disabled), and gets a memtable the open froze flushed.
    pub(crate) fn start(inner: &Arc<Inner>) -> Result<Workers> {
        let mut threads = Vec::new();
        if inner.config.background_threads && !inner.config.read_only {
            let spawn = |name: &str, body: fn(&Inner)| {
                let inner = Arc::clone(inner);
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn(move || body(&inner))
                    .map_err(|e| crate::Error::io("spawn thread", name, e))
            };
            threads.push(spawn("cairn-flush", flusher)?);
            if inner.config.background_persist_interval.is_some() {
                threads.push(spawn("cairn-persist", persister)?);
            }
            threads.push(spawn("cairn-compact", compactor)?);
            inner.work.notify_all();
        }
        // Only a writable open's freeze (of a log past its budget) leaves
        // frozen memtables behind. Inline, a failure poisons: no threads
        // to stop, and nothing to persist.
        if !inner.memtables().frozen.is_empty() {
            after_freeze(inner)?;
        }
        Ok(Workers { inner: Arc::clone(inner), threads })
    }

    /// A memtable was frozen (see [`after_freeze`]).
    pub(crate) fn frozen(&self) -> Result<()> {
        after_freeze(&self.inner)
    }

    /// Freezes and flushes everything written so far.
    pub(crate) fn flush(&self) -> Result<()> {
        self.inner.check_writable()?;
        if self.inner.freeze_now(true).is_some() {
            self.frozen()?;
        }
        while flush_oldest(&self.inner)? {}
        Ok(())
    }

    /// Runs in the caller every flush and compaction that is due, and waits
    /// for those the background threads run, until none is due and none
    /// runs (see [`Db::wait_for_compactions`](super::Db::wait_for_compactions)).
    pub(crate) fn wait_for_compactions(&self) -> Result<()> {
        let inner = &self.inner;
        if inner.config.read_only {
            return Ok(());
        }
        loop {
            inner.check_writable()?;
            while flush_oldest(inner)? {}
            if compact_once(inner)? {
                continue;
            }
            // Nothing this caller could pick: done if nothing runs either
            // (a job picked after the look-up became due after it) and no
            // memtable froze meanwhile.
            if inner.work.is_idle() && inner.memtables().frozen.is_empty() {
                return Ok(());
            }
            inner.work.wait_until_idle();
        }
    }

    /// Flushes, then compacts everything into one sorted run and runs
    /// every compaction that became due.
    pub(crate) fn compact_full(&self) -> Result<()> {
        self.flush()?;
        compact_everything(&self.inner)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.inner.work.shutdown();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        if !self.inner.config.read_only
            && self.inner.poison_cause().is_none()
            && let Err(e) = self.inner.hlog.persist()
        {
            log::warn!("persist at close failed: {e}");
        }
    }
}

/// A memtable was frozen: wake the flusher, or, without background
/// threads, flush and then compact while anything is due.
fn after_freeze(inner: &Inner) -> Result<()> {
    if inner.config.background_threads {
        inner.work.notify_all();
    } else {
        while flush_oldest(inner)? {}
        while compact_once(inner)? {}
    }
    Ok(())
}

/// How long a background job that failed without poisoning the database
/// (it ran out of file descriptors) waits before it tries again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Flushes frozen memtables as they appear.
fn flusher(inner: &Inner) {
    while !inner.work.is_shutdown() {
        let mut failed = false;
        while inner.poison_cause().is_none() {
            match flush_oldest(inner) {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    inner.job_failed("a flush", &e);
                    failed = true;
                    break;
                }
            }
        }
        if failed && !inner.work.sleep(RETRY_PAUSE) {
            return;
        }
        let flushable = inner.poison_cause().is_none() && !inner.memtables().frozen.is_empty();
        if !flushable && !inner.work.wait_for_change(Duration::from_millis(100)) {
            return;
        }
    }
}

/// Persists the log on an interval, on its own thread: a flush (seconds for
/// a large memtable) never widens the window a crash can lose.
fn persister(inner: &Inner) {
    let Some(interval) = inner.config.background_persist_interval else { return };
    while inner.work.sleep(interval) {
        if inner.poison_cause().is_none()
            && let Err(e) = inner.hlog.persist()
        {
            // The log poisoned itself (whatever the error): the database
            // is poisoned with it, said once.
            inner.latch_poison(e.to_string());
        }
    }
}

/// Runs compactions while any is due.
fn compactor(inner: &Inner) {
    loop {
        let mut failed = false;
        while inner.poison_cause().is_none() && !inner.work.is_manual() {
            match compact_once(inner) {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    inner.job_failed("a compaction", &e);
                    failed = true;
                    break;
                }
            }
        }
        let wait =
            if failed { inner.work.sleep(RETRY_PAUSE) } else { inner.work.wait_for_change(Duration::from_millis(200)) };
        if !wait {
            return;
        }
    }
}
