//! Log segment files `log/{n}.hlog`: header format, naming and listing.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "CAIRNHLG"
//!      8     4  format version (1)
//!     12     4  page size in bytes
//!     16     8  segment number n
//!     24     8  start address: the log address of the byte at HEADER_BYTES
//!     32     8  reserved, zero
//!     40     8  xxh3-64 of bytes [0, 40)
//!     48     .  log bytes: the byte at file offset HEADER_BYTES + i has
//!               address start + i
//! ```

use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

use crate::fs::{FileKind, Fs};
use crate::{Error, LogAddress, Result};

/// Identifies a segment file.
pub const MAGIC: [u8; 8] = *b"CAIRNHLG";
/// The segment format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const VERSION_OFFSET: usize = MAGIC.len();
const PAGE_SIZE_OFFSET: usize = VERSION_OFFSET + 4;
const NUMBER_OFFSET: usize = PAGE_SIZE_OFFSET + 4;
const START_OFFSET: usize = NUMBER_OFFSET + 8;
const RESERVED_OFFSET: usize = START_OFFSET + 8;
const CHECKSUM_OFFSET: usize = RESERVED_OFFSET + 8;
/// Length of the segment header; log bytes start here.
pub const HEADER_BYTES: usize = CHECKSUM_OFFSET + 8;
/// File name extension of segments.
pub const EXTENSION: &str = "hlog";

const _: () = assert!(HEADER_BYTES == 48);

/// A parsed segment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Page size of the log that wrote it.
    pub page_size_bytes: u32,
    /// The `n` of `{n}.hlog`.
    pub number: u64,
    /// Address of the first log byte in the file.
    pub start: u64,
}

impl SegmentHeader {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut out = [0u8; HEADER_BYTES];
        out[..VERSION_OFFSET].copy_from_slice(&MAGIC);
        out[VERSION_OFFSET..PAGE_SIZE_OFFSET].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[PAGE_SIZE_OFFSET..NUMBER_OFFSET].copy_from_slice(&self.page_size_bytes.to_le_bytes());
        out[NUMBER_OFFSET..START_OFFSET].copy_from_slice(&self.number.to_le_bytes());
        out[START_OFFSET..RESERVED_OFFSET].copy_from_slice(&self.start.to_le_bytes());
        let sum = xxh3_64(&out[..CHECKSUM_OFFSET]);
        out[CHECKSUM_OFFSET..].copy_from_slice(&sum.to_le_bytes());
        out
    }

    /// Parses and verifies a header; `Err` says what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<SegmentHeader, &'static str> {
        if bytes.len() < HEADER_BYTES {
            return Err("file shorter than a segment header");
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        if bytes[..VERSION_OFFSET] != MAGIC {
            return Err("bad segment magic");
        }
        if xxh3_64(&bytes[..CHECKSUM_OFFSET]) != u64_at(CHECKSUM_OFFSET) {
            return Err("segment header checksum mismatch");
        }
        if u32_at(VERSION_OFFSET) != FORMAT_VERSION {
            return Err("unsupported segment format version");
        }
        let page_size_bytes = u32_at(PAGE_SIZE_OFFSET);
        if page_size_bytes < 64 || !page_size_bytes.is_multiple_of(8) {
            return Err("segment page size out of range");
        }
        Ok(SegmentHeader { page_size_bytes, number: u64_at(NUMBER_OFFSET), start: u64_at(START_OFFSET) })
    }
}

/// The path of segment `number` in `log_dir`.
pub fn path(log_dir: &Path, number: u64) -> PathBuf {
    log_dir.join(format!("{number}.{EXTENSION}"))
}

/// Parses `{n}.hlog` (canonical decimal only).
pub fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(EXTENSION)?.strip_suffix('.')?;
    let number: u64 = digits.parse().ok()?;
    (number.to_string() == digits).then_some(number)
}

/// Segment numbers present in `log_dir`, ascending.
pub fn list(fs: &dyn Fs, log_dir: &Path) -> Result<Vec<u64>> {
    let mut numbers: Vec<u64> = fs
        .read_dir(log_dir)?
        .into_iter()
        .filter(|e| e.kind == FileKind::File)
        .filter_map(|e| parse_name(e.name.to_str()?))
        .collect();
    numbers.sort_unstable();
    Ok(numbers)
}

/// A log segment file and the address range it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The `n` of `log/{n}.hlog`.
    pub number: u64,
    /// The file.
    pub path: PathBuf,
    /// Address of its first log byte.
    pub start: LogAddress,
    /// Address after its last durable byte.
    pub durable_end: LogAddress,
    /// File length covering exactly the durable bytes (header included):
    /// a checkpoint copies this many bytes.
    pub durable_len_bytes: u64,
    /// Sealed: the file will never be written again (safe to link).
    pub sealed: bool,
}

/// An error for a segment whose bytes cannot be trusted.
pub(crate) fn corrupt(log_dir: &Path, number: u64, offset: u64, what: impl Into<String>) -> Error {
    Error::corruption(&path(log_dir, number), offset, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_damage() {
        let h = SegmentHeader { page_size_bytes: 4096, number: 7, start: 1 << 20 };
        let mut bytes = h.encode();
        assert_eq!(SegmentHeader::decode(&bytes), Ok(h));
        bytes[20] ^= 1;
        assert!(SegmentHeader::decode(&bytes).is_err());
        assert!(SegmentHeader::decode(&bytes[..10]).is_err());
    }

    #[test]
    fn names_parse_canonically() {
        assert_eq!(parse_name("12.hlog"), Some(12));
        assert_eq!(parse_name("012.hlog"), None);
        assert_eq!(parse_name("12.hlog.tmp"), None);
        assert_eq!(path(Path::new("log"), 3), PathBuf::from("log/3.hlog"));
    }
}
