//! The shape of the source tree, checked so it stays true:
//! - no circle among the files of `src/` (a file imports another when it
//!   names an item the other defines, through `use` or a path; a `mod.rs`
//!   re-export counts as the defining file, and `mod` lines and
//!   re-exports in a `mod.rs` are its table of contents, not imports;
//!   unit tests, under `#[cfg(test)]`, may use any layer);
//! - no file of `src/` outside `src/fs/` names `std::fs` (all storage goes
//!   through the `Fs` trait, so `MemFs` and `FaultFs` see every operation);
//! - the `cairn` tool (`cli/src`) uses only the public API: none of the
//!   `#[doc(hidden)]` modules, so it needs nothing a user could not have.
//!
//! The scanner reads Rust as tokens (comments and literals dropped), which
//! is enough for `use` trees and `crate::`/`super::`/`self::` paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Modules of the library that carry no stability promise: the tool must
/// not reach them.
const HIDDEN_MODULES: &[&str] = &["internals", "hlog", "table", "blob", "version", "compaction", "fuzzing"];

#[test]
fn no_import_circle_among_source_files() {
    let tree = Tree::load(&Path::new(ROOT).join("src"));
    let graph = tree.import_graph();
    let circles = circles(&graph);
    assert!(
        circles.is_empty(),
        "import circles among the files of src/ (each line one circle):\n{}",
        circles.iter().map(|c| c.join(" -> ")).collect::<Vec<_>>().join("\n")
    );
    // The scanner found the imports (a broken scanner finds no circles).
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(edges > 200, "only {edges} imports found: the scanner is broken");
    assert!(
        graph["src/db/inner.rs"].contains("src/hlog/log.rs"),
        "db/inner.rs imports the hybrid log, through a re-export"
    );
    assert!(graph["src/hlog/frozen.rs"].contains("src/hlog/shared.rs"), "a re-export-free import is seen");
}

#[test]
fn only_the_fs_layer_names_std_fs() {
    let tree = Tree::load(&Path::new(ROOT).join("src"));
    let mut offenders = Vec::new();
    for (file, tokens) in &tree.files {
        if file.starts_with("src/fs/") {
            continue;
        }
        for path in paths(tokens) {
            if path.len() >= 2 && path[0] == "std" && path[1] == "fs" {
                offenders.push(format!("{file}: {}", path.join("::")));
            }
        }
    }
    assert!(offenders.is_empty(), "std::fs outside src/fs/ (use the Fs trait):\n{}", offenders.join("\n"));
    assert!(
        tree.files.keys().any(|f| f.starts_with("src/fs/"))
            && paths(&tree.files["src/fs/std_fs.rs"]).iter().any(|p| p.starts_with(&["std".into(), "fs".into()])),
        "the scanner sees std::fs in src/fs/std_fs.rs"
    );
}

#[test]
fn the_tool_uses_only_the_public_api() {
    let cli = Path::new(ROOT).join("cli/src");
    let mut offenders = Vec::new();
    let mut seen = 0;
    for (file, tokens) in Tree::load(&cli).files {
        for path in paths(&tokens) {
            if path.first().map(String::as_str) != Some("cairndb") {
                continue;
            }
            seen += 1;
            if let Some(hidden) = path.get(1).filter(|m| HIDDEN_MODULES.contains(&m.as_str())) {
                offenders.push(format!("cli/{file}: cairndb::{hidden}"));
            }
        }
    }
    assert!(seen > 20, "only {seen} uses of cairndb found in cli/src: the scanner is broken");
    assert!(offenders.is_empty(), "the tool reaches past the public API:\n{}", offenders.join("\n"));
}

