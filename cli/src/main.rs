//! `crossguard`: check policies and CloudTrail events against an allowlist of approved
//! cross-account pairings, offline. Exit status: 0 compliant or ignored, 1 violation,
//! 2 bad input or error (with a one-line reason on stderr).

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use crossguard_engine::{
    self as engine, Allowlist, Date, Decision, Mode, Options, PolicyDocument, Resource, Verdict,
};
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::sync::Arc;

// Checking and replaying make many small allocations (grants, findings, reasons): mimalloc
// serves them faster than glibc's malloc (`make bench` measures the difference).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod input;
mod output;
mod replay;
mod report;
mod restore;
mod scan;
#[cfg(test)]
mod testing;

use input::{read_input, warn, MAX_READ};
use output::{ReportFormat, Sink};

/// The engine refuses a larger allowlist; reading stops there too.
const ALLOWLIST_LIMIT: u64 = engine::allowlist::MAX_ALLOWLIST_BYTES as u64;

#[derive(Parser)]
#[command(
    name = "crossguard",
    version,
    about = "Keep cross-account access to S3 buckets, IAM roles and KMS keys to an approved list."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decide one or more policy files for a resource: one decision each.
    Check(CheckArgs),
    /// Decide a CloudTrail event (EventBridge event, bare record, or log file, optionally
    /// gzipped) exactly as the guard Lambda would, without calling AWS.
    Event(EventArgs),
    /// Every grant change in CloudTrail log files (as AWS archives them: .json.gz, .json,
    /// directories walked, - for stdin) and guard evidence records, decided and reported.
    Replay(ReplayArgs),
    /// Audit the live account: every bucket policy, role trust policy and key policy
    /// (AWS credentials and region from the environment, as the AWS CLI takes them).
    Scan(ScanArgs),
    /// Put back the grants a fix removed, from its evidence record (a file, - or
    /// s3://BUCKET/KEY): shows them, then restores them into the live policy.
    Restore(RestoreArgs),
    /// Work with allowlist files.
    #[command(subcommand)]
    Allowlist(AllowlistCommand),
}

#[derive(Args)]
struct RestoreArgs {
    /// The allowlist the guard reads: grants it does not approve (as of today) are not
    /// put back, and the entries that would approve them are printed.
    #[arg(long, value_name = "FILE")]
    allowlist: String,
    /// Restore even though the live policy changed since the fix: only the removed grants
    /// are added to it, each as a statement of its own; every later change stays.
    #[arg(long)]
    force: bool,
    /// Show what would be put back and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Where the restore's own record goes (evidence/restore/…); default: the bucket the
    /// evidence record came from, or beside a local record.
    #[arg(long, value_name = "BUCKET")]
    evidence_bucket: Option<String>,
    /// The evidence record of the fix: a file, - for stdin, or s3://BUCKET/KEY.
    #[arg(value_name = "EVIDENCE")]
    evidence: String,
}

#[derive(Subcommand)]
enum AllowlistCommand {
    /// Check an allowlist file; every fault is reported as FILE:LINE: reason.
    Validate {
        /// The allowlist (TOML).
        file: String,
    },
    /// Print the narrowest allowlist entries that would approve a decision's unapproved
    /// grants (from check/event/scan JSON output, an evidence record or an alert).
    Suggest {
        /// Date the `expires` placeholder counts from (YYYY-MM-DD, default today in UTC).
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        as_of: Option<Date>,
        /// The decision(s): a file, or - for stdin.
        #[arg(value_name = "DECISION")]
        decision: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Args)]
struct Common {
    /// The allowlist of approved pairings (TOML).
    #[arg(long, value_name = "FILE")]
    allowlist: String,
    /// Override the allowlist's mode (what a violation gets).
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// Judge pairing expiry as of this day (YYYY-MM-DD, default today in UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    as_of: Option<Date>,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    common: Common,
    /// Output format: text for people, json for one JSON object per decision per line.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The account that owns the resource (12 digits).
    #[arg(long, value_name = "ACCT")]
    owner: String,
    /// The resource: bucket/NAME, role/NAME or key/ID.
    #[arg(long, value_name = "KIND/NAME")]
    resource: String,
    /// The resource's region (sets the ARN's partition; default us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// Files decided at once, 1 to 256 (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
    /// Policy files (JSON, JSON string or URL-encoded, as AWS returns them); - for stdin.
    #[arg(required = true, value_name = "POLICY")]
    policies: Vec<String>,
}

