//! Helpers for the backup tests: a small database, a model of its writes,
//! and restoring a backup to compare with the model.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cairndb::backup::{BackupEngine, BackupId, BackupStore, FILES_PREFIX, LOCKS_PREFIX};
use cairndb::fs::{Fs, MemFs};
use cairndb::{Config, Db, SeqNo};

/// Keys and values.
pub type State = BTreeMap<Vec<u8>, Vec<u8>>;

/// A database that flushes often into small tables, with blob files.
pub fn open_db(fs: Arc<dyn Fs>, path: &str) -> Db {
    Config::new(path)
        .fs(fs)
        .memtable_size_bytes(64 << 10)
        .blob_threshold_bytes(400)
        .table_target_bytes(16 << 10)
        .level0_trigger(3)
        .background_threads(false)
        .open()
        .expect("open the database")
}

/// Every key and value of `db`.
pub fn contents(db: &Db) -> State {
    db.iter().map(|kv| kv.expect("scan")).collect()
}

/// Every write made, with its seqno, so the state at any seqno can be rebuilt.
#[derive(Debug, Default)]
pub struct Model {
    writes: Vec<(SeqNo, Vec<u8>, Option<Vec<u8>>)>,
}

impl Model {
    /// Puts `key` = `value` into `db` and records it.
    pub fn put(&mut self, db: &Db, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        let (key, value) = (key.into(), value.into());
        let seqno = db.put(&key, &value).expect("put");
        self.writes.push((seqno, key, Some(value)));
    }

    /// Deletes `key` in `db` and records it.
    pub fn delete(&mut self, db: &Db, key: impl Into<Vec<u8>>) {
        let key = key.into();
        let seqno = db.delete(&key).expect("delete");
        self.writes.push((seqno, key, None));
    }

    /// Records a write made elsewhere.
    pub fn record(&mut self, seqno: SeqNo, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.writes.push((seqno, key, value));
    }

    /// `n` writes: keys `k{i % span}`, every 25th value large (a blob).
    pub fn fill(&mut self, db: &Db, from: u32, n: u32, span: u32) {
        for i in from..from + n {
            let key = format!("k{:05}", (i * 7) % span);
            let value = if i % 25 == 0 { vec![(i % 251) as u8; 700] } else { format!("value-{i}").into_bytes() };
            self.put(db, key, value);
        }
    }

    /// The state after every write with seqno <= `seqno`.
    pub fn state_at(&self, seqno: SeqNo) -> State {
        let mut writes: Vec<_> = self.writes.iter().filter(|(s, _, _)| *s <= seqno).collect();
        writes.sort_by_key(|(s, _, _)| *s);
        let mut state = State::new();
        for (_, key, value) in writes {
            match value {
                Some(v) => state.insert(key.clone(), v.clone()),
                None => state.remove(key),
            };
        }
        state
    }
}

/// Restores backup `id` onto a fresh in-memory disk and reads it whole.
pub fn restored_state(engine: &BackupEngine, id: BackupId) -> State {
    let disk: Arc<dyn Fs> = Arc::new(MemFs::new());
    let engine = engine.clone().local_fs(Arc::clone(&disk));
    engine.restore(id, Path::new("/restored")).expect("restore");
    contents(&open_db(disk, "/restored"))
}

/// Keys under `files/` that no manifest references.
pub fn unreferenced_files(engine: &BackupEngine) -> Vec<String> {
    let mut referenced = std::collections::BTreeSet::new();
    for listing in engine.list().expect("list") {
        let manifest = listing.manifest.expect("readable manifest");
        referenced.extend(manifest.files.iter().map(|f| f.content.key()));
    }
    let store: &dyn BackupStore = &**engine.store();
    store
        .list(FILES_PREFIX)
        .expect("list files")
        .into_iter()
        .map(|o| o.key)
        .filter(|k| !referenced.contains(k))
        .collect()
}

/// Leases left in the store.
pub fn leases(store: &dyn BackupStore) -> Vec<String> {
    store.list(LOCKS_PREFIX).expect("list leases").into_iter().map(|o| o.key).collect()
}

/// A fresh folder name, unique across runs and processes.
pub fn unique_name(hint: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{hint}-{}-{nanos}", std::process::id())
}

/// An S3 store under a fresh prefix of the test bucket on the S3 server
/// `.ci/run` starts (moto on 127.0.0.1), or `None` (the test skips, saying
/// why) when `CAIRNDB_TEST_S3_ENDPOINT` is unset outside CI.
#[cfg(feature = "s3")]
pub fn s3_store(hint: &str, multipart: Option<(u64, usize)>) -> Option<cairndb::backup::S3Store> {
    Some(s3_store_at(&s3_endpoint()?, &unique_name(hint), multipart))
}

/// The endpoint of the S3 server `.ci/run` starts, or `None` (the test
/// skips, saying why) when `CAIRNDB_TEST_S3_ENDPOINT` is unset outside CI.
#[cfg(feature = "s3")]
pub fn s3_endpoint() -> Option<String> {
    crate::common::mounts::required_env(
        "CAIRNDB_TEST_S3_ENDPOINT",
        "CAIRNDB_TEST_S3_REFUSED",
        "run `bash .ci/run`, which starts an S3 server (moto) on 127.0.0.1",
    )
}

/// The bucket the tests use on that server.
#[cfg(feature = "s3")]
pub fn s3_bucket() -> String {
    std::env::var("CAIRNDB_TEST_S3_BUCKET").unwrap_or_else(|_| "cairndb-test".into())
}

/// The S3 store at `prefix` of the test bucket on `endpoint`.
#[cfg(feature = "s3")]
pub fn s3_store_at(endpoint: &str, prefix: &str, multipart: Option<(u64, usize)>) -> cairndb::backup::S3Store {
    let mut config = cairndb::backup::S3Config::new(s3_bucket())
        .endpoint(endpoint)
        .region("us-east-1")
        .credentials("testing", "testing")
        .prefix(prefix);
    if let Some((threshold, part)) = multipart {
        config = config.multipart(threshold, part);
    }
    cairndb::backup::S3Store::open(config).expect("open the S3 store (is the server running, the bucket made?)")
}
