//! `cairn put` and `cairn delete`: one write, durable before the command returns.

use std::process::ExitCode;

use crate::args::{GetArgs, PutArgs};
use crate::commands::open;
use crate::failure::{At as _, Failure};

/// Sets a key.
pub fn put(args: &PutArgs) -> Result<ExitCode, Failure> {
    let db = open::writable(&args.db, args.create)?;
    db.put(&args.key.0, &args.value.0).at(&args.db)?;
    db.persist().at(&args.db)?;
    Ok(ExitCode::SUCCESS)
}

/// Deletes a key (nothing happens if it is absent).
pub fn delete(args: &GetArgs) -> Result<ExitCode, Failure> {
    let db = open::writable(&args.db, false)?;
    db.delete(&args.key.0).at(&args.db)?;
    db.persist().at(&args.db)?;
    Ok(ExitCode::SUCCESS)
}
