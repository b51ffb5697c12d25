//! Entry points for the fuzz targets in `fuzz/`; not part of the API.
//!
//! Arbitrary bytes almost never carry a valid xxh3 checksum, so a fuzzer
//! feeding whole files only exercises the checks in front of the decoders.
//! These functions reach the decoders behind the checksums: they either
//! skip the checksum or recompute it over the fuzzer's bytes first. Each
//! returns whether the input decoded; none may panic.

use crate::SeqNo;
use crate::blob::format::{RECORD_SEQNO_OFFSET, decode_record};
use crate::table::block::{Block, BlockCursor};
use crate::table::filter::{Bloom, key_hash};
use crate::table::footer::{FOOTER_CHECKSUM_OFFSET, Footer};
use crate::table::frame::{BlockKind, STORED_LEN_OFFSET, decode_frame};
use crate::table::index::Index;
use crate::table::meta::TableMeta;
use crate::wire::checksum;
use std::sync::Arc;

/// Decodes `body` as the table or blob part named by `selector` (taken
/// modulo the number of parts), with checksums bypassed or recomputed.
pub fn decode_part(selector: u8, body: &[u8]) -> bool {
    match selector % 7 {
        0 => data_block(body),
        1 => Index::decode(body, body.len() as u64).is_ok(),
        2 => TableMeta::decode(body, u64::MAX).is_ok(),
        3 => filter(body),
        4 => frame(body),
        5 => footer(body),
        _ => blob_record(body),
    }
}

fn data_block(body: &[u8]) -> bool {
    let Ok(block) = Block::decode(body.to_vec()) else { return false };
    let block = Arc::new(block);
    let mut cursor = BlockCursor::new(Arc::clone(&block));
    let mut walked = 0;
    while let Ok(true) = cursor.advance() {
        walked += 1;
    }
    assert_eq!(walked, block.entry_count(), "a validated block walks in full");
    let probe = body.get(..body.len().min(8)).unwrap_or_default();
    BlockCursor::new(block).seek(probe, SeqNo(body.len() as u64)).is_ok()
}

fn filter(body: &[u8]) -> bool {
    let Ok(bloom) = Bloom::decode(body) else { return false };
    (0..16u8).for_each(|i| {
        bloom.may_contain(key_hash(&[i]));
    });
    true
}

/// Recomputes the checksum of the bytes as a frame, then decodes it.
fn frame(body: &[u8]) -> bool {
    let mut bytes = body.to_vec();
    let Some(covered) = bytes.get(STORED_LEN_OFFSET..) else { return false };
    let sum = checksum(covered);
    bytes[..8].copy_from_slice(&sum.to_le_bytes());
    let kind = [BlockKind::Data, BlockKind::Index, BlockKind::Filter, BlockKind::Meta];
    kind.iter().any(|&k| decode_frame(k, &bytes).is_ok())
}

/// Recomputes the footer checksum, then decodes the footer against a file
/// length taken from the bytes.
fn footer(body: &[u8]) -> bool {
    let mut bytes = body.to_vec();
    let Some(covered) = bytes.get(..FOOTER_CHECKSUM_OFFSET) else { return false };
    let sum = checksum(covered);
    if let Some(slot) = bytes.get_mut(FOOTER_CHECKSUM_OFFSET..FOOTER_CHECKSUM_OFFSET + 8) {
        slot.copy_from_slice(&sum.to_le_bytes());
    }
    let file_len = body.iter().fold(0u64, |a, &b| a.rotate_left(8) ^ u64::from(b));
    Footer::decode(&bytes, file_len).is_ok()
}

/// Recomputes a blob record's checksum, then decodes it.
fn blob_record(body: &[u8]) -> bool {
    let mut bytes = body.to_vec();
    let Some(covered) = bytes.get(RECORD_SEQNO_OFFSET..) else { return false };
    let sum = checksum(covered);
    bytes[..8].copy_from_slice(&sum.to_le_bytes());
    decode_record(&bytes).is_ok()
}

/// Decodes `body` as a backup manifest two ways, neither of which may
/// panic: as it is, and sealed with a correct checksum line, so the JSON
/// parser and the manifest checks behind the seal see the bytes (a
/// manifest that decodes must re-encode to one that decodes equal). The
/// other sealed documents (`latest.json`, `CHECKPOINT`) get the sealed
/// bytes too. Returns whether the sealed bytes decoded as a manifest.
pub fn manifest_parse(body: &[u8]) -> bool {
    use crate::backup::{Manifest, decode_latest};
    use crate::checkpoint::CheckpointDescription;

    if let Err(e) = Manifest::decode("fuzz", body) {
        assert!(e.is_corruption(), "a bad manifest is corruption: {e}");
    }
    let mut sealed = body.to_vec();
    sealed.extend_from_slice(format!("  \"checksum\": \"{:016x}\"\n}}\n", checksum(body)).as_bytes());
    if let Err(e) = decode_latest("fuzz", &sealed) {
        assert!(e.is_corruption(), "a bad latest.json is corruption: {e}");
    }
    if let Err(e) = CheckpointDescription::decode(std::path::Path::new("fuzz"), &sealed) {
        assert!(e.is_corruption(), "a bad CHECKPOINT is corruption: {e}");
    }
    match Manifest::decode("fuzz", &sealed) {
        Ok(manifest) => {
            let again = Manifest::decode("fuzz", &manifest.encode()).expect("an encoded manifest decodes");
            assert_eq!(again, manifest, "a manifest round-trips");
            true
        }
        Err(e) => {
            assert!(e.is_corruption(), "a bad manifest is corruption: {e}");
            false
        }
    }
}

