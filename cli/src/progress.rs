//! Progress bars: drawn on stderr only when a person is watching.
//!
//! A bar whose total is not known yet ([`pending`]) is a spinner with the
//! count so far, never a full bar over nothing (`[=====] 0 B/0 B`); it
//! becomes a bar when [`advance`] first learns a total.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressState, ProgressStyle};

/// What a bar counts.
#[derive(Clone, Copy, Debug)]
pub enum Unit {
    /// Bytes, shown as KiB/MiB/GiB.
    Bytes,
    /// Keys written.
    Keys,
}

/// How often a spinner turns while nothing else moves it.
const SPIN_INTERVAL: Duration = Duration::from_millis(120);

/// A bar of `len` units labelled `label`. It draws on stderr when both
/// stdout and stderr are terminals, and is hidden otherwise, so piped or
/// redirected output never holds control sequences. Finished or dropped,
/// it clears itself, leaving the screen as it was.
pub fn bar(len: u64, unit: Unit, label: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), target())
        .with_style(style(unit))
        .with_finish(ProgressFinish::AndClear);
    bar.set_message(label);
    bar
}

/// Like [`bar`], for work whose total is not known yet: a spinner with
/// the count so far until [`advance`] gives it a total.
pub fn pending(unit: Unit, label: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target())
        .with_style(spinner_style(unit))
        .with_finish(ProgressFinish::AndClear);
    bar.set_message(label);
    bar.enable_steady_tick(SPIN_INTERVAL);
    bar
}

/// A status line (a spinner and a message the caller keeps current) for
/// work with no end in sight, drawn as [`bar`] is.
pub fn status(label: &'static str) -> ProgressBar {
    let style = ProgressStyle::with_template("{prefix:>9} {spinner} {msg}").expect("the template is valid");
    let bar = ProgressBar::with_draw_target(None, target())
        .with_style(style.tick_chars("|/-\\ "))
        .with_finish(ProgressFinish::AndClear);
    bar.set_prefix(label);
    bar.enable_steady_tick(SPIN_INTERVAL);
    bar
}

/// Whether bars are drawn: a person is watching (stdout and stderr are
/// terminals).
pub fn attended() -> bool {
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// Moves `bar` to `done`; a [`pending`] bar becomes a bar over `total`
/// once that is known (`Some`, and more than nothing).
pub fn advance(bar: &ProgressBar, unit: Unit, done: u64, total: Option<u64>) {
    if let Some(total) = total.filter(|&t| t > 0) {
        if bar.length().is_none() {
            bar.set_style(style(unit));
        }
        bar.set_length(total);
    }
    bar.set_position(done);
}

fn target() -> ProgressDrawTarget {
    if attended() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() }
}

fn style(unit: Unit) -> ProgressStyle {
    let template = match unit {
        Unit::Bytes => "{msg:>9} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
        Unit::Keys => "{msg:>9} [{bar:30}] {human_pos}/{human_len} keys, {keys_per_sec}/s eta {eta}",
    };
    with_keys(template).progress_chars("=> ")
}

fn spinner_style(unit: Unit) -> ProgressStyle {
    let template = match unit {
        Unit::Bytes => "{msg:>9} {spinner} {bytes} so far, {binary_bytes_per_sec}",
        Unit::Keys => "{msg:>9} {spinner} {human_pos} keys so far, {keys_per_sec}/s",
    };
    with_keys(template).tick_chars("|/-\\ ")
}

fn with_keys(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).expect("the templates above are valid").with_key(
        "keys_per_sec",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", HumanCount(state.per_sec() as u64));
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        for unit in [Unit::Bytes, Unit::Keys] {
            let _ = style(unit);
            let _ = spinner_style(unit);
        }
    }

    #[test]
    fn a_pending_bar_gets_its_length_only_from_a_known_total() {
        let bar = pending(Unit::Bytes, "test");
        advance(&bar, Unit::Bytes, 0, Some(0));
        assert_eq!(bar.length(), None, "a total of nothing is not a total");
        advance(&bar, Unit::Bytes, 5, None);
        assert_eq!((bar.length(), bar.position()), (None, 5));
        advance(&bar, Unit::Bytes, 5, Some(10));
        assert_eq!(bar.length(), Some(10));
    }
}
