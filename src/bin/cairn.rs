//! `cairn`: the cairndb command-line tool.
//!
//! This release has one command, `demo`, which shows the file-system layer a
//! checkpoint is built on: it writes an immutable file, gives it a second
//! name with `link_or_copy` (reflink, hard link or copy — whichever the disk
//! allows), and compares that with a full streamed copy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cairndb::fs::{Fs, LinkStrategy, OpenOptions, StdFs, copy_file, link_or_copy, read_to_vec};

const USAGE: &str = "usage: cairn demo [--dir DIR] [--mib N]\n       cairn --version";
const CHUNK_BYTES: usize = 1 << 20;

struct DemoArgs {
    dir: Option<PathBuf>,
    mib: u64,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            say(&format!("cairn {}", env!("CARGO_PKG_VERSION")));
            ExitCode::SUCCESS
        }
        Some("demo") => match parse_demo(&args[1..]) {
            Ok(demo) => match run_demo(&demo) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    complain(&format!("cairn: {e}"));
                    ExitCode::FAILURE
                }
            },
            Err(msg) => usage_error(&msg),
        },
        Some(other) => usage_error(&format!("unknown command {other:?}")),
        None => usage_error("no command given"),
    }
}

fn parse_demo(args: &[String]) -> Result<DemoArgs, String> {
    let mut demo = DemoArgs { dir: None, mib: 64 };
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--dir" => demo.dir = Some(PathBuf::from(value()?)),
            "--mib" => {
                let v = value()?;
                demo.mib = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=65_536).contains(n))
                    .ok_or_else(|| format!("--mib takes a whole number from 1 to 65536, not {v:?}"))?;
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(demo)
}

fn run_demo(demo: &DemoArgs) -> cairndb::Result<()> {
    // The default is the system's temporary directory on the local disk.
    let dir = demo.dir.clone().unwrap_or_else(std::env::temp_dir);
    let fs = StdFs::new();
    fs.create_dir_all(&dir)?;
    let work = dir.join(format!("cairn-demo-{}", std::process::id()));
    fs.create_dir(&work)?;
    let result = demo_in(&fs, &work, demo.mib);
    let _ = cairndb::fs::remove_dir_all(&fs, &work);
    result
}

fn demo_in(fs: &StdFs, work: &Path, mib: u64) -> cairndb::Result<()> {
    let src = work.join("000001.sst");
    let start = Instant::now();
    write_pattern(fs, &src, mib)?;
    let wrote = start.elapsed();
    say(&format!("wrote {mib} MiB to {} in {}", src.display(), ms(wrote)));
    say(&format!("reflink supported here: {}", if fs.supports_reflink(work)? { "yes" } else { "no" }));

    let start = Instant::now();
    let linked = work.join("checkpoint-000001.sst");
    let outcome = link_or_copy(fs, &src, fs, &linked, true)?;
    let link_time = start.elapsed();

    let start = Instant::now();
    let copied = work.join("copy-000001.sst");
    copy_file(fs, &src, fs, &copied, outcome.bytes, true)?;
    let copy_time = start.elapsed();

    let same =
        read_to_vec(fs, &linked)? == read_to_vec(fs, &src)? && read_to_vec(fs, &copied)? == read_to_vec(fs, &src)?;
    let how = match outcome.strategy {
        LinkStrategy::Reflinked => "reflinked",
        LinkStrategy::HardLinked => "hard-linked",
        LinkStrategy::Copied => "copied",
    };
    say(&format!("link_or_copy: {how} {} bytes in {}", outcome.bytes, ms(link_time)));
    say(&format!("streamed copy + fsync of the same file: {}", ms(copy_time)));
    let ratio = copy_time.as_secs_f64() / link_time.as_secs_f64().max(1e-9);
    say(&format!("link_or_copy was {ratio:.0}x faster than copying"));
    if !same {
        return Err(cairndb::Error::corruption(&linked, 0, "linked or copied bytes differ from the source"));
    }
    say("contents verified identical: ok");
    Ok(())
}

fn write_pattern(fs: &StdFs, path: &Path, mib: u64) -> cairndb::Result<()> {
    let file = fs.open(path, OpenOptions::create_new())?;
    let mut chunk = vec![0u8; CHUNK_BYTES];
    for i in 0..mib {
        for (j, byte) in chunk.iter_mut().enumerate() {
            *byte = ((i as usize * CHUNK_BYTES + j).wrapping_mul(2_654_435_761) >> 11) as u8;
        }
        file.write_all_at(&chunk, i * CHUNK_BYTES as u64)?;
    }
    file.sync_all()
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

#[expect(clippy::print_stdout, reason = "the tool's output")]
fn say(line: &str) {
    println!("{line}");
}

#[expect(clippy::print_stderr, reason = "the tool's error output")]
fn complain(line: &str) {
    eprintln!("{line}");
}

fn usage_error(msg: &str) -> ExitCode {
    complain(&format!("cairn: {msg}\n{USAGE}"));
    ExitCode::from(2)
}
