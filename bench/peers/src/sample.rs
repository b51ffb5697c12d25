//! Measurements: every round's raw numbers ([`Samples`]), the
//! [`Recorder`] workloads write them through, and their [`Summary`].

/// One number measured in one round.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The round (from 1).
    pub round: usize,
    /// The engine measured.
    pub engine: String,
    /// The workload it belongs to.
    pub workload: String,
    /// What was measured, e.g. `ops_per_s` or `2000000.idle_ms`.
    pub metric: String,
    /// The number.
    pub value: f64,
}

/// Every sample of a run, and every wrong answer an engine gave.
#[derive(Debug, Default)]
pub struct Samples {
    /// In the order measured.
    pub list: Vec<Sample>,
    /// Wrong answers (value mismatches, wrong counts), one line each.
    pub failures: Vec<String>,
}

impl Samples {
    /// The values of `engine`'s `workload`/`metric`, one per round measured.
    pub fn values(&self, engine: &str, workload: &str, metric: &str) -> Vec<f64> {
        self.list
            .iter()
            .filter(|s| s.engine == engine && s.workload == workload && s.metric == metric)
            .map(|s| s.value)
            .collect()
    }

    /// The summary of [`values`](Samples::values), if any.
    pub fn summary(&self, engine: &str, workload: &str, metric: &str) -> Option<Summary> {
        Summary::of(&self.values(engine, workload, metric))
    }
}

/// Median and spread of a metric's values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// The median (the mean of the middle two for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// How many values.
    pub count: usize,
}

impl Summary {
    /// The summary of `values`; `None` if empty.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Summary { median, min: sorted[0], max: sorted[n - 1], count: n })
    }
}

/// The median of `values` (0 if empty).
pub fn median(values: &[f64]) -> f64 {
    Summary::of(values).map_or(0.0, |s| s.median)
}

/// Records one engine's samples in one round, and reports them on stderr.
pub struct Recorder<'a> {
    samples: &'a mut Samples,
    round: usize,
    engine: &'static str,
}

impl<'a> Recorder<'a> {
    /// A recorder of `engine` in `round`.
    pub fn new(samples: &'a mut Samples, round: usize, engine: &'static str) -> Recorder<'a> {
        Recorder { samples, round, engine }
    }

    /// Records `value` as `workload`/`metric`.
    pub fn record(&mut self, workload: &'static str, metric: impl Into<String>, value: f64) {
        let metric = metric.into();
        eprintln!("  round {} {:<15} {workload:<10} {metric:<28} {value:>14.3}", self.round, self.engine);
        let (engine, workload) = (self.engine.to_string(), workload.to_string());
        self.samples.list.push(Sample { round: self.round, engine, workload, metric, value });
    }

    /// Records a wrong answer; the run goes on and exits with failure.
    pub fn fail(&mut self, workload: &'static str, what: impl Into<String>) {
        let line = format!("round {}, {}, {workload}: {}", self.round, self.engine, what.into());
        eprintln!("  WRONG: {line}");
        self.samples.failures.push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_takes_the_middle_and_the_ends() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[3.0, 1.0, 2.0]), Some(Summary { median: 2.0, min: 1.0, max: 3.0, count: 3 }));
        assert_eq!(Summary::of(&[4.0, 1.0]).map(|s| s.median), Some(2.5));
    }
}
