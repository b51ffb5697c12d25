//! Wall-clock time and unique names for the objects a backup job writes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use xxhash_rust::xxh3::xxh3_64;

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Microseconds since the Unix epoch (0 if the clock is before it).
pub fn now_unix_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// A value no other call in any process is likely to return: a hash of the
/// time in nanoseconds, the process id, the thread and a counter.
pub fn nonce() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let seed = format!(
        "{nanos}-{}-{:?}-{}",
        std::process::id(),
        std::thread::current().id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    xxh3_64(seed.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn nonces_differ() {
        let a: std::collections::BTreeSet<u64> = (0..1000).map(|_| super::nonce()).collect();
        assert_eq!(a.len(), 1000);
    }
}
