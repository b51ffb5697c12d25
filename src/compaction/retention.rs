//! Which versions of a key a compaction keeps.
//!
//! Live snapshots cut the seqno space into stripes: `(.., s1]`, `(s1, s2]`,
//! ..., `(sn, ∞)`. A reader at any seqno sees, per key, the newest version
//! at or below it, so only the newest version in each stripe can ever be
//! read; the rest are dropped. At the bottommost level a tombstone that is
//! the oldest version kept hides nothing and is dropped too.

use crate::SeqNo;

/// The retention rule for one compaction.
#[derive(Clone, Debug)]
pub struct Retention {
    /// Live snapshot seqnos, ascending, without duplicates.
    snapshots: Vec<SeqNo>,
    bottommost: bool,
}

impl Retention {
    /// A rule for a compaction with these live snapshots (any order) whose
    /// output is (or is not) the bottommost data for its keys.
    pub fn new(mut snapshots: Vec<SeqNo>, bottommost: bool) -> Retention {
        snapshots.sort_unstable();
        snapshots.dedup();
        Retention { snapshots, bottommost }
    }

    /// Given one key's versions newest first as `(seqno, is_tombstone)`,
    /// says for each whether to keep it.
    pub fn select(&self, versions: &[(SeqNo, bool)]) -> Vec<bool> {
        debug_assert!(versions.windows(2).all(|w| w[0].0 > w[1].0), "versions must be newest first");
        let mut keep = vec![false; versions.len()];
        let mut last_stripe = None;
        for (i, &(seqno, _)) in versions.iter().enumerate() {
            let stripe = self.snapshots.partition_point(|&s| s < seqno);
            if last_stripe != Some(stripe) {
                keep[i] = true;
                last_stripe = Some(stripe);
            }
        }
        if self.bottommost {
            while let Some(oldest) = keep.iter().rposition(|&k| k) {
                if !versions[oldest].1 {
                    break;
                }
                keep[oldest] = false;
            }
        }
        keep
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use quickcheck::{QuickCheck, TestResult};

    use super::*;

    fn kept(rule: &Retention, versions: &[(u64, bool)]) -> Vec<u64> {
        let versions: Vec<(SeqNo, bool)> = versions.iter().map(|&(s, t)| (SeqNo(s), t)).collect();
        let keep = rule.select(&versions);
        versions.iter().zip(keep).filter(|(_, k)| *k).map(|((s, _), _)| s.0).collect()
    }

    #[test]
    fn examples() {
        let none = Retention::new(vec![], false);
        assert_eq!(kept(&none, &[(9, false), (5, false), (2, false)]), [9]);
        let snap = Retention::new(vec![SeqNo(6)], false);
        assert_eq!(kept(&snap, &[(9, false), (5, false), (2, false)]), [9, 5]);
        let bottom = Retention::new(vec![], true);
        assert_eq!(kept(&bottom, &[(9, true), (5, false)]), Vec::<u64>::new(), "a bottom tombstone goes");
        let bottom_snap = Retention::new(vec![SeqNo(6)], true);
        assert_eq!(kept(&bottom_snap, &[(9, true), (5, false)]), [9, 5], "the snapshot still sees 5");
        assert_eq!(kept(&bottom_snap, &[(9, false), (5, true), (3, false)]), [9], "5 hides nothing once 3 goes");
    }

    /// What a reader at `at` sees among `versions`: the newest at or below it.
    fn read(versions: &[(u64, bool)], at: u64) -> Option<u64> {
        versions.iter().find(|(s, _)| *s <= at).filter(|(_, tomb)| !tomb).map(|(s, _)| *s)
    }

    #[test]
    fn every_snapshot_reads_the_same_after_retention() {
        fn prop(raw: Vec<(u8, bool)>, snaps: Vec<u8>, bottommost: bool) -> TestResult {
            let mut by_seqno = BTreeMap::new();
            for (s, t) in raw {
                by_seqno.insert(u64::from(s) + 1, t);
            }
            let versions: Vec<(u64, bool)> = by_seqno.into_iter().rev().collect();
            let snapshots: Vec<SeqNo> = snaps.iter().map(|&s| SeqNo(u64::from(s))).collect();
            let rule = Retention::new(snapshots.clone(), bottommost);
            let kept_seqnos = kept(&rule, &versions);
            let after: Vec<(u64, bool)> = versions.iter().copied().filter(|(s, _)| kept_seqnos.contains(s)).collect();
            let readers = snapshots.iter().map(|s| s.0).chain([u64::MAX]);
            for at in readers {
                // Without bottommost, older data may exist below; compare the
                // visible version including tombstones.
                let before_v = versions.iter().find(|(s, _)| *s <= at);
                let after_v = after.iter().find(|(s, _)| *s <= at);
                let same = if bottommost { read(&versions, at) == read(&after, at) } else { before_v == after_v };
                if !same {
                    return TestResult::failed();
                }
            }
            TestResult::passed()
        }
        QuickCheck::new().tests(2000).quickcheck(prop as fn(Vec<(u8, bool)>, Vec<u8>, bool) -> TestResult);
    }
}
