//! Where records go in a memtable's address range, as a pure rule: the
//! writer places every record by it (`Memtable::alloc`), and works out by
//! it, before any of a batch is written, whether the batch fits.
//!
//! Records never cross a page. A record that does not fit what is left of
//! the page starts the next one (the rest of the old one is padding); a
//! record longer than a page gets a page of its own, rounded up to whole
//! pages; a record is stretched to its page's end when less than a header
//! would remain after it. So the space a batch takes depends on its
//! records' lengths and where it starts, not on its operation count alone:
//! each page switch wastes less than the record that caused it.

use super::hash_index;
use super::page::PAGE_SLOTS_MAX;
use super::record::{ADDRESS_LIMIT, COMMIT_RECORD_BYTES, HEADER_BYTES};

/// The most log one memtable spans, from its base: its page table's
/// slots, and no more than its point index has offsets for.
pub(crate) fn span_bytes_max(page_size: u64) -> u64 {
    PAGE_SLOTS_MAX.saturating_mul(page_size).min(hash_index::OFFSET_LIMIT)
}

/// The writer's position: the next free address and the end of the page
/// it is filling (`None` before the first page of a memtable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) tail: u64,
    pub(crate) page_end: Option<u64>,
}

/// Where one record goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) address: u64,
    /// The record's length, stretched to the page end when less than a
    /// header would remain.
    pub(crate) len: u64,
    /// The length of the page the record starts, when it needs a new one
    /// (at `address`).
    pub(crate) new_page: Option<u64>,
}

impl Place {
    /// A memtable's first position: nothing written from `base`.
    pub(crate) fn empty(base: u64) -> Place {
        Place { tail: base, page_end: None }
    }

    /// Places a record of `len` bytes (a multiple of 8, at least a header)
    /// in pages of `page_size`: where it goes, and the position after it.
    pub(crate) fn next(self, len: u64, page_size: u64) -> (Slot, Place) {
        let (address, page_end, new_page) = match self.page_end {
            Some(end) if end - self.tail >= len => (self.tail, end, None),
            // What is left of the page (if any) becomes padding.
            old_end => {
                let start = old_end.unwrap_or(self.tail);
                let page_len = len.div_ceil(page_size).max(1) * page_size;
                (start, start + page_len, Some(page_len))
            }
        };
        let remaining = page_end - address - len;
        let len = if remaining < HEADER_BYTES as u64 { len + remaining } else { len };
        (Slot { address, len, new_page }, Place { tail: address + len, page_end: Some(page_end) })
    }
}

/// The end of the last page that records of lengths `lens`, placed from
/// `at`, and the commit record a persist or freeze appends after them,
/// fill: how far a memtable must reach to take them. Stops early (with an
/// end past `stop_past`) once that is clearly too far.
pub(crate) fn pages_end(at: Place, lens: impl IntoIterator<Item = u64>, page_size: u64, stop_past: u64) -> u64 {
    let mut at = at;
    for len in lens.into_iter().chain([COMMIT_RECORD_BYTES as u64]) {
        at = at.next(len, page_size).1;
        let end = at.page_end.expect("a record was placed");
        if end > stop_past {
            return end;
        }
    }
    at.page_end.expect("the commit record was placed")
}

/// Whether the active memtable (from `base`, the writer at `at`) can take
/// a batch of records of lengths `lens`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fit {
    /// It fits where the writer is.
    Here,
    /// It fits an empty memtable, not this one: freeze, then write it.
    AfterFreeze,
    /// More than any memtable spans ([`span_bytes_max`]): it needs
    /// `bytes` of log from a page boundary (its records, what page
    /// switches leave unused, and the commit record after it).
    Never { bytes: u64 },
    /// It would pass the end of the log's address space ([`ADDRESS_LIMIT`]).
    PastAddressLimit,
}

