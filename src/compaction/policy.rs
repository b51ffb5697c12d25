//! Leveled compaction policy: a pure function of a [`Version`].
//!
//! - Level 0 holds flushed tables, which may overlap. When it has
//!   `level0_trigger` tables, all of them merge with the overlapping level-1
//!   tables into level 1.
//! - Level `n >= 1` has a byte target `level1_target_bytes * ratio^(n-1)`.
//!   The level most over its target (by ratio) merges one table — the one
//!   overlapping the fewest bytes below, to keep write amplification low —
//!   with the overlapping tables of level `n + 1`.
//! - Blob files whose live fraction (bytes still referenced by tables over
//!   bytes stored) falls below `blob_gc_live_ratio` are collected: the tables
//!   referencing them are rewritten at their own level, moving the live
//!   values to new blob files.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::version::{TableFile, Version};
use crate::{BlobFileId, TableId};

/// Knobs of the leveled policy.
#[derive(Clone, Debug, PartialEq)]
pub struct CompactionOptions {
    /// Number of level-0 tables that triggers a level-0 compaction, once
    /// they also hold `level0_trigger_bytes`; three times as many trigger
    /// it whatever their size.
    pub level0_trigger: usize,
    /// Bytes level 0 must hold (with `level0_trigger` tables) before it is
    /// compacted, so that many small tables (from checkpoints, say) do not
    /// each cost a rewrite of level 1.
    pub level0_trigger_bytes: u64,
    /// Byte target of level 1.
    pub level1_target_bytes: u64,
    /// Growth of the byte target from one level to the next.
    pub level_size_ratio: u64,
    /// Blob files whose live fraction is below this are collected.
    pub blob_gc_live_ratio: f64,
}

impl Default for CompactionOptions {
    fn default() -> Self {
        CompactionOptions {
            level0_trigger: 4,
            level0_trigger_bytes: 0,
            level1_target_bytes: 64 << 20,
            level_size_ratio: 10,
            blob_gc_live_ratio: 0.5,
        }
    }
}

/// Why a task was picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskReason {
    /// Level 0 reached its table-count trigger.
    Level0Count,
    /// A level is over its byte target.
    LevelSize,
    /// Blob files fell below the live-ratio threshold.
    BlobGc,
    /// A manual full compaction.
    Manual,
}

/// One merge: the input tables and the level the output goes to.
#[derive(Clone, Debug)]
pub struct CompactionTask {
    /// Why.
    pub reason: TaskReason,
    /// Input tables, each with its level.
    pub inputs: Vec<(usize, Arc<TableFile>)>,
    /// Where the output tables go.
    pub output_level: usize,
    /// Whether no table below `output_level` can hold the keys, so
    /// tombstones and shadowed versions no snapshot needs can be dropped.
    pub bottommost: bool,
    /// Blob files whose live values must move to new blob files; the
    /// inputs are every table referencing them.
    pub blob_gc: Vec<BlobFileId>,
}

impl CompactionTask {
    /// Ids of the input tables.
    pub fn input_ids(&self) -> Vec<TableId> {
        self.inputs.iter().map(|(_, t)| t.info.id).collect()
    }
}

/// The most urgent compaction for `version`, if any is due. Tables in
/// `busy` (already being compacted) are never picked.
pub fn pick(version: &Version, options: &CompactionOptions, busy: &BTreeSet<TableId>) -> Option<CompactionTask> {
    let free = |tables: &[(usize, Arc<TableFile>)]| tables.iter().all(|(_, t)| !busy.contains(&t.info.id));
    if let Some(task) = pick_level0(version, options).filter(|task| free(&task.inputs)) {
        return Some(task);
    }
    if let Some(task) = pick_by_size(version, options, busy) {
        return Some(task);
    }
    pick_blob_gc(version, options).filter(|task| free(&task.inputs))
}

