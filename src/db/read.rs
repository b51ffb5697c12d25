//! Point reads: the active memtable, frozen memtables, then tables newest
//! first.

use std::sync::Arc;

use super::Inner;
use crate::blob::{BlobFile, BlobRef};
use crate::hlog::Lookup;
use crate::table::{Entry, Table, ValueKind};
use crate::version::{TableFile, Version};
use crate::{BlobFileId, Error, Result, SeqNo};

impl Inner {
    /// The reader of a table of some version.
    pub(crate) fn table(&self, file: &TableFile) -> Result<Arc<Table>> {
        self.readers.table(file)
    }

    /// The reader of blob file `id` of `version`: the version a read's
    /// tables come from holds every blob file they reference.
    pub(crate) fn blob_file(&self, version: &Version, id: BlobFileId) -> Result<Arc<BlobFile>> {
        self.readers.blob_file(version, id)
    }

    /// The value an entry of `version`'s tables stands for: inline, from a
    /// blob file, or none for a tombstone.
    pub(crate) fn resolve(&self, version: &Version, entry: Entry) -> Result<Option<Vec<u8>>> {
        self.resolve_value(version, &entry.key, entry.kind, entry.value)
    }

    /// [`resolve`](Self::resolve) for an entry taken apart, so the caller
    /// keeps its key.
    pub(crate) fn resolve_value(
        &self,
        version: &Version,
        key: &[u8],
        kind: ValueKind,
        value: Vec<u8>,
    ) -> Result<Option<Vec<u8>>> {
        match kind {
            ValueKind::Value => Ok(Some(value)),
            ValueKind::Tombstone => Ok(None),
            ValueKind::BlobRef => self.read_blob(version, key, &value).map(Some),
        }
    }

    /// Reads the value behind an encoded blob reference of `version`'s tables.
    pub(crate) fn read_blob(&self, version: &Version, key: &[u8], encoded: &[u8]) -> Result<Vec<u8>> {
        let reference = BlobRef::decode(encoded).ok_or_else(|| {
            Error::corruption(&self.layout.tables_dir(), 0, "a table holds a malformed blob reference")
        })?;
        self.blob_file(version, reference.file)?.read_value(&reference, key)
    }

    /// The value of `key` at read point `at` (`None`: the newest write).
    pub(crate) fn get(&self, key: &[u8], at: Option<SeqNo>) -> Result<Option<Vec<u8>>> {
        match self.find(key, at)? {
            Found::Memtable(found) => Ok(lookup_value(found)),
            Found::Table(version, entry) => self.resolve(&version, entry),
            Found::Nowhere => Ok(None),
        }
    }

    /// Whether `key` has a value at read point `at`; reads no blob file.
    pub(crate) fn contains_key(&self, key: &[u8], at: Option<SeqNo>) -> Result<bool> {
        Ok(match self.find(key, at)? {
            Found::Memtable(found) => found.value().is_some(),
            Found::Table(_, entry) => entry.kind != ValueKind::Tombstone,
            Found::Nowhere => false,
        })
    }

    /// The newest version of `key` at read point `at`, wherever it is.
    fn find(&self, key: &[u8], at: Option<SeqNo>) -> Result<Found> {
        let (frozen, version) = {
            let s = self.memtables();
            if let Some(found) = self.hlog.get(key, at) {
                return Ok(Found::Memtable(found));
            }
            (s.frozen.clone(), Arc::clone(&s.version))
        };
        for memtable in frozen.iter().rev() {
            if let Some(found) = memtable.get(key, at) {
                return Ok(Found::Memtable(found));
            }
        }
        Ok(match self.get_from_tables(&version, key, at.unwrap_or(SeqNo(u64::MAX)))? {
            Some(entry) => Found::Table(version, entry),
            None => Found::Nowhere,
        })
    }

    /// The newest entry for `key` at or below `seqno` in the tables of `version`.
    fn get_from_tables(&self, version: &Version, key: &[u8], seqno: SeqNo) -> Result<Option<Entry>> {
        for file in &version.levels[0] {
            if file.info.overlaps(key, key)
                && let Some(entry) = self.table(file)?.get(key, seqno)?
            {
                return Ok(Some(entry));
            }
        }
        for level in &version.levels[1..] {
            let at = level.partition_point(|t| t.info.largest_key.as_slice() < key);
            if let Some(file) = level.get(at).filter(|t| t.info.overlaps(key, key))
                && let Some(entry) = self.table(file)?.get(key, seqno)?
            {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }
}

/// Where a point read found a key's newest version.
enum Found {
    /// In a memtable.
    Memtable(Lookup),
    /// In a table of this version (which holds the blob files it references).
    Table(Arc<Version>, Entry),
    /// Nowhere: the key never had a value, or its history was compacted away.
    Nowhere,
}

fn lookup_value(found: Lookup) -> Option<Vec<u8>> {
    match found {
        Lookup::Value { value, .. } => Some(value),
        Lookup::Tombstone { .. } => None,
    }
}