#[derive(Args)]
struct EventArgs {
    #[command(flatten)]
    common: Common,
    /// Output format: text for people, json for one JSON object per decision per line.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Event files (.json or .json.gz); - for stdin.
    #[arg(required = true, value_name = "EVENT")]
    events: Vec<String>,
}

#[derive(Args)]
struct ReplayArgs {
    #[command(flatten)]
    common: Common,
    /// Output: a text summary, JSON lines, CSV, or one self-contained HTML report.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Only events at or after this time (2026-01-01 or 2026-01-01T12:00:00Z, UTC).
    #[arg(long, value_name = "TIME", value_parser = replay::parse_time)]
    since: Option<String>,
    /// Only events at or before this time (a date includes the whole day).
    #[arg(long, value_name = "TIME", value_parser = replay::parse_time)]
    until: Option<String>,
    /// Only resources owned by this account (repeatable).
    #[arg(long = "account", value_name = "ACCT", value_parser = parse_account)]
    accounts: Vec<String>,
    /// Files read at once, 1 to 256 (default: one per core; with an s3:// archive four
    /// per core, 8 to 64).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
    /// Keys per page of an S3 archive's listing (S3's 1,000 when unset).
    #[arg(long, value_name = "N", hide = true, value_parser = clap::value_parser!(i32).range(1..=1000))]
    page_size: Option<i32>,
    /// The HTML report's title.
    #[arg(long, default_value = "crossguard: cross-account grant changes")]
    title: String,
    /// Log files, directories, archives in S3 (s3://BUCKET/PREFIX) or evidence records;
    /// - for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

#[derive(Args)]
struct ScanArgs {
    #[command(flatten)]
    common: Common,
    /// Output: a text summary, JSON lines, CSV, or one self-contained HTML report.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Only these kinds (repeatable; default every kind). Everything but buckets and
    /// roles is listed in the configured region only.
    #[arg(long = "kind", value_enum)]
    kinds: Vec<engine::ResourceKind>,
    /// Items per page of the paged listings (the services' defaults when unset).
    #[arg(long, value_name = "N", hide = true)]
    page_size: Option<i32>,
    /// The HTML report's title.
    #[arg(long, default_value = "crossguard: what is shared now")]
    title: String,
    /// Every active account of the organization (Organizations ListAccounts, from the
    /// management or a delegated administrator account): each scanned through its role.
    #[arg(long)]
    org: bool,
    /// With --org: the role assumed in each member account: the read-only one
    /// infra/member-account.yaml makes when given the scanner's ARN.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "crossguard-remediation",
        requires = "org"
    )]
    role: String,
    /// With --org: the ExternalId the role demands (or CROSSGUARD_EXTERNAL_ID, which
    /// keeps it out of the shell's history).
    #[arg(
        long,
        value_name = "ID",
        env = "CROSSGUARD_EXTERNAL_ID",
        hide_env_values = true
    )]
    external_id: Option<String>,
    /// With --org: accounts scanned at once, 1 to 32.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32), requires = "org")]
    accounts_at_once: u16,
}

fn parse_account(s: &str) -> Result<String, String> {
    if engine::principal::is_account_id(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "\"{}\" is not a 12-digit account id",
            input::excerpt(s)
        ))
    }
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s)
        .filter(|_| s.len() == 10)
        .ok_or_else(|| format!("\"{}\" is not a date such as 2027-06-30", input::excerpt(s)))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(a) => check(&a),
        Command::Event(a) => event(&a),
        Command::Replay(a) => replay(a),
        Command::Scan(a) => scan(a),
        Command::Restore(a) => restore(a),
        Command::Allowlist(AllowlistCommand::Validate { file }) => validate(&file),
        Command::Allowlist(AllowlistCommand::Suggest { as_of, decision }) => {
            suggest(&decision, as_of)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // The reader of stdout left (`| head -1`): nothing to say, and no one to say it
        // to. Not 0: the report was not delivered whole. 141 is what a shell shows for a
        // writer ended by SIGPIPE.
        Err(e) if input::broken_pipe(&e) => ExitCode::from(141),
        Err(e) => {
            // One line: the chain of causes, outermost first.
            let msg = e
                .chain()
                .map(std::string::ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            warn(&format!("crossguard: error: {msg}"));
            ExitCode::from(2)
        }
    }
}