/// A full compaction: every table merged into one sorted run at the
/// deepest level in use, or deeper if that level's byte target is too small
/// for the data, collecting the blob files whose live fraction is below the
/// threshold.
pub fn full(version: &Version, options: &CompactionOptions) -> Option<CompactionTask> {
    let inputs: Vec<_> = version.tables().map(|(level, t)| (level, Arc::clone(t))).collect();
    if inputs.is_empty() {
        return None;
    }
    let deepest = inputs.iter().map(|(level, _)| *level).max().unwrap_or(0).max(1);
    let total: u64 = inputs.iter().map(|(_, t)| t.info.size_bytes).sum();
    let output_level = deepest.max(level_fitting(total, options));
    Some(CompactionTask {
        reason: TaskReason::Manual,
        inputs,
        output_level,
        bottommost: true,
        blob_gc: blob_victims(version, options),
    })
}

/// The shallowest level (from 1) whose byte target holds `bytes`, so a
/// full compaction leaves the levels above it empty and later level-0
/// compactions small.
fn level_fitting(bytes: u64, options: &CompactionOptions) -> usize {
    let mut target = options.level1_target_bytes.max(1);
    for level in 1..Version::LEVEL_COUNT - 1 {
        if bytes <= target {
            return level;
        }
        target = target.saturating_mul(options.level_size_ratio.max(2));
    }
    Version::LEVEL_COUNT - 1
}

/// Blob files whose live bytes (referenced by tables) are below
/// `blob_gc_live_ratio` of the bytes they store.
fn blob_victims(version: &Version, options: &CompactionOptions) -> Vec<BlobFileId> {
    let live = version.blob_live_bytes();
    version
        .blob_files
        .values()
        .filter(|b| {
            let stored = b.info.value_bytes.max(1) as f64;
            (live.get(&b.info.id).copied().unwrap_or(0) as f64) / stored < options.blob_gc_live_ratio
        })
        .map(|b| b.info.id)
        .collect()
}

fn pick_level0(version: &Version, options: &CompactionOptions) -> Option<CompactionTask> {
    let l0 = &version.levels[0];
    let trigger = options.level0_trigger.max(1);
    let bytes: u64 = l0.iter().map(|t| t.info.size_bytes).sum();
    let due = l0.len() >= trigger && bytes >= options.level0_trigger_bytes;
    if !due && l0.len() < trigger.saturating_mul(3) {
        return None;
    }
    let mut inputs: Vec<_> = l0.iter().map(|t| (0, Arc::clone(t))).collect();
    let (smallest, largest) = key_range(l0.iter())?;
    inputs.extend(overlapping(version, 1, &smallest, &largest));
    Some(task(version, TaskReason::Level0Count, inputs, 1))
}

fn pick_by_size(version: &Version, options: &CompactionOptions, busy: &BTreeSet<TableId>) -> Option<CompactionTask> {
    let last = Version::LEVEL_COUNT - 1;
    let mut target = options.level1_target_bytes.max(1);
    let mut worst: Option<(f64, usize)> = None;
    for level in 1..last {
        let score = version.level_bytes(level) as f64 / target as f64;
        if score > 1.0 && worst.is_none_or(|(s, _)| score > s) {
            worst = Some((score, level));
        }
        target = target.saturating_mul(options.level_size_ratio.max(2));
    }
    let (_, level) = worst?;
    let candidates = version.levels[level].iter().filter(|t| !busy.contains(&t.info.id));
    let best = candidates
        .map(|t| {
            let below = overlapping(version, level + 1, &t.info.smallest_key, &t.info.largest_key);
            let below_bytes: u64 = below.iter().map(|(_, b)| b.info.size_bytes).sum();
            (below_bytes, t, below)
        })
        .filter(|(_, _, below)| below.iter().all(|(_, b)| !busy.contains(&b.info.id)))
        .min_by_key(|(bytes, t, _)| (*bytes, t.info.id))?;
    let (_, table, below) = best;
    let mut inputs = vec![(level, Arc::clone(table))];
    inputs.extend(below);
    Some(task(version, TaskReason::LevelSize, inputs, level + 1))
}

