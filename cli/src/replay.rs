//! `crossguard replay`: CloudTrail log files as AWS archives them (and the guard's
//! evidence records) → every grant change in them, decided and reported.
//!
//! Streaming: each worker holds one file at a time; the records of a log file are only
//! delimited (`RawValue`), and a record is parsed only when a quick text search finds
//! one of the guarded event names in it — most of an archive is other calls. Files are
//! spread over the machine's cores; rows are written in input order as they are
//! decided, a chunk at a time through a bounded channel per file, so memory stays flat
//! however many rows a file gives. A gzip file over 64 MiB unzipped is never held as
//! text: it is checked, then decided, as a stream from its gzip bytes (`stream`).

use crate::input::{is_gzip, read_stored, unzip_into, unzipped, Fault};
use crate::output::{Batch, Item, Json, Sink, Tally};
use aho_corasick::{AhoCorasick, MatchKind};
use anyhow::{bail, Context as _, Result};
use crossguard_engine::event::{self, GUARDED};
use crossguard_engine::evidence;
use crossguard_engine::report::{Change, Origin, Skipped};
use crossguard_engine::{self as engine, Allowlist, Date, Options};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

mod fast;
pub mod s3;
mod shape;
mod stream;

use shape::{Skim, Top};

/// Largest file read (after gunzip), and largest document on stdin: CloudTrail log
/// files are far smaller.
pub const MAX_FILE: u64 = 1 << 30;

/// Largest room for a file's text a worker keeps from one file to the next: CloudTrail's
/// files are far smaller, and a room kept is a room not made (fresh pages, zeroed) for
/// every file.
const KEEP_ROOM: usize = 16 << 20;

thread_local! {
    /// Each worker's room for a gzip file's text.
    static ROOM: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Rows sent to the writer at once.
const CHUNK: usize = 256;

/// Chunks of one file waiting for the writer: with the files in flight, this bounds
/// the rows held in memory, however dense a file is.
const CHUNKS_WAITING: usize = 2;

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

    /// Whether the account or time filters narrow anything an archive's path can show.
    fn narrows(&self) -> bool {
        !self.accounts.is_empty() || self.time_set()
    }

    /// Whether a file can be passed over unread from its archive path alone
    /// (`AWSLogs/[o-ORG/]ACCT/CloudTrail/REGION/YYYY/MM/DD/…`): its folders put it under
    /// an account not asked for, or a day outside the range.
    fn passes_over(&self, path: &Path) -> bool {
        // Every folder kept, readable or not, so that the path keeps its shape.
        let folders: Vec<Cow<str>> = path
            .parent()
            .map(|p| p.iter().map(|c| c.to_string_lossy()).collect())
            .unwrap_or_default();
        let folders: Vec<&str> = folders.iter().map(AsRef::as_ref).collect();
        self.outside(&folders)
    }

    /// Whether every file under these folders (an archive path as far as it goes) is
    /// outside the filters. A file's day folder is its delivery day: a day's margin
    /// keeps events delivered after midnight. Only the archive's own layout is read: a
    /// path of any other shape is never passed over.
    fn outside(&self, folders: &[&str]) -> bool {
        let Some(rest) = archive_path(folders) else {
            return false;
        };
        let Some((acct, rest)) = rest.split_first() else {
            return false;
        };
        if !self.accounts.is_empty()
            && is_account_id(acct)
            && !self.accounts.iter().any(|a| a == acct)
        {
            return true;
        }
        // Another service's folder beside CloudTrail's (AWS Config's in a shared log
        // bucket, Insights): not CloudTrail logs of calls. Digests are left out by name.
        if is_account_id(acct)
            && rest
                .first()
                .is_some_and(|svc| *svc != "CloudTrail" && *svc != DIGESTS)
        {
            return true;
        }
        let ["CloudTrail", _region, date @ ..] = rest else {
            return false;
        };
        // Level by level: the year alone, then with the month, then with the day. A
        // folder outside makes everything below it outside, whatever shape the rest
        // has, so a listing that stops at it misses nothing a walk would read.
        let day = |y: &str, m: &str, d: &str| Date::parse(&format!("{y}-{m}-{d}")).map(Date::days);
        let year = date
            .first()
            .and_then(|y| Some((day(y, "01", "01")?, day(y, "12", "31")?)));
        let month = date.get(..2).and_then(|ym| {
            let first = day(ym[0], ym[1], "01")?;
            let last = ["31", "30", "29", "28"]
                .iter()
                .find_map(|d| day(ym[0], ym[1], d))?;
            Some((first, last))
        });
        let on = date
            .get(..3)
            .and_then(|ymd| day(ymd[0], ymd[1], ymd[2]))
            .map(|d| (d, d));
        let bound = |s: &Option<String>| s.as_deref().and_then(Date::parse).map(Date::days);
        let (since, until) = (bound(&self.since), bound(&self.until));
        [year, month, on]
            .into_iter()
            .flatten()
            .any(|(first, last)| {
                since.is_some_and(|s| last < s - 1) || until.is_some_and(|u| first > u + 1)
            })
    }

    /// Whether listing these folders one level at a time can pass over anything below
    /// them: not once the path is a day's folder (or a shape the filters cannot read).
    fn may_pass_over_below(&self, folders: &[&str]) -> bool {
        if !self.narrows() {
            return false;
        }
        let Some(rest) = archive_path(folders) else {
            // Not yet in an archive's layout: `AWSLogs/` may be a little further down
            // (`s3://BUCKET/` over `BUCKET/trails/AWSLogs/`); deeper than that, one call
            // per folder would cost more than listing the rest flat.
            return folders.len() < DEPTH_BEFORE_AWSLOGS;
        };
        match rest {
            [] => true,
            [_acct] => self.time_set(),
            [_acct, "CloudTrail", date @ ..] => self.time_set() && date.len() < 4,
            _ => false,
        }
    }
}

