//! [`BlobRef`]: where a large value lives.

use crate::BlobFileId;
use crate::wire::Cursor;

/// Encoded size of a [`BlobRef`]: `file u64, offset u64, len u32`.
pub const BLOB_REF_BYTES: usize = 20;

/// A value stored in a blob file: the file, and the offset and length of
/// its whole record there. A table entry of kind
/// [`ValueKind::BlobRef`](crate::table::ValueKind::BlobRef) holds one,
/// encoded as [`BLOB_REF_BYTES`] bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlobRef {
    /// The blob file.
    pub file: BlobFileId,
    /// Offset of the record in the file.
    pub offset: u64,
    /// Length of the whole record (header, key and stored value).
    pub len_bytes: u32,
}

impl BlobRef {
    /// The fixed-width little-endian encoding stored in a table entry.
    pub fn encode(&self) -> [u8; BLOB_REF_BYTES] {
        let mut out = [0u8; BLOB_REF_BYTES];
        out[0..8].copy_from_slice(&self.file.get().to_le_bytes());
        out[8..16].copy_from_slice(&self.offset.to_le_bytes());
        out[16..20].copy_from_slice(&self.len_bytes.to_le_bytes());
        out
    }

    /// Parses an encoding made by [`BlobRef::encode`]; `None` when the
    /// length is wrong.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != BLOB_REF_BYTES {
            return None;
        }
        let mut c = Cursor::new(bytes);
        Some(BlobRef { file: BlobFileId(c.u64()?), offset: c.u64()?, len_bytes: c.u32()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let r = BlobRef { file: BlobFileId(7), offset: 1 << 40, len_bytes: 99 };
        assert_eq!(BlobRef::decode(&r.encode()), Some(r));
        assert_eq!(BlobRef::decode(&[0; 19]), None);
    }
}
