//! `checkpoint.svg`: checkpoint time against database size, log-log, a line
//! per engine with a checkpoint API and the two copy baselines.

use std::path::Path;

use plotters::prelude::*;

use super::{Unit, format_value, thousands};
use crate::args::Args;
use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::sample::Samples;

const SIZE_PX: (u32, u32) = (820, 520);

/// A line of the chart: `(keys, ms)` points.
pub struct Series {
    /// Its legend.
    pub label: String,
    /// Its points, by size.
    pub points: Vec<(f64, f64)>,
    /// Its colour.
    pub color: RGBColor,
}

/// The lines: each engine's checkpoint of a flushed database, and
/// `cp -r`/`cp -al` of cairndb's directory (or the first engine's measured).
pub fn series(args: &Args, samples: &Samples) -> Vec<Series> {
    let points = |engine: &str, metric: &str| -> Vec<(f64, f64)> {
        let size_points = args.checkpoint_sizes.iter().filter_map(|&size| {
            let summary = samples.summary(engine, "checkpoint", &format!("{size}.{metric}"))?;
            Some((size as f64, summary.median))
        });
        size_points.collect()
    };
    let mut lines: Vec<Series> = args
        .engines
        .iter()
        .filter(|kind| kind.has_checkpoint())
        .map(|&kind| Series {
            label: format!("{} checkpoint", kind.name()),
            points: points(kind.name(), "idle_ms"),
            color: color(kind),
        })
        .collect();
    if let Some(copied) = args.engines.first() {
        let name = copied.name();
        lines.push(Series {
            label: format!("cp -r + sync ({name} dir)"),
            points: points(name, "cp_r_ms"),
            color: BLACK,
        });
        let grey = RGBColor(140, 140, 140);
        lines.push(Series {
            label: format!("cp -al + sync ({name} dir)"),
            points: points(name, "cp_al_ms"),
            color: grey,
        });
    }
    lines.retain(|s| !s.points.is_empty());
    lines
}

/// Whether `x` is 1, 2 or 5 times a power of ten: the only log-scale ticks
/// labelled, so the labels do not crowd.
fn is_1_2_5(x: f64) -> bool {
    let mantissa = x / 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().any(|m| (mantissa - m).abs() < 1e-6 * m)
}

fn color(kind: EngineKind) -> RGBColor {
    match kind {
        EngineKind::Cairndb => RGBColor(214, 64, 26),
        EngineKind::Rocksdb => RGBColor(31, 100, 200),
        EngineKind::RocksdbDefault => RGBColor(110, 170, 230),
        EngineKind::Fjall => RGBColor(40, 150, 70),
        EngineKind::Redb => RGBColor(150, 60, 160),
    }
}

/// Draws `lines` into an SVG file at `path`.
pub fn write(path: &Path, lines: &[Series]) -> Result<()> {
    draw(path, lines).map_err(|e| Error::Chart { path: path.to_path_buf(), source: e.to_string() })
}

fn draw(path: &Path, lines: &[Series]) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let all = lines.iter().flat_map(|s| s.points.iter());
    let (xs, ys): (Vec<f64>, Vec<f64>) = all.copied().unzip();
    let span = |v: &[f64]| (v.iter().copied().fold(f64::MAX, f64::min), v.iter().copied().fold(f64::MIN, f64::max));
    let ((x_min, x_max), (y_min, y_max)) = (span(&xs), span(&ys));
    let root = SVGBackend::new(path, SIZE_PX).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Checkpoint of a flushed database: time against size", ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d((x_min / 1.5..x_max * 1.5).log_scale(), (y_min / 2.0..y_max * 2.0).log_scale())?;
    chart
        .configure_mesh()
        .bold_line_style(RGBColor(215, 215, 215))
        .light_line_style(WHITE)
        .x_desc("keys in the database (log scale)")
        .y_desc("milliseconds (log scale)")
        .x_label_formatter(&|x| if is_1_2_5(*x) { thousands(*x) } else { String::new() })
        .y_label_formatter(&|y| if is_1_2_5(*y) { format_value(*y, Unit::Millis) } else { String::new() })
        .draw()?;
    for line in lines {
        let color = line.color;
        chart
            .draw_series(LineSeries::new(line.points.clone(), color.stroke_width(2)))?
            .label(line.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(line.points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_1_2_5_ticks_are_labelled() {
        assert!(is_1_2_5(100_000.0) && is_1_2_5(2_000_000.0) && is_1_2_5(0.5) && is_1_2_5(20.0));
        assert!(!is_1_2_5(300_000.0) && !is_1_2_5(7.0));
    }
}
