//! The load: keys in order on this thread (with the bar), hot-key
//! overwrites and deletes on a background thread, and a checkpoint taken
//! from a third thread when half the keys are in. Every write's seqno is
//! kept, so the checkpoint can be checked against exactly the writes it
//! must hold.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cairndb::CheckpointOptions;
use cairndb::fs::StdFs;
use cairndb::{CheckpointInfo, Db, SeqNo};

use super::copy::copy_dir;
use crate::failure::{At as _, Failure};
use crate::interrupt;
use crate::progress::{self, Unit};

/// Distinct keys the background writer overwrites.
pub const HOT_KEYS: u64 = 1000;

/// The background writer pauses 1 ms after this many writes, so that it
/// keeps writing without taking a core from the loader.
const BACKGROUND_BURST: u64 = 50;

/// What the load did.
pub struct Load {
    /// Seqno of the put of `key(i)`, for every `i`.
    pub loader_seqnos: Vec<SeqNo>,
    /// Seqno of background write `c`, for every `c` (see [`background_op`]).
    pub background_seqnos: Vec<SeqNo>,
    /// Bytes per value.
    pub value_bytes: usize,
    /// The checkpoint.
    pub checkpoint: CheckpointInfo,
    /// Keys loaded when the checkpoint started.
    pub checkpoint_started_at_key: u64,
    /// Copying the checkpoint's directory file by file, with fsync, right after it was taken.
    pub copy_time: Duration,
    /// How long loading the keys took.
    pub load_time: Duration,
}

impl Load {
    /// Loaded keys whose put the checkpoint holds: where its cut fell in the load.
    pub fn keys_in_checkpoint(&self) -> u64 {
        self.loader_seqnos.partition_point(|s| *s <= self.checkpoint.seqno) as u64
    }
}

/// One background write.
pub enum BackgroundOp {
    /// `hot_key(c)` set to `value(b'h', c, ..)`.
    Put,
    /// `hot_key(c)` deleted.
    Delete,
}

/// The key of the `i`th loaded key; zero-padded so key order is load order.
pub fn key(i: u64) -> Vec<u8> {
    format!("key:{i:010}").into_bytes()
}

/// The key background write `c` goes to.
pub fn hot_key(c: u64) -> Vec<u8> {
    format!("hot:{:04}", c % HOT_KEYS).into_bytes()
}

/// What background write `c` is: mostly puts, every seventh a delete.
pub fn background_op(c: u64) -> BackgroundOp {
    if c % 7 == 3 { BackgroundOp::Delete } else { BackgroundOp::Put }
}

/// The value of `len` pseudo-random bytes (so compression does not shrink
/// the data) that writer `tag` writes in its write number `n`.
pub fn value(tag: u8, n: u64, len: usize) -> Vec<u8> {
    let mut state = n ^ (u64::from(tag) << 56);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One step of the SplitMix64 generator.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Loads `keys` keys while writing in the background; checkpoints into
/// `targets[0]` mid-load, then copies it into `targets[1]` for comparison.
pub fn run(db: &Db, keys: u64, value_bytes: usize, targets: [&Path; 2]) -> Result<Load, Failure> {
    let loaded = AtomicU64::new(0);
    let loader_done = AtomicBool::new(false);
    let stop_background = AtomicBool::new(false);
    let started = Instant::now();
    thread::scope(|s| {
        let background = s.spawn(|| write_background(db, value_bytes, &stop_background));
        let checkpointer = s.spawn(|| checkpoint_mid_load(db, targets, &loaded, keys / 2, &loader_done));
        let loader = load_keys(db, keys, value_bytes, &loaded);
        let load_time = started.elapsed();
        loader_done.store(true, Ordering::Release);
        let checkpoint = checkpointer.join().expect("the checkpoint thread does not panic");
        stop_background.store(true, Ordering::Release);
        let background = background.join().expect("the background writer does not panic");
        // The loader's error first: when the disk fills, its write is what
        // failed; the checkpoint only found the database poisoned after it.
        let loader_seqnos = loader.at(db.path())?;
        let background_seqnos = background.at(db.path())?;
        let taken = checkpoint.at(targets[0])?;
        Ok(Load {
            loader_seqnos,
            background_seqnos,
            value_bytes,
            checkpoint: taken.checkpoint,
            checkpoint_started_at_key: taken.started_at,
            copy_time: taken.copy_time,
            load_time,
        })
    })
}

fn load_keys(db: &Db, keys: u64, value_bytes: usize, loaded: &AtomicU64) -> cairndb::Result<Vec<SeqNo>> {
    let bar = progress::bar(keys, Unit::Keys, "loading");
    let mut seqnos = Vec::with_capacity(usize::try_from(keys).unwrap_or(0));
    for i in 0..keys {
        if interrupt::interrupted() {
            break;
        }
        seqnos.push(db.put(key(i), value(b'k', i, value_bytes))?);
        loaded.store(i + 1, Ordering::Release);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(seqnos)
}

fn write_background(db: &Db, value_bytes: usize, stop: &AtomicBool) -> cairndb::Result<Vec<SeqNo>> {
    let mut seqnos = Vec::new();
    let mut c = 0;
    while !stop.load(Ordering::Acquire) {
        let seqno = match background_op(c) {
            BackgroundOp::Put => db.put(hot_key(c), value(b'h', c, value_bytes))?,
            BackgroundOp::Delete => db.delete(hot_key(c))?,
        };
        seqnos.push(seqno);
        c += 1;
        if c % BACKGROUND_BURST == 0 {
            thread::sleep(Duration::from_millis(1));
        }
    }
    Ok(seqnos)
}

/// What the checkpoint thread did.
struct Taken {
    started_at: u64,
    checkpoint: CheckpointInfo,
    copy_time: Duration,
}

/// Waits until `half` keys are loaded (or the loader stopped), then
/// checkpoints into `target`, then copies `target` the slow way while the
/// writers still run, so both are timed under the same load.
fn checkpoint_mid_load(
    db: &Db,
    targets: [&Path; 2],
    loaded: &AtomicU64,
    half: u64,
    loader_done: &AtomicBool,
) -> cairndb::Result<Taken> {
    let [target, copy_target] = targets;
    while loaded.load(Ordering::Acquire) < half && !loader_done.load(Ordering::Acquire) {
        thread::sleep(Duration::from_micros(200));
    }
    if interrupt::interrupted() {
        return Err(cairndb::Error::invalid("interrupted before the checkpoint"));
    }
    let started_at = loaded.load(Ordering::Acquire);
    // Under a full-speed load the memtable is large: flushing it would
    // dominate the cost. Without a flush, its log (frozen, persisted, never
    // appended again) is shared by link like the tables.
    let checkpoint = db.checkpoint_with(target, CheckpointOptions::default().flush(false))?;
    if interrupt::interrupted() {
        return Err(cairndb::Error::invalid("interrupted before the plain copy"));
    }
    let copy_time = copy_dir(&StdFs::new(), target, copy_target)?;
    Ok(Taken { started_at, checkpoint, copy_time })
}
