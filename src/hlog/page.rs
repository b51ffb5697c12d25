//! In-memory pages of the hybrid log, held as atomic words.
//!
//! Readers copy record bytes while a writer may be appending to the same
//! page or updating a record in place. Holding pages as `AtomicU64` words
//! makes every such access a (relaxed) atomic load or store: no data race,
//! no `unsafe`, and on x86-64 and AArch64 the same plain moves a byte copy
//! would use. Whole values are kept untorn by a per-record sequence lock in
//! word 0 (see [`Page::read_consistent`] and [`Page::write_locked`]).

use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, OnceLock};

/// Bytes per page word.
pub const WORD_BYTES: usize = 8;

/// A fixed-size run of log bytes starting at `start`.
#[derive(Debug)]
pub struct Page {
    start: u64,
    words: Box<[AtomicU64]>,
}

impl Page {
    /// A zeroed page of `len_bytes` (a multiple of 8) starting at address `start`.
    pub fn new(start: u64, len_bytes: usize) -> Page {
        assert!(len_bytes.is_multiple_of(WORD_BYTES));
        let words = std::iter::repeat_with(|| AtomicU64::new(0)).take(len_bytes / WORD_BYTES).collect();
        Page { start, words }
    }

    /// Address of the page's first byte.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Length in bytes.
    pub fn len_bytes(&self) -> usize {
        self.words.len() * WORD_BYTES
    }

    /// Address one past the page's last byte.
    pub fn end(&self) -> u64 {
        self.start + self.len_bytes() as u64
    }

    /// The word at byte offset `at` (a multiple of 8) from the page start.
    pub fn word(&self, at: usize) -> &AtomicU64 {
        &self.words[at / WORD_BYTES]
    }

    /// Loads the word at byte offset `at`.
    pub fn load(&self, at: usize) -> u64 {
        self.word(at).load(Ordering::Relaxed)
    }

    /// Stores the word at byte offset `at`.
    pub fn store(&self, at: usize, value: u64) {
        self.word(at).store(value, Ordering::Relaxed);
    }

    /// Copies `out.len()` bytes starting at byte offset `at` (a multiple of 8).
    pub fn read_bytes(&self, at: usize, out: &mut [u8]) {
        let words = &self.words[at / WORD_BYTES..];
        let full_words = out.len() / WORD_BYTES;
        let mut chunks = out.chunks_exact_mut(WORD_BYTES);
        for (chunk, word) in (&mut chunks).zip(words) {
            chunk.copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let last = words[full_words].load(Ordering::Relaxed).to_le_bytes();
            rest.copy_from_slice(&last[..rest.len()]);
        }
    }

    /// Stores `src` starting at byte offset `at` (a multiple of 8); the rest of
    /// the last word is zeroed.
    pub fn write_bytes(&self, at: usize, src: &[u8]) {
        let words = &self.words[at / WORD_BYTES..];
        let mut chunks = src.chunks_exact(WORD_BYTES);
        for (chunk, word) in (&mut chunks).zip(words) {
            let mut bytes = [0u8; WORD_BYTES];
            bytes.copy_from_slice(chunk);
            word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut bytes = [0u8; WORD_BYTES];
            bytes[..rest.len()].copy_from_slice(rest);
            words[src.len() / WORD_BYTES].store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
    }

    /// Zeroes the words covering byte offsets `[from, to)` (multiples of 8).
    pub fn zero(&self, from: usize, to: usize) {
        for word in &self.words[from / WORD_BYTES..to / WORD_BYTES] {
            word.store(0, Ordering::Relaxed);
        }
    }

    /// Runs `read` under the sequence lock whose version word is at byte
    /// offset `lock_at`, retrying until it ran without a concurrent
    /// [`write_locked`](Self::write_locked): what `read` returns was copied
    /// from one consistent state of the record.
    ///
    /// `read` must only load (it may run several times and its result is
    /// discarded on a retry).
    pub fn read_consistent<T>(&self, lock_at: usize, mut read: impl FnMut(&Page) -> T) -> T {
        let lock = self.word(lock_at);
        loop {
            let before = lock.load(Ordering::Acquire);
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let result = read(self);
            // Orders the relaxed loads in `read` before the second version load.
            fence(Ordering::Acquire);
            if lock.load(Ordering::Relaxed) == before {
                return result;
            }
        }
    }

    /// Runs `write` holding the sequence lock at byte offset `lock_at`.
    /// Callers must be the only writer of this record (the log's writer
    /// mutex guarantees it).
    pub fn write_locked(&self, lock_at: usize, write: impl FnOnce(&Page)) {
        let lock = self.word(lock_at);
        let version = lock.load(Ordering::Relaxed);
        debug_assert!(version & 1 == 0, "two writers in one record");
        lock.store(version.wrapping_add(1), Ordering::Relaxed);
        // Orders the odd version before the data stores that follow.
        fence(Ordering::Release);
        write(self);
        lock.store(version.wrapping_add(2), Ordering::Release);
    }
}

const LEAF_BITS: u32 = 10;
const LEAF_SLOTS: usize = 1 << LEAF_BITS;
const ROOT_SLOTS: usize = 1 << 10;

/// Page slots of a memtable's table: the most pages a memtable the writer
/// fills can address (a recovered one may be given more, see
/// [`PageTable::with_span`]).
pub const PAGE_SLOTS_MAX: u64 = (ROOT_SLOTS * LEAF_SLOTS) as u64;

type Leaf = Box<[OnceLock<Arc<Page>>]>;

/// Maps addresses to pages without locks: a two-level table of write-once
/// slots, each covering `page_size` bytes from `base`. A page longer than
/// `page_size` (for an oversized record) fills several consecutive slots.
#[derive(Debug)]
pub struct PageTable {
    base: u64,
    page_size: u64,
    root: Box<[OnceLock<Leaf>]>,
}

impl PageTable {
    /// An empty table of [`PAGE_SLOTS_MAX`] slots for pages from `base` (a
    /// multiple of `page_size`).
    pub fn new(base: u64, page_size: u64) -> PageTable {
        Self::with_span(base, page_size, 0)
    }

