//! `crossguard replay`: CloudTrail log files as AWS archives them (and the guard's
//! evidence records) → every grant change in them, decided and reported.
//!
//! Streaming: each worker holds one file at a time; the records of a log file are only
//! delimited (`RawValue`), and a record is parsed only when a quick text search finds
//! one of the guarded event names in it — most of an archive is other calls. Files are
//! spread over the machine's cores; results are written in input order.

use crate::output::{Sink, Tally};
use aho_corasick::{AhoCorasick, MatchKind};
use anyhow::{bail, Result};
use crossguard_engine::event::{self, GUARDED};
use crossguard_engine::evidence;
use crossguard_engine::report::{Change, Origin, Skipped};
use crossguard_engine::{self as engine, Allowlist, Date, Options};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Largest file read (after gunzip): CloudTrail log files are far smaller.
pub const MAX_FILE: u64 = 1 << 30;

/// Time and account filters. Times compare as text: CloudTrail's `eventTime` is
/// `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Inclusive lower bound: a date or a timestamp.
    pub since: Option<String>,
    /// Inclusive upper bound: a date (the whole day) or a timestamp.
    pub until: Option<String>,
    pub accounts: Vec<String>,
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse_time(s: &str) -> Result<String, String> {
    let ok_date = Date::parse(s).is_some();
    let b = s.as_bytes();
    let ok = ok_date
        && (s.len() == 10
            || (s.len() == 20
                && b[13] == b':'
                && b[16] == b':'
                && b[19] == b'Z'
                && [11, 12, 14, 15, 17, 18]
                    .iter()
                    .all(|&i| b[i].is_ascii_digit())));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a date (2026-01-31) or a UTC time (2026-01-31T23:59:59Z)"
        ))
    }
}

impl Filters {
    fn time_set(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether a row is inside the filters.
    fn admits(&self, c: &Change) -> bool {
        if !self.accounts.is_empty()
            && !c
                .account
                .as_ref()
                .is_some_and(|a| self.accounts.contains(a))
        {
            return false;
        }
        if !self.time_set() {
            return true;
        }
        let Some(t) = c.time.as_deref() else {
            return false;
        };
        if self.since.as_deref().is_some_and(|s| t < s) {
            return false;
        }
        match self.until.as_deref() {
            Some(u) if u.len() == 10 => t.get(..10).is_some_and(|d| d <= u),
            Some(u) => t <= u,
            None => true,
        }
    }

    /// Whether a file can be passed over unread from its archive path alone
    /// (`AWSLogs/[o-ORG/]ACCT/CloudTrail/REGION/YYYY/MM/DD/…`). A file's folder is its
    /// delivery day: a day's margin keeps events delivered after midnight.
    fn passes_over(&self, path: &Path) -> bool {
        let parts: Vec<&str> = path.iter().filter_map(|p| p.to_str()).collect();
        let Some(at) = parts.iter().position(|p| *p == "AWSLogs") else {
            return false;
        };
        let mut rest = &parts[at + 1..];
        if rest.first().is_some_and(|p| p.starts_with("o-")) {
            rest = &rest[1..];
        }
        let [acct, "CloudTrail", _region, y, m, d, _file] = rest else {
            return false;
        };
        if !self.accounts.is_empty() && !self.accounts.iter().any(|a| a == acct) {
            return true;
        }
        let Some(day) = Date::parse(&format!("{y}-{m}-{d}")).map(Date::days) else {
            return false;
        };
        let bound = |s: &Option<String>| s.as_deref().and_then(Date::parse).map(Date::days);
        bound(&self.since).is_some_and(|s| day < s - 1)
            || bound(&self.until).is_some_and(|u| day > u + 1)
    }
}

/// Everything a worker needs, shared read-only.
pub struct Context {
    pub allowlist: Allowlist,
    pub opts: Options,
    pub filters: Filters,
    names: AhoCorasick,
}

impl Context {
    pub fn new(allowlist: Allowlist, opts: Options, filters: Filters) -> Context {
        // The guarded names, and `\u`: a name written with JSON escapes must not slip by.
        let mut patterns: Vec<&str> = GUARDED.iter().map(|(n, _, _)| *n).collect();
        patterns.push("\\u");
        Context {
            allowlist,
            opts,
            filters,
            // Leftmost-first lets the search use its SIMD (Teddy) prefilter; only whether
            // something matches is asked.
            names: AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(patterns)
                .expect("fixed patterns build"),
        }
    }
}

/// One decided row, with its JSON line.
pub struct Item {
    pub change: Change,
    pub json: Value,
}

/// What one input gave.
#[derive(Default)]
pub struct Batch {
    pub items: Vec<Item>,
    pub tally: Tally,
}

/// An input named on the command line, expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

/// Expand the command line's paths: directories walked recursively (sorted, `.json` and
/// `.json.gz` files, CloudTrail digest files left out), files as given, `-` for stdin.
pub fn inputs(paths: &[String], filters: &Filters) -> (Vec<Input>, Vec<Skipped>, u64) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut passed_over = 0;
    for p in paths {
        if p == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let path = Path::new(p);
        if !path.is_dir() {
            if path.exists() {
                out.push(Input::File(path.to_path_buf()));
            } else {
                skipped.push(Skipped {
                    source: p.clone(),
                    reason: "no such file or directory".into(),
                });
            }
            continue;
        }
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    skipped.push(Skipped {
                        source: e
                            .path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| p.clone()),
                        reason: format!("cannot read: {e}"),
                    });
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy();
            let wanted = entry.file_type().is_file()
                && (name.ends_with(".json") || name.ends_with(".json.gz"))
                && !entry.path().iter().any(|c| c == "CloudTrail-Digest");
            if !wanted {
                continue;
            }
            if filters.passes_over(entry.path()) {
                passed_over += 1;
            } else {
                out.push(Input::File(entry.into_path()));
            }
        }
    }
    (out, skipped, passed_over)
}

