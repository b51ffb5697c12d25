//! The frame around every block of a table: header, checksum, compression.
//!
//! ```text
//! offset  size  field
//!  0      8     checksum      xxh3-64 of bytes 8.. of the frame (rest of header + payload)
//!  8      4     stored_len    payload bytes as stored
//! 12      4     raw_len       payload bytes after decompression
//! 16      1     compression   0 = none, 1 = lz4 block
//! 17      1     kind          1 = data, 2 = index, 3 = filter, 4 = meta
//! 18      2     reserved      0
//! 20      ..    payload
//! ```
//!
//! The checksum is verified before anything else in the frame is trusted.

use crate::wire::{Cursor, checksum, put_u16, put_u32, put_u64};

/// Offset of the checksum in a frame header.
pub(crate) const CHECKSUM_OFFSET: usize = 0;
/// Offset of the stored payload length.
pub(crate) const STORED_LEN_OFFSET: usize = CHECKSUM_OFFSET + 8;
/// Offset of the decompressed payload length.
pub(crate) const RAW_LEN_OFFSET: usize = STORED_LEN_OFFSET + 4;
/// Offset of the compression byte.
pub(crate) const COMPRESSION_OFFSET: usize = RAW_LEN_OFFSET + 4;
/// Offset of the block-kind byte.
pub(crate) const KIND_OFFSET: usize = COMPRESSION_OFFSET + 1;
/// Offset of the reserved (zero) bytes.
pub(crate) const RESERVED_OFFSET: usize = KIND_OFFSET + 1;
/// Size of the frame header.
pub(crate) const FRAME_HEADER_BYTES: usize = RESERVED_OFFSET + 2;
const _: () = assert!(FRAME_HEADER_BYTES == 20);

/// Compression byte: payload stored as is.
pub(crate) const COMPRESSION_NONE: u8 = 0;
/// Compression byte: payload is one lz4 block.
pub(crate) const COMPRESSION_LZ4: u8 = 1;

/// lz4 cannot expand more than 255:1, so a larger claimed raw length is
/// corrupt; this bounds the allocation made for decompression.
pub(crate) const LZ4_EXPANSION_MAX: usize = 255;

/// Largest frame the writer produces and the reader accepts.
pub(crate) const FRAME_BYTES_MAX: usize = u32::MAX as usize;

/// What a block holds; stored in the frame so a handle pointing at the
/// wrong block is caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// Sorted entries.
    Data = 1,
    /// One entry per data block.
    Index = 2,
    /// The bloom filter.
    Filter = 3,
    /// Table metadata.
    Meta = 4,
}

/// Where a frame lies in the file: its offset and its whole length (header
/// included). Encoded as `offset u64, len u32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct BlockHandle {
    /// File offset of the frame.
    pub(crate) offset: u64,
    /// Length of the frame, header included.
    pub(crate) len: u32,
}

/// Encoded size of a [`BlockHandle`].
pub(crate) const BLOCK_HANDLE_BYTES: usize = 12;

impl BlockHandle {
    /// Appends the handle's encoding.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, self.offset);
        put_u32(out, self.len);
    }

    /// Reads a handle; `None` when the bytes run out.
    pub(crate) fn decode(c: &mut Cursor<'_>) -> Option<Self> {
        Some(BlockHandle { offset: c.u64()?, len: c.u32()? })
    }

    /// The offset just past the frame; `None` past `u64::MAX`.
    pub(crate) fn end(&self) -> Option<u64> {
        self.offset.checked_add(u64::from(self.len))
    }
}

/// Appends a frame holding `raw` to `out`; compresses with lz4 when asked
/// and when that makes it smaller.
pub(crate) fn encode_frame(kind: BlockKind, raw: &[u8], compress: bool, out: &mut Vec<u8>) {
    let compressed = if compress { Some(lz4_flex::block::compress(raw)) } else { None };
    let (compression, payload) = match &compressed {
        Some(c) if c.len() < raw.len() => (COMPRESSION_LZ4, c.as_slice()),
        _ => (COMPRESSION_NONE, raw),
    };
    assert!(FRAME_HEADER_BYTES + payload.len() <= FRAME_BYTES_MAX, "block too large");
    let start = out.len();
    put_u64(out, 0);
    put_u32(out, payload.len() as u32);
    put_u32(out, raw.len() as u32);
    out.push(compression);
    out.push(kind as u8);
    put_u16(out, 0);
    debug_assert_eq!(out.len() - start, FRAME_HEADER_BYTES);
    out.extend_from_slice(payload);
    let sum = checksum(&out[start + STORED_LEN_OFFSET..]);
    out[start..start + 8].copy_from_slice(&sum.to_le_bytes());
}

