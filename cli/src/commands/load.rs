//! `cairn load DB [FILE]`: a dump (`docs/FORMAT.md`, "Dump streams") from
//! a file or stdin into a database, empty unless `--force`.

use std::fs::File;
use std::io::{self, BufReader, IsTerminal as _, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cairndb::dump::{self, DumpReader, LoadInfo};
use cairndb::fs::{StdFs, remove_dir_all};
use serde_json::json;

use crate::args::LoadArgs;
use crate::commands::open;
use crate::escape;
use crate::failure::{At as _, Failure};
use crate::interrupt;
use crate::output::{Out, bytes, ms, rate};
use crate::progress::{self, Unit};

/// How much of the stream is read ahead.
const BUFFER_BYTES: usize = 1 << 20;

/// The dump's header is checked before the database is opened (or
/// created); a database made by `--create` is removed again when the load
/// fails or is interrupted.
pub fn run(args: &LoadArgs) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    let Input { stream, name, len_bytes: total } = input(args)?;
    let reader = DumpReader::new(BufReader::with_capacity(BUFFER_BYTES, stream), &name).at(&name)?;
    let created = args.create && !args.db.exists();
    let db = open::writable(&args.db, args.create)?;
    if !args.force && db.first().at(&args.db)?.is_some() {
        return Err(Failure::at(
            &args.db,
            "holds keys already: load fills an empty database (--force sets the dump's keys over what it holds)",
        ));
    }
    let _cooperation = interrupt::cooperate();
    let on_interrupt = match created {
        true => interrupt::remove_on_interrupt(&args.db),
        false => {
            interrupt::say_on_interrupt(format!("{} holds the part of the dump loaded so far", escape::path(&args.db)))
        }
    };
    let bar = progress::pending(Unit::Bytes, "loading");
    let mut loaded = 0;
    let result = dump::load(&db, reader, &mut |p| {
        progress::advance(&bar, Unit::Bytes, p.bytes, total);
        loaded = p.records;
        match interrupt::interrupted() {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        }
    });
    bar.finish_and_clear();
    drop(db);
    let undo = || match created {
        true => removed(&args.db),
        false => format!("{} holds the first {loaded} records of the dump", escape::path(&args.db)),
    };
    let info = match result {
        Ok(info) if info.complete => info,
        Ok(_) => return Err(Failure::interrupted(undo())),
        Err(e) => return Err(Failure::of(&args.db, &e).and(undo())),
    };
    drop(on_interrupt);
    report(args, &name, created, &info, started.elapsed())
}

/// Where a dump is read from.
struct Input {
    stream: Box<dyn Read>,
    /// Its name in messages: the file, or `<stdin>`.
    name: PathBuf,
    /// Its length, when known (a file).
    len_bytes: Option<u64>,
}

fn input(args: &LoadArgs) -> Result<Input, Failure> {
    match args.file.as_deref().filter(|f| *f != Path::new("-")) {
        None => {
            let stdin = io::stdin();
            if stdin.is_terminal() {
                return Err(Failure::at(
                    &args.db,
                    "stdin is a terminal: pipe a dump in (`cairn dump DB | cairn load DB2`) or name a FILE",
                ));
            }
            Ok(Input { stream: Box::new(stdin), name: PathBuf::from("<stdin>"), len_bytes: None })
        }
        Some(path) => {
            let file =
                File::open(path).map_err(|e| Failure::at(path, format!("cannot open {}: {e}", escape::path(path))))?;
            let len = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
            Ok(Input { stream: Box::new(file), name: path.to_path_buf(), len_bytes: len })
        }
    }
}

fn removed(db: &Path) -> String {
    match remove_dir_all(&StdFs::new(), db) {
        Ok(()) => format!("removed the database {} it created", escape::path(db)),
        Err(e) => format!("could not remove the database {} it created ({e})", escape::path(db)),
    }
}

fn report(args: &LoadArgs, name: &Path, created: bool, info: &LoadInfo, took: Duration) -> Result<ExitCode, Failure> {
    let mut out = Out::new();
    if args.json {
        out.json(&json!({
            "db": escape::path(&args.db),
            "file": args.file.as_deref().filter(|f| *f != Path::new("-")).map(escape::path),
            "created": created,
            "records": info.records,
            "bytes": info.bytes,
            "dump_seqno": info.dump_seqno.get(),
            "seqno": info.seqno.get(),
            "duration_us": u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        }))?;
    } else {
        let keys = indicatif::HumanCount(info.records);
        let into = match created {
            true => format!("the new database {}", escape::path(&args.db)),
            false => escape::path(&args.db),
        };
        out.field("loaded", format_args!("{keys} keys into {into}"))?;
        out.field(
            "from",
            format_args!(
                "{}: {}, a dump at seqno {}, every checksum verified",
                escape::path(name),
                bytes(info.bytes),
                info.dump_seqno
            ),
        )?;
        out.field("seqno", format_args!("{} (durable)", info.seqno))?;
        out.field("took", format_args!("{} ({})", ms(took), rate(info.bytes, took)))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
