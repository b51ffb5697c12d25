//! The bloom filter over a table's user keys.
//!
//! ```text
//! 0   4   parameters: probe count k in the low byte (0 = no filter: every
//!         key may be present), layout in the next (0 = spread, 1 = blocked),
//!         the two high bytes zero
//! 4   ..  bit array, bit i at byte i / 8, mask 1 << (i % 8)
//! ```
//!
//! Blocked (what the writer builds): the bit array is made of 64-byte
//! blocks, and all of a key's probes fall in one block, so a lookup costs
//! one cache miss, not k. With `h` the key's xxh3-64, the block is
//! `(low32(h) * blocks) >> 32`, and the probes are the top 9 bits of `g`,
//! `g * C`, `g * C^2`, ... (wrapping 32-bit products, `g = high32(h)`,
//! `C = 0x9E37_79B9`), each a bit within the block.
//!
//! Spread (tables written before blocked filters): probes `h + i * delta`
//! (wrapping, mod the bit count) for `i` in `0..k`, where `delta` is `h`
//! rotated by 32 bits, with its low bit set.

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
    layout: Layout,
    bits: Vec<u8>,
}

/// Where a key's probes fall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Layout {
    /// Anywhere in the bit array (k cache misses per lookup).
    #[default]
    Spread,
    /// Within one 64-byte block.
    Blocked,
}

/// Bytes per block of a blocked filter: one cache line.
pub(crate) const FILTER_BLOCK_BYTES: usize = 64;
/// Multiplier stepping from one probe of a blocked filter to the next.
const PROBE_STEP: u32 = 0x9E37_79B9;

/// The hash a key is filtered by.
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    checksum(key)
}

impl Bloom {
    /// Builds a blocked filter body for the key hashes given, with
    /// `bits_per_key` bits per key (0: no filter).
    pub(crate) fn build(hashes: &[u64], bits_per_key: u32) -> Vec<u8> {
        let mut out = Vec::new();
        if bits_per_key == 0 || hashes.is_empty() {
            put_u32(&mut out, 0);
            return out;
        }
        // k = bits_per_key * ln 2 minimises false positives.
        let probes = ((bits_per_key as f64 * 0.69) as u32).clamp(1, FILTER_PROBES_MAX);
        let blocks = (hashes.len() * bits_per_key as usize).div_ceil(FILTER_BLOCK_BYTES * 8).max(1);
        let mut bits = vec![0u8; blocks * FILTER_BLOCK_BYTES];
        for &h in hashes {
            let block = &mut bits[blocked_start(h, blocks)..][..FILTER_BLOCK_BYTES];
            for bit in blocked_bits(h, probes) {
                block[bit / 8] |= 1 << (bit % 8);
            }
        }
        put_u32(&mut out, probes | 1 << 8);
        out.extend_from_slice(&bits);
        out
    }

    /// Decodes a filter body.
    pub(crate) fn decode(body: &[u8]) -> Result<Bloom, &'static str> {
        let mut c = Cursor::new(body);
        let word = c.u32().ok_or("filter too short")?;
        let bits = c.take(c.remaining()).unwrap_or_default().to_vec();
        let (probes, layout) = match word >> 8 {
            0 => (word, Layout::Spread),
            1 => (word & 0xFF, Layout::Blocked),
            _ => return Err("filter layout unknown"),
        };
        if probes > FILTER_PROBES_MAX || (probes > 0 && bits.is_empty()) {
            return Err("filter parameters out of range");
        }
        if layout == Layout::Blocked && !bits.len().is_multiple_of(FILTER_BLOCK_BYTES) {
            return Err("blocked filter is not whole blocks");
        }
        Ok(Bloom { probes, layout, bits })
    }

    /// False when the key is certainly absent.
    pub(crate) fn may_contain(&self, hash: u64) -> bool {
        if self.probes == 0 {
            return true;
        }
        match self.layout {
            Layout::Blocked => {
                let blocks = self.bits.len() / FILTER_BLOCK_BYTES;
                let block = &self.bits[blocked_start(hash, blocks)..][..FILTER_BLOCK_BYTES];
                blocked_bits(hash, self.probes).all(|bit| block[bit / 8] & (1 << (bit % 8)) != 0)
            }
            Layout::Spread => {
                let bit_count = self.bits.len() as u64 * 8;
                spread_bits(hash, self.probes, bit_count)
                    .all(|bit| self.bits.get((bit / 8) as usize).is_some_and(|b| b & (1 << (bit % 8)) != 0))
            }
        }
    }
}

/// Byte offset of the block a key's probes fall in.
fn blocked_start(hash: u64, blocks: usize) -> usize {
    (((hash & 0xFFFF_FFFF) * blocks as u64) >> 32) as usize * FILTER_BLOCK_BYTES
}

/// Bit positions (0..512) within the block.
fn blocked_bits(hash: u64, probes: u32) -> impl Iterator<Item = usize> {
    let mut g = (hash >> 32) as u32;
    (0..probes).map(move |_| {
        let bit = (g >> 23) as usize;
        g = g.wrapping_mul(PROBE_STEP);
        bit
    })
}

fn spread_bits(hash: u64, probes: u32, bit_count: u64) -> impl Iterator<Item = u64> {
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

    /// A filter in the spread layout, as tables written before blocked
    /// filters hold it.
    fn build_spread(hashes: &[u64], bits_per_key: u32) -> Vec<u8> {
        let probes = (bits_per_key as f64 * 0.69) as u32;
        let mut bits = vec![0u8; (hashes.len() * bits_per_key as usize).max(64).div_ceil(8)];
        let bit_count = bits.len() as u64 * 8;
        for &h in hashes {
            for bit in spread_bits(h, probes, bit_count) {
                bits[(bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
        let mut out = Vec::new();
        put_u32(&mut out, probes);
        out.extend_from_slice(&bits);
        out
    }

    #[test]
    fn spread_filters_still_read_and_bad_parameters_are_refused() {
        let hashes: Vec<u64> = (0..5_000u32).map(|i| key_hash(&i.to_le_bytes())).collect();
        let spread = Bloom::decode(&build_spread(&hashes, 10)).unwrap();
        assert_eq!(spread.layout, Layout::Spread);
        assert!(hashes.iter().all(|&h| spread.may_contain(h)));
        let fp = (5_000..55_000u32).filter(|i| spread.may_contain(key_hash(&i.to_le_bytes()))).count();
        assert!(fp < 1_000, "{fp} false positives of 50,000");
        let mut blocked = Bloom::build(&hashes, 10);
        assert_eq!(Bloom::decode(&blocked).unwrap().layout, Layout::Blocked);
        blocked.push(0);
        assert!(Bloom::decode(&blocked).is_err(), "a partial block");
        let mut unknown = Bloom::build(&hashes, 10);
        unknown[1] = 2;
        assert!(Bloom::decode(&unknown).is_err(), "an unknown layout");
    }
}
