//! Durable writes from 1, 4 and 16 threads: each thread puts a key and
//! persists it (a group commit) in a loop for 3 s on the hybrid log, on a
//! real disk; reports writes/s, p50/p99 latency and how many writes shared
//! each fsync run. `cargo run --release --example group_commit_cost [DIR]`
//! (DIR: where to work, default the system's temporary directory).
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairndb::fs::StdFs;
use cairndb::internals::hlog::{HlogConfig, HybridLog, ReplayFrom};
use cairndb::{LogAddress, SeqNo};

const RUN: Duration = Duration::from_secs(3);

#[expect(clippy::print_stdout, reason = "the example reports")]
fn main() {
    let parent = std::env::args().nth(1).map_or_else(std::env::temp_dir, Into::into);
    for threads in [1usize, 4, 16] {
        let dir = tempfile::tempdir_in(&parent).expect("a scratch directory");
        let replay = ReplayFrom { address: LogAddress(0), next_seqno: SeqNo(1) };
        let fs = Arc::new(StdFs::new());
        let (log, _) = HybridLog::open(fs, &dir.path().join("log"), HlogConfig::default(), replay).expect("open");
        let log = Arc::new(log);
        let start = Instant::now();
        let mut micros: Vec<u64> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let log = Arc::clone(&log);
                    s.spawn(move || {
                        let mut own = Vec::new();
                        let mut i = 0u64;
                        while start.elapsed() < RUN {
                            let began = Instant::now();
                            log.put(format!("t{t}-{i}").as_bytes(), &[7u8; 100]).expect("put");
                            log.persist().expect("persist");
                            own.push(began.elapsed().as_micros() as u64);
                            i += 1;
                        }
                        own
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().expect("writer")).collect()
        });
        micros.sort_unstable();
        let stats = log.stats();
        println!(
            "{threads:>2} threads: {:.0} writes/s, p50 {} µs, p99 {} µs, {:.2} writes per fsync run",
            micros.len() as f64 / RUN.as_secs_f64(),
            micros[micros.len() / 2],
            micros[micros.len() * 99 / 100],
            stats.persist_calls as f64 / stats.persist_runs as f64
        );
    }
}
