//! One memtable: the pages of a contiguous address range, the index over
//! them, and the record-level read, append and in-place paths.
//!
//! Writers are serialised by the owning log (every `&mut Cursor` method is
//! called under its writer mutex); readers run concurrently with them.

use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::hash_index::{HashIndex, Probe};
use super::index::{Index, IndexKey};
use super::page::{Page, PageTable};
use super::record::{
    self, FLAG_BATCH, HEADER_BYTES, Kind, LAYOUT_OFFSET, LENGTHS_OFFSET, NO_ADDRESS, PREV_OFFSET, SEQNO_OFFSET,
    layout_word, lengths_word, split_layout, split_lengths, value_offset,
};
use super::room::Place;
use crate::SeqNo;
use crate::sync::MutexExt;
use crate::wire::key_prefix;

/// What the memtable holds for a key at a read point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The key has this value, written at `seqno`.
    Value {
        /// The write's seqno.
        seqno: SeqNo,
        /// The value.
        value: Vec<u8>,
    },
    /// The key was deleted at `seqno`: lower levels must not be consulted.
    Tombstone {
        /// The delete's seqno.
        seqno: SeqNo,
    },
}

impl Lookup {
    /// The seqno of the version found.
    pub fn seqno(&self) -> SeqNo {
        match self {
            Lookup::Value { seqno, .. } | Lookup::Tombstone { seqno } => *seqno,
        }
    }

    /// The value, or `None` for a tombstone.
    pub fn value(&self) -> Option<&[u8]> {
        match self {
            Lookup::Value { value, .. } => Some(value),
            Lookup::Tombstone { .. } => None,
        }
    }
}

/// Which versions a read may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadAt {
    /// Exactly the newest version with seqno <= S (S registered or immutable log).
    Exact(u64),
    /// The newest complete write: a version newer than the visible watermark
    /// is skipped only if it belongs to a multi-op batch (which is never
    /// updated in place, so its predecessor is intact).
    Latest(u64),
}

impl ReadAt {
    fn admits(self, seqno: u64, flags: u8) -> bool {
        match self {
            ReadAt::Exact(s) => seqno <= s,
            ReadAt::Latest(v) => seqno <= v || flags & FLAG_BATCH == 0,
        }
    }
}

/// The writer's position in the active memtable.
#[derive(Debug)]
pub(crate) struct Cursor {
    page: Option<Arc<Page>>,
    tail: u64,
    /// First record appended since the last commit record, if any.
    uncommitted_start: Option<u64>,
}

impl Cursor {
    pub(crate) fn new(tail: u64) -> Cursor {
        Cursor { page: None, tail, uncommitted_start: None }
    }

    pub(crate) fn tail(&self) -> u64 {
        self.tail
    }

    pub(crate) fn take_uncommitted_start(&mut self) -> Option<u64> {
        self.uncommitted_start.take()
    }

    /// Where the next record goes, for [`Place::next`].
    pub(crate) fn place(&self) -> Place {
        Place { tail: self.tail, page_end: self.page.as_ref().map(|p| p.end()) }
    }
}

/// Where a key's newest record was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Head {
    /// In the hash table.
    Hashed(u64),
    /// In the sorted view (a key the full hash table could not take).
    Ordered(u64),
    /// Nowhere: the key is new to this memtable.
    New,
}

