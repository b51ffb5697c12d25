//! Arbitrary bytes as a blob file (id 1): open, read by references taken
//! from the bytes and from iteration, verify.
#![no_main]

use cairndb::BlobFileId;
use cairndb::internals::blob::{BlobFile, BlobRef};
use cairndb_fuzz::{MemFile, check_error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = match BlobFile::from_file(MemFile::boxed("fuzz.blob", data), BlobFileId(1)) {
        Ok(f) => f,
        Err(e) => return check_error(&e),
    };
    let mut refs = Vec::new();
    for item in file.iter().take(10_000) {
        match item {
            Ok((r, record)) => {
                let again =
                    file.read_value(&r, &record.key).expect("a record read twice reads the same");
                assert_eq!(again, record.value);
                refs.push(r);
            }
            Err(e) => check_error(&e),
        }
    }
    if let Some(r) = data.get(..20).and_then(BlobRef::decode) {
        let r = BlobRef { file: BlobFileId(1), ..r };
        let _ = file.read(&r).map_err(|e| check_error(&e));
    }
    let _ = file.verify().map_err(|e| check_error(&e));
});
