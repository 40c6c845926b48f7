//! Where `replay` and `scan` rows go: JSON lines and CSV stream out as rows arrive (only
//! the ids seen are kept, to drop duplicates); the text summary and the HTML report
//! gather compact rows and are written at the end.

use crate::input::warn;
use crate::report;
use clap::ValueEnum;
use crossguard_engine::decision::Verdict;
use crossguard_engine::report::{Change, Origin, Report};
use std::collections::HashSet;
use std::io::{self, BufWriter, Write};

pub use crossguard_engine::report::Inputs as Tally;

/// One decided row, with its JSON line.
pub struct Item {
    pub change: Change,
    pub json: serde_json::Value,
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
                            serde_json::to_writer(&mut self.out, &item.json)?;
                            self.out.write_all(b"\n")?;
                        }
                        ReportFormat::Ocsf => {
                            let f = crossguard_engine::ocsf::detection_finding(
                                &c,
                                &item.json,
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
