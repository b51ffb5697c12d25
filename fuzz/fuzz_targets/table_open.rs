//! Arbitrary bytes as a table file: open, iterate, look up, seek, verify.
#![no_main]

use std::sync::Arc;

use cairndb::table::{BlockCache, Table};
use cairndb::{SeqNo, TableId};
use cairndb_fuzz::{MemFile, check_error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cache = Arc::new(BlockCache::new(1 << 20));
    let table = match Table::from_file(MemFile::boxed("fuzz.sst", data), TableId(1), cache) {
        Ok(t) => t,
        Err(e) => return check_error(&e),
    };
    let mut keys = Vec::new();
    for item in table.iter().take(10_000) {
        match item {
            Ok(e) => keys.push(e.key),
            Err(e) => check_error(&e),
        }
    }
    for key in keys.iter().take(64) {
        if let Err(e) = table.get(key, SeqNo(u64::MAX)) {
            check_error(&e);
        }
    }
    let _ = table.get(b"absent", SeqNo(5)).map_err(|e| check_error(&e));
    for item in table.seek(data.get(..4).unwrap_or_default()).take(16) {
        let _ = item.map_err(|e| check_error(&e));
    }
    let _ = table.verify().map_err(|e| check_error(&e));
});
