//! [`DumpReader`]: reads and checks a dump stream; [`load`] writes one
//! into a database.

use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use super::DumpProgress;
use super::format::{
    HEADER_BYTES, KIND_END, KIND_ENTRY, RECORD_PREFIX_BYTES, TRAILER_BYTES, check_trailer, decode_header,
    decode_record_prefix,
};
use super::writer::record_checksum;
use crate::{Db, Error, Result, SeqNo, WriteBatch};

/// A key or value is read in steps of at most this many bytes, so a
/// length the stream does not back with bytes allocates no more than that.
const READ_STEP_BYTES: usize = 1 << 20;

/// A load writes a batch once it holds this many bytes of keys and values...
const LOAD_BATCH_BYTES: usize = 4 << 20;
/// ...or this many records.
const LOAD_BATCH_RECORDS: usize = 4096;

/// Reads a dump from any [`Read`], front to back, checking as it goes:
/// the header when made, each record's checksum, length bounds and key
/// order as it is read, and the trailer's count and checksum of all
/// records at the end, after which the stream must end. Every problem is
/// `Error::Corruption` naming the stream and the byte offset; the reader
/// then stops. As an iterator it yields `(key, value)` pairs in key order.
pub struct DumpReader<R: Read> {
    input: R,
    name: PathBuf,
    seqno: SeqNo,
    records_checksum: Xxh3,
    progress: DumpProgress,
    last_key: Option<Vec<u8>>,
    /// Set once the trailer checked out, or at the first error.
    finished: bool,
}

impl<R: Read> std::fmt::Debug for DumpReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpReader").field("name", &self.name).field("progress", &self.progress).finish_non_exhaustive()
    }
}

impl<R: Read> DumpReader<R> {
    /// Reads and checks the header of the dump on `input`; `name` (a path,
    /// or `<stdin>`) names it in errors.
    pub fn new(input: R, name: impl Into<PathBuf>) -> Result<DumpReader<R>> {
        let mut reader = DumpReader {
            input,
            name: name.into(),
            seqno: SeqNo(0),
            records_checksum: Xxh3::new(),
            progress: DumpProgress::default(),
            last_key: None,
            finished: false,
        };
        let mut header = [0u8; HEADER_BYTES];
        reader.read_exact(&mut header, "the header")?;
        reader.seqno = decode_header(&reader.name, &header)?;
        Ok(reader)
    }

    /// The seqno the dump is exact at.
    pub fn seqno(&self) -> SeqNo {
        self.seqno
    }

    /// The name errors give the stream.
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// Records and bytes read so far.
    pub fn progress(&self) -> DumpProgress {
        self.progress
    }

    /// The next key and value, or `None` after a trailer that checked out
    /// (and the end of the stream right after it).
    pub fn next_record(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        if self.finished {
            return Ok(None);
        }
        let result = self.read_record();
        if !matches!(result, Ok(Some(_))) {
            self.finished = true;
        }
        result
    }

    fn read_record(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let start = self.progress.bytes;
        let mut prefix = [0u8; RECORD_PREFIX_BYTES];
        self.read_exact(&mut prefix[..1], "the trailer (the dump was cut short)")?;
        match prefix[0] {
            KIND_ENTRY => {}
            KIND_END => return self.read_trailer(start).map(|()| None),
            kind => return Err(Error::corruption(&self.name, start, format!("unknown record kind {kind:#04x}"))),
        }
        self.read_exact(&mut prefix[1..], "a record")?;
        let (key_len, value_len) = decode_record_prefix(&self.name, start, &prefix)?;
        let key = self.read_bounded(key_len, "a key")?;
        let value = self.read_bounded(value_len, "a value")?;
        let mut sum = [0u8; 8];
        self.read_exact(&mut sum, "a record's checksum")?;
        if u64::from_le_bytes(sum) != record_checksum(&prefix, &key, &value) {
            return Err(Error::corruption(&self.name, start, "record checksum mismatch"));
        }
        if self.last_key.as_ref().is_some_and(|last| *last >= key) {
            return Err(Error::corruption(
                &self.name,
                start,
                "keys out of order (a dump holds each key once, ascending)",
            ));
        }
        for part in [&prefix[..], &key, &value, &sum] {
            self.records_checksum.update(part);
        }
        self.progress.records += 1;
        self.last_key = Some(key.clone());
        Ok(Some((key, value)))
    }

