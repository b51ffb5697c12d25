//! The record format: the bytes of one hybrid-log record, identical in memory
//! pages and in segment files (except word 0, see [`HEADER_BYTES`]).
//!
//! ```text
//! offset  size  field
//!      0     8  checksum on disk: xxh3-64 of bytes [8, record_len);
//!               in memory: the record's sequence-lock version
//!      8     8  seqno
//!     16     8  prev: address of the key's previous record, or NO_ADDRESS;
//!                 for a commit record, when it was made (unix µs)
//!     24     4  key_len
//!     28     4  value_len
//!     32     4  record_len: whole record, a multiple of 8, >= HEADER_BYTES
//!     36     1  kind (value, tombstone, padding, commit)
//!     37     1  flags (bit 0: member of a multi-op batch)
//!     38     2  reserved, zero
//!     40     .  key, zero-padded to a multiple of 8
//!      .     .  value, then unused capacity up to record_len
//! ```
//!
//! Everything is little-endian and 8-byte aligned, so pages can be held as
//! atomic words and copied to and from disk word by word.

use xxhash_rust::xxh3::xxh3_64;

use super::page::WORD_BYTES;

/// Byte offset of the checksum (disk) / sequence-lock version (memory).
pub const CHECKSUM_OFFSET: usize = 0;
/// Byte offset of the seqno.
pub const SEQNO_OFFSET: usize = CHECKSUM_OFFSET + 8;
/// Byte offset of the previous-record address.
pub const PREV_OFFSET: usize = SEQNO_OFFSET + 8;
/// Byte offset of the key length (`u32`); the value length (`u32`) follows.
pub const LENGTHS_OFFSET: usize = PREV_OFFSET + 8;
/// Byte offset of the record length (`u32`), kind (`u8`) and flags (`u8`).
pub const LAYOUT_OFFSET: usize = LENGTHS_OFFSET + 8;
/// Length of the fixed header; the key starts here.
pub const HEADER_BYTES: usize = LAYOUT_OFFSET + 8;
/// Length of a commit record's value: covered start address, range hash,
/// run start address (see `docs/FORMAT.md`).
pub const COMMIT_VALUE_BYTES: usize = 24;
/// Length of a whole commit record.
pub const COMMIT_RECORD_BYTES: usize = HEADER_BYTES + COMMIT_VALUE_BYTES;
/// Longest key a record may hold.
pub const KEY_BYTES_MAX: usize = 1 << 16;
/// Longest value a record may hold.
pub const VALUE_BYTES_MAX: usize = (1 << 31) - (1 << 20);
/// The `prev` of a key's oldest record in a memtable.
pub const NO_ADDRESS: u64 = u64::MAX;
/// Log addresses lie below this: 2^63 bytes of log, about 290 years of
/// writing at 1 GB/s. A write that would pass it is refused; a segment or
/// a log start beyond it is damage. Below it, an address plus a record,
/// a page or a memtable's span never overflows a `u64`, and never reaches
/// [`NO_ADDRESS`].
pub const ADDRESS_LIMIT: u64 = 1 << 63;
/// Flag bit: the record belongs to a batch of more than one operation.
pub const FLAG_BATCH: u8 = 1;

const _: () = assert!(HEADER_BYTES == 5 * WORD_BYTES);
const _: () = assert!(COMMIT_RECORD_BYTES.is_multiple_of(WORD_BYTES));
const _: () = assert!(HEADER_BYTES + KEY_BYTES_MAX + VALUE_BYTES_MAX < u32::MAX as usize);

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A key with a value.
    Value = 1,
    /// A deleted key.
    Tombstone = 2,
    /// Filler up to the end of a page; carries no key.
    Padding = 3,
    /// A commit record written by a persist.
    Commit = 4,
}

impl Kind {
    /// Parses a kind byte.
    pub fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Value),
            2 => Some(Kind::Tombstone),
            3 => Some(Kind::Padding),
            4 => Some(Kind::Commit),
            _ => None,
        }
    }
}

/// Rounds `n` up to a multiple of 8.
pub const fn pad8(n: usize) -> usize {
    (n + WORD_BYTES - 1) & !(WORD_BYTES - 1)
}

/// Byte offset of the value within a record whose key is `key_len` long.
pub const fn value_offset(key_len: usize) -> usize {
    HEADER_BYTES + pad8(key_len)
}

/// Smallest record length holding a key and a value of these lengths.
pub const fn record_len_for(key_len: usize, value_len: usize) -> usize {
    pad8(value_offset(key_len) + value_len)
}

/// Packs the lengths word.
pub const fn lengths_word(key_len: u32, value_len: u32) -> u64 {
    key_len as u64 | (value_len as u64) << 32
}

