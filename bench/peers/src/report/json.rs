//! `peers.json`: the settings, the machine, and every round's raw numbers.

use std::fmt::Write as _;

use crate::args::Args;
use crate::meta::Meta;
use crate::sample::Samples;

/// The JSON document.
pub fn render(args: &Args, meta: &Meta, samples: &Samples, elapsed_s: f64) -> String {
    let strings = |items: &mut dyn Iterator<Item = String>| items.map(|s| quote(&s)).collect::<Vec<_>>().join(", ");
    let mut out = String::from("{\n  \"meta\": {\n");
    let fields = [
        ("command", &meta.command),
        ("started", &meta.started),
        ("cpus", &meta.cpus),
        ("cpu_model", &meta.cpu_model),
        ("memory", &meta.memory),
        ("file_system", &meta.file_system),
        ("kernel", &meta.kernel),
        ("cairndb_commit", &meta.cairndb_commit),
    ];
    for (name, value) in fields {
        let _ = writeln!(out, "    {}: {},", quote(name), quote(value));
    }
    let versions: Vec<String> = meta.versions.iter().map(|(n, v)| format!("{}: {}", quote(n), quote(v))).collect();
    let _ = writeln!(out, "    \"versions\": {{{}}}\n  }},", versions.join(", "));
    let _ = writeln!(out, "  \"settings\": {{");
    let _ = writeln!(out, "    \"keys\": {},", args.keys);
    let _ = writeln!(out, "    \"rounds\": {},", args.rounds);
    let _ = writeln!(out, "    \"engines\": [{}],", strings(&mut args.engines.iter().map(|e| e.name().to_string())));
    let _ =
        writeln!(out, "    \"workloads\": [{}],", strings(&mut args.workloads.iter().map(|w| w.name().to_string())));
    let _ = writeln!(out, "    \"dir\": {},", quote(&args.dir.to_string_lossy()));
    let sizes: Vec<String> = args.checkpoint_sizes.iter().map(u64::to_string).collect();
    let _ = writeln!(out, "    \"checkpoint_sizes\": [{}],", sizes.join(", "));
    let _ = writeln!(out, "    \"checkpoints\": {},", args.checkpoints);
    let _ = writeln!(out, "    \"throughput_secs\": {}\n  }},", args.throughput_secs);
    let _ = writeln!(out, "  \"elapsed_s\": {elapsed_s:.1},");
    out.push_str("  \"samples\": [\n");
    let lines: Vec<String> = samples
        .list
        .iter()
        .map(|s| {
            format!(
                "    {{\"round\": {}, \"engine\": {}, \"workload\": {}, \"metric\": {}, \"value\": {}}}",
                s.round,
                quote(&s.engine),
                quote(&s.workload),
                quote(&s.metric),
                number(s.value)
            )
        })
        .collect();
    out.push_str(&lines.join(",\n"));
    let _ = writeln!(out, "\n  ],\n  \"failures\": [{}]\n}}", strings(&mut samples.failures.iter().cloned()));
    out
}

/// A JSON string literal.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number (`null` for what JSON cannot hold).
fn number(x: f64) -> String {
    if x.is_finite() { format!("{x}") } else { "null".to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_numbers_are_valid_json() {
        assert_eq!(quote("a \"b\"\\\n"), "\"a \\\"b\\\"\\\\\\u000a\"");
        assert_eq!(number(f64::NAN), "null");
        assert_eq!(number(2.5), "2.5");
    }
}
