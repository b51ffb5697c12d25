//! cairndb, opened with `Config::new(dir).open()`.

use std::path::Path;

use ::cairndb::{CheckpointOptions, Config, Db};

use super::{Engine, ReadTally, ScanTally};
use crate::data::{Lookup, Pair};
use crate::error::{EngineContext, Result};

const NAME: &str = "cairndb";

/// An open cairndb database.
pub struct Cairndb {
    db: Db,
}

impl Cairndb {
    /// Opens `dir` with defaults.
    pub fn open(dir: &Path) -> Result<Cairndb> {
        Ok(Cairndb { db: Config::new(dir).open().during(NAME, "open")? })
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
