//! cairndb, opened with `Config::new(dir).sync(SyncMode::OsBuffered).open()`:
//! defaults, in the durability class of RocksDB's default (each write is
//! handed to the OS before it returns, no fsync).

use std::path::Path;

use ::cairndb::{CheckpointOptions, Config, Db, SyncMode};

use super::{Engine, ReadTally, ScanTally};
use crate::data::{Lookup, Pair};
use crate::error::{EngineContext, Result};

const NAME: &str = "cairndb";

/// An open cairndb database.
pub struct Cairndb {
    db: Db,
}

impl Cairndb {
    /// Opens `dir` with defaults but the sync mode: cairndb's default,
    /// `Background`, keeps writes in the process until the next persist
    /// (100 ms), a cheaper class than the peers' defaults.
    pub fn open(dir: &Path) -> Result<Cairndb> {
        let config = Config::new(dir).sync(SyncMode::OsBuffered);
        Ok(Cairndb { db: config.open().during(NAME, "open")? })
    }
}

impl Engine for Cairndb {
    fn put_chunk(&self, pairs: &[Pair]) -> Result<()> {
        for pair in pairs {
            self.db.put(pair.key, pair.value).during(NAME, "put")?;
        }
        Ok(())
    }

    fn get_chunk(&self, lookups: &[Lookup], tally: &mut ReadTally) -> Result<()> {
        for lookup in lookups {
            let got = self.db.get(lookup.key).during(NAME, "get")?;
            tally.record(lookup.expected.as_ref(), got.as_deref());
        }
        Ok(())
    }

    fn scan(&self) -> Result<ScanTally> {
        let mut tally = ScanTally::default();
        let mut previous = Vec::new();
        for entry in self.db.iter() {
            let (key, value) = entry.during(NAME, "scan")?;
            tally.record(&mut previous, &key, &value);
        }
        Ok(tally)
    }

    fn flush(&self) -> Result<()> {
        self.db.flush().during(NAME, "flush")
    }

    fn compact(&mut self) -> Result<bool> {
        self.db.compact().during(NAME, "compact")?;
        Ok(true)
    }

    fn checkpoint(&self, target: &Path, flush: bool) -> Result<()> {
        self.db.checkpoint_with(target, CheckpointOptions::default().flush(flush)).during(NAME, "checkpoint")?;
        Ok(())
    }
}
