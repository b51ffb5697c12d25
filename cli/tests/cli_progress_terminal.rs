//! The progress bar as a person sees it: under a real terminal (tmux) it
//! draws while `cairn demo`, `backup create`, `dump` and `load` work and
//! leaves no trace when done; before a job knows its total it is a
//! spinner, never a full bar over nothing (`[=====] 0 B/0 B`); when stdout
//! is not a terminal nothing is drawn at all.
//!
//! The tmux tests skip, saying why, when `tmux` is not installed
//! (`apt-get install -y tmux`; `.ci/run` installs it).

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Small enough for a debug build, large enough for the bar to be seen.
const DEMO_ARGS: &str = "demo --keys 100000 --value-bytes 100";
const WAIT_MAX: Duration = Duration::from_secs(180);

/// A tmux server of our own, with one 120x30 pane running a shell command.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
    }

    fn start(name: &str, shell_command: &str) -> Tmux {
        let socket = format!("cairn-test-{}-{name}", std::process::id());
        let tmux = Tmux { socket };
        let out =
            tmux.run(&["-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "30", "-s", "t", shell_command]);
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).env_remove("TMUX").output().expect("run tmux")
    }

    /// The pane's text as shown now.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    /// Polls the screen until the command has printed `EXIT=`; returns every
    /// distinct screen seen, the last one being the final screen.
    fn watch(&self) -> Vec<String> {
        let start = Instant::now();
        let mut screens: Vec<String> = Vec::new();
        loop {
            let screen = self.screen();
            if screens.last() != Some(&screen) {
                screens.push(screen.clone());
            }
            if screen.contains("EXIT=") {
                return screens;
            }
            assert!(start.elapsed() < WAIT_MAX, "the command did not finish; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(15));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn quoted(path: &Path) -> String {
    format!("'{}'", path.to_str().expect("UTF-8 path").replace('\'', r"'\''"))
}

fn cairn() -> String {
    quoted(Path::new(env!("CARGO_BIN_EXE_cairn")))
}

/// A line that is (part of) a drawn bar: `[====>    ] ... eta`.
fn is_bar(line: &str) -> bool {
    line.contains(" [") && line.contains("] ") && line.contains("eta")
}

fn skip_without_tmux() -> bool {
    if Tmux::available() {
        return false;
    }
    eprintln!("SKIPPED: tmux is not installed (apt-get install -y tmux); the terminal check did not run");
    true
}

#[test]
fn the_bar_draws_in_a_terminal_and_clears_when_done() {
    if skip_without_tmux() {
        return;
    }
    let tmux = Tmux::start("tty", &format!("{} {DEMO_ARGS}; echo EXIT=$?; sleep 600", cairn()));
    let screens = tmux.watch();
    let last = screens.last().unwrap();
    assert!(last.contains("EXIT=0"), "the demo succeeded:\n{last}");
    let drawn = screens.iter().flat_map(|s| s.lines()).find(|l| is_bar(l));
    assert!(drawn.is_some(), "a bar was drawn while the demo ran; screens seen:\n{}", screens.join("\n---\n"));
    assert!(!last.lines().any(is_bar), "no bar is left on the final screen:\n{last}");
    let first = last.lines().next().unwrap_or_default();
    assert!(!first.trim().is_empty(), "output starts where the bar was, with no blank line left behind:\n{last}");
    let printed: Vec<&str> = last.lines().take_while(|l| !l.starts_with("EXIT=")).collect();
    assert!(printed.iter().all(|l| !l.trim().is_empty()), "no gaps where a bar was cleared:\n{last}");
}

#[test]
fn no_bar_when_stdout_is_redirected_even_with_a_terminal_on_stderr() {
    if skip_without_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    let tmux =
        Tmux::start("redirected", &format!("{} {DEMO_ARGS} > {}; echo EXIT=$?; sleep 600", cairn(), quoted(&file)));
    let screens = tmux.watch();
    let last = screens.last().unwrap();
    assert!(last.contains("EXIT=0"), "the demo succeeded:\n{last}");
    for screen in &screens {
        assert!(screen.trim() == "" || screen.trim() == "EXIT=0", "nothing drawn on the terminal:\n{screen}");
    }
    let written = std::fs::read(&file).unwrap();
    assert!(!written.is_empty(), "the summary went to the file");
    assert!(!written.contains(&0x1b), "no control sequences in the file: {}", String::from_utf8_lossy(&written));
}

#[test]
fn a_piped_run_holds_no_control_sequences() {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(DEMO_ARGS.split(' '))
        .env_remove("RUST_LOG")
        .output()
        .expect("run cairn");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("\x1b["), "{name} holds a control sequence: {text:?}");
        assert!(!text.contains('\r'), "{name} holds a carriage return (a redrawn line): {text:?}");
    }
    assert!(!out.stdout.is_empty(), "the summary is printed");
}

/// A line that is (part of) a spinner: a job whose total is not known yet.
fn is_spinner(line: &str) -> bool {
    line.contains(" so far, ")
}

/// A database whose memtable holds `mib` MiB not yet flushed (so a
/// backup first flushes it: seconds before it knows what it uploads).
fn unflushed_database(path: &Path, mib: u64) {
    let db = cairndb::Config::new(path).memtable_size_bytes(256 << 20).open().unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut value = Vec::with_capacity(1 << 20);
    while value.len() < 1 << 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        value.extend_from_slice(&state.to_le_bytes());
    }
    for i in 0..mib {
        value[..8].copy_from_slice(&i.to_le_bytes());
        db.put(format!("key{i:04}"), &value).unwrap();
    }
    db.persist().unwrap();
}

