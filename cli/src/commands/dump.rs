//! `cairn dump DB [FILE]`: every live key and value of a database or
//! checkpoint, exact at one seqno, as a dump stream (`docs/FORMAT.md`,
//! "Dump streams") into a new file or onto stdout.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal as _};
use std::ops::ControlFlow;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cairndb::Snapshot;
use cairndb::dump::{self, DumpInfo};
use cairndb::fs::{Fs as _, StdFs};
use serde_json::json;

use crate::args::DumpArgs;
use crate::commands::open;
use crate::escape;
use crate::failure::Failure;
use crate::interrupt;
use crate::output::{Out, bytes, ms, rate};
use crate::progress::{self, Unit};

/// How much of the stream is buffered before a write.
const BUFFER_BYTES: usize = 1 << 20;

/// Dumps a read-only snapshot of the database.
pub fn run(args: &DumpArgs) -> Result<ExitCode, Failure> {
    let db = open::read_only(&args.db)?;
    let snapshot = db.snapshot();
    match args.file.as_deref().filter(|f| *f != Path::new("-")) {
        None => to_stdout(&args.db, &snapshot),
        Some(file) => to_file(args, &snapshot, file),
    }
}

/// No bar: stdout holds data, not text (`cairn dump DB FILE` draws one).
fn to_stdout(db: &Path, snapshot: &Snapshot) -> Result<ExitCode, Failure> {
    let stdout = io::stdout();
    if stdout.is_terminal() {
        return Err(Failure::at(db, "stdout is a terminal: redirect it (`cairn dump DB > FILE`) or name a FILE"));
    }
    let out = BufWriter::with_capacity(BUFFER_BYTES, stdout.lock());
    match dump::dump(snapshot, out, "<stdout>", &mut |_| ControlFlow::Continue(())) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        // Its reader stopped reading (`cairn dump DB | head -c 100`): stop without a word, as `scan` does.
        Err(e) if e.io_kind() == Some(io::ErrorKind::BrokenPipe) => {
            Err(io::Error::from(io::ErrorKind::BrokenPipe).into())
        }
        Err(e) => Err(Failure::of(db, &e)),
    }
}

/// Writes into the new file `path`, synced when done; removes it when
/// the dump fails or is interrupted, so no file holds a dump without its
/// trailer.
fn to_file(args: &DumpArgs, snapshot: &Snapshot, path: &Path) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    let file = create(path)?;
    let _cooperation = interrupt::cooperate();
    let removal = interrupt::remove_on_interrupt(path);
    let bar = progress::pending(Unit::Bytes, "dumping");
    let result = dump::dump(snapshot, BufWriter::with_capacity(BUFFER_BYTES, &file), path, &mut |p| {
        progress::advance(&bar, Unit::Bytes, p.bytes, None);
        match interrupt::interrupted() {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        }
    });
    bar.finish_and_clear();
    let result = result.and_then(|info| sync(&file, path).map(|()| info));
    drop(file);
    let removed = || match std::fs::remove_file(path) {
        Ok(()) => format!("removed the unfinished dump {}", escape::path(path)),
        Err(e) => format!("could not remove the unfinished dump {} ({e})", escape::path(path)),
    };
    let info = match result {
        Ok(info) if info.complete => info,
        Ok(_) => return Err(Failure::interrupted(removed())),
        Err(e) => return Err(Failure::of(&args.db, &e).and(removed())),
    };
    drop(removal);
    report(args, path, &info, started.elapsed())
}

fn create(path: &Path) -> Result<File, Failure> {
    OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => Failure::at(path, "already exists: a dump goes into a new file"),
        _ => Failure::at(path, format!("cannot create {}: {e}", escape::path(path))),
    })
}

/// Makes the file and its name durable.
fn sync(file: &File, path: &Path) -> cairndb::Result<()> {
    file.sync_all().map_err(|e| cairndb::Error::io("fsync", path, e))?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    StdFs::new().sync_directory(parent)
}

fn report(args: &DumpArgs, path: &Path, info: &DumpInfo, took: Duration) -> Result<ExitCode, Failure> {
    let mut out = Out::new();
    if args.json {
        out.json(&json!({
            "db": escape::path(&args.db),
            "file": escape::path(path),
            "seqno": info.seqno.get(),
            "records": info.records,
            "bytes": info.bytes,
            "duration_us": u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        }))?;
    } else {
        let keys = indicatif::HumanCount(info.records);
        out.field("dumped", format_args!("{keys} keys of {} at seqno {}", escape::path(&args.db), info.seqno))?;
        out.field("into", format_args!("{}: {}, checksummed", escape::path(path), bytes(info.bytes)))?;
        out.field("took", format_args!("{} ({})", ms(took), rate(info.bytes, took)))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
