//! The version file `v{N}`: one full version, checksummed.
//!
//! Layout (all integers little-endian; see `docs/FORMAT.md`, "Version files"):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `CAIRNVER` |
//! | 8 | 4 | format version (2; 1 is still read) |
//! | 12 | 8 | body length `B` |
//! | 20 | B | body |
//! | 20 + B | 8 | xxh3-64 of bytes `0 .. 20 + B` |
//!
//! Body: version id, last seqno, log start, next file id (u64 each); from
//! format 2 the identity: flags (u32: bit 0 identity present, bit 1 fork
//! pending), database id (u128 as two u64, low half first), generation
//! (u64); level count (u32), then per level a table count (u32) and the
//! tables; blob file count (u32) and the blob files. A table: id, size,
//! entry count, smallest and largest seqno (u64 each); smallest and largest
//! key (u32 length + bytes); blob reference count (u32) and (blob id,
//! bytes) pairs (u64 each). A blob file: id, size, value count, value bytes
//! (u64 each). A format 1 file has no identity fields: it reads as a
//! database without an identity, not forked.

use std::path::Path;

use super::{BlobFileInfo, DbIdentity, TableInfo, VersionId};
use crate::wire::{Cursor, checksum, put_u32, put_u64};
use crate::{BlobFileId, Error, LogAddress, Result, SeqNo, TableId};

const MAGIC: [u8; 8] = *b"CAIRNVER";
/// The format this build writes.
const FORMAT_VERSION: u32 = 2;
/// The format before identities, still read.
const FORMAT_VERSION_NO_IDENTITY: u32 = 1;
/// Identity flags: an identity is present.
const IDENTITY_PRESENT: u32 = 1;
/// Identity flags: the version is a copy's, not yet opened for writing.
const FORK_PENDING: u32 = 2;
const MAGIC_OFFSET: usize = 0;
const FORMAT_VERSION_OFFSET: usize = MAGIC_OFFSET + MAGIC.len();
const BODY_LEN_OFFSET: usize = FORMAT_VERSION_OFFSET + 4;
const BODY_OFFSET: usize = BODY_LEN_OFFSET + 8;
const CHECKSUM_BYTES: usize = 8;
const _: () = assert!(BODY_OFFSET == 20);

/// A version as stored: plain data, no file leases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct VersionRecord {
    pub id: VersionId,
    pub levels: Vec<Vec<TableInfo>>,
    pub blob_files: Vec<BlobFileInfo>,
    pub last_seqno: SeqNo,
    pub log_start: LogAddress,
    pub next_file_id: u64,
    pub identity: Option<DbIdentity>,
    pub fork_pending: bool,
}

/// Encodes a version file.
pub(crate) fn encode_version(record: &VersionRecord) -> Vec<u8> {
    let mut body = Vec::new();
    put_u64(&mut body, record.id.0);
    put_u64(&mut body, record.last_seqno.0);
    put_u64(&mut body, record.log_start.0);
    put_u64(&mut body, record.next_file_id);
    encode_identity(&mut body, record.identity, record.fork_pending);
    put_u32(&mut body, len_u32(record.levels.len()));
    for level in &record.levels {
        put_u32(&mut body, len_u32(level.len()));
        for table in level {
            encode_table(&mut body, table);
        }
    }
    put_u32(&mut body, len_u32(record.blob_files.len()));
    for blob in &record.blob_files {
        for v in [blob.id.0, blob.size_bytes, blob.value_count, blob.value_bytes] {
            put_u64(&mut body, v);
        }
    }
    let mut out = Vec::with_capacity(BODY_OFFSET + body.len() + CHECKSUM_BYTES);
    out.extend_from_slice(&MAGIC);
    put_u32(&mut out, FORMAT_VERSION);
    put_u64(&mut out, body.len() as u64);
    out.extend_from_slice(&body);
    let sum = checksum(&out);
    put_u64(&mut out, sum);
    out
}

fn encode_identity(body: &mut Vec<u8>, identity: Option<DbIdentity>, fork_pending: bool) {
    let present = if identity.is_some() { IDENTITY_PRESENT } else { 0 };
    let fork = if fork_pending { FORK_PENDING } else { 0 };
    let DbIdentity { id, generation } = identity.unwrap_or(DbIdentity { id: 0, generation: 0 });
    put_u32(body, present | fork);
    put_u64(body, id as u64);
    put_u64(body, (id >> 64) as u64);
    put_u64(body, generation);
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).expect("a version's counts and key lengths fit in u32")
}

fn encode_table(body: &mut Vec<u8>, table: &TableInfo) {
    for v in [table.id.0, table.size_bytes, table.entry_count, table.smallest_seqno.0, table.largest_seqno.0] {
        put_u64(body, v);
    }
    for key in [&table.smallest_key, &table.largest_key] {
        put_u32(body, len_u32(key.len()));
        body.extend_from_slice(key);
    }
    put_u32(body, len_u32(table.blob_refs.len()));
    for &(blob, bytes) in &table.blob_refs {
        put_u64(body, blob.0);
        put_u64(body, bytes);
    }
}

