//! The benchmark's own file work: directory sizes, fresh directories, and
//! the `cp`/`sync` baselines.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use crate::error::{Error, IoContext, Result};

/// Sum of the sizes of every file under `path` (apparent sizes, as `du -sb`).
pub fn dir_bytes(path: &Path) -> Result<u64> {
    Ok(usage(path)?.bytes)
}

/// What the files under a directory take.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    /// Sum of file sizes (`du -sb`).
    pub bytes: u64,
    /// Sum of blocks allocated (`du -s`): less for sparse files, more for
    /// preallocated ones.
    pub allocated_bytes: u64,
    /// File sizes by group ([`group`]), largest first.
    pub groups: Vec<(String, u64)>,
}

/// Walks `path`, summing sizes in total and by group.
pub fn usage(path: &Path) -> Result<Usage> {
    let mut usage = Usage::default();
    walk(path, None, &mut usage)?;
    usage.groups.sort_by_key(|g| std::cmp::Reverse(g.1));
    Ok(usage)
}

fn walk(path: &Path, top: Option<&str>, usage: &mut Usage) -> Result<()> {
    for entry in std::fs::read_dir(path).io("list", path)? {
        let entry = entry.io("list", path)?;
        let meta = entry.metadata().io("stat", entry.path())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if meta.is_dir() {
            walk(&entry.path(), Some(top.unwrap_or(&name)), usage)?;
            continue;
        }
        usage.bytes += meta.len();
        usage.allocated_bytes += meta.blocks() * 512;
        let key = top.map_or_else(|| group(&name), |dir| format!("{dir}/"));
        match usage.groups.iter_mut().find(|(g, _)| *g == key) {
            Some((_, bytes)) => *bytes += meta.len(),
            None => usage.groups.push((key, meta.len())),
        }
    }
    Ok(())
}

/// The group of a file at the top of a database directory: its extension
/// (`*.sst`), or its name without digits (`MANIFEST-*`); a subdirectory's
/// files group under it (`tables/`).
fn group(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, extension)) if !extension.is_empty() => format!("*.{extension}"),
        _ if name.ends_with(|c: char| c.is_ascii_digit()) => {
            format!("{}*", name.trim_end_matches(|c: char| c.is_ascii_digit()))
        }
        _ => name.to_string(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_group_by_kind() {
        assert_eq!(group("000012.sst"), "*.sst");
        assert_eq!(group("MANIFEST-000005"), "MANIFEST-*");
        assert_eq!(group("v2"), "v*");
        assert_eq!(group("CURRENT"), "CURRENT");
    }
}
