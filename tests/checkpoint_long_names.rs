//! Any target the file system accepts works, however long its name or its
//! path: checkpoints and restores into names of 240 to 255 bytes (the
//! staging directory beside the target must not be longer than the target
//! allows), and into paths within a few bytes of `PATH_MAX` (the files
//! inside the staging directory and the copy are longer than `PATH_MAX`,
//! so no single system call can name them by their whole path). The copies
//! open, verify and hold exactly what was copied; the parent holds nothing
//! else afterwards.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairndb::backup::{BackupEngine, BackupId, DirStore};
use cairndb::checkpoint::{self, CheckpointOptions};
use cairndb::fs::{Fs, StdFs};
use cairndb::{Config, Db};

/// `PATH_MAX` on Linux: the longest path a system call takes is one byte
/// shorter (the terminating NUL counts).
const PATH_MAX: usize = 4096;
const NAME_MAX: usize = 255;

fn loaded_db(path: &Path) -> Db {
    let db = Config::new(path).memtable_size_bytes(64 << 10).blob_threshold_bytes(300).open().unwrap();
    for i in 0..400u32 {
        let value = if i % 40 == 0 { vec![i as u8; 500] } else { format!("value-{i}").into_bytes() };
        db.put(format!("k{i:04}"), value).unwrap();
    }
    db
}

/// Every key and value of the database at `path`, opened read-only.
fn contents(path: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let db = Config::new(path).read_only(true).open().unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    db.iter().map(Result::unwrap).collect()
}

/// A name of `len` bytes, recognisable by `tag`.
fn name(tag: &str, len: usize) -> String {
    format!("{tag}-{}", "n".repeat(len - tag.len() - 1))
}

/// A directory below `root` whose path is exactly `len` bytes long, made
/// of names of at most `NAME_MAX` bytes.
fn parent_of_length(root: &Path, len: usize) -> PathBuf {
    let mut dir = root.to_path_buf();
    while dir.as_os_str().len() < len {
        let room = len - dir.as_os_str().len() - 1;
        // Never leave less than one byte for the next name.
        let step = if room > NAME_MAX { (room - 2).min(NAME_MAX - 1) } else { room };
        dir.push("d".repeat(step));
    }
    assert_eq!(dir.as_os_str().len(), len);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The only entry of `dir` is `target`: no staging leftover beside it.
fn alone_in(dir: &Path, target: &Path) {
    let fs = StdFs::new();
    let names: Vec<_> = fs.read_dir(dir).unwrap().into_iter().map(|e| e.name).collect();
    assert_eq!(names, [target.file_name().unwrap()], "in {}", dir.display());
}

/// Checkpoints (flushed, then not) and restores into `target`, whose
/// parent is empty: each copy verifies, holds what `db` holds, and is the
/// parent's only entry.
fn round_trip(db: &Db, engine: &BackupEngine, target: &Path) {
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    let (name_bytes, path_bytes) = (target.file_name().unwrap().len(), target.as_os_str().len());
    let expected = db.iter().map(Result::unwrap).collect::<Vec<_>>();
    for flush in [true, false] {
        let info = db
            .checkpoint_with(target, CheckpointOptions::default().flush(flush))
            .unwrap_or_else(|e| panic!("checkpoint into a {name_bytes}-byte name, a {path_bytes}-byte path: {e}"));
        assert_eq!(info.path, target);
        let report = checkpoint::verify(&fs, target).unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(contents(target), expected, "{path_bytes} bytes");
        alone_in(target.parent().unwrap(), target);
        checkpoint::delete(&*fs, target).unwrap();
        assert!(fs.read_dir(target.parent().unwrap()).unwrap().is_empty());
    }
    engine
        .restore(BackupId(1), target)
        .unwrap_or_else(|e| panic!("restore into a {name_bytes}-byte name, a {path_bytes}-byte path: {e}"));
    assert_eq!(contents(target), expected);
    alone_in(target.parent().unwrap(), target);
    std::fs::remove_dir_all(target).unwrap();
}

fn backed_up(root: &Path) -> (Db, BackupEngine) {
    let db = loaded_db(&root.join("db"));
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    let engine = BackupEngine::new(Arc::new(DirStore::open(fs, root.join("store")).unwrap()));
    engine.create_backup(&db).unwrap();
    (db, engine)
}

#[test]
fn targets_with_names_of_240_to_255_bytes() {
    let root = tempfile::tempdir().unwrap();
    let (db, engine) = backed_up(root.path());
    let parent = root.path().join("copies");
    std::fs::create_dir(&parent).unwrap();
    for len in [240, 250, 254, NAME_MAX] {
        round_trip(&db, &engine, &parent.join(name("long", len)));
    }
}

#[test]
fn targets_within_a_few_bytes_of_path_max() {
    let root = tempfile::tempdir().unwrap();
    let (db, engine) = backed_up(root.path());
    // A short name at the end of a long path, and a long one; the longest
    // path a system call accepts, and a few bytes shorter.
    for (name_len, path_len) in [(8, PATH_MAX - 1), (8, PATH_MAX - 6), (NAME_MAX, PATH_MAX - 1)] {
        let deep = root.path().join("deep");
        let parent = parent_of_length(&deep, path_len - name_len - 1);
        let target = parent.join(name("deep", name_len));
        assert_eq!(target.as_os_str().len(), path_len);
        round_trip(&db, &engine, &target);
        std::fs::remove_dir_all(&deep).unwrap();
    }
}

/// A whole checkpoint under a staging name — as a take-back leaves one —
/// in the format of a long target's staging name and in the format before
/// it: never opened, listed or taken as the newest valid; the next
/// checkpoint into the folder removes it (nothing holds its lock).
#[test]
fn staging_named_copies_in_either_format_are_never_opened_or_listed_and_are_removed() {
    let root = tempfile::tempdir().unwrap();
    let fs: Arc<dyn Fs> = Arc::new(StdFs::new());
    let db = loaded_db(&root.path().join("db"));
    let parent = root.path().join("cps");
    std::fs::create_dir(&parent).unwrap();
    let long = name("long", NAME_MAX);
    let hashed = format!(".cairn-staging.{}~0123456789abcdef.4242.7", &long[..40]);
    let old = format!(".cairn-staging.{}.4242.8", name("old", 100));
    for staging in [&hashed, &old] {
        let made = db.checkpoint(parent.join("made")).unwrap();
        std::fs::rename(&made.path, parent.join(staging)).unwrap();
        let err = Config::new(parent.join(staging)).read_only(true).open().unwrap_err();
        assert!(err.to_string().contains("not a database to open"), "{err}");
        assert!(checkpoint::list(&*fs, &parent).unwrap().is_empty(), "{staging}");
        assert!(checkpoint::latest_valid(&fs, &parent).unwrap().found.is_none(), "{staging}");
    }
    let kept = db.checkpoint(parent.join(&long)).unwrap();
    alone_in(&parent, &kept.path);
}
