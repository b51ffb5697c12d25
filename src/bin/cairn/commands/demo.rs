//! `cairn demo`, for now: the file-system step a checkpoint is built on.
//! It writes an immutable file of `keys * value_bytes` bytes, gives it a
//! second name with `link_or_copy` (reflink, hard link or copy, whichever
//! the disk allows), and compares that with a full streamed copy. The full
//! demonstration replaces it once checkpoints are in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use cairndb::fs::{Fs, LinkStrategy, OpenOptions, StdFs, copy_file, link_or_copy, read_to_vec};

use crate::args::DemoArgs;
use crate::failure::{At as _, Failure};
use crate::output::{Out, bytes, ms};
use crate::progress::{self, Unit};

const CHUNK_BYTES: usize = 1 << 20;

/// Runs the demonstration in a fresh folder, removed afterwards.
pub fn run(args: &DemoArgs) -> Result<ExitCode, Failure> {
    let dir = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let fs = StdFs::new();
    fs.create_dir_all(&dir).at(&dir)?;
    let work = dir.join(format!("cairn-demo-{}", std::process::id()));
    fs.create_dir(&work).at(&work)?;
    let mib = (args.keys.saturating_mul(args.value_bytes) >> 20).max(1);
    let result = demo_in(&fs, &work, mib);
    let _ = cairndb::fs::remove_dir_all(&fs, &work);
    result
}

fn demo_in(fs: &StdFs, work: &Path, mib: u64) -> Result<ExitCode, Failure> {
    let mut out = Out::new();
    let src = work.join("000001.sst");
    let start = Instant::now();
    write_pattern(fs, &src, mib).at(&src)?;
    out.line(format_args!("wrote {} to {} in {}", bytes(mib << 20), src.display(), ms(start.elapsed())))?;

    let start = Instant::now();
    let linked: PathBuf = work.join("checkpoint-000001.sst");
    let outcome = link_or_copy(fs, &src, fs, &linked, true).at(&src)?;
    let link_time = start.elapsed();
    let start = Instant::now();
    let copied = work.join("copy-000001.sst");
    copy_file(fs, &src, fs, &copied, outcome.bytes, true).at(&src)?;
    let copy_time = start.elapsed();

    let how = match outcome.strategy {
        LinkStrategy::Reflinked => "reflinked",
        LinkStrategy::HardLinked => "hard-linked",
        LinkStrategy::Copied => "copied",
    };
    out.line(format_args!("link_or_copy: {how} {} in {}", bytes(outcome.bytes), ms(link_time)))?;
    out.line(format_args!("streamed copy + fsync of the same file: {}", ms(copy_time)))?;
    let ratio = copy_time.as_secs_f64() / link_time.as_secs_f64().max(1e-9);
    out.line(format_args!("link_or_copy was {ratio:.0}x faster than copying"))?;
    let original = read_to_vec(fs, &src).at(&src)?;
    if read_to_vec(fs, &linked).at(&linked)? != original || read_to_vec(fs, &copied).at(&copied)? != original {
        return Err(Failure::at(&linked, "linked or copied bytes differ from the source"));
    }
    out.line("contents verified identical: ok")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_pattern(fs: &StdFs, path: &Path, mib: u64) -> cairndb::Result<()> {
    let file = fs.open(path, OpenOptions::create_new())?;
    let mut chunk = vec![0u8; CHUNK_BYTES];
    let bar = progress::bar(mib << 20, Unit::Bytes, "writing");
    for i in 0..mib {
        for (j, byte) in chunk.iter_mut().enumerate() {
            *byte = ((i as usize * CHUNK_BYTES + j).wrapping_mul(2_654_435_761) >> 11) as u8;
        }
        file.write_all_at(&chunk, i * CHUNK_BYTES as u64)?;
        bar.inc(CHUNK_BYTES as u64);
    }
    bar.finish_and_clear();
    file.sync_all()
}
