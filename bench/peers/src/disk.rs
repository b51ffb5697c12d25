//! The benchmark's own file work: directory sizes, fresh directories, and
//! the `cp`/`sync` baselines.

use std::path::Path;
use std::process::Command;

use crate::error::{Error, IoContext, Result};

/// Sum of the sizes of every file under `path` (apparent sizes, as `du -sb`).
pub fn dir_bytes(path: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(path).io("list", path)? {
        let entry = entry.io("list", path)?;
        let meta = entry.metadata().io("stat", entry.path())?;
        total += if meta.is_dir() { dir_bytes(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}

/// Removes `path` and everything under it, if it exists.
pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).io("remove", path),
        _ => Ok(()),
    }
}

/// Makes sure nothing is at `path` and its parent exists.
pub fn clear(path: &Path) -> Result<()> {
    remove(path)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).io("create", parent)?;
    }
    Ok(())
}

/// Runs `program` with `args`; an error unless it succeeds.
pub fn run(program: &str, args: &[&Path]) -> Result<()> {
    let command =
        || format!("{program} {}", args.iter().map(|a| a.display().to_string()).collect::<Vec<_>>().join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| Error::Command { command: command(), status: e.to_string() })?;
    if status.success() { Ok(()) } else { Err(Error::Command { command: command(), status: status.to_string() }) }
}

/// `sync`: writes every dirty page of the machine back.
pub fn sync() -> Result<()> {
    run("sync", &[])
}

/// The output of `program args`, trimmed; `None` if it cannot run.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
