//! `peers.md`: the machine, the method, and a table per workload.

use std::fmt::Write as _;

use super::{Row, Table, format_value, tables};
use crate::args::Args;
use crate::engine::EngineKind;
use crate::meta::Meta;
use crate::sample::{Samples, Summary};

/// The whole report.
pub fn render(args: &Args, meta: &Meta, samples: &Samples, elapsed_s: f64) -> String {
    let mut out = String::new();
    header(&mut out, args, meta, elapsed_s);
    out.push_str(&method(args));
    out.push_str("\n## Results\n\n");
    out.push_str(
        "Each cell: the median of the rounds, and (min–max) over them. The last column divides cairndb's \
         median by the best peer's (named): above 1 means cairndb's number is larger, which is better for \
         rates and worse for times and sizes.\n",
    );
    for table in tables(args) {
        render_table(&mut out, args, samples, &table);
        if table.title.starts_with("checkpoint, ") {
            checkpoint_summary(&mut out, samples, &table);
        }
        if table.title == "space on disk" {
            space_detail(&mut out, args, samples);
        }
    }
    if args.runs(crate::workload::Workload::Checkpoint) {
        out.push_str("\n![checkpoint time against database size](checkpoint.svg)\n");
    }
    checks(&mut out, samples);
    out
}

fn header(out: &mut String, args: &Args, meta: &Meta, elapsed_s: f64) {
    let _ = writeln!(out, "# cairndb and its peers\n");
    let _ = writeln!(
        out,
        "Measured {} in {:.1} minutes by `bench/peers` (cairndb {}), with\n\n```sh\n{}\n```\n",
        meta.started,
        elapsed_s / 60.0,
        meta.cairndb_commit,
        meta.command
    );
    let _ = writeln!(out, "| machine | |\n|---|---|");
    let _ = writeln!(out, "| CPUs | {} × {} |", meta.cpus, meta.cpu_model);
    let _ = writeln!(out, "| memory | {} |", meta.memory);
    let _ = writeln!(out, "| work directory | `{}`: {} |", args.dir.display(), meta.file_system);
    let _ = writeln!(out, "| kernel | {} |", meta.kernel);
    let versions: Vec<String> = meta.versions.iter().map(|(n, v)| format!("{n} {v}")).collect();
    let _ = writeln!(out, "| crates | {} |\n", versions.join(", "));
}