/// Folders gone down one at a time, looking for `AWSLogs/`.
const DEPTH_BEFORE_AWSLOGS: usize = 3;

/// The folders after `AWSLogs/` (and an organization trail's `o-ORG/`), when the path
/// goes through `AWSLogs`.
fn archive_path<'a, 'p>(folders: &'a [&'p str]) -> Option<&'a [&'p str]> {
    let at = folders.iter().position(|p| *p == "AWSLogs")?;
    let rest = &folders[at + 1..];
    Some(match rest.first() {
        Some(o) if o.starts_with("o-") => &rest[1..],
        _ => rest,
    })
}

/// Twelve digits: only a folder so named is an account's.
/// The folder CloudTrail keeps its digest files in: signatures, not events.
const DIGESTS: &str = "CloudTrail-Digest";

/// A file replay reads by its name, on disk and in S3: JSON or gzipped JSON, outside the
/// digest folder.
fn is_log_file(name: &str, in_digests: bool) -> bool {
    (name.ends_with(".json") || name.ends_with(".json.gz")) && !in_digests
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Everything a worker needs, shared read-only.
pub struct Context {
    pub allowlist: Allowlist,
    pub opts: Options,
    pub filters: Filters,
    names: AhoCorasick,
    /// How `s3://` objects are read, when any is named.
    pub s3: Option<s3::Reader>,
    /// A gzip file that unzips to more than this many bytes is decided as a stream.
    stream_over: u64,
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
                // A name in another case is decided (`error`), as `crossguard event` does.
                .ascii_case_insensitive(true)
                .build(patterns)
                .expect("fixed patterns build"),
            s3: None,
            stream_over: stream::STREAM_OVER,
        }
    }
}

/// Where an input's rows go: on to the writer every [`CHUNK`] rows, with the counts so
/// far (the writer adds them up).
struct Rows<'a> {
    batch: Batch,
    send: &'a mut dyn FnMut(Batch) -> bool,
    /// The writer stopped (a closed stdout): nothing more is decided.
    closed: bool,
}

