//! Identifier newtypes shared by every layer.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw integer.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A write's sequence number: writes are totally ordered by it, and a
    /// snapshot or checkpoint at `S` holds exactly the writes with seqno <= `S`.
    SeqNo
);
id_type!(
    /// Names a table file: `tables/{id}.sst`.
    TableId
);
id_type!(
    /// Names a blob file: `blobs/{id}.blob`.
    BlobFileId
);
id_type!(
    /// A byte position in the hybrid log's address space, which grows
    /// monotonically across segments.
    LogAddress
);
