//! [`OpenFiles`]: the bound on how many table and blob readers the versions
//! of one database keep open, and the [`ReaderSlot`] each file's entry
//! holds its reader in.
//!
//! A reader is opened by the first read of its file and kept in the file's
//! slot, shared by every version holding the file. Past the bound, opening
//! one closes the least recently used other: its slot lets go of the
//! reader, which closes once nothing else holds it (an iterator or a
//! compaction reading it keeps it, as an `Arc`, until it is done), and the
//! next read of that file opens it again. A file that leaves every version
//! closes with its slot, as before.

use std::cmp::Ordering as Order;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use crate::Result;
use crate::sync::{MutexExt, RwLockExt};

/// Dead entries (of slots dropped while open) the queue may hold beyond
/// the live ones before it is swept.
const QUEUE_SLACK: usize = 64;

/// The readers of one database's files that are held open, at most `max`,
/// closed least recently used first.
///
/// A read that finds its reader open stamps the slot with the next tick of
/// a clock, and takes no other lock than its slot's. The queue of open
/// slots is ordered by the stamp each had when it was queued, so it is
/// stale for slots read since; an open that must close one pops the
/// oldest, and queues it again under its new stamp if it was read since.
/// The first popped whose stamp is unchanged is then the least recently
/// used of all (every other has a stamp at least its queued one), so the
/// order is exact, and each re-queueing is paid for by a read.
pub(crate) struct OpenFiles {
    max: usize,
    /// Counts uses: each reader's last use is a tick of this clock.
    clock: AtomicU64,
    /// Slots holding a reader now (each [`Open`] counts itself).
    count: Arc<AtomicUsize>,
    /// Each open slot once, under the stamp it had when queued (and slots
    /// dropped since, until popped or swept).
    queue: Mutex<BinaryHeap<Queued>>,
}

impl OpenFiles {
    /// At most `max` readers open (at least one).
    pub(crate) fn new(max: usize) -> OpenFiles {
        OpenFiles {
            max: max.max(1),
            clock: AtomicU64::new(0),
            count: Arc::default(),
            queue: Mutex::new(BinaryHeap::new()),
        }
    }

    /// The bound.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// How many readers the slots hold now.
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Puts `opened` in `slot`, closing least recently used readers to stay
    /// within the bound; returns the slot's reader, which is another when a
    /// racing read filled it first.
    fn admit<R: Send + Sync + 'static>(&self, slot: &Arc<Slot<R>>, opened: Arc<R>) -> Arc<R> {
        // Lock order: the queue, then one slot at a time. A read that finds
        // its reader takes only its slot's lock.
        let mut queue = self.queue.locked();
        let mut state = slot.open.write_locked();
        if let Some(raced) = state.as_ref() {
            return Arc::clone(&raced.reader);
        }
        // Reads racing this one keep stamping; past one turn of the queue
        // the oldest queued is closed whatever its stamp.
        let mut requeued_max = queue.len();
        while self.count() >= self.max {
            let Some(oldest) = queue.pop() else { break };
            // A slot dropped since no longer counts.
            let Some(held) = oldest.slot.upgrade() else { continue };
            match held.last_use() {
                read_since if read_since != oldest.stamp && requeued_max > 0 => {
                    requeued_max -= 1;
                    queue.push(Queued { stamp: read_since, ..oldest });
                }
                _ => held.close(),
            }
        }
        if queue.len() > 2 * self.count() + QUEUE_SLACK {
            queue.retain(|q| q.slot.strong_count() > 0);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        *state = Some(Open { reader: Arc::clone(&opened), count: Arc::clone(&self.count) });
        let stamp = self.tick();
        slot.last_use.store(stamp, Ordering::Relaxed);
        let held: Weak<Slot<R>> = Arc::downgrade(slot);
        queue.push(Queued { stamp, slot: held });
        opened
    }
}

impl fmt::Debug for OpenFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenFiles").field("max", &self.max).field("count", &self.count()).finish()
    }
}

/// An open slot in the queue, under the stamp it was queued with.
struct Queued {
    stamp: u64,
    slot: Weak<dyn Held>,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.stamp == other.stamp
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Order> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    /// Reversed: the heap, a max-heap, pops the oldest stamp first.
    fn cmp(&self, other: &Self) -> Order {
        other.stamp.cmp(&self.stamp)
    }
}

/// A slot the bound can close.
trait Held: Send + Sync {
    fn last_use(&self) -> u64;
    fn close(&self);
}

struct Slot<R> {
    open: RwLock<Option<Open<R>>>,
    last_use: AtomicU64,
}