fn pick_blob_gc(version: &Version, options: &CompactionOptions) -> Option<CompactionTask> {
    let victims = blob_victims(version, options);
    if victims.is_empty() {
        return None;
    }
    // Rewrite the referencing tables of the shallowest level involved, so
    // every output stays within one level's key order.
    let referencing = |t: &TableFile| t.info.blob_refs.iter().any(|(b, _)| victims.contains(b));
    // A contiguous run from the first to the last referencing table: the
    // outputs then cannot overlap a table left out of the level.
    let found = version.levels.iter().enumerate().find_map(|(level, tables)| {
        let first = tables.iter().position(|t| referencing(t))?;
        let last = tables.iter().rposition(|t| referencing(t))?;
        Some((level, tables[first..=last].to_vec()))
    });
    let Some((level, tables)) = found else {
        // Nothing references them any more: the files just leave the version.
        return Some(CompactionTask {
            reason: TaskReason::BlobGc,
            inputs: Vec::new(),
            output_level: 1,
            bottommost: true,
            blob_gc: victims,
        });
    };
    let inputs: Vec<_> = if level == 0 {
        // Level-0 tables overlap: rewrite the whole level into level 1.
        let mut all: Vec<_> = version.levels[0].iter().map(|t| (0, Arc::clone(t))).collect();
        if let Some((smallest, largest)) = key_range(version.levels[0].iter()) {
            all.extend(overlapping(version, 1, &smallest, &largest));
        }
        all
    } else {
        tables.into_iter().map(|t| (level, t)).collect()
    };
    let output_level = if level == 0 { 1 } else { level };
    let mut gc = task(version, TaskReason::BlobGc, inputs, output_level);
    gc.blob_gc = victims;
    Some(gc)
}

fn task(
    version: &Version,
    reason: TaskReason,
    inputs: Vec<(usize, Arc<TableFile>)>,
    output_level: usize,
) -> CompactionTask {
    let bottommost = version.levels.iter().skip(output_level + 1).all(|level| {
        inputs.iter().all(|(_, t)| !level.iter().any(|d| d.info.overlaps(&t.info.smallest_key, &t.info.largest_key)))
    });
    CompactionTask { reason, inputs, output_level, bottommost, blob_gc: Vec::new() }
}

fn key_range<'a>(mut tables: impl Iterator<Item = &'a Arc<TableFile>>) -> Option<(Vec<u8>, Vec<u8>)> {
    let first = tables.next()?;
    let mut range = (first.info.smallest_key.clone(), first.info.largest_key.clone());
    for t in tables {
        if t.info.smallest_key < range.0 {
            range.0.clone_from(&t.info.smallest_key);
        }
        if t.info.largest_key > range.1 {
            range.1.clone_from(&t.info.largest_key);
        }
    }
    Some(range)
}