/// `-` (stdin) can be read once: named twice, the second would read nothing.
fn stdin_once(names: &[String]) -> Result<()> {
    if names.iter().filter(|n| *n == "-").count() > 1 {
        anyhow::bail!("stdin (-) can be named once");
    }
    Ok(())
}

fn load_allowlist(path: &str) -> Result<Allowlist> {
    let text = read_input(path, ALLOWLIST_LIMIT)?;
    Allowlist::from_toml(&text, path).map_err(|e| {
        let first = e.faults[0].to_string();
        match e.faults.len() {
            1 => anyhow::anyhow!("{first}"),
            n => anyhow::anyhow!(
                "{first} (and {} more: run `crossguard allowlist validate {path}`)",
                n - 1
            ),
        }
    })
}

fn options(c: &Common) -> Options {
    Options {
        today: c.as_of.unwrap_or_else(Date::today),
        mode: c.mode,
    }
}

/// Decisions printed as they are made (a log of millions of records never waits in
/// memory); the exit status is the worst verdict (error > violation).
struct Emit {
    format: Format,
    out: BufWriter<std::io::Stdout>,
    /// Text output heads each decision with its source when there is more than one; the
    /// first waits until a second shows whether there is.
    first: Option<(String, Decision)>,
    several: bool,
    /// One JSON line's buffer, reused.
    line: Vec<u8>,
    code: u8,
}

impl Emit {
    fn new(format: Format) -> Emit {
        Emit {
            format,
            out: BufWriter::with_capacity(1 << 16, std::io::stdout()),
            line: Vec::with_capacity(4096),
            first: None,
            several: false,
            code: 0,
        }
    }

    fn push(&mut self, source: &str, d: Decision) -> Result<()> {
        if self.format == Format::Text && !self.several {
            match self.first.take() {
                None => {
                    self.first = Some((source.to_string(), d));
                    return Ok(());
                }
                Some((s, first)) => {
                    self.several = true;
                    self.write(&s, &first)?;
                }
            }
        }
        self.write(source, &d)
    }

    fn write(&mut self, source: &str, d: &Decision) -> Result<()> {
        match self.format {
            Format::Json => {
                self.line.clear();
                json_line(&mut self.line, source, d)?;
                self.out.write_all(&self.line)?;
            }
            Format::Text => {
                if self.several {
                    let shown = engine::render::escape_controls(source);
                    writeln!(self.out, "== {shown}")?;
                }
                self.out
                    .write_all(engine::render::decision_text(d).as_bytes())?;
            }
        }
        if d.verdict == Verdict::Error {
            warn(&format!("crossguard: error: {source}: {}", d.reason));
        }
        self.code = self.code.max(d.verdict.exit_code());
        Ok(())
    }

    /// JSON lines a worker rendered, with the exit code and error lines they carry.
    fn push_rendered(&mut self, r: &Rendered) -> Result<()> {
        self.out.write_all(&r.json)?;
        for e in &r.errors {
            warn(e);
        }
        self.code = self.code.max(r.code);
        Ok(())
    }

    fn finish(mut self) -> Result<u8> {
        if let Some((s, d)) = self.first.take() {
            self.write(&s, &d)?;
        }
        self.out.flush()?;
        Ok(self.code)
    }
}

/// A decision's JSON line: its object with `source` as the last member, written straight
/// out (no intermediate `Value` tree per decision).
fn json_line(line: &mut Vec<u8>, source: &str, d: &Decision) -> Result<()> {
    output::decision_json(line, d, &[("source", source)])?;
    line.push(b'\n');
    Ok(())
}

/// A batch of `check`'s JSON lines, rendered where they were decided.
#[derive(Default)]
struct Rendered {
    json: Vec<u8>,
    /// The worst verdict's exit code.
    code: u8,
    /// A line for stderr per decision that is an error.
    errors: Vec<String>,
}

impl Rendered {
    fn push(&mut self, source: &str, d: &Decision) -> Result<()> {
        json_line(&mut self.json, source, d)?;
        if d.verdict == Verdict::Error {
            self.errors
                .push(format!("crossguard: error: {source}: {}", d.reason));
        }
        self.code = self.code.max(d.verdict.exit_code());
        Ok(())
    }
}