/// Runs `shell_command` in tmux and checks what a person saw: progress
/// (a bar or a spinner with `label`) drawn while it ran, never a full bar
/// over nothing, and nothing of it left at the end. Returns the final screen.
fn watched(name: &str, shell_command: &str, label: &str) -> String {
    let tmux = Tmux::start(name, &format!("{shell_command}; echo EXIT=$?; sleep 600"));
    let screens = tmux.watch();
    let last = screens.last().unwrap().clone();
    assert!(last.contains("EXIT=0"), "{shell_command} succeeded:\n{last}");
    let all = || screens.iter().flat_map(|s| s.lines());
    let drawn: Vec<&str> = all().filter(|l| l.contains(label) && (is_bar(l) || is_spinner(l))).collect();
    assert!(!drawn.is_empty(), "{label}: progress was drawn; screens seen:\n{}", screens.join("\n---\n"));
    let empty_full = all().find(|l| l.contains(" 0 B/0 B") || l.contains(" 0/0 keys"));
    assert_eq!(empty_full, None, "{label}: a full bar over nothing was drawn");
    assert!(!last.lines().any(|l| is_bar(l) || is_spinner(l)), "no progress left on the final screen:\n{last}");
    last
}

#[test]
fn a_backup_shows_a_spinner_until_it_knows_its_total_then_a_bar() {
    if skip_without_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, store) = (dir.path().join("db"), dir.path().join("store"));
    unflushed_database(&db, 16);
    let command = format!("{} backup create {} {}", cairn(), quoted(&db), quoted(&store));
    let last = watched("backup", &command, "uploading");
    assert!(last.contains("backup        1 in"), "{last}");
}

#[test]
fn dump_and_load_show_progress_and_clear_it() {
    if skip_without_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, file) = (dir.path().join("db"), dir.path().join("db.dump"));
    unflushed_database(&db, 16);
    // Into a file: the total is never known ahead, a spinner throughout.
    let last = watched("dump", &format!("{} dump {} {}", cairn(), quoted(&db), quoted(&file)), "dumping");
    assert!(last.contains("dumped        16 keys of"), "{last}");
    // From a file: its length is the total, a bar.
    let copy = dir.path().join("copy");
    let command = format!("{} load {} {} --create", cairn(), quoted(&copy), quoted(&file));
    let last = watched("load", &command, "loading");
    assert!(last.contains("loaded        16 keys into the new database"), "{last}");
    // Through a pipe: the dump draws nothing (its stdout is the pipe); the
    // load, reading a stream of unknown length, a spinner.
    let piped = dir.path().join("piped");
    let command = format!("{0} dump {1} | {0} load {2} --create", cairn(), quoted(&db), quoted(&piped));
    let last = watched("pipe", &command, "loading");
    assert!(last.contains("from          <stdin>: 16.00 MiB"), "{last}");
}
