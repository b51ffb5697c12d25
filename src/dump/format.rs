//! The byte layout of a dump stream (`docs/FORMAT.md`, "Dump streams"):
//! header, records, trailer, each checked on its own.
//!
//! ```text
//! header   magic[8] version u32 flags u32 seqno u64 xxh3(0..24) u64      = 32 bytes
//! record   kind=1 u8 key_len u32 value_len u32 key value xxh3(kind..value) u64
//! trailer  kind=0xff u8 records u64 xxh3(all record bytes) u64 xxh3(0..17) u64 = 25 bytes
//! ```

use std::path::Path;

use crate::wire::{Cursor, checksum, put_u32, put_u64};
use crate::{Error, KEY_BYTES_MAX, Result, SeqNo, VALUE_BYTES_MAX};

/// The first eight bytes of every dump.
pub const DUMP_MAGIC: [u8; 8] = *b"CAIRNDMP";
/// The format version this build writes and reads.
pub const DUMP_FORMAT_VERSION: u32 = 1;

const VERSION_OFFSET: usize = DUMP_MAGIC.len();
const FLAGS_OFFSET: usize = VERSION_OFFSET + 4;
const SEQNO_OFFSET: usize = FLAGS_OFFSET + 4;
const HEADER_CHECKSUM_OFFSET: usize = SEQNO_OFFSET + 8;
/// Bytes of the header.
pub const HEADER_BYTES: usize = HEADER_CHECKSUM_OFFSET + 8;
const _: () = assert!(HEADER_BYTES == 32);

/// The kind byte of a record holding one key and its value.
pub(crate) const KIND_ENTRY: u8 = 1;
/// The kind byte of the trailer.
pub(crate) const KIND_END: u8 = 0xff;

const KEY_LEN_OFFSET: usize = 1;
const VALUE_LEN_OFFSET: usize = KEY_LEN_OFFSET + 4;
/// Bytes of a record before its key: kind, key length, value length.
pub(crate) const RECORD_PREFIX_BYTES: usize = VALUE_LEN_OFFSET + 4;
/// Bytes of a record besides its key and value: the prefix and the checksum.
pub const RECORD_OVERHEAD_BYTES: usize = RECORD_PREFIX_BYTES + 8;
const _: () = assert!(RECORD_PREFIX_BYTES == 9 && RECORD_OVERHEAD_BYTES == 17);

const COUNT_OFFSET: usize = 1;
const RECORDS_CHECKSUM_OFFSET: usize = COUNT_OFFSET + 8;
const TRAILER_CHECKSUM_OFFSET: usize = RECORDS_CHECKSUM_OFFSET + 8;
/// Bytes of the trailer.
pub const TRAILER_BYTES: usize = TRAILER_CHECKSUM_OFFSET + 8;
const _: () = assert!(TRAILER_BYTES == 25);

/// The header of a dump at `seqno`.
pub(crate) fn encode_header(seqno: SeqNo) -> [u8; HEADER_BYTES] {
    let mut buf = Vec::with_capacity(HEADER_BYTES);
    buf.extend_from_slice(&DUMP_MAGIC);
    put_u32(&mut buf, DUMP_FORMAT_VERSION);
    put_u32(&mut buf, 0);
    put_u64(&mut buf, seqno.get());
    let sum = checksum(&buf);
    put_u64(&mut buf, sum);
    buf.try_into().expect("the header is HEADER_BYTES long")
}

