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

use crate::blob::{BlobOptions, BlobWriter};
use crate::fs::Fs;
use crate::table::{TableOptions, TableWriter, ValueKind};
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
            *table.blob_refs.entry(reference.file).or_default() += u64::from(reference.len);
            return self.add_to_table(key, seqno, ValueKind::BlobRef, &reference.encode());
        }
        if kind == ValueKind::BlobRef
            && let Some(reference) = crate::blob::BlobRef::decode(value)
        {
            *self.table_writer()?.blob_refs.entry(reference.file).or_default() += u64::from(reference.len);
        }
        self.add_to_table(key, seqno, kind, value)
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
