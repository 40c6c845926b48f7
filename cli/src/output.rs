//! Where `replay` and `scan` rows go: JSON lines and CSV stream out as rows arrive (only
//! the ids seen are kept, to drop duplicates); the text summary and the HTML report
//! gather compact rows and are written at the end.

use crate::input::warn;
use crate::report;
use clap::ValueEnum;
use crossguard_engine::decision::Decision;
use crossguard_engine::decision::Verdict;
use crossguard_engine::json::write as json;
use crossguard_engine::report::{Change, Fingerprint, Origin, Report};
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};
use std::cell::Cell;
use std::collections::HashSet;
use std::io::{self, BufWriter, Write};
use std::ops::Range;

pub use crossguard_engine::report::Inputs as Tally;

/// One decided row, with its JSON line.
pub struct Item {
    pub change: Change,
    pub json: Json,
}

/// A row's JSON: a value (read from an evidence record), or the compact text a decision
/// was written as (no value tree made per decision).
pub enum Json {
    Value(serde_json::Value),
    Text(Vec<u8>),
}

impl Json {
    /// As a value (OCSF output builds on it): the text, read back. Without serde_json's
    /// nesting limit: a decision nests a policy's statement a few levels deeper than the
    /// policy (which was read with the limit) had it, and its value had no limit.
    fn value(&self) -> io::Result<std::borrow::Cow<'_, serde_json::Value>> {
        Ok(match self {
            Json::Value(v) => std::borrow::Cow::Borrowed(v),
            Json::Text(t) => {
                let mut de = serde_json::Deserializer::from_slice(t);
                de.disable_recursion_limit();
                let v = serde::Deserialize::deserialize(&mut de)?;
                de.end()?;
                std::borrow::Cow::Owned(v)
            }
        })
    }
}

/// `d`'s JSON object written to `buf`, with `tail`'s members (string values) last: the
/// bytes serde_json writes, by the engine's writer (strings copied in runs, not a byte at
/// a time: a fifth of `check`'s work was serde_json escaping its output).
pub fn decision_json(
    buf: &mut Vec<u8>,
    d: &Decision,
    tail: &[(&str, &str)],
) -> serde_json::Result<()> {
    let start = buf.len();
    json::to_vec_into(buf, d)?;
    append_members(buf, start, tail)
}

/// `tail`'s members added last to the JSON object written in `buf` from `start`.
fn append_members(
    buf: &mut Vec<u8>,
    start: usize,
    tail: &[(&str, &str)],
) -> serde_json::Result<()> {
    if buf.pop() != Some(b'}') {
        return Err(serde::ser::Error::custom(
            "a decision did not encode as a JSON object",
        ));
    }
    for (key, value) in tail {
        if buf.len() > start + 1 {
            buf.push(b',');
        }
        json::write_str(buf, key);
        buf.push(b':');
        json::write_str(buf, value);
    }
    buf.push(b'}');
    Ok(())
}

/// A writer into a buffer that tells [`Spans`] how much is written.
struct Counted<'a> {
    buf: &'a mut Vec<u8>,
    len: &'a Cell<usize>,
}

impl io::Write for Counted<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        self.len.set(self.buf.len());
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A member of a JSON object: where its key (quoted) and its value are in the text.
type Member = (Range<usize>, Range<usize>);

/// Compact JSON (serde_json's own formatter writes every byte), noting where each member
/// of the outermost object is.
struct Spans<'a> {
    len: &'a Cell<usize>,
    depth: usize,
    key: usize,
    members: &'a mut Vec<Member>,
}

impl Formatter for Spans<'_> {
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        CompactFormatter.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        CompactFormatter.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        CompactFormatter.begin_object_key(w, first)?;
        self.key = self.len.get();
        Ok(())
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        let key_end = self.len.get();
        CompactFormatter.begin_object_value(w)?;
        if self.depth == 1 {
            let at = self.len.get();
            self.members.push((self.key..key_end, at..at));
        }
        Ok(())
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        CompactFormatter.end_object_value(w)?;
        if self.depth == 1 {
            if let Some((_, value)) = self.members.last_mut() {
                value.end = self.len.get();
            }
        }
        Ok(())
    }
}

