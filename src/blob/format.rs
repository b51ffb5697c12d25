//! The byte layout of blob files: records, then a footer.
//!
//! ```text
//! record (repeated from offset 0):
//!  0   8  checksum     xxh3-64 of bytes 8.. of the record
//!  8   8  seqno
//! 16   4  key_len
//! 20   4  stored_len   value bytes as stored
//! 24   4  raw_len      value bytes after decompression
//! 28   1  compression  0 = none, 1 = lz4 block
//! 29   3  reserved     0
//! 32   ..  key, then the stored value
//!
//! footer (the last 64 bytes):
//!  0   8  record_count
//!  8   8  data_bytes          end of the last record = offset of the footer
//! 16   8  raw_value_bytes     value bytes before compression
//! 24   8  stored_value_bytes  value bytes as stored
//! 32   8  blob_file_id
//! 40   4  format version      (BLOB_FORMAT_VERSION)
//! 44   4  reserved            0
//! 48   8  checksum            xxh3-64 of footer bytes 0..48
//! 56   8  magic               BLOB_MAGIC
//! ```

use crate::table::{KEY_BYTES_MAX, VALUE_BYTES_MAX};
use crate::wire::{Cursor, checksum, get_u64, put_u32, put_u64};
use crate::{BlobFileId, SeqNo};

/// Offset of a record's checksum.
pub(crate) const RECORD_CHECKSUM_OFFSET: usize = 0;
/// Offset of a record's seqno.
pub(crate) const RECORD_SEQNO_OFFSET: usize = RECORD_CHECKSUM_OFFSET + 8;
/// Offset of a record's key length.
pub(crate) const RECORD_KEY_LEN_OFFSET: usize = RECORD_SEQNO_OFFSET + 8;
/// Offset of a record's stored value length.
pub(crate) const RECORD_STORED_LEN_OFFSET: usize = RECORD_KEY_LEN_OFFSET + 4;
/// Offset of a record's raw value length.
pub(crate) const RECORD_RAW_LEN_OFFSET: usize = RECORD_STORED_LEN_OFFSET + 4;
/// Offset of a record's compression byte.
pub(crate) const RECORD_COMPRESSION_OFFSET: usize = RECORD_RAW_LEN_OFFSET + 4;
/// Size of a record header.
pub const RECORD_HEADER_BYTES: usize = RECORD_COMPRESSION_OFFSET + 4;
const _: () = assert!(RECORD_HEADER_BYTES == 32);

/// Offset of the record count in the footer.
pub(crate) const FOOTER_RECORD_COUNT_OFFSET: usize = 0;
/// Offset of the data size.
pub(crate) const FOOTER_DATA_BYTES_OFFSET: usize = FOOTER_RECORD_COUNT_OFFSET + 8;
/// Offset of the raw value byte count.
pub(crate) const FOOTER_RAW_VALUE_BYTES_OFFSET: usize = FOOTER_DATA_BYTES_OFFSET + 8;
/// Offset of the stored value byte count.
pub(crate) const FOOTER_STORED_VALUE_BYTES_OFFSET: usize = FOOTER_RAW_VALUE_BYTES_OFFSET + 8;
/// Offset of the blob file id.
pub(crate) const FOOTER_FILE_ID_OFFSET: usize = FOOTER_STORED_VALUE_BYTES_OFFSET + 8;
/// Offset of the format version.
pub(crate) const FOOTER_VERSION_OFFSET: usize = FOOTER_FILE_ID_OFFSET + 8;
/// Offset of the footer checksum.
pub(crate) const FOOTER_CHECKSUM_OFFSET: usize = FOOTER_VERSION_OFFSET + 8;
/// Offset of the magic number.
pub(crate) const FOOTER_MAGIC_OFFSET: usize = FOOTER_CHECKSUM_OFFSET + 8;
/// Size of a blob file footer.
pub const BLOB_FOOTER_BYTES: usize = FOOTER_MAGIC_OFFSET + 8;
const _: () = assert!(BLOB_FOOTER_BYTES == 64);

/// Identifies a sealed cairndb blob file: "cairnBLB" as a little-endian u64.
pub const BLOB_MAGIC: u64 = u64::from_le_bytes(*b"cairnBLB");
/// The blob format version this code writes and reads.
pub const BLOB_FORMAT_VERSION: u32 = 1;

const COMPRESSION_NONE: u8 = 0;
const COMPRESSION_LZ4: u8 = 1;

/// One record of a blob file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobRecord {
    /// The key the value was written under.
    pub key: Vec<u8>,
    /// The write's seqno.
    pub seqno: SeqNo,
    /// The value, decompressed.
    pub value: Vec<u8>,
}

