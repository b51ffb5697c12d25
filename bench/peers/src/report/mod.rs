//! The report: the rows of each table ([`Row`]), and its three files
//! (markdown, JSON, SVG chart).

pub mod chart;
pub mod json;
pub mod markdown;
pub mod reread;

use crate::args::Args;

/// How a metric's numbers are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Operations per second.
    PerSecond,
    /// Bytes, shown in MB (10^6).
    Bytes,
    /// A plain ratio.
    Ratio,
    /// Milliseconds.
    Millis,
    /// Seconds.
    Seconds,
    /// A count.
    Count,
}

/// One row of a results table: a metric of every engine.
#[derive(Clone, Debug)]
pub struct Row {
    /// The workload in the samples.
    pub workload: &'static str,
    /// The metric in the samples.
    pub metric: String,
    /// What the row shows.
    pub label: String,
    /// How its numbers are shown.
    pub unit: Unit,
    /// Whether a larger number is better.
    pub higher_is_better: bool,
    /// Whether the row has cairndb's ratio to the best peer.
    pub ratio: bool,
    /// Whether the row applies only to engines with a checkpoint API (the
    /// others say so instead of a number).
    pub checkpoint_only: bool,
}

impl Row {
    fn new(workload: &'static str, metric: impl Into<String>, label: impl Into<String>, unit: Unit) -> Row {
        let higher_is_better = matches!(unit, Unit::PerSecond);
        Row {
            workload,
            metric: metric.into(),
            label: label.into(),
            unit,
            higher_is_better,
            ratio: true,
            checkpoint_only: false,
        }
    }

    fn higher_is_better(mut self, higher: bool) -> Row {
        self.higher_is_better = higher;
        self
    }

    fn without_ratio(mut self) -> Row {
        self.ratio = false;
        self
    }

    fn checkpoint_only(mut self) -> Row {
        self.checkpoint_only = true;
        self
    }
}

/// A titled table of rows.
pub struct Table {
    /// Its heading.
    pub title: String,
    /// Its rows.
    pub rows: Vec<Row>,
    /// Whether it also has cairndb's ratio to the best LSM peer.
    pub lsm_ratio: bool,
}

/// The tables of the workloads `args` ran.
pub fn tables(args: &Args) -> Vec<Table> {
    use crate::workload::Workload as W;
    let mut tables = Vec::new();
    let mut add = |title: &str, rows: Vec<Row>, lsm_ratio: bool| {
        tables.push(Table { title: title.to_string(), rows, lsm_ratio });
    };
    let base = [W::Fill, W::Read, W::Scan, W::Update].iter().any(|&w| args.runs(w));
    if base {
        add(
            "fill",
            vec![
                Row::new("fill", "ops_per_s", "ops/s, load and final flush", Unit::PerSecond),
                Row::new("fill", "load_ops_per_s", "ops/s, load alone", Unit::PerSecond),
            ],
            false,
        );
    }
    if args.runs(W::Read) {
        add(
            "read",
            vec![
                Row::new("read", "hit_ops_per_s", "random point reads, all present, ops/s", Unit::PerSecond),
                Row::new("read", "miss10_ops_per_s", "random point reads, 10% absent, ops/s", Unit::PerSecond),
            ],
            true,
        );
    }
    if args.runs(W::Scan) {
        add("scan", vec![Row::new("scan", "keys_per_s", "full ordered scan, keys/s", Unit::PerSecond)], false);
    }
    if args.runs(W::Update) {
        add(
            "update",
            vec![
                Row::new("update", "uniform_ops_per_s", "uniform random overwrites, ops/s", Unit::PerSecond),
                Row::new("update", "hot_ops_per_s", "overwrites of a hot 1% of keys, ops/s", Unit::PerSecond),
            ],
            false,
        );
    }
    if base {
        add("space on disk", space_rows(args), false);
    }
    if args.runs(W::Checkpoint) {
        for &size in &args.checkpoint_sizes {
            add(&format!("checkpoint, {} keys", thousands(size as f64)), checkpoint_rows(size), false);
        }
    }
    if args.runs(W::Throughput) {
        let secs = args.throughput_secs;
        let row = |metric: &str, label: &str, unit: Unit| Row::new("throughput", metric, label, unit).checkpoint_only();
        add(
            "writes while a checkpoint is taken every second",
            vec![
                row("without_ops_per_s", &format!("puts/s without checkpoints ({secs} s runs)"), Unit::PerSecond),
                row("with_ops_per_s", "puts/s with a checkpoint (flush on) every second", Unit::PerSecond),
                row("ratio", "&nbsp;&nbsp;÷ without", Unit::Ratio).higher_is_better(true),
                row("checkpoint_ms", "&nbsp;&nbsp;checkpoint under load, ms (median)", Unit::Millis),
                row("checkpoints", "&nbsp;&nbsp;checkpoints taken in the two runs", Unit::Count).without_ratio(),
                row("with_noflush_ops_per_s", "puts/s with a checkpoint (flush off) every second", Unit::PerSecond),
                row("ratio_noflush", "&nbsp;&nbsp;÷ without", Unit::Ratio).higher_is_better(true),
                row("checkpoint_noflush_ms", "&nbsp;&nbsp;checkpoint under load, ms (median)", Unit::Millis),
                row("checkpoints_noflush", "&nbsp;&nbsp;checkpoints taken in the two runs", Unit::Count)
                    .without_ratio(),
            ],
            false,
        );
    }
    tables
}