/// A file's text, gunzipped when it is gzip; the reason when it cannot be read.
fn read_file(path: &Path) -> Result<String, String> {
    let mut raw = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut raw))
        .map_err(|e| format!("cannot read: {e}"))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len().saturating_mul(8));
        flate2::read::MultiGzDecoder::new(&raw[..])
            .take(MAX_FILE + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("corrupt or truncated gzip: {e}"))?;
        raw = out;
    }
    if raw.len() as u64 > MAX_FILE {
        return Err(format!("larger than {} MiB", MAX_FILE >> 20));
    }
    String::from_utf8(raw).map_err(|e| format!("not UTF-8 text: {e}"))
}

/// The top level of a document: a log file's records only delimited, not parsed.
#[derive(Deserialize)]
struct Top<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    schema: Option<Cow<'a, str>>,
}

/// Just enough of a record to know whether a guard handles it.
#[derive(Deserialize)]
struct Skim<'a> {
    #[serde(rename = "eventName", borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(rename = "eventSource", borrow)]
    source: Option<Cow<'a, str>>,
}

impl Context {
    fn guarded(&self, record: &str) -> bool {
        if !self.names.is_match(record) {
            return false;
        }
        match serde_json::from_str::<Skim>(record) {
            Ok(Skim {
                name: Some(n),
                source: Some(s),
            }) => GUARDED.iter().any(|(gn, gs, _)| *gn == n && *gs == s),
            _ => false,
        }
    }

    fn keep(&self, batch: &mut Batch, change: Change, json: Value) {
        if self.filters.admits(&change) {
            batch.items.push(Item { change, json });
        } else {
            batch.tally.filtered += 1;
        }
    }

    fn decided(&self, batch: &mut Batch, d: engine::Decision, source: &str) {
        let mut json = serde_json::to_value(&d).unwrap_or(Value::Null);
        if let Some(o) = json.as_object_mut() {
            o.insert("origin".into(), Origin::CloudTrail.as_str().into());
            o.insert("source".into(), source.into());
        }
        let change = Change::from_decision(&json, Origin::CloudTrail, source, None);
        self.keep(batch, change, json);
    }

