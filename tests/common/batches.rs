//! The batches a log workload wrote, in seqno order: the state a prefix of
//! them leaves, and whether a seqno ends one (a recovery must land on a
//! batch boundary, never inside a batch).

use std::collections::BTreeMap;

/// A key and its new value (`None`: deleted).
pub type Change = (Vec<u8>, Option<Vec<u8>>);

/// Each batch as its last seqno and its changes, in seqno order.
pub type Batches = Vec<(u64, Vec<Change>)>;

/// The contents after every batch whose last seqno is <= `seqno`.
pub fn state_at(batches: &Batches, seqno: u64) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut state = BTreeMap::new();
    for (_, changes) in batches.iter().take_while(|(last, _)| *last <= seqno) {
        for (key, value) in changes {
            match value {
                Some(v) => state.insert(key.clone(), v.clone()),
                None => state.remove(key),
            };
        }
    }
    state
}

/// Whether `seqno` ends a batch (or precedes them all).
pub fn is_batch_boundary(batches: &Batches, seqno: u64) -> bool {
    seqno == 0 || batches.iter().any(|(last, _)| *last == seqno)
}
