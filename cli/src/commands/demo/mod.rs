//! `cairn demo`: the whole idea, on the local disk, in a few seconds.
//!
//! Loads keys with a progress bar while a background writer overwrites and
//! deletes hot keys; a third thread takes a checkpoint when half the keys
//! are in. Then the checkpoint is reopened read-only, verified, checked to
//! hold exactly the writes up to its seqno, and copied the slow way for
//! comparison. Exit status 0 only if every check passed.

mod copy;
mod exact;
mod load;
mod summary;
mod workplace;

use std::path::Path;
use std::process::ExitCode;

use cairndb::Config;
use cairndb::fs::StdFs;
use indicatif::HumanCount;

use crate::args::DemoArgs;
use crate::commands::{open, verify};
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::interrupt;
use crate::output::{Out, bytes, count};
use summary::Summary;
use workplace::Workplace;

/// Memtable budget of the demo database: small enough that the load
/// flushes and compacts several times, as a long-lived database would.
const MEMTABLE_BYTES: u64 = 4 << 20;

/// Runs the demonstration; removes a temporary workplace afterwards, also
/// when interrupted (a kept one is named instead).
pub fn run(args: &DemoArgs) -> Result<ExitCode, Failure> {
    let place = Workplace::prepare(args.dir.as_deref())?;
    let cooperation = interrupt::cooperate();
    let on_interrupt = match place.temporary {
        true => interrupt::remove_on_interrupt(&place.root),
        false => interrupt::say_on_interrupt(format!("what the demo made so far is in {}", escape::path(&place.root))),
    };
    let result = demo_in(&place.root, args);
    let root = place.root.clone();
    let removed = place.finish();
    drop((on_interrupt, cooperation));
    if interrupt::interrupted() {
        return Err(Failure::interrupted(match removed {
            true => format!("removed the workplace {}", escape::path(&root)),
            false => format!("what the demo made so far is in {}", escape::path(&root)),
        }));
    }
    result
}

fn demo_in(root: &Path, args: &DemoArgs) -> Result<ExitCode, Failure> {
    let mut out = Out::new();
    let value_bytes = usize::try_from(args.value_bytes).expect("clap bounds --value-bytes");
    out.line(format_args!(
        "cairn demo: {} keys of {}, a background writer, a checkpoint mid-load",
        HumanCount(args.keys),
        bytes(args.value_bytes)
    ))?;
    out.field("workplace", escape::path(root))?;
    out.flush()?;
    let fs = StdFs::new();
    let db_path = root.join("db");
    let checkpoint_path = root.join("checkpoint");
    let db = Config::new(&db_path).memtable_size_bytes(MEMTABLE_BYTES).open().at(&db_path)?;
    let copy_path = root.join("copy-of-checkpoint");
    let load = load::run(&db, args.keys, value_bytes, [&checkpoint_path, &copy_path])?;
    drop(db);
    // Each check below reads the whole checkpoint: stop between them.
    interrupt::check()?;
    let on_disk = copy::measure(&fs, &db_path).at(&db_path)?;

    let reopened = open::read_only(&checkpoint_path)?;
    interrupt::check()?;
    let verified = verify::check(&checkpoint_path)?;
    interrupt::check()?;
    let exact = exact::check(&reopened, &load)?;
    drop(reopened);

    let summary = Summary { load: &load, on_disk, verified: &verified, exact: &exact };
    summary.print(&mut out)?;
    out.flush()?;
    match summary.failed_checks() {
        0 => Ok(ExitCode::SUCCESS),
        n => Err(Failure::at(root, format!("{} failed (see above)", count(n, "check")))),
    }
}
