//! The command line.

use std::path::PathBuf;

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::workload::Workload;

/// What to run, where, and where the report goes.
#[derive(Clone, Debug)]
pub struct Args {
    /// Keys of the fill, read, scan and update workloads.
    pub keys: u64,
    /// Rounds; each runs every engine once, interleaved.
    pub rounds: usize,
    /// Engines, in report order.
    pub engines: Vec<EngineKind>,
    /// Workloads to run.
    pub workloads: Vec<Workload>,
    /// Where the databases go (one fresh directory each).
    pub dir: PathBuf,
    /// Where `peers.md`, `peers.json` and `checkpoint.svg` go.
    pub out: PathBuf,
    /// Database sizes (keys) of the checkpoint workload.
    pub checkpoint_sizes: Vec<u64>,
    /// Checkpoints per size and case, per round.
    pub checkpoints: usize,
    /// Seconds of each writer run in the throughput workload.
    pub throughput_secs: u64,
    /// Run nothing: draw `peers.md` and `checkpoint.svg` again from this
    /// `peers.json` (into its directory).
    pub replot: Option<PathBuf>,
}

/// The usage text.
pub const USAGE: &str = "\
peers: cairndb side by side with RocksDB, fjall and redb

usage: peers [OPTIONS]

  --keys N               keys of fill/read/scan/update (default 1000000)
  --rounds R             rounds, engines interleaved in each (default 3)
  --engines A,B          of cairndb,rocksdb,rocksdb-default,fjall,redb (default all)
  --workloads A,B        of fill,read,scan,update,checkpoint,throughput (default all;
                         read, scan and update run a fill first)
  --dir DIR              work directory (default /var/tmp/cairn-peers)
  --out DIR              report directory (default docs/benchmarks of the repository)
  --checkpoint-sizes A,B database sizes of the checkpoint workload (default 100000,2000000)
  --checkpoints K        checkpoints per size and case (default 5)
  --throughput-secs S    seconds of each writer run (default 4)
  --replot FILE          run nothing: redraw peers.md and checkpoint.svg from a
                         peers.json, into its directory
";

impl Args {
    /// Parses `args` (without the program name).
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>> {
        let mut parsed = Args {
            keys: 1_000_000,
            rounds: 3,
            engines: EngineKind::ALL.to_vec(),
            workloads: Workload::ALL.to_vec(),
            dir: PathBuf::from("/var/tmp/cairn-peers"),
            out: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/benchmarks")),
            checkpoint_sizes: vec![100_000, 2_000_000],
            checkpoints: 5,
            throughput_secs: 4,
            replot: None,
        };
        while let Some(flag) = args.next() {
            if flag == "--help" || flag == "-h" {
                return Ok(None);
            }
            let value = args.next().ok_or_else(|| Error::Usage(format!("{flag} needs a value")))?;
            match flag.as_str() {
                "--keys" => parsed.keys = number(&flag, &value)?,
                "--rounds" => parsed.rounds = number(&flag, &value)? as usize,
                "--engines" => parsed.engines = list(&value, EngineKind::parse)?,
                "--workloads" => parsed.workloads = list(&value, Workload::parse)?,
                "--dir" => parsed.dir = PathBuf::from(value),
                "--out" => parsed.out = PathBuf::from(value),
                "--checkpoint-sizes" => parsed.checkpoint_sizes = list(&value, |n| number(&flag, n))?,
                "--checkpoints" => parsed.checkpoints = number(&flag, &value)? as usize,
                "--throughput-secs" => parsed.throughput_secs = number(&flag, &value)?,
                "--replot" => parsed.replot = Some(PathBuf::from(value)),
                _ => return Err(Error::Usage(format!("unknown option {flag}"))),
            }
        }
        // Report order stays the canonical one whatever order was asked.
        parsed.engines.sort_by_key(|e| EngineKind::ALL.iter().position(|k| k == e));
        parsed.engines.dedup();
        if parsed.keys < 100 || parsed.rounds == 0 || parsed.checkpoints == 0 || parsed.engines.is_empty() {
            return Err(Error::Usage("--keys must be >= 100; rounds, checkpoints and engines at least 1".into()));
        }
        Ok(Some(parsed))
    }

    /// Whether `workload` is to run.
    pub fn runs(&self, workload: Workload) -> bool {
        self.workloads.contains(&workload)
    }
}

/// A positive number; `_` and `,` may group digits.
fn number(flag: &str, text: &str) -> Result<u64> {
    let digits: String = text.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    match digits.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::Usage(format!("{flag} wants a positive number, not {text:?}"))),
    }
}

/// A comma-separated list, each item parsed by `item`.
fn list<T>(text: &str, item: impl Fn(&str) -> Result<T>) -> Result<Vec<T>> {
    text.split(',').filter(|s| !s.is_empty()).map(item).collect()
}
