//! Arbitrary bytes as a table file: open, iterate both ways, look up,
//! seek, verify.
#![no_main]

use std::sync::Arc;

use cairndb::internals::table::{BlockCache, Table};
use cairndb::{SeqNo, TableId};
use cairndb_fuzz::{MemFile, check_error};
use libfuzzer_sys::fuzz_target;

/// Entries read per direction at most.
const ENTRIES_MAX: usize = 10_000;

fuzz_target!(|data: &[u8]| {
    let cache = Arc::new(BlockCache::new(1 << 20));
    let table = match Table::from_file(MemFile::boxed("fuzz.sst", data), TableId(1), cache) {
        Ok(t) => t,
        Err(e) => return check_error(&e),
    };
    let forward: Result<Vec<_>, _> = table.iter().take(ENTRIES_MAX + 1).collect();
    let keys: Vec<Vec<u8>> = match forward {
        Ok(entries) => entries.into_iter().map(|e| e.key).collect(),
        Err(e) => {
            check_error(&e);
            Vec::new()
        }
    };
    for key in keys.iter().take(64) {
        if let Err(e) = table.get(key, SeqNo(u64::MAX)) {
            check_error(&e);
        }
    }
    let _ = table.get(b"absent", SeqNo(5)).map_err(|e| check_error(&e));
    for item in table.seek(data.get(..4).unwrap_or_default()).take(16) {
        let _ = item.map_err(|e| check_error(&e));
    }
    let mut rev = table.iter_rev();
    rev.seek_for_prev(data.get(..3).unwrap_or_default());
    for item in rev.take(16) {
        let _ = item.map_err(|e| check_error(&e));
    }
    let backward: Result<Vec<_>, _> = table.iter_rev().take(ENTRIES_MAX + 1).collect();
    match backward {
        Ok(entries) if !keys.is_empty() && keys.len() <= ENTRIES_MAX => {
            let backward_keys = entries.into_iter().map(|e| e.key);
            assert!(backward_keys.eq(keys.iter().rev().cloned()), "both directions agree");
        }
        Ok(_) => {}
        Err(e) => check_error(&e),
    }
    let _ = table.verify().map_err(|e| check_error(&e));
});