/// A reader held in a slot; counted among the open ones while it is.
struct Open<R> {
    reader: Arc<R>,
    count: Arc<AtomicUsize>,
}

impl<R> Drop for Open<R> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<R: Send + Sync> Held for Slot<R> {
    fn last_use(&self) -> u64 {
        self.last_use.load(Ordering::Relaxed)
    }

    fn close(&self) {
        self.open.write_locked().take();
    }
}

/// The reader of one file of the versions: opened by a read through any
/// version holding the file, shared by all of them, closed by the bound
/// when it is the least recently used (and reopened by the next read), and
/// closed with the last version holding the file, so a file no version
/// holds is never kept open.
pub(crate) struct ReaderSlot<R>(Arc<Slot<R>>);

impl<R: Send + Sync + 'static> ReaderSlot<R> {
    /// The reader, opened with `open` if it is not open (two racing first
    /// reads may both open it; one reader is kept).
    pub(crate) fn get_or_open(&self, files: &OpenFiles, open: impl FnOnce() -> Result<R>) -> Result<Arc<R>> {
        if let Some(reader) = self.current() {
            self.0.last_use.store(files.tick(), Ordering::Relaxed);
            return Ok(reader);
        }
        let opened = Arc::new(open()?);
        Ok(files.admit(&self.0, opened))
    }

    /// The reader, if it is open.
    pub(crate) fn current(&self) -> Option<Arc<R>> {
        self.0.open.read_locked().as_ref().map(|o| Arc::clone(&o.reader))
    }
}

impl<R> Default for ReaderSlot<R> {
    fn default() -> Self {
        ReaderSlot(Arc::new(Slot { open: RwLock::new(None), last_use: AtomicU64::new(0) }))
    }
}

impl<R> fmt::Debug for ReaderSlot<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.open.read_locked().is_some() { "open" } else { "not open" })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A reader that counts how many of its kind are alive.
    struct Counted(Arc<AtomicUsize>);

    impl Counted {
        fn new(alive: &Arc<AtomicUsize>) -> Result<Counted> {
            alive.fetch_add(1, Ordering::SeqCst);
            Ok(Counted(Arc::clone(alive)))
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn keeps_at_most_max_open_and_closes_the_least_recently_used() {
        let files = OpenFiles::new(3);
        let alive = Arc::new(AtomicUsize::new(0));
        let slots: Vec<ReaderSlot<Counted>> = (0..5).map(|_| ReaderSlot::default()).collect();
        let open = |i: usize| slots[i].get_or_open(&files, || Counted::new(&alive)).unwrap();
        for i in 0..3 {
            drop(open(i));
        }
        drop(open(0)); // 1 is now the least recently used.
        drop(open(3));
        assert_eq!(alive.load(Ordering::SeqCst), 3);
        assert_eq!(files.count(), 3);
        let open_now: Vec<bool> = slots.iter().map(|s| s.current().is_some()).collect();
        assert_eq!(open_now, [true, false, true, true, false]);
        // A reader in use stays valid when the bound closes its slot.
        let in_use = open(2);
        for i in [0, 1, 3, 4] {
            drop(open(i));
        }
        assert!(slots[2].current().is_none(), "closed by the bound");
        assert_eq!(alive.load(Ordering::SeqCst), 4, "three in slots, one in use");
        drop(in_use);
        assert_eq!(alive.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_dropped_slot_closes_its_reader_and_frees_its_place() {
        let files = OpenFiles::new(2);
        let alive = Arc::new(AtomicUsize::new(0));
        let kept = ReaderSlot::default();
        drop(kept.get_or_open(&files, || Counted::new(&alive)).unwrap());
        let gone = ReaderSlot::default();
        drop(gone.get_or_open(&files, || Counted::new(&alive)).unwrap());
        drop(gone);
        assert_eq!((alive.load(Ordering::SeqCst), files.count()), (1, 1));
        let other = ReaderSlot::default();
        drop(other.get_or_open(&files, || Counted::new(&alive)).unwrap());
        assert!(kept.current().is_some(), "room was left by the dropped slot");
        assert_eq!(files.count(), 2);
    }

    #[test]
    fn a_failed_open_leaves_the_slot_empty() {
        let files = OpenFiles::new(2);
        let slot: ReaderSlot<Counted> = ReaderSlot::default();
        assert!(slot.get_or_open(&files, || Err(crate::Error::invalid("no"))).is_err());
        assert!(slot.current().is_none());
        assert_eq!(files.count(), 0);
    }
}