impl<'a> Rows<'a> {
    fn new(send: &'a mut dyn FnMut(Batch) -> bool) -> Rows<'a> {
        Rows {
            batch: Batch::default(),
            send,
            closed: false,
        }
    }

    fn push(&mut self, item: Item) {
        self.batch.items.push(item);
        if self.batch.items.len() >= CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        if !self.closed {
            self.closed = !(self.send)(batch);
        }
    }
}

/// A document of a text, delimited and checked, not yet decided.
enum Doc<'a> {
    /// A log file's records, each only delimited (its call read, when the fast
    /// delimiter read it).
    Log(Vec<fast::Record<'a>>),
    /// Anything else: an evidence record, a claim, an event, a bare record.
    Other {
        text: &'a str,
        schema: Option<Cow<'a, str>>,
    },
}

/// An input named on the command line, expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
    S3(s3::Object),
}

impl Input {
    /// How rows and faults name it.
    fn source(&self) -> String {
        match self {
            Input::Stdin => "stdin".into(),
            Input::File(p) => p.display().to_string(),
            Input::S3(o) => o.uri(),
        }
    }
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
        // Symbolic links are followed (an archive assembled from links is common);
        // walkdir detects a link that leads back into its own ancestors.
        for entry in walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    skipped.push(Skipped {
                        source: e
                            .path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| p.clone()),
                        reason: walk_fault(&e),
                    });
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy();
            let named = is_log_file(&name, entry.path().iter().any(|c| c == DIGESTS));
            if !named || entry.file_type().is_dir() {
                continue;
            }
            if !entry.file_type().is_file() {
                // Never opened: reading a FIFO would wait forever for a writer.
                skipped.push(Skipped {
                    source: entry.path().display().to_string(),
                    reason: format!("{}, not a regular file: not read", kind(entry.file_type())),
                });
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

/// Why a walk could not go on at an entry.
fn walk_fault(e: &walkdir::Error) -> String {
    if let Some(ancestor) = e.loop_ancestor() {
        return format!(
            "symbolic link loop (back to {}): not read",
            ancestor.display()
        );
    }
    match e.io_error().map(io::Error::kind) {
        Some(io::ErrorKind::NotFound) => {
            "broken symbolic link (its target does not exist): not read".into()
        }
        _ => format!("cannot read: {e}"),
    }
}

/// What a file that is not a regular file is, for a person.
fn kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "something else"
    }
}

/// A file's bytes as stored (gzip left as it is); the reason when it cannot be read.
fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    // A regular file's size is known: one over the limit is refused unread.
    let size = file
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    read_stored(file, size, MAX_FILE).map_err(fault_reason)
}

/// Why a stored input could not be read, as a skipped file's reason.
fn fault_reason(fault: Fault) -> String {
    match fault {
        Fault::TooLarge(Some(n)) => format!(
            "larger than {} MiB ({n} bytes; the limit): not read",
            MAX_FILE >> 20
        ),
        Fault::TooLarge(None) | Fault::UnzipsTooLarge => format!(
            "larger than {} MiB (the limit), as stored or unzipped: not read",
            MAX_FILE >> 20
        ),
        Fault::Io(e) => format!("cannot read: {e}"),
        Fault::Gzip(e) => format!("corrupt or truncated gzip: {e}"),
    }
}

/// Stored bytes as text, gunzipped when they are gzip; the reason when they cannot be.
fn text_of(raw: Vec<u8>) -> Result<String, String> {
    text_from(unzipped(raw, MAX_FILE))
}

/// What was read, as text; the reason when it cannot be.
fn text_from(read: Result<Vec<u8>, Fault>) -> Result<String, String> {
    String::from_utf8(read.map_err(fault_reason)?).map_err(|e| format!("not UTF-8 text: {e}"))
}

/// A stored input, ready to decide.
enum Reading<'r> {
    /// Its text, whole (in the worker's room, when unzipped there).
    Text(Cow<'r, str>),
    /// Gzip bytes found sound and made of `docs` log files, to decide as a stream.
    Stream { gz: Vec<u8>, docs: usize },
}

/// Is this one of the calls crossguard guards (by name and source)?
fn is_guarded(s: &engine::EventSummary) -> bool {
    GUARDED
        .iter()
        .any(|(n, src, _)| s.name.as_deref() == Some(*n) && s.source.as_deref() == Some(*src))
}

