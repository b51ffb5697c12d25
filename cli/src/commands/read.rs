//! `cairn get` and `cairn scan`.

use std::process::ExitCode;

use crate::args::{GetArgs, ScanArgs};
use crate::commands::open;
use crate::escape::show;
use crate::failure::{At as _, Failure};
use crate::output::Out;

/// Prints the value of a key; a missing key is a failure.
pub fn get(args: &GetArgs) -> Result<ExitCode, Failure> {
    let db = open::read_only(&args.db)?;
    let Some(value) = db.get(&args.key.0).at(&args.db)? else {
        return Err(Failure::at(&args.db, format!("key \"{}\" not found", show(&args.key.0))));
    };
    let mut out = Out::new();
    out.line(show(&value))?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `key<TAB>value` lines in key order.
pub fn scan(args: &ScanArgs) -> Result<ExitCode, Failure> {
    let db = open::read_only(&args.db)?;
    let iter = match &args.prefix {
        Some(prefix) => db.prefix(&prefix.0),
        None => db.iter(),
    };
    let mut out = Out::new();
    for kv in iter.take(usize::try_from(args.limit.unwrap_or(u64::MAX)).unwrap_or(usize::MAX)) {
        let (key, value) = kv.at(&args.db)?;
        out.line(format_args!("{}\t{}", show(&key), show(&value)))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
