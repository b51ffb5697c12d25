//! redb with defaults: one file, one table, default durability (every
//! commit durable).

use std::path::Path;

use ::redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{Engine, ReadTally, ScanTally, no_checkpoint};
use crate::data::{Lookup, Pair};
use crate::error::{EngineContext, Result};

const NAME: &str = "redb";
const TABLE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("data");
/// The database file inside the benchmark's directory.
const FILE_NAME: &str = "data.redb";

/// An open redb database.
pub struct Redb {
    db: Database,
}

impl Redb {
    /// Opens (or creates) `dir/data.redb` and its table.
    pub fn open(dir: &Path) -> Result<Redb> {
        std::fs::create_dir_all(dir).during(NAME, "create directory")?;
        let db = Database::create(dir.join(FILE_NAME)).during(NAME, "open")?;
        let txn = db.begin_write().during(NAME, "begin write")?;
        txn.open_table(TABLE).during(NAME, "create table")?;
        txn.commit().during(NAME, "commit")?;
        Ok(Redb { db })
    }
}

impl Engine for Redb {
    fn put_chunk(&self, pairs: &[Pair]) -> Result<()> {
        let txn = self.db.begin_write().during(NAME, "begin write")?;
        {
            let mut table = txn.open_table(TABLE).during(NAME, "open table")?;
            for pair in pairs {
                table.insert(pair.key.as_slice(), pair.value.as_slice()).during(NAME, "insert")?;
            }
        }
        txn.commit().during(NAME, "commit")
    }

    fn get_chunk(&self, lookups: &[Lookup], tally: &mut ReadTally) -> Result<()> {
        let txn = self.db.begin_read().during(NAME, "begin read")?;
        let table = txn.open_table(TABLE).during(NAME, "open table")?;
        for lookup in lookups {
            let got = table.get(lookup.key.as_slice()).during(NAME, "get")?;
            tally.record(lookup.expected.as_ref(), got.as_ref().map(|guard| guard.value()));
        }
        Ok(())
    }

    fn scan(&self) -> Result<ScanTally> {
        let mut tally = ScanTally::default();
        let mut previous = Vec::new();
        let txn = self.db.begin_read().during(NAME, "begin read")?;
        let table = txn.open_table(TABLE).during(NAME, "open table")?;
        for entry in table.iter().during(NAME, "scan")? {
            let (key, value) = entry.during(NAME, "scan")?;
            tally.record(&mut previous, key.value(), value.value());
        }
        Ok(tally)
    }

    /// Every commit is already in the file.
    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn compact(&mut self) -> Result<bool> {
        self.db.compact().during(NAME, "compact")?;
        Ok(true)
    }

    fn checkpoint(&self, _target: &Path, _flush: bool) -> Result<()> {
        Err(no_checkpoint(NAME))
    }
}
