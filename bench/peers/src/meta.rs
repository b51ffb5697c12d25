//! What was measured where: the machine, the crate versions, the command.

use std::path::Path;

use crate::disk::output;

/// The `Cargo.lock` this binary was built from: the versions it ran.
const CARGO_LOCK: &str = include_str!("../Cargo.lock");
/// The crates whose versions the report names.
const REPORTED_CRATES: [&str; 6] = ["cairndb", "rocksdb", "librocksdb-sys", "fjall", "lsm-tree", "redb"];

/// The facts printed at the top of the report.
#[derive(Clone, Debug)]
pub struct Meta {
    /// The command line, as run.
    pub command: String,
    /// When the run started (UTC, `date -u`).
    pub started: String,
    /// Logical CPUs (`nproc`).
    pub cpus: String,
    /// The CPU model of `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Total memory (`/proc/meminfo`).
    pub memory: String,
    /// The file system of the work directory (`df -T`).
    pub file_system: String,
    /// The kernel (`uname -sr`).
    pub kernel: String,
    /// The cairndb commit measured (`git describe`).
    pub cairndb_commit: String,
    /// `(crate, version)` of the engines, from `Cargo.lock`.
    pub versions: Vec<(String, String)>,
}

impl Meta {
    /// Describes this machine, with `work` the directory the databases live in.
    pub fn collect(work: &Path) -> Meta {
        let unknown = || "unknown".to_string();
        let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let work = work.to_string_lossy();
        Meta {
            command: command_line(),
            started: output("date", &["-u", "+%Y-%m-%d %H:%M:%S UTC"]).unwrap_or_else(unknown),
            cpus: output("nproc", &[]).unwrap_or_else(unknown),
            cpu_model: proc_field("/proc/cpuinfo", "model name").unwrap_or_else(unknown),
            memory: proc_field("/proc/meminfo", "MemTotal").map_or_else(unknown, |kb| gib(&kb)),
            file_system: output("df", &["-T", "-h", &work]).and_then(|df| df_line(&df)).unwrap_or_else(unknown),
            kernel: output("uname", &["-sr"]).unwrap_or_else(unknown),
            cairndb_commit: output("git", &["-C", repo, "describe", "--always", "--dirty"]).unwrap_or_else(unknown),
            versions: locked_versions(CARGO_LOCK),
        }
    }
}

/// `peers ARGS...` as typed (quoted where needed).
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quoted: Vec<String> =
        args.iter().map(|a| if a.contains(' ') || a.is_empty() { format!("'{a}'") } else { a.clone() }).collect();
    format!("cd bench/peers && cargo run --release -- {}", quoted.join(" ")).trim_end().to_string()
}

/// The value of the first `field : value` line of a `/proc` file.
fn proc_field(path: &str, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find(|l| l.starts_with(field)).and_then(|l| l.split(':').nth(1)).map(|v| v.trim().to_string())
}

/// `"24000000 kB"` as GiB.
fn gib(kb: &str) -> String {
    let kib: f64 = kb.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0.0);
    format!("{:.1} GiB", kib / (1u64 << 20) as f64)
}

/// The data line of `df -T -h`: device, type, size, used, available.
fn df_line(df: &str) -> Option<String> {
    let fields: Vec<&str> = df.lines().nth(1)?.split_whitespace().collect();
    match fields.as_slice() {
        [device, fs_type, size, used, available, ..] => {
            Some(format!("{fs_type} on {device} ({size}, {used} used, {available} free)"))
        }
        _ => None,
    }
}

/// The versions of [`REPORTED_CRATES`] in a `Cargo.lock`.
fn locked_versions(lock: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"'));
        } else if let (Some(n), Some(v)) = (name, line.strip_prefix("version = ")) {
            if REPORTED_CRATES.contains(&n) {
                found.push((n.to_string(), v.trim_matches('"').to_string()));
            }
            name = None;
        }
    }
    found.sort_by_key(|(n, _)| REPORTED_CRATES.iter().position(|c| c == n));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_lock_file() {
        let lock =
            "[[package]]\nname = \"redb\"\nversion = \"4.5.0\"\n\n[[package]]\nname = \"other\"\nversion = \"1.0.0\"\n";
        assert_eq!(locked_versions(lock), [("redb".to_string(), "4.5.0".to_string())]);
    }

    #[test]
    fn df_line_names_the_type() {
        let df = "Filesystem Type Size Used Avail Use% Mounted on\n/dev/vda ext4 252G 32G 60G 35% /\n";
        assert_eq!(df_line(df).as_deref(), Some("ext4 on /dev/vda (252G, 32G used, 60G free)"));
    }
}
