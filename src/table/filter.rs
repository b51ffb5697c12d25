//! The bloom filter over a table's user keys.
//!
//! ```text
//! 0   4   probe count k (0 = no filter: every key may be present)
//! 4   ..  bit array, bit i at byte i / 8, mask 1 << (i % 8)
//! ```
//!
//! A key's probes are `h + i * delta` (wrapping, mod the bit count) for `i`
//! in `0..k`, where `h` is the key's xxh3-64 and `delta` is `h` rotated by
//! 32 bits, with its low bit set.

use crate::wire::{Cursor, checksum, put_u32};

/// Size of the probe count.
pub(crate) const FILTER_PROBES_BYTES: usize = 4;
const _: () = assert!(FILTER_PROBES_BYTES == size_of::<u32>());
/// Most probes a filter may ask for.
pub(crate) const FILTER_PROBES_MAX: u32 = 30;

/// A decoded bloom filter.
#[derive(Debug, Default)]
pub(crate) struct Bloom {
    probes: u32,
    bits: Vec<u8>,
}

/// The hash a key is filtered by.
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    checksum(key)
}

impl Bloom {
    /// Builds a filter body for the key hashes given, with `bits_per_key`
    /// bits per key (0: no filter).
    pub(crate) fn build(hashes: &[u64], bits_per_key: u32) -> Vec<u8> {
        let mut out = Vec::new();
        if bits_per_key == 0 || hashes.is_empty() {
            put_u32(&mut out, 0);
            return out;
        }
        // k = bits_per_key * ln 2 minimises false positives.
        let probes = ((bits_per_key as f64 * 0.69) as u32).clamp(1, FILTER_PROBES_MAX);
        let bit_count = (hashes.len() * bits_per_key as usize).max(64);
        let mut bits = vec![0u8; bit_count.div_ceil(8)];
        let bit_count = bits.len() as u64 * 8;
        for &h in hashes {
            for bit in probe_bits(h, probes, bit_count) {
                bits[(bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
        put_u32(&mut out, probes);
        out.extend_from_slice(&bits);
        out
    }

    /// Decodes a filter body.
    pub(crate) fn decode(body: &[u8]) -> Result<Bloom, &'static str> {
        let mut c = Cursor::new(body);
        let probes = c.u32().ok_or("filter too short")?;
        let bits = c.take(c.remaining()).unwrap_or_default().to_vec();
        if probes > FILTER_PROBES_MAX || (probes > 0 && bits.is_empty()) {
            return Err("filter parameters out of range");
        }
        Ok(Bloom { probes, bits })
    }

    /// False when the key is certainly absent.
    pub(crate) fn may_contain(&self, hash: u64) -> bool {
        let bit_count = self.bits.len() as u64 * 8;
        self.probes == 0
            || probe_bits(hash, self.probes, bit_count)
                .all(|bit| self.bits.get((bit / 8) as usize).is_some_and(|b| b & (1 << (bit % 8)) != 0))
    }
}

fn probe_bits(hash: u64, probes: u32, bit_count: u64) -> impl Iterator<Item = u64> {
    let delta = hash.rotate_left(32) | 1;
    (0..u64::from(probes)).map(move |i| hash.wrapping_add(i.wrapping_mul(delta)) % bit_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let hashes: Vec<u64> = (0..10_000u32).map(|i| key_hash(&i.to_le_bytes())).collect();
        let bloom = Bloom::decode(&Bloom::build(&hashes, 10)).unwrap();
        assert!(hashes.iter().all(|&h| bloom.may_contain(h)));
        let fp = (10_000..110_000u32).filter(|i| bloom.may_contain(key_hash(&i.to_le_bytes())));
        let rate = fp.count() as f64 / 100_000.0;
        assert!(rate < 0.02, "false-positive rate {rate}");
        let none = Bloom::decode(&Bloom::build(&hashes, 0)).unwrap();
        assert!(none.may_contain(42));
    }
}
