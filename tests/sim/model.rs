//! The model: every batch the database applied, in seqno order, and what
//! is known durable. The state at any seqno is the batches up to it.

use std::collections::BTreeMap;

pub type State = BTreeMap<Vec<u8>, Vec<u8>>;

/// One applied batch: its last seqno and its operations (`None`: delete).
#[derive(Clone, Debug)]
pub struct Batch {
    pub last: u64,
    pub ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

#[derive(Clone, Debug, Default)]
pub struct Model {
    batches: Vec<Batch>,
    /// Every write with seqno <= this survives any crash.
    pub durable: u64,
    /// States cached at some batch ends, to keep `state_at` cheap.
    cache: Vec<(usize, State)>,
}

impl Model {
    pub fn last(&self) -> u64 {
        self.batches.last().map_or(0, |b| b.last)
    }

    pub fn push(&mut self, last: u64, ops: Vec<(Vec<u8>, Option<Vec<u8>>)>) {
        let first = last + 1 - ops.len() as u64;
        assert_eq!(first, self.last() + 1, "seqnos are consecutive: batch {first}..={last} after {}", self.last());
        self.batches.push(Batch { last, ops });
    }

    /// Whether `seqno` falls between batches (a recovery may not split one).
    pub fn is_boundary(&self, seqno: u64) -> bool {
        seqno == 0 || self.batches.binary_search_by_key(&seqno, |b| b.last).is_ok()
    }

    /// The state after every batch with seqno <= `seqno`.
    pub fn state_at(&mut self, seqno: u64) -> State {
        assert!(seqno <= self.last(), "seqno {seqno} is beyond the model's history ({})", self.last());
        let upto = self.batches.partition_point(|b| b.last <= seqno);
        let (from, mut state) = match self.cache.iter().rev().find(|(n, _)| *n <= upto) {
            Some((n, s)) => (*n, s.clone()),
            None => (0, State::new()),
        };
        for batch in &self.batches[from..upto] {
            for (key, value) in &batch.ops {
                match value {
                    Some(v) => state.insert(key.clone(), v.clone()),
                    None => state.remove(key),
                };
            }
        }
        if upto - from > 64 {
            self.cache.push((upto, state.clone()));
            self.cache.sort_by_key(|(n, _)| *n);
        }
        state
    }

    /// Forgets the batches after `seqno`: lost by a crash, never durable.
    pub fn truncate(&mut self, seqno: u64) {
        assert!(seqno >= self.durable, "truncating below the durable seqno {}", self.durable);
        let keep = self.batches.partition_point(|b| b.last <= seqno);
        self.batches.truncate(keep);
        self.cache.retain(|(n, _)| *n <= keep);
    }
}