/// Decides [`Fit`] for a batch (`lens` gives its record lengths; it is
/// walked once when the batch fits here, up to three times when not).
pub(crate) fn fit<I: IntoIterator<Item = u64>>(base: u64, at: Place, lens: impl Fn() -> I, page_size: u64) -> Fit {
    let span = span_bytes_max(page_size);
    let end = (base + span).min(ADDRESS_LIMIT);
    if pages_end(at, lens(), page_size, end) <= end {
        return Fit::Here;
    }
    // A fresh memtable starts at the next page boundary, empty.
    let empty = pages_end(Place::empty(0), lens(), page_size, span);
    if empty > span {
        // All of it, for the error to say.
        return Fit::Never { bytes: pages_end(Place::empty(0), lens(), page_size, u64::MAX) };
    }
    if at.tail.next_multiple_of(page_size) + empty > ADDRESS_LIMIT {
        return Fit::PastAddressLimit;
    }
    Fit::AfterFreeze
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: u64 = 4096;

    #[test]
    fn records_fill_pages_without_crossing_them() {
        let (slot, at) = Place::empty(8192).next(1000, PAGE);
        assert_eq!(slot, Slot { address: 8192, len: 1000, new_page: Some(PAGE) });
        let (slot, at) = at.next(3000, PAGE);
        assert_eq!((slot.address, slot.len, slot.new_page), (9192, 3000, None));
        // 96 bytes left: a 96-byte record fits, a 104-byte one starts a page.
        assert_eq!(at.next(96, PAGE).0.new_page, None);
        let (slot, at) = at.next(104, PAGE);
        assert_eq!(slot, Slot { address: 12288, len: 104, new_page: Some(PAGE) });
        // Less than a header would remain: the record takes the page's end.
        let (slot, at) = at.next(PAGE - 104 - 32, PAGE);
        assert_eq!((slot.len, at.tail), (PAGE - 104, 16384));
        // Longer than a page: a page of its own, in whole pages.
        let (slot, at) = at.next(PAGE + 8, PAGE);
        assert_eq!(slot, Slot { address: 16384, len: PAGE + 8, new_page: Some(2 * PAGE) });
        assert_eq!(at.page_end, Some(16384 + 2 * PAGE));
    }

    #[test]
    fn a_batch_takes_its_bytes_plus_at_most_a_record_per_page_switch() {
        // 2 M records of 48 bytes: 85 to a page, 96 MiB of log.
        let lens = || std::iter::repeat_n(48u64, 2_000_000);
        let end = pages_end(Place::empty(0), lens(), PAGE, u64::MAX);
        let pages = 2_000_000u64.div_ceil(PAGE / 48);
        assert_eq!(end, pages * PAGE);
        // Twice as many operations as a memtable has pages.
        assert_eq!(fit(0, Place::empty(0), lens, PAGE), Fit::Here);
    }

    #[test]
    fn a_batch_fits_here_after_a_freeze_or_never() {
        let span = span_bytes_max(PAGE);
        assert_eq!(span, 4 << 30);
        // Records that take a page each (stretched to its end), so the
        // commit record after them needs a page too.
        let lens = |n: u64| move || std::iter::repeat_n(PAGE - 32, n as usize);
        let base = 1 << 40;
        let fresh = Place::empty(base);
        let pages = span / PAGE;
        // Each record a page, and one for the commit record after them.
        assert_eq!(fit(base, fresh, lens(pages - 1), PAGE), Fit::Here);
        assert_eq!(fit(base, fresh, lens(pages), PAGE), Fit::Never { bytes: span + PAGE });
        // Part-way through the memtable, the same batch needs a freeze.
        let (_, later) = fresh.next(PAGE * 10, PAGE);
        assert_eq!(fit(base, later, lens(pages - 1), PAGE), Fit::AfterFreeze);
        assert_eq!(fit(base, later, lens(pages - 11), PAGE), Fit::Here);
    }

    #[test]
    fn the_end_of_the_address_space_is_never_passed() {
        let base = ADDRESS_LIMIT - 4 * PAGE;
        let at = Place::empty(base);
        let lens = |n: usize| move || std::iter::repeat_n(PAGE, n);
        // Three pages of records and a page for the commit record.
        assert_eq!(fit(base, at, lens(3), PAGE), Fit::Here);
        assert_eq!(fit(base, at, lens(4), PAGE), Fit::PastAddressLimit);
        let (_, later) = at.next(PAGE, PAGE);
        assert_eq!(fit(base, later, lens(3), PAGE), Fit::PastAddressLimit);
    }
}
