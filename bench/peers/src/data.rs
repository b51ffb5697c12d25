//! The data every engine is given: keys, values and orders derived from
//! indices, so no workload stores them and every engine sees the same bytes.

/// Bytes of a key.
pub const KEY_BYTES: usize = 16;
/// Bytes of a value.
pub const VALUE_BYTES: usize = 100;
/// Bytes of a key and its value: the logical size of one entry.
pub const PAIR_BYTES: u64 = (KEY_BYTES + VALUE_BYTES) as u64;
/// The random half of a value; the other half repeats it, so a value
/// compresses to about half, like db_bench's default `--compression_ratio=0.5`.
const VALUE_RANDOM_BYTES: usize = VALUE_BYTES / 2;

const _: () = assert!(PAIR_BYTES == 116);
const _: () = assert!(VALUE_RANDOM_BYTES * 2 == VALUE_BYTES);

/// A key.
pub type Key = [u8; KEY_BYTES];
/// A value.
pub type Value = [u8; VALUE_BYTES];

/// A key and the value to write under it.
#[derive(Clone, Copy)]
pub struct Pair {
    /// The key.
    pub key: Key,
    /// Its value.
    pub value: Value,
}

impl Pair {
    /// The pair of index `i` at `version`.
    pub fn new(i: u64, version: u32) -> Pair {
        Pair { key: key(i), value: value(i, version) }
    }
}

/// A point read and the value it must find (`None`: the key must be absent).
#[derive(Clone, Copy)]
pub struct Lookup {
    /// The key to read.
    pub key: Key,
    /// What it must return.
    pub expected: Option<Value>,
}

/// SplitMix64's finaliser: a bijection on `u64` that looks random.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The key of index `i`: 16 random-looking bytes, distinct for distinct
/// indices (the first half is a bijection of `i`).
pub fn key(i: u64) -> Key {
    let mut k = [0u8; KEY_BYTES];
    k[..8].copy_from_slice(&mix(i).to_be_bytes());
    k[8..].copy_from_slice(&mix(i ^ 0x5555_5555_5555_5555).to_be_bytes());
    k
}

/// The value of index `i` at `version`: different bytes for every version.
pub fn value(i: u64, version: u32) -> Value {
    let mut v = [0u8; VALUE_BYTES];
    let mut state = mix(i) ^ mix(u64::from(version) << 40 | 0xABCD);
    let (random, repeat) = v.split_at_mut(VALUE_RANDOM_BYTES);
    for chunk in random.chunks_mut(8) {
        state = mix(state);
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    repeat.copy_from_slice(random);
    v
}

/// A small deterministic generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next random `u64`.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(1);
        mix(self.0)
    }

    /// A random number below `bound` (> 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0);
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }
}

/// `0..n` in a random order (Fisher-Yates).
pub fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    let mut order: Vec<u64> = (0..n).collect();
    let mut rng = Rng::new(seed);
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_values_differ_by_version() {
        let keys: std::collections::HashSet<Key> = (0..10_000).map(key).collect();
        assert_eq!(keys.len(), 10_000);
        assert_ne!(value(7, 0), value(7, 1));
        assert_ne!(value(7, 0), value(8, 0));
        assert_eq!(value(7, 0)[..VALUE_RANDOM_BYTES], value(7, 0)[VALUE_RANDOM_BYTES..]);
    }

    #[test]
    fn shuffled_is_a_permutation() {
        let mut order = shuffled(1000, 1);
        assert_ne!(order, (0..1000).collect::<Vec<_>>());
        order.sort_unstable();
        assert_eq!(order, (0..1000).collect::<Vec<_>>());
    }
}
