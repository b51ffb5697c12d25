//! A read-only view keeps at most `max_open_files` of its files open. Its
//! open checks every table and blob file of its version (so the view is a
//! whole cut); a file it holds open stays readable whatever the writer
//! deletes, and one it closed and needs again after the writer removed it
//! fails the read with `Error::ViewOutdated` (not found, naming the file,
//! saying to open a new view), never with another version's data.

use cairndb::{Config, Db, Error};

fn put_flushed(db: &Db, rounds: u32) {
    for round in 0..rounds {
        for i in 0..200u32 {
            db.put(format!("key{i:04}-{round}"), vec![round as u8; 600]).unwrap();
        }
        db.flush().unwrap();
    }
}

#[test]
fn a_view_whose_closed_file_the_writer_removed_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let writer = Config::new(&path)
        .table_target_bytes(16 << 10)
        .blob_threshold_bytes(500)
        .level0_trigger(100)
        .background_threads(false)
        .open()
        .unwrap();
    put_flushed(&writer, 4);
    let (files, first_table) = {
        let version = writer.version(); // Pins its files: dropped before the compaction.
        (version.table_count() + version.blob_files.len(), version.levels[0][0].info.id.get())
    };
    assert!(files >= 8, "{files} files");
    let view = Config::new(&path).read_only(true).create_if_missing(false).max_open_files(2).open().unwrap();
    assert_eq!((view.stats().open_files, view.stats().max_open_files), (2, 2), "every file checked, two kept");
    assert_eq!(view.get("key0007-3").unwrap(), Some(vec![3; 600]));
    writer.compact().unwrap();
    assert!(!path.join(format!("tables/{first_table}.sst")).exists(), "the writer removed it");
    let mut outdated = 0;
    for round in 0..4u32 {
        for i in (0..200u32).step_by(50) {
            match view.get(format!("key{i:04}-{round}")) {
                Ok(value) => assert_eq!(value, Some(vec![round as u8; 600]), "what the view reads is its version's"),
                Err(e) => {
                    assert!(matches!(e, Error::ViewOutdated { .. }) && e.is_not_found(), "{e:?}");
                    let text = e.to_string();
                    assert!(text.contains(&path.display().to_string()) && text.contains("open a new view"), "{text}");
                    outdated += 1;
                }
            }
        }
    }
    assert!(outdated > 0, "some reads needed a file the view had closed");
    assert!(view.stats().open_files <= 2);
    let fresh = Config::new(&path).read_only(true).create_if_missing(false).max_open_files(2).open().unwrap();
    assert_eq!(fresh.get("key0150-2").unwrap(), Some(vec![2; 600]));
    assert_eq!(fresh.iter().count(), 800);
}
