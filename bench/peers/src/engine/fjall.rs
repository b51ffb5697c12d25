//! fjall with defaults: one database, one keyspace.

use std::path::Path;

use ::fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use super::{Engine, ReadTally, ScanTally, no_checkpoint};
use crate::data::{Lookup, Pair};
use crate::error::{EngineContext, Result};

const NAME: &str = "fjall";

/// An open fjall database and its keyspace.
pub struct Fjall {
    db: Database,
    keyspace: Keyspace,
}

impl Fjall {
    /// Opens `dir` with defaults and its keyspace `data`.
    pub fn open(dir: &Path) -> Result<Fjall> {
        let db = Database::builder(dir).open().during(NAME, "open")?;
        let keyspace = db.keyspace("data", KeyspaceCreateOptions::default).during(NAME, "open keyspace")?;
        Ok(Fjall { db, keyspace })
    }
}

impl Engine for Fjall {
    fn put_chunk(&self, pairs: &[Pair]) -> Result<()> {
        for pair in pairs {
            self.keyspace.insert(pair.key.as_slice(), pair.value.as_slice()).during(NAME, "insert")?;
        }
        Ok(())
    }

    fn get_chunk(&self, lookups: &[Lookup], tally: &mut ReadTally) -> Result<()> {
        for lookup in lookups {
            let got = self.keyspace.get(lookup.key).during(NAME, "get")?;
            tally.record(lookup.expected.as_ref(), got.as_deref());
        }
        Ok(())
    }

    fn scan(&self) -> Result<ScanTally> {
        let mut tally = ScanTally::default();
        let mut previous = Vec::new();
        for guard in self.keyspace.iter() {
            let (key, value) = guard.into_inner().during(NAME, "scan")?;
            tally.record(&mut previous, &key, &value);
        }
        Ok(tally)
    }

    /// fjall has no public memtable flush: `persist` syncs its journal, and
    /// the doc-hidden `rotate_memtable_and_wait` (which its own tests use)
    /// writes the memtable into a table.
    fn flush(&self) -> Result<()> {
        self.db.persist(PersistMode::SyncAll).during(NAME, "persist")?;
        self.keyspace.rotate_memtable_and_wait().during(NAME, "flush")
    }

    /// The doc-hidden `major_compact`.
    fn compact(&mut self) -> Result<bool> {
        self.keyspace.major_compact().during(NAME, "major compaction")?;
        Ok(true)
    }

    fn checkpoint(&self, _target: &Path, _flush: bool) -> Result<()> {
        Err(no_checkpoint(NAME))
    }
}
