//! [`BlobFile`]: a sealed, verified blob file serving reads by reference.

use std::path::{Path, PathBuf};

use super::blob_ref::BlobRef;
use super::format::{BLOB_FOOTER_BYTES, BlobFileMeta, BlobRecord, RECORD_HEADER_BYTES, decode_record, record_len};
use crate::fs::{Fs, FsFile, OpenOptions};
use crate::{BlobFileId, Error, Result};

/// An open, sealed blob file. Send + Sync; share it as `Arc<BlobFile>`.
#[derive(Debug)]
pub struct BlobFile {
    path: PathBuf,
    file: Box<dyn FsFile>,
    meta: BlobFileMeta,
}

impl BlobFile {
    /// Opens the blob file `id` at `path` and verifies its footer.
    pub fn open(fs: &dyn Fs, path: &Path, id: BlobFileId) -> Result<Self> {
        Self::from_file(fs.open(path, OpenOptions::read())?, id)
    }

    /// Opens the blob file at `path` under the id its footer records, for
    /// a tool looking at one file on its own (perhaps a renamed copy); a
    /// database opens the id its version names, with [`open`](Self::open).
    pub fn open_as_found(fs: &dyn Fs, path: &Path) -> Result<Self> {
        Self::from_file_expecting(fs.open(path, OpenOptions::read())?, None)
    }

    /// Opens a blob file from a file already open for reading.
    pub fn from_file(file: Box<dyn FsFile>, id: BlobFileId) -> Result<Self> {
        Self::from_file_expecting(file, Some(id))
    }

    /// Opens `file`, checking its footer names `id` when one is expected.
    fn from_file_expecting(file: Box<dyn FsFile>, id: Option<BlobFileId>) -> Result<Self> {
        let path = file.path().to_path_buf();
        let file_len = file.len()?;
        let footer_offset = file_len
            .checked_sub(BLOB_FOOTER_BYTES as u64)
            .ok_or_else(|| Error::corruption(&path, 0, "file shorter than a blob footer"))?;
        let mut footer = [0u8; BLOB_FOOTER_BYTES];
        file.read_exact_at(&mut footer, footer_offset)?;
        let meta =
            BlobFileMeta::decode_footer(&footer, file_len).map_err(|w| Error::corruption(&path, footer_offset, w))?;
        if let Some(id) = id
            && meta.id != id
        {
            let what = format!("blob footer names file {}, expected {id}", meta.id);
            return Err(Error::corruption(&path, footer_offset, what));
        }
        Ok(BlobFile { path, file, meta })
    }

    /// The file's id.
    pub fn id(&self) -> BlobFileId {
        self.meta.id
    }

    /// The path the file was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the footer says the file holds.
    pub fn meta(&self) -> &BlobFileMeta {
        &self.meta
    }

    /// Reads and verifies the record `r` points at.
    pub fn read(&self, r: &BlobRef) -> Result<BlobRecord> {
        if r.file != self.meta.id {
            return Err(Error::invalid(format!("blob reference to file {} read from file {}", r.file, self.meta.id)));
        }
        let inside = r.offset.checked_add(u64::from(r.len_bytes)).is_some_and(|end| end <= self.meta.data_bytes);
        if !inside || (r.len_bytes as usize) < RECORD_HEADER_BYTES {
            return Err(self.corrupt(r.offset, "blob reference outside the data region"));
        }
        self.read_record(r.offset, r.len_bytes as usize)
    }

    /// Reads the value `r` points at, checking it was written under `key`.
    pub fn read_value(&self, r: &BlobRef, key: &[u8]) -> Result<Vec<u8>> {
        let record = self.read(r)?;
        if record.key != key {
            return Err(self.corrupt(r.offset, "blob record holds a different key"));
        }
        Ok(record.value)
    }

    /// Every record with its reference, in file order (for GC and verify).
    pub fn iter(&self) -> BlobIter<'_> {
        BlobIter { file: self, offset: 0, done: false }
    }

    /// Reads and checks every record and the footer's totals.
    pub fn verify(&self) -> Result<()> {
        let (mut count, mut raw) = (0u64, 0u64);
        for item in self.iter() {
            let (_, record) = item?;
            count += 1;
            raw += record.value.len() as u64;
        }
        if (count, raw) != (self.meta.record_count, self.meta.raw_value_bytes) {
            return Err(self.corrupt(self.meta.data_bytes, "record totals differ from the footer"));
        }
        Ok(())
    }

    fn read_record(&self, offset: u64, len: usize) -> Result<BlobRecord> {
        let mut bytes = vec![0u8; len];
        self.file.read_exact_at(&mut bytes, offset)?;
        decode_record(&bytes).map_err(|w| self.corrupt(offset, w))
    }

    /// The record starting at `offset`, whose header has not been read yet.
    fn record_at(&self, offset: u64) -> Result<(BlobRef, BlobRecord)> {
        let left = self.meta.data_bytes - offset;
        if left < RECORD_HEADER_BYTES as u64 {
            return Err(self.corrupt(offset, "blob record header runs past the data region"));
        }
        let mut header = [0u8; RECORD_HEADER_BYTES];
        self.file.read_exact_at(&mut header, offset)?;
        let len = record_len(&header).filter(|&n| n <= left && n <= u64::from(u32::MAX));
        let len = len.ok_or_else(|| self.corrupt(offset, "blob record runs past the data region"))?;
        let record = self.read_record(offset, len as usize)?;
        Ok((BlobRef { file: self.meta.id, offset, len_bytes: len as u32 }, record))
    }

    fn corrupt(&self, offset: u64, what: &str) -> Error {
        Error::corruption(&self.path, offset, what)
    }
}

/// Walks a blob file's records in order. Yields `Err` at most once, then ends.
#[derive(Debug)]
pub struct BlobIter<'a> {
    file: &'a BlobFile,
    offset: u64,
    done: bool,
}

impl Iterator for BlobIter<'_> {
    type Item = Result<(BlobRef, BlobRecord)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.offset >= self.file.meta.data_bytes {
            return None;
        }
        let item = self.file.record_at(self.offset);
        match &item {
            Ok((r, _)) => self.offset += u64::from(r.len_bytes),
            Err(_) => self.done = true,
        }
        Some(item)
    }
}