impl Item {
    /// A decision as a row of `origin`, read from `source`: its JSON line is written
    /// once, the row made from the decision itself, and its fingerprint from the line's
    /// members as they were written ([`Change::from_decision`] makes the same row,
    /// fingerprint included, from the decision's value).
    pub fn of_decision(d: &Decision, origin: Origin, source: &str) -> serde_json::Result<Item> {
        let mut text = Vec::with_capacity(1024);
        let mut members = Vec::new();
        let len = Cell::new(0);
        let counted = Counted {
            buf: &mut text,
            len: &len,
        };
        let spans = Spans {
            len: &len,
            depth: 0,
            key: 0,
            members: &mut members,
        };
        d.serialize(&mut serde_json::Serializer::with_formatter(counted, spans))?;
        let mut fingerprint = Fingerprint::default();
        for (key, value) in members {
            let (Some(key), Some(value)) = (text.get(key), text.get(value)) else {
                return Err(serde::ser::Error::custom("a member's place was lost"));
            };
            let key: std::borrow::Cow<str> = serde_json::from_slice(key)?;
            let value = std::str::from_utf8(value).map_err(serde::ser::Error::custom)?;
            fingerprint.member_text(&key, value);
        }
        append_members(
            &mut text,
            0,
            &[("origin", origin.as_str()), ("source", source)],
        )?;
        Ok(Item {
            change: Change::of_decision(d, fingerprint.finish(), origin, source),
            json: Json::Text(text),
        })
    }
}

/// What one input gave, or a chunk of it.
#[derive(Default)]
pub struct Batch {
    pub items: Vec<Item>,
    pub tally: Tally,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A summary for people: counts by verdict, who trusts whom, actors, every violation.
    Text,
    /// One JSON object per decision per line.
    Json,
    /// One row per decision, for spreadsheets.
    Csv,
    /// One self-contained HTML page for auditors.
    Html,
    /// One OCSF 1.6 Detection Finding (class 2004) per decision per line, for Security
    /// Lake custom sources and SIEMs.
    Ocsf,
}

pub struct Sink {
    format: ReportFormat,
    title: String,
    out: BufWriter<Box<dyn Write>>,
    report: Report,
    seen: HashSet<(Origin, String, u64)>,
    pub tally: Tally,
    violations: u64,
    errors: u64,
    /// What a decision is about, for the exit-2 line ("record(s)", "resource(s)").
    unit: &'static str,
    /// A run that read no input at all fails (replay: nothing read is not "all clear").
    needs_input: bool,
    /// When the run started (OCSF's `time` for a decision without an event: a scan's).
    now_ms: i64,
}

/// Text for a terminal: control bytes (ESC, CR, NUL…) that reach the report from event
/// fields are written as `\u{1b}`, never obeyed; newlines and tabs are the report's own.
struct Shown<W>(W);

