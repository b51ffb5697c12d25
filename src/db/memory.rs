//! The block cache a database takes by default, from the memory the
//! process may use (read by `fs::machine`).
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
    *DEFAULT.get_or_init(|| default_block_cache_bytes_for(crate::fs::machine::process_memory_bytes()))
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
    fn the_default_follows_this_machine() {
        let memory = crate::fs::machine::process_memory_bytes();
        assert_eq!(default_block_cache_bytes(), default_block_cache_bytes_for(memory));
    }
}