impl Context {
    /// Is this record one of the guarded calls, or one to read in full to know? `call`
    /// is what the fast delimiter read of its top level: the same answer, without
    /// searching the record again.
    fn guarded(&self, record: &str, call: fast::Call) -> bool {
        if let fast::Call::Named { name, source } = call {
            return event::may_be_guarded(name, source);
        }
        // A record whose text names no guarded call may still be one: `event` decides an
        // object record whose `eventName` or `eventSource` is there but not a string
        // `error` (serde refuses it below). One that is not an object names no call.
        if !record.trim_start().starts_with('{') && !self.names.is_match(record) {
            return false;
        }
        match serde_json::from_str::<Skim>(record) {
            Ok(Skim { name, source }) => event::may_be_guarded(name.as_deref(), source.as_deref()),
            // A duplicate `eventName`/`eventSource` (or text serde refuses) is read in
            // full, so that it is decided `error` exactly as `crossguard event` does.
            Err(_) => true,
        }
    }

    fn keep(&self, rows: &mut Rows, item: Item) {
        if self.filters.admits(&item.change) {
            rows.push(item);
        } else {
            rows.batch.tally.filtered += 1;
        }
    }

    fn decided(&self, rows: &mut Rows, d: &engine::Decision, source: &str) {
        // A decision always encodes; were one not to, the input is reported skipped (and
        // the run fails), never passed as a row of nothing.
        match Item::of_decision(d, Origin::CloudTrail, source) {
            Ok(item) => self.keep(rows, item),
            Err(e) => rows.batch.tally.skipped.push(Skipped {
                source: source.to_string(),
                reason: format!("a decision could not be encoded: {e}"),
            }),
        }
    }

    /// One record of a log file.
    fn record(&self, rows: &mut Rows, raw: &str, call: fast::Call, source: &str) {
        rows.batch.tally.records += 1;
        if !self.guarded(raw, call) {
            rows.batch.tally.irrelevant += 1;
            return;
        }
        let parsed = match engine::json::from_str(raw) {
            Ok(c) => {
                let dup = event::record_duplicate(&c, "");
                event::parse_checked_record(&c.value, dup.as_ref())
            }
            // Delimited, but refused by the full parser (a number out of range, a lone
            // surrogate): the record could not be checked, an error row (SPEC §1). The
            // file's other records stand.
            Err(e) => {
                let skim = serde_json::from_str::<Skim>(raw).ok();
                engine::ParsedEvent::Invalid {
                    summary: engine::EventSummary {
                        name: skim
                            .as_ref()
                            .and_then(|s| s.name.as_deref().map(str::to_string)),
                        source: skim
                            .as_ref()
                            .and_then(|s| s.source.as_deref().map(str::to_string)),
                        ..Default::default()
                    },
                    reason: format!("could not be checked: the record is not valid JSON: {e}"),
                }
            }
        };
        if matches!(parsed, engine::ParsedEvent::Ignored { .. }) && !is_guarded(parsed.summary()) {
            rows.batch.tally.irrelevant += 1;
            return;
        }
        let d = engine::decide_parsed(&self.allowlist, parsed, self.opts);
        self.decided(rows, &d, source);
    }

