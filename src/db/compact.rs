//! Compaction: running what the policy (`crate::compaction`) picks —
//! merging the input tables, moving live values out of collected blob
//! files, and installing the result (`docs/DESIGN.md`, "Compaction").

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::flush::{install_output, new_output};
use super::inner::Inner;
use super::level_iter::{LevelIter, OpenSource};
use super::merge::{Forward, MergeIter, Source};
use crate::Result;
use crate::compaction::{CompactionTask, Retention, dead_blob_files, full, pick};
use crate::table::ValueKind;
use crate::version::{BlobFileInfo, TableFile, TableInfo, Version, VersionEdit};

/// Picks and runs one due compaction. Returns false when none is due.
pub(crate) fn compact_once(inner: &Inner) -> Result<bool> {
    let version = inner.current_version();
    let options = inner.config.compaction_options();
    let Some(task) = inner.work.claim(|busy| pick(&version, &options, busy), CompactionTask::input_ids) else {
        return Ok(false);
    };
    let result = run(inner, &version, &task);
    inner.work.release(&task.input_ids());
    result.map(|()| true)
}

/// Compacts everything into one sorted run, then runs every compaction
/// that became due (such as blob-file collection). Background picking
/// waits meanwhile.
pub(crate) fn compact_everything(inner: &Inner) -> Result<()> {
    inner.work.set_manual(true);
    inner.work.wait_until_idle();
    let version = inner.current_version();
    let result = match full(&version, &inner.config.compaction_options()) {
        Some(task) => run(inner, &version, &task),
        None => Ok(()),
    };
    inner.work.set_manual(false);
    result?;
    // Dropping dead versions can leave blob files mostly dead: collect
    // them (and finish anything else now due) before returning.
    while compact_once(inner)? {}
    Ok(())
}

/// Runs a compaction; a failure poisons the database unless
/// [`poisons`](super::inner::poisons) lets it go (see
/// [`flush_oldest_locked`](super::flush::flush_oldest_locked)).
/// `version` is the one `task` was picked from: it holds every blob file
/// the inputs reference.
fn run(inner: &Inner, version: &Version, task: &CompactionTask) -> Result<()> {
    inner.check_writable()?;
    merge_tables(inner, version, task).inspect_err(|e| inner.job_failed("a compaction", e))
}

/// The inputs as merge sources: each level-0 table on its own, and the
/// tables of each deeper level one after the other, opened as the merge
/// reaches them ([`LevelIter`]).
fn input_sources(inner: &Inner, task: &CompactionTask) -> Vec<Source> {
    let mut levels: BTreeMap<usize, Vec<Arc<TableFile>>> = BTreeMap::new();
    let mut sources: Vec<Source> = Vec::new();
    let whole = || -> OpenSource { Box::new(|table| Box::new(table.iter())) };
    for (level, file) in &task.inputs {
        if *level == 0 {
            sources.push(Box::new(LevelIter::new(&inner.readers, vec![Arc::clone(file)], whole())));
        } else {
            levels.entry(*level).or_default().push(Arc::clone(file));
        }
    }
    for (_, mut files) in levels {
        files.sort_by(|a, b| a.info.smallest_key.cmp(&b.info.smallest_key));
        sources.push(Box::new(LevelIter::new(&inner.readers, files, whole())));
    }
    sources
}

fn merge_tables(inner: &Inner, version: &Version, task: &CompactionTask) -> Result<()> {
    let sources = input_sources(inner, task);
    let retention = Retention::new(inner.hlog.live_snapshots(), task.bottommost);
    let mut output = new_output(inner);
    // Values of collected blob files are read inline, so the output moves
    // them to new blob files.
    let entries = MergeIter::<Forward>::new(sources).map(|entry| {
        let mut entry = entry?;
        if let Some(reference) = entry.blob_ref().filter(|r| task.blob_gc.contains(&r.file)) {
            entry.value = inner.blob_file(version, reference.file)?.read_value(&reference, &entry.key)?;
            entry.kind = ValueKind::Value;
        }
        Ok(entry)
    });
    output.add_sorted(&retention, entries)?;
    let (tables, blobs) = output.finish()?;
    install(inner, task, tables, blobs)
}

fn install(inner: &Inner, task: &CompactionTask, tables: Vec<TableInfo>, blobs: Vec<BlobFileInfo>) -> Result<()> {
    let bytes_read: u64 = task.inputs.iter().map(|(_, t)| t.info.size_bytes).sum();
    let bytes_written: u64 = tables.iter().map(|t| t.size_bytes).chain(blobs.iter().map(|b| b.size_bytes)).sum();
    let remove_blobs = dead_blob_files(&inner.versions.current(), task, &tables);
    let edit = VersionEdit {
        add_tables: tables.into_iter().map(|t| (task.output_level, t)).collect(),
        remove_tables: task.input_ids(),
        add_blobs: blobs,
        remove_blobs,
        ..VersionEdit::default()
    };
    let version = install_output(inner, &edit)?;
    inner.publish(&version);
    inner.counters.compactions.fetch_add(1, Ordering::Relaxed);
    inner.counters.compaction_bytes_read.fetch_add(bytes_read, Ordering::Relaxed);
    inner.counters.compaction_bytes_written.fetch_add(bytes_written, Ordering::Relaxed);
    Ok(())
}
