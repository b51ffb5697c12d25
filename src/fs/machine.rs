//! What the machine gives this process, read from the operating system
//! (`/proc`, the control group files), not from a database's [`Fs`](super::Fs):
//! the memory it may use.

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
    }
}
