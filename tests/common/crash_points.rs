//! The crash-point counter shared by every crash and fault test: each adds
//! a line `source power_cuts faults recoveries` to the file named by
//! `CAIRNDB_CRASH_POINTS_FILE` (when set), and `.ci/run` prints the sum.

use std::io::Write;

/// Records what one test explored. A power cut is one crashed state
/// recovered and checked; a fault one injected I/O error; a recovery one
/// reopen checked against the model.
pub fn record(source: &str, power_cuts: u64, faults: u64, recoveries: u64) {
    let Some(path) = std::env::var_os("CAIRNDB_CRASH_POINTS_FILE") else { return };
    let line = format!("{source} {power_cuts} {faults} {recoveries}\n");
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&path);
    if let Err(e) = file.and_then(|mut f| f.write_all(line.as_bytes())) {
        panic!("cannot record crash points in {}: {e}", path.to_string_lossy());
    }
}
