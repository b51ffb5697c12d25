//! The demo's closing report.

use std::time::Duration;

use cairndb::checkpoint::VerifyReport;
use indicatif::HumanCount;

use super::copy::Size;
use super::exact::Exactness;
use super::load::Load;
use crate::commands::{checkpoint, verify};
use crate::output::{Out, bytes, count, files, ms};

/// Everything the demo measured and checked.
pub struct Summary<'a> {
    /// The load and the checkpoint taken during it.
    pub load: &'a Load,
    /// The source database after the load.
    pub on_disk: Size,
    /// Verification of the checkpoint.
    pub verified: &'a VerifyReport,
    /// Exactness of the checkpoint.
    pub exact: &'a Exactness,
}

impl Summary<'_> {
    /// Checks that did not pass.
    pub fn failed_checks(&self) -> usize {
        usize::from(!self.verified.is_ok()) + usize::from(!self.exact.is_ok())
    }

    /// Prints the report.
    pub fn print(&self, out: &mut Out) -> std::io::Result<()> {
        self.print_load(out)?;
        self.print_checkpoint(out)?;
        self.print_checks(out)
    }

    fn print_load(&self, out: &mut Out) -> std::io::Result<()> {
        let load = self.load;
        let keys = load.loader_seqnos.len() as u64;
        let rate = keys as f64 / load.load_time.as_secs_f64().max(1e-9);
        out.field(
            "loaded",
            format_args!(
                "{} keys in {:.2} s ({} keys/s), and {} background overwrites and deletes of {} hot keys",
                HumanCount(keys),
                load.load_time.as_secs_f64(),
                HumanCount(rate as u64),
                HumanCount(load.background_seqnos.len() as u64),
                super::load::HOT_KEYS
            ),
        )?;
        out.field("on disk", format_args!("{} in {} files", bytes(self.on_disk.bytes), self.on_disk.files))
    }

    fn print_checkpoint(&self, out: &mut Out) -> std::io::Result<()> {
        let info = &self.load.checkpoint;
        out.field(
            "checkpoint",
            format_args!(
                "taken at key {} of {} with both writers running: seqno {}",
                HumanCount(self.load.checkpoint_started_at_key),
                HumanCount(self.load.loader_seqnos.len() as u64),
                HumanCount(info.seqno.get())
            ),
        )?;
        out.field(
            "",
            format_args!(
                "{}; {}",
                files(info.table_files, info.blob_files, info.log_segments),
                bytes(info.bytes_total)
            ),
        )?;
        out.field(
            "",
            format_args!("took {}: {} ({} copied)", ms(info.duration), checkpoint::how(info), bytes(info.bytes_copied)),
        )?;
        out.field("copying it", copy_comparison(info.duration, self.load.copy_time))
    }

    fn print_checks(&self, out: &mut Out) -> std::io::Result<()> {
        out.field("reopened", "read-only, as a database: ok")?;
        let verified = if self.verified.is_ok() {
            "ok".to_owned()
        } else {
            format!("DAMAGED ({})", count(self.verified.problems.len(), "problem"))
        };
        out.field("verified", format_args!("every checksum of {}: {verified}", verify::checked(self.verified)))?;
        let e = self.exact;
        let result = match &e.first_wrong {
            None => "ok".to_owned(),
            Some(first) => format!("WRONG: {} keys differ, first {first}", HumanCount(e.wrong)),
        };
        out.field(
            "exact",
            format_args!(
                "holds the {} writes up to seqno {} ({} keys read) and none of the {} after: {result}",
                HumanCount(e.writes_up_to),
                HumanCount(e.seqno.get()),
                HumanCount(e.keys_read),
                HumanCount(e.writes_after)
            ),
        )?;
        match self.failed_checks() {
            0 => out.field("result", "every check passed"),
            n => out.field("result", format_args!("{n} checks FAILED")),
        }
    }
}

/// The copy's time against the checkpoint's, both taken under the same load.
fn copy_comparison(checkpoint: Duration, copy: Duration) -> String {
    let ratio = copy.as_secs_f64() / checkpoint.as_secs_f64().max(1e-9);
    let compared = if ratio >= 1.0 {
        format!("{ratio:.1}x the checkpoint's time")
    } else {
        format!("{:.1}x faster than the checkpoint at this size", 1.0 / ratio)
    };
    format!("the same files copied one by one with fsync, writers still running: {} ({compared})", ms(copy))
}
