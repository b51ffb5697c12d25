//! Background work: the flusher and compactor threads, write-stall waits,
//! and running compactions.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Inner;
use super::inner::write_group;
use super::merge::{Forward, MergeIter, Source};
use crate::compaction::{CompactionOptions, CompactionTask, Retention, full, pick};
use crate::sync::{CondvarExt, MutexExt};
use crate::table::ValueKind;
use crate::version::{Version, VersionEdit};
use crate::{BlobFileId, Result, SeqNo, TableId};

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

    /// Blocks until no compaction is running.
    fn wait_until_idle(&self) {
        let mut state = self.state();
        while !state.shutdown && !state.busy.is_empty() {
            state = self.changed.wait_locked(state, Duration::from_millis(100));
        }
    }

    fn is_shutdown(&self) -> bool {
        self.state().shutdown
    }

    fn wait_for_change(&self, timeout: Duration) -> bool {
        let state = self.state();
        if state.shutdown {
            return false;
        }
        let state = self.changed.wait_locked(state, timeout);
        !state.shutdown
    }

    /// Sleeps for `timeout` unless the database shuts down first; returns
    /// false on shutdown.
    fn sleep(&self, timeout: Duration) -> bool {
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

    fn shutdown(&self) {
        self.state().shutdown = true;
        self.changed.notify_all();
    }
}

