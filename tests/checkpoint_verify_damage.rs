//! A no-flush checkpoint's log is complete by construction: a flipped bit
//! in any of its segments (header, record header, record body, commit
//! record), a deleted segment or a truncated one is found by
//! `checkpoint::verify` and refused by every open — never a checkpoint
//! that verifies clean or opens with fewer writes than it records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairndb::checkpoint;
use cairndb::fs::{Fs, MemFs, OpenOptions, read_to_vec};
use cairndb::internals::hlog::{record, segment};
use cairndb::{CheckpointOptions, Config, Db};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

const CP: &str = "/cp";

fn config(fs: &MemFs, path: &str) -> Config {
    Config::new(path).fs(Arc::new(fs.clone())).background_threads(false)
}

fn contents(db: &Db) -> State {
    db.iter().map(|kv| kv.unwrap()).collect()
}

/// A no-flush checkpoint whose log spans several segments: two sessions
/// and an earlier no-flush checkpoint's freeze, none flushed.
fn checkpoint_with_log() -> (MemFs, State, Vec<PathBuf>) {
    let fs = MemFs::new();
    let db = config(&fs, "/db").open().unwrap();
    for i in 0..200u32 {
        db.put(format!("a{i:03}"), [1; 30]).unwrap();
    }
    db.persist().unwrap();
    drop(db);
    let db = config(&fs, "/db").open().unwrap();
    for i in 0..100u32 {
        db.put(format!("b{i:03}"), [2; 50]).unwrap();
    }
    db.checkpoint_with("/first", CheckpointOptions::default().flush(false)).unwrap();
    for i in 0..100u32 {
        db.put(format!("c{i:03}"), [3; 20]).unwrap();
        db.put(b"hot", i.to_le_bytes()).unwrap();
    }
    let info = db.checkpoint_with(CP, CheckpointOptions::default().flush(false)).unwrap();
    assert!(info.log_segments >= 3, "{info:?}");
    assert_eq!(info.table_files, 0, "{info:?}");
    let expected = contents(&db);
    drop(db);
    let log = Path::new(CP).join("log");
    let segments = segment::list(&fs, &log).unwrap().into_iter().map(|n| segment::path(&log, n)).collect();
    let fs = fs.crash_copy();
    assert!(checkpoint::verify(&(Arc::new(fs.clone()) as Arc<dyn Fs>), Path::new(CP)).unwrap().is_ok());
    (fs, expected, segments)
}

/// Writes `bytes` into a fresh copy of `fs` at `path`, as a new inode (the
/// checkpoint's segments are hard links to the source's).
fn replaced(fs: &MemFs, path: &Path, bytes: &[u8]) -> MemFs {
    let copy = fs.crash_copy();
    copy.remove_file(path).unwrap();
    let file = copy.open(path, OpenOptions::create_new()).unwrap();
    file.write_all_at(bytes, 0).unwrap();
    file.sync_all().unwrap();
    copy
}

/// Every file under `dir` with its bytes.
fn files(fs: &MemFs, dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in fs.read_dir(dir).unwrap() {
        let path = dir.join(&entry.name);
        if entry.kind == cairndb::fs::FileKind::Dir {
            out.extend(files(fs, &path));
        } else {
            out.insert(path.clone(), read_to_vec(fs, &path).unwrap());
        }
    }
    out
}

/// Verify finds a problem, and no open (read-only or writable) succeeds
/// or changes a byte of the checkpoint.
fn assert_damage_found(fs: &MemFs, what: &str) {
    let shared: Arc<dyn Fs> = Arc::new(fs.clone());
    let report = checkpoint::verify(&shared, Path::new(CP)).unwrap();
    assert!(!report.is_ok(), "{what}: verify says ok ({report:?})");
    let before = files(fs, Path::new(CP));
    for read_only in [true, false] {
        match config(fs, CP).read_only(read_only).open() {
            Err(e) => assert!(e.is_corruption(), "{what} (read-only {read_only}): {e}"),
            Ok(db) => panic!("{what} (read-only {read_only}): opened with {} keys", contents(&db).len()),
        }
        let after = files(fs, Path::new(CP));
        let changed: Vec<_> = after.iter().filter(|(p, b)| before.get(*p) != Some(b)).map(|(p, _)| p).collect();
        let gone: Vec<_> = before.keys().filter(|p| !after.contains_key(*p)).collect();
        assert!(changed.is_empty() && gone.is_empty(), "{what}: the failed open changed {changed:?}, removed {gone:?}");
    }
}

/// Offsets worth flipping in a segment: its header, each commit record
/// whole, and a spread of record headers and bodies.
fn offsets(bytes: &[u8]) -> Vec<usize> {
    let mut out: Vec<usize> = (0..segment::HEADER_BYTES).collect();
    let mut at = segment::HEADER_BYTES;
    while at < bytes.len() {
        let rec = record::decode(&bytes[at..]).unwrap();
        if rec.kind == record::Kind::Commit {
            out.extend(at..at + rec.len_bytes);
        } else {
            out.extend((at..at + rec.len_bytes).step_by(29));
        }
        at += rec.len_bytes;
    }
    out
}

#[test]
fn every_flipped_bit_in_a_checkpoints_log_is_found() {
    let (fs, expected, segments) = checkpoint_with_log();
    let opened = config(&fs, CP).read_only(true).open().unwrap();
    assert_eq!(contents(&opened), expected);
    drop(opened);
    let mut flips = 0;
    for path in &segments {
        let bytes = read_to_vec(&fs, path).unwrap();
        for offset in offsets(&bytes) {
            let mut damaged = bytes.clone();
            damaged[offset] ^= 1 << (offset % 8);
            assert_damage_found(&replaced(&fs, path, &damaged), &format!("{path:?} byte {offset}"));
            flips += 1;
        }
    }
    eprintln!("{flips} flipped bits, each found");
}

#[test]
fn a_deleted_or_truncated_segment_of_a_checkpoint_is_found() {
    let (fs, _, segments) = checkpoint_with_log();
    for path in &segments {
        let copy = fs.crash_copy();
        copy.remove_file(path).unwrap();
        assert_damage_found(&copy, &format!("{path:?} deleted"));
    }
    let last = segments.last().unwrap();
    let bytes = read_to_vec(&fs, last).unwrap();
    let mut at = segment::HEADER_BYTES;
    let mut cuts = vec![0, 10, segment::HEADER_BYTES];
    while at < bytes.len() {
        cuts.push(at);
        at += record::decode(&bytes[at..]).unwrap().len_bytes;
    }
    cuts.push(bytes.len() - 1);
    for cut in cuts.into_iter().filter(|&c| c < bytes.len()) {
        assert_damage_found(&replaced(&fs, last, &bytes[..cut]), &format!("{last:?} cut at {cut}"));
    }
}

#[test]
fn a_checkpoint_written_to_since_still_verifies() {
    let (fs, mut expected, _) = checkpoint_with_log();
    let db = config(&fs, CP).open().unwrap();
    db.put(b"new", b"write").unwrap();
    db.persist().unwrap();
    drop(db);
    expected.insert(b"new".to_vec(), b"write".to_vec());
    let shared: Arc<dyn Fs> = Arc::new(fs.clone());
    let report = checkpoint::verify(&shared, Path::new(CP)).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(contents(&config(&fs, CP).read_only(true).open().unwrap()), expected);
}