/// What a `check` worker hands the printer for one batch.
enum Decided {
    /// Text: the decisions (the printer knows whether there is more than one).
    Decisions(Vec<Decision>),
    /// JSON: rendered by the worker, on its core.
    Json(Rendered),
}

fn check(a: &CheckArgs) -> Result<u8> {
    stdin_once(&a.policies)?;
    let allowlist = load_allowlist(&a.common.allowlist)?;
    let resource = Resource::from_spec(&a.resource, &a.owner, a.region.as_deref())
        .context("--resource/--owner")?;
    let opts = options(&a.common);
    let decide_file = |p: &String| match read_input(p, engine::policy::MAX_INPUT_BYTES as u64) {
        Ok(text) => match PolicyDocument::parse(&text) {
            Ok(doc) => engine::decide(&allowlist, &resource, Some(&doc), opts),
            Err(e) => Decision::error(Some(resource.clone()), e.to_string()),
        },
        Err(e) => Decision::error(Some(resource.clone()), format!("{e:#}")),
    };
    let decide_batch = |batch: &[String]| -> Result<Decided> {
        Ok(match a.format {
            Format::Text => Decided::Decisions(batch.iter().map(decide_file).collect()),
            Format::Json => {
                // Room for the batch's lines at once (about 1 KiB each for small policies):
                // grown by doubling, the buffer was copied seven times per batch.
                let mut r = Rendered {
                    json: Vec::with_capacity(batch.len() * LINE_ROOM),
                    ..Rendered::default()
                };
                for p in batch {
                    r.push(p, &decide_file(p))?;
                }
                Decided::Json(r)
            }
        })
    };
    let mut emit = Emit::new(a.format);
    let mut print = |first: usize, decided: Result<Decided>| -> Result<()> {
        match decided? {
            Decided::Decisions(decisions) => {
                for (p, d) in a.policies[first..].iter().zip(decisions) {
                    emit.push(p, d)?;
                }
            }
            Decided::Json(r) => emit.push_rendered(&r)?,
        }
        Ok(())
    };
    let batches = a.policies.chunks(CHECK_BATCH);
    let workers = jobs(a.jobs).min(batches.len());
    if workers <= 1 {
        for (i, batch) in batches.enumerate() {
            print(i * CHECK_BATCH, decide_batch(batch))?;
        }
        return emit.finish();
    }
    // Batches decided on every core, printed in the order given. A worker takes the next
    // batch when it is done with one; the printer holds the few that finish early.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let batches: Vec<&[String]> = batches.collect();
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Result<Decided>)>(workers * 2);
        for _ in 0..workers {
            let (tx, next, batches, decide_batch) = (tx.clone(), &next, &batches, &decide_batch);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(batch) = batches.get(i) else { break };
                // The printer stopped (stdout closed): stop too.
                if tx.send((i, decide_batch(batch))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut early = std::collections::BTreeMap::new();
        let mut want = 0;
        for (i, decided) in rx {
            early.insert(i, decided);
            while let Some(decided) = early.remove(&want) {
                print(want * CHECK_BATCH, decided)?;
                want += 1;
            }
        }
        Ok(())
    })?;
    emit.finish()
}

/// Policy files a `check` worker decides at a time.
const CHECK_BATCH: usize = 64;

/// Room made per file in a batch's JSON lines before the first is written.
const LINE_ROOM: usize = 1536;

/// `--jobs`, or one worker per core.
fn jobs(flag: Option<u16>) -> usize {
    flag.map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(256)))
}

