//! Reading `peers.json` back, so the markdown and the chart can be drawn
//! again from a run's numbers without running it again (`--replot`).

use std::path::{Path, PathBuf};

use crate::args::Args;
use crate::engine::EngineKind;
use crate::error::{Error, IoContext, Result};
use crate::meta::Meta;
use crate::sample::{Sample, Samples};
use crate::workload::Workload;

/// A JSON value: just what `peers.json` holds.
#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Number(f64),
    Text(String),
    List(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn text(&self) -> Option<&str> {
        if let Json::Text(s) = self { Some(s) } else { None }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            Json::Null => Some(f64::NAN),
            _ => None,
        }
    }

    fn list(&self) -> &[Json] {
        if let Json::List(items) = self { items } else { &[] }
    }
}

/// What a run wrote: its settings, machine, samples and duration.
pub struct Run {
    /// The settings, with `out` the directory of the file read.
    pub args: Args,
    /// The machine and versions.
    pub meta: Meta,
    /// Every sample and failure.
    pub samples: Samples,
    /// How long it ran.
    pub elapsed_s: f64,
}

/// Reads the `peers.json` at `path`.
pub fn read(path: &Path, defaults: Args) -> Result<Run> {
    let text = std::fs::read_to_string(path).io("read", path)?;
    let bad = |what: &str| Error::Usage(format!("{} is not a peers.json: {what}", path.display()));
    let json = Parser { bytes: text.as_bytes(), at: 0 }.document().ok_or_else(|| bad("invalid JSON"))?;
    let field = |object: &Json, key: &str| object.get(key).cloned().ok_or_else(|| bad(key));
    let (meta, settings) = (field(&json, "meta")?, field(&json, "settings")?);
    let text_of = |object: &Json, key: &str| Ok::<_, Error>(field(object, key)?.text().unwrap_or("").to_string());
    let number_of = |object: &Json, key: &str| field(object, key)?.number().ok_or_else(|| bad(key));
    let names = |key: &str| -> Result<Vec<String>> {
        Ok(field(&settings, key)?.list().iter().filter_map(|v| v.text().map(str::to_string)).collect())
    };
    let args = Args {
        keys: number_of(&settings, "keys")? as u64,
        rounds: number_of(&settings, "rounds")? as usize,
        engines: names("engines")?.iter().map(|n| EngineKind::parse(n)).collect::<Result<_>>()?,
        workloads: names("workloads")?.iter().map(|n| Workload::parse(n)).collect::<Result<_>>()?,
        dir: PathBuf::from(text_of(&settings, "dir")?),
        out: path.parent().map_or(defaults.out, Path::to_path_buf),
        checkpoint_sizes: field(&settings, "checkpoint_sizes")?
            .list()
            .iter()
            .filter_map(Json::number)
            .map(|n| n as u64)
            .collect(),
        checkpoints: number_of(&settings, "checkpoints")? as usize,
        throughput_secs: number_of(&settings, "throughput_secs")? as u64,
        replot: None,
    };
    let versions = match field(&meta, "versions")? {
        Json::Object(fields) => fields.into_iter().map(|(k, v)| (k, v.text().unwrap_or("").to_string())).collect(),
        _ => Vec::new(),
    };
    let meta = Meta {
        command: text_of(&meta, "command")?,
        started: text_of(&meta, "started")?,
        cpus: text_of(&meta, "cpus")?,
        cpu_model: text_of(&meta, "cpu_model")?,
        memory: text_of(&meta, "memory")?,
        file_system: text_of(&meta, "file_system")?,
        kernel: text_of(&meta, "kernel")?,
        cairndb_commit: text_of(&meta, "cairndb_commit")?,
        versions,
    };
    let mut samples = Samples::default();
    for s in field(&json, "samples")?.list() {
        samples.list.push(Sample {
            round: number_of(s, "round")? as usize,
            engine: text_of(s, "engine")?,
            workload: text_of(s, "workload")?,
            metric: text_of(s, "metric")?,
            value: number_of(s, "value")?,
        });
    }
    samples.failures = field(&json, "failures")?.list().iter().filter_map(|v| v.text().map(str::to_string)).collect();
    Ok(Run { args, meta, samples, elapsed_s: number_of(&json, "elapsed_s")? })
}

/// A recursive-descent reader of JSON (no escapes beyond what `json.rs` writes).
struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn document(mut self) -> Option<Json> {
        let value = self.value()?;
        self.skip_space();
        (self.at == self.bytes.len()).then_some(value)
    }

    fn skip_space(&mut self) {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        let found = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    fn value(&mut self) -> Option<Json> {
        self.skip_space();
        match *self.bytes.get(self.at)? {
            b'{' => self.object(),
            b'[' => self.list(),
            b'"' => self.text().map(Json::Text),
            b'n' if self.bytes[self.at..].starts_with(b"null") => {
                self.at += 4;
                Some(Json::Null)
            }
            _ => self.number(),
        }
    }

    fn object(&mut self) -> Option<Json> {
        self.at += 1;
        let mut fields = Vec::new();
        if self.eat(b'}') {
            return Some(Json::Object(fields));
        }
        loop {
            self.skip_space();
            let key = self.text()?;
            if !self.eat(b':') {
                return None;
            }
            fields.push((key, self.value()?));
            if self.eat(b'}') {
                return Some(Json::Object(fields));
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn list(&mut self) -> Option<Json> {
        self.at += 1;
        let mut items = Vec::new();
        if self.eat(b']') {
            return Some(Json::List(items));
        }
        loop {
            items.push(self.value()?);
            if self.eat(b']') {
                return Some(Json::List(items));
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn text(&mut self) -> Option<String> {
        if self.bytes.get(self.at) != Some(&b'"') {
            return None;
        }
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match *self.bytes.get(self.at)? {
                b'"' => break,
                b'\\' => {
                    self.at += 1;
                    match *self.bytes.get(self.at)? {
                        b'u' => {
                            let hex = std::str::from_utf8(self.bytes.get(self.at + 1..self.at + 5)?).ok()?;
                            let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                            out.extend_from_slice(c.to_string().as_bytes());
                            self.at += 4;
                        }
                        escaped => out.push(escaped),
                    }
                }
                byte => out.push(byte),
            }
            self.at += 1;
        }
        self.at += 1;
        String::from_utf8(out).ok()
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(|b| b.is_ascii_digit() || b"+-.eE".contains(b)) {
            self.at += 1;
        }
        std::str::from_utf8(&self.bytes[start..self.at]).ok()?.parse().ok().map(Json::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_json_rs_writes() {
        let text = r#"{"a": [1, 2.5e3, null], "b": {"c": "x \"y\" \\ \u000a"}, "d": []}"#;
        let json = Parser { bytes: text.as_bytes(), at: 0 }.document().unwrap();
        assert_eq!(json.get("a").unwrap().list()[1], Json::Number(2500.0));
        assert_eq!(json.get("b").unwrap().get("c").unwrap().text(), Some("x \"y\" \\ \n"));
        assert_eq!(json.get("d").unwrap().list(), &[]);
        assert!(Parser { bytes: b"{\"a\": 1,}", at: 0 }.document().is_none());
    }
}
