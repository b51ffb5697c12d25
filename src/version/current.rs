//! `CURRENT`: which version file is the database's current version.
//!
//! Layout (32 bytes, little-endian; `docs/FORMAT.md`, "CURRENT"):
//! magic `CAIRNCUR` (8), version id (u64), xxh3-64 of the whole `v{N}` file
//! (u64), xxh3-64 of the preceding 24 bytes (u64). It is replaced
//! atomically (temporary file, fsync, rename, directory fsync).

use std::path::Path;

use super::VersionId;
use crate::wire::{checksum, get_u64, put_u64};
use crate::{Error, Result};

const MAGIC: [u8; 8] = *b"CAIRNCUR";
const ID_OFFSET: usize = MAGIC.len();
const HASH_OFFSET: usize = ID_OFFSET + 8;
const CHECKSUM_OFFSET: usize = HASH_OFFSET + 8;
const CURRENT_BYTES: usize = CHECKSUM_OFFSET + 8;
const _: () = assert!(CURRENT_BYTES == 32);

/// Encodes `CURRENT` for version `id` whose file hashes to `version_hash`.
pub(crate) fn encode_current(id: VersionId, version_hash: u64) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    put_u64(&mut out, id.0);
    put_u64(&mut out, version_hash);
    let sum = checksum(&out);
    put_u64(&mut out, sum);
    out
}

/// Encodes `CURRENT` for version `id` whose file `v{N}` is `version_file`.
pub(crate) fn encode_current_for(id: VersionId, version_file: &[u8]) -> Vec<u8> {
    encode_current(id, checksum(version_file))
}

/// Decodes `CURRENT`: the version id and the expected hash of its file.
pub(crate) fn decode_current(path: &Path, bytes: &[u8]) -> Result<(VersionId, u64)> {
    if bytes.len() != CURRENT_BYTES {
        return Err(Error::corruption(path, 0, format!("CURRENT is {} bytes, expected {CURRENT_BYTES}", bytes.len())));
    }
    let stored = get_u64(bytes, CHECKSUM_OFFSET).unwrap_or_default();
    if checksum(&bytes[..CHECKSUM_OFFSET]) != stored {
        return Err(Error::corruption(path, CHECKSUM_OFFSET as u64, "CURRENT checksum mismatch"));
    }
    if bytes[..ID_OFFSET] != MAGIC {
        return Err(Error::corruption(path, 0, "CURRENT has a bad magic"));
    }
    let id = get_u64(bytes, ID_OFFSET).unwrap_or_default();
    let hash = get_u64(bytes, HASH_OFFSET).unwrap_or_default();
    Ok((VersionId(id), hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_flips() {
        let bytes = encode_current(VersionId(42), 0xDEAD_BEEF);
        assert_eq!(decode_current(Path::new("CURRENT"), &bytes).unwrap(), (VersionId(42), 0xDEAD_BEEF));
        for i in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert!(decode_current(Path::new("CURRENT"), &bad).unwrap_err().is_corruption());
        }
        assert!(decode_current(Path::new("CURRENT"), &bytes[..31]).unwrap_err().is_corruption());
    }
}
