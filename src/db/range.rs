//! [`KeyRange`]: the key ranges scans accept, and the owned bounds they
//! become.

use std::ops::{Bound, Range, RangeBounds, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};

/// Owned bounds of a key range.
pub(crate) type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// A range of keys, as [`Db::range`](crate::Db::range) and
/// [`Snapshot::range`](crate::Snapshot::range) take it: any of Rust's range
/// expressions (`..`, `a..`, `..b`, `..=b`, `a..b`, `a..=b`) over keys that
/// are `AsRef<[u8]>` (`&[u8]`, `Vec<u8>`, `&str`, `String`, byte arrays and
/// byte-string literals), or a pair of [`Bound`]s, whose two keys may be of
/// different types.
///
/// ```
/// use std::ops::Bound;
/// use std::sync::Arc;
/// use cairndb::Config;
/// use cairndb::fs::MemFs;
///
/// let db = Config::new("/data").fs(Arc::new(MemFs::new())).open()?;
/// for key in ["a", "b", "ccc", "d"] {
///     db.put(key, "")?;
/// }
/// let keys = |iter: cairndb::DbIter| iter.map(|kv| kv.map(|(k, _)| k)).collect::<cairndb::Result<Vec<_>>>();
/// assert_eq!(keys(db.range(..))?.len(), 4);
/// assert_eq!(keys(db.range("b".."d"))?, [b"b".to_vec(), b"ccc".to_vec()]);
/// assert_eq!(keys(db.range(b"b"..=b"d"))?, [b"b".to_vec(), b"ccc".to_vec(), b"d".to_vec()]);
/// assert_eq!(keys(db.range(&b"a"[..]..b"ccc"))?, [b"a".to_vec(), b"b".to_vec()]);
/// assert_eq!(keys(db.range((Bound::Excluded("a"), Bound::Included(b"ccc".to_vec()))))?.len(), 2);
/// assert_eq!(keys(db.range(..String::from("b")))?, [b"a".to_vec()]);
/// # Ok::<(), cairndb::Error>(())
/// ```
///
/// Both ends of `a..b` have one type in Rust, and two byte-string literals
/// of different lengths have two (`b"a"` is a `&[u8; 1]`, `b"ccc"` a
/// `&[u8; 3]`), so `b"a"..b"ccc"` is no range whatever a function accepts.
/// Write the start as a slice, `&b"a"[..]..b"ccc"` (the end then converts
/// to it), use `&str` keys (`"a".."ccc"`), or give two bounds:
///
/// ```compile_fail,E0308
/// # let db = cairndb::Config::new("/d").fs(std::sync::Arc::new(cairndb::fs::MemFs::new())).open().unwrap();
/// db.range(b"a"..b"ccc");
/// ```
pub trait KeyRange {
    /// The range's start and end, as owned keys.
    fn into_bounds(self) -> (Bound<Vec<u8>>, Bound<Vec<u8>>);
}

fn owned<K: AsRef<[u8]>>(bound: Bound<&K>) -> Bound<Vec<u8>> {
    bound.map(|k| k.as_ref().to_vec())
}

fn bounds_of<K: AsRef<[u8]>>(range: &impl RangeBounds<K>) -> KeyBounds {
    (owned(range.start_bound()), owned(range.end_bound()))
}

macro_rules! key_range_of_std_range {
    ($($range:ident),*) => {$(
        impl<K: AsRef<[u8]>> KeyRange for $range<K> {
            fn into_bounds(self) -> KeyBounds {
                bounds_of(&self)
            }
        }
    )*};
}

key_range_of_std_range!(Range, RangeFrom, RangeTo, RangeInclusive, RangeToInclusive);

impl KeyRange for RangeFull {
    fn into_bounds(self) -> KeyBounds {
        (Bound::Unbounded, Bound::Unbounded)
    }
}

impl<A: AsRef<[u8]>, B: AsRef<[u8]>> KeyRange for (Bound<A>, Bound<B>) {
    fn into_bounds(self) -> KeyBounds {
        (owned(self.0.as_ref()), owned(self.1.as_ref()))
    }
}

/// The keys starting with `prefix`: from `prefix` up to (excluded) the
/// smallest key greater than every such key.
pub(crate) fn prefix_bounds(prefix: &[u8]) -> KeyBounds {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return (Bound::Included(prefix.to_vec()), Bound::Excluded(end));
        }
    }
    (Bound::Included(prefix.to_vec()), Bound::Unbounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(range: impl KeyRange) -> KeyBounds {
        range.into_bounds()
    }

    fn inc(k: &str) -> Bound<Vec<u8>> {
        Bound::Included(k.into())
    }

    fn exc(k: &str) -> Bound<Vec<u8>> {
        Bound::Excluded(k.into())
    }

    #[test]
    fn every_range_form_and_key_type_converts() {
        assert_eq!(bounds(..), (Bound::Unbounded, Bound::Unbounded));
        assert_eq!(bounds(b"a"..), (inc("a"), Bound::Unbounded));
        assert_eq!(bounds(..b"b".to_vec()), (Bound::Unbounded, exc("b")));
        assert_eq!(bounds(..="b"), (Bound::Unbounded, inc("b")));
        assert_eq!(bounds(String::from("a")..String::from("ccc")), (inc("a"), exc("ccc")));
        assert_eq!(bounds(&b"a"[..]..b"ccc"), (inc("a"), exc("ccc")));
        assert_eq!(bounds([b'a']..=[b'c']), (inc("a"), inc("c")));
        assert_eq!(bounds((Bound::Excluded("a"), Bound::Included(b"ccc"))), (exc("a"), inc("ccc")));
        assert_eq!(bounds((Bound::Included(b"a".to_vec()), Bound::<&str>::Unbounded)), (inc("a"), Bound::Unbounded));
    }

    #[test]
    fn prefix_bounds_cover_exactly_the_prefix() {
        assert_eq!(prefix_bounds(b"ab"), (Bound::Included(b"ab".to_vec()), Bound::Excluded(b"ac".to_vec())));
        assert_eq!(prefix_bounds(b"a\xff"), (Bound::Included(b"a\xff".to_vec()), Bound::Excluded(b"b".to_vec())));
        assert_eq!(prefix_bounds(b"\xff\xff"), (Bound::Included(b"\xff\xff".to_vec()), Bound::Unbounded));
        assert_eq!(prefix_bounds(b""), (Bound::Included(Vec::new()), Bound::Unbounded));
    }
}