fn overlapping(version: &Version, level: usize, smallest: &[u8], largest: &[u8]) -> Vec<(usize, Arc<TableFile>)> {
    version.levels.get(level).map_or_else(Vec::new, |tables| {
        tables.iter().filter(|t| t.info.overlaps(smallest, largest)).map(|t| (level, Arc::clone(t))).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::{BlobFile, BlobFileInfo, TableInfo};
    use crate::{SeqNo, TableId};

    fn table(id: u64, keys: (&str, &str), size: u64) -> Arc<TableFile> {
        TableFile::detached(TableInfo {
            id: TableId(id),
            size_bytes: size,
            entry_count: 1,
            smallest_key: keys.0.into(),
            largest_key: keys.1.into(),
            smallest_seqno: SeqNo(id),
            largest_seqno: SeqNo(id),
            blob_refs: Vec::new(),
        })
    }

    fn version(levels: Vec<Vec<Arc<TableFile>>>) -> Version {
        let mut v = Version::empty();
        for (i, level) in levels.into_iter().enumerate() {
            v.levels[i] = level;
        }
        v.next_file_id = 100;
        v
    }

    fn ids(task: &CompactionTask) -> Vec<u64> {
        let mut ids: Vec<u64> = task.inputs.iter().map(|(_, t)| t.info.id.0).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn nothing_to_do_below_triggers() {
        let v = version(vec![vec![table(1, ("a", "z"), 10)], vec![table(2, ("a", "c"), 10)]]);
        assert!(pick(&v, &CompactionOptions::default(), &BTreeSet::new()).is_none());
    }

    #[test]
    fn level0_trigger_takes_all_level0_and_overlapping_level1() {
        let l0 = (1..=4).map(|i| table(i, ("d", "k"), 10)).collect();
        let l1 = vec![table(10, ("a", "c"), 10), table(11, ("e", "f"), 10), table(12, ("x", "z"), 10)];
        let v = version(vec![l0, l1]);
        let task = pick(&v, &CompactionOptions::default(), &BTreeSet::new()).unwrap();
        assert_eq!(task.reason, TaskReason::Level0Count);
        assert_eq!(ids(&task), [1, 2, 3, 4, 11]);
        assert_eq!(task.output_level, 1);
        assert!(task.bottommost);
        let busy = BTreeSet::from([TableId(2)]);
        assert!(pick(&v, &CompactionOptions::default(), &busy).is_none(), "busy inputs are never picked");
    }

    #[test]
    fn small_level0_tables_wait_for_bytes_or_the_backstop() {
        let options =
            CompactionOptions { level0_trigger: 2, level0_trigger_bytes: 100, ..CompactionOptions::default() };
        let small = |n: u64| (1..=n).map(|i| table(i, ("a", "z"), 10)).collect::<Vec<_>>();
        assert!(pick(&version(vec![small(5)]), &options, &BTreeSet::new()).is_none(), "50 bytes in 5 tables");
        assert!(pick(&version(vec![small(6)]), &options, &BTreeSet::new()).is_some(), "backstop: 3 x 2 tables");
        let big = vec![table(1, ("a", "z"), 60), table(2, ("a", "z"), 60)];
        assert!(pick(&version(vec![big]), &options, &BTreeSet::new()).is_some(), "2 tables, 120 bytes");
    }

    #[test]
    fn oversized_level_picks_the_table_overlapping_least_below() {
        let options = CompactionOptions { level1_target_bytes: 100, ..CompactionOptions::default() };
        let l1 = vec![table(1, ("a", "c"), 80), table(2, ("m", "p"), 80)];
        let l2 = vec![table(3, ("a", "b"), 500), table(4, ("n", "o"), 5), table(5, ("y", "z"), 5)];
        let l3 = vec![table(6, ("a", "a"), 5)];
        let v = version(vec![vec![], l1, l2, l3]);
        let task = pick(&v, &options, &BTreeSet::new()).unwrap();
        assert_eq!(task.reason, TaskReason::LevelSize);
        assert_eq!(ids(&task), [2, 4]);
        assert_eq!(task.output_level, 2);
        assert!(task.bottommost, "nothing below overlaps m..p");
        let busy = BTreeSet::from([TableId(4)]);
        let task = pick(&v, &options, &busy).unwrap();
        assert_eq!(ids(&task), [1, 3]);
        assert!(!task.bottommost, "table 6 in level 3 overlaps a..c");
    }

    #[test]
    fn blob_gc_picks_files_below_the_live_ratio() {
        let mut t = TableInfo { ..table(1, ("a", "b"), 10).info.clone() };
        t.blob_refs = vec![(BlobFileId(7), 100), (BlobFileId(8), 900)];
        let mut v = version(vec![vec![], vec![TableFile::detached(t)]]);
        for id in [7, 8] {
            let info = BlobFileInfo { id: BlobFileId(id), size_bytes: 1100, value_count: 10, value_bytes: 1000 };
            v.blob_files.insert(BlobFileId(id), BlobFile::detached(info));
        }
        let task = pick(&v, &CompactionOptions::default(), &BTreeSet::new()).unwrap();
        assert_eq!(task.reason, TaskReason::BlobGc);
        assert_eq!(task.blob_gc, [BlobFileId(7)]);
        assert_eq!(ids(&task), [1]);
        assert_eq!(task.output_level, 1, "rewritten in place");
    }

    #[test]
    fn full_compaction_covers_everything() {
        let v = version(vec![vec![table(1, ("a", "z"), 1)], vec![], vec![table(2, ("b", "c"), 1)]]);
        let task = full(&v, &CompactionOptions::default()).unwrap();
        assert_eq!(ids(&task), [1, 2]);
        assert_eq!(task.output_level, 2);
        let small = CompactionOptions { level1_target_bytes: 1, level_size_ratio: 2, ..CompactionOptions::default() };
        // Targets: level 1 holds 1 byte, level 2 holds 2, level 3 holds 4.
        assert_eq!(full(&v, &small).unwrap().output_level, 2, "2 bytes fit level 2");
        assert_eq!(level_fitting(3, &small), 3);
        assert_eq!(level_fitting(u64::MAX, &small), Version::LEVEL_COUNT - 1);
        assert!(full(&Version::empty(), &CompactionOptions::default()).is_none());
    }
}
