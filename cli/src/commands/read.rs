//! `cairn get`, `cairn scan` and `cairn count`.

use std::ops::Bound;
use std::process::ExitCode;

use cairndb::{Db, DbIter};
use serde_json::json;

use crate::args::{CountArgs, GetArgs, RangeArgs, ScanArgs};
use crate::commands::open;
use crate::failure::{At as _, Failure};
use crate::notation::Notation;
use crate::output::Out;

/// Prints the value of a key; a missing key is a failure.
pub fn get(args: &GetArgs) -> Result<ExitCode, Failure> {
    let (db_path, notation) = (&args.key.db, args.key.notation.notation());
    let key = args.key.key.decode(notation, "<KEY>")?;
    let db = open::read_only(db_path)?;
    let Some(value) = db.get(&key).at(db_path)? else {
        return Err(Failure::at(db_path, format!("key \"{}\" not found", notation.show(&key))));
    };
    let mut out = Out::new();
    if args.raw {
        out.bytes(&value)?;
    } else {
        out.line(notation.show(&value))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `key<TAB>value` lines (or keys alone) in key order, or descending.
pub fn scan(args: &ScanArgs) -> Result<ExitCode, Failure> {
    let notation = args.notation.notation();
    let span = Span::decode(&args.range, notation)?;
    let db = open::read_only(&args.db)?;
    let limit = usize::try_from(args.limit.unwrap_or(u64::MAX)).unwrap_or(usize::MAX);
    let iter = span.iter(&db);
    let iter: Box<dyn Iterator<Item = _>> = if args.reverse { Box::new(iter.rev()) } else { Box::new(iter) };
    let mut out = Out::new();
    for kv in iter.take(limit) {
        let (key, value) = kv.at(&args.db)?;
        if args.no_value {
            out.line(notation.show(&key))?;
        } else {
            out.line(format_args!("{}\t{}", notation.show(&key), notation.show(&value)))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Prints how many keys the database (or the range) holds.
pub fn count(args: &CountArgs) -> Result<ExitCode, Failure> {
    let span = Span::decode(&args.range, args.notation.notation())?;
    let db = open::read_only(&args.db)?;
    let mut keys = 0u64;
    for kv in span.iter(&db) {
        kv.at(&args.db)?;
        keys += 1;
    }
    let mut out = Out::new();
    if args.json {
        out.json(&json!({"keys": keys}))?;
    } else {
        out.line(keys)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The keys `--prefix`, `--from` and `--to` choose.
enum Span {
    Prefix(Vec<u8>),
    Range(Bound<Vec<u8>>, Bound<Vec<u8>>),
}

impl Span {
    fn decode(args: &RangeArgs, notation: Notation) -> Result<Span, Failure> {
        if let Some(prefix) = &args.prefix {
            return Ok(Span::Prefix(prefix.decode(notation, "--prefix <P>")?));
        }
        let from = args.from.as_ref().map(|k| k.decode(notation, "--from <K>")).transpose()?;
        let to = args.to.as_ref().map(|k| k.decode(notation, "--to <K>")).transpose()?;
        Ok(Span::Range(from.map_or(Bound::Unbounded, Bound::Included), to.map_or(Bound::Unbounded, Bound::Excluded)))
    }

    fn iter(self, db: &Db) -> DbIter {
        match self {
            Span::Prefix(prefix) => db.prefix(prefix),
            Span::Range(from, to) => db.range((from, to)),
        }
    }
}
