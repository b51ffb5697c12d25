//! Every damaged blob file is refused or read correctly: flip every bit of
//! the footer and of every record header, an even sample of the rest, and
//! truncate at every length; each read must return the right value or
//! `Error::Corruption`, and every flip must be detected.

mod common;

use cairndb::fs::{StdFs, read_to_vec};
use cairndb::internals::blob::{BLOB_FOOTER_BYTES, BlobFile, BlobOptions, BlobRef, BlobWriter, RECORD_HEADER_BYTES};
use cairndb::{BlobFileId, SeqNo};
use common::{MemFile, assert_corruption_or_io, bits_to_flip, flipped};

/// Flips sampled from keys and values, on top of every header and footer bit.
const BODY_FLIPS_BUDGET: usize = 12_000;

fn values() -> Vec<(Vec<u8>, Vec<u8>)> {
    let lens = [0usize, 1, 17, 300, 4096, 5000, 64, 9000, 2, 700, 4100, 33];
    lens.iter()
        .enumerate()
        .map(|(i, &len)| {
            let compressible = i % 2 == 0;
            let value = (0..len)
                .map(|j| if compressible { (j / 64) as u8 } else { (j * 7919 + i * 31) as u8 ^ (j >> 3) as u8 })
                .collect();
            (format!("blob-key-{i}").into_bytes(), value)
        })
        .collect()
}

fn build() -> (Vec<u8>, Vec<BlobRef>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("7.blob");
    let mut w = BlobWriter::new(&StdFs::new(), &path, BlobFileId(7), BlobOptions { compression: true }).unwrap();
    let refs = values().iter().enumerate().map(|(i, (k, v))| w.add(k, SeqNo(i as u64), v).unwrap()).collect();
    w.finish().unwrap();
    (read_to_vec(&StdFs::new(), &path).unwrap(), refs)
}

/// Reads a (possibly damaged) copy every way; panics on a wrong answer;
/// returns whether damage was detected.
fn read_everything(bytes: Vec<u8>, refs: &[BlobRef], expected: &[(Vec<u8>, Vec<u8>)], context: &str) -> bool {
    let file = match BlobFile::from_file(MemFile::boxed("7.blob", bytes), BlobFileId(7)) {
        Ok(f) => f,
        Err(e) => {
            assert_corruption_or_io(&e, context);
            return true;
        }
    };
    let mut detected = false;
    for (r, (key, value)) in refs.iter().zip(expected) {
        match file.read_value(r, key) {
            Ok(got) => assert_eq!(&got, value, "{context}: wrong value"),
            Err(e) => {
                assert_corruption_or_io(&e, context);
                detected = true;
            }
        }
    }
    for (i, item) in file.iter().enumerate() {
        match item {
            Ok((r, record)) => {
                assert_eq!(r, refs[i], "{context}: wrong reference");
                assert_eq!((record.key, record.value), expected[i], "{context}: wrong record");
            }
            Err(e) => {
                assert_corruption_or_io(&e, context);
                detected = true;
            }
        }
    }
    if let Err(e) = file.verify() {
        assert_corruption_or_io(&e, context);
        detected = true;
    }
    detected
}

#[test]
#[expect(clippy::print_stderr, reason = "the issue asks the sweep to report its flip count")]
fn every_flipped_bit_is_detected_or_harmless() {
    let (bytes, refs) = build();
    let expected = values();
    assert!(!read_everything(bytes.clone(), &refs, &expected, "intact"));
    let mut full: Vec<_> = refs.iter().map(|r| r.offset as usize..r.offset as usize + RECORD_HEADER_BYTES).collect();
    full.push(bytes.len() - BLOB_FOOTER_BYTES..bytes.len());
    let bits = bits_to_flip(bytes.len(), &full, BODY_FLIPS_BUDGET);
    let undetected: Vec<usize> = bits
        .iter()
        .copied()
        .filter(|&bit| !read_everything(flipped(&bytes, bit), &refs, &expected, &format!("bit {bit}")))
        .collect();
    let full_bits: usize = full.iter().map(|r| r.len() * 8).sum();
    eprintln!(
        "blob sweep: {} flips tried ({full_bits} in record headers and footer, {} sampled from keys and values), file {} bytes, {} undetected",
        bits.len(),
        bits.len() - full_bits,
        bytes.len(),
        undetected.len()
    );
    assert!(undetected.is_empty(), "flips read back without error: {undetected:?}");
}

#[test]
fn every_truncation_is_refused_at_open() {
    let (bytes, refs) = build();
    for len in 0..bytes.len() {
        let file = BlobFile::from_file(MemFile::boxed("7.blob", bytes[..len].to_vec()), BlobFileId(7));
        let e = file.expect_err("a truncated blob file must not open");
        assert_corruption_or_io(&e, &format!("truncated to {len}"));
    }
    assert!(read_everything([bytes.as_slice(), &[0]].concat(), &refs, &values(), "one byte appended"));
}