/// Reads `body` as a dump stream twice, neither of which may panic: as it
/// is, and resealed (every checksum the framing reaches recomputed, the
/// trailer's count set), so the length bounds, the key order and the
/// trailer checks behind the checksums see the fuzzer's bytes. A stream
/// that reads to its end must be one `DumpWriter` writes byte for byte
/// (the format is canonical). Returns whether the resealed bytes read.
pub fn dump_reader(body: &[u8]) -> bool {
    read_dump(body);
    read_dump(&crate::dump::reseal(body))
}

fn read_dump(bytes: &[u8]) -> bool {
    use crate::dump::{DumpReader, DumpWriter};

    let records = DumpReader::new(bytes, "fuzz").and_then(|reader| {
        let seqno = reader.seqno();
        reader.collect::<crate::Result<Vec<_>>>().map(|records| (seqno, records))
    });
    match records {
        Ok((seqno, records)) => {
            let mut writer = DumpWriter::new(Vec::new(), "fuzz", seqno).expect("writing to a Vec");
            for (key, value) in &records {
                writer.put(key, value).expect("records read back are in order and within limits");
            }
            let (again, _) = writer.finish().expect("writing to a Vec");
            assert_eq!(again, bytes, "a dump that reads is the one the writer writes");
            true
        }
        Err(e) => {
            assert!(e.is_corruption(), "a bad dump is corruption: {e}");
            false
        }
    }
}

/// Decodes `body` as an archived log chunk as it is, then with both its
/// checksums recomputed (so the checks behind them see the bytes). Errors
/// must be corruption; a log chunk that decodes must re-encode to the same
/// bytes. Returns whether the sealed bytes decoded.
pub fn archive_chunk(body: &[u8]) -> bool {
    use crate::backup::chunk::{self, Chunk, HEADER_BYTES};
    if let Err(e) = chunk::decode("fuzz", body) {
        assert!(e.is_corruption(), "a bad chunk is corruption: {e}");
    }
    let mut sealed = body.to_vec();
    if sealed.len() >= HEADER_BYTES + 8 {
        let head = checksum(&sealed[..HEADER_BYTES - 8]);
        sealed[HEADER_BYTES - 8..HEADER_BYTES].copy_from_slice(&head.to_le_bytes());
        let end = sealed.len() - 8;
        let whole = checksum(&sealed[..end]);
        sealed[end..].copy_from_slice(&whole.to_le_bytes());
    }
    match chunk::decode("fuzz", &sealed) {
        Ok(Chunk::Log { header, pieces, commits }) => {
            let (_, again) =
                chunk::encode_log(header.timeline, header.after, header.page_size_or_lost, &pieces, &commits);
            assert_eq!(again, sealed, "a log chunk round-trips");
            true
        }
        Ok(Chunk::Gap { .. }) => true,
        Err(e) => {
            assert!(e.is_corruption(), "a bad chunk is corruption: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_resealed_read_and_odd_ones_do_not_panic() {
        let mut writer = crate::dump::DumpWriter::new(Vec::new(), "seed", SeqNo(9)).unwrap();
        writer.put(b"", b"empty key").unwrap();
        writer.put(b"k\x00", b"").unwrap();
        let (sample, _) = writer.finish().unwrap();
        assert!(dump_reader(&sample));
        for len in 0..sample.len() {
            assert!(!read_dump(&sample[..len]));
            dump_reader(&sample[..len]);
        }
        for i in 0..sample.len() {
            let mut odd = sample.clone();
            odd[i] = odd[i].wrapping_add(1);
            assert!(!read_dump(&odd), "byte {i} changed");
            dump_reader(&odd);
        }
    }

    #[test]
    fn manifests_behind_the_seal_decode_and_odd_ones_do_not_panic() {
        let sample = "{\n  \"format\": \"cairndb-backup-manifest\",\n  \"format_version\": 3,\n  \"id\": 3,\n  \
                      \"created_unix_ms\": 5,\n  \"source\": \"/db\",\n  \"database\": \"unknown\",\n  \
                      \"seqno\": 9,\n  \"version_id\": 2,\n  \"files\": [\n    {\n      \"role\": \"version\",\n      \
                      \"name\": \"v2\",\n      \"key\": \"files/0000000000000000000000000000000a-7.version\",\n      \
                      \"size_bytes\": 7,\n      \"xxh3_128\": \"0000000000000000000000000000000a\"\n    }\n  ],\n";
        assert!(manifest_parse(sample.as_bytes()));
        for len in 0..sample.len() {
            manifest_parse(&sample.as_bytes()[..len]);
        }
        for i in 0..sample.len() {
            let mut odd = sample.as_bytes().to_vec();
            odd[i] = odd[i].wrapping_add(1);
            manifest_parse(&odd);
        }
    }

    #[test]
    fn short_and_odd_inputs_do_not_panic() {
        for selector in 0..7 {
            for len in 0..200 {
                let body: Vec<u8> = (0..len).map(|i| (i * 37 + selector as usize) as u8).collect();
                decode_part(selector, &body);
            }
        }
    }
}
