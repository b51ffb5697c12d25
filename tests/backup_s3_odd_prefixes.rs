//! S3 prefixes holding characters that `object_store` percent-encodes in a
//! key (`#`, `~`, `%`, `[`, `]`, ...), on the S3 server `.ci/run` starts
//! (see `backup_s3.rs`; without it these tests skip, saying why).
//!
//! For every printable ASCII character, a store whose prefix holds it
//! (five characters to a prefix, `.` alone)
//! lists its backups, takes the next one incrementally (not a false
//! `BackupConflict`), sees its leases (a live gc lease stops a backup, a
//! live backup lease stops gc) and restores each backup exactly. A prefix
//! with an empty path segment (a doubled `/`), which `object_store` cannot
//! write, is refused when the store opens, naming the prefix.
#![cfg(feature = "s3")]

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

mod common;
#[path = "common/lease.rs"]
mod lease;

use cairndb::backup::{BackupEngine, BackupId, BackupStore, S3Config, S3Store};
use cairndb::fs::MemFs;
use cairndb::{Db, Error};
use common::backup::{Model, open_db, restored_state, s3_bucket, s3_endpoint, unique_name};
use lease::lease_body;

fn config(endpoint: &str, prefix: &str) -> S3Config {
    S3Config::new(s3_bucket()).endpoint(endpoint).region("us-east-1").credentials("testing", "testing").prefix(prefix)
}

/// Two backups under `prefix`, each checked as the module documentation
/// says; the first thing that goes wrong, as text.
fn round_trip(endpoint: &str, prefix: &str, db: &Db, model: &mut Model, tag: &str) -> Result<(), String> {
    let store = S3Store::open(config(endpoint, prefix)).map_err(|e| format!("open: {e}"))?;
    let engine = BackupEngine::new(Arc::new(store));
    let first = engine.create_backup(db).map_err(|e| format!("first backup: {e}"))?;
    model.put(db, format!("after-{tag}"), tag);
    let second = engine.create_backup(db).map_err(|e| format!("second backup: {e}"))?;
    if second.files_skipped == 0 {
        return Err(format!("the second backup is not incremental: {second:?}"));
    }
    let ids = engine.ids().map_err(|e| format!("ids: {e}"))?;
    let listed = engine.list().map_err(|e| format!("list: {e}"))?.len();
    if ids != [BackupId(1), BackupId(2)] || listed != 2 {
        return Err(format!("listed {ids:?} ({listed} listings), not backups 1 and 2"));
    }
    check_leases(&engine, db)?;
    for info in [&first, &second] {
        if !engine.verify(info.id).map_err(|e| format!("verify {}: {e}", info.id))?.is_ok() {
            return Err(format!("backup {} does not verify", info.id));
        }
        if restored_state(&engine, info.id) != model.state_at(info.seqno) {
            return Err(format!("backup {} restores other contents", info.id));
        }
    }
    Ok(())
}

/// A live gc lease keeps a backup out, a live backup lease keeps gc out.
fn check_leases(engine: &BackupEngine, db: &Db) -> Result<(), String> {
    let store: &dyn BackupStore = &**engine.store();
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
    for (kind, job) in [("gc", "a backup"), ("backup", "gc")] {
        let key = format!("locks/{kind}-{now_ms:013}-00");
        store.put_if_absent(&key, &lease_body(kind, now_ms)).map_err(|e| format!("write {key}: {e}"))?;
        let outcome = if kind == "gc" { engine.create_backup(db).map(drop) } else { engine.gc().map(drop) };
        store.delete(&key).map_err(|e| format!("delete {key}: {e}"))?;
        match outcome {
            Err(Error::StoreBusy { .. }) => {}
            other => return Err(format!("{job} beside a live {kind} lease: {other:?}, not StoreBusy")),
        }
    }
    Ok(())
}

/// Threads the characters are shared among (the server answers several at once).
const THREADS: usize = 2;

#[test]
fn every_printable_ascii_character_in_a_prefix_round_trips() {
    let Some(endpoint) = s3_endpoint() else { return };
    let run = unique_name("odd-prefix");
    // Five characters to a prefix (a prefix fails if any of its characters
    // breaks the store), `.` alone: as a whole segment it is special.
    let mut chars: Vec<String> = (0x20u8..=0x7e)
        .map(char::from)
        .filter(|&c| c != '.')
        .collect::<Vec<char>>()
        .chunks(5)
        .map(|group| group.iter().collect())
        .collect();
    chars.push(".".to_string());
    let failures: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (endpoint, run, chars) = (&endpoint, &run, &chars);
                s.spawn(move || {
                    let db = open_db(Arc::new(MemFs::new()), "/db");
                    let mut model = Model::default();
                    model.fill(&db, 0, 100, 50);
                    let mut failures = Vec::new();
                    for c in chars.iter().skip(t).step_by(THREADS) {
                        // The characters inside a segment and as a whole
                        // segment (`.` among them); `/` makes nested folders.
                        let prefix = format!("{run}/p{c}q/{c}");
                        let tag: String = c.bytes().map(|b| format!("{b:02x}")).collect();
                        if let Err(what) = round_trip(endpoint, &prefix, &db, &mut model, &tag) {
                            failures.push(format!("{prefix:?}: {what}"));
                        }
                    }
                    failures
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{} of {} prefixes failed:\n{}", failures.len(), chars.len(), failures.join("\n"));
}

#[test]
fn a_prefix_with_an_empty_segment_is_refused_naming_it() {
    let Some(endpoint) = s3_endpoint() else { return };
    let run = unique_name("empty-segment");
    for prefix in [format!("{run}/a//b"), format!("{run}//b")] {
        let err = S3Store::open(config(&endpoint, &prefix)).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{prefix}: {err}");
        let text = err.to_string();
        assert!(text.contains(&prefix) && text.contains("empty"), "{prefix}: {text}");
    }
    // Slashes at either end are no segment: trimmed, as before.
    let mut model = Model::default();
    let db = open_db(Arc::new(MemFs::new()), "/db");
    model.fill(&db, 0, 50, 50);
    round_trip(&endpoint, &format!("/{run}/ends/"), &db, &mut model, "ends").unwrap();
}
