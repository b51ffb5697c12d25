//! RocksDB through the `rocksdb` crate, in two configurations ([`Tuning`]).

use std::path::Path;

use ::rocksdb::checkpoint::Checkpoint;
use ::rocksdb::{BlockBasedOptions, BottommostLevelCompaction, CompactOptions, DB, DBCompressionType, Options};

use super::{Engine, ReadTally, ScanTally};
use crate::data::{Lookup, Pair};
use crate::error::{EngineContext, Result};

/// Bloom filter bits per key of the production configuration.
const BLOOM_BITS_PER_KEY: f64 = 10.0;

/// How RocksDB is configured.
#[derive(Clone, Copy, Debug)]
pub enum Tuning {
    /// LZ4 compression and a block-based table with a full bloom filter;
    /// everything else default.
    Production,
    /// `Options::default()` (compression: Snappy, no bloom filter).
    Defaults,
}

/// An open RocksDB database.
pub struct Rocks {
    db: DB,
    name: &'static str,
}

impl Rocks {
    /// Opens `dir` configured by `tuning`.
    pub fn open(dir: &Path, tuning: Tuning) -> Result<Rocks> {
        let mut options = Options::default();
        options.create_if_missing(true);
        let name = match tuning {
            Tuning::Production => {
                options.set_compression_type(DBCompressionType::Lz4);
                let mut table = BlockBasedOptions::default();
                table.set_bloom_filter(BLOOM_BITS_PER_KEY, false);
                options.set_block_based_table_factory(&table);
                "rocksdb"
            }
            Tuning::Defaults => "rocksdb-default",
        };
        Ok(Rocks { db: DB::open(&options, dir).during(name, "open")?, name })
    }
}

impl Engine for Rocks {
    fn put_chunk(&self, pairs: &[Pair]) -> Result<()> {
        for pair in pairs {
            self.db.put(pair.key, pair.value).during(self.name, "put")?;
        }
        Ok(())
    }

    fn get_chunk(&self, lookups: &[Lookup], tally: &mut ReadTally) -> Result<()> {
        for lookup in lookups {
            let got = self.db.get_pinned(lookup.key).during(self.name, "get")?;
            tally.record(lookup.expected.as_ref(), got.as_deref());
        }
        Ok(())
    }

    fn scan(&self) -> Result<ScanTally> {
        let mut tally = ScanTally::default();
        let mut previous = Vec::new();
        // The raw iterator: no allocation per entry, RocksDB's fastest scan.
        let mut iter = self.db.raw_iterator();
        iter.seek_to_first();
        while let (Some(key), Some(value)) = (iter.key(), iter.value()) {
            tally.record(&mut previous, key, value);
            iter.next();
        }
        iter.status().during(self.name, "scan")?;
        Ok(tally)
    }

    fn flush(&self) -> Result<()> {
        self.db.flush().during(self.name, "flush")
    }

    /// `compact_range` over everything, rewriting the bottommost level too:
    /// with the default options it skips that level (where dynamic level
    /// sizing puts all of this data) and returns at once.
    fn compact(&mut self) -> Result<bool> {
        let mut options = CompactOptions::default();
        options.set_bottommost_level_compaction(BottommostLevelCompaction::Force);
        self.db.compact_range_opt::<&[u8], &[u8]>(None, None, &options);
        Ok(true)
    }

    fn checkpoint(&self, target: &Path, flush: bool) -> Result<()> {
        let checkpoint = Checkpoint::new(&self.db).during(self.name, "checkpoint")?;
        // A log_size_for_flush of 0 always flushes; u64::MAX never does, and
        // the live WAL goes into the checkpoint instead.
        let log_size_for_flush = if flush { 0 } else { u64::MAX };
        checkpoint.create_checkpoint_with_log_size(target, log_size_for_flush).during(self.name, "checkpoint")
    }
}