/// Appends a record to `out`; compresses when asked and when it helps.
/// Returns the stored value length.
pub(crate) fn encode_record(key: &[u8], seqno: SeqNo, value: &[u8], compress: bool, out: &mut Vec<u8>) -> usize {
    let compressed = if compress { Some(lz4_flex::block::compress(value)) } else { None };
    let (compression, stored) = match &compressed {
        Some(c) if c.len() < value.len() => (COMPRESSION_LZ4, c.as_slice()),
        _ => (COMPRESSION_NONE, value),
    };
    let start = out.len();
    put_u64(out, 0);
    put_u64(out, seqno.get());
    put_u32(out, key.len() as u32);
    put_u32(out, stored.len() as u32);
    put_u32(out, value.len() as u32);
    out.extend_from_slice(&[compression, 0, 0, 0]);
    debug_assert_eq!(out.len() - start, RECORD_HEADER_BYTES);
    out.extend_from_slice(key);
    out.extend_from_slice(stored);
    let sum = checksum(&out[start + RECORD_SEQNO_OFFSET..]);
    out[start..start + 8].copy_from_slice(&sum.to_le_bytes());
    stored.len()
}

/// The whole length of the record whose header starts `header`, from its
/// unverified length fields; the caller bounds it before reading.
pub(crate) fn record_len(header: &[u8]) -> Option<u64> {
    let mut c = Cursor::at(header, RECORD_KEY_LEN_OFFSET);
    let key_len = u64::from(c.u32()?);
    let stored_len = u64::from(c.u32()?);
    Some(RECORD_HEADER_BYTES as u64 + key_len + stored_len)
}

/// Verifies and decodes one whole record.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<BlobRecord, &'static str> {
    let mut c = Cursor::new(bytes);
    let short = "blob record shorter than its header";
    let sum = c.u64().ok_or(short)?;
    if checksum(&bytes[RECORD_SEQNO_OFFSET..]) != sum {
        return Err("blob record checksum mismatch");
    }
    let seqno = SeqNo(c.u64().ok_or(short)?);
    let key_len = c.u32().ok_or(short)? as usize;
    let stored_len = c.u32().ok_or(short)? as usize;
    let raw_len = c.u32().ok_or(short)? as usize;
    let compression = c.u8().ok_or(short)?;
    c.take(3).ok_or(short)?;
    if key_len > KEY_BYTES_MAX || raw_len > VALUE_BYTES_MAX {
        return Err("blob record lengths out of range");
    }
    let key = c.take(key_len).ok_or("blob record key runs past the record")?.to_vec();
    let stored = c.take(stored_len).ok_or("blob record value runs past the record")?;
    if c.remaining() != 0 {
        return Err("blob record longer than its fields");
    }
    let value = match compression {
        COMPRESSION_NONE if raw_len == stored.len() => stored.to_vec(),
        COMPRESSION_LZ4 => crate::table::decompress_lz4(stored, raw_len)?,
        _ => return Err("blob record has a bad compression or length"),
    };
    Ok(BlobRecord { key, seqno, value })
}

/// What a sealed blob file holds, as its footer says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BlobFileMeta {
    /// The file's id, as recorded in its footer.
    pub id: BlobFileId,
    /// Records in the file.
    pub record_count: u64,
    /// Bytes of records (the footer starts here).
    pub data_bytes: u64,
    /// Value bytes before compression.
    pub raw_value_bytes: u64,
    /// Value bytes as stored.
    pub stored_value_bytes: u64,
    /// Size of the whole file.
    pub file_size_bytes: u64,
}

impl BlobFileMeta {
    /// Encodes the footer.
    pub(crate) fn encode_footer(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(BLOB_FOOTER_BYTES);
        for v in [self.record_count, self.data_bytes, self.raw_value_bytes, self.stored_value_bytes, self.id.get()] {
            put_u64(&mut out, v);
        }
        put_u32(&mut out, BLOB_FORMAT_VERSION);
        put_u32(&mut out, 0);
        let sum = checksum(&out);
        put_u64(&mut out, sum);
        put_u64(&mut out, BLOB_MAGIC);
        debug_assert_eq!(out.len(), BLOB_FOOTER_BYTES);
        out
    }

    /// Decodes and checks the footer of a file of `file_len` bytes.
    pub(crate) fn decode_footer(bytes: &[u8], file_len: u64) -> Result<Self, &'static str> {
        if get_u64(bytes, FOOTER_MAGIC_OFFSET) != Some(BLOB_MAGIC) {
            return Err("not a sealed cairndb blob file (bad magic)");
        }
        let covered = bytes.get(..FOOTER_CHECKSUM_OFFSET).ok_or("blob footer too short")?;
        if get_u64(bytes, FOOTER_CHECKSUM_OFFSET) != Some(checksum(covered)) {
            return Err("blob footer checksum mismatch");
        }
        let mut c = Cursor::new(covered);
        let mut v = [0u64; 5];
        for x in &mut v {
            *x = c.u64().ok_or("blob footer too short")?;
        }
        if c.u32() != Some(BLOB_FORMAT_VERSION) {
            return Err("unsupported blob format version");
        }
        let [record_count, data_bytes, raw_value_bytes, stored_value_bytes, id] = v;
        if data_bytes.checked_add(BLOB_FOOTER_BYTES as u64) != Some(file_len) {
            return Err("blob footer's data size disagrees with the file size");
        }
        let id = BlobFileId(id);
        let file_size_bytes = file_len;
        Ok(BlobFileMeta { id, record_count, data_bytes, raw_value_bytes, stored_value_bytes, file_size_bytes })
    }
}
