//! Writing sorted entries out as tables and blob files: the one path that
//! flush and compaction share.
//!
//! Tables are cut at a target size, but only between keys, so all versions
//! of a key stay in one table (deeper levels need disjoint key ranges).
//! Values at or above the blob threshold go to blob files, and the tables
//! hold references. Nothing is part of the database until the caller puts
//! the returned infos into a version; on error, or when dropped before
//! [`Output::finish`], every file this output created is removed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::Retention;
use crate::blob::{BlobOptions, BlobWriter};
use crate::fs::Fs;
use crate::table::{Entry, TableOptions, TableWriter, ValueKind};
use crate::version::{BlobFileInfo, DbLayout, TableInfo};
use crate::{BlobFileId, Result, SeqNo, TableId};

/// How an [`Output`] lays out what it writes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutputOptions {
    /// Format options of each table.
    pub table: TableOptions,
    /// Format options of each blob file.
    pub blob: BlobOptions,
    /// A table is closed at the first key boundary past this size.
    pub table_target_bytes: u64,
    /// Values this long or longer go to blob files.
    pub blob_threshold_bytes: usize,
    /// A blob file is sealed once it holds this many bytes.
    pub blob_file_target_bytes: u64,
}

struct OpenTable {
    id: TableId,
    writer: TableWriter,
    blob_refs: BTreeMap<BlobFileId, u64>,
    last_key: Vec<u8>,
}

/// Tables and blob files being written from one sorted stream.
pub(crate) struct Output {
    fs: Arc<dyn Fs>,
    layout: DbLayout,
    options: OutputOptions,
    new_id: Box<dyn Fn() -> u64 + Send>,
    table: Option<OpenTable>,
    blob: Option<(BlobFileId, BlobWriter)>,
    tables: Vec<TableInfo>,
    blobs: Vec<BlobFileInfo>,
    created: Vec<PathBuf>,
    finished: bool,
}

impl Output {
    /// An output into the database at `layout`, taking file ids from `new_id`.
    pub(crate) fn new(
        fs: Arc<dyn Fs>,
        layout: DbLayout,
        options: OutputOptions,
        new_id: Box<dyn Fn() -> u64 + Send>,
    ) -> Output {
        Output {
            fs,
            layout,
            options,
            new_id,
            table: None,
            blob: None,
            tables: Vec::new(),
            blobs: Vec::new(),
            created: Vec::new(),
            finished: false,
        }
    }

    /// Adds the next entry, in table order (key ascending, seqno descending).
    /// A `Value` at or above the blob threshold is moved to a blob file; a
    /// `BlobRef` is kept as the reference it is.
    pub(crate) fn add(&mut self, key: &[u8], seqno: SeqNo, kind: ValueKind, value: &[u8]) -> Result<()> {
        let new_key = self.table.as_ref().is_none_or(|t| t.last_key != key);
        if new_key && self.table.as_ref().is_some_and(|t| t.writer.data_size_bytes() >= self.options.table_target_bytes)
        {
            self.close_table()?;
        }
        if kind == ValueKind::Value && value.len() >= self.options.blob_threshold_bytes {
            let reference = self.blob_writer()?.add(key, seqno, value)?;
            self.seal_blob_if_full()?;
            let table = self.table_writer()?;
            *table.blob_refs.entry(reference.file).or_default() += u64::from(reference.len_bytes);
            return self.add_to_table(key, seqno, ValueKind::BlobRef, &reference.encode());
        }
        if kind == ValueKind::BlobRef
            && let Some(reference) = crate::blob::BlobRef::decode(value)
        {
            *self.table_writer()?.blob_refs.entry(reference.file).or_default() += u64::from(reference.len_bytes);
        }
        self.add_to_table(key, seqno, kind, value)
    }

    /// Writes a stream of entries in table order (key ascending, seqno
    /// descending), keeping of each key's versions those `retention`
    /// keeps: the one loop of flush (a sorted memtable) and compaction
    /// (merged tables).
    pub(crate) fn add_sorted(
        &mut self,
        retention: &Retention,
        entries: impl IntoIterator<Item = Result<Entry>>,
    ) -> Result<()> {
        let mut group: Vec<(SeqNo, ValueKind, Vec<u8>)> = Vec::new();
        let mut key: Vec<u8> = Vec::new();
        for entry in entries {
            let entry = entry?;
            if entry.key != key {
                if !group.is_empty() {
                    self.add_group(retention, &key, &mut group)?;
                }
                key = entry.key;
            }
            group.push((entry.seqno, entry.kind, entry.value));
        }
        if !group.is_empty() {
            self.add_group(retention, &key, &mut group)?;
        }
        Ok(())
    }

