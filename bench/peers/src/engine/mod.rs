//! The engines compared, behind one small trait ([`Engine`]) that has only
//! what the workloads need; [`EngineKind`] names them and opens one.

mod cairndb;
mod fjall;
mod redb;
mod rocksdb;

use std::path::Path;

use self::cairndb::Cairndb;
use self::fjall::Fjall;
use self::redb::Redb;
use self::rocksdb::{Rocks, Tuning};
use crate::data::{Lookup, Pair, Value};
use crate::error::{Error, Result};

/// An open database of one engine.
pub trait Engine: Sync {
    /// Writes every pair with the engine's default durability: the LSM
    /// engines one put per pair (no batching), redb one write transaction
    /// for the whole chunk.
    fn put_chunk(&self, pairs: &[Pair]) -> Result<()>;

    /// Reads every key (redb: in one read transaction) and records what it found.
    fn get_chunk(&self, lookups: &[Lookup], tally: &mut ReadTally) -> Result<()>;

    /// Reads every key and value in key order.
    fn scan(&self) -> Result<ScanTally>;

    /// Makes every write part of the engine's files (a memtable flush);
    /// returns once done.
    fn flush(&self) -> Result<()>;

    /// Rewrites the whole database into its most compact form; `false` if
    /// the engine has no such operation.
    fn compact(&mut self) -> Result<bool>;

    /// Takes a checkpoint into `target` (which must not exist). `flush`:
    /// flush the memtable first, else carry it as its log.
    fn checkpoint(&self, target: &Path, flush: bool) -> Result<()>;
}

/// The engines, each with the configuration it is benchmarked in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// cairndb with `Config::new(dir).sync(SyncMode::OsBuffered).open()`.
    Cairndb,
    /// RocksDB as commonly deployed: LZ4, block-based table with a 10 bits/key bloom filter.
    Rocksdb,
    /// RocksDB with pure defaults.
    RocksdbDefault,
    /// fjall with defaults, one keyspace.
    Fjall,
    /// redb with defaults, one table.
    Redb,
}

impl EngineKind {
    /// Every engine, in the order they are reported.
    pub const ALL: [EngineKind; 5] =
        [EngineKind::Cairndb, EngineKind::Rocksdb, EngineKind::RocksdbDefault, EngineKind::Fjall, EngineKind::Redb];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Cairndb => "cairndb",
            EngineKind::Rocksdb => "rocksdb",
            EngineKind::RocksdbDefault => "rocksdb-default",
            EngineKind::Fjall => "fjall",
            EngineKind::Redb => "redb",
        }
    }

    /// The engine named `name`.
    pub fn parse(name: &str) -> Result<EngineKind> {
        EngineKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| Error::Usage(format!("unknown engine {name:?}")))
    }

    /// Whether it has a checkpoint API.
    pub fn has_checkpoint(self) -> bool {
        matches!(self, EngineKind::Cairndb | EngineKind::Rocksdb | EngineKind::RocksdbDefault)
    }

    /// Whether it is an LSM tree (redb is a B-tree).
    pub fn is_lsm(self) -> bool {
        self != EngineKind::Redb
    }

    /// Opens (creating if missing) its database in `dir`.
    pub fn open(self, dir: &Path) -> Result<Box<dyn Engine>> {
        Ok(match self {
            EngineKind::Cairndb => Box::new(Cairndb::open(dir)?),
            EngineKind::Rocksdb => Box::new(Rocks::open(dir, Tuning::Production)?),
            EngineKind::RocksdbDefault => Box::new(Rocks::open(dir, Tuning::Defaults)?),
            EngineKind::Fjall => Box::new(Fjall::open(dir)?),
            EngineKind::Redb => Box::new(Redb::open(dir)?),
        })
    }
}

/// What a run of point reads found.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadTally {
    /// Keys found with the expected value.
    pub hits: u64,
    /// Keys rightly absent.
    pub misses: u64,
    /// Wrong answers: another value, a present key absent, an absent key present.
    pub wrong: u64,
}

impl ReadTally {
    /// Records that the engine returned `got` where `expected` was due.
    pub fn record(&mut self, expected: Option<&Value>, got: Option<&[u8]>) {
        match (expected, got) {
            (Some(want), Some(got)) if want.as_slice() == got => self.hits += 1,
            (None, None) => self.misses += 1,
            _ => self.wrong += 1,
        }
    }
}

/// What a full scan saw.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScanTally {
    /// Entries.
    pub count: u64,
    /// Entries whose key was not greater than the one before.
    pub out_of_order: u64,
    /// Bytes of all values (so every value is touched).
    pub value_bytes: u64,
}

impl ScanTally {
    /// Records an entry; `previous` holds the key before it.
    pub fn record(&mut self, previous: &mut Vec<u8>, key: &[u8], value: &[u8]) {
        if self.count > 0 && key <= previous.as_slice() {
            self.out_of_order += 1;
        }
        previous.clear();
        previous.extend_from_slice(key);
        self.count += 1;
        self.value_bytes += value.len() as u64;
    }
}

/// The error of an engine without a checkpoint API.
fn no_checkpoint(engine: &'static str) -> Error {
    Error::Usage(format!("{engine} has no checkpoint API"))
}