/// The seqno a header records; `name` is the stream, for errors.
pub(crate) fn decode_header(name: &Path, bytes: &[u8; HEADER_BYTES]) -> Result<SeqNo> {
    let bad = |offset: usize, what: String| Error::corruption(name, offset as u64, what);
    if bytes[..VERSION_OFFSET] != DUMP_MAGIC {
        return Err(bad(0, "not a cairn dump (its first bytes are not CAIRNDMP)".to_owned()));
    }
    let mut c = Cursor::at(bytes, VERSION_OFFSET);
    let (version, flags, seqno, sum) = (c.u32(), c.u32(), c.u64(), c.u64());
    let (Some(version), Some(flags), Some(seqno), Some(sum)) = (version, flags, seqno, sum) else {
        unreachable!("the header is HEADER_BYTES long");
    };
    if sum != checksum(&bytes[..HEADER_CHECKSUM_OFFSET]) {
        return Err(bad(HEADER_CHECKSUM_OFFSET, "header checksum mismatch".to_owned()));
    }
    if version != DUMP_FORMAT_VERSION {
        return Err(bad(
            VERSION_OFFSET,
            format!("dump format version {version}; this build reads {DUMP_FORMAT_VERSION}"),
        ));
    }
    if flags != 0 {
        return Err(bad(FLAGS_OFFSET, format!("unknown flags {flags:#x}")));
    }
    Ok(SeqNo(seqno))
}

/// The prefix of an entry record; lengths beyond the database's limits
/// are refused, so no dump can hold what no database can.
pub(crate) fn encode_record_prefix(key: &[u8], value: &[u8]) -> Result<[u8; RECORD_PREFIX_BYTES]> {
    if key.len() > KEY_BYTES_MAX || value.len() > VALUE_BYTES_MAX {
        return Err(Error::invalid(format!(
            "a key of {} bytes or a value of {} bytes exceeds the limits ({KEY_BYTES_MAX}, {VALUE_BYTES_MAX})",
            key.len(),
            value.len()
        )));
    }
    let mut buf = Vec::with_capacity(RECORD_PREFIX_BYTES);
    buf.push(KIND_ENTRY);
    put_u32(&mut buf, key.len() as u32);
    put_u32(&mut buf, value.len() as u32);
    Ok(buf.try_into().expect("the prefix is RECORD_PREFIX_BYTES long"))
}

/// The key and value lengths of an entry record's prefix (its kind byte
/// already checked), bounded by the database's limits before anything is
/// allocated for them. `offset` is where the record starts in the stream.
pub(crate) fn decode_record_prefix(
    name: &Path,
    offset: u64,
    prefix: &[u8; RECORD_PREFIX_BYTES],
) -> Result<(usize, usize)> {
    debug_assert_eq!(prefix[0], KIND_ENTRY);
    let mut c = Cursor::at(prefix, KEY_LEN_OFFSET);
    let (Some(key_len), Some(value_len)) = (c.u32(), c.u32()) else {
        unreachable!("the prefix is RECORD_PREFIX_BYTES long");
    };
    let (key_len, value_len) = (key_len as usize, value_len as usize);
    if key_len > KEY_BYTES_MAX {
        return Err(Error::corruption(name, offset, format!("key length {key_len} exceeds {KEY_BYTES_MAX}")));
    }
    if value_len > VALUE_BYTES_MAX {
        return Err(Error::corruption(name, offset, format!("value length {value_len} exceeds {VALUE_BYTES_MAX}")));
    }
    Ok((key_len, value_len))
}

/// The trailer after `records` records whose bytes hash to `records_checksum`.
pub(crate) fn encode_trailer(records: u64, records_checksum: u64) -> [u8; TRAILER_BYTES] {
    let mut buf = Vec::with_capacity(TRAILER_BYTES);
    buf.push(KIND_END);
    put_u64(&mut buf, records);
    put_u64(&mut buf, records_checksum);
    let sum = checksum(&buf);
    put_u64(&mut buf, sum);
    buf.try_into().expect("the trailer is TRAILER_BYTES long")
}

