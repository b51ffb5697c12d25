fn main() { println!("cairn {}", env!("CARGO_PKG_VERSION")); }
