//! Times point reads and a full scan of 1 M keys (16-byte keys, 100-byte
//! values) flushed and compacted into tables, warm (for profiling):
//! `cargo run --release --example read_profile`. `CAIRNDB_BENCH_KEYS`
//! changes the key count, `CAIRNDB_BENCH_CACHE_MB` the block cache (default:
//! the database's).
use std::time::Instant;

use cairndb::Config;

fn key(i: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
    key[8..].copy_from_slice(&i.to_be_bytes());
    key
}

#[expect(clippy::print_stdout, reason = "the example reports")]
fn main() {
    let n: u64 = std::env::var("CAIRNDB_BENCH_KEYS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/target")).unwrap();
    let mut config = Config::new(dir.path());
    if let Some(mib) = std::env::var("CAIRNDB_BENCH_CACHE_MB").ok().and_then(|s| s.parse::<usize>().ok()) {
        config = config.block_cache_bytes(mib << 20);
    }
    let db = config.open().unwrap();
    for i in 0..n {
        db.put(key(i), [7u8; 100]).unwrap();
    }
    db.compact().unwrap();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for round in 0..3 {
        let start = Instant::now();
        let mut found = 0;
        for _ in 0..n {
            found += usize::from(db.get(key(next())).unwrap().is_some());
        }
        let reads = start.elapsed();
        assert_eq!(found as u64, n);
        let start = Instant::now();
        let mut scanned = 0;
        for entry in db.iter() {
            let (key, value) = entry.unwrap();
            assert_eq!((key.len(), value.len()), (16, 100));
            scanned += 1;
        }
        let scan = start.elapsed();
        assert_eq!(scanned as u64, n);
        println!(
            "round {round}: {:.0} point reads/s, {:.0} scanned keys/s",
            n as f64 / reads.as_secs_f64(),
            n as f64 / scan.as_secs_f64()
        );
    }
}
