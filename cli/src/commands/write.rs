//! `cairn put` and `cairn delete`: one write, durable before the command returns.

use std::process::ExitCode;

use crate::args::{KeyArgs, PutArgs};
use crate::commands::open;
use crate::failure::{At as _, Failure};

/// Sets a key.
pub fn put(args: &PutArgs) -> Result<ExitCode, Failure> {
    let notation = args.notation.notation();
    let key = args.key.decode(notation, "<KEY>")?;
    let value = args.value.decode(notation, "<VALUE>")?;
    let db = open::writable(&args.db, args.create)?;
    db.put(&key, &value).at(&args.db)?;
    db.persist().at(&args.db)?;
    Ok(ExitCode::SUCCESS)
}

/// Deletes a key (nothing happens if it is absent).
pub fn delete(args: &KeyArgs) -> Result<ExitCode, Failure> {
    let key = args.key.decode(args.notation.notation(), "<KEY>")?;
    let db = open::writable(&args.db, false)?;
    db.delete(&key).at(&args.db)?;
    db.persist().at(&args.db)?;
    Ok(ExitCode::SUCCESS)
}
