//! The decoders behind the checksums: data blocks, index, meta, filter,
//! frames, footer and blob records, fed with checksums skipped or
//! recomputed. The first byte picks the part.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&selector, body)) = data.split_first() {
        cairndb::fuzzing::decode_part(selector, body);
    }
});
