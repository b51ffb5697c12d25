//! Times a flush of one full memtable (for profiling):
//! `cargo run --release --example flush_profile`.
use std::time::Instant;

use cairndb::Config;

#[expect(clippy::print_stdout, reason = "the example reports")]
fn main() {
    let dir = tempfile::tempdir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/target")).unwrap();
    let db = Config::new(dir.path()).memtable_size_bytes(256 << 20).background_threads(false).open().unwrap();
    let n = 450_000u64;
    for i in 0..n {
        let k = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes();
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&k);
        key[8..].copy_from_slice(&i.to_be_bytes());
        db.put(key, [7u8; 100]).unwrap();
    }
    let start = Instant::now();
    db.flush().unwrap();
    let took = start.elapsed();
    println!("flush of {n} entries: {took:?} ({:.2} us/entry)", took.as_secs_f64() * 1e6 / n as f64);
}
