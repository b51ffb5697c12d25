//! The [`Version`] value and the edits that derive one version from another.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use super::DbIdentity;
use super::deletion::FileLease;
use super::open_files::ReaderSlot;
use crate::table::Table;
use crate::{BlobFileId, Error, LogAddress, Result, SeqNo, TableId, VersionId};

/// What a version records about one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableInfo {
    /// The table's id (`tables/{id}.sst`).
    pub id: TableId,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Number of entries (all kinds).
    pub entry_count: u64,
    /// Smallest user key.
    pub smallest_key: Vec<u8>,
    /// Largest user key.
    pub largest_key: Vec<u8>,
    /// Smallest seqno of any entry.
    pub smallest_seqno: SeqNo,
    /// Largest seqno of any entry.
    pub largest_seqno: SeqNo,
    /// Bytes of values this table references in each blob file.
    pub blob_refs: Vec<(BlobFileId, u64)>,
}

impl TableInfo {
    /// True when the table's key range intersects `[smallest, largest]`.
    pub fn overlaps(&self, smallest: &[u8], largest: &[u8]) -> bool {
        self.smallest_key.as_slice() <= largest && smallest <= self.largest_key.as_slice()
    }
}

/// What a version records about one blob file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobFileInfo {
    /// The blob file's id (`blobs/{id}.blob`).
    pub id: BlobFileId,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Number of values stored.
    pub value_count: u64,
    /// Bytes of values stored (as referenced from tables).
    pub value_bytes: u64,
}

/// A table as part of versions: its info, its reader while it is open,
/// and a lease that deletes the file once it has left every live version.
#[derive(Debug)]
pub struct TableFile {
    /// What the version records.
    pub info: TableInfo,
    /// Declared before the lease: the file closes before it is deleted.
    pub(crate) reader: ReaderSlot<Table>,
    /// The name the table's blocks have in the block cache, the same for
    /// every reader of it, so a reader closed by the bound on open files
    /// and opened again finds its blocks still cached.
    pub(crate) block_cache_key: OnceLock<u64>,
    pub(super) lease: FileLease,
}

impl Drop for TableFile {
    /// The file has left every version: its cached blocks go now rather
    /// than age out (those of a reader the bound closed age out).
    fn drop(&mut self) {
        if let Some(table) = self.reader.current() {
            table.forget_cached_blocks();
        }
    }
}

/// A blob file as part of versions.
#[derive(Debug)]
pub struct BlobFile {
    /// What the version records.
    pub info: BlobFileInfo,
    pub(crate) reader: ReaderSlot<crate::blob::BlobFile>,
    pub(super) lease: FileLease,
}

impl TableFile {
    pub(super) fn new(info: TableInfo, lease: FileLease) -> Arc<TableFile> {
        Arc::new(TableFile { info, reader: ReaderSlot::default(), block_cache_key: OnceLock::new(), lease })
    }

    /// A table with no file behind it (for policy tests and simulations).
    pub fn detached(info: TableInfo) -> Arc<TableFile> {
        Self::new(info, FileLease::detached())
    }
}

impl BlobFile {
    pub(super) fn new(info: BlobFileInfo, lease: FileLease) -> Arc<BlobFile> {
        Arc::new(BlobFile { info, reader: ReaderSlot::default(), lease })
    }

    /// A blob file with no file behind it (for policy tests and simulations).
    pub fn detached(info: BlobFileInfo) -> Arc<BlobFile> {
        Self::new(info, FileLease::detached())
    }
}

/// The immutable set of files that make up the database at one moment.
///
/// Level 0 holds tables newest first (they may overlap); every deeper level
/// holds tables sorted by key with disjoint key ranges.
#[derive(Clone, Debug, Default)]
pub struct Version {
    /// `N` of `v{N}`.
    pub id: VersionId,
    /// Tables per level; `levels[0]` is level 0.
    pub levels: Vec<Vec<Arc<TableFile>>>,
    /// Live blob files.
    pub blob_files: BTreeMap<BlobFileId, Arc<BlobFile>>,
    /// The highest seqno stored in tables.
    pub last_seqno: SeqNo,
    /// The first hybrid-log address whose records are not yet in tables.
    pub log_start: LogAddress,
    /// The smallest id never used for a table or blob file.
    pub next_file_id: u64,
    /// Which database and timeline this is; `None` only in a version read
    /// from a file older than identities (the first writable open assigns
    /// one).
    pub identity: Option<DbIdentity>,
    /// This version was written by a checkpoint or a restore: the first
    /// writable open of the copy starts a new timeline (a fresh id, generation + 1)
    /// and clears the mark.
    pub fork_pending: bool,
}

