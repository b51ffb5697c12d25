//! Opening the database a command works on.

use std::path::Path;

use cairndb::{Config, Db};

use crate::escape;
use crate::failure::{At as _, Failure};

/// Opens an existing database without writing a byte to it (and without
/// its lock, so a database open in another process can be read).
pub fn read_only(path: &Path) -> Result<Db, Failure> {
    check_place(path, false)?;
    Config::new(path).read_only(true).create_if_missing(false).open().at(path)
}

/// Opens a database for writing; creates it only when `create`.
pub fn writable(path: &Path, create: bool) -> Result<Db, Failure> {
    check_place(path, create)?;
    Config::new(path).create_if_missing(create).open().at(path)
}

/// Says what is wrong with `path` before the library tries it, in the same
/// words for reads and writes: nothing there (unless it may be created),
/// or a file where a database directory should be.
pub fn check_place(path: &Path, create: bool) -> Result<(), Failure> {
    let cannot = |why: &str| Failure::at(path, format!("cannot open database {}: {why}", escape::path(path)));
    // Following symbolic links, as opening does.
    match path.metadata() {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(cannot("not a database (a file, not a directory)")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(cannot("no database here (no such directory)")),
        Err(e) => Err(cannot(&e.to_string())),
    }
}