#[test]
fn the_scanner_reads_use_trees_and_skips_comments() {
    let tokens = lex("use a::{b, c::{d as e, self}, f::*}; // crate::x::y\n/* crate::z */ let s = \"crate::q\"; \
                      r#\"crate::raw\"#; 'a'; crate::p::Q::new(); fn f<'a>() {}");
    let uses: Vec<String> = use_paths(&tokens).iter().map(|p| p.join("::")).collect();
    assert_eq!(uses, ["a::b", "a::c::d", "a::c", "a::f"]);
    let all: Vec<String> = paths(&tokens).iter().map(|p| p.join("::")).collect();
    assert!(all.contains(&"crate::p::Q::new".to_string()), "{all:?}");
    assert!(!all.iter().any(|p| p.contains('x') || p.contains('z') || p.contains('q') || p.contains("raw")), "{all:?}");
    let graph = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
        ("d".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(circles(&graph), [vec!["a", "b", "c", "a"]]);
}

/// Every `.rs` file under a directory, as tokens, keyed by its path
/// relative to the directory's parent (`src/db/inner.rs`).
struct Tree {
    base: String,
    files: BTreeMap<String, Vec<String>>,
}

impl Tree {
    fn load(dir: &Path) -> Tree {
        let base = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut files = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let rel = format!("{base}/{}", path.strip_prefix(dir).unwrap().display());
                    if rel.ends_with("/tests.rs") {
                        continue; // a `#[cfg(test)] mod tests;` of its own
                    }
                    files.insert(rel, without_tests(&lex(&std::fs::read_to_string(&path).unwrap())));
                }
            }
        }
        Tree { base, files }
    }

    /// The module path of a file: `src/db/inner.rs` is `[db, inner]`,
    /// `src/db/mod.rs` is `[db]`, `src/lib.rs` is `[]`.
    fn module_of(&self, file: &str) -> Vec<String> {
        let rel = file.strip_prefix(&format!("{}/", self.base)).unwrap().trim_end_matches(".rs");
        let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
            parts.pop();
        }
        parts
    }

    /// The file of a module path, if it is one.
    fn file_of(&self, module: &[String]) -> Option<String> {
        if module.is_empty() {
            return ["lib.rs", "main.rs"]
                .iter()
                .map(|f| format!("{}/{f}", self.base))
                .find(|f| self.files.contains_key(f));
        }
        let joined = module.join("/");
        [format!("{}/{joined}.rs", self.base), format!("{}/{joined}/mod.rs", self.base)]
            .into_iter()
            .find(|f| self.files.contains_key(f))
    }

    /// Which file defines what `path` (already absolute, from the crate
    /// root) names: walks modules, then follows a module's re-exports.
    fn resolve(&self, path: &[String], depth: usize) -> Option<String> {
        let mut module: Vec<String> = Vec::new();
        for (i, segment) in path.iter().enumerate() {
            let mut next = module.clone();
            next.push(segment.clone());
            if self.file_of(&next).is_some() {
                module = next;
                continue;
            }
            // An item (or an inline module) of `module`: a re-export there
            // points at its defining file.
            let file = self.file_of(&module)?;
            if depth < 8
                && let Some(target) = self.reexport(&file, segment)
            {
                let mut rest = target;
                rest.extend(path[i + 1..].iter().cloned());
                return self.resolve(&rest, depth + 1).or(Some(file));
            }
            return Some(file);
        }
        self.file_of(&module)
    }

    /// The absolute path a `pub use` of `file` gives `name`, if any.
    fn reexport(&self, file: &str, name: &str) -> Option<Vec<String>> {
        let module = self.module_of(file);
        let tokens = &self.files[file];
        for (start, _) in tokens.iter().enumerate().filter(|(_, t)| *t == "use") {
            if !is_pub_use(tokens, start) {
                continue;
            }
            for (path, alias) in use_tree(tokens, start + 1).0 {
                if alias.as_deref().unwrap_or(path.last().map(String::as_str).unwrap_or("")) == name {
                    return absolute(self, &module, &path);
                }
            }
        }
        None
    }

    /// File -> files it imports (itself and lib.rs left out).
    fn import_graph(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut graph = BTreeMap::new();
        for (file, tokens) in &self.files {
            let module = self.module_of(file);
            let is_dir_module = file.ends_with("mod.rs") || file.ends_with("lib.rs") || file.ends_with("main.rs");
            let mut imports = BTreeSet::new();
            let mut found = |path: &[String]| {
                if let Some(abs) = absolute(self, &module, path)
                    && let Some(target) = self.resolve(&abs, 0)
                    && target != *file
                    && !target.ends_with("lib.rs")
                {
                    imports.insert(target);
                }
            };
            for (start, _) in tokens.iter().enumerate().filter(|(_, t)| *t == "use") {
                // A mod.rs's re-exports are its table of contents.
                if is_dir_module && is_pub_use(tokens, start) {
                    continue;
                }
                for (path, _) in use_tree(tokens, start + 1).0 {
                    found(&path);
                }
            }
            // Paths outside `use` statements (those were read above).
            let outside_uses: Vec<String> = without_uses(tokens);
            for path in paths(&outside_uses) {
                found(&path);
            }
            graph.insert(file.clone(), imports);
        }
        graph
    }
}