    /// One record of a log file.
    fn record(&self, batch: &mut Batch, raw: &str, source: &str) -> Result<(), String> {
        batch.tally.records += 1;
        if !self.guarded(raw) {
            batch.tally.irrelevant += 1;
            return Ok(());
        }
        let v: Value = serde_json::from_str(raw).map_err(|e| e.to_string())?;
        let d = engine::decide_parsed(&self.allowlist, event::parse_record(&v), self.opts);
        self.decided(batch, d, source);
        Ok(())
    }

    /// A document that is not a log file: an evidence record, a guard's claim, an
    /// EventBridge event or a bare record.
    fn other(
        &self,
        batch: &mut Batch,
        text: &str,
        schema: Option<&str>,
        source: &str,
    ) -> Result<(), String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        match schema {
            Some(evidence::SCHEMA) => {
                let decision = v
                    .get("decision")
                    .filter(|d| d.is_object())
                    .ok_or("evidence record without a decision".to_string())?;
                let outcome = v.get("outcome").and_then(Value::as_str).map(str::to_string);
                let mut json = decision.clone();
                if let Some(o) = json.as_object_mut() {
                    o.insert("origin".into(), Origin::Evidence.as_str().into());
                    o.insert("source".into(), source.into());
                    o.insert("outcome".into(), outcome.clone().into());
                }
                let change = Change::from_decision(&json, Origin::Evidence, source, outcome);
                self.keep(batch, change, json);
                Ok(())
            }
            Some(s) if s.starts_with("crossguard.claim/") => {
                batch.tally.unfinished_claims += 1;
                Ok(())
            }
            Some(s) => Err(format!("unknown schema {s:?}")),
            None => {
                let records = event::records(&v).map_err(|e| e.to_string())?;
                for r in records {
                    batch.tally.records += 1;
                    let parsed = engine::parse_input_record(r);
                    let relevant = match &parsed {
                        engine::ParsedEvent::Guarded { .. } => true,
                        p => {
                            let s = p.summary();
                            GUARDED.iter().any(|(n, src, _)| {
                                s.name.as_deref() == Some(*n) && s.source.as_deref() == Some(*src)
                            })
                        }
                    };
                    if !relevant {
                        batch.tally.irrelevant += 1;
                        continue;
                    }
                    let d = engine::decide_parsed(&self.allowlist, parsed, self.opts);
                    self.decided(batch, d, source);
                }
                Ok(())
            }
        }
    }

    /// Every document in a text (one log file, or several JSON documents one after the
    /// other). Stops at the first fault: the caller decides what survives.
    fn text(&self, batch: &mut Batch, text: &str, source: &str) -> Result<(), String> {
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Top>();
        let mut start = 0;
        let mut docs = 0;
        while let Some(doc) = stream.next() {
            let end = stream.byte_offset();
            let doc = doc.map_err(|e| {
                if e.is_eof() {
                    format!("truncated JSON: {e}")
                } else {
                    format!("not a CloudTrail log file, event or evidence record: {e}")
                }
            })?;
            docs += 1;
            match doc.records {
                Some(records) => {
                    for raw in records {
                        self.record(batch, raw.get(), source)?;
                    }
                }
                None => self.other(batch, &text[start..end], doc.schema.as_deref(), source)?,
            }
            start = end;
        }
        if docs == 0 {
            return Err("empty: no JSON document".into());
        }
        Ok(())
    }

    /// One file: all of it, or nothing and the reason.
    pub fn file(&self, path: &Path) -> Batch {
        let source = path.display().to_string();
        let mut batch = Batch::default();
        let result = read_file(path).and_then(|text| self.text(&mut batch, &text, &source));
        match result {
            Ok(()) => batch.tally.files_read = 1,
            Err(reason) => {
                batch = Batch::default();
                batch.tally.skipped.push(Skipped { source, reason });
            }
        }
        batch
    }

    /// Standard input, a document at a time (a stream of concatenated log files keeps
    /// memory to one document). What was read before a fault is kept.
    pub fn stdin(&self, sink: &mut Sink) -> Result<()> {
        let mut input = BufReader::new(std::io::stdin().lock());
        let gz = input.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read> = if gz {
            Box::new(flate2::read::MultiGzDecoder::new(input))
        } else {
            Box::new(input)
        };
        let docs = serde_json::Deserializer::from_reader(BufReader::new(reader))
            .into_iter::<Box<RawValue>>();
        let mut n = 0;
        for doc in docs {
            n += 1;
            let mut batch = Batch::default();
            let res = doc
                .map_err(|e| e.to_string())
                .and_then(|raw| self.text(&mut batch, raw.get(), "stdin"));
            if let Err(reason) = res {
                batch.tally.skipped.push(Skipped {
                    source: format!("stdin (document {n})"),
                    reason: format!("{reason}; the rest of stdin was not read"),
                });
                sink.batch(batch)?;
                return Ok(());
            }
            sink.batch(batch)?;
        }
        sink.tally.files_read += 1;
        Ok(())
    }
}

