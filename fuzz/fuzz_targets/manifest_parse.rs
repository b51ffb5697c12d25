//! Arbitrary bytes as a backup manifest: as they are, sealed with a
//! correct checksum (so the JSON parser and the manifest checks behind the
//! seal see them), and as bare JSON. Nothing may panic; what decodes must
//! round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairndb::fuzzing::manifest_parse(data);
});
