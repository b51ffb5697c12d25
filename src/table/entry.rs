//! What a table holds: entries ordered by key, then newest version first.

use std::cmp::Ordering;

use crate::SeqNo;
use crate::blob::{BLOB_REF_BYTES, BlobRef};

/// Longest key a table (and a blob file) accepts.
pub const KEY_BYTES_MAX: usize = u16::MAX as usize;
/// Longest value stored inline in a table or in a blob record.
pub const VALUE_BYTES_MAX: usize = 1 << 30;

/// What an entry's value bytes mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// The value bytes are the value.
    Value,
    /// The key was deleted; the value bytes are empty.
    Tombstone,
    /// The value lives in a blob file; the value bytes are an encoded
    /// [`BlobRef`] ([`BLOB_REF_BYTES`] long).
    BlobRef,
}

impl ValueKind {
    /// The byte stored on disk.
    pub(crate) const fn to_byte(self) -> u8 {
        match self {
            ValueKind::Value => 1,
            ValueKind::Tombstone => 2,
            ValueKind::BlobRef => 3,
        }
    }

    /// Parses the byte stored on disk.
    pub(crate) const fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(ValueKind::Value),
            2 => Some(ValueKind::Tombstone),
            3 => Some(ValueKind::BlobRef),
            _ => None,
        }
    }

    /// Whether `value` is a well-formed value of this kind.
    pub(crate) fn accepts(self, value: &[u8]) -> bool {
        match self {
            ValueKind::Value => value.len() <= VALUE_BYTES_MAX,
            ValueKind::Tombstone => value.is_empty(),
            ValueKind::BlobRef => value.len() == BLOB_REF_BYTES,
        }
    }
}

/// One version of one key, as read from a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The user key.
    pub key: Vec<u8>,
    /// The write's sequence number.
    pub seqno: SeqNo,
    /// What `value` means.
    pub kind: ValueKind,
    /// The value, empty for a tombstone, an encoded [`BlobRef`] for a blob reference.
    pub value: Vec<u8>,
}

impl Entry {
    /// The blob reference, when this entry is one.
    pub fn blob_ref(&self) -> Option<BlobRef> {
        match self.kind {
            ValueKind::BlobRef => BlobRef::decode(&self.value),
            _ => None,
        }
    }
}

/// The order of entries in a table: key ascending, then seqno descending.
pub fn cmp_internal(a_key: &[u8], a_seqno: SeqNo, b_key: &[u8], b_seqno: SeqNo) -> Ordering {
    a_key.cmp(b_key).then(b_seqno.cmp(&a_seqno))
}
