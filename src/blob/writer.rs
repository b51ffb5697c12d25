//! [`BlobWriter`]: appends large values to a new blob file, then seals it.

use std::path::Path;

use super::blob_ref::BlobRef;
use super::format::{BlobFileMeta, encode_record};
use crate::fs::{Fs, FsFile, OpenOptions};
use crate::table::{KEY_BYTES_MAX, VALUE_BYTES_MAX};
use crate::{BlobFileId, Error, Result, SeqNo};

/// Bytes gathered before one write to the file.
const WRITE_BUFFER_BYTES: usize = 256 << 10;

/// How a blob file is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlobOptions {
    /// Compress each value with lz4 (kept only when it makes it smaller).
    pub compression: bool,
}

/// Writes one blob file.
///
/// [`add`](Self::add) returns the reference to store in a table at once,
/// but the record is durable only after [`finish`](Self::finish) seals the
/// file (footer, fsync). Seal a blob file before any table referencing it
/// becomes part of a version; syncing the directory entry is the caller's
/// job. A sealed file is never written again.
#[derive(Debug)]
pub struct BlobWriter {
    file: Box<dyn FsFile>,
    options: BlobOptions,
    pending: Vec<u8>,
    pending_offset: u64,
    meta: BlobFileMeta,
}

impl BlobWriter {
    /// Creates the blob file `id` at `path`, which must not exist.
    pub fn new(fs: &dyn Fs, path: &Path, id: BlobFileId, options: BlobOptions) -> Result<Self> {
        let file = fs.open(path, OpenOptions::create_new())?;
        let meta = BlobFileMeta { id, ..BlobFileMeta::default() };
        Ok(BlobWriter { file, options, pending: Vec::new(), pending_offset: 0, meta })
    }

    /// Appends a record and returns where it lies.
    pub fn add(&mut self, key: &[u8], seqno: SeqNo, value: &[u8]) -> Result<BlobRef> {
        if key.len() > KEY_BYTES_MAX || value.len() > VALUE_BYTES_MAX {
            return Err(Error::invalid(format!(
                "key of {} bytes or value of {} bytes exceeds the blob limits ({KEY_BYTES_MAX}, {VALUE_BYTES_MAX})",
                key.len(),
                value.len()
            )));
        }
        let start = self.pending.len();
        let stored = encode_record(key, seqno, value, self.options.compression, &mut self.pending);
        let len = u32::try_from(self.pending.len() - start).expect("records are under 4 GiB");
        let blob_ref = BlobRef { file: self.meta.id, offset: self.pending_offset + start as u64, len_bytes: len };
        self.meta.record_count += 1;
        self.meta.raw_value_bytes += value.len() as u64;
        self.meta.stored_value_bytes += stored as u64;
        if self.pending.len() >= WRITE_BUFFER_BYTES {
            self.write_pending()?;
        }
        Ok(blob_ref)
    }

    /// Bytes of records so far, for callers that cut files at a target size.
    pub fn data_size_bytes(&self) -> u64 {
        self.pending_offset + self.pending.len() as u64
    }

    /// Records so far.
    pub fn record_count(&self) -> u64 {
        self.meta.record_count
    }

    fn write_pending(&mut self) -> Result<()> {
        self.file.write_all_at(&self.pending, self.pending_offset)?;
        self.pending_offset += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }

    /// Seals the file: writes the footer and fsyncs.
    pub fn finish(mut self) -> Result<BlobFileMeta> {
        self.meta.data_bytes = self.data_size_bytes();
        let footer = self.meta.encode_footer();
        self.pending.extend_from_slice(&footer);
        self.write_pending()?;
        self.file.sync_data()?;
        self.meta.file_size_bytes = self.pending_offset;
        Ok(self.meta)
    }
}
