//! The demo's closing report, in lines that fit a terminal.

use std::time::Duration;

use cairndb::checkpoint::VerifyReport;
use indicatif::HumanCount;

use super::copy::Size;
use super::exact::Exactness;
use super::load::{HOT_KEYS, Load};
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
        let secs = load.load_time.as_secs_f64();
        let rate = HumanCount((keys as f64 / secs.max(1e-9)) as u64);
        out.field("loaded", format_args!("{} keys in {secs:.2} s ({rate} keys/s)", HumanCount(keys)))?;
        let background = HumanCount(load.background_seqnos.len() as u64);
        out.field("meanwhile", format_args!("{background} overwrites and deletes of {HOT_KEYS} hot keys"))?;
        out.field("on disk", format_args!("{} in {} files", bytes(self.on_disk.bytes), self.on_disk.files))
    }

    fn print_checkpoint(&self, out: &mut Out) -> std::io::Result<()> {
        let (load, info) = (self.load, &self.load.checkpoint);
        let (at, of) = (HumanCount(load.checkpoint_started_at_key), HumanCount(load.loader_seqnos.len() as u64));
        out.field("checkpoint", format_args!("called at key {at} of {of}, both writers running"))?;
        let cut = HumanCount(load.keys_in_checkpoint());
        out.field("", format_args!("its cut fell at key {cut}: seqno {}", HumanCount(info.seqno.get())))?;
        out.field(
            "",
            format_args!(
                "{}: {}",
                files(info.table_files, info.blob_files, info.log_segments),
                bytes(info.bytes_total)
            ),
        )?;
        out.field("", format_args!("{}, {} copied", checkpoint::how(info), bytes(info.bytes_copied)))?;
        out.field("", "no flush: the memtable came along as its log, frozen and linked, and replays on open")?;
        out.field("", format_args!("took {}", ms(info.duration)))?;
        out.field(
            "plain copy",
            format_args!("the same files, copied and fsynced under the same load: {}", ms(load.copy_time)),
        )?;
        out.field("", compared(info.duration, load.copy_time))
    }

    fn print_checks(&self, out: &mut Out) -> std::io::Result<()> {
        let read = HumanCount(self.exact.keys_read);
        out.field("reopened", format_args!("read-only, as a database; read back all {read} keys: ok"))?;
        let v = self.verified;
        let verdict =
            if v.is_ok() { "ok".to_owned() } else { format!("DAMAGED ({})", count(v.problems.len(), "problem")) };
        out.field("verified", format_args!("every checksum, {}: {verdict}", verify::checked(v)))?;
        let e = self.exact;
        out.field(
            "exact",
            format_args!(
                "all {} writes up to seqno {} and none of the {} after: {}",
                HumanCount(e.writes_up_to),
                HumanCount(e.seqno.get()),
                HumanCount(e.writes_after),
                exact_verdict(e)
            ),
        )?;
        match self.failed_checks() {
            0 => out.field("result", "every check passed"),
            n => out.field("result", format_args!("{} FAILED", count(n, "check"))),
        }
    }
}

fn exact_verdict(e: &Exactness) -> String {
    match &e.first_wrong {
        None => "ok".to_owned(),
        Some(first) => format!("WRONG: {} differ, first {first}", count(e.wrong as usize, "key")),
    }
}

/// The copy's time against the checkpoint's, both taken under the same load.
fn compared(checkpoint: Duration, copy: Duration) -> String {
    let ratio = copy.as_secs_f64() / checkpoint.as_secs_f64().max(1e-9);
    if ratio >= 1.0 {
        format!("{ratio:.1}x the checkpoint's time; a copy grows with the data, links do not")
    } else {
        format!("the copy was {:.1}x faster at this size; a copy grows with the data, links do not", 1.0 / ratio)
    }
}