impl<W: Write> Write for Shown<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        for (i, &b) in buf.iter().enumerate() {
            if (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f {
                self.0.write_all(&buf[start..i])?;
                write!(self.0, "\\u{{{b:x}}}")?;
                start = i + 1;
            }
        }
        self.0.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl Sink {
    pub fn new(format: ReportFormat, title: &str, out: Box<dyn Write>) -> io::Result<Sink> {
        let out: Box<dyn Write> = if format == ReportFormat::Text {
            Box::new(Shown(out))
        } else {
            out
        };
        let mut out = BufWriter::with_capacity(1 << 16, out);
        if format == ReportFormat::Csv {
            writeln!(out, "{}", report::CSV_HEADER)?;
        }
        Ok(Sink {
            format,
            title: title.to_string(),
            out,
            report: Report::default(),
            seen: HashSet::new(),
            tally: Tally::default(),
            violations: 0,
            errors: 0,
            unit: "resource(s)",
            needs_input: false,
            now_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        })
    }

    /// Rows are CloudTrail records, and a run that read no file (or stdin) fails.
    pub fn for_replay(mut self) -> Sink {
        self.unit = "record(s)";
        self.needs_input = true;
        self
    }

    pub fn batch(&mut self, b: Batch) -> io::Result<()> {
        let t = b.tally;
        for s in &t.skipped {
            // Never silent, whatever the output format.
            warn(&format!("crossguard: skipped {}: {}", s.source, s.reason));
        }
        self.tally.scanned += t.scanned;
        self.tally.files_read += t.files_read;
        self.tally.passed_over += t.passed_over;
        self.tally.folders_passed_over += t.folders_passed_over;
        self.tally.records += t.records;
        self.tally.irrelevant += t.irrelevant;
        self.tally.filtered += t.filtered;
        self.tally.duplicates += t.duplicates;
        self.tally.unfinished_claims += t.unfinished_claims;
        self.tally.skipped.extend(t.skipped);
        for item in b.items {
            let c = item.change;
            match self.format {
                ReportFormat::Text | ReportFormat::Html => {
                    self.report.add(c);
                }
                ReportFormat::Json | ReportFormat::Csv | ReportFormat::Ocsf => {
                    if let Some(id) = &c.event_id {
                        if !self.seen.insert((c.origin, id.clone(), c.fingerprint)) {
                            self.tally.duplicates += 1;
                            continue;
                        }
                    }
                    self.violations += u64::from(c.verdict == Verdict::Violation);
                    self.errors += u64::from(c.verdict == Verdict::Error);
                    match self.format {
                        ReportFormat::Json => {
                            match &item.json {
                                Json::Value(v) => serde_json::to_writer(&mut self.out, v)?,
                                Json::Text(t) => self.out.write_all(t)?,
                            }
                            self.out.write_all(b"\n")?;
                        }
                        ReportFormat::Ocsf => {
                            let f = crossguard_engine::ocsf::detection_finding(
                                &c,
                                &*item.json.value()?,
                                self.now_ms,
                            );
                            serde_json::to_writer(&mut self.out, &f)?;
                            self.out.write_all(b"\n")?;
                        }
                        _ => self.out.write_all(report::csv_line(&c).as_bytes())?,
                    }
                }
            }
        }
        Ok(())
    }

    /// Write what was gathered; the exit status: 2 when an input was skipped, a
    /// decision is an error or (replay) nothing was read, else 1 when there is a
    /// violation, else 0. With 2 comes the reason, one line.
    pub fn finish(mut self) -> io::Result<(u8, Option<String>)> {
        if matches!(self.format, ReportFormat::Text | ReportFormat::Html) {
            let duplicates = self.report.inputs.duplicates;
            self.report.inputs = std::mem::take(&mut self.tally);
            self.report.inputs.duplicates += duplicates;
            self.violations = self.report.count(Verdict::Violation) as u64;
            self.errors = self.report.count(Verdict::Error) as u64;
            if self.format == ReportFormat::Text {
                report::write_text(&self.report, &mut self.out)?;
            } else {
                report::write_html(&self.report, &self.title, &mut self.out)?;
            }
            self.tally = std::mem::take(&mut self.report.inputs);
        }
        self.out.flush()?;
        let mut why = Vec::new();
        let passed_over = self.tally.passed_over + self.tally.folders_passed_over;
        if self.needs_input && self.tally.files_read == 0 && passed_over == 0 {
            why.push("no CloudTrail log file or evidence record was read".to_string());
        }
        if !self.tally.skipped.is_empty() {
            why.push(format!(
                "{} input(s) skipped (named above)",
                self.tally.skipped.len()
            ));
        }
        if self.errors > 0 {
            why.push(format!(
                "{} {} could not be checked (error decisions); see the report",
                self.errors, self.unit
            ));
        }
        Ok(if !why.is_empty() {
            (2, Some(why.join("; ")))
        } else if self.violations > 0 {
            (1, None)
        } else {
            (0, None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossguard_engine::{decide, PolicyDocument, Resource};

    /// Every example policy decided as a bucket's, a role's and a key's (violations with
    /// plans, compliant, errors), an error and an ignored decision.
    fn decisions() -> Vec<Decision> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
        let (al, opts) = crate::testing::examples();
        let mut out = vec![
            Decision::error(None, "could not be checked: \"quoted\" \u{1}"),
            Decision::ignored(None, "not guarded"),
        ];
        let mut names: Vec<_> = std::fs::read_dir(format!("{root}/policies"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        let mut events: Vec<_> = std::fs::read_dir(format!("{root}/events"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        events.sort();
        for path in events {
            let text = std::fs::read_to_string(&path).unwrap();
            out.extend(crossguard_engine::decide_event_text(&al, &text, opts).unwrap());
        }
        assert!(out.iter().filter(|d| d.event.is_some()).count() > 5);
        // A statement nested as deep as a policy can be read: deeper in the decision.
        let deep = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::999999999999:root"}},"Action":"s3:GetObject","Resource":"*","X":{}1{}}}]}}"#,
            "[".repeat(124),
            "]".repeat(124)
        );
        let doc = PolicyDocument::parse(&deep).unwrap();
        let r = Resource::from_spec("bucket/shared-data", "111111111111", None).unwrap();
        let d = decide(&al, &r, Some(&doc), opts);
        assert!(d.remediation.is_some(), "{}", d.reason);
        out.push(d);
        for path in names {
            let doc = PolicyDocument::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for spec in ["bucket/shared-data", "role/VendorAudit", "key/1234abcd"] {
                let r = Resource::from_spec(spec, "111111111111", Some("eu-west-1")).unwrap();
                out.push(decide(&al, &r, Some(&doc), opts));
            }
        }
        out
    }

    /// A decision's line, written by the engine's writer, is byte for byte the line
    /// serde_json writes: over the example decisions (every verdict, plans, events,
    /// escapes) and the bench's policies decided as a bucket's.
    #[test]
    fn a_decision_line_is_the_line_serde_json_writes() {
        let mut all = decisions();
        let (al, opts) = crate::testing::examples();
        let bench = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/benches/policies");
        let r = Resource::from_spec("bucket/shared-data", "222222222222", None).unwrap();
        for e in std::fs::read_dir(bench).unwrap() {
            let doc = PolicyDocument::parse(&std::fs::read_to_string(e.unwrap().path()).unwrap());
            all.push(decide(&al, &r, Some(&doc.unwrap()), opts));
        }
        assert!(all.iter().filter(|d| d.remediation.is_some()).count() > 10);
        for d in &all {
            let mut line = b"kept".to_vec();
            decision_json(&mut line, d, &[("source", "a \"b\"\n.json")]).unwrap();
            let mut value = serde_json::to_value(d).unwrap();
            value
                .as_object_mut()
                .unwrap()
                .insert("source".into(), "a \"b\"\n.json".into());
            assert_eq!(&line[..4], b"kept");
            assert_eq!(
                String::from_utf8_lossy(&line[4..]),
                serde_json::to_string(&value).unwrap()
            );
        }
    }

    /// A row made from the decision's JSON text is the row made from its value, and the
    /// line is the value's line.
    #[test]
    fn a_row_from_the_text_is_the_row_from_the_value() {
        let all = decisions();
        assert!(all.iter().any(|d| d.remediation.is_some()));
        for d in &all {
            for (origin, source) in [(Origin::CloudTrail, "a/b.json.gz"), (Origin::Scan, "scan")] {
                let mut value = serde_json::to_value(d).unwrap();
                let o = value.as_object_mut().unwrap();
                o.insert("origin".into(), origin.as_str().into());
                o.insert("source".into(), source.into());
                let want = Change::from_decision(&value, origin, source, None);
                let item = Item::of_decision(d, origin, source).unwrap();
                assert_eq!(item.change, want);
                let Json::Text(text) = &item.json else {
                    panic!("a decision's row holds its text")
                };
                assert_eq!(*text, serde_json::to_vec(&value).unwrap());
                assert_eq!(*item.json.value().unwrap(), value);
            }
        }
    }
}
