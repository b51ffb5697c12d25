//! A checkpoint opened for writing and written to is no longer as taken:
//! its description still says where and when it was cut, and its state
//! says it continued as a database of its own, at which seqno.

use std::sync::Arc;

use cairndb::checkpoint::{self, CheckpointState};
use cairndb::fs::{Fs, MemFs};
use cairndb::{Config, SeqNo};

#[test]
fn a_checkpoint_is_as_taken_until_opened_for_writing_and_then_says_how_far_it_went() {
    let fs = MemFs::new();
    let shared: Arc<dyn Fs> = Arc::new(fs.clone());
    let config = |path: &str| Config::new(path).fs(Arc::clone(&shared)).background_threads(false);
    let db = config("/db").open().unwrap();
    for i in 0..89u32 {
        db.put(format!("k{i}"), "v").unwrap();
    }
    db.checkpoint("/cp").unwrap();
    let description = checkpoint::describe(&fs, "/cp".as_ref()).unwrap().unwrap();
    assert_eq!(description.seqno, SeqNo(89));
    let state = || checkpoint::state(Arc::clone(&shared), "/cp".as_ref(), &description).unwrap();
    assert_eq!(state(), CheckpointState::AsTaken);
    drop(config("/cp").read_only(true).open().unwrap());
    assert_eq!(state(), CheckpointState::AsTaken, "a read-only open changes nothing");

    let source = db.identity().unwrap();
    let copy = config("/cp").open().unwrap();
    let forked = copy.identity();
    assert_eq!(forked.map(|i| i.generation), Some(source.generation + 1));
    assert_eq!(
        CheckpointState::of(&description, &copy),
        CheckpointState::Continued { seqno: SeqNo(89), database: forked }
    );
    assert_eq!(CheckpointState::of(&description, &copy).written_since(&description), 0);
    copy.put("k89", "v").unwrap();
    assert_eq!(
        CheckpointState::of(&description, &copy),
        CheckpointState::Continued { seqno: SeqNo(90), database: forked }
    );
    drop(copy);

    let now = state();
    assert_eq!(now, CheckpointState::Continued { seqno: SeqNo(90), database: forked });
    assert_eq!(now.written_since(&description), 1);
    assert_eq!(checkpoint::describe(&fs, "/cp".as_ref()).unwrap().unwrap(), description, "the description stays");
}