/// Decodes and verifies a version file read from `path`.
pub(crate) fn decode_version(path: &Path, bytes: &[u8]) -> Result<VersionRecord> {
    let bad = |offset: usize, what: &str| Error::corruption(path, offset as u64, what);
    if bytes.len() < BODY_OFFSET + CHECKSUM_BYTES {
        return Err(bad(0, "version file is shorter than its header"));
    }
    if bytes[MAGIC_OFFSET..FORMAT_VERSION_OFFSET] != MAGIC {
        return Err(bad(MAGIC_OFFSET, "not a version file (bad magic)"));
    }
    let mut header = Cursor::at(bytes, FORMAT_VERSION_OFFSET);
    let format = header.u32().unwrap_or_default();
    let body_len = header.u64().unwrap_or_default();
    let expected_len = (BODY_OFFSET + CHECKSUM_BYTES) as u64 + body_len.min(u64::MAX / 2);
    if expected_len != bytes.len() as u64 {
        return Err(bad(BODY_LEN_OFFSET, "version file length does not match its header"));
    }
    let sum_offset = bytes.len() - CHECKSUM_BYTES;
    let stored = Cursor::at(bytes, sum_offset).u64().unwrap_or_default();
    if checksum(&bytes[..sum_offset]) != stored {
        return Err(bad(sum_offset, "version file checksum mismatch"));
    }
    if format != FORMAT_VERSION && format != FORMAT_VERSION_NO_IDENTITY {
        return Err(bad(FORMAT_VERSION_OFFSET, &format!("unsupported version file format {format}")));
    }
    let body = &bytes[BODY_OFFSET..sum_offset];
    decode_body(body, format).map_err(|(offset, what)| bad(BODY_OFFSET + offset, what))
}

