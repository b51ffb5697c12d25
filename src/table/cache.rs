//! [`BlockCache`]: decoded, verified data blocks shared by all tables.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::block::Block;
use crate::sync::MutexExt;

/// Most shards, so concurrent readers seldom wait on one lock.
const SHARD_COUNT_MAX: usize = 16;
/// Least capacity per shard: a small cache has fewer shards, so that each
/// can still hold several blocks.
const SHARD_CAPACITY_MIN_BYTES: usize = 1 << 20;
/// Bytes charged per cached block on top of its data (map entries, `Arc`).
const ENTRY_OVERHEAD_BYTES: usize = 96;

/// A block's name in the cache: the opening of a table, and the block's
/// offset in it.
type CacheKey = (u64, u64);

/// A bounded cache of decoded data blocks, shared by every table that is
/// opened with it, so hot reads do not reach the file system.
///
/// Bounded by bytes (block data plus a small per-entry charge); each of its
/// shards evicts by CLOCK (second chance: a block read since the hand last
/// passed it stays for another round), which approximates least recently
/// used while a hit costs one map lookup and a flag. Blocks are verified
/// before they are cached. Send + Sync; share it as `Arc<BlockCache>`.
#[derive(Debug)]
pub struct BlockCache {
    shards: Box<[Mutex<Shard>]>,
    shard_capacity_bytes: usize,
    capacity_bytes: usize,
    next_file_key: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Counters describing a [`BlockCache`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheStats {
    /// The configured bound.
    pub capacity_bytes: usize,
    /// Bytes currently charged.
    pub used_bytes: usize,
    /// Blocks currently cached.
    pub block_count: usize,
    /// Lookups that found their block.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
}

#[derive(Debug, Default)]
struct Shard {
    /// Where each cached block sits in `slots`.
    index: HashMap<CacheKey, usize, BuildHasherDefault<MixHasher>>,
    /// The clock's face; `None` marks a free slot.
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    hand: usize,
    used_bytes: usize,
}

#[derive(Debug)]
struct Slot {
    key: CacheKey,
    block: Arc<Block>,
    charge: usize,
    /// Read since the hand last passed.
    referenced: bool,
}

/// Hashes cache keys (two integers) with [`mix`]: no need for SipHash's
/// defence against chosen keys here.
#[derive(Debug, Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        mix(self.0)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = mix(self.0 ^ n);
    }
}

