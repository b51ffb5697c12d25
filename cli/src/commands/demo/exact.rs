//! Is the checkpoint exact? It must hold every write with seqno <= its
//! seqno S and none after: each loaded key whose put is <= S with its
//! value, each hot key in the state its last background write <= S left
//! it, and nothing else.

use std::cmp::Ordering;

use cairndb::{Db, DbIter, SeqNo};

use super::load::{BackgroundOp, HOT_KEYS, Load, background_op, hot_key, key, value};
use crate::escape::show;
use crate::failure::{At as _, Failure};

type Kv = (Vec<u8>, Vec<u8>);

/// What the comparison found.
#[derive(Debug, Default)]
pub struct Exactness {
    /// The checkpoint's seqno S.
    pub seqno: SeqNo,
    /// Writes (both writers) with seqno <= S: the checkpoint must reflect them.
    pub writes_up_to: u64,
    /// Writes after S: the checkpoint must not show them.
    pub writes_after: u64,
    /// Key-value pairs read from the checkpoint.
    pub keys_read: u64,
    /// Keys missing, unexpected or with a wrong value.
    pub wrong: u64,
    /// The first of them, described.
    pub first_wrong: Option<String>,
}

impl Exactness {
    /// True when the checkpoint held exactly what it should.
    pub fn is_ok(&self) -> bool {
        self.wrong == 0
    }

    fn note(&mut self, what: &str, key: &[u8]) {
        self.wrong += 1;
        self.first_wrong.get_or_insert_with(|| format!("{what} \"{}\"", show(key)));
    }
}

/// Reads the whole checkpoint (opened as `db`) and compares it with the state the writes up to its seqno imply.
pub fn check(db: &Db, load: &Load) -> Result<Exactness, Failure> {
    let s = load.checkpoint.seqno;
    let loaded = load.keys_in_checkpoint();
    let background = load.background_seqnos.partition_point(|x| *x <= s) as u64;
    let total = (load.loader_seqnos.len() + load.background_seqnos.len()) as u64;
    let mut found = Exactness { seqno: s, writes_up_to: loaded + background, ..Exactness::default() };
    found.writes_after = total - found.writes_up_to;
    let vb = load.value_bytes;
    let expected = expected_hot(background, vb).chain((0..loaded).map(|i| (key(i), value(b'k', i, vb))));
    compare(db.iter(), expected, &mut found).at(db.path())?;
    Ok(found)
}

/// The hot keys (in key order) as the first `count` background writes left them.
fn expected_hot(count: u64, value_bytes: usize) -> impl Iterator<Item = Kv> {
    (0..HOT_KEYS).filter_map(move |h| {
        let last = count.checked_sub(1).filter(|&last| last >= h)?;
        let c = h + (last - h) / HOT_KEYS * HOT_KEYS;
        match background_op(c) {
            BackgroundOp::Put => Some((hot_key(c), value(b'h', c, value_bytes))),
            BackgroundOp::Delete => None,
        }
    })
}

/// Walks both sorted sequences together, noting every difference.
fn compare(mut actual: DbIter, mut expected: impl Iterator<Item = Kv>, found: &mut Exactness) -> cairndb::Result<()> {
    let mut next_actual = |found: &mut Exactness| -> cairndb::Result<Option<Kv>> {
        let kv = actual.next().transpose()?;
        found.keys_read += u64::from(kv.is_some());
        Ok(kv)
    };
    let (mut a, mut e) = (next_actual(found)?, expected.next());
    loop {
        let order = match (&a, &e) {
            (None, None) => return Ok(()),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x.0.cmp(&y.0),
        };
        match (order, a.take(), e.take()) {
            (Ordering::Less, Some(x), rest) => {
                found.note("unexpected key", &x.0);
                (a, e) = (next_actual(found)?, rest);
            }
            (Ordering::Greater, rest, Some(y)) => {
                found.note("missing key", &y.0);
                (a, e) = (rest, expected.next());
            }
            (_, Some(x), Some(y)) => {
                if x.1 != y.1 {
                    found.note("wrong value for key", &x.0);
                }
                (a, e) = (next_actual(found)?, expected.next());
            }
            _ => unreachable!("the order was computed from these two"),
        }
    }
}