fn event(a: &EventArgs) -> Result<u8> {
    stdin_once(&a.events)?;
    let allowlist = load_allowlist(&a.common.allowlist)?;
    let opts = options(&a.common);
    let mut emit = Emit::new(a.format);
    for name in &a.events {
        let text = match read_input(name, MAX_READ) {
            Ok(text) => text,
            Err(e) => {
                emit.push(name, Decision::error(None, format!("{e:#}")))?;
                continue;
            }
        };
        // A log file is read a record at a time: memory is its text and one record,
        // however many records it holds.
        if let Some(records) = log_records(&text) {
            for (i, raw) in records.iter().enumerate() {
                let parsed = match engine::json::from_str(raw.get()) {
                    Ok(c) => engine::event::parse_checked_record(
                        &c.value,
                        engine::event::record_duplicate(&c, &format!("Records[{i}]")).as_ref(),
                    ),
                    // Refused by the full parser: this record could not be checked; the
                    // others stand (as replay decides it).
                    Err(e) => engine::ParsedEvent::Invalid {
                        summary: Default::default(),
                        reason: format!(
                            "could not be checked: Records[{i}] is not valid JSON: {e}"
                        ),
                    },
                };
                emit.push(name, engine::decide_parsed(&allowlist, parsed, opts))?;
            }
            continue;
        }
        // Read exactly: a duplicate key is an error decision, as in the Lambda.
        let parsed = engine::json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", input::excerpt(name)));
        drop(text);
        let input = match parsed {
            Ok(input) => input,
            Err(e) => {
                emit.push(name, Decision::error(None, format!("{e:#}")))?;
                continue;
            }
        };
        // As engine::decide_event, a record at a time: each decision is printed and
        // dropped before the next is made.
        match engine::event::records_checked(&input) {
            Ok(records) => {
                for r in records {
                    let parsed = engine::parse_checked_input(r);
                    emit.push(name, engine::decide_parsed(&allowlist, parsed, opts))?;
                }
            }
            Err(e) => emit.push(name, Decision::error(None, e.to_string()))?,
        }
    }
    emit.finish()
}

/// The records of a plain CloudTrail log file (`{"Records": […]}`), only delimited. Any
/// other input, or a log with a doubt outside its records (a key twice, a value the
/// full parser refuses), is `None`: read whole, exactly, as the Lambda reads it.
fn log_records(text: &str) -> Option<Vec<&serde_json::value::RawValue>> {
    use serde_json::value::RawValue;
    let entries: Vec<(String, &RawValue)> = serde_json::from_str::<Entries>(text).ok()?.0;
    let mut keys = std::collections::HashSet::new();
    let mut records = None;
    for (key, value) in entries {
        if !keys.insert(key.clone()) || key == "detail" {
            return None;
        }
        if key == "Records" {
            records = Some(serde_json::from_str::<Vec<&RawValue>>(value.get()).ok()?);
        } else {
            let c = engine::json::from_str(value.get()).ok()?;
            if !c.duplicates.is_empty() || c.overflow {
                return None;
            }
        }
    }
    records
}

/// A JSON object's entries in order, values only delimited, duplicates kept.
struct Entries<'a>(Vec<(String, &'a serde_json::value::RawValue)>);

impl<'de> serde::Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Entries<'de>, M::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn replay(a: ReplayArgs) -> Result<u8> {
    let allowlist = load_allowlist(&a.common.allowlist)?;
    let filters = replay::Filters {
        since: a.since,
        until: a.until,
        accounts: a.accounts,
    };
    // Every S3 address is checked before anything is listed or read.
    let mut s3 = false;
    for p in &a.paths {
        if let Some(at) = replay::s3::Location::parse(p) {
            at.map_err(anyhow::Error::msg)?;
            s3 = true;
        }
    }
    let runtime = if s3 {
        Some(
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?,
        )
    } else {
        None
    };
    let client = runtime
        .as_ref()
        .map(|rt| crossguard_guard::aws::s3_client(&rt.block_on(scan::sdk_config())));
    let mut ctx = replay::Context::new(allowlist, options(&a.common), filters);
    let mut inputs = Vec::new();
    let mut tally = output::Tally::default();
    for p in &a.paths {
        match (replay::s3::Location::parse(p), &runtime, &client) {
            (Some(Ok(at)), Some(rt), Some(client)) => {
                let lister = replay::s3::S3Lister {
                    client: client.clone(),
                    page_size: a.page_size,
                };
                let listed = rt.block_on(replay::s3::list(Arc::new(lister), &at, &ctx.filters));
                inputs.extend(listed.inputs);
                tally.skipped.extend(listed.skipped);
                tally.passed_over += listed.passed_over;
                tally.folders_passed_over += listed.folders_passed_over;
            }
            (Some(_), ..) => anyhow::bail!("{p}: no S3 client to list it with"),
            (None, ..) => {
                let (found, skipped, passed_over) =
                    replay::inputs(std::slice::from_ref(p), &ctx.filters);
                inputs.extend(found);
                tally.skipped.extend(skipped);
                tally.passed_over += passed_over;
            }
        }
    }
    if let (Some(rt), Some(client)) = (&runtime, client) {
        ctx.s3 = Some(replay::s3::Reader {
            runtime: rt.handle().clone(),
            client,
        });
    }
    // Reading S3 waits on the network more than on the cores.
    let jobs = match a.jobs {
        None if s3 => jobs(None).saturating_mul(4).clamp(8, 64),
        flag => jobs(flag),
    };
    let mut sink = Sink::new(a.format, &a.title, Box::new(std::io::stdout()))?.for_replay();
    sink.batch(output::Batch {
        items: Vec::new(),
        tally,
    })?;
    replay::run(&ctx, &inputs, jobs, &mut sink)?;
    finish(sink)
}

