//! [`DumpWriter`]: writes a dump stream; [`dump`] writes a snapshot's.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use super::DumpProgress;
use super::format::{
    HEADER_BYTES, RECORD_OVERHEAD_BYTES, TRAILER_BYTES, encode_header, encode_record_prefix, encode_trailer,
};
use crate::{Error, Result, SeqNo, Snapshot};

/// Writes a dump to any [`Write`]: the header when made, one record per
/// [`put`](Self::put) in strictly ascending key order, and the trailer at
/// [`finish`](Self::finish). A stream not finished ends without a trailer,
/// which every reader refuses.
pub struct DumpWriter<W: Write> {
    out: W,
    name: PathBuf,
    records_checksum: Xxh3,
    progress: DumpProgress,
    last_key: Option<Vec<u8>>,
}

impl<W: Write> std::fmt::Debug for DumpWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpWriter").field("name", &self.name).field("progress", &self.progress).finish_non_exhaustive()
    }
}

/// What a finished dump holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpInfo {
    /// The seqno it is exact at.
    pub seqno: SeqNo,
    /// Records (keys) it holds.
    pub records: u64,
    /// Its length in bytes, header and trailer included.
    pub bytes: u64,
    /// False when the progress callback stopped it: then it has no
    /// trailer, and readers refuse it as truncated.
    pub complete: bool,
}

impl<W: Write> DumpWriter<W> {
    /// Starts a dump of the database as of `seqno` on `out`; `name` (a
    /// path, or `<stdout>`) names it in errors.
    pub fn new(mut out: W, name: impl Into<PathBuf>, seqno: SeqNo) -> Result<DumpWriter<W>> {
        let name = name.into();
        out.write_all(&encode_header(seqno)).map_err(|e| Error::io("write", &name, e))?;
        let progress = DumpProgress { records: 0, bytes: HEADER_BYTES as u64 };
        Ok(DumpWriter { out, name, records_checksum: Xxh3::new(), progress, last_key: None })
    }

    /// Appends `key` and its `value`. Keys must come in strictly ascending
    /// order and within the database's limits (else `InvalidArgument`).
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if self.last_key.as_deref().is_some_and(|last| last >= key) {
            return Err(Error::invalid("dump records must come in strictly ascending key order"));
        }
        let prefix = encode_record_prefix(key, value)?;
        let sum = record_checksum(&prefix, key, value).to_le_bytes();
        for part in [&prefix[..], key, value, &sum] {
            self.records_checksum.update(part);
            self.out.write_all(part).map_err(|e| Error::io("write", &self.name, e))?;
        }
        self.progress.records += 1;
        self.progress.bytes += (RECORD_OVERHEAD_BYTES + key.len() + value.len()) as u64;
        match &mut self.last_key {
            Some(last) => {
                last.clear();
                last.extend_from_slice(key);
            }
            None => self.last_key = Some(key.to_vec()),
        }
        Ok(())
    }

    /// Records and bytes written so far.
    pub fn progress(&self) -> DumpProgress {
        self.progress
    }

    /// Writes the trailer and flushes; returns the output and the record
    /// and byte counts (the seqno is the caller's).
    pub fn finish(mut self) -> Result<(W, DumpProgress)> {
        let trailer = encode_trailer(self.progress.records, self.records_checksum.digest());
        debug_assert_eq!(trailer.len(), TRAILER_BYTES);
        self.out.write_all(&trailer).map_err(|e| Error::io("write", &self.name, e))?;
        self.out.flush().map_err(|e| Error::io("write", &self.name, e))?;
        self.progress.bytes += TRAILER_BYTES as u64;
        Ok((self.out, self.progress))
    }

    /// The name errors give the stream.
    pub fn name(&self) -> &Path {
        &self.name
    }
}

/// Writes every key `snapshot` sees, with its value, to `out` as a dump
/// exact at the snapshot's seqno. `progress` is told after each record;
/// when it breaks, the dump stops without its trailer (so no reader takes
/// it for whole) and `complete` is false. Returns what it wrote (and
/// flushed; syncing a file is the caller's).
pub fn dump(
    snapshot: &Snapshot,
    out: impl Write,
    name: impl Into<PathBuf>,
    progress: &mut dyn FnMut(DumpProgress) -> ControlFlow<()>,
) -> Result<DumpInfo> {
    let seqno = snapshot.seqno();
    let mut writer = DumpWriter::new(out, name, seqno)?;
    for entry in snapshot.iter() {
        let (key, value) = entry?;
        writer.put(&key, &value)?;
        if progress(writer.progress()).is_break() {
            let done = writer.progress();
            writer.out.flush().map_err(|e| Error::io("write", &writer.name, e))?;
            return Ok(DumpInfo { seqno, records: done.records, bytes: done.bytes, complete: false });
        }
    }
    let (_, done) = writer.finish()?;
    let _ = progress(done);
    Ok(DumpInfo { seqno, records: done.records, bytes: done.bytes, complete: true })
}

/// The xxh3 of one record's bytes before its checksum (for the reader's
/// check, which sees the parts separately).
pub(crate) fn record_checksum(prefix: &[u8], key: &[u8], value: &[u8]) -> u64 {
    let mut hasher = Xxh3::new();
    for part in [prefix, key, value] {
        hasher.update(part);
    }
    hasher.digest()
}