    /// Writes the versions of one key (newest first) that `retention` keeps.
    fn add_group(
        &mut self,
        retention: &Retention,
        key: &[u8],
        group: &mut Vec<(SeqNo, ValueKind, Vec<u8>)>,
    ) -> Result<()> {
        let flags: Vec<(SeqNo, bool)> = group.iter().map(|(s, k, _)| (*s, *k == ValueKind::Tombstone)).collect();
        for ((seqno, kind, value), keep) in group.drain(..).zip(retention.select(&flags)) {
            if keep {
                self.add(key, seqno, kind, &value)?;
            }
        }
        Ok(())
    }

    fn add_to_table(&mut self, key: &[u8], seqno: SeqNo, kind: ValueKind, value: &[u8]) -> Result<()> {
        let table = self.table_writer()?;
        table.writer.add(key, seqno, kind, value)?;
        if table.last_key != key {
            table.last_key.clear();
            table.last_key.extend_from_slice(key);
        }
        Ok(())
    }

    fn table_writer(&mut self) -> Result<&mut OpenTable> {
        if self.table.is_none() {
            let id = TableId((self.new_id)());
            let path = self.layout.table(id);
            self.created.push(path.clone());
            let writer = TableWriter::new(&*self.fs, &path, self.options.table)?;
            self.table = Some(OpenTable { id, writer, blob_refs: BTreeMap::new(), last_key: Vec::new() });
        }
        Ok(self.table.as_mut().expect("just opened"))
    }

    fn blob_writer(&mut self) -> Result<&mut BlobWriter> {
        if self.blob.is_none() {
            let id = BlobFileId((self.new_id)());
            let path = self.layout.blob(id);
            self.created.push(path.clone());
            self.blob = Some((id, BlobWriter::new(&*self.fs, &path, id, self.options.blob)?));
        }
        Ok(&mut self.blob.as_mut().expect("just opened").1)
    }

    fn seal_blob_if_full(&mut self) -> Result<()> {
        let full = self.blob.as_ref().is_some_and(|(_, w)| w.data_size_bytes() >= self.options.blob_file_target_bytes);
        if full { self.seal_blob() } else { Ok(()) }
    }

    fn seal_blob(&mut self) -> Result<()> {
        if let Some((id, writer)) = self.blob.take() {
            let meta = writer.finish()?;
            self.blobs.push(BlobFileInfo {
                id,
                size_bytes: meta.file_size_bytes,
                value_count: meta.record_count,
                value_bytes: meta.data_bytes,
            });
        }
        Ok(())
    }

    fn close_table(&mut self) -> Result<()> {
        if let Some(table) = self.table.take() {
            let meta = table.writer.finish()?;
            self.tables.push(TableInfo {
                id: table.id,
                size_bytes: meta.file_size_bytes,
                entry_count: meta.entry_count,
                smallest_key: meta.key_min,
                largest_key: meta.key_max,
                smallest_seqno: meta.seqno_min,
                largest_seqno: meta.seqno_max,
                blob_refs: table.blob_refs.into_iter().collect(),
            });
        }
        Ok(())
    }