type BodyResult<T> = std::result::Result<T, (usize, &'static str)>;

fn decode_body(body: &[u8], format: u32) -> BodyResult<VersionRecord> {
    let mut c = Cursor::new(body);
    let mut record = VersionRecord {
        id: VersionId(u64_at(&mut c)?),
        last_seqno: SeqNo(u64_at(&mut c)?),
        log_start: LogAddress(u64_at(&mut c)?),
        next_file_id: u64_at(&mut c)?,
        ..VersionRecord::default()
    };
    if format != FORMAT_VERSION_NO_IDENTITY {
        (record.identity, record.fork_pending) = decode_identity(&mut c)?;
    }
    for _ in 0..u32_at(&mut c)? {
        let mut level = Vec::new();
        for _ in 0..u32_at(&mut c)? {
            level.push(decode_table(&mut c)?);
        }
        record.levels.push(level);
    }
    for _ in 0..u32_at(&mut c)? {
        record.blob_files.push(BlobFileInfo {
            id: BlobFileId(u64_at(&mut c)?),
            size_bytes: u64_at(&mut c)?,
            value_count: u64_at(&mut c)?,
            value_bytes: u64_at(&mut c)?,
        });
    }
    if c.remaining() != 0 {
        return Err((c.pos(), "trailing bytes after the version body"));
    }
    Ok(record)
}

fn decode_identity(c: &mut Cursor<'_>) -> BodyResult<(Option<DbIdentity>, bool)> {
    let pos = c.pos();
    let flags = u32_at(c)?;
    let id = u128::from(u64_at(c)?) | u128::from(u64_at(c)?) << 64;
    let generation = u64_at(c)?;
    if flags & !(IDENTITY_PRESENT | FORK_PENDING) != 0 {
        return Err((pos, "unknown identity flags"));
    }
    let identity = if flags & IDENTITY_PRESENT != 0 {
        if generation == 0 {
            return Err((pos, "identity with generation 0"));
        }
        Some(DbIdentity { id, generation })
    } else if id != 0 || generation != 0 {
        return Err((pos, "identity fields set without an identity"));
    } else {
        None
    };
    Ok((identity, flags & FORK_PENDING != 0))
}

fn decode_table(c: &mut Cursor<'_>) -> BodyResult<TableInfo> {
    let mut table = TableInfo {
        id: TableId(u64_at(c)?),
        size_bytes: u64_at(c)?,
        entry_count: u64_at(c)?,
        smallest_seqno: SeqNo(u64_at(c)?),
        largest_seqno: SeqNo(u64_at(c)?),
        smallest_key: key_at(c)?,
        largest_key: key_at(c)?,
        blob_refs: Vec::new(),
    };
    for _ in 0..u32_at(c)? {
        table.blob_refs.push((BlobFileId(u64_at(c)?), u64_at(c)?));
    }
    Ok(table)
}

fn u64_at(c: &mut Cursor<'_>) -> BodyResult<u64> {
    let pos = c.pos();
    c.u64().ok_or((pos, "version body ends inside a field"))
}

fn u32_at(c: &mut Cursor<'_>) -> BodyResult<u32> {
    let pos = c.pos();
    c.u32().ok_or((pos, "version body ends inside a count"))
}

/// A length-prefixed key; the length is checked against what remains before
/// anything is allocated.
fn key_at(c: &mut Cursor<'_>) -> BodyResult<Vec<u8>> {
    let pos = c.pos();
    let len = u32_at(c)? as usize;
    c.take(len).map(<[u8]>::to_vec).ok_or((pos, "key length runs past the version body"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn sample() -> VersionRecord {
        let table = TableInfo {
            id: TableId(3),
            size_bytes: 4096,
            entry_count: 12,
            smallest_key: b"apple".to_vec(),
            largest_key: b"zebra".to_vec(),
            smallest_seqno: SeqNo(1),
            largest_seqno: SeqNo(40),
            blob_refs: vec![(BlobFileId(2), 9000)],
        };
        VersionRecord {
            id: VersionId(7),
            levels: vec![vec![table], vec![], vec![]],
            blob_files: vec![BlobFileInfo { id: BlobFileId(2), size_bytes: 10_000, value_count: 3, value_bytes: 9500 }],
            last_seqno: SeqNo(40),
            log_start: LogAddress(123_456),
            next_file_id: 4,
            identity: Some(DbIdentity { id: u128::MAX - 5, generation: 3 }),
            fork_pending: true,
        }
    }

    /// The format 1 layout (no identity fields), as builds before
    /// identities wrote it.
    pub(crate) fn encode_format_1(record: &VersionRecord) -> Vec<u8> {
        let v2 = encode_version(record);
        let body_start = BODY_OFFSET + 4 * 8;
        let identity_len = 4 + 3 * 8;
        let mut out = v2[..BODY_OFFSET].to_vec();
        out[FORMAT_VERSION_OFFSET..BODY_LEN_OFFSET].copy_from_slice(&FORMAT_VERSION_NO_IDENTITY.to_le_bytes());
        let body_len = v2.len() - BODY_OFFSET - CHECKSUM_BYTES - identity_len;
        out[BODY_LEN_OFFSET..BODY_OFFSET].copy_from_slice(&(body_len as u64).to_le_bytes());
        out.extend_from_slice(&v2[BODY_OFFSET..body_start]);
        out.extend_from_slice(&v2[body_start + identity_len..v2.len() - CHECKSUM_BYTES]);
        let sum = checksum(&out);
        put_u64(&mut out, sum);
        out
    }

    #[test]
    fn format_1_reads_as_no_identity() {
        let record = sample();
        let old = decode_version(Path::new("v7"), &encode_format_1(&record)).unwrap();
        assert_eq!(old, VersionRecord { identity: None, fork_pending: false, ..record });
    }

    #[test]
    fn identity_fields_are_checked() {
        for (identity, fork_pending) in
            [(None, false), (None, true), (Some(DbIdentity { id: 1, generation: 1 }), false)]
        {
            let record = VersionRecord { identity, fork_pending, ..sample() };
            assert_eq!(decode_version(Path::new("v7"), &encode_version(&record)).unwrap(), record);
        }
        let mut body = Vec::new();
        encode_identity(&mut body, Some(DbIdentity { id: 1, generation: 1 }), false);
        for (at, value, what) in [(0, 4u8, "flags"), (20, 0, "generation")] {
            let mut bad = body.clone();
            bad[at] = value;
            if what == "generation" {
                bad[20..28].fill(0);
            }
            assert!(decode_identity(&mut Cursor::new(&bad)).is_err(), "{what}");
        }
        let mut absent = Vec::new();
        encode_identity(&mut absent, None, false);
        absent[4] = 1;
        assert!(decode_identity(&mut Cursor::new(&absent)).is_err(), "an id without an identity");
    }

    #[test]
    fn round_trip() {
        let record = sample();
        let bytes = encode_version(&record);
        assert_eq!(decode_version(Path::new("v7"), &bytes).unwrap(), record);
    }

    #[test]
    fn every_bit_flip_and_truncation_is_corruption() {
        let bytes = encode_version(&sample());
        let mut flips = 0;
        for i in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[i / 8] ^= 1 << (i % 8);
            let err = decode_version(Path::new("v7"), &bad).unwrap_err();
            assert!(err.is_corruption(), "flip {i}: {err}");
            flips += 1;
        }
        for len in 0..bytes.len() {
            assert!(decode_version(Path::new("v7"), &bytes[..len]).unwrap_err().is_corruption());
        }
        assert_eq!(flips, bytes.len() * 8);
    }

    #[test]
    fn body_decoder_never_panics_on_garbage() {
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        for len in 0..2000 {
            let garbage: Vec<u8> = (0..len % 300)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8 % 4
                })
                .collect();
            let _ = decode_body(&garbage, FORMAT_VERSION);
            let _ = decode_body(&garbage, FORMAT_VERSION_NO_IDENTITY);
        }
    }
}