    /// An empty table for pages from `base` with slots for at least
    /// `span_bytes` (and at least [`PAGE_SLOTS_MAX`]): a recovered log may
    /// hold several memtables' worth. Leaves are allocated as used; the
    /// root costs a few words per thousand slots.
    pub fn with_span(base: u64, page_size: u64, span_bytes: u64) -> PageTable {
        let leaves = span_bytes.div_ceil(page_size).div_ceil(LEAF_SLOTS as u64);
        let leaves = usize::try_from(leaves).expect("a span checked against the log's bytes").max(ROOT_SLOTS);
        let root = std::iter::repeat_with(OnceLock::new).take(leaves).collect();
        PageTable { base, page_size, root }
    }

    /// Number of page slots.
    fn slot_count(&self) -> u64 {
        (self.root.len() * LEAF_SLOTS) as u64
    }

    /// Address of the first slot.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Bytes per slot.
    pub fn page_size(&self) -> u64 {
        self.page_size
    }

    fn slot(&self, index: u64) -> Option<&OnceLock<Arc<Page>>> {
        let leaf = self.root.get((index >> LEAF_BITS) as usize)?;
        let leaf = leaf.get_or_init(|| std::iter::repeat_with(OnceLock::new).take(LEAF_SLOTS).collect());
        Some(&leaf[(index as usize) & (LEAF_SLOTS - 1)])
    }

    /// Whether a page may start at `start` and span `len_bytes` in this table.
    pub fn fits(&self, start: u64, len_bytes: u64) -> bool {
        start >= self.base && (start + len_bytes - self.base).div_ceil(self.page_size) <= self.slot_count()
    }

    /// Installs `page` in every slot it covers; they must be empty.
    pub fn install(&self, page: Arc<Page>) {
        assert!(self.fits(page.start(), page.len_bytes() as u64), "page outside the table");
        let first = (page.start() - self.base) / self.page_size;
        let count = (page.len_bytes() as u64).div_ceil(self.page_size);
        for index in first..first + count {
            let slot = self.slot(index).expect("fits() checked the range");
            assert!(slot.set(Arc::clone(&page)).is_ok(), "page slot {index} installed twice");
        }
    }

    /// The page holding `address`, if one is installed.
    pub fn get(&self, address: u64) -> Option<&Arc<Page>> {
        let index = address.checked_sub(self.base)? / self.page_size;
        let leaf = self.root.get((index >> LEAF_BITS) as usize)?.get()?;
        leaf[(index as usize) & (LEAF_SLOTS - 1)].get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_at_any_length() {
        let page = Page::new(0, 256);
        for len in 0..40 {
            let src: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(7) + 1).collect();
            page.write_bytes(64, &src);
            let mut out = vec![0u8; len];
            page.read_bytes(64, &mut out);
            assert_eq!(out, src);
        }
    }

    #[test]
    fn table_maps_addresses_to_pages() {
        let table = PageTable::new(4096, 1024);
        assert!(table.get(4096).is_none());
        table.install(Arc::new(Page::new(4096, 1024)));
        table.install(Arc::new(Page::new(5120, 3072)));
        assert_eq!(table.get(4096 + 1023).unwrap().start(), 4096);
        assert_eq!(table.get(5120 + 3000).unwrap().start(), 5120);
        assert!(table.get(8192).is_none());
        assert!(table.get(0).is_none());
    }

    #[test]
    fn a_table_for_a_wider_span_has_the_slots_for_it() {
        let table = PageTable::new(0, 4096);
        let span = PAGE_SLOTS_MAX * 4096;
        assert!(table.fits(span - 4096, 4096) && !table.fits(span, 4096));
        let wide = PageTable::with_span(0, 4096, 3 * span + 1);
        assert!(wide.fits(3 * span, 4096) && !wide.fits(3 * span + 4096 * 1024, 4096));
        wide.install(Arc::new(Page::new(3 * span, 4096)));
        assert_eq!(wide.get(3 * span + 5).unwrap().start(), 3 * span);
    }

    #[test]
    fn sequence_lock_readers_see_whole_states() {
        let page = Arc::new(Page::new(0, 64));
        let writer = {
            let page = Arc::clone(&page);
            std::thread::spawn(move || {
                for i in 1..=20_000u64 {
                    page.write_locked(0, |p| {
                        for at in (8..64).step_by(8) {
                            p.store(at, i);
                        }
                    });
                }
            })
        };
        while !writer.is_finished() {
            let words = page.read_consistent(0, |p| (8..64).step_by(8).map(|at| p.load(at)).collect::<Vec<_>>());
            assert!(words.iter().all(|&w| w == words[0]), "torn read {words:?}");
        }
        writer.join().unwrap();
    }
}
