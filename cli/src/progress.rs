//! Progress bars: drawn on stderr only when a person is watching.

use std::io::IsTerminal as _;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressState, ProgressStyle};

/// What a bar counts.
#[derive(Clone, Copy, Debug)]
pub enum Unit {
    /// Bytes, shown as KiB/MiB/GiB.
    Bytes,
    /// Keys written.
    Keys,
}

/// A bar of `len` units labelled `label`. It draws on stderr when both
/// stdout and stderr are terminals, and is hidden otherwise, so piped or
/// redirected output never holds control sequences. Finished or dropped,
/// it clears itself, leaving the screen as it was.
pub fn bar(len: u64, unit: Unit, label: &'static str) -> ProgressBar {
    let target = if attended() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar =
        ProgressBar::with_draw_target(Some(len), target).with_style(style(unit)).with_finish(ProgressFinish::AndClear);
    bar.set_message(label);
    bar
}

fn attended() -> bool {
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

fn style(unit: Unit) -> ProgressStyle {
    let template = match unit {
        Unit::Bytes => "{msg:>9} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
        Unit::Keys => "{msg:>9} [{bar:30}] {human_pos}/{human_len} keys, {keys_per_sec}/s eta {eta}",
    };
    ProgressStyle::with_template(template)
        .expect("the templates above are valid")
        .with_key("keys_per_sec", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", HumanCount(state.per_sec() as u64));
        })
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        let _ = style(Unit::Bytes);
        let _ = style(Unit::Keys);
    }
}