/// Checks a trailer (its kind byte included) against the records read
/// before it; `offset` is where it starts in the stream.
pub(crate) fn check_trailer(
    name: &Path,
    offset: u64,
    bytes: &[u8; TRAILER_BYTES],
    records: u64,
    records_checksum: u64,
) -> Result<()> {
    let bad = |at: usize, what: String| Error::corruption(name, offset + at as u64, what);
    let mut c = Cursor::at(bytes, COUNT_OFFSET);
    let (Some(count), Some(sum), Some(own)) = (c.u64(), c.u64(), c.u64()) else {
        unreachable!("the trailer is TRAILER_BYTES long");
    };
    if own != checksum(&bytes[..TRAILER_CHECKSUM_OFFSET]) {
        return Err(bad(TRAILER_CHECKSUM_OFFSET, "trailer checksum mismatch".to_owned()));
    }
    if count != records {
        return Err(bad(COUNT_OFFSET, format!("the trailer counts {count} records, the dump holds {records}")));
    }
    if sum != records_checksum {
        return Err(bad(RECORDS_CHECKSUM_OFFSET, "the records' checksum does not match the trailer's".to_owned()));
    }
    Ok(())
}

/// `bytes` with every checksum its framing reaches recomputed and the
/// trailer's count set to the records before it: how the fuzz target gets
/// past the checksums to the checks behind them.
pub(crate) fn reseal(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.len() < HEADER_BYTES {
        return out;
    }
    let sum = checksum(&out[..HEADER_CHECKSUM_OFFSET]);
    out[HEADER_CHECKSUM_OFFSET..HEADER_BYTES].copy_from_slice(&sum.to_le_bytes());
    let (mut pos, mut records, mut all) = (HEADER_BYTES, 0u64, xxhash_rust::xxh3::Xxh3::new());
    while let Some(&kind) = out.get(pos) {
        if kind == KIND_END {
            if out.len() >= pos + TRAILER_BYTES {
                let trailer = &mut out[pos..pos + TRAILER_BYTES];
                trailer[COUNT_OFFSET..RECORDS_CHECKSUM_OFFSET].copy_from_slice(&records.to_le_bytes());
                trailer[RECORDS_CHECKSUM_OFFSET..TRAILER_CHECKSUM_OFFSET].copy_from_slice(&all.digest().to_le_bytes());
                let own = checksum(&trailer[..TRAILER_CHECKSUM_OFFSET]);
                trailer[TRAILER_CHECKSUM_OFFSET..].copy_from_slice(&own.to_le_bytes());
            }
            break;
        }
        let mut c = Cursor::at(&out, pos + KEY_LEN_OFFSET);
        let (Some(key_len), Some(value_len)) = (c.u32(), c.u32()) else { break };
        let body = RECORD_PREFIX_BYTES as u64 + u64::from(key_len) + u64::from(value_len);
        let Some(end) = usize::try_from(body).ok().and_then(|b| (pos + b).checked_add(8)) else { break };
        if end > out.len() {
            break;
        }
        let sum = checksum(&out[pos..end - 8]);
        out[end - 8..end].copy_from_slice(&sum.to_le_bytes());
        all.update(&out[pos..end]);
        records += 1;
        pos = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_refuses_damage() {
        let name = Path::new("d");
        let header = encode_header(SeqNo(42));
        assert_eq!(decode_header(name, &header).unwrap(), SeqNo(42));
        for byte in 0..HEADER_BYTES {
            let mut bad = header;
            bad[byte] ^= 0x10;
            assert!(decode_header(name, &bad).unwrap_err().is_corruption(), "byte {byte}");
        }
    }

    #[test]
    fn trailer_checks_count_and_records_checksum() {
        let name = Path::new("d");
        let trailer = encode_trailer(3, 7);
        check_trailer(name, 0, &trailer, 3, 7).unwrap();
        assert!(check_trailer(name, 0, &trailer, 2, 7).is_err());
        assert!(check_trailer(name, 0, &trailer, 3, 8).is_err());
    }

    #[test]
    fn record_lengths_are_bounded() {
        let name = Path::new("d");
        let mut prefix = encode_record_prefix(b"k", b"v").unwrap();
        assert_eq!(decode_record_prefix(name, 0, &prefix).unwrap(), (1, 1));
        prefix[VALUE_LEN_OFFSET..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_record_prefix(name, 0, &prefix).unwrap_err().is_corruption());
        assert!(encode_record_prefix(&vec![0; KEY_BYTES_MAX + 1], b"").is_err());
    }
}
