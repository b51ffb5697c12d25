//! Identifier newtypes shared by every layer.
//!
//! Each prints as its bare number, with `{}` and `{:?}` alike (and honours
//! width and fill): the number is what file names, messages and `cairn`
//! show, so a value reads the same in a log line, an error and a `Debug`
//! dump of a struct holding it.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw integer.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        /// The same as `Display`: the bare number.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_agree() {
        let printed = |debug: String, display: String| assert_eq!(debug, display);
        printed(format!("{:?}", SeqNo(42)), format!("{}", SeqNo(42)));
        printed(format!("{:?}", TableId(7)), format!("{}", TableId(7)));
        printed(format!("{:?}", BlobFileId(9)), format!("{}", BlobFileId(9)));
        printed(format!("{:?}", LogAddress(4096)), format!("{}", LogAddress(4096)));
        assert_eq!(format!("{}", SeqNo(42)), "42");
        assert_eq!(format!("{:?}", Some(LogAddress(4096))), "Some(4096)");
        assert_eq!(format!("[{:>5}|{:<4?}]", TableId(7), SeqNo(3)), "[    7|3   ]");
    }
}