/// Packs the layout word.
pub const fn layout_word(record_len: u32, kind: Kind, flags: u8) -> u64 {
    record_len as u64 | (kind as u64) << 32 | (flags as u64) << 40
}

/// Unpacks the lengths word into (key_len, value_len).
pub const fn split_lengths(word: u64) -> (u32, u32) {
    (word as u32, (word >> 32) as u32)
}

/// Unpacks the layout word into (record_len, kind byte, flags).
pub const fn split_layout(word: u64) -> (u32, u8, u8) {
    (word as u32, (word >> 32) as u8, (word >> 40) as u8)
}

/// The checksum stored in word 0 on disk.
pub fn checksum(record: &[u8]) -> u64 {
    xxh3_64(&record[SEQNO_OFFSET..])
}

/// A record decoded from bytes read from disk; borrows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodedRecord<'a> {
    /// The seqno (for a commit record: the highest seqno it makes durable).
    pub seqno: u64,
    /// What the record is.
    pub kind: Kind,
    /// Flag bits.
    pub flags: u8,
    /// The key.
    pub key: &'a [u8],
    /// The value (for a commit record: its 16-byte payload).
    pub value: &'a [u8],
    /// Length of the whole record.
    pub len_bytes: usize,
    /// The `prev` word: for a key record, the address of the key's
    /// previous record (advisory); for a commit record, when it was made
    /// ([`commit_time_us`](Self::commit_time_us)).
    pub prev: u64,
}

impl DecodedRecord<'_> {
    /// For a commit record: when it was made, in µs since the Unix epoch
    /// (`None` in logs written before commit records carried a time).
    pub fn commit_time_us(&self) -> Option<u64> {
        (self.kind == Kind::Commit && self.prev != NO_ADDRESS).then_some(self.prev)
    }

    /// For a commit record: its payload.
    pub fn commit_payload(&self) -> Option<CommitPayload> {
        if self.kind != Kind::Commit || self.value.len() != COMMIT_VALUE_BYTES {
            return None;
        }
        Some(CommitPayload {
            covered_start: le_u64(&self.value[COMMIT_COVERED_START..]),
            range_hash: le_u64(&self.value[COMMIT_RANGE_HASH..]),
            run_start: le_u64(&self.value[COMMIT_RUN_START..]),
        })
    }
}

/// Offset in a commit record's value of the covered start address.
pub const COMMIT_COVERED_START: usize = 0;
/// Offset in a commit record's value of the range hash.
pub const COMMIT_RANGE_HASH: usize = COMMIT_COVERED_START + 8;
/// Offset in a commit record's value of the run start address.
pub const COMMIT_RUN_START: usize = COMMIT_RANGE_HASH + 8;
const _: () = assert!(COMMIT_RUN_START + 8 == COMMIT_VALUE_BYTES);

/// What a commit record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitPayload {
    /// Address of the first record it covers (the one after the previous commit).
    pub covered_start: u64,
    /// xxh3-64 of the covered records' bytes, in address order.
    pub range_hash: u64,
    /// Where the persist that wrote it began writing: everything below was
    /// durable before this commit record reached the disk.
    pub run_start: u64,
}

/// Why bytes at some offset are not a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes end before the record does: a torn tail, if nothing valid follows.
    Incomplete,
    /// The bytes are there but are not a valid record.
    Invalid(&'static str),
}

fn le_u64(b: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&b[..8]);
    u64::from_le_bytes(word)
}

/// Decodes the record starting at `buf[0]`. Never panics, never allocates,
/// and reads no byte beyond `buf`.
pub fn decode(buf: &[u8]) -> Result<DecodedRecord<'_>, DecodeError> {
    decode_checked(buf, Checksum::Verify)
}

/// Whether [`decode_checked`] verifies a record's checksum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Checksum {
    #[default]
    Verify,
    /// Only for records whose bytes something else proves: a key or
    /// padding record that a commit's range hash covers. A commit record's
    /// checksum is verified all the same.
    SkipUnlessCommit,
}