fn space_rows(args: &Args) -> Vec<Row> {
    let mut points = vec![("after_fill", "after the fill (flushed, settled)")];
    if args.runs(crate::workload::Workload::Update) {
        points.push(("after_updates", "after the 2 N overwrites (flushed, settled)"));
        points.push(("after_compaction", "after a full compaction"));
    }
    let mut rows = Vec::new();
    for (when, label) in points {
        if when == "after_compaction" {
            rows.push(Row::new("space", "compaction_s", "full compaction, s", Unit::Seconds));
        }
        rows.extend([
            Row::new("space", format!("bytes_{when}"), format!("{label}: MB, file sizes"), Unit::Bytes),
            Row::new("space", format!("allocated_{when}"), "&nbsp;&nbsp;MB allocated (du)", Unit::Bytes),
            Row::new("space", format!("amp_{when}"), "&nbsp;&nbsp;space amplification, file sizes", Unit::Ratio),
            Row::new(
                "space",
                format!("amp_allocated_{when}"),
                "&nbsp;&nbsp;space amplification, allocated",
                Unit::Ratio,
            ),
        ]);
    }
    rows
}

fn checkpoint_rows(size: u64) -> Vec<Row> {
    let row = |metric: &str, label: &str| Row::new("checkpoint", format!("{size}.{metric}"), label, Unit::Millis);
    vec![
        Row::new("checkpoint", format!("{size}.bytes"), "database directory, MB", Unit::Bytes).without_ratio(),
        row("idle_ms", "checkpoint of the flushed database, ms").checkpoint_only(),
        row("idle_open_read_ms", "&nbsp;&nbsp;open it and read 1,000 keys, ms").checkpoint_only(),
        row("fresh_flush_ms", "checkpoint after 1,000 fresh writes, flush on, ms").checkpoint_only(),
        row("fresh_flush_open_read_ms", "&nbsp;&nbsp;open it and read 1,000 keys, ms").checkpoint_only(),
        row("fresh_noflush_ms", "checkpoint after 1,000 fresh writes, flush off, ms").checkpoint_only(),
        row("fresh_noflush_open_read_ms", "&nbsp;&nbsp;open it (replaying the log) and read 1,000 keys, ms")
            .checkpoint_only(),
        row("cp_r_ms", "`cp -r` + `sync` of the closed directory, ms").without_ratio(),
        row("cp_al_ms", "`cp -al` + `sync` of the closed directory, ms").without_ratio(),
    ]
}

/// `n` rounded, with `,` between thousands.
pub fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 { format!("-{out}") } else { out }
}

/// `n` in `unit`, to a sensible precision.
pub fn format_value(n: f64, unit: Unit) -> String {
    match unit {
        Unit::PerSecond => thousands(n),
        Unit::Bytes => format!("{:.1}", n / 1e6),
        Unit::Ratio => format!("{n:.2}"),
        Unit::Millis | Unit::Seconds => significant(n),
        Unit::Count => thousands(n),
    }
}

/// Three significant digits, at most two decimals past them.
fn significant(n: f64) -> String {
    match n.abs() {
        x if x >= 100.0 => thousands(n),
        x if x >= 10.0 => format!("{n:.1}"),
        x if x >= 1.0 => format!("{n:.2}"),
        _ => format!("{n:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(format_value(116e6, Unit::Bytes), "116.0");
        assert_eq!(format_value(6.25, Unit::Millis), "6.25");
        assert_eq!(format_value(523.4, Unit::Millis), "523");
    }
}
