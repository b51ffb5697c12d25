//! [`Out`], the tool's standard output, and how numbers read in it.

use std::fmt::Display;
use std::io::{self, BufWriter, StdoutLock, Write as _};
use std::time::Duration;

/// Buffered standard output. Errors (a closed pipe) reach the caller.
pub struct Out {
    w: BufWriter<StdoutLock<'static>>,
}

impl Out {
    /// Standard output.
    pub fn new() -> Out {
        Out { w: BufWriter::new(io::stdout().lock()) }
    }

    /// One line.
    pub fn line(&mut self, text: impl Display) -> io::Result<()> {
        writeln!(self.w, "{text}")
    }

    /// Bytes as they are (`get --raw`).
    pub fn bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.w.write_all(bytes)
    }

    /// A label and a value, aligned.
    pub fn field(&mut self, label: &str, value: impl Display) -> io::Result<()> {
        writeln!(self.w, "{label:<14}{value}")
    }

    /// A JSON document on one line.
    pub fn json(&mut self, value: &impl serde::Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.w, value)?;
        writeln!(self.w)
    }

    /// Writes out everything buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// `1 table`, `2 tables`: a count and its noun.
pub fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// `3 tables, 1 blob file, 0 log segments`.
pub fn files(tables: usize, blob_files: usize, log_segments: usize) -> String {
    format!("{}, {}, {}", count(tables, "table"), count(blob_files, "blob file"), count(log_segments, "log segment"))
}

/// `n` bytes for a person: `1.50 MiB`.
pub fn bytes(n: u64) -> String {
    indicatif::BinaryBytes(n).to_string()
}

/// `n` bytes in `d` as MiB/s.
pub fn rate(bytes: u64, d: Duration) -> String {
    let secs = d.as_secs_f64().max(1e-6);
    format!("{:.1} MiB/s", bytes as f64 / secs / f64::from(1 << 20))
}

/// A duration in milliseconds with three decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DD hh:mm:ss UTC`.
pub fn utc(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest / 60 % 60, rest % 60)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's algorithm).
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_767_225_599_999), "2025-12-31 23:59:59 UTC");
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 20), "3.00 MiB");
        assert_eq!(count(1, "table"), "1 table");
        assert_eq!(count(0, "blob file"), "0 blob files");
    }
}
