//! `cairn completions SHELL` and `cairn man`: scripts a shell loads and
//! completes with, and a page roff renders.

use std::io::Write as _;
use std::process::{Command, Stdio};

mod common;
use common::{cairn, ok};

/// Runs `script` in bash with the bash completions loaded; its stdout.
fn in_bash(script: &str) -> String {
    let completions = ok(&["completions", "bash"]);
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &format!("{completions}\n{script}")])
        .output()
        .expect("run bash");
    assert!(out.status.success(), "bash: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completes_subcommands_and_options() {
    assert!(in_bash("complete -p cairn").contains("cairn"), "bash registers a completion for cairn");
    let complete = |words: &str| {
        let n = words.split(' ').count() - 1;
        in_bash(&format!(
            "COMP_WORDS=({words}); COMP_CWORD={n}; COMP_LINE=\"{words}\"; COMP_POINT=${{#COMP_LINE}}; \
             _cairn cairn \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        ))
    };
    let top = complete("cairn ''");
    for name in ["scan", "count", "compact", "stats", "restore", "sst", "completions", "man", "backup"] {
        assert!(top.lines().any(|l| l == name), "{name} in:\n{top}");
    }
    let sst = complete("cairn sst ''");
    assert!(sst.lines().any(|l| l == "dump") && sst.lines().any(|l| l == "verify"), "{sst}");
    let scan = complete("cairn scan --");
    for option in ["--from", "--to", "--reverse", "--no-value", "--hex"] {
        assert!(scan.lines().any(|l| l == option), "{option} in:\n{scan}");
    }
}

#[test]
fn zsh_and_fish_scripts_name_the_commands() {
    let zsh = ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef cairn") && zsh.contains("checkpoint"), "{zsh}");
    let fish = ok(&["completions", "fish"]);
    assert!(fish.contains("complete -c cairn") && fish.contains("sst"), "{fish}");
    let out = cairn(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");
}

/// `page` rendered by groff as plain text (no overstrikes).
fn render(page: &str) -> String {
    let mut groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-P", "-cbou"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff renders man pages");
    groff.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
    let out = groff.wait_with_output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_man_page_renders_with_every_command() {
    let page = ok(&["man"]);
    assert!(page.contains(".TH cairn 1"), "{page}");
    let text = render(&page);
    for heading in ["NAME", "SYNOPSIS", "SUBCOMMANDS"] {
        assert!(text.contains(heading), "{heading} in:\n{text}");
    }
    for command in ["cairn-checkpoint(1)", "cairn-sst(1)", "cairn-restore(1)", "cairn-completions(1)"] {
        assert!(text.contains(command), "{command} in:\n{text}");
    }
    // Each of those pages is there too.
    let dump = render(&ok(&["man", "sst", "dump"]));
    assert!(dump.starts_with("cairn-sst-dump(1)") && dump.contains("--kind"), "{dump}");
    let out = cairn(&["man", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no command `frobnicate`"));
}