    /// A document that is not a log file: an evidence record, a guard's claim, an
    /// EventBridge event or a bare record. Without `rows`, only checked: a fault is found
    /// before any row of its input is sent on.
    fn other(
        &self,
        rows: Option<&mut Rows>,
        text: &str,
        schema: Option<&str>,
        source: &str,
    ) -> Result<(), String> {
        // Read exactly: a duplicate key is an error decision (or, in an evidence record, a
        // record that cannot be trusted), never a guess.
        let checked = engine::json::from_str(text).map_err(|e| e.to_string())?;
        let v = &checked.value;
        match schema {
            Some(evidence::SCHEMA) => {
                if let Some(why) = checked.duplicate_reason("") {
                    return Err(format!("evidence record: {why}"));
                }
                let decision = v
                    .get("decision")
                    .filter(|d| d.is_object())
                    .ok_or("evidence record without a decision".to_string())?;
                let Some(rows) = rows else { return Ok(()) };
                let outcome = v.get("outcome").and_then(Value::as_str).map(str::to_string);
                let mut json = decision.clone();
                if let Some(o) = json.as_object_mut() {
                    o.insert("origin".into(), Origin::Evidence.as_str().into());
                    o.insert("source".into(), source.into());
                    o.insert("outcome".into(), outcome.clone().into());
                }
                let change = Change::from_decision(&json, Origin::Evidence, source, outcome);
                self.keep(
                    rows,
                    Item {
                        change,
                        json: Json::Value(json),
                    },
                );
                Ok(())
            }
            Some(s) if s.starts_with("crossguard.claim/") => {
                if let Some(rows) = rows {
                    rows.batch.tally.unfinished_claims += 1;
                }
                Ok(())
            }
            Some(s) => Err(format!("unknown schema \"{}\"", crate::input::excerpt(s))),
            None => {
                let records = event::records_checked(&checked).map_err(|e| e.to_string())?;
                let Some(rows) = rows else {
                    return Ok(());
                };
                for r in records {
                    rows.batch.tally.records += 1;
                    let parsed = engine::parse_checked_input(r);
                    let relevant = match &parsed {
                        engine::ParsedEvent::Ignored { .. } => is_guarded(parsed.summary()),
                        _ => true,
                    };
                    if !relevant {
                        rows.batch.tally.irrelevant += 1;
                        continue;
                    }
                    let d = engine::decide_parsed(&self.allowlist, parsed, self.opts);
                    self.decided(rows, &d, source);
                }
                Ok(())
            }
        }
    }