/// [`decode`], leaving the checksum of records `checksum` says to the caller.
pub fn decode_checked(buf: &[u8], checksum_rule: Checksum) -> Result<DecodedRecord<'_>, DecodeError> {
    if buf.len() < HEADER_BYTES {
        return Err(DecodeError::Incomplete);
    }
    let (key_len, value_len) = split_lengths(le_u64(&buf[LENGTHS_OFFSET..]));
    let (record_len, kind, flags) = split_layout(le_u64(&buf[LAYOUT_OFFSET..]));
    let (key_len, value_len, record_len) = (key_len as usize, value_len as usize, record_len as usize);
    if record_len < HEADER_BYTES || !record_len.is_multiple_of(WORD_BYTES) {
        return Err(DecodeError::Invalid("record length is not a multiple of 8 holding a header"));
    }
    if key_len > KEY_BYTES_MAX || value_len > VALUE_BYTES_MAX {
        return Err(DecodeError::Invalid("key or value length out of range"));
    }
    if value_offset(key_len) + value_len > record_len {
        return Err(DecodeError::Invalid("key and value overflow the record"));
    }
    let kind = Kind::from_byte(kind).ok_or(DecodeError::Invalid("unknown record kind"))?;
    if buf.len() < record_len {
        return Err(DecodeError::Incomplete);
    }
    let record = &buf[..record_len];
    let verify = checksum_rule == Checksum::Verify || kind == Kind::Commit;
    if verify && checksum(record) != le_u64(&record[CHECKSUM_OFFSET..]) {
        return Err(DecodeError::Invalid("record checksum mismatch"));
    }
    let key = &record[HEADER_BYTES..HEADER_BYTES + key_len];
    let value = &record[value_offset(key_len)..value_offset(key_len) + value_len];
    let shape_ok = match kind {
        Kind::Value | Kind::Tombstone => kind == Kind::Value || value_len == 0,
        Kind::Padding => key_len == 0 && value_len == 0,
        Kind::Commit => key_len == 0 && value_len == COMMIT_VALUE_BYTES,
    };
    if !shape_ok {
        return Err(DecodeError::Invalid("record fields do not fit its kind"));
    }
    let (seqno, prev) = (le_u64(&record[SEQNO_OFFSET..]), le_u64(&record[PREV_OFFSET..]));
    Ok(DecodedRecord { seqno, kind, flags, key, value, len_bytes: record_len, prev })
}

/// Encodes a record into `out` (whose length is the record length),
/// with its checksum. Used by tests and by tools that build logs by hand.
pub fn encode(out: &mut [u8], seqno: u64, kind: Kind, flags: u8, key: &[u8], value: &[u8]) {
    assert!(out.len() >= record_len_for(key.len(), value.len()) && out.len().is_multiple_of(8));
    out.fill(0);
    out[SEQNO_OFFSET..SEQNO_OFFSET + 8].copy_from_slice(&seqno.to_le_bytes());
    out[PREV_OFFSET..PREV_OFFSET + 8].copy_from_slice(&NO_ADDRESS.to_le_bytes());
    let lengths = lengths_word(key.len() as u32, value.len() as u32);
    out[LENGTHS_OFFSET..LENGTHS_OFFSET + 8].copy_from_slice(&lengths.to_le_bytes());
    let layout = layout_word(out.len() as u32, kind, flags);
    out[LAYOUT_OFFSET..LAYOUT_OFFSET + 8].copy_from_slice(&layout.to_le_bytes());
    out[HEADER_BYTES..HEADER_BYTES + key.len()].copy_from_slice(key);
    let v = value_offset(key.len());
    out[v..v + value.len()].copy_from_slice(value);
    let sum = checksum(out);
    out[..8].copy_from_slice(&sum.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    #[test]
    fn encode_then_decode_round_trips() {
        let mut buf = vec![0u8; record_len_for(3, 5)];
        encode(&mut buf, 42, Kind::Value, FLAG_BATCH, b"key", b"value");
        let r = decode(&buf).unwrap();
        assert_eq!(
            (r.seqno, r.kind, r.flags, r.key, r.value),
            (42, Kind::Value, FLAG_BATCH, &b"key"[..], &b"value"[..])
        );
        assert_eq!(r.len_bytes, buf.len());
        assert_eq!(decode(&buf[..buf.len() - 1]), Err(DecodeError::Incomplete));
        buf[HEADER_BYTES] ^= 1;
        assert_eq!(decode(&buf), Err(DecodeError::Invalid("record checksum mismatch")));
    }

    #[test]
    fn zeroes_are_not_a_record() {
        assert!(matches!(decode(&[0u8; 64]), Err(DecodeError::Invalid(_))));
    }

    quickcheck! {
        fn decode_never_panics_on_arbitrary_bytes(bytes: Vec<u8>) -> bool {
            let _ = decode(&bytes);
            true
        }

        fn decode_never_panics_on_mutated_records(key: Vec<u8>, value: Vec<u8>, flips: Vec<(u16, u8)>) -> bool {
            let key = &key[..key.len().min(64)];
            let mut buf = vec![0u8; record_len_for(key.len(), value.len())];
            encode(&mut buf, 7, Kind::Value, 0, key, &value);
            let ok = decode(&buf).map(|r| r.key == key && r.value == &value[..]).unwrap_or(false);
            let len = buf.len();
            for (at, bits) in flips {
                buf[at as usize % len] ^= bits;
            }
            let _ = decode(&buf);
            ok
        }
    }
}