/// Verifies a whole frame (as read from its handle) and returns its
/// decompressed payload. The error names the check that failed.
pub(crate) fn decode_frame(kind: BlockKind, frame: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut c = Cursor::new(frame);
    let stored_sum = c.u64().ok_or("block shorter than its header")?;
    let stored_len = c.u32().ok_or("block shorter than its header")? as usize;
    let raw_len = c.u32().ok_or("block shorter than its header")? as usize;
    let compression = c.u8().ok_or("block shorter than its header")?;
    let stored_kind = c.u8().ok_or("block shorter than its header")?;
    c.u16().ok_or("block shorter than its header")?;
    if checksum(&frame[STORED_LEN_OFFSET..]) != stored_sum {
        return Err("block checksum mismatch");
    }
    if stored_kind != kind as u8 {
        return Err("block has the wrong kind");
    }
    let payload = &frame[FRAME_HEADER_BYTES..];
    if payload.len() != stored_len {
        return Err("block length differs from its handle");
    }
    decompress(compression, payload, raw_len)
}

fn decompress(compression: u8, payload: &[u8], raw_len: usize) -> Result<Vec<u8>, &'static str> {
    match compression {
        COMPRESSION_NONE if raw_len == payload.len() => Ok(payload.to_vec()),
        COMPRESSION_NONE => Err("uncompressed block with a different raw length"),
        COMPRESSION_LZ4 => decompress_lz4(payload, raw_len),
        _ => Err("unknown compression"),
    }
}

/// Decompresses one lz4 block whose raw length is `raw_len`, refusing
/// lengths lz4 could not have produced before allocating.
pub(crate) fn decompress_lz4(payload: &[u8], raw_len: usize) -> Result<Vec<u8>, &'static str> {
    if raw_len > payload.len().saturating_mul(LZ4_EXPANSION_MAX) {
        return Err("compressed length claims an impossible expansion");
    }
    let mut raw = vec![0u8; raw_len];
    match lz4_flex::block::decompress_into(payload, &mut raw) {
        Ok(n) if n == raw_len => Ok(raw),
        Ok(_) => Err("decompressed length differs from the header"),
        Err(_) => Err("lz4 payload does not decompress"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_catch_flips() {
        let raw: Vec<u8> = (0..1000u32).flat_map(|i| (i % 7).to_le_bytes()).collect();
        for compress in [false, true] {
            let mut out = Vec::new();
            encode_frame(BlockKind::Data, &raw, compress, &mut out);
            assert_eq!(decode_frame(BlockKind::Data, &out).unwrap(), raw);
            assert!(decode_frame(BlockKind::Index, &out).is_err());
            for bit in 0..out.len() * 8 {
                let mut bad = out.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                assert!(decode_frame(BlockKind::Data, &bad).is_err(), "bit {bit}");
            }
        }
    }

    #[test]
    fn absurd_raw_length_is_refused_before_allocating() {
        assert!(decompress_lz4(&[0x10, 0], u32::MAX as usize).is_err());
        // The same claim behind a valid checksum.
        let mut out = Vec::new();
        encode_frame(BlockKind::Data, &[7u8; 4000], true, &mut out);
        assert_eq!(out[COMPRESSION_OFFSET], COMPRESSION_LZ4);
        out[RAW_LEN_OFFSET..RAW_LEN_OFFSET + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let sum = checksum(&out[STORED_LEN_OFFSET..]);
        out[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 8].copy_from_slice(&sum.to_le_bytes());
        assert_eq!(decode_frame(BlockKind::Data, &out), Err("compressed length claims an impossible expansion"));
    }
}
