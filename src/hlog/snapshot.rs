//! The snapshot registry: which seqnos live readers (snapshots, iterators,
//! checkpoints) still read at, so in-place updates spare what they can see.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::SeqNo;
use crate::sync::MutexExt;

/// Live snapshot seqnos with counts, and their maximum for the writer's
/// lock-free check.
#[derive(Debug, Default)]
pub(crate) struct SnapshotRegistry {
    live: Mutex<BTreeMap<u64, usize>>,
    /// The largest live seqno, 0 when none is live (seqno 0 sees nothing,
    /// so it protects nothing either).
    max_live: AtomicU64,
}

impl SnapshotRegistry {
    /// Registers `seqno`. Must be called under the log's writer mutex so no
    /// in-place update runs between choosing `seqno` and registering it.
    pub(crate) fn register(self: &Arc<Self>, seqno: u64) -> Snapshot {
        let mut live = self.live.locked();
        *live.entry(seqno).or_insert(0) += 1;
        self.max_live.store(*live.keys().next_back().expect("just inserted"), Ordering::Release);
        Snapshot { seqno: SeqNo(seqno), registry: Arc::clone(self) }
    }

    fn release(&self, seqno: u64) {
        let mut live = self.live.locked();
        if let Some(count) = live.get_mut(&seqno) {
            *count -= 1;
            if *count == 0 {
                live.remove(&seqno);
            }
        }
        self.max_live.store(live.keys().next_back().copied().unwrap_or(0), Ordering::Release);
    }

    /// The largest live snapshot seqno (0 if none). A record with seqno `s`
    /// may be overwritten in place iff this is `< s`. A stale (larger) value
    /// is only more cautious; a smaller one cannot be read because
    /// registration happens under the writer mutex the caller holds.
    pub(crate) fn max_live(&self) -> u64 {
        self.max_live.load(Ordering::Acquire)
    }

    /// The seqnos live snapshots read at, ascending.
    pub(crate) fn seqnos(&self) -> Vec<SeqNo> {
        self.live.locked().keys().map(|&s| SeqNo(s)).collect()
    }

    /// How many snapshots are live.
    pub(crate) fn count(&self) -> usize {
        self.live.locked().values().sum()
    }
}

/// A registered read point: while it is alive, every version with seqno
/// `<= seqno()` that was newest at that seqno stays readable (no in-place
/// update destroys it). Released on drop; clones register again.
pub struct Snapshot {
    seqno: SeqNo,
    registry: Arc<SnapshotRegistry>,
}

impl Snapshot {
    /// The seqno this snapshot reads at.
    pub fn seqno(&self) -> SeqNo {
        self.seqno
    }
}

impl Clone for Snapshot {
    fn clone(&self) -> Self {
        // Already live, so registering again needs no writer mutex: the
        // maximum cannot drop below this seqno meanwhile.
        self.registry.register(self.seqno.0)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        self.registry.release(self.seqno.0);
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot").field("seqno", &self.seqno).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_tracks_live_snapshots() {
        let registry = Arc::new(SnapshotRegistry::default());
        assert_eq!(registry.max_live(), 0);
        let a = registry.register(5);
        let b = registry.register(9);
        let b2 = b.clone();
        assert_eq!(registry.max_live(), 9);
        drop(b);
        assert_eq!(registry.max_live(), 9);
        drop(b2);
        assert_eq!(registry.max_live(), 5);
        assert_eq!(registry.count(), 1);
        drop(a);
        assert_eq!(registry.max_live(), 0);
    }
}
