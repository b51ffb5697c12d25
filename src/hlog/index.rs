//! The memtable index: key -> address of the key's newest record.
//!
//! An ordered map behind a reader-writer lock: the memtable's sorted view.
//! New keys reach it in sorted batches (see `Memtable::merge_pending`);
//! point lookups normally go to the hash table instead. Keys are
//! stored as [`IndexKey`]: the first 16 bytes inline as big-endian words,
//! so comparisons of short keys never chase a pointer (see the `hlog` bench
//! `index/*` for the measured difference against boxed keys).

use crate::sync::RwLockExt;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::RwLock;

const INLINE_BYTES: usize = 16;

/// A key as the index stores it; orders exactly like the byte string.
///
/// 32 bytes, so a B-tree node's keys span few cache lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexKey {
    /// The first 16 bytes, zero-padded, as two big-endian words.
    head: [u64; 2],
    /// The whole key's length.
    len: u32,
    /// Bytes after the first 16, if any (a thin pointer).
    rest: Option<Box<Box<[u8]>>>,
}

const _: () = assert!(size_of::<IndexKey>() == 32);

impl IndexKey {
    /// Builds the index form of `key`.
    pub fn new(key: &[u8]) -> IndexKey {
        let mut head = [0u8; INLINE_BYTES];
        let inline = key.len().min(INLINE_BYTES);
        head[..inline].copy_from_slice(&key[..inline]);
        let rest = (key.len() > INLINE_BYTES).then(|| Box::new(key[INLINE_BYTES..].into()));
        let word = |at: usize| u64::from_be_bytes(head[at..at + 8].try_into().expect("8 bytes"));
        IndexKey { head: [word(0), word(8)], len: key.len() as u32, rest }
    }

    fn rest(&self) -> &[u8] {
        self.rest.as_deref().map_or(&[], |rest| rest)
    }

    /// The key's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self.head.iter().flat_map(|w| w.to_be_bytes()).collect();
        out.truncate((self.len as usize).min(INLINE_BYTES));
        out.extend_from_slice(self.rest());
        out
    }
}

impl Ord for IndexKey {
    fn cmp(&self, other: &Self) -> Ordering {
        // Equal heads mean equal first 16 bytes, or a key of at most 16 bytes
        // that is a zero-padded prefix of the other: then the tails and
        // finally the lengths decide, as in byte-string order.
        self.head.cmp(&other.head).then_with(|| self.rest().cmp(other.rest())).then_with(|| self.len.cmp(&other.len))
    }
}

impl PartialOrd for IndexKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Ordered, shared map from keys to record addresses.
#[derive(Debug, Default)]
pub struct Index {
    map: RwLock<BTreeMap<IndexKey, u64>>,
}

impl Index {
    /// The newest record address of `key`.
    pub fn get(&self, key: &[u8]) -> Option<u64> {
        self.read().get(&IndexKey::new(key)).copied()
    }

    /// Points `key` at `address`; returns the previous address.
    pub fn insert(&self, key: &[u8], address: u64) -> Option<u64> {
        let key = IndexKey::new(key);
        let mut map = self.map.write_locked();
        map.insert(key, address)
    }

    /// Inserts keys sorted ascending (new ones: existing keys keep theirs).
    pub fn insert_sorted(&self, sorted: Vec<(IndexKey, u64)>) {
        let mut map = self.map.write_locked();
        for (key, address) in sorted {
            map.entry(key).or_insert(address);
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// True when no key is indexed.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Up to `count_max` entries between `from` and `to`, appended to `out`
    /// in key order: ascending from `from`, or descending from `to` when
    /// `descending`.
    pub fn collect_range(
        &self,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        count_max: usize,
        descending: bool,
        out: &mut Vec<(Vec<u8>, u64)>,
    ) {
        let from = from.map(IndexKey::new);
        let to = to.map(IndexKey::new);
        if let (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) = (&from, &to) {
            let empty = match (&from, &to) {
                (Bound::Included(_), Bound::Included(_)) => a > b,
                _ => a >= b,
            };
            if empty {
                return;
            }
        }
        let map = self.read();
        let range = map.range((from, to));
        let entry = |(k, &a): (&IndexKey, &u64)| (k.to_vec(), a);
        if descending {
            out.extend(range.rev().take(count_max).map(entry));
        } else {
            out.extend(range.take(count_max).map(entry));
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<IndexKey, u64>> {
        self.map.read_locked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    quickcheck! {
        fn index_key_orders_like_bytes(a: Vec<u8>, b: Vec<u8>) -> bool {
            let (ka, kb) = (IndexKey::new(&a), IndexKey::new(&b));
            ka.cmp(&kb) == a.cmp(&b) && ka.to_vec() == a
        }

        fn index_key_orders_near_prefixes(a: Vec<u8>, cut: usize, zeros: u8) -> bool {
            let mut b = a[..cut.min(a.len())].to_vec();
            b.extend(std::iter::repeat_n(0, zeros as usize % 20));
            IndexKey::new(&a).cmp(&IndexKey::new(&b)) == a.cmp(&b)
        }
    }

    #[test]
    fn range_is_in_key_order_and_bounded() {
        let index = Index::default();
        for (i, k) in [&b"b"[..], b"a", b"a\0", b"c", b"0123456789abcdefXYZ"].iter().enumerate() {
            index.insert(k, i as u64);
        }
        let mut out = Vec::new();
        index.collect_range(Bound::Excluded(b"0"), Bound::Included(b"b"), 10, false, &mut out);
        let keys: Vec<_> = out.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, vec![b"0123456789abcdefXYZ".to_vec(), b"a".to_vec(), b"a\0".to_vec(), b"b".to_vec()]);
        out.clear();
        index.collect_range(Bound::Excluded(b"0"), Bound::Included(b"b"), 3, true, &mut out);
        let keys: Vec<_> = out.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, vec![b"b".to_vec(), b"a\0".to_vec(), b"a".to_vec()], "descending from the end");
        out.clear();
        index.collect_range(Bound::Included(b"c"), Bound::Excluded(b"a"), 10, false, &mut out);
        index.collect_range(Bound::Included(b"c"), Bound::Excluded(b"a"), 10, true, &mut out);
        assert!(out.is_empty());
    }
}