    /// Every document in a text (one log file, or several JSON documents one after the
    /// other), delimited and checked. A fault anywhere refuses the whole text before
    /// any of it is decided: nothing of it is reported, the reason is.
    fn delimit<'t>(&self, text: &'t str) -> Result<Vec<Doc<'t>>, String> {
        match fast::log_files(text) {
            Some(files) => Ok(files.into_iter().map(Doc::Log).collect()),
            None => self.delimit_slowly(text),
        }
    }

    /// [`Context::delimit`] by serde_json, the judge of every text the fast delimiter
    /// doubts: it names the fault, and reads documents other than log files.
    fn delimit_slowly<'t>(&self, text: &'t str) -> Result<Vec<Doc<'t>>, String> {
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Top>();
        let mut start = 0;
        let mut docs = Vec::new();
        while let Some(doc) = stream.next() {
            let end = stream.byte_offset();
            let doc = doc.map_err(|e| {
                if e.is_eof() {
                    format!("truncated JSON: {e}")
                } else {
                    format!("not a CloudTrail log file, event or evidence record: {e}")
                }
            })?;
            docs.push(match doc.records {
                Some(records) => Doc::Log(
                    records
                        .into_iter()
                        .map(|r| fast::Record {
                            raw: r.get(),
                            call: fast::Call::Unknown,
                        })
                        .collect(),
                ),
                None => {
                    let text = &text[start..end];
                    self.other(None, text, doc.schema.as_deref(), "")?;
                    Doc::Other {
                        text,
                        schema: doc.schema,
                    }
                }
            });
            start = end;
        }
        if docs.is_empty() {
            return Err("empty: no JSON document".into());
        }
        Ok(docs)
    }

    /// Decide every document of a text, rows sent on as they come.
    fn decide_text(&self, rows: &mut Rows, text: &str, source: &str) -> Result<(), String> {
        for doc in self.delimit(text)? {
            match doc {
                Doc::Log(records) => {
                    for r in records {
                        if rows.closed {
                            return Ok(());
                        }
                        self.record(rows, r.raw, r.call, source);
                    }
                }
                Doc::Other { text, schema } => {
                    // Checked when delimited: a fault here cannot be, but would be
                    // an error row, never a silent gap.
                    if let Err(why) = self.other(Some(rows), text, schema.as_deref(), source) {
                        self.decided(rows, &engine::Decision::error(None, why), source);
                    }
                }
            }
        }
        Ok(())
    }

    /// A file's or object's bytes as stored, decided (or the reason it cannot be).
    fn decide_stored(&self, rows: &mut Rows, raw: Vec<u8>, source: &str) -> Result<(), String> {
        ROOM.with_borrow_mut(|room| {
            let decided = self.reading(raw, room).and_then(|reading| match reading {
                Reading::Text(text) => self.decide_text(rows, &text, source),
                Reading::Stream { gz, docs } => stream::decide(self, rows, &gz, docs, source),
            });
            // Let go of a large room whatever became of the file (a fault too).
            if room.len() > KEEP_ROOM {
                *room = Vec::new();
            }
            decided
        })
    }

    /// How stored bytes are read. A gzip file that unzips to more than
    /// [`Context::stream_over`] bytes is read twice as a stream from its gzip bytes
    /// (checked whole, then decided), when it is made of log files only: the rows are the
    /// same, but its text is never held whole. Anything else, and anything the first
    /// reading finds fault with, is unzipped whole and decided (or refused) from its text.
    /// A gzip file's text is unzipped into `room` when it fits the bound.
    fn reading<'r>(&self, raw: Vec<u8>, room: &'r mut Vec<u8>) -> Result<Reading<'r>, String> {
        if is_gzip(&raw) {
            // Gzip's size field saying more than the bound is believed (no text is made
            // to find out); saying less, it is not: the field is the last member's only,
            // and one tiny member appended would hide a large file. The text is then
            // unzipped up to the bound.
            let read = if stream::says_over(&raw, self.stream_over) {
                Err(Fault::UnzipsTooLarge)
            } else {
                unzip_into(&raw, self.stream_over.min(MAX_FILE), room)
            };
            match read {
                Err(Fault::UnzipsTooLarge) => {
                    if let Some(docs) = stream::log_documents(&raw) {
                        return Ok(Reading::Stream { gz: raw, docs });
                    }
                }
                Ok(n) => {
                    let text = room.get(..n).ok_or("unzipped text out of its room")?;
                    return std::str::from_utf8(text)
                        .map(|t| Reading::Text(Cow::Borrowed(t)))
                        .map_err(|e| format!("not UTF-8 text: {e}"));
                }
                Err(fault) => return Err(fault_reason(fault)),
            }
        }
        text_of(raw).map(|t| Reading::Text(Cow::Owned(t)))
    }

    /// One file or object: all of it, or nothing and the reason. Rows go to `send` in
    /// chunks (false from it: stop).
    pub fn stored(&self, input: &Input, send: &mut dyn FnMut(Batch) -> bool) {
        let raw = match input {
            Input::File(path) => read_file(path),
            Input::S3(o) => match &self.s3 {
                Some(reader) => reader.bytes(o),
                None => Err("no S3 client to read it with".into()),
            },
            // Read before any worker starts; never given to one.
            Input::Stdin => Err("stdin is read on its own".into()),
        };
        self.decide_read(raw, input.source(), send);
    }

    /// What was read of one file or object (or why nothing could be), decided.
    fn decide_read(
        &self,
        raw: Result<Vec<u8>, String>,
        source: String,
        send: &mut dyn FnMut(Batch) -> bool,
    ) {
        let mut rows = Rows::new(send);
        match raw.and_then(|raw| self.decide_stored(&mut rows, raw, &source)) {
            Ok(()) => rows.batch.tally.files_read = 1,
            Err(reason) => rows.batch.tally.skipped.push(Skipped { source, reason }),
        }
        rows.flush();
    }

    /// Standard input, a document at a time (a stream of concatenated log files keeps
    /// memory to one document, at most [`MAX_FILE`]). What was read before a fault is
    /// kept.
    pub fn stdin(&self, sink: &mut Sink) -> Result<()> {
        let mut input = BufReader::new(std::io::stdin().lock());
        let gz = is_gzip(input.fill_buf().context("cannot read stdin")?);
        let reader: Box<dyn Read> = if gz {
            Box::new(flate2::read::MultiGzDecoder::new(input))
        } else {
            Box::new(input)
        };
        let read = Rc::new(Cell::new(0));
        let until = Rc::new(Cell::new(MAX_FILE));
        let capped = Capped {
            inner: reader,
            read: read.clone(),
            until: until.clone(),
        };
        let docs = serde_json::Deserializer::from_reader(BufReader::new(capped))
            .into_iter::<Box<RawValue>>();
        let mut n = 0;
        let mut failed = None;
        for doc in docs {
            n += 1;
            let mut send = |b: Batch| match sink.batch(b) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            };
            let res = {
                let mut rows = Rows::new(&mut send);
                let res = doc
                    .map_err(|e| e.to_string())
                    .and_then(|raw| self.decide_text(&mut rows, raw.get(), "stdin"));
                if let Err(reason) = &res {
                    rows.batch.tally.skipped.push(Skipped {
                        source: format!("stdin (document {n})"),
                        reason: format!("{reason}; the rest of stdin was not read"),
                    });
                }
                rows.flush();
                res
            };
            if let Some(e) = failed.take() {
                return Err(e.into());
            }
            if res.is_err() {
                return Ok(());
            }
            // The next document (with any blank space before it) gets the same cap.
            until.set(read.get() + MAX_FILE);
        }
        if n == 0 {
            sink.batch(Batch {
                items: Vec::new(),
                tally: Tally {
                    skipped: vec![Skipped {
                        source: "stdin".into(),
                        reason: "empty: no JSON document".into(),
                    }],
                    ..Default::default()
                },
            })?;
            return Ok(());
        }
        sink.tally.files_read += 1;
        Ok(())
    }
}

