//! The actions of a run, drawn from its seed before it starts, so a run
//! can be replayed and shortened (a removed action does not change the
//! others). Choices that depend on the state ("which checkpoint") are
//! indexes taken modulo what exists when the action runs.

use super::rng::Rng;

/// Keys are drawn from this many, so overwrites and deletes are common.
pub const KEY_SPACE: u64 = 300;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Put {
        key: u16,
        len: u16,
        fill: u8,
    },
    Delete {
        key: u16,
    },
    Batch {
        ops: Vec<(u16, Option<(u16, u8)>)>,
    },
    /// Overwrites of one key in a row: in-place updates in the memtable.
    Hot {
        key: u16,
        times: u8,
    },
    /// A put followed by a persist: acknowledged as durable.
    SyncPut {
        key: u16,
        len: u16,
        fill: u8,
    },
    Persist,
    Get {
        key: u16,
    },
    Scan {
        from: u16,
        to: u16,
    },
    TakeSnapshot,
    ReadSnapshot {
        pick: u8,
    },
    DropSnapshot {
        pick: u8,
    },
    /// Starts an iterator at the current state and reads `first` entries.
    OpenIter {
        first: u8,
    },
    /// Reads the rest of an iterator (opened before flushes, compactions,
    /// checkpoints) and checks it saw exactly its state.
    FinishIter {
        pick: u8,
    },
    Flush,
    Compact,
    /// A checkpoint into parent `parent` (2: another device).
    Checkpoint {
        parent: u8,
        flush: bool,
    },
    OpenCheckpoint {
        pick: u8,
        write: bool,
    },
    DeleteCheckpoint {
        pick: u8,
    },
    Backup {
        flush: bool,
    },
    Prune {
        keep: u8,
    },
    Gc,
    Restore {
        pick: u8,
    },
    VerifyBackup {
        pick: u8,
    },
    /// Close (persisting) and open again.
    Reopen,
    /// A power cut `in_ops` file-system operations from now (during the
    /// actions that follow); `torn`: keep a random prefix of unsynced
    /// changes (seeded) instead of only the durable state; `again`: cut
    /// the power again during the recovery, that many operations in.
    PowerCut {
        in_ops: u16,
        torn: Option<u64>,
        again: Option<u16>,
    },
    /// One failing operation `in_ops` operations from now.
    Fault {
        in_ops: u16,
        kind: FaultChoice,
    },
    /// `action` run once with the disk tapped: the crash state before each
    /// of its file-system steps is recovered and checked (`seed` picks the
    /// torn copies).
    Sweep {
        action: Box<Action>,
        seed: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultChoice {
    Io,
    NoSpace,
    TornWrite,
    /// EIO from the next fsync (of a file or a directory).
    Sync,
}

fn value_len(rng: &mut Rng) -> u16 {
    match rng.below(20) {
        0 => 300 + rng.below(1500) as u16, // a blob
        1 => 0,
        _ => 1 + rng.below(60) as u16,
    }
}

fn key(rng: &mut Rng) -> u16 {
    rng.below(KEY_SPACE) as u16
}

fn small(rng: &mut Rng) -> u8 {
    rng.below(256) as u8
}

/// `count` actions drawn from `seed`.
pub fn plan(seed: u64, count: usize) -> Vec<Action> {
    let mut rng = Rng::new(seed);
    (0..count).map(|_| action(&mut rng)).collect()
}

fn action(rng: &mut Rng) -> Action {
    let action = simple(rng);
    let sweepable = matches!(
        action,
        Action::Checkpoint { .. }
            | Action::Backup { .. }
            | Action::Prune { .. }
            | Action::Gc
            | Action::Restore { .. }
            | Action::Flush
            | Action::Compact
            | Action::SyncPut { .. }
            | Action::Reopen
    );
    if sweepable && rng.chance(40) {
        return Action::Sweep { action: Box::new(action), seed: rng.next_u64() };
    }
    action
}

fn simple(rng: &mut Rng) -> Action {
    match rng.below(1000) {
        0..300 => Action::Put { key: key(rng), len: value_len(rng), fill: small(rng) },
        300..370 => Action::Delete { key: key(rng) },
        370..420 => {
            let n = 2 + rng.below(8);
            let ops = (0..n).map(|_| (key(rng), (!rng.chance(20)).then(|| (value_len(rng), small(rng))))).collect();
            Action::Batch { ops }
        }
        420..450 => Action::Hot { key: rng.below(8) as u16, times: 2 + rng.below(20) as u8 },
        450..490 => Action::SyncPut { key: key(rng), len: value_len(rng), fill: small(rng) },
        490..530 => Action::Persist,
        530..550 => Action::Get { key: key(rng) },
        550..565 => {
            let a = key(rng);
            let b = key(rng);
            Action::Scan { from: a.min(b), to: a.max(b) }
        }
        565..580 => Action::TakeSnapshot,
        580..595 => Action::ReadSnapshot { pick: small(rng) },
        595..605 => Action::DropSnapshot { pick: small(rng) },
        605..615 => Action::OpenIter { first: small(rng) % 40 },
        615..625 => Action::FinishIter { pick: small(rng) },
        625..655 => Action::Flush,
        655..670 => Action::Compact,
        670..715 => Action::Checkpoint { parent: rng.below(3) as u8, flush: rng.chance(50) },
        715..735 => Action::OpenCheckpoint { pick: small(rng), write: rng.chance(50) },
        735..745 => Action::DeleteCheckpoint { pick: small(rng) },
        745..780 => Action::Backup { flush: rng.chance(50) },
        780..795 => Action::Prune { keep: 1 + rng.below(3) as u8 },
        795..810 => Action::Gc,
        810..825 => Action::Restore { pick: small(rng) },
        825..835 => Action::VerifyBackup { pick: small(rng) },
        835..860 => Action::Reopen,
        860..940 => Action::PowerCut {
            in_ops: rng.below(400) as u16,
            torn: rng.chance(50).then(|| rng.next_u64()),
            again: rng.chance(20).then(|| rng.below(60) as u16),
        },
        _ => {
            let kind = match rng.below(4) {
                0 => FaultChoice::Io,
                1 => FaultChoice::NoSpace,
                2 => FaultChoice::TornWrite,
                _ => FaultChoice::Sync,
            };
            Action::Fault { in_ops: rng.below(300) as u16, kind }
        }
    }
}
