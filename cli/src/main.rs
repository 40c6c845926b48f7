//! `crossguard`: check policies and CloudTrail events against an allowlist of approved
//! cross-account pairings, offline. Exit status: 0 compliant or ignored, 1 violation,
//! 2 bad input or error (with a one-line reason on stderr).

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use crossguard_engine::{
    self as engine, Allowlist, Date, Decision, Mode, Options, PolicyDocument, Resource, Verdict,
};
use std::io::{Read, Write};
use std::process::ExitCode;

mod output;
mod replay;
mod scan;

use output::{ReportFormat, Sink};

/// Largest input read: CloudTrail log files run to tens of megabytes; nothing crossguard
/// reads legitimately comes near this.
const MAX_READ: u64 = 512 << 20;

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
    /// Work with allowlist files.
    #[command(subcommand)]
    Allowlist(AllowlistCommand),
}

#[derive(Subcommand)]
enum AllowlistCommand {
    /// Check an allowlist file; every fault is reported as FILE:LINE: reason.
    Validate {
        /// The allowlist (TOML).
        file: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Alert,
    Remediate,
    DryRun,
}

#[derive(Args)]
struct Common {
    /// The allowlist of approved pairings (TOML).
    #[arg(long, value_name = "FILE")]
    allowlist: String,
    /// Override the allowlist's mode (what a violation gets).
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
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
    /// Files read at once (default: one per core).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// The HTML report's title.
    #[arg(long, default_value = "crossguard: cross-account grant changes")]
    title: String,
    /// Log files, directories or evidence records; - for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KindArg {
    Bucket,
    Role,
    Key,
}

#[derive(Args)]
struct ScanArgs {
    #[command(flatten)]
    common: Common,
    /// Output: a text summary, JSON lines, CSV, or one self-contained HTML report.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// Only these kinds (repeatable; default all three). Keys are read in the
    /// configured region only.
    #[arg(long = "kind", value_enum)]
    kinds: Vec<KindArg>,
    /// Items per page of ListRoles and ListKeys (the services' defaults when unset).
    #[arg(long, value_name = "N", hide = true)]
    page_size: Option<i32>,
    /// The HTML report's title.
    #[arg(long, default_value = "crossguard: what is shared now")]
    title: String,
}

fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a 12-digit account id"))
    }
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s)
        .filter(|_| s.len() == 10)
        .ok_or_else(|| format!("{s:?} is not a date such as 2027-06-30"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(a) => check(a),
        Command::Event(a) => event(a),
        Command::Replay(a) => replay(a),
        Command::Scan(a) => scan(a),
        Command::Allowlist(AllowlistCommand::Validate { file }) => validate(&file),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // One line: the chain of causes, outermost first.
            let msg = e
                .chain()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            eprintln!("crossguard: error: {}", msg.replace('\n', " "));
            ExitCode::from(2)
        }
    }
}

/// Read a file or stdin, gunzipping when it is gzip.
fn read_input(name: &str) -> Result<String> {
    let mut raw = Vec::new();
    if name == "-" {
        std::io::stdin()
            .take(MAX_READ)
            .read_to_end(&mut raw)
            .context("reading stdin")?;
    } else {
        std::fs::File::open(name)
            .with_context(|| format!("cannot open {name}"))?
            .take(MAX_READ)
            .read_to_end(&mut raw)
            .with_context(|| format!("cannot read {name}"))?;
    }
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .take(MAX_READ)
            .read_to_end(&mut out)
            .with_context(|| format!("{name} is not valid gzip"))?;
        raw = out;
    }
    String::from_utf8(raw).with_context(|| format!("{name} is not UTF-8 text"))
}

fn load_allowlist(path: &str) -> Result<Allowlist> {
    let text = read_input(path)?;
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
        mode: c.mode.map(|m| match m {
            ModeArg::Alert => Mode::Alert,
            ModeArg::Remediate => Mode::Remediate,
            ModeArg::DryRun => Mode::DryRun,
        }),
    }
}