/// Stdin as read, refused past a byte count: one document (or the blank space before
/// it) larger than [`MAX_FILE`] ends the read with the reason, where a gzip bomb would
/// otherwise grow without bound.
struct Capped<R> {
    inner: R,
    read: Rc<Cell<u64>>,
    until: Rc<Cell<u64>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read.get() > self.until.get() {
            return Err(io::Error::other(format!(
                "a document larger than {} MiB (the limit), unzipped",
                MAX_FILE >> 20
            )));
        }
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// The order rows leave in: file `i` is written whole before file `i + 1`. Workers take
/// files in order but start one only within a window past the one being written, so
/// what waits is bounded: a few chunks per file in flight.
struct Order {
    state: Mutex<OrderState>,
    changed: Condvar,
}

struct OrderState {
    /// The file being written.
    due: usize,
    /// Files started, by index: where their chunks arrive.
    started: BTreeMap<usize, mpsc::Receiver<Batch>>,
    /// The writer stopped: no more files.
    stop: bool,
}

impl Order {
    fn lock(&self) -> std::sync::MutexGuard<'_, OrderState> {
        // A worker that panicked holding the lock has ended the run anyway (the scope
        // re-raises its panic); the state itself is always consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Worker: file `i` may start (within the window), its chunks arriving on `rx`.
    /// False: the run is stopping.
    fn start(&self, i: usize, window: usize, rx: mpsc::Receiver<Batch>) -> bool {
        let mut st = self.lock();
        while !st.stop && i >= st.due + window {
            st = self
                .changed
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if st.stop {
            return false;
        }
        st.started.insert(i, rx);
        self.changed.notify_all();
        true
    }

    /// Writer: the channel of file `i`, once its worker has started it.
    fn take(&self, i: usize) -> mpsc::Receiver<Batch> {
        let mut st = self.lock();
        loop {
            if let Some(rx) = st.started.remove(&i) {
                return rx;
            }
            st = self
                .changed
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Writer: file `i` is written; the window moves on.
    fn done(&self, i: usize) {
        self.lock().due = i + 1;
        self.changed.notify_all();
    }

    /// Writer: stop every worker (its channels dropped, waiting ones woken).
    fn stop(&self) {
        let mut st = self.lock();
        st.stop = true;
        st.started.clear();
        self.changed.notify_all();
    }
}

/// Run every input through the workers; rows reach the sink in input order.
pub fn run(ctx: &Context, inputs: &[Input], jobs: usize, sink: &mut Sink) -> Result<()> {
    if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        bail!("stdin (-) can be named once");
    }
    let files: Vec<&Input> = inputs.iter().filter(|i| **i != Input::Stdin).collect();
    if inputs.contains(&Input::Stdin) {
        ctx.stdin(sink)?;
    }
    let workers = jobs.clamp(1, files.len().max(1));
    let window = workers * 2;
    let next = AtomicUsize::new(0);
    let order = Order {
        state: Mutex::new(OrderState {
            due: 0,
            started: BTreeMap::new(),
            stop: false,
        }),
        changed: Condvar::new(),
    };
    std::thread::scope(|s| -> Result<()> {
        for _ in 0..workers {
            let (next, files, order) = (&next, &files, &order);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(input) = files.get(i) else { break };
                let (tx, rx) = mpsc::sync_channel(CHUNKS_WAITING);
                if !order.start(i, window, rx) {
                    break;
                }
                ctx.stored(input, &mut |b| tx.send(b).is_ok());
            });
        }
        let mut write = || -> Result<()> {
            for i in 0..files.len() {
                for chunk in order.take(i) {
                    sink.batch(chunk)?;
                }
                order.done(i);
            }
            Ok(())
        };
        let result = write();
        if result.is_err() {
            order.stop();
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker's room for a file's text is kept from one file to the next, and let go
    /// of when it grew past [`KEEP_ROOM`], whatever became of the file (decided or
    /// refused); each file's rows are its own.
    #[test]
    fn a_worker_keeps_a_small_room_and_lets_go_of_a_large_one() {
        let (allowlist, opts) = crate::testing::examples();
        let ctx = Context::new(allowlist, opts, Filters::default());
        let record = &crate::testing::records()[0];
        let log = |n: usize| format!("{{\"Records\":[{}]}}", vec![record.as_str(); n].join(","));
        let small = log(3);
        let large = log(KEEP_ROOM / record.len() + 1);
        let mut bad = large.clone().into_bytes();
        bad.insert(bad.len() / 2, 0xff);
        let cases: [(&[u8], Option<u64>, usize); 4] = [
            (small.as_bytes(), Some(3), small.len()),
            (
                large.as_bytes(),
                Some((KEEP_ROOM / record.len() + 1) as u64),
                0,
            ),
            (small.as_bytes(), Some(3), small.len()),
            (&bad, None, 0),
        ];
        for (text, records, kept) in cases {
            let (mut read, mut skipped) = (0, 0);
            ctx.decide_read(
                Ok(crate::testing::gzip(&[text])),
                "f.json.gz".into(),
                &mut |b| {
                    read += b.tally.records;
                    skipped += b.tally.skipped.len();
                    true
                },
            );
            match records {
                Some(n) => assert_eq!((read, skipped), (n, 0)),
                None => assert_eq!((read, skipped), (0, 1)),
            }
            let room = ROOM.with_borrow(Vec::len);
            assert!(room >= kept && room <= KEEP_ROOM, "{room}");
        }
    }

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
        // AWS Config's files in a shared log bucket: passed over, whatever the filters.
        let config = "AWSLogs/111111111111/Config/eu-west-1/2026/1/15/ConfigSnapshot/x.json.gz";
        assert!(p(config));
        assert!(Filters::default().passes_over(Path::new(config)));
        assert!(!Filters::default().passes_over(Path::new(&format!(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/01/15/{file}"
        ))));
        // Below a day folder, or a whole month out of range: still outside.
        assert!(p(&format!(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/01/08/late/{file}"
        )));
        assert!(p(&format!(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/2025/12/{file}"
        )));
        // A folder that is not an account's (twelve digits) is never read as one.
        assert!(!p(&format!(
            "AWSLogs/logs-2222/CloudTrail/eu-west-1/2026/01/15/{file}"
        )));
        // The margin crosses a month's end: February 1st is kept for a range ending
        // January 31st, March is not.
        let f = Filters {
            until: Some("2026-01-31".into()),
            ..Filters::default()
        };
        assert!(!f.passes_over(Path::new(&format!(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/02/01/{file}"
        ))));
        assert!(f.outside(&[
            "AWSLogs",
            "111111111111",
            "CloudTrail",
            "eu-west-1",
            "2026",
            "03"
        ]));
        assert!(!f.outside(&[
            "AWSLogs",
            "111111111111",
            "CloudTrail",
            "eu-west-1",
            "2026",
            "02"
        ]));
        assert!(f.outside(&["AWSLogs", "111111111111", "CloudTrail", "eu-west-1", "2027"]));
    }
}