impl Head {
    pub(crate) fn address(self) -> Option<u64> {
        match self {
            Head::Hashed(a) | Head::Ordered(a) => Some(a),
            Head::New => None,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.locked()
}

/// Every version of every key of a memtable nobody writes any more, in
/// flush order: keys ascending, seqnos descending within a key. Keys are
/// copied into one buffer; values stay in the pages until read.
#[derive(Debug, Default)]
pub(crate) struct SortedVersions {
    keys: Vec<u8>,
    versions: Vec<VersionRef>,
}

/// One record, as [`SortedVersions`] lists it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VersionRef {
    /// The key's [`key_prefix`]: decides most comparisons without
    /// touching the key buffer.
    prefix: u64,
    key_at: usize,
    key_len: u32,
    pub(crate) kind: Kind,
    pub(crate) seqno: u64,
    pub(crate) address: u64,
}

impl SortedVersions {
    pub(crate) fn len(&self) -> usize {
        self.versions.len()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&VersionRef> {
        self.versions.get(i)
    }

    pub(crate) fn key(&self, v: &VersionRef) -> &[u8] {
        &self.keys[v.key_at..v.key_at + v.key_len as usize]
    }
}

/// Pages, index and address bounds of one memtable.
#[derive(Debug)]
pub(crate) struct Memtable {
    pages: PageTable,
    /// The sorted view: every key except those still in `pending`. Its
    /// address is the key's newest for keys the hash table lacks (after an
    /// overflow), and otherwise some record of the key (resolved through
    /// the hash table).
    index: Index,
    /// Newest record per key, for point lookups and the writer, without locks.
    hashed: HashIndex,
    /// First records of keys not yet in the sorted view: the writer only
    /// pushes; whoever needs order merges them in sorted batches.
    pending: Mutex<Vec<u64>>,
    /// Held while a batch moves from `pending` into `index`, so a reader
    /// that needs order never sees a batch in flight.
    merging: Mutex<()>,
    /// Records below this address never change again.
    read_only: AtomicU64,
    /// End of the last allocated record.
    tail: AtomicU64,
    /// Smallest and largest seqno written here (0 when none).
    first_seqno: AtomicU64,
    last_seqno: AtomicU64,
    in_place_updates: AtomicU64,
    /// Bytes of the key records (values and tombstones, headers included)
    /// appended or recovered: the data held, without padding, commit
    /// records or the address space skipped between segments.
    record_bytes: AtomicU64,
    /// Set when frozen: the address after its last record.
    end: OnceLock<u64>,
}

impl Memtable {
    /// An empty memtable from `base` whose point index `hashed` was sized
    /// beforehand (allocating it is the only non-O(1) part).
    pub(crate) fn new(base: u64, page_size: u64, hashed: HashIndex) -> Memtable {
        Self::with_pages(PageTable::new(base, page_size), hashed)
    }

    /// An empty memtable from `base` whose pages may span `span_bytes`,
    /// more than the writer fills one with: for a recovered log.
    pub(crate) fn recovered(base: u64, page_size: u64, span_bytes: u64, hashed: HashIndex) -> Memtable {
        Self::with_pages(PageTable::with_span(base, page_size, span_bytes), hashed)
    }

    fn with_pages(pages: PageTable, hashed: HashIndex) -> Memtable {
        let base = pages.base();
        Memtable {
            pages,
            index: Index::default(),
            hashed,
            pending: Mutex::new(Vec::new()),
            merging: Mutex::new(()),
            read_only: AtomicU64::new(base),
            tail: AtomicU64::new(base),
            first_seqno: AtomicU64::new(0),
            last_seqno: AtomicU64::new(0),
            in_place_updates: AtomicU64::new(0),
            record_bytes: AtomicU64::new(0),
            end: OnceLock::new(),
        }
    }

    pub(crate) fn base(&self) -> u64 {
        self.pages.base()
    }

    pub(crate) fn page_size(&self) -> u64 {
        self.pages.page_size()
    }

    pub(crate) fn tail(&self) -> u64 {
        self.tail.load(Ordering::Acquire)
    }

    pub(crate) fn read_only(&self) -> u64 {
        self.read_only.load(Ordering::Acquire)
    }

    pub(crate) fn set_read_only(&self, address: u64) {
        self.read_only.store(address, Ordering::Release);
    }

    pub(crate) fn end(&self) -> Option<u64> {
        self.end.get().copied()
    }

    pub(crate) fn set_end(&self, address: u64) {
        let _ = self.end.set(address);
    }

    pub(crate) fn seqno_range(&self) -> Option<(u64, u64)> {
        let first = self.first_seqno.load(Ordering::Acquire);
        (first != 0).then(|| (first, self.last_seqno.load(Ordering::Acquire)))
    }

    pub(crate) fn in_place_updates(&self) -> u64 {
        self.in_place_updates.load(Ordering::Relaxed)
    }

