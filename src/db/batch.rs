//! [`WriteBatch`]: several writes applied atomically.

/// One write of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BatchOp {
    Put { key: Vec<u8>, value: Vec<u8> },
    Delete { key: Vec<u8> },
}

/// Puts and deletes applied all together or not at all: readers see either
/// none or all of them, and recovery after a crash restores either none or
/// all of them.
///
/// ```
/// use cairndb::WriteBatch;
/// let batch = WriteBatch::new().put(b"a", b"1").delete(b"b");
/// assert_eq!(batch.len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    pub(crate) ops: Vec<BatchOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// Adds a put (builder style).
    pub fn put(mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> WriteBatch {
        self.push_put(key, value);
        self
    }

    /// Adds a delete (builder style).
    pub fn delete(mut self, key: impl AsRef<[u8]>) -> WriteBatch {
        self.push_delete(key);
        self
    }

    /// Adds a put.
    pub fn push_put(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.ops.push(BatchOp::Put { key: key.as_ref().to_vec(), value: value.as_ref().to_vec() });
    }

    /// Adds a delete.
    pub fn push_delete(&mut self, key: impl AsRef<[u8]>) {
        self.ops.push(BatchOp::Delete { key: key.as_ref().to_vec() });
    }

    /// Number of writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when the batch has no writes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
