//! Point reads: the active memtable, frozen memtables, then tables newest
//! first; and the caches of open table and blob-file readers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::Inner;
use crate::blob::{BlobFile, BlobRef};
use crate::hlog::Lookup;
use crate::table::{BlockCache, Entry, Table, ValueKind};
use crate::version::{TableFile, Version};
use crate::{BlobFileId, Error, Result, SeqNo, TableId};

/// Open readers, shared by every read; a file is opened once.
#[derive(Debug)]
pub(crate) struct Readers {
    pub(crate) cache: Arc<BlockCache>,
    tables: Mutex<HashMap<TableId, Arc<Table>>>,
    blobs: Mutex<HashMap<BlobFileId, Arc<BlobFile>>>,
}

impl Readers {
    pub(crate) fn new(cache: Arc<BlockCache>) -> Readers {
        Readers { cache, tables: Mutex::default(), blobs: Mutex::default() }
    }

    /// Forgets readers of files that left the database.
    pub(crate) fn evict(&self, tables: &[TableId], blobs: &[BlobFileId]) {
        let mut open = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        for id in tables {
            open.remove(id);
        }
        drop(open);
        let mut open = self.blobs.lock().unwrap_or_else(|p| p.into_inner());
        for id in blobs {
            open.remove(id);
        }
    }
}

impl Inner {
    /// The reader of a live table.
    pub(crate) fn table(&self, file: &TableFile) -> Result<Arc<Table>> {
        let id = file.info.id;
        if let Some(table) = self.readers.tables.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(Arc::clone(table));
        }
        let table = Arc::new(Table::open(&*self.fs, &self.layout.table(id), id, Arc::clone(&self.readers.cache))?);
        let mut open = self.readers.tables.lock().unwrap_or_else(|p| p.into_inner());
        Ok(Arc::clone(open.entry(id).or_insert(table)))
    }

    /// The reader of a live blob file.
    pub(crate) fn blob_file(&self, id: BlobFileId) -> Result<Arc<BlobFile>> {
        if let Some(blob) = self.readers.blobs.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(Arc::clone(blob));
        }
        let blob = Arc::new(BlobFile::open(&*self.fs, &self.layout.blob(id), id)?);
        let mut open = self.readers.blobs.lock().unwrap_or_else(|p| p.into_inner());
        Ok(Arc::clone(open.entry(id).or_insert(blob)))
    }

    /// The value an entry stands for: inline, from a blob file, or none for
    /// a tombstone.
    pub(crate) fn resolve(&self, entry: Entry) -> Result<Option<Vec<u8>>> {
        self.resolve_value(&entry.key, entry.kind, entry.value)
    }

    /// [`resolve`](Self::resolve) for an entry taken apart, so the caller
    /// keeps its key.
    pub(crate) fn resolve_value(&self, key: &[u8], kind: ValueKind, value: Vec<u8>) -> Result<Option<Vec<u8>>> {
        match kind {
            ValueKind::Value => Ok(Some(value)),
            ValueKind::Tombstone => Ok(None),
            ValueKind::BlobRef => self.read_blob(key, &value).map(Some),
        }
    }

    /// Reads the value behind an encoded blob reference.
    pub(crate) fn read_blob(&self, key: &[u8], encoded: &[u8]) -> Result<Vec<u8>> {
        let reference = BlobRef::decode(encoded).ok_or_else(|| {
            Error::corruption(&self.layout.tables_dir(), 0, "a table holds a malformed blob reference")
        })?;
        self.blob_file(reference.file)?.read_value(&reference, key)
    }

    /// The value of `key` at read point `at` (`None`: the newest write).
    pub(crate) fn get(&self, key: &[u8], at: Option<SeqNo>) -> Result<Option<Vec<u8>>> {
        let (frozen, version) = {
            let s = self.memtables();
            if let Some(found) = self.hlog.get(key, at) {
                return Ok(lookup_value(found));
            }
            (s.frozen.clone(), Arc::clone(&s.version))
        };
        for memtable in frozen.iter().rev() {
            if let Some(found) = memtable.get(key, at) {
                return Ok(lookup_value(found));
            }
        }
        match self.get_from_tables(&version, key, at.unwrap_or(SeqNo(u64::MAX)))? {
            Some(entry) => self.resolve(entry),
            None => Ok(None),
        }
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

fn lookup_value(found: Lookup) -> Option<Vec<u8>> {
    match found {
        Lookup::Value { value, .. } => Some(value),
        Lookup::Tombstone { .. } => None,
    }
}
