//! How keys and values are written as text: escaped (the default, see
//! [`escape`](crate::escape)) or hex (`--hex`, see [`hex`](crate::hex)).

use std::ffi::OsStr;

use crate::{escape, hex};

/// A way of writing bytes as text, for arguments and output alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notation {
    /// Printable text as it is, other bytes as `\xNN` escapes.
    Escaped,
    /// Two hex digits a byte.
    Hex,
}

impl Notation {
    /// `Hex` when `--hex` was given.
    pub fn hex_if(hex: bool) -> Notation {
        if hex { Notation::Hex } else { Notation::Escaped }
    }

    /// `bytes` as one line of text.
    pub fn show(self, bytes: &[u8]) -> String {
        match self {
            Notation::Escaped => escape::show(bytes),
            Notation::Hex => hex::show(bytes),
        }
    }

    /// The bytes an argument written this way stands for.
    pub fn parse(self, arg: &OsStr) -> Result<Vec<u8>, String> {
        match self {
            Notation::Escaped => escape::parse(arg),
            Notation::Hex => hex::parse(arg),
        }
    }
}