/// Print decisions; return the exit status (the worst verdict wins: error > violation).
fn emit(format: Format, decisions: &[(String, Decision)]) -> Result<u8> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut code = 0;
    for (source, d) in decisions {
        match format {
            Format::Json => {
                let mut v = serde_json::to_value(d)?;
                if let Some(o) = v.as_object_mut() {
                    o.insert("source".into(), source.clone().into());
                }
                writeln!(out, "{}", serde_json::to_string(&v)?)?;
            }
            Format::Text => {
                if decisions.len() > 1 {
                    writeln!(out, "== {source}")?;
                }
                write!(out, "{}", engine::render::text(d))?;
            }
        }
        if d.verdict == Verdict::Error {
            eprintln!("crossguard: error: {source}: {}", d.reason);
        }
        code = code.max(d.verdict.exit_code());
    }
    Ok(code as u8)
}

fn check(a: CheckArgs) -> Result<u8> {
    let allowlist = load_allowlist(&a.common.allowlist)?;
    let resource = Resource::from_spec(&a.resource, &a.owner, a.region.as_deref())
        .context("--resource/--owner")?;
    let opts = options(&a.common);
    let mut decisions = Vec::new();
    for p in &a.policies {
        let d = match read_input(p) {
            Ok(text) => match PolicyDocument::parse(&text) {
                Ok(doc) => engine::decide(&allowlist, &resource, Some(&doc), opts),
                Err(e) => Decision::error(Some(resource.clone()), e.to_string()),
            },
            Err(e) => Decision::error(Some(resource.clone()), format!("{e:#}")),
        };
        decisions.push((p.clone(), d));
    }
    emit(a.format, &decisions)
}

fn event(a: EventArgs) -> Result<u8> {
    let allowlist = load_allowlist(&a.common.allowlist)?;
    let opts = options(&a.common);
    let mut decisions = Vec::new();
    for name in &a.events {
        let parsed = read_input(name).and_then(|t| {
            serde_json::from_str::<serde_json::Value>(&t)
                .with_context(|| format!("{name} is not valid JSON"))
        });
        match parsed
            .map_err(|e| format!("{e:#}"))
            .and_then(|v| engine::decide_event(&allowlist, &v, opts).map_err(|e| e.to_string()))
        {
            Ok(ds) => decisions.extend(ds.into_iter().map(|d| (name.clone(), d))),
            Err(e) => decisions.push((name.clone(), Decision::error(None, e))),
        }
    }
    emit(a.format, &decisions)
}

fn replay(a: ReplayArgs) -> Result<u8> {
    let allowlist = load_allowlist(&a.common.allowlist)?;
    let filters = replay::Filters {
        since: a.since,
        until: a.until,
        accounts: a.accounts,
    };
    let (inputs, skipped, passed_over) = replay::inputs(&a.paths, &filters);
    let ctx = replay::Context::new(allowlist, options(&a.common), filters);
    let jobs = a.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut sink = Sink::new(a.format, &a.title, Box::new(std::io::stdout()))?;
    sink.batch(replay::Batch {
        items: Vec::new(),
        tally: output::Tally {
            skipped,
            passed_over,
            ..Default::default()
        },
    })?;
    replay::run(&ctx, &inputs, jobs, &mut sink)?;
    Ok(sink.finish()?)
}

fn scan(a: ScanArgs) -> Result<u8> {
    let allowlist = load_allowlist(&a.common.allowlist)?;
    let kinds = if a.kinds.is_empty() {
        vec![KindArg::Bucket, KindArg::Role, KindArg::Key]
    } else {
        a.kinds
    };
    let scan = scan::Scan {
        allowlist,
        opts: options(&a.common),
        page_size: a.page_size,
        kinds: kinds
            .into_iter()
            .map(|k| match k {
                KindArg::Bucket => engine::ResourceKind::Bucket,
                KindArg::Role => engine::ResourceKind::Role,
                KindArg::Key => engine::ResourceKind::Key,
            })
            .collect(),
    };
    let mut sink = Sink::new(a.format, &a.title, Box::new(std::io::stdout()))?;
    scan.run(&mut sink)?;
    Ok(sink.finish()?)
}

fn validate(file: &str) -> Result<u8> {
    let text = read_input(file)?;
    match Allowlist::from_toml(&text, file) {
        Ok(a) => {
            println!(
                "{}: ok: {} pairing(s), {} org entr(ies), {} public entr(ies), {} mode override(s), {} ignored actor pattern(s); default mode {}",
                file,
                a.pairings.len(),
                a.orgs.len(),
                a.public.len(),
                a.mode_overrides.len(),
                a.ignore_actors.len(),
                a.mode
            );
            Ok(0)
        }
        Err(e) => {
            for f in &e.faults {
                eprintln!("{f}");
            }
            Ok(2)
        }
    }
}