    fn read_trailer(&mut self, start: u64) -> Result<()> {
        let mut trailer = [0u8; TRAILER_BYTES];
        trailer[0] = KIND_END;
        self.read_exact(&mut trailer[1..], "the trailer")?;
        check_trailer(&self.name, start, &trailer, self.progress.records, self.records_checksum.digest())?;
        let mut after = [0u8; 1];
        match self.input.read(&mut after) {
            Ok(0) => Ok(()),
            Ok(_) => Err(Error::corruption(&self.name, self.progress.bytes, "bytes after the trailer")),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => self.read_trailer_end(),
            Err(e) => Err(Error::io("read", &self.name, e)),
        }
    }

    /// The end-of-stream check after an interrupted read.
    fn read_trailer_end(&mut self) -> Result<()> {
        let mut rest = Vec::new();
        (&mut self.input).take(1).read_to_end(&mut rest).map_err(|e| Error::io("read", &self.name, e))?;
        match rest.is_empty() {
            true => Ok(()),
            false => Err(Error::corruption(&self.name, self.progress.bytes, "bytes after the trailer")),
        }
    }

    /// Fills `buf`; a stream that ends first is corruption naming `what`
    /// it was cut inside.
    fn read_exact(&mut self, buf: &mut [u8], what: &str) -> Result<()> {
        match self.input.read_exact(buf) {
            Ok(()) => {
                self.progress.bytes += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(self.truncated(what)),
            Err(e) => Err(Error::io("read", &self.name, e)),
        }
    }

    /// Reads `len` bytes (already bounded by the format's limits) in steps,
    /// so memory follows the bytes that arrive, not the length claimed.
    fn read_bounded(&mut self, len: usize, what: &str) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(len.min(READ_STEP_BYTES));
        let read = (&mut self.input).take(len as u64).read_to_end(&mut out);
        read.map_err(|e| Error::io("read", &self.name, e))?;
        self.progress.bytes += out.len() as u64;
        match out.len() == len {
            true => Ok(out),
            false => Err(self.truncated(what)),
        }
    }

    fn truncated(&self, what: &str) -> Error {
        let at = self.progress.bytes;
        let records = match self.progress.records {
            1 => "1 record".to_owned(),
            n => format!("{n} records"),
        };
        Error::corruption(&self.name, at, format!("truncated: the stream ends inside {what}, after {records}"))
    }
}

impl<R: Read> Iterator for DumpReader<R> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// What a load wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadInfo {
    /// The seqno the dump was exact at (in its source).
    pub dump_seqno: SeqNo,
    /// Records written into the database.
    pub records: u64,
    /// Bytes of the stream read.
    pub bytes: u64,
    /// The database's seqno after the load.
    pub seqno: SeqNo,
    /// False when the progress callback stopped it before the trailer.
    pub complete: bool,
}

/// Writes every record of `reader` into `db` (in atomic batches, each key
/// set to its value; keys the dump lacks are left as they are), then
/// persists, so what it wrote is durable when it returns. `progress` is
/// told after each batch; when it breaks, the load persists what it wrote
/// and stops (`complete` false). A damaged stream stops the load at the
/// bad record with `Error::Corruption`: the batches written before it
/// stay (every record in them passed its checksum), and the caller knows
/// how many from `progress`.
pub fn load<R: Read>(
    db: &Db,
    mut reader: DumpReader<R>,
    progress: &mut dyn FnMut(DumpProgress) -> ControlFlow<()>,
) -> Result<LoadInfo> {
    let mut batch = WriteBatch::new();
    let (mut batch_bytes, mut written) = (0, 0);
    let mut complete = true;
    while let Some((key, value)) = reader.next_record()? {
        batch_bytes += key.len() + value.len();
        batch = batch.put(key, value);
        if batch_bytes >= LOAD_BATCH_BYTES || batch.len() >= LOAD_BATCH_RECORDS {
            written += batch.len() as u64;
            db.write(std::mem::take(&mut batch))?;
            batch_bytes = 0;
            if progress(DumpProgress { records: written, bytes: reader.progress().bytes }).is_break() {
                complete = false;
                break;
            }
        }
    }
    if !batch.is_empty() {
        written += batch.len() as u64;
        db.write(batch)?;
    }
    db.persist()?;
    let done = DumpProgress { records: written, bytes: reader.progress().bytes };
    let _ = progress(done);
    Ok(LoadInfo { dump_seqno: reader.seqno(), records: written, bytes: done.bytes, seqno: db.stats().seqno, complete })
}
