//! Checked little-endian reads from untrusted bytes and the matching writes.
//!
//! Every read returns `None` instead of panicking when the bytes run out, so
//! decoders can turn a short or absurd length into `Error::Corruption`.
//! The byte order itself is `byteorder`'s `LittleEndian`, the one every
//! format uses.

use byteorder::{ByteOrder, LittleEndian};

/// A read position in a byte slice whose reads are bounds-checked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    /// A cursor at `pos` in `bytes` (which may be past the end: reads fail).
    pub(crate) fn at(bytes: &'a [u8], pos: usize) -> Self {
        Cursor { bytes, pos }
    }

    /// Offset of the next read.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// The next `n` bytes, or `None` when fewer remain.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|b| b[0])
    }

    /// A little-endian `u16`.
    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(LittleEndian::read_u16)
    }

    /// A little-endian `u32`.
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take(4).map(LittleEndian::read_u32)
    }

    /// A little-endian `u64`.
    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.take(8).map(LittleEndian::read_u64)
    }
}

/// Appends a little-endian `u16`.
pub(crate) fn put_u16(buf: &mut Vec<u8>, v: u16) {
    let mut bytes = [0u8; 2];
    LittleEndian::write_u16(&mut bytes, v);
    buf.extend_from_slice(&bytes);
}

/// Appends a little-endian `u32`.
pub(crate) fn put_u32(buf: &mut Vec<u8>, v: u32) {
    let mut bytes = [0u8; 4];
    LittleEndian::write_u32(&mut bytes, v);
    buf.extend_from_slice(&bytes);
}

/// Appends a little-endian `u64`.
pub(crate) fn put_u64(buf: &mut Vec<u8>, v: u64) {
    let mut bytes = [0u8; 8];
    LittleEndian::write_u64(&mut bytes, v);
    buf.extend_from_slice(&bytes);
}

/// Reads a little-endian `u32` at `pos`, if in bounds.
pub(crate) fn get_u32(bytes: &[u8], pos: usize) -> Option<u32> {
    Cursor::at(bytes, pos).u32()
}

/// Reads a little-endian `u64` at `pos`, if in bounds.
pub(crate) fn get_u64(bytes: &[u8], pos: usize) -> Option<u64> {
    Cursor::at(bytes, pos).u64()
}

/// The number `text` writes as exactly `digits` lowercase hex digits, or
/// `None` for any other form (upper case, a sign, too many or few digits).
pub(crate) fn parse_hex(text: &str, digits: usize) -> Option<u128> {
    let canonical =
        digits <= 32 && text.len() == digits && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    u128::from_str_radix(text, 16).ok().filter(|_| canonical)
}

/// The xxh3-64 checksum every format uses.
pub(crate) fn checksum(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// The first 8 bytes of `key`, zero-padded, as a big-endian number: a
/// strict order of two prefixes is the order of the keys (a shorter key is
/// padded with the smallest byte), equal prefixes decide nothing. Sorts and
/// searches compare these before touching the keys.
pub(crate) fn key_prefix(key: &[u8]) -> u64 {
    let mut head = [0u8; 8];
    let n = key.len().min(8);
    head[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_canonical() {
        assert_eq!(parse_hex("00ff", 4), Some(255));
        for odd in ["", "0ff", "00FF", "+0ff", "00fg", "000ff"] {
            assert_eq!(parse_hex(odd, 4), None, "{odd}");
        }
        assert_eq!(parse_hex(&"f".repeat(32), 32), Some(u128::MAX));
        assert_eq!(parse_hex(&"f".repeat(33), 33), None, "more than a u128");
    }

    #[test]
    fn reads_stop_at_the_end() {
        let mut c = Cursor::new(&[1, 0, 2]);
        assert_eq!(c.u16(), Some(1));
        assert_eq!(c.u16(), None);
        assert_eq!(c.u8(), Some(2));
        assert_eq!(c.take(usize::MAX), None);
        assert_eq!(Cursor::at(&[0; 4], usize::MAX).u8(), None);
    }
}