/// Whether the `use` at `tokens[start]` is `pub use` or `pub(...) use`.
fn is_pub_use(tokens: &[String], start: usize) -> bool {
    match start.checked_sub(1).map(|i| tokens[i].as_str()) {
        Some("pub") => true,
        Some(")") => start >= 4 && tokens[start - 4] == "pub",
        _ => false,
    }
}

/// `path` made absolute (from the crate root) as seen from `module`; `None`
/// for another crate's path. In `a/b.rs` (module `a::b`) `super` is `a`;
/// in `a/mod.rs` (module `a`) it is `a`'s parent. A path starting with a
/// child module's name (`pub use log::HybridLog` in `hlog/mod.rs`) is
/// relative to `module`.
fn absolute(tree: &Tree, module: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String>;
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base = Vec::new();
            rest = &path[1..];
        }
        Some("self") => {
            base = module.to_vec();
            rest = &path[1..];
        }
        Some("super") => {
            base = module.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some(first) => {
            base = module.to_vec();
            base.push(first.to_string());
            tree.file_of(&base)?;
            base.pop();
        }
        None => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Every `::`-joined path of identifiers in `tokens` (longest runs only),
/// outside `use` statements too.
fn paths(tokens: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if is_ident(&tokens[i]) && (i == 0 || tokens[i - 1] != "::") {
            let mut path = vec![tokens[i].clone()];
            let mut j = i + 1;
            while j + 1 < tokens.len() && tokens[j] == "::" && is_ident(&tokens[j + 1]) {
                path.push(tokens[j + 1].clone());
                j += 2;
            }
            if path.len() > 1 {
                found.push(path);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

/// `tokens` without the items under `#[cfg(test)]`: unit tests may use
/// any layer (a version test opens a database), so they are not imports.
fn without_tests(tokens: &[String]) -> Vec<String> {
    const CFG_TEST: [&str; 7] = ["#", "[", "cfg", "(", "test", ")", "]"];
    let mut kept = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if tokens.len() - i >= CFG_TEST.len() && tokens[i..i + CFG_TEST.len()].iter().zip(CFG_TEST).all(|(t, c)| t == c)
        {
            // Skip the item: to its `;`, or to the brace closing its first `{`.
            i += CFG_TEST.len();
            let mut depth = 0;
            while i < tokens.len() {
                match tokens[i].as_str() {
                    ";" if depth == 0 => break,
                    "{" => depth += 1,
                    "}" => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            i += 1;
        } else {
            kept.push(tokens[i].clone());
            i += 1;
        }
    }
    kept
}

/// `tokens` without its `use` statements (each up to its `;`), a gap
/// token in the place of each so paths do not join across it.
fn without_uses(tokens: &[String]) -> Vec<String> {
    let mut kept = Vec::with_capacity(tokens.len());
    let mut in_use = false;
    for t in tokens {
        if t == "use" {
            in_use = true;
        } else if in_use && t == ";" {
            in_use = false;
            kept.push(";".to_string());
        } else if !in_use {
            kept.push(t.clone());
        }
    }
    kept
}

/// The leaf paths of every `use` in `tokens`.
fn use_paths(tokens: &[String]) -> Vec<Vec<String>> {
    tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| *t == "use")
        .flat_map(|(i, _)| use_tree(tokens, i + 1).0.into_iter().map(|(p, _)| p))
        .collect()
}

/// A leaf of a use tree: its path and its `as` alias.
type UseLeaf = (Vec<String>, Option<String>);

/// Parses a use tree at `tokens[at]`: its leaf paths (with their `as`
/// alias; `x::{self}` and globs name `x`) and the index after it.
fn use_tree(tokens: &[String], mut at: usize) -> (Vec<UseLeaf>, usize) {
    let mut prefix = Vec::new();
    let mut leaves = Vec::new();
    loop {
        match tokens.get(at).map(String::as_str) {
            Some("::") => at += 1,
            Some("{") => {
                at += 1;
                loop {
                    match tokens.get(at).map(String::as_str) {
                        Some("}") => {
                            at += 1;
                            break;
                        }
                        Some(",") => at += 1,
                        None => break,
                        _ => {
                            let (inner, next) = use_tree(tokens, at);
                            for (path, alias) in inner {
                                let mut full = prefix.clone();
                                full.extend(path.into_iter().filter(|s| s != "self"));
                                leaves.push((full, alias));
                            }
                            at = next;
                        }
                    }
                }
                return (leaves, at);
            }
            Some("*") => {
                leaves.push((prefix, None));
                return (leaves, at + 1);
            }
            Some(t) if is_ident(t) => {
                prefix.push(t.to_string());
                at += 1;
                if tokens.get(at).map(String::as_str) == Some("as") {
                    let alias = tokens.get(at + 1).cloned();
                    leaves.push((prefix, alias));
                    return (leaves, at + 2);
                }
            }
            _ => {
                leaves.push((prefix, None));
                return (leaves, at);
            }
        }
    }
}

fn is_ident(t: &str) -> bool {
    t.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && t.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Rust source as identifier and punctuation tokens (`::` one token);
/// comments, strings, raw strings and character literals dropped.
fn lex(src: &str) -> Vec<String> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' || ((c == 'r' || c == 'b') && raw_string_start(&chars, i).is_some()) {
            i = skip_string(&chars, i);
        } else if c == '\'' {
            // A character literal ('a', '\n', '\u{1F}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && next == Some(':') {
            tokens.push("::".to_string());
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
            i += 1;
        }
    }
    tokens
}

/// The number of `#`s of a raw string (`r#"`, `br"`) starting at `i`.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    if chars[j] == 'b' {
        j += 1;
        if chars.get(j) == Some(&'"') {
            return Some(usize::MAX); // b"...": an ordinary string
        }
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|c| **c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some(hashes)
}

/// The index after the string literal starting at `i`.
fn skip_string(chars: &[char], mut i: usize) -> usize {
    match raw_string_start(chars, i) {
        Some(usize::MAX) | None => {
            while chars[i] != '"' {
                i += 1;
            }
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i + 1
        }
        Some(hashes) => {
            while chars[i] != '"' {
                i += 1;
            }
            i += 1;
            let close: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            while i < chars.len() && !chars[i..].starts_with(&close) {
                i += 1;
            }
            i + close.len()
        }
    }
}

/// The elementary circles of a graph, one per strongly connected group of
/// files (the shortest circle through its first file), so a report names
/// each tangle once.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut found = Vec::new();
    for start in graph.keys() {
        if seen.contains(start) {
            continue;
        }
        // Breadth-first from start's imports back to start: the shortest circle.
        let mut parent: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.clone()]);
        let mut closed = None;
        while let Some(at) = queue.pop_front() {
            for next in graph.get(&at).into_iter().flatten() {
                if next == start {
                    closed = Some(at.clone());
                    queue.clear();
                    break;
                }
                if !parent.contains_key(next) && graph.contains_key(next) {
                    parent.insert(next.clone(), at.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        if let Some(mut at) = closed {
            let mut circle = vec![start.clone()];
            let mut back = Vec::new();
            while at != *start {
                back.push(at.clone());
                at = parent[&at].clone();
            }
            circle.extend(back.into_iter().rev());
            circle.push(start.clone());
            seen.extend(circle.iter().cloned());
            found.push(circle);
        }
    }
    found
}