    /// Seals every file (fsync) and their directories, and returns what was
    /// written: tables and blob files, ready for a version edit.
    pub(crate) fn finish(mut self) -> Result<(Vec<TableInfo>, Vec<BlobFileInfo>)> {
        self.seal_blob()?;
        self.close_table()?;
        if !self.blobs.is_empty() {
            self.fs.sync_directory(&self.layout.blobs_dir())?;
        }
        if !self.tables.is_empty() {
            self.fs.sync_directory(&self.layout.tables_dir())?;
        }
        self.finished = true;
        Ok((std::mem::take(&mut self.tables), std::mem::take(&mut self.blobs)))
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.table = None;
        self.blob = None;
        for path in &self.created {
            if let Err(e) = self.fs.remove_file(path)
                && !e.is_not_found()
            {
                log::warn!("could not remove unfinished output file: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::blob::BlobFile;
    use crate::fs::MemFs;
    use crate::table::{BlockCache, Table};

    fn setup() -> (MemFs, DbLayout) {
        let fs = MemFs::new();
        let layout = DbLayout::new("/db");
        for dir in [layout.tables_dir(), layout.blobs_dir()] {
            fs.create_dir_all(&dir).unwrap();
        }
        (fs, layout)
    }

    fn output(fs: &MemFs, layout: &DbLayout) -> Output {
        let options = OutputOptions {
            table: TableOptions::default(),
            blob: BlobOptions::default(),
            table_target_bytes: 2048,
            blob_threshold_bytes: 100,
            blob_file_target_bytes: 1 << 20,
        };
        let next = Arc::new(AtomicU64::new(1));
        Output::new(
            Arc::new(fs.clone()),
            layout.clone(),
            options,
            Box::new(move || next.fetch_add(1, Ordering::Relaxed)),
        )
    }

    #[test]
    fn splits_tables_between_keys_and_moves_large_values_to_blobs() {
        let (fs, layout) = setup();
        let mut out = output(&fs, &layout);
        for k in 0..200u32 {
            let key = format!("key{k:04}").into_bytes();
            // Two versions per key must land in the same table.
            out.add(&key, SeqNo(1000 + u64::from(k)), ValueKind::Value, &[b'n'; 20]).unwrap();
            let old = if k % 10 == 0 { vec![b'B'; 150] } else { vec![b'o'; 20] };
            out.add(&key, SeqNo(u64::from(k)), ValueKind::Value, &old).unwrap();
        }
        let (tables, blobs) = out.finish().unwrap();
        assert!(tables.len() > 2, "split at the target size: {}", tables.len());
        assert_eq!(blobs.len(), 1);
        for pair in tables.windows(2) {
            assert!(pair[0].largest_key < pair[1].smallest_key, "no key spans two tables");
        }
        let referenced: u64 = tables.iter().flat_map(|t| t.blob_refs.iter().map(|(_, b)| b)).sum();
        assert_eq!(referenced, blobs[0].value_bytes, "every blob byte is accounted to a table");
        let cache = Arc::new(BlockCache::new(1 << 20));
        let blob = BlobFile::open(&fs, &layout.blob(blobs[0].id), blobs[0].id).unwrap();
        let table = Table::open(&fs, &layout.table(tables[0].id), tables[0].id, cache).unwrap();
        let entry = table.get(b"key0000", SeqNo(5)).unwrap().unwrap();
        assert_eq!(entry.kind, ValueKind::BlobRef);
        assert_eq!(blob.read_value(&entry.blob_ref().unwrap(), b"key0000").unwrap(), vec![b'B'; 150]);
    }

    #[test]
    fn a_sorted_stream_keeps_what_retention_keeps_of_each_key() {
        let (fs, layout) = setup();
        let mut out = output(&fs, &layout);
        let entry = |key: &[u8], seqno: u64, kind: ValueKind| {
            Ok(Entry { key: key.to_vec(), seqno: SeqNo(seqno), kind, value: b"v".to_vec() })
        };
        let entries = [
            entry(b"a", 9, ValueKind::Value),
            entry(b"a", 5, ValueKind::Value),
            entry(b"a", 2, ValueKind::Value),
            entry(b"b", 8, ValueKind::Tombstone),
            entry(b"c", 1, ValueKind::Value),
        ];
        // A snapshot at 6 keeps the newest version at or below it too.
        out.add_sorted(&Retention::new(vec![SeqNo(6)], true), entries).unwrap();
        let (tables, _) = out.finish().unwrap();
        assert_eq!(tables.len(), 1);
        let cache = Arc::new(BlockCache::new(1 << 20));
        let table = Table::open(&fs, &layout.table(tables[0].id), tables[0].id, cache).unwrap();
        let kept: Vec<(Vec<u8>, u64)> =
            table.iter().map(|e| e.map(|e| (e.key, e.seqno.0))).collect::<Result<_>>().unwrap();
        assert_eq!(kept, [(b"a".to_vec(), 9), (b"a".to_vec(), 5), (b"c".to_vec(), 1)], "a@2 shadowed, b dropped");
    }

    #[test]
    fn an_error_in_the_stream_stops_the_output() {
        let (fs, layout) = setup();
        let mut out = output(&fs, &layout);
        let entries = [
            Ok(Entry { key: b"a".to_vec(), seqno: SeqNo(1), kind: ValueKind::Value, value: b"v".to_vec() }),
            Err(crate::Error::invalid("stream failed")),
        ];
        assert!(out.add_sorted(&Retention::new(Vec::new(), false), entries).is_err());
    }

    #[test]
    fn dropping_an_unfinished_output_removes_its_files() {
        let (fs, layout) = setup();
        let mut out = output(&fs, &layout);
        out.add(b"a", SeqNo(1), ValueKind::Value, &[1; 500]).unwrap();
        out.add(b"b", SeqNo(2), ValueKind::Value, b"x").unwrap();
        drop(out);
        assert!(fs.read_dir(Path::new("/db/tables")).unwrap().is_empty());
        assert!(fs.read_dir(Path::new("/db/blobs")).unwrap().is_empty());
    }
}
