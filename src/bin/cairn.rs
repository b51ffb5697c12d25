//! `cairn`: the command-line tool (a stub for now).

fn main() {
    println!("cairn {}", env!("CARGO_PKG_VERSION"));
}
