//! Opening the database a command works on.

use std::path::Path;

use cairndb::{Config, Db};

use crate::failure::{At as _, Failure};

/// Opens an existing database without writing a byte to it (and without
/// its lock, so a database open in another process can be read).
pub fn read_only(path: &Path) -> Result<Db, Failure> {
    Config::new(path).read_only(true).create_if_missing(false).open().at(path)
}

/// Opens a database for writing; creates it only when `create`.
pub fn writable(path: &Path, create: bool) -> Result<Db, Failure> {
    Config::new(path).create_if_missing(create).open().at(path)
}
