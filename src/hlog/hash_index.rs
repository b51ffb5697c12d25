//! The point-lookup index: key hash -> newest record address, lock-free.
//!
//! An open-addressing table (linear probing) of atomic words, each holding a
//! 16-bit tag of the key's hash and a 48-bit record address. Only the log's
//! writer stores into it; readers probe without locks and confirm a tag
//! match against the key in the record. The table has a fixed size chosen
//! from the memtable budget; when it is three-quarters full it stops taking
//! new keys (still updating those it has) and raises `overflowed`, after
//! which a miss sends the reader to the ordered index. See the `hlog` bench
//! `point_read` for what it buys over the B-tree alone.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

const ADDRESS_BITS: u32 = 48;
/// Addresses the table can hold are below this.
pub const ADDRESS_LIMIT: u64 = (1 << ADDRESS_BITS) - 1;
const ADDRESS_MASK: u64 = (1 << ADDRESS_BITS) - 1;
const EMPTY: u64 = u64::MAX;
/// Largest table (128 MiB of slots); a memtable with more keys looks the
/// rest up in the sorted view.
pub const SLOTS_MAX: usize = 1 << 24;

/// What a probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The key's newest record.
    Found(u64),
    /// The key is not in the memtable.
    Absent,
    /// The table is full and does not know: ask the ordered index.
    Unknown,
}

/// Lock-free hash -> address table with a single writer.
#[derive(Debug)]
pub struct HashIndex {
    slots: Box<[AtomicU64]>,
    len: AtomicUsize,
    overflowed: AtomicBool,
}

impl HashIndex {
    /// A table sized for about `keys` keys (64 to [`SLOTS_MAX`] slots).
    pub fn with_capacity(keys: usize) -> HashIndex {
        let slots = (keys.saturating_mul(4) / 3).clamp(64, SLOTS_MAX).next_power_of_two();
        HashIndex {
            slots: std::iter::repeat_with(|| AtomicU64::new(EMPTY)).take(slots).collect(),
            len: AtomicUsize::new(0),
            overflowed: AtomicBool::new(false),
        }
    }

    fn tag(hash: u64) -> u64 {
        hash >> ADDRESS_BITS
    }

    fn start(&self, hash: u64) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    /// The newest record of the key whose hash is `hash`; `is_key` says
    /// whether a record address holds the key.
    pub fn get(&self, hash: u64, is_key: impl Fn(u64) -> bool) -> Probe {
        let mask = self.slots.len() - 1;
        let mut i = self.start(hash);
        loop {
            let entry = self.slots[i].load(Ordering::Acquire);
            if entry == EMPTY {
                // Raised before any key goes to the ordered index only, so a
                // reader that must see such a key sees the flag.
                return if self.overflowed.load(Ordering::Acquire) { Probe::Unknown } else { Probe::Absent };
            }
            if entry >> ADDRESS_BITS == Self::tag(hash) && is_key(entry & ADDRESS_MASK) {
                return Probe::Found(entry & ADDRESS_MASK);
            }
            i = (i + 1) & mask;
        }
    }

    /// Points the key at `address` (below [`ADDRESS_LIMIT`]); returns false
    /// when the key is new and the table is full (then `overflowed` is
    /// raised and the caller must index the key elsewhere). Writer only:
    /// callers are serialised. The record at `address` must be complete: the
    /// release store publishes it.
    pub fn publish(&self, hash: u64, address: u64, is_key: impl Fn(u64) -> bool) -> bool {
        debug_assert!(address < ADDRESS_LIMIT);
        let mask = self.slots.len() - 1;
        let entry = Self::tag(hash) << ADDRESS_BITS | address;
        let mut i = self.start(hash);
        loop {
            let current = self.slots[i].load(Ordering::Relaxed);
            if current == EMPTY {
                let len = self.len.load(Ordering::Relaxed);
                if (len + 1) * 4 > self.slots.len() * 3 {
                    self.overflowed.store(true, Ordering::Release);
                    return false;
                }
                self.len.store(len + 1, Ordering::Relaxed);
                self.slots[i].store(entry, Ordering::Release);
                return true;
            }
            if current >> ADDRESS_BITS == Self::tag(hash) && is_key(current & ADDRESS_MASK) {
                self.slots[i].store(entry, Ordering::Release);
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether keys had to be left out.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_updates_and_overflows_honestly() {
        let table = HashIndex::with_capacity(10);
        // Address == key id; every key hashes to the same tag and slot.
        let same = |_: u64| 42u64;
        for key in 0..48u64 {
            assert!(table.publish(same(key), key, |a| a == key));
        }
        assert!(!table.overflowed());
        for key in 0..48u64 {
            assert_eq!(table.get(same(key), |a| a == key), Probe::Found(key));
        }
        assert_eq!(table.get(same(0), |a| a == 1000), Probe::Absent);
        assert!(!table.publish(7, 1000, |a| a == 1000));
        assert!(table.overflowed());
        assert_eq!(table.get(7, |a| a == 1000), Probe::Unknown);
        assert!(table.publish(same(3), 3, |a| a == 3));
        assert_eq!(table.get(same(3), |a| a == 3), Probe::Found(3));
    }
}
