//! Which blob files a compaction kills: a pure function of the version it
//! installs into and of the compaction's inputs and outputs.

use std::collections::BTreeSet;

use super::CompactionTask;
use crate::BlobFileId;
use crate::version::{TableInfo, Version};

/// The blob files of `current` that no table references once `task`'s
/// inputs are replaced by `outputs`, among those the compaction could have
/// let go: the ones its inputs reference and the ones it collects
/// (`task.blob_gc`). A blob file some other table of `current`, or an
/// output, still references stays; so does one no input touched (it is no
/// business of this compaction). Ascending by id.
///
/// `current` is the version the compaction installs into, which may be
/// newer than the one it was picked from: tables another compaction added
/// meanwhile count as references too.
pub(crate) fn dead_blob_files(current: &Version, task: &CompactionTask, outputs: &[TableInfo]) -> Vec<BlobFileId> {
    let inputs = task.input_ids();
    let candidates: BTreeSet<BlobFileId> = task
        .inputs
        .iter()
        .flat_map(|(_, t)| t.info.blob_refs.iter().map(|(b, _)| *b))
        .chain(task.blob_gc.iter().copied())
        .collect();
    let still_referenced: BTreeSet<BlobFileId> = current
        .tables()
        .filter(|(_, t)| !inputs.contains(&t.info.id))
        .flat_map(|(_, t)| t.info.blob_refs.iter().map(|(b, _)| *b))
        .chain(outputs.iter().flat_map(|t| t.blob_refs.iter().map(|(b, _)| *b)))
        .collect();
    candidates.into_iter().filter(|b| !still_referenced.contains(b) && current.blob_files.contains_key(b)).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::compaction::TaskReason;
    use crate::version::{BlobFile, BlobFileInfo, TableFile};
    use crate::{SeqNo, TableId};

    fn info(id: u64, blobs: &[u64]) -> TableInfo {
        TableInfo {
            id: TableId(id),
            size_bytes: 10,
            entry_count: 1,
            smallest_key: b"a".to_vec(),
            largest_key: b"z".to_vec(),
            smallest_seqno: SeqNo(id),
            largest_seqno: SeqNo(id),
            blob_refs: blobs.iter().map(|&b| (BlobFileId(b), 100)).collect(),
        }
    }

    /// A version with `tables` at level 1 and blob files `blobs`.
    fn version(tables: &[Arc<TableFile>], blobs: &[u64]) -> Version {
        let mut v = Version::empty();
        v.levels[1] = tables.to_vec();
        for &id in blobs {
            let info = BlobFileInfo { id: BlobFileId(id), size_bytes: 200, value_count: 2, value_bytes: 200 };
            v.blob_files.insert(BlobFileId(id), BlobFile::detached(info));
        }
        v.next_file_id = 100;
        v
    }

    fn task(inputs: &[Arc<TableFile>], blob_gc: &[u64]) -> CompactionTask {
        CompactionTask {
            reason: if blob_gc.is_empty() { TaskReason::LevelSize } else { TaskReason::BlobGc },
            inputs: inputs.iter().map(|t| (1, Arc::clone(t))).collect(),
            output_level: 1,
            bottommost: true,
            blob_gc: blob_gc.iter().map(|&b| BlobFileId(b)).collect(),
        }
    }

    fn ids(dead: Vec<BlobFileId>) -> Vec<u64> {
        dead.into_iter().map(|b| b.0).collect()
    }

    #[test]
    fn a_blob_file_only_the_inputs_referenced_dies() {
        let (t1, t2) = (TableFile::detached(info(1, &[7, 8])), TableFile::detached(info(2, &[8])));
        let v = version(&[Arc::clone(&t1), Arc::clone(&t2)], &[7, 8]);
        // Table 1's values were all dropped (overwritten, deleted).
        assert_eq!(ids(dead_blob_files(&v, &task(&[t1], &[]), &[])), [7], "8 is still table 2's");
    }

    #[test]
    fn outputs_that_carry_a_reference_keep_the_file() {
        let t1 = TableFile::detached(info(1, &[7, 8]));
        let v = version(&[Arc::clone(&t1)], &[7, 8]);
        let dead = dead_blob_files(&v, &task(&[t1], &[]), &[info(3, &[8])]);
        assert_eq!(ids(dead), [7]);
    }

    #[test]
    fn collected_blob_files_die_once_their_values_moved() {
        let t1 = TableFile::detached(info(1, &[7]));
        let v = version(&[Arc::clone(&t1)], &[7, 9]);
        // The output references the new blob file 9, not 7.
        let dead = dead_blob_files(&v, &task(&[t1], &[7]), &[info(3, &[9])]);
        assert_eq!(ids(dead), [7]);
    }

    #[test]
    fn files_no_input_touched_or_already_gone_are_left_alone() {
        let t1 = TableFile::detached(info(1, &[7, 8]));
        // 5 is referenced by no table, but no input referenced it either; 8
        // is gone from the version already (another compaction removed it).
        let v = version(&[Arc::clone(&t1)], &[5, 7]);
        assert_eq!(ids(dead_blob_files(&v, &task(&[t1], &[]), &[])), [7]);
    }

    #[test]
    fn tables_added_since_the_pick_count_as_references() {
        let t1 = TableFile::detached(info(1, &[7]));
        // Picked from a version holding only table 1; installed into one
        // where a flush or another compaction added table 4, referencing 7.
        let newer = version(&[Arc::clone(&t1), TableFile::detached(info(4, &[7]))], &[7]);
        assert!(dead_blob_files(&newer, &task(&[t1], &[]), &[]).is_empty());
    }
}