fn method(args: &Args) -> String {
    format!(
        "## How it was measured

- **Data.** Keys are 16 bytes derived from a hash of their index (random-looking, spread over the key \
space); values are 100 bytes derived from the index and a version (every overwrite writes different \
bytes): 50 random bytes repeated once, so a value compresses to about half, like db_bench's default. \
The logical size of N entries is N × 116 B.
- **Rounds.** {rounds} rounds; in each, every engine runs every workload once, in a fresh directory \
under the same work directory, the engines one after another in an order that rotates by round. The \
databases of fill, read, scan and update have N = {keys} keys; the workloads run in that order on one \
database per engine (reads and the scan see it as the fill left it, after its flush and a 2 s pause).
- **Durability.** No fsync per write for the LSM engines, each losing at most a recent suffix of \
writes in a power cut. RocksDB's default writes each write to its WAL file (to the OS) before it \
returns, so a killed process loses none; cairndb runs in that class, `SyncMode::OsBuffered` (its \
default, `Background`, keeps writes in the process until the persist every 100 ms: cheaper, and a \
killed process loses up to 100 ms of them). fjall runs with its defaults. redb has no mode \
without an fsync per commit by default (its default `Durability::Immediate` fsyncs every commit), so it commits \
1,000 writes per write transaction and reads 1,000 keys per read transaction. Per-key commits with an \
fsync each would measure the disk's fsync rate, not redb, so that would not be a fair comparison; with \
1,000 per commit its fsync cost is spread thin, but it still pays one every 1,000 writes where the \
others pay none, and its batching is a help the LSM engines do not get (they do one put per key).
- **Engines.** `cairndb`: `Config::new(dir).sync(SyncMode::OsBuffered).open()`. `rocksdb`: the \
`rocksdb` crate with LZ4 compression and a block-based table with a 10 bits/key full bloom filter, \
everything else default. \
`rocksdb-default`: `Options::default()` (Snappy compression, no bloom filter). `fjall`: defaults, one \
keyspace. `redb`: defaults, one table. Their default caches differ and were left so: cairndb's block cache is \
64 MiB, RocksDB's 32 MiB (the internal one it makes when none is set), fjall's 32 MiB, redb's 1 GiB \
(which holds all of redb's file here). Reads use each engine's cheapest read call (RocksDB's \
`get_pinned` and raw iterator; cairndb returns owned `Vec`s). Flush: cairndb `flush()`, RocksDB \
`flush()`, fjall `persist(SyncAll)` and then its doc-hidden `rotate_memtable_and_wait()` (it has no \
public memtable flush), redb none (commits are in the file). Full compaction: cairndb `compact()`, \
RocksDB `compact_range_opt(None, None)` with `BottommostLevelCompaction::Force` (with default options \
`compact_range(None, None)` returned in about 30 µs in a first run: dynamic level sizing had put all \
the data in the last level, which it does not rewrite by default), fjall's doc-hidden `major_compact()`, \
redb `compact()`. Each is timed to its return, then the directory measured after a 2 s pause.
- **Checkpoints.** For each size a fresh database is filled in random order and flushed, then `sync` \
and a 2 s pause; {checkpoints} checkpoints per case, each into a new directory on the same file system, \
timed around the call (cairndb `checkpoint_with`, RocksDB `Checkpoint::create_checkpoint_with_log_size` \
with 0 to flush, `u64::MAX` not to). Each checkpoint is then opened as a database and 1,000 keys read \
and checked (with the last fresh write). The baselines copy the closed directory (a live one races with \
the engine's deletions and appends), each followed by `sync`. `cp -al` is no real copy: a hard-linked \
file that the engine later changes in place (redb's file, a WAL, fjall's journal) changes in the \
\"copy\" too; it is shown as the floor of what linking costs.
- **Throughput.** A fresh database per engine and round, one writer thread putting new keys at full \
speed (one put per key), in {secs} s runs: two alone, two with a checkpoint every second that flushes, \
two with one every second that does not (the memtable goes along as log), in a symmetric order that \
reverses every round; the ratios divide the mean rate of each mode's two runs by the mean of the two \
runs alone. A run ends at its time or when the checkpoint under way returns, whichever is later.
- **Space.** The sum of file sizes under the database directory, as asked of every engine, and the \
blocks allocated to them (`du`): a file preallocated or sparse counts at its length in the first and \
at what it holds in the second.
- **Caveats.** Everything runs warm in the page cache (the data is far smaller than memory; no caches \
are dropped), so reads measure CPU and cache paths, not the disk. The machine is a shared virtual \
machine: other jobs may run beside the benchmark, so compare numbers of one run, and take the spread \
seriously. Background work (compactions) of an engine may still run while the next workload starts.
",
        rounds = args.rounds,
        keys = super::thousands(args.keys as f64),
        checkpoints = args.checkpoints,
        secs = args.throughput_secs,
    )
}

fn render_table(out: &mut String, args: &Args, samples: &Samples, table: &Table) {
    let _ = write!(out, "\n### {}\n\n| |", table.title);
    for kind in &args.engines {
        let _ = write!(out, " {} |", kind.name());
    }
    out.push_str(" cairndb ÷ best peer |");
    if table.lsm_ratio {
        out.push_str(" cairndb ÷ best LSM peer |");
    }
    out.push_str("\n|---|");
    for _ in 0..args.engines.len() + 1 + usize::from(table.lsm_ratio) {
        out.push_str("---:|");
    }
    out.push('\n');
    for row in &table.rows {
        let _ = write!(out, "| {} |", row.label);
        for &kind in &args.engines {
            let _ = write!(out, " {} |", cell(samples, row, kind));
        }
        let _ = write!(out, " {} |", ratio(args, samples, row, |_| true));
        if table.lsm_ratio {
            let _ = write!(out, " {} |", ratio(args, samples, row, EngineKind::is_lsm));
        }
        out.push('\n');
    }
}

fn cell(samples: &Samples, row: &Row, kind: EngineKind) -> String {
    if row.checkpoint_only && !kind.has_checkpoint() {
        return "no checkpoint API".to_string();
    }
    match samples.summary(kind.name(), row.workload, &row.metric) {
        None => "—".to_string(),
        Some(s) if s.count == 1 || format_value(s.min, row.unit) == format_value(s.max, row.unit) => {
            format_value(s.median, row.unit)
        }
        Some(s) => format!(
            "{} ({}–{})",
            format_value(s.median, row.unit),
            format_value(s.min, row.unit),
            format_value(s.max, row.unit)
        ),
    }
}

/// cairndb's median divided by the best median among the peers `peer` admits.
fn ratio(args: &Args, samples: &Samples, row: &Row, peer: fn(EngineKind) -> bool) -> String {
    let summary = |kind: EngineKind| samples.summary(kind.name(), row.workload, &row.metric);
    let Some(ours) = summary(EngineKind::Cairndb).filter(|_| row.ratio) else { return "—".to_string() };
    let peers = args.engines.iter().filter(|&&k| k != EngineKind::Cairndb && peer(k));
    let best = peers.filter_map(|&k| summary(k).map(|s| (k, s.median))).reduce(|a, b| {
        let b_better = if row.higher_is_better { b.1 > a.1 } else { b.1 < a.1 };
        if b_better { b } else { a }
    });
    match best {
        Some((kind, theirs)) if theirs > 0.0 => format!("{:.2} ({})", ours.median / theirs, kind.name()),
        _ => "—".to_string(),
    }
}

/// cairndb's idle checkpoint against copying its own directory.
fn checkpoint_summary(out: &mut String, samples: &Samples, table: &Table) {
    let find = |suffix: &str| {
        let row = table.rows.iter().find(|r| r.metric.ends_with(suffix))?;
        samples.summary("cairndb", row.workload, &row.metric)
    };
    if let (Some(Summary { median: checkpoint, .. }), Some(Summary { median: copy, .. })) =
        (find(".idle_ms"), find(".cp_r_ms"))
    {
        let _ = writeln!(
            out,
            "\ncairndb's checkpoint of the flushed database took {} ms against {} ms for `cp -r` + `sync` of its \
             closed directory: {:.0}× less.",
            format_value(checkpoint, super::Unit::Millis),
            format_value(copy, super::Unit::Millis),
            copy / checkpoint
        );
    }
}

/// The largest groups of files of each engine after the fill and after
/// the compaction: where the space goes.
fn space_detail(out: &mut String, args: &Args, samples: &Samples) {
    const GROUPS_SHOWN: usize = 4;
    out.push_str("\nWhere the bytes were (file sizes, medians, MB; the largest groups of files):\n\n");
    for when in ["after_fill", "after_compaction"] {
        for &kind in &args.engines {
            let prefix = format!("{when}.");
            let mut groups: Vec<&str> = samples
                .list
                .iter()
                .filter(|s| s.engine == kind.name() && s.workload == "space_detail")
                .filter_map(|s| s.metric.strip_prefix(&prefix))
                .collect();
            groups.sort_unstable();
            groups.dedup();
            let mut sized: Vec<(&str, f64)> = groups
                .into_iter()
                .filter_map(|g| {
                    Some((g, samples.summary(kind.name(), "space_detail", &format!("{prefix}{g}"))?.median))
                })
                .collect();
            if sized.is_empty() {
                continue;
            }
            sized.sort_by(|a, b| b.1.total_cmp(&a.1));
            let shown: Vec<String> = sized
                .iter()
                .take(GROUPS_SHOWN)
                .map(|(g, bytes)| format!("`{g}` {}", format_value(*bytes, super::Unit::Bytes)))
                .collect();
            let when = when.replace('_', " ");
            let _ = writeln!(out, "- {} {when}: {}", kind.name(), shown.join(", "));
        }
    }
}

fn checks(out: &mut String, samples: &Samples) {
    out.push_str("\n## Checks\n\n");
    if samples.failures.is_empty() {
        out.push_str(
            "Every read returned the expected value (or none for an absent key), every scan the expected \
             number of keys in order, and every opened checkpoint the expected keys, its last fresh write \
             included.\n",
        );
    } else {
        out.push_str("Wrong answers (each makes the run exit with failure):\n\n");
        for failure in &samples.failures {
            let _ = writeln!(out, "- {failure}");
        }
    }
}
