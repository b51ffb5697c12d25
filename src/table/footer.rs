//! The table footer: the last [`FOOTER_BYTES`] of every table.
//!
//! ```text
//!  0  12  meta handle    (offset u64, len u32)
//! 12  12  index handle
//! 24  12  filter handle
//! 36   4  format version (TABLE_FORMAT_VERSION)
//! 40   8  checksum       xxh3-64 of footer bytes 0..40
//! 48   8  magic          TABLE_MAGIC
//! ```
//!
//! A table is laid out as data blocks, filter, index, meta, footer, each
//! starting where the previous ends; [`Footer::decode`] checks that tiling.

use super::frame::{BLOCK_HANDLE_BYTES, BlockHandle, FRAME_HEADER_BYTES};
use crate::wire::{Cursor, checksum, get_u64, put_u32, put_u64};

/// Offset of the meta block handle.
pub(crate) const FOOTER_META_OFFSET: usize = 0;
/// Offset of the index block handle.
pub(crate) const FOOTER_INDEX_OFFSET: usize = FOOTER_META_OFFSET + BLOCK_HANDLE_BYTES;
/// Offset of the filter block handle.
pub(crate) const FOOTER_FILTER_OFFSET: usize = FOOTER_INDEX_OFFSET + BLOCK_HANDLE_BYTES;
/// Offset of the format version.
pub(crate) const FOOTER_VERSION_OFFSET: usize = FOOTER_FILTER_OFFSET + BLOCK_HANDLE_BYTES;
/// Offset of the footer checksum.
pub(crate) const FOOTER_CHECKSUM_OFFSET: usize = FOOTER_VERSION_OFFSET + 4;
/// Offset of the magic number.
pub(crate) const FOOTER_MAGIC_OFFSET: usize = FOOTER_CHECKSUM_OFFSET + 8;
/// Size of the footer.
pub const FOOTER_BYTES: usize = FOOTER_MAGIC_OFFSET + 8;
const _: () = assert!(FOOTER_BYTES == 56);

/// Identifies a cairndb table: "cairnSST" read as a little-endian u64.
pub const TABLE_MAGIC: u64 = u64::from_le_bytes(*b"cairnSST");
/// The table format version this code writes and reads.
pub const TABLE_FORMAT_VERSION: u32 = 1;

/// Where the table's non-data blocks lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Footer {
    pub(crate) meta: BlockHandle,
    pub(crate) index: BlockHandle,
    pub(crate) filter: BlockHandle,
}

impl Footer {
    /// Encodes the footer.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FOOTER_BYTES);
        self.meta.encode(&mut out);
        self.index.encode(&mut out);
        self.filter.encode(&mut out);
        put_u32(&mut out, TABLE_FORMAT_VERSION);
        let sum = checksum(&out);
        put_u64(&mut out, sum);
        put_u64(&mut out, TABLE_MAGIC);
        debug_assert_eq!(out.len(), FOOTER_BYTES);
        out
    }

    /// Decodes the footer of a file of `file_len` bytes and checks that the
    /// filter, index, meta and footer tile the end of the file.
    pub(crate) fn decode(bytes: &[u8], file_len: u64) -> Result<Footer, &'static str> {
        if get_u64(bytes, FOOTER_MAGIC_OFFSET) != Some(TABLE_MAGIC) {
            return Err("not a cairndb table (bad magic)");
        }
        let covered = bytes.get(..FOOTER_CHECKSUM_OFFSET).ok_or("footer too short")?;
        if get_u64(bytes, FOOTER_CHECKSUM_OFFSET) != Some(checksum(covered)) {
            return Err("footer checksum mismatch");
        }
        let mut c = Cursor::new(covered);
        let short = "footer too short";
        let meta = BlockHandle::decode(&mut c).ok_or(short)?;
        let index = BlockHandle::decode(&mut c).ok_or(short)?;
        let filter = BlockHandle::decode(&mut c).ok_or(short)?;
        if c.u32() != Some(TABLE_FORMAT_VERSION) {
            return Err("unsupported table format version");
        }
        let footer = Footer { meta, index, filter };
        footer.check_tiling(file_len)?;
        Ok(footer)
    }

    fn check_tiling(&self, file_len: u64) -> Result<(), &'static str> {
        let frames = [self.filter, self.index, self.meta];
        if frames.iter().any(|h| (h.len as usize) < FRAME_HEADER_BYTES) {
            return Err("footer handle shorter than a block header");
        }
        let tiled = Some(self.index.offset) == self.filter.end()
            && Some(self.meta.offset) == self.index.end()
            && self.meta.end().and_then(|end| end.checked_add(FOOTER_BYTES as u64)) == Some(file_len);
        if !tiled {
            return Err("footer handles do not tile the end of the file");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks() {
        let f = Footer {
            filter: BlockHandle { offset: 100, len: 30 },
            index: BlockHandle { offset: 130, len: 40 },
            meta: BlockHandle { offset: 170, len: 120 },
        };
        let bytes = f.encode();
        assert_eq!(Footer::decode(&bytes, 290 + FOOTER_BYTES as u64), Ok(f));
        assert!(Footer::decode(&bytes, 291 + FOOTER_BYTES as u64).is_err());
        let absurd = Footer { meta: BlockHandle { offset: 170, len: u32::MAX }, ..f };
        assert!(Footer::decode(&absurd.encode(), 290 + FOOTER_BYTES as u64).is_err());
        let wrapping = Footer { filter: BlockHandle { offset: u64::MAX - 10, len: 30 }, ..f };
        assert!(Footer::decode(&wrapping.encode(), 290 + FOOTER_BYTES as u64).is_err());
        for bit in 0..FOOTER_BYTES * 8 {
            let mut bad = bytes.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(Footer::decode(&bad, 290 + FOOTER_BYTES as u64).is_err(), "bit {bit}");
        }
    }
}
