//! Arbitrary bytes as an archived log chunk: as they are, and with both
//! checksums recomputed (so the piece and log checks behind them see the
//! bytes). Nothing may panic; what decodes must round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairndb::fuzzing::archive_chunk(data);
});
