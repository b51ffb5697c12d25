//! `cairn`: the cairndb command-line tool.
fn main() {
    println!("cairn {}", env!("CARGO_PKG_VERSION"));
}