    pub(crate) fn record_bytes(&self) -> u64 {
        self.record_bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn key_count(&self) -> usize {
        self.index.len() + lock(&self.pending).len()
    }

    pub(crate) fn page(&self, address: u64) -> Option<&Arc<Page>> {
        self.pages.get(address)
    }

    pub(crate) fn install_page(&self, page: Arc<Page>) {
        self.pages.install(page);
    }

    fn locate(&self, address: u64) -> Option<(&Arc<Page>, usize)> {
        let page = self.pages.get(address)?;
        Some((page, (address - page.start()) as usize))
    }

    fn note_seqno(&self, seqno: u64) {
        if self.first_seqno.load(Ordering::Relaxed) == 0 {
            self.first_seqno.store(seqno, Ordering::Release);
        }
        self.last_seqno.store(seqno, Ordering::Release);
    }

    /// The hash the point index uses for `key`.
    pub(crate) fn hash(key: &[u8]) -> u64 {
        xxhash_rust::xxh3::xxh3_64(key)
    }

    /// The newest record of `key` (whose [`hash`](Self::hash) is `hash`).
    pub(crate) fn head(&self, hash: u64, key: &[u8]) -> Head {
        let base = self.base();
        match self.hashed.get(hash, |offset| self.key_is(base + offset, key)) {
            Probe::Found(offset) => Head::Hashed(base + offset),
            Probe::Absent => Head::New,
            Probe::Unknown => self.index.get(key).map_or(Head::New, Head::Ordered),
        }
    }

    /// The version of `key` visible at `at`.
    pub(crate) fn get(&self, key: &[u8], at: ReadAt) -> Option<Lookup> {
        // An empty memtable (just after a freeze) answers without hashing
        // the key or probing its index.
        if self.tail() == self.base() {
            return None;
        }
        self.read_chain(self.head(Self::hash(key), key).address()?, at)
    }

    /// Walks a key's chain from `address` to the first version `at` admits.
    pub(crate) fn read_chain(&self, mut address: u64, at: ReadAt) -> Option<Lookup> {
        let mut value = Vec::new();
        while address != NO_ADDRESS {
            let (page, at_off) = self.locate(address)?;
            let (key_len, _) = split_lengths(page.load(at_off + LENGTHS_OFFSET));
            let value_at = at_off + value_offset(key_len as usize);
            let found = page.read_consistent(at_off, |p| {
                let seqno = p.load(at_off + SEQNO_OFFSET);
                let (record_len, kind, flags) = split_layout(p.load(at_off + LAYOUT_OFFSET));
                if !at.admits(seqno, flags) {
                    return None;
                }
                if kind != Kind::Value as u8 {
                    return Some((seqno, false));
                }
                let (_, value_len) = split_lengths(p.load(at_off + LENGTHS_OFFSET));
                // A torn combination of fields is discarded by the retry; the
                // clamp only keeps the copy inside the record meanwhile.
                let capacity = (at_off + record_len as usize).saturating_sub(value_at);
                value.resize((value_len as usize).min(capacity), 0);
                p.read_bytes(value_at, &mut value);
                Some((seqno, true))
            });
            match found {
                Some((seqno, true)) => {
                    return Some(Lookup::Value { seqno: SeqNo(seqno), value });
                }
                Some((seqno, false)) => {
                    return Some(Lookup::Tombstone { seqno: SeqNo(seqno) });
                }
                None => address = page.load(at_off + PREV_OFFSET),
            }
        }
        None
    }

    /// Every record of a frozen memtable, sorted for a flush (see
    /// [`SortedVersions`]). One pass over the pages in address order, then
    /// one sort: no index lookups, no per-key allocation.
    ///
    /// Each record is one version (an in-place update rewrote its record,
    /// so the version it replaced is gone, as no snapshot could see it).
    /// Pages are walked record by record; a zero layout word ends a page
    /// (nothing was written after it), and recovery pads the places of
    /// records it did not install, so every page is a walkable sequence.
    pub(crate) fn sorted_versions(&self) -> SortedVersions {
        let end = self.end().unwrap_or_else(|| self.tail());
        let page_size = self.page_size();
        let mut out = SortedVersions::default();
        let mut address = self.base();
        while address < end {
            let Some(page) = self.pages.get(address) else {
                address = self.base() + ((address - self.base()) / page_size + 1) * page_size;
                continue;
            };
            let page_end = page.end().min(end);
            let mut at = (address - page.start()) as usize;
            while page.start() + (at as u64) < page_end {
                let layout = page.load(at + LAYOUT_OFFSET);
                if layout == 0 {
                    break;
                }
                let (record_len, kind, _) = split_layout(layout);
                if let Some(kind @ (Kind::Value | Kind::Tombstone)) = Kind::from_byte(kind) {
                    let (key_len, _) = split_lengths(page.load(at + LENGTHS_OFFSET));
                    let key_at = out.keys.len();
                    out.keys.resize(key_at + key_len as usize, 0);
                    page.read_bytes(at + HEADER_BYTES, &mut out.keys[key_at..]);
                    out.versions.push(VersionRef {
                        prefix: key_prefix(&out.keys[key_at..]),
                        key_at,
                        key_len,
                        kind,
                        seqno: page.load(at + SEQNO_OFFSET),
                        address: page.start() + at as u64,
                    });
                }
                debug_assert!(record_len as usize >= HEADER_BYTES, "a record is at least a header");
                at += (record_len as usize).max(HEADER_BYTES);
            }
            address = page.end();
        }
        let keys = &out.keys;
        out.versions.sort_unstable_by(|a, b| {
            a.prefix
                .cmp(&b.prefix)
                .then_with(|| {
                    keys[a.key_at..a.key_at + a.key_len as usize].cmp(&keys[b.key_at..b.key_at + b.key_len as usize])
                })
                .then_with(|| b.seqno.cmp(&a.seqno))
        });
        out
    }

    /// The lengths word of the record at `address` of a frozen memtable: a
    /// first touch of the record (see `SortedIter`), then input to
    /// [`frozen_value`](Self::frozen_value).
    pub(crate) fn frozen_lengths(&self, address: u64) -> u64 {
        let (page, at) = self.locate(address).expect("listed records are installed");
        page.load(at + LENGTHS_OFFSET)
    }

    /// The value of the record at `address` of a frozen memtable, whose
    /// lengths word is `lengths`.
    pub(crate) fn frozen_value(&self, address: u64, lengths: u64) -> Vec<u8> {
        let (page, at) = self.locate(address).expect("listed records are installed");
        let (key_len, value_len) = split_lengths(lengths);
        let mut value = vec![0; value_len as usize];
        page.read_bytes(at + value_offset(key_len as usize), &mut value);
        value
    }

    /// Writes a padding record over `[from, to)` of an installed page:
    /// recovery fills the places of records it did not install (commits,
    /// padding, records older than the replay point), so that
    /// [`sorted_versions`](Self::sorted_versions) can walk the page.
    pub(crate) fn pad_recovered(&self, from: u64, to: u64) {
        let (page, at) = self.locate(from).expect("recovery pads inside installed pages");
        let len = (to - from) as usize;
        assert!(len >= HEADER_BYTES && at + len <= page.len_bytes(), "a recovery gap holds whole records");
        page.store(at + PREV_OFFSET, NO_ADDRESS);
        page.store(at + LENGTHS_OFFSET, 0);
        page.store(at + LAYOUT_OFFSET, layout_word(len as u32, Kind::Padding, 0));
    }

    /// Up to `count_max` (key, newest address) pairs between `from` and
    /// `to`: the first ones in key order, or the last ones (descending)
    /// when `descending`.
    pub(crate) fn index_range(
        &self,
        from: Bound<&[u8]>,
        to: Bound<&[u8]>,
        count_max: usize,
        descending: bool,
        out: &mut Vec<(Vec<u8>, u64)>,
    ) {
        let _merged = self.merge_pending();
        let first = out.len();
        self.index.collect_range(from, to, count_max, descending, out);
        for (key, address) in &mut out[first..] {
            if let Head::Hashed(newest) = self.head(Self::hash(key), key) {
                *address = newest;
            }
        }
    }

    /// Moves the pending keys into the sorted view; returns a guard under
    /// which no merge is in flight.
    fn merge_pending(&self) -> MutexGuard<'_, ()> {
        let guard = lock(&self.merging);
        let batch = std::mem::take(&mut *lock(&self.pending));
        if !batch.is_empty() {
            let mut keyed: Vec<(IndexKey, u64)> =
                batch.into_iter().map(|address| (IndexKey::new(&self.key_at(address)), address)).collect();
            keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            self.index.insert_sorted(keyed);
        }
        guard
    }

