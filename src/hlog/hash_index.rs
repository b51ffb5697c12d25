//! The point-lookup index: key hash -> newest record, lock-free.
//!
//! An open-addressing table (linear probing) of atomic words, each holding a
//! 16-bit tag of the key's hash and the record's 48-bit offset from its
//! memtable's base (log addresses are 64-bit and only grow; a memtable's
//! span is bounded, so the offsets never run out). Only the log's
//! writer stores into it; readers probe without locks and confirm a tag
//! match against the key in the record. The table has a fixed size chosen
//! from the memtable budget; when it is three-quarters full it stops taking
//! new keys (still updating those it has) and raises `overflowed`, after
//! which a miss sends the reader to the ordered index. See the `hlog` bench
//! `point_read` for what it buys over the B-tree alone.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use super::record::{ADDRESS_LIMIT, NO_ADDRESS};

const OFFSET_BITS: u32 = 48;
/// Offsets the table can hold are below this: a memtable spans at most
/// this many bytes of log.
pub const OFFSET_LIMIT: u64 = (1 << OFFSET_BITS) - 1;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;
// A log address plus a memtable's span and a page (its size a `u32`)
// stays a log address: no overflow, never `NO_ADDRESS`.
const _: () = assert!(ADDRESS_LIMIT + OFFSET_LIMIT + (u32::MAX as u64) < NO_ADDRESS);
/// A free slot: no entry has it, as every offset is below [`OFFSET_LIMIT`].
const EMPTY: u64 = u64::MAX;
/// Largest table (128 MiB of slots); a memtable with more keys looks the
/// rest up in the sorted view.
pub const SLOTS_MAX: usize = 1 << 24;

/// What a probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The key's newest record, as an offset from the memtable's base.
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
        hash >> OFFSET_BITS
    }

    fn start(&self, hash: u64) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    /// The newest record of the key whose hash is `hash`; `is_key` says
    /// whether the record at an offset holds the key.
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
            if entry >> OFFSET_BITS == Self::tag(hash) && is_key(entry & OFFSET_MASK) {
                return Probe::Found(entry & OFFSET_MASK);
            }
            i = (i + 1) & mask;
        }
    }

    /// Points the key at the record at `offset` (below [`OFFSET_LIMIT`]);
    /// returns false when the key is new and the table is full (then
    /// `overflowed` is raised and the caller must index the key elsewhere).
    /// Writer only: callers are serialised. The record must be complete:
    /// the release store publishes it.
    pub fn publish(&self, hash: u64, offset: u64, is_key: impl Fn(u64) -> bool) -> bool {
        assert!(offset < OFFSET_LIMIT, "record offset {offset} beyond what a memtable spans");
        let mask = self.slots.len() - 1;
        let entry = Self::tag(hash) << OFFSET_BITS | offset;
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
            if current >> OFFSET_BITS == Self::tag(hash) && is_key(current & OFFSET_MASK) {
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
        // Offset == key id; every key hashes to the same tag and slot.
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