/// Run every input through the workers; hand batches to the sink in input order.
pub fn run(ctx: &Context, inputs: &[Input], jobs: usize, sink: &mut Sink) -> Result<()> {
    if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        bail!("stdin (-) can be named once");
    }
    let files: Vec<&Path> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::File(p) => Some(p.as_path()),
            Input::Stdin => None,
        })
        .collect();
    if inputs.contains(&Input::Stdin) {
        ctx.stdin(sink)?;
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::sync_channel::<(usize, Batch)>(jobs * 4);
    std::thread::scope(|s| -> Result<()> {
        for _ in 0..jobs.max(1).min(files.len().max(1)) {
            let tx = tx.clone();
            let (next, files) = (&next, &files);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                if tx.send((i, ctx.file(path))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        // Results arrive in any order; they leave in input order. What waits is small:
        // the decided rows of a few files, never a file's text.
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        for (i, batch) in rx {
            waiting.insert(i, batch);
            while let Some(b) = waiting.remove(&due) {
                sink.batch(b)?;
                due += 1;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_and_filter() {
        assert!(parse_time("2026-01-31").is_ok());
        assert!(parse_time("2026-01-31T23:59:59Z").is_ok());
        assert!(parse_time("2026-02-30").is_err());
        assert!(parse_time("2026-01-31T23:59").is_err());
        let f = Filters {
            since: Some("2026-01-02".into()),
            until: Some("2026-01-03".into()),
            accounts: vec![],
        };
        let at = |t: &str| Change {
            time: Some(t.into()),
            ..Change::from_decision(&Value::Null, Origin::CloudTrail, "", None)
        };
        assert!(!f.admits(&at("2026-01-01T23:59:59Z")));
        assert!(f.admits(&at("2026-01-02T00:00:00Z")));
        assert!(f.admits(&at("2026-01-03T23:59:59Z")));
        assert!(!f.admits(&at("2026-01-04T00:00:00Z")));
    }

    #[test]
    fn archive_paths_are_passed_over_only_when_surely_outside() {
        let f = Filters {
            since: Some("2026-01-10".into()),
            until: Some("2026-01-20".into()),
            accounts: vec!["111111111111".into()],
        };
        let p = |s: &str| f.passes_over(Path::new(s));
        let file = "111111111111_CloudTrail_eu-west-1_x.json.gz";
        assert!(!p(&format!(
            "a/AWSLogs/111111111111/CloudTrail/eu-west-1/2026/01/15/{file}"
        )));
        assert!(!p(&format!(
            "AWSLogs/o-abc/111111111111/CloudTrail/eu-west-1/2026/01/09/{file}"
        )));
        assert!(p(&format!(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/01/08/{file}"
        )));
        assert!(!p(&format!(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/01/21/{file}"
        )));
        assert!(p(&format!(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/01/22/{file}"
        )));
        assert!(p(&format!(
            "AWSLogs/222222222222/CloudTrail/eu-west-1/2026/01/15/{file}"
        )));
        assert!(!p("elsewhere/2026/01/01/x.json"));
    }
}
