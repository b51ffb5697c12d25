//! How much memory the machine gives this process, and the block cache a
//! database takes by default from it.
//!
//! The rule: a sixteenth of the memory the process may use, kept between
//! 64 MiB and 1 GiB. The memory is the smaller of the machine's
//! (`MemTotal`) and the process's control group limit (cgroup v2
//! `memory.max` or v1 `memory.limit_in_bytes`), so a container with a
//! 512 MiB limit on a large host gets 64 MiB, not a sixteenth of the host.
//! The cache fills only as blocks are read, so the size is a ceiling, not
//! an allocation.

use std::sync::OnceLock;

/// The smallest default block cache (and the default where the memory is
/// not known).
const DEFAULT_BLOCK_CACHE_MIN: u64 = 64 << 20;
/// The largest default block cache: redb's default, and enough for the
/// decoded blocks of about 8 M small entries.
const DEFAULT_BLOCK_CACHE_MAX: u64 = 1 << 30;
/// The share of the process's memory the default cache takes: 1/16.
const DEFAULT_BLOCK_CACHE_SHARE: u64 = 16;

/// The default block cache of a process that may use `memory` bytes
/// (`None`: not known).
pub(crate) fn default_block_cache_bytes_for(memory: Option<u64>) -> usize {
    let bytes = memory.map_or(DEFAULT_BLOCK_CACHE_MIN, |m| {
        (m / DEFAULT_BLOCK_CACHE_SHARE).clamp(DEFAULT_BLOCK_CACHE_MIN, DEFAULT_BLOCK_CACHE_MAX)
    });
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// The default block cache of this process, found once.
pub(crate) fn default_block_cache_bytes() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| default_block_cache_bytes_for(process_memory_bytes()))
}

/// The memory this process may use: the machine's, or its control group's
/// limit when that is lower; `None` when neither can be read.
pub(crate) fn process_memory_bytes() -> Option<u64> {
    let machine = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| mem_total_bytes(&text));
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok().and_then(|text| cgroup_limit_bytes(&text));
    match (machine, cgroup) {
        (Some(m), Some(c)) => Some(m.min(c)),
        (m, c) => m.or(c),
    }
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.trim_start_matches("MemTotal:").trim().trim_end_matches("kB").trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// The memory limit of the control group named in `/proc/self/cgroup`
/// (`self_cgroup`), if it has one.
fn cgroup_limit_bytes(self_cgroup: &str) -> Option<u64> {
    let mut files = Vec::new();
    for line in self_cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        if controllers.is_empty() {
            files.push(format!("/sys/fs/cgroup{path}/memory.max"));
        } else if controllers.split(',').any(|c| c == "memory") {
            files.push(format!("/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"));
        }
    }
    // Inside a container the group's own files are often at the root.
    files.push("/sys/fs/cgroup/memory.max".into());
    files.push("/sys/fs/cgroup/memory/memory.limit_in_bytes".into());
    files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).filter_map(|text| parse_limit(&text)).min()
}

/// A cgroup memory limit file's value; `None` for no limit (`max`, or v1's
/// "unlimited", a value near `i64::MAX`).
fn parse_limit(text: &str) -> Option<u64> {
    let limit: u64 = text.trim().parse().ok()?;
    (limit < 1 << 60).then_some(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_a_sixteenth_within_bounds() {
        assert_eq!(default_block_cache_bytes_for(None), 64 << 20);
        assert_eq!(default_block_cache_bytes_for(Some(512 << 20)), 64 << 20);
        assert_eq!(default_block_cache_bytes_for(Some(4 << 30)), 256 << 20);
        assert_eq!(default_block_cache_bytes_for(Some(24 << 30)), 1 << 30);
        assert_eq!(default_block_cache_bytes_for(Some(1 << 40)), 1 << 30);
    }

    #[test]
    fn limits_parse() {
        assert_eq!(mem_total_bytes("MemTotal:       24683568 kB\nMemFree: 1 kB\n"), Some(24683568 * 1024));
        assert_eq!(mem_total_bytes("MemFree: 1 kB\n"), None);
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("9223372036854771712\n"), None);
        assert_eq!(parse_limit("536870912\n"), Some(512 << 20));
    }

    #[test]
    fn this_machine_has_a_memory_size_no_larger_than_its_ram() {
        let memory = process_memory_bytes().expect("Linux has /proc/meminfo");
        let text = std::fs::read_to_string("/proc/meminfo").unwrap();
        assert!(memory > 0 && memory <= mem_total_bytes(&text).unwrap());
        assert_eq!(default_block_cache_bytes(), default_block_cache_bytes_for(Some(memory)));
    }
}