/// The background threads of one open database; dropping this stops and
/// joins them, then persists what was written.
#[derive(Debug)]
pub(crate) struct Workers {
    inner: Arc<Inner>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts the flusher, the compactor and the persister (unless
    /// read-only or disabled).
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
        Ok(Workers { inner: Arc::clone(inner), threads })
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

/// Flushes frozen memtables as they appear.
fn flusher(inner: &Inner) {
    while !inner.work.is_shutdown() {
        while inner.poison_cause().is_none() {
            match inner.flush_oldest() {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => inner.set_poison(&e),
            }
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
            inner.set_poison(&e);
        }
    }
}

/// Runs compactions while any is due.
fn compactor(inner: &Inner) {
    loop {
        while inner.poison_cause().is_none() && !inner.work.state().manual {
            match inner.compact_once() {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => inner.set_poison(&e),
            }
        }
        if !inner.work.wait_for_change(Duration::from_millis(200)) {
            return;
        }
    }
}

impl Inner {
    fn compaction_options(&self) -> CompactionOptions {
        CompactionOptions {
            level0_trigger: self.config.level0_trigger,
            // About `level0_trigger` half-full tables.
            level0_trigger_bytes: self.config.level0_trigger as u64 * self.config.table_target_bytes / 2,
            level1_target_bytes: self.config.level1_target_bytes,
            ..CompactionOptions::default()
        }
    }

    /// Picks and runs one due compaction. Returns false when none is due.
    pub(crate) fn compact_once(&self) -> Result<bool> {
        let version = self.current_version();
        let task = {
            let mut state = self.work.state();
            let Some(task) = pick(&version, &self.compaction_options(), &state.busy) else {
                return Ok(false);
            };
            state.busy.extend(task.input_ids());
            task
        };
        let result = self.run_compaction(&version, &task);
        let mut state = self.work.state();
        for id in task.input_ids() {
            state.busy.remove(&id);
        }
        drop(state);
        self.work.notify_all();
        result.map(|()| true)
    }

    /// Flushes, compacts everything into one sorted run, then runs every
    /// compaction that became due (such as blob-file collection).
    pub(crate) fn compact_full(&self) -> Result<()> {
        self.flush()?;
        self.work.state().manual = true;
        self.work.wait_until_idle();
        let version = self.current_version();
        let result = match full(&version, &self.compaction_options()) {
            Some(task) => self.run_compaction(&version, &task),
            None => Ok(()),
        };
        self.work.state().manual = false;
        self.work.notify_all();
        result?;
        // Dropping dead versions can leave blob files mostly dead: collect
        // them (and finish anything else now due) before returning.
        while self.compact_once()? {}
        Ok(())
    }

    /// Runs a compaction; a failure poisons the database (see
    /// [`Inner::flush_oldest_locked`]).
    /// `version` is the one `task` was picked from: it holds every blob file
    /// the inputs reference.
    fn run_compaction(&self, version: &Version, task: &CompactionTask) -> Result<()> {
        self.check_writable()?;
        self.merge_tables(version, task).inspect_err(|e| self.set_poison(e))
    }

    fn merge_tables(&self, version: &Version, task: &CompactionTask) -> Result<()> {
        let mut sources: Vec<Source> = Vec::with_capacity(task.inputs.len());
        for (_, file) in &task.inputs {
            sources.push(Box::new(self.table(file)?.iter()));
        }
        let retention = Retention::new(self.hlog.live_snapshots(), task.bottommost);
        let mut output = self.output();
        let mut group: Vec<(SeqNo, ValueKind, Vec<u8>)> = Vec::new();
        let mut key: Vec<u8> = Vec::new();
        for entry in MergeIter::<Forward>::new(sources) {
            let mut entry = entry?;
            if entry.key != key && !group.is_empty() {
                write_group(&mut output, &retention, &key, &mut group)?;
            }
            if entry.key != key {
                key.clone_from(&entry.key);
            }
            if let Some(reference) = entry.blob_ref().filter(|r| task.blob_gc.contains(&r.file)) {
                entry.value = self.blob_file(version, reference.file)?.read_value(&reference, &entry.key)?;
                entry.kind = ValueKind::Value;
            }
            group.push((entry.seqno, entry.kind, entry.value));
        }
        if !group.is_empty() {
            write_group(&mut output, &retention, &key, &mut group)?;
        }
        let (tables, blobs) = output.finish()?;
        self.install_compaction(task, tables, blobs)
    }

    fn install_compaction(
        &self,
        task: &CompactionTask,
        tables: Vec<crate::version::TableInfo>,
        blobs: Vec<crate::version::BlobFileInfo>,
    ) -> Result<()> {
        let inputs = task.input_ids();
        let bytes_read: u64 = task.inputs.iter().map(|(_, t)| t.info.size_bytes).sum();
        let bytes_written: u64 = tables.iter().map(|t| t.size_bytes).chain(blobs.iter().map(|b| b.size_bytes)).sum();
        let candidates: BTreeSet<BlobFileId> = task
            .inputs
            .iter()
            .flat_map(|(_, t)| t.info.blob_refs.iter().map(|(b, _)| *b))
            .chain(task.blob_gc.iter().copied())
            .collect();
        let current = self.versions.current();
        let still_referenced: BTreeSet<BlobFileId> = current
            .tables()
            .filter(|(_, t)| !inputs.contains(&t.info.id))
            .flat_map(|(_, t)| t.info.blob_refs.iter().map(|(b, _)| *b))
            .chain(tables.iter().flat_map(|t| t.blob_refs.iter().map(|(b, _)| *b)))
            .collect();
        let remove_blobs: Vec<BlobFileId> = candidates
            .into_iter()
            .filter(|b| !still_referenced.contains(b) && current.blob_files.contains_key(b))
            .collect();
        let edit = VersionEdit {
            add_tables: tables.into_iter().map(|t| (task.output_level, t)).collect(),
            remove_tables: inputs,
            add_blobs: blobs,
            remove_blobs,
            ..VersionEdit::default()
        };
        let version = self.versions.install(&edit)?;
        self.publish(&version);
        self.counters.compactions.fetch_add(1, Ordering::Relaxed);
        self.counters.compaction_bytes_read.fetch_add(bytes_read, Ordering::Relaxed);
        self.counters.compaction_bytes_written.fetch_add(bytes_written, Ordering::Relaxed);
        Ok(())
    }
}