/// The difference between a version and the next.
#[derive(Clone, Debug, Default)]
pub struct VersionEdit {
    /// Tables to add, with their level.
    pub add_tables: Vec<(usize, TableInfo)>,
    /// Tables to remove, from whichever level holds them.
    pub remove_tables: Vec<TableId>,
    /// Blob files to add.
    pub add_blobs: Vec<BlobFileInfo>,
    /// Blob files to remove.
    pub remove_blobs: Vec<BlobFileId>,
    /// A new highest seqno in tables (never lower than the current one).
    pub last_seqno: Option<SeqNo>,
    /// A new first log address not in tables (never lower).
    pub log_start: Option<LogAddress>,
    /// A new identity (a first one, or a new timeline of a copy); clears
    /// the fork-pending mark.
    pub identity: Option<DbIdentity>,
}

impl Version {
    /// Number of levels a version has.
    pub const LEVEL_COUNT: usize = 7;

    /// An empty version `v1`.
    pub fn empty() -> Version {
        Version {
            id: VersionId(1),
            levels: vec![Vec::new(); Self::LEVEL_COUNT],
            blob_files: BTreeMap::new(),
            last_seqno: SeqNo(0),
            log_start: LogAddress(0),
            next_file_id: 1,
            identity: None,
            fork_pending: false,
        }
    }

    /// Every table, level by level.
    pub fn tables(&self) -> impl Iterator<Item = (usize, &Arc<TableFile>)> {
        self.levels.iter().enumerate().flat_map(|(level, tables)| tables.iter().map(move |t| (level, t)))
    }

    /// Number of tables in all levels.
    pub fn table_count(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// Bytes of table files in one level.
    pub fn level_bytes(&self, level: usize) -> u64 {
        self.levels.get(level).map_or(0, |tables| tables.iter().map(|t| t.info.size_bytes).sum())
    }

    /// Finds a table by id.
    pub fn table(&self, id: TableId) -> Option<(usize, &Arc<TableFile>)> {
        self.tables().find(|(_, t)| t.info.id == id)
    }

    /// Bytes still referenced in each blob file, summed over live tables.
    pub fn blob_live_bytes(&self) -> BTreeMap<BlobFileId, u64> {
        let mut live: BTreeMap<BlobFileId, u64> = self.blob_files.keys().map(|&id| (id, 0)).collect();
        for (_, table) in self.tables() {
            for &(blob, bytes) in &table.info.blob_refs {
                *live.entry(blob).or_default() += bytes;
            }
        }
        live
    }

    /// Derives the next version: `self` with `edit` applied, numbered
    /// `self.id + 1`. New files get leases from `lease`; removed files keep
    /// theirs until every version holding them is dropped.
    ///
    /// Fails (as a programming error surfaced as `InvalidArgument`) when the
    /// edit removes a file that is not there, adds one twice, or breaks the
    /// level invariants.
    pub(crate) fn apply(&self, edit: &VersionEdit, mut lease: impl FnMut(FileRole) -> FileLease) -> Result<Version> {
        let mut next = self.clone();
        next.id = VersionId(self.id.0 + 1);
        for &id in &edit.remove_tables {
            let level = next.levels.iter().position(|ts| ts.iter().any(|t| t.info.id == id));
            let level = level.ok_or_else(|| Error::invalid(format!("edit removes table {id}, which is not live")))?;
            next.levels[level].retain(|t| t.info.id != id);
        }
        for &id in &edit.remove_blobs {
            next.blob_files
                .remove(&id)
                .ok_or_else(|| Error::invalid(format!("edit removes blob file {id}, which is not live")))?;
        }
        for (level, info) in &edit.add_tables {
            if *level >= Self::LEVEL_COUNT || next.table(info.id).is_some() {
                return Err(Error::invalid(format!("edit adds table {} at level {level} twice or too deep", info.id)));
            }
            let file = TableFile::new(info.clone(), lease(FileRole::Table(info.id)));
            next.levels[*level].push(file);
            next.next_file_id = next.next_file_id.max(info.id.0 + 1);
        }
        for info in &edit.add_blobs {
            let file = BlobFile::new(info.clone(), lease(FileRole::Blob(info.id)));
            if next.blob_files.insert(info.id, file).is_some() {
                return Err(Error::invalid(format!("edit adds blob file {} twice", info.id)));
            }
            next.next_file_id = next.next_file_id.max(info.id.0 + 1);
        }
        next.last_seqno = next.last_seqno.max(edit.last_seqno.unwrap_or(SeqNo(0)));
        next.log_start = next.log_start.max(edit.log_start.unwrap_or(LogAddress(0)));
        if let Some(identity) = edit.identity {
            next.identity = Some(identity);
            next.fork_pending = false;
        }
        next.sort_levels();
        next.check().map_err(|what| Error::invalid(format!("edit breaks the version: {what}")))?;
        Ok(next)
    }

    /// Level 0 newest first; deeper levels by smallest key.
    pub(super) fn sort_levels(&mut self) {
        if let Some(l0) = self.levels.first_mut() {
            l0.sort_by(|a, b| b.info.largest_seqno.cmp(&a.info.largest_seqno).then(b.info.id.cmp(&a.info.id)));
        }
        for level in self.levels.iter_mut().skip(1) {
            level.sort_by(|a, b| a.info.smallest_key.cmp(&b.info.smallest_key));
        }
    }

    /// Checks the invariants a version must hold; says which one fails.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.levels.len() != Self::LEVEL_COUNT {
            return Err(format!("{} levels, expected {}", self.levels.len(), Self::LEVEL_COUNT));
        }
        for (level, table) in self.tables() {
            let info = &table.info;
            if info.smallest_key > info.largest_key || info.smallest_seqno > info.largest_seqno {
                return Err(format!("table {} at level {level} has an inverted range", info.id));
            }
            if info.id.0 >= self.next_file_id {
                return Err(format!("table {} is not below next_file_id {}", info.id, self.next_file_id));
            }
            if let Some(&(blob, _)) = info.blob_refs.iter().find(|(b, _)| !self.blob_files.contains_key(b)) {
                return Err(format!("table {} references blob file {blob}, which is not live", info.id));
            }
        }
        for (level, tables) in self.levels.iter().enumerate().skip(1) {
            for pair in tables.windows(2) {
                if pair[0].info.largest_key >= pair[1].info.smallest_key {
                    return Err(format!("level {level}: tables {} and {} overlap", pair[0].info.id, pair[1].info.id));
                }
            }
        }
        if self.blob_files.keys().any(|id| id.0 >= self.next_file_id) {
            return Err(format!("a blob file id is not below next_file_id {}", self.next_file_id));
        }
        Ok(())
    }
}