    /// The key of the record at `address`.
    fn key_at(&self, address: u64) -> Vec<u8> {
        let (page, at) = self.locate(address).expect("indexed records are installed");
        let (key_len, _) = split_lengths(page.load(at + LENGTHS_OFFSET));
        let mut key = vec![0; key_len as usize];
        page.read_bytes(at + HEADER_BYTES, &mut key);
        key
    }

    /// Overwrites the record at `address` (the key's newest) in place, if it
    /// is mutable, the value fits, and no snapshot at or above its seqno is
    /// live (`max_live` < its seqno). Returns whether it did.
    pub(crate) fn update_in_place(&self, address: u64, seqno: u64, kind: Kind, value: &[u8], max_live: u64) -> bool {
        if address < self.read_only() {
            return false;
        }
        let Some((page, at)) = self.locate(address) else {
            return false;
        };
        let old_seqno = page.load(at + SEQNO_OFFSET);
        if max_live >= old_seqno {
            return false;
        }
        let (key_len, old_value_len) = split_lengths(page.load(at + LENGTHS_OFFSET));
        let (record_len, _, _) = split_layout(page.load(at + LAYOUT_OFFSET));
        let value_at = value_offset(key_len as usize);
        if value_at + value.len() > record_len as usize {
            return false;
        }
        page.write_locked(at, |p| {
            p.store(at + SEQNO_OFFSET, seqno);
            p.store(at + LENGTHS_OFFSET, lengths_word(key_len, value.len() as u32));
            p.store(at + LAYOUT_OFFSET, layout_word(record_len, kind, 0));
            p.write_bytes(at + value_at, value);
            let written_end = record::pad8(value_at + value.len());
            let old_end = record::pad8(value_at + old_value_len as usize);
            if old_end > written_end {
                p.zero(at + written_end, at + old_end);
            }
        });
        self.note_seqno(seqno);
        // Only the writer counts, so no read-modify-write is needed.
        self.in_place_updates.store(self.in_place_updates.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        true
    }

    /// Appends a key record (value or tombstone) after `head` (the key's
    /// newest record, from [`head`](Self::head)) and makes it the newest.
    /// `on_new_page` is told of each page allocated. Returns its address.
    #[expect(clippy::too_many_arguments, reason = "one record's fields")]
    pub(crate) fn append_key_record(
        &self,
        cursor: &mut Cursor,
        seqno: u64,
        kind: Kind,
        flags: u8,
        key: &[u8],
        value: &[u8],
        (hash, head): (u64, Head),
        on_new_page: &mut dyn FnMut(&Arc<Page>),
    ) -> u64 {
        let prev = head.address().unwrap_or(NO_ADDRESS);
        let address = self.append(cursor, seqno, prev, kind, flags, key, value, on_new_page);
        self.publish(hash, key, address, head);
        self.note_seqno(seqno);
        self.note_record(key.len(), value.len());
        address
    }

    /// Makes the complete record at `address` the newest of `key`.
    fn publish(&self, hash: u64, key: &[u8], address: u64, head: Head) {
        let base = self.base();
        let is_key = |offset: u64| self.key_is(base + offset, key);
        match head {
            // The sorted view holds some record of the key already.
            Head::Hashed(_) => {
                let updated = self.hashed.publish(hash, address - base, is_key);
                debug_assert!(updated, "a key in the hash table stays there");
            }
            Head::Ordered(_) => {
                self.index.insert(key, address);
            }
            Head::New => {
                if self.hashed.publish(hash, address - base, is_key) {
                    lock(&self.pending).push(address);
                } else {
                    // The table is full (and says so): the sorted view holds
                    // this key's newest record from now on.
                    self.index.insert(key, address);
                }
            }
        }
    }

    /// Whether the key record at `address` holds `key`.
    pub(crate) fn key_is(&self, address: u64, key: &[u8]) -> bool {
        let Some((page, at)) = self.locate(address) else { return false };
        let (key_len, _) = split_lengths(page.load(at + LENGTHS_OFFSET));
        if key_len as usize != key.len() {
            return false;
        }
        let mut chunks = key.chunks(8);
        (&mut chunks).enumerate().all(|(i, chunk)| {
            let word = page.load(at + HEADER_BYTES + i * 8).to_le_bytes();
            word[..chunk.len()] == *chunk
        })
    }

    /// Appends a commit record covering `[start, here)` (hash filled in by
    /// the persister) and makes everything below its end read-only.
    pub(crate) fn append_commit(
        &self,
        cursor: &mut Cursor,
        seqno: u64,
        start: u64,
        time_us: u64,
        on_new_page: &mut dyn FnMut(&Arc<Page>),
    ) -> u64 {
        let mut payload = [0u8; record::COMMIT_VALUE_BYTES];
        payload[..8].copy_from_slice(&start.to_le_bytes());
        // A commit record's `prev` word holds the time it was made.
        self.append(cursor, seqno, time_us, Kind::Commit, 0, &[], &payload, on_new_page);
        cursor.uncommitted_start = None;
        self.set_read_only(cursor.tail);
        cursor.tail
    }

    #[expect(clippy::too_many_arguments, reason = "one record's fields")]
    fn append(
        &self,
        cursor: &mut Cursor,
        seqno: u64,
        prev: u64,
        kind: Kind,
        flags: u8,
        key: &[u8],
        value: &[u8],
        on_new_page: &mut dyn FnMut(&Arc<Page>),
    ) -> u64 {
        let (page, address, record_len) =
            self.alloc(cursor, record::record_len_for(key.len(), value.len()), on_new_page);
        let at = (address - page.start()) as usize;
        page.store(at + SEQNO_OFFSET, seqno);
        page.store(at + PREV_OFFSET, prev);
        page.store(at + LENGTHS_OFFSET, lengths_word(key.len() as u32, value.len() as u32));
        page.store(at + LAYOUT_OFFSET, layout_word(record_len as u32, kind, flags));
        page.write_bytes(at + HEADER_BYTES, key);
        page.write_bytes(at + value_offset(key.len()), value);
        cursor.uncommitted_start.get_or_insert(address);
        self.tail.store(cursor.tail, Ordering::Release);
        address
    }

    /// Reserves `len` bytes at the tail where [`Place::next`] puts them,
    /// padding out the current page when they start a new one. The
    /// writer checked beforehand that the page fits this memtable
    /// (`room::fit`).
    fn alloc(
        &self,
        cursor: &mut Cursor,
        len: usize,
        on_new_page: &mut dyn FnMut(&Arc<Page>),
    ) -> (Arc<Page>, u64, usize) {
        let (slot, _) = cursor.place().next(len as u64, self.page_size());
        if let Some(page_len) = slot.new_page {
            if let Some(page) = cursor.page.take() {
                self.pad_to_end(cursor, &page);
            }
            debug_assert_eq!(cursor.tail, slot.address, "a new page starts at the tail");
            let page = Arc::new(Page::new(slot.address, page_len as usize));
            self.pages.install(Arc::clone(&page));
            on_new_page(&page);
            cursor.page = Some(page);
        }
        let page = Arc::clone(cursor.page.as_ref().expect("a page was just ensured"));
        cursor.tail = slot.address + slot.len;
        (page, slot.address, slot.len as usize)
    }

    fn pad_to_end(&self, cursor: &mut Cursor, page: &Page) {
        let remaining = (page.end() - cursor.tail) as usize;
        if remaining == 0 {
            return;
        }
        debug_assert!(remaining >= HEADER_BYTES, "alloc leaves room for padding");
        let at = (cursor.tail - page.start()) as usize;
        page.store(at + PREV_OFFSET, NO_ADDRESS);
        page.store(at + LAYOUT_OFFSET, layout_word(remaining as u32, Kind::Padding, 0));
        cursor.uncommitted_start.get_or_insert(cursor.tail);
        cursor.tail = page.end();
    }

    /// Indexes a recovered record (called in address order) and links it
    /// to the key's previous one, whatever `prev` the disk said. Word 0 (the
    /// on-disk checksum) is reset to an unlocked sequence-lock version.
    pub(crate) fn index_recovered(&self, address: u64, key: &[u8], seqno: u64) {
        let (page, at) = self.locate(address).expect("recovered pages are installed");
        page.store(at, 0);
        let hash = Self::hash(key);
        let head = self.head(hash, key);
        page.store(at + PREV_OFFSET, head.address().unwrap_or(NO_ADDRESS));
        self.publish(hash, key, address, head);
        self.note_seqno(seqno);
        let (key_len, value_len) = split_lengths(page.load(at + LENGTHS_OFFSET));
        self.note_record(key_len as usize, value_len as usize);
    }

    fn note_record(&self, key_len: usize, value_len: usize) {
        self.record_bytes.fetch_add(record::record_len_for(key_len, value_len) as u64, Ordering::Relaxed);
    }

    /// Sets the tail after recovery installed pages up to `tail`.
    pub(crate) fn set_recovered_tail(&self, tail: u64) {
        self.tail.store(tail, Ordering::Release);
        self.set_read_only(tail);
    }
}