impl BlockCache {
    /// A cache holding at most about `capacity_bytes`; 0 disables caching.
    pub fn new(capacity_bytes: usize) -> Self {
        let shard_count = (capacity_bytes / SHARD_CAPACITY_MIN_BYTES).clamp(1, SHARD_COUNT_MAX);
        BlockCache {
            shards: (0..shard_count).map(|_| Mutex::default()).collect(),
            shard_capacity_bytes: capacity_bytes / shard_count,
            capacity_bytes,
            next_file_key: AtomicU64::new(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Current size and hit counters.
    pub fn stats(&self) -> CacheStats {
        let (mut used_bytes, mut block_count) = (0, 0);
        for shard in self.shards.iter() {
            let s = lock(shard);
            used_bytes += s.used_bytes;
            block_count += s.index.len();
        }
        CacheStats {
            capacity_bytes: self.capacity_bytes,
            used_bytes,
            block_count,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// A key no other opened table uses, so two tables never share entries
    /// even if their ids repeat (a checkpoint opened beside its source).
    pub(crate) fn new_file_key(&self) -> u64 {
        self.next_file_key.fetch_add(1, Ordering::Relaxed)
    }

    /// The cached block, marked as recently used.
    pub(crate) fn get(&self, file: u64, offset: u64) -> Option<Arc<Block>> {
        let found = lock(self.shard(file, offset)).touch((file, offset));
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Caches a verified block, evicting old ones to stay in bounds.
    pub(crate) fn insert(&self, file: u64, offset: u64, block: Arc<Block>) {
        let charge = block.size_bytes() + ENTRY_OVERHEAD_BYTES;
        if charge > self.shard_capacity_bytes {
            return;
        }
        let mut shard = lock(self.shard(file, offset));
        shard.insert((file, offset), block, charge);
        shard.evict_to(self.shard_capacity_bytes);
    }

    /// Drops the blocks of a table that is closing, so they do not crowd
    /// out live ones until they age out.
    pub(crate) fn forget(&self, file: u64, offsets: impl Iterator<Item = u64>) {
        for offset in offsets {
            lock(self.shard(file, offset)).remove((file, offset));
        }
    }

    fn shard(&self, file: u64, offset: u64) -> &Mutex<Shard> {
        let mixed = mix(file ^ mix(offset));
        &self.shards[(mixed % self.shards.len() as u64) as usize]
    }
}

/// splitmix64's finaliser: spreads block offsets (multiples of about the
/// block size) evenly over the shards.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Locks a shard; a panic in another thread cannot leave a shard
/// inconsistent (every update completes before it can panic), so poison is
/// ignored.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.locked()
}

impl Shard {
    fn touch(&mut self, key: CacheKey) -> Option<Arc<Block>> {
        let &at = self.index.get(&key)?;
        let slot = self.slots[at].as_mut().expect("indexed slots are full");
        slot.referenced = true;
        Some(Arc::clone(&slot.block))
    }

    fn insert(&mut self, key: CacheKey, block: Arc<Block>, charge: usize) {
        self.remove(key);
        let slot = Slot { key, block, charge, referenced: false };
        let at = match self.free.pop() {
            Some(at) => {
                self.slots[at] = Some(slot);
                at
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        self.index.insert(key, at);
        self.used_bytes += charge;
    }

    fn remove(&mut self, key: CacheKey) {
        if let Some(at) = self.index.remove(&key) {
            let slot = self.slots[at].take().expect("indexed slots are full");
            self.used_bytes -= slot.charge;
            self.free.push(at);
        }
    }

    /// Moves the hand, clearing reference flags, and evicts unreferenced
    /// blocks until the shard is within `capacity_bytes`.
    fn evict_to(&mut self, capacity_bytes: usize) {
        // Two turns clear every flag and then find a victim, so this ends.
        let mut steps = 2 * self.slots.len() + 1;
        while self.used_bytes > capacity_bytes && steps > 0 {
            steps -= 1;
            self.hand = if self.hand + 1 >= self.slots.len() { 0 } else { self.hand + 1 };
            let Some(slot) = self.slots.get_mut(self.hand).and_then(Option::as_mut) else { continue };
            if slot.referenced {
                slot.referenced = false;
            } else {
                let key = slot.key;
                self.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::block::BlockBuilder;
    use super::super::entry::ValueKind;
    use super::*;
    use crate::SeqNo;

    fn block(value_len: usize) -> Arc<Block> {
        let mut b = BlockBuilder::new(16);
        b.add(b"k", SeqNo(1), ValueKind::Value, &vec![7; value_len]);
        Arc::new(Block::decode(b.finish()).unwrap())
    }

    #[test]
    fn stays_within_capacity_and_keeps_recent_blocks() {
        let cache = BlockCache::new(100_000);
        for offset in 0..1000 {
            cache.insert(1, offset, block(1000));
            assert!(cache.get(1, 0).is_some(), "the block touched every time stays");
        }
        let stats = cache.stats();
        assert!(stats.used_bytes <= stats.capacity_bytes, "{stats:?}");
        assert!(stats.block_count < 1000 && stats.block_count >= 50, "{stats:?}");
        assert!(cache.get(2, 0).is_none());
        let sharded = BlockCache::new(64 << 20);
        for offset in 0..10_000 {
            sharded.insert(1, offset * 4096, block(10));
        }
        assert_eq!(sharded.stats().block_count, 10_000, "blocks spread over the shards");
        sharded.forget(1, (0..5_000).map(|offset| offset * 4096));
        assert_eq!(sharded.stats().block_count, 5_000);
        let off = BlockCache::new(0);
        off.insert(1, 0, block(10));
        assert!(off.get(1, 0).is_none());
    }
}