/// Which file a lease is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileRole {
    /// A table.
    Table(TableId),
    /// A blob file.
    Blob(BlobFileId),
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn table(id: u64, keys: (&str, &str), seqnos: (u64, u64)) -> TableInfo {
        TableInfo {
            id: TableId(id),
            size_bytes: 1000 * id,
            entry_count: 10,
            smallest_key: keys.0.as_bytes().to_vec(),
            largest_key: keys.1.as_bytes().to_vec(),
            smallest_seqno: SeqNo(seqnos.0),
            largest_seqno: SeqNo(seqnos.1),
            blob_refs: Vec::new(),
        }
    }

    fn detached(_: FileRole) -> FileLease {
        FileLease::detached()
    }

    #[test]
    fn apply_adds_removes_and_orders() {
        let v1 = Version::empty();
        let edit = VersionEdit {
            add_tables: vec![(0, table(1, ("a", "m"), (1, 5))), (0, table(2, ("c", "z"), (6, 9)))],
            last_seqno: Some(SeqNo(9)),
            log_start: Some(LogAddress(4096)),
            ..VersionEdit::default()
        };
        let v2 = v1.apply(&edit, detached).unwrap();
        assert_eq!(v2.id, VersionId(2));
        let l0: Vec<u64> = v2.levels[0].iter().map(|t| t.info.id.0).collect();
        assert_eq!(l0, [2, 1], "level 0 newest first");
        assert_eq!((v2.last_seqno, v2.log_start, v2.next_file_id), (SeqNo(9), LogAddress(4096), 3));
        let edit = VersionEdit {
            add_tables: vec![(1, table(4, ("n", "z"), (1, 9))), (1, table(3, ("a", "m"), (1, 9)))],
            remove_tables: vec![TableId(1), TableId(2)],
            ..VersionEdit::default()
        };
        let v3 = v2.apply(&edit, detached).unwrap();
        assert!(v3.levels[0].is_empty());
        let l1: Vec<u64> = v3.levels[1].iter().map(|t| t.info.id.0).collect();
        assert_eq!(l1, [3, 4], "deeper levels by key");
        assert_eq!(v3.last_seqno, SeqNo(9), "seqno never goes back");
    }

    #[test]
    fn apply_rejects_broken_edits() {
        let v1 = Version::empty();
        let missing = VersionEdit { remove_tables: vec![TableId(5)], ..VersionEdit::default() };
        assert!(v1.apply(&missing, detached).is_err());
        let overlap = VersionEdit {
            add_tables: vec![(1, table(1, ("a", "m"), (1, 5))), (1, table(2, ("k", "z"), (1, 5)))],
            ..VersionEdit::default()
        };
        assert!(v1.apply(&overlap, detached).is_err());
        let mut dangling = table(1, ("a", "b"), (1, 1));
        dangling.blob_refs.push((BlobFileId(9), 100));
        let edit = VersionEdit { add_tables: vec![(0, dangling)], ..VersionEdit::default() };
        assert!(v1.apply(&edit, detached).is_err(), "blob reference to a missing blob file");
    }

    #[test]
    fn blob_live_bytes_sums_references() {
        let mut t = table(2, ("a", "b"), (1, 1));
        t.blob_refs.push((BlobFileId(1), 300));
        let blob = BlobFileInfo { id: BlobFileId(1), size_bytes: 1200, value_count: 4, value_bytes: 1000 };
        let edit = VersionEdit { add_tables: vec![(0, t)], add_blobs: vec![blob], ..VersionEdit::default() };
        let v = Version::empty().apply(&edit, detached).unwrap();
        assert_eq!(v.blob_live_bytes()[&BlobFileId(1)], 300);
    }
}
