//! Arbitrary bytes as a dump stream: as they are, and resealed with
//! correct checksums (so the length bounds, key order and trailer checks
//! behind them see the bytes). Nothing may panic or allocate beyond the
//! format's limits; what reads must be what the writer writes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairndb::fuzzing::dump_reader(data);
});