/// The report's exit status; an exit 2 says why in one line.
fn finish(sink: Sink) -> Result<u8> {
    let (code, why) = sink.finish()?;
    if let Some(why) = why {
        warn(&format!("crossguard: error: {why}"));
    }
    Ok(code)
}

fn scan(a: ScanArgs) -> Result<u8> {
    let allowlist = load_allowlist(&a.common.allowlist)?;
    // Each kind once, whatever was repeated: an account's listings are counted by kind.
    let kinds: Vec<engine::ResourceKind> = engine::ResourceKind::ALL
        .into_iter()
        .filter(|k| a.kinds.is_empty() || a.kinds.contains(k))
        .collect();
    if a.external_id
        .as_deref()
        .is_some_and(|id| id.trim().is_empty())
    {
        anyhow::bail!(
            "the ExternalId (--external-id or CROSSGUARD_EXTERNAL_ID) is empty: give the one the member role demands, or unset it"
        );
    }
    let scan = scan::Scan {
        allowlist,
        opts: options(&a.common),
        page_size: a.page_size,
        kinds,
        org: a.org.then(|| scan::Org {
            role: a.role,
            external_id: a.external_id,
            at_once: usize::from(a.accounts_at_once),
        }),
    };
    let batch = scan.run()?;
    let mut sink = Sink::new(a.format, &a.title, Box::new(std::io::stdout()))?;
    sink.batch(batch)?;
    finish(sink)
}

fn restore(a: RestoreArgs) -> Result<u8> {
    let allowlist = load_allowlist(&a.allowlist)?;
    let r = restore::Restore {
        source: a.evidence,
        allowlist,
        // As the guard judges: today, in the allowlist's mode.
        opts: Options {
            today: Date::today(),
            mode: None,
        },
        force: a.force,
        dry_run: a.dry_run,
        evidence_bucket: a.evidence_bucket,
    };
    let mut out = std::io::stdout().lock();
    r.run(&mut out)
}

/// Decisions read whole: an evidence record, an alert or JSON lines of decisions.
const DECISIONS_LIMIT: u64 = 64 << 20;

fn suggest(file: &str, as_of: Option<Date>) -> Result<u8> {
    let text = read_input(file, DECISIONS_LIMIT)?;
    let decisions = engine::suggest::decisions_in(&text).with_context(|| input::excerpt(file))?;
    let s = engine::suggest::suggest(&decisions, as_of.unwrap_or_else(Date::today))
        .with_context(|| input::excerpt(file))?;
    std::io::stdout().lock().write_all(s.to_toml().as_bytes())?;
    // Something no entry can approve: the policy itself must change.
    Ok(if s.unapprovable.is_empty() { 0 } else { 1 })
}

fn validate(file: &str) -> Result<u8> {
    let text = read_input(file, ALLOWLIST_LIMIT)?;
    match Allowlist::from_toml(&text, file) {
        Ok(a) => {
            writeln!(
                std::io::stdout().lock(),
                "{}: ok: {} pairing(s), {} org entr(ies), {} public entr(ies), {} mode override(s), {} ignored actor pattern(s); default mode {}",
                file,
                a.pairings.len(),
                a.orgs.len(),
                a.public.len(),
                a.mode_overrides.len(),
                a.ignore_actors.len(),
                a.mode
            )?;
            Ok(0)
        }
        Err(e) => {
            for f in &e.faults {
                warn(&f.to_string());
            }
            Ok(2)
        }
    }
}
