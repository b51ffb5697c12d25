//! [`TableMeta`]: what a table holds, stored in its meta block.
//!
//! ```text
//!  0   8  entry_count
//!  8   8  value_count
//! 16   8  tombstone_count
//! 24   8  blob_ref_count
//! 32   8  blob_bytes         sum of the lengths of referenced blob records
//! 40   8  data_block_count
//! 48   8  raw_bytes          key and value bytes before framing and compression
//! 56   8  data_bytes         bytes of the data region (framed, as stored)
//! 64   8  seqno_min
//! 72   8  seqno_max
//! 80   2  key_min_len, then key_min
//! ..   2  key_max_len, then key_max
//! ```

use std::cmp::Ordering;

use crate::SeqNo;
use crate::wire::{Cursor, put_u16, put_u64};

/// Size of the fixed part of the meta block.
pub(crate) const META_FIXED_BYTES: usize = 80;

/// What a table holds. Returned by
/// [`TableWriter::finish`](super::TableWriter::finish) and by
/// [`Table::meta`](super::Table::meta).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TableMeta {
    /// Smallest key.
    pub key_min: Vec<u8>,
    /// Largest key.
    pub key_max: Vec<u8>,
    /// Smallest seqno.
    pub seqno_min: SeqNo,
    /// Largest seqno.
    pub seqno_max: SeqNo,
    /// Entries of every kind.
    pub entry_count: u64,
    /// Entries holding a value inline.
    pub value_count: u64,
    /// Tombstones.
    pub tombstone_count: u64,
    /// Blob references.
    pub blob_ref_count: u64,
    /// Sum of the record lengths of all referenced blobs (for blob GC).
    pub blob_bytes: u64,
    /// Data blocks.
    pub data_block_count: u64,
    /// Key and value bytes of all entries, before framing and compression.
    pub raw_bytes: u64,
    /// Bytes of the data region (blocks as stored, compressed and framed).
    pub data_bytes: u64,
    /// Size of the whole file.
    pub file_size_bytes: u64,
}

impl TableMeta {
    /// Encodes the meta block body (`file_size_bytes` is not stored).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(META_FIXED_BYTES + 4 + self.key_min.len() * 2);
        for v in [
            self.entry_count,
            self.value_count,
            self.tombstone_count,
            self.blob_ref_count,
            self.blob_bytes,
            self.data_block_count,
            self.raw_bytes,
            self.data_bytes,
            self.seqno_min.get(),
            self.seqno_max.get(),
        ] {
            put_u64(&mut out, v);
        }
        debug_assert_eq!(out.len(), META_FIXED_BYTES);
        for key in [&self.key_min, &self.key_max] {
            put_u16(&mut out, key.len() as u16);
            out.extend_from_slice(key);
        }
        out
    }

    /// Decodes a meta block body and checks it is self-consistent.
    pub(crate) fn decode(body: &[u8], file_size_bytes: u64) -> Result<TableMeta, &'static str> {
        let mut c = Cursor::new(body);
        let short = "meta block too short";
        let mut fixed = [0u64; 10];
        for v in &mut fixed {
            *v = c.u64().ok_or(short)?;
        }
        let [entry_count, value_count, tombstone_count, blob_ref_count, blob_bytes] =
            [fixed[0], fixed[1], fixed[2], fixed[3], fixed[4]];
        let mut key = || -> Option<Vec<u8>> {
            let len = usize::from(c.u16()?);
            Some(c.take(len)?.to_vec())
        };
        let key_min = key().ok_or(short)?;
        let key_max = key().ok_or(short)?;
        if c.remaining() != 0 {
            return Err("meta block has trailing bytes");
        }
        let meta = TableMeta {
            key_min,
            key_max,
            seqno_min: SeqNo(fixed[8]),
            seqno_max: SeqNo(fixed[9]),
            entry_count,
            value_count,
            tombstone_count,
            blob_ref_count,
            blob_bytes,
            data_block_count: fixed[5],
            raw_bytes: fixed[6],
            data_bytes: fixed[7],
            file_size_bytes,
        };
        meta.check()?;
        Ok(meta)
    }

    fn check(&self) -> Result<(), &'static str> {
        let kinds = [self.value_count, self.tombstone_count, self.blob_ref_count];
        if kinds.iter().try_fold(0u64, |a, &b| a.checked_add(b)) != Some(self.entry_count) {
            return Err("meta entry counts do not add up");
        }
        if self.entry_count < self.data_block_count || self.data_block_count == 0 {
            return Err("meta block count out of range");
        }
        if self.key_min.cmp(&self.key_max) == Ordering::Greater || self.seqno_min > self.seqno_max {
            return Err("meta ranges are inverted");
        }
        if self.data_bytes >= self.file_size_bytes {
            return Err("meta data size exceeds the file");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let meta = TableMeta {
            key_min: b"a".to_vec(),
            key_max: b"zz".to_vec(),
            seqno_min: SeqNo(3),
            seqno_max: SeqNo(9),
            entry_count: 10,
            value_count: 5,
            tombstone_count: 3,
            blob_ref_count: 2,
            blob_bytes: 100,
            data_block_count: 2,
            raw_bytes: 1000,
            data_bytes: 500,
            file_size_bytes: 700,
        };
        assert_eq!(TableMeta::decode(&meta.encode(), 700).unwrap(), meta);
        assert!(TableMeta::decode(&meta.encode(), 400).is_err());
    }
}
