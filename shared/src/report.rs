//! Reports for auditors: every grant change — replayed from CloudTrail, recorded by the
//! guard Lambdas as evidence, or found by a scan of the live estate — as one compact row,
//! aggregated (verdicts, who trusts whom, actors, period) and rendered as a text summary,
//! CSV, or one self-contained HTML page. Rows are built from the decision's JSON form, so
//! a decision made now and one read back from an evidence record take the same path.

use crate::decision::Verdict;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Where a row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// An event in a CloudTrail log file, decided now on the policy it carries.
    CloudTrail,
    /// An evidence record a guard Lambda wrote: its decision on the live policy and what
    /// it did.
    Evidence,
    /// A resource's current policy, read by `crossguard scan`.
    Scan,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::CloudTrail => "cloudtrail",
            Origin::Evidence => "evidence",
            Origin::Scan => "scan",
        }
    }
}

/// How a grant to an outside party was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Standing {
    Unapproved,
    Approved,
    /// Reported, not a violation (e.g. a grant the allowlist cannot judge).
    Warning,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Unapproved => "unapproved",
            Standing::Approved => "approved",
            Standing::Warning => "warning",
        }
    }
}

/// One outside party a policy lets in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grantee {
    /// 12 digits, `*` for everyone, an organization id, or `unresolvable`.
    pub party: String,
    pub principal: String,
    pub standing: Standing,
    /// The allowlist entry that approved it.
    pub approved_by: Option<String>,
    pub ticket: Option<String>,
}

/// One grant change (or, for a scan, one resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub origin: Origin,
    /// The file (or `scan`) it was read from; several when the same event was found in
    /// more than one place.
    pub sources: Vec<String>,
    pub event_id: Option<String>,
    pub time: Option<String>,
    pub event_name: Option<String>,
    pub actor: Option<String>,
    /// The account that owns the resource.
    pub account: Option<String>,
    pub region: Option<String>,
    pub kind: Option<String>,
    pub resource: Option<String>,
    pub verdict: Verdict,
    /// `none`, `alert` or `remediate`: what the decision calls for.
    pub action: String,
    /// What the guard did (evidence records only): `alerted`, `remediated`, …
    pub outcome: Option<String>,
    pub reason: String,
    /// Outside parties only: grants within the owner's account are not listed.
    pub grantees: Vec<Grantee>,
    /// A digest of the decision (its JSON without where it was read): two copies of one
    /// delivery agree, two records that only share an event id do not.
    pub fingerprint: u64,
    /// Joined with the same event from the other origin.
    pub merged: bool,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn verdict_of(s: &str) -> Verdict {
    match s {
        "compliant" => Verdict::Compliant,
        "violation" => Verdict::Violation,
        "ignored" => Verdict::Ignored,
        _ => Verdict::Error,
    }
}

pub fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Compliant => "compliant",
        Verdict::Violation => "violation",
        Verdict::Ignored => "ignored",
        Verdict::Error => "error",
    }
}

impl Change {
    /// A row from a decision's JSON form (`serde_json::to_value(&decision)`, or the
    /// `decision` of an evidence record).
    pub fn from_decision(
        decision: &Value,
        origin: Origin,
        source: &str,
        outcome: Option<String>,
    ) -> Change {
        let event = decision.get("event").unwrap_or(&Value::Null);
        let resource = decision.get("resource").unwrap_or(&Value::Null);
        let grantees = decision
            .get("findings")
            .and_then(Value::as_array)
            .map(|fs| fs.iter().filter_map(grantee).collect())
            .unwrap_or_default();
        Change {
            origin,
            sources: vec![source.to_string()],
            event_id: text(event, "id"),
            time: text(event, "time"),
            event_name: text(event, "name"),
            actor: text(event, "actor"),
            account: text(resource, "account").or_else(|| text(event, "account")),
            region: text(resource, "region").or_else(|| text(event, "region")),
            kind: text(resource, "kind"),
            resource: text(resource, "name"),
            verdict: verdict_of(
                decision
                    .get("verdict")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            ),
            action: text(decision, "action").unwrap_or_else(|| "none".into()),
            outcome,
            reason: text(decision, "reason").unwrap_or_default(),
            grantees,
            fingerprint: fingerprint(decision),
            merged: false,
        }
    }

    /// What identifies one event across origins: its id, name and time.
    pub fn event_key(&self) -> Option<(String, String, String)> {
        Some((
            self.event_id.clone()?,
            self.event_name.clone().unwrap_or_default(),
            self.time.clone().unwrap_or_default(),
        ))
    }

    pub fn unapproved(&self) -> impl Iterator<Item = &Grantee> {
        self.grantees
            .iter()
            .filter(|g| g.standing == Standing::Unapproved)
    }
}

/// The decision's JSON, without the keys that say where it was read, hashed.
fn fingerprint(decision: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match decision.as_object() {
        Some(o) => {
            for (k, v) in o {
                if !matches!(k.as_str(), "source" | "origin" | "outcome") {
                    k.hash(&mut h);
                    v.to_string().hash(&mut h);
                }
            }
        }
        None => decision.to_string().hash(&mut h),
    }
    h.finish()
}

/// A finding that reaches outside the owner's account, as a grantee.
fn grantee(f: &Value) -> Option<Grantee> {
    let scope = f.get("scope").and_then(Value::as_str)?;
    if !matches!(scope, "account" | "org" | "public" | "unresolvable") {
        return None;
    }
    let party = text(f, "account")
        .or_else(|| text(f, "org"))
        .unwrap_or_else(|| "unresolvable".into());
    let flag = |k: &str| f.get(k).and_then(Value::as_bool).unwrap_or(false);
    let standing = if flag("approved") {
        Standing::Approved
    } else if flag("warning") {
        Standing::Warning
    } else {
        Standing::Unapproved
    };
    Some(Grantee {
        party,
        principal: text(f, "principal").unwrap_or_default(),
        standing,
        approved_by: text(f, "approved_by"),
        ticket: text(f, "ticket"),
    })
}

/// A file or document that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub source: String,
    pub reason: String,
}

/// What was read, besides the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Resources read by a scan.
    pub scanned: u64,
    pub files_read: u64,
    /// Files left unread: their archive path (`AWSLogs/ACCT/CloudTrail/REGION/Y/M/D/`)
    /// is outside the account or time filters.
    pub passed_over: u64,
    /// Corrupt, truncated or unreadable inputs: reported, never silently dropped.
    pub skipped: Vec<Skipped>,
    /// CloudTrail records read (all of them, relevant or not).
    pub records: u64,
    /// Records of calls no guard handles.
    pub irrelevant: u64,
    /// Relevant records outside the time or account filters.
    pub filtered: u64,
    /// The same event from the same origin seen again (CloudTrail may deliver twice).
    pub duplicates: u64,
    /// Guard claim records for events whose handling never finished.
    pub unfinished_claims: u64,
}

/// Every change, merged by event id, with what was read.
#[derive(Debug, Default)]
pub struct Report {
    pub changes: Vec<Change>,
    pub inputs: Inputs,
    by_event: HashMap<(String, String, String), Vec<usize>>,
}

/// What [`Report::add`] did with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    New,
    /// The same event from another origin: the guard's evidence replaces the replayed
    /// decision (it was made on the live policy and says what was done).
    Merged,
    Duplicate,
}

/// Counts per owner → outside party.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edge {
    pub approved: u64,
    pub unapproved: u64,
    pub warning: u64,
}

impl Report {
    pub fn add(&mut self, change: Change) -> Added {
        let Some(key) = change.event_key() else {
            self.changes.push(change);
            return Added::New;
        };
        let rows = self.by_event.entry(key).or_default();
        if rows.iter().any(|&i| {
            let c = &self.changes[i];
            c.origin == change.origin && c.fingerprint == change.fingerprint
        }) {
            self.inputs.duplicates += 1;
            return Added::Duplicate;
        }
        // The same event from the other origin, not yet joined: one row, the guard's.
        let partner = rows.iter().copied().find(|&i| {
            let c = &self.changes[i];
            c.origin != change.origin && !c.merged
        });
        let Some(at) = partner else {
            rows.push(self.changes.len());
            self.changes.push(change);
            return Added::New;
        };
        let old = &mut self.changes[at];
        let mut sources = std::mem::take(&mut old.sources);
        sources.extend(change.sources.iter().cloned());
        if change.origin == Origin::Evidence {
            *old = change;
        }
        old.sources = sources;
        old.merged = true;
        Added::Merged
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.changes.iter().filter(|c| c.verdict == verdict).count()
    }

    /// Owner account → outside party, with counts of grants by standing; a change that
    /// names the same party twice counts once.
    pub fn edges(&self) -> BTreeMap<(String, String), Edge> {
        let mut edges: BTreeMap<(String, String), Edge> = BTreeMap::new();
        for c in &self.changes {
            let owner = c.account.clone().unwrap_or_else(|| "unknown".into());
            let seen: BTreeSet<(&str, Standing)> = c
                .grantees
                .iter()
                .map(|g| (g.party.as_str(), g.standing))
                .collect();
            for (party, standing) in seen {
                let e = edges.entry((owner.clone(), party.to_string())).or_default();
                match standing {
                    Standing::Approved => e.approved += 1,
                    Standing::Unapproved => e.unapproved += 1,
                    Standing::Warning => e.warning += 1,
                }
            }
        }
        edges
    }

    /// Actor → (changes, violations), most active first; none for rows without actors
    /// (a scan's).
    pub fn actors(&self) -> Vec<(String, u64, u64)> {
        if self.changes.iter().all(|c| c.actor.is_none()) {
            return Vec::new();
        }
        let mut by: HashMap<&str, (u64, u64)> = HashMap::new();
        for c in &self.changes {
            let e = by
                .entry(c.actor.as_deref().unwrap_or("(unknown)"))
                .or_default();
            e.0 += 1;
            e.1 += u64::from(c.verdict == Verdict::Violation);
        }
        let mut v: Vec<_> = by
            .into_iter()
            .map(|(a, (n, x))| (a.to_string(), n, x))
            .collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
        v
    }

    /// The first and last event time (CloudTrail's ISO 8601 UTC sorts as text).
    pub fn period(&self) -> Option<(&str, &str)> {
        let mut times = self.changes.iter().filter_map(|c| c.time.as_deref());
        let first = times.next()?;
        Some(times.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t))))
    }

    /// Every account involved: owners and outside accounts.
    pub fn accounts(&self) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        for c in &self.changes {
            set.extend(c.account.clone());
            set.extend(
                c.grantees
                    .iter()
                    .filter(|g| is_account(&g.party))
                    .map(|g| g.party.clone()),
            );
        }
        set
    }

    /// The rows in audit order: violations first, then errors, then the rest; by time.
    pub fn ordered(&self) -> Vec<&Change> {
        let rank = |v: Verdict| match v {
            Verdict::Violation => 0,
            Verdict::Error => 1,
            Verdict::Compliant => 2,
            Verdict::Ignored => 3,
        };
        let mut rows: Vec<&Change> = self.changes.iter().collect();
        rows.sort_by(|a, b| {
            rank(a.verdict)
                .cmp(&rank(b.verdict))
                .then_with(|| a.time.cmp(&b.time))
                .then_with(|| a.event_id.cmp(&b.event_id))
        });
        rows
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

const VERDICTS: [Verdict; 4] = [
    Verdict::Violation,
    Verdict::Error,
    Verdict::Compliant,
    Verdict::Ignored,
];

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut seen = BTreeSet::new();
    let mut out = String::new();
    for i in items {
        if seen.insert(i) {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(i);
        }
    }
    out
}

fn parties(c: &Change, standing: Standing) -> String {
    join(
        c.grantees
            .iter()
            .filter(|g| g.standing == standing)
            .map(|g| g.party.as_str()),
    )
}

fn pairings(c: &Change) -> String {
    join(c.grantees.iter().filter_map(|g| g.approved_by.as_deref()))
}

fn tickets(c: &Change) -> String {
    join(c.grantees.iter().filter_map(|g| g.ticket.as_deref()))
}

fn or_dash(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// The text summary: what was read, verdict counts, who trusts whom, actors, and every
/// violation and error.
/// One line of the text report, with every control character escaped: a value (an
/// actor, a bucket name, a reason quoting the policy) that holds a newline or an escape
/// sequence is shown, and can neither forge a line nor drive the terminal.
macro_rules! line {
    ($w:expr, $($arg:tt)*) => {
        writeln!($w, "{}", crate::render::escape_controls(&format!($($arg)*)))
    };
}

pub fn write_text(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let i = &r.inputs;
    if i.scanned > 0 && i.files_read == 0 {
        line!(w, "scanned {} resource(s)", i.scanned)?;
    } else {
        line!(
            w,
            "read {} file(s) ({} passed over by path), {} CloudTrail record(s): {} grant change(s), {} irrelevant, {} outside the filters, {} duplicate(s)",
            i.files_read,
            i.passed_over,
            i.records,
            r.changes.len(),
            i.irrelevant,
            i.filtered,
            i.duplicates
        )?;
    }
    if let Some((lo, hi)) = r.period() {
        line!(w, "period: {lo} .. {hi}")?;
    }
    let counts: Vec<String> = VERDICTS
        .iter()
        .map(|&v| format!("{} {}", verdict_str(v), r.count(v)))
        .collect();
    line!(w, "verdicts: {}", counts.join(", "))?;
    let edges = r.edges();
    if !edges.is_empty() {
        writeln!(w)?;
        line!(
            w,
            "who trusts whom (owner -> outside party: approved / unapproved / warning):"
        )?;
        for ((owner, party), e) in &edges {
            line!(
                w,
                "  {owner} -> {party}: {} / {} / {}",
                e.approved,
                e.unapproved,
                e.warning
            )?;
        }
    }
    let actors = r.actors();
    if !actors.is_empty() {
        writeln!(w)?;
        line!(w, "actors (changes, violations):")?;
        for (a, n, x) in &actors {
            line!(w, "  {a}: {n}, {x}")?;
        }
    }
    let bad: Vec<&Change> = r
        .ordered()
        .into_iter()
        .filter(|c| matches!(c.verdict, Verdict::Violation | Verdict::Error))
        .collect();
    if !bad.is_empty() {
        writeln!(w)?;
        line!(w, "violations and errors:")?;
        for c in bad {
            line!(
                w,
                "  {} {} {} {}/{} by {}: {}{}",
                or_dash(&c.time),
                verdict_str(c.verdict),
                or_dash(&c.account),
                or_dash(&c.kind),
                or_dash(&c.resource),
                or_dash(&c.actor),
                match parties(c, Standing::Unapproved) {
                    p if p.is_empty() => c.reason.clone(),
                    p => format!("lets in {p}"),
                },
                c.outcome
                    .as_deref()
                    .map(|o| format!(" [{o}]"))
                    .unwrap_or_default()
            )?;
        }
    }
    if i.unfinished_claims > 0 {
        writeln!(w)?;
        line!(
            w,
            "{} guard claim record(s) without a finished decision (handler still running or died)",
            i.unfinished_claims
        )?;
    }
    if !i.skipped.is_empty() {
        writeln!(w)?;
        line!(w, "skipped ({}):", i.skipped.len())?;
        for s in &i.skipped {
            line!(w, "  {}: {}", s.source, s.reason)?;
        }
    }
    Ok(())
}

pub const CSV_HEADER: &str = "origin,source,event_id,time,event_name,account,region,resource_kind,resource,actor,verdict,action,outcome,unapproved,approved,approved_by,tickets,reason";

/// One CSV field, quoted when needed (RFC 4180). A cell a spreadsheet would run as a
/// formula gets a leading `'` (names and reasons can come from an attacker).
fn csv_field(out: &mut String, s: &str) {
    // A newline is a cell's own (quoted below); any other control character is escaped,
    // as in the text report.
    let cleaned = crate::render::escape_controls_but_newlines(s);
    let s = &*cleaned;
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula || s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        if formula {
            out.push('\'');
        }
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// One CSV line (with its newline) for a row.
pub fn csv_line(c: &Change) -> String {
    let fields = [
        c.origin.as_str().to_string(),
        c.sources.join("; "),
        c.event_id.clone().unwrap_or_default(),
        c.time.clone().unwrap_or_default(),
        c.event_name.clone().unwrap_or_default(),
        c.account.clone().unwrap_or_default(),
        c.region.clone().unwrap_or_default(),
        c.kind.clone().unwrap_or_default(),
        c.resource.clone().unwrap_or_default(),
        c.actor.clone().unwrap_or_default(),
        verdict_str(c.verdict).to_string(),
        c.action.clone(),
        c.outcome.clone().unwrap_or_default(),
        parties(c, Standing::Unapproved),
        parties(c, Standing::Approved),
        pairings(c),
        tickets(c),
        c.reason.clone(),
    ];
    let mut line = String::new();
    for (n, f) in fields.iter().enumerate() {
        if n > 0 {
            line.push(',');
        }
        csv_field(&mut line, f);
    }
    line.push('\n');
    line
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1d1d1f}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0;width:100%}\
th,td{border:1px solid #d0d0d7;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f2f2f5}td.n{text-align:right}\
tr.violation td{background:#fdecea}tr.error td{background:#fff4e5}\
.badge{font-weight:600}.violation .badge{color:#b3261e}.error .badge{color:#9a5b00}\
.compliant .badge{color:#1b6e2d}.ignored .badge{color:#666}\
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #d0d0d7;border-radius:6px;padding:.6em 1em;min-width:8em}\
.card b{display:block;font-size:1.6em}small{color:#666}code{font-size:.92em}";

/// Node limit for the who-trusts-whom picture: past it the picture would be unreadable;
/// the table beside it always lists every pair.
const MAX_NODES: usize = 40;

/// The who-trusts-whom picture: accounts on a circle, an arrow from each owner to each
/// outside party it lets in; red unapproved, green approved, grey warning only.
fn svg(edges: &BTreeMap<(String, String), Edge>) -> String {
    let mut weight: BTreeMap<&str, u64> = BTreeMap::new();
    for ((o, p), e) in edges {
        let n = e.approved + e.unapproved + e.warning;
        *weight.entry(o).or_default() += n;
        *weight.entry(p).or_default() += n;
    }
    let mut nodes: Vec<(&str, u64)> = weight.into_iter().collect();
    nodes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    nodes.truncate(MAX_NODES);
    nodes.sort();
    let (w, h) = (900.0_f64, 620.0_f64);
    let (cx, cy, rad) = (w / 2.0, h / 2.0, 240.0);
    let pos: HashMap<&str, (f64, f64)> = nodes
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let a = std::f64::consts::TAU * i as f64 / nodes.len().max(1) as f64
                - std::f64::consts::FRAC_PI_2;
            (*name, (cx + rad * a.cos(), cy + rad * a.sin()))
        })
        .collect();
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg id=\"trust-graph\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"who trusts whom\">\
<defs>{}</defs>",
        ["unapproved:#b3261e", "approved:#1b6e2d", "warning:#888"]
            .iter()
            .map(|m| {
                let (id, color) = m.split_once(':').unwrap_or((m, "#000"));
                format!("<marker id=\"arrow-{id}\" viewBox=\"0 0 10 10\" refX=\"22\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"{color}\"/></marker>")
            })
            .collect::<String>()
    );
    for ((o, p), e) in edges {
        let (Some(a), Some(b)) = (pos.get(o.as_str()), pos.get(p.as_str())) else {
            continue;
        };
        let (class, color) = if e.unapproved > 0 {
            ("unapproved", "#b3261e")
        } else if e.approved > 0 {
            ("approved", "#1b6e2d")
        } else {
            ("warning", "#888")
        };
        let dash = if class == "warning" {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        let _ = write!(
            s,
            "<line class=\"edge {class}\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"2\"{dash} marker-end=\"url(#arrow-{class})\"><title>{} trusts {}: {} approved, {} unapproved, {} warning</title></line>",
            a.0, a.1, b.0, b.1, esc(o), esc(p), e.approved, e.unapproved, e.warning
        );
    }
    for (name, _) in &nodes {
        let (x, y) = pos[name];
        let fill = if *name == "*" { "#fdecea" } else { "#eef3fb" };
        let label = if *name == "*" { "* (anyone)" } else { name };
        let _ = write!(
            s,
            "<g class=\"node\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"14\" fill=\"{fill}\" stroke=\"#4a5a78\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"12\">{}</text></g>",
            y + if y < cy { -20.0 } else { 30.0 },
            esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// The whole report as one HTML page: no scripts, no external resources (its content
/// security policy allows none), every value escaped.
pub fn write_html(r: &Report, title: &str, w: &mut dyn Write) -> io::Result<()> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = esc(title)
    );
    let period = r
        .period()
        .map(|(lo, hi)| format!("{} to {}", esc(lo), esc(hi)))
        .unwrap_or_else(|| "no events".into());
    let accounts = r.accounts();
    let _ = write!(
        h,
        "<p id=\"period\">Period: <b>{period}</b>. Accounts: <b>{}</b>. Read {} file(s), {} CloudTrail record(s).</p><div class=\"cards\" id=\"counts\">",
        accounts.len(),
        r.inputs.files_read,
        r.inputs.records
    );
    let _ = write!(
        h,
        "<div class=\"card\" data-count=\"changes\"><b>{}</b>grant changes</div>",
        r.changes.len()
    );
    for v in VERDICTS {
        let _ = write!(
            h,
            "<div class=\"card {0}\" data-count=\"{0}\"><b>{1}</b>{0}</div>",
            verdict_str(v),
            r.count(v)
        );
    }
    h.push_str("</div>");

    let edges = r.edges();
    h.push_str("<h2>Who trusts whom</h2><p><small>An arrow runs from the account that owns a resource to the outside party its policy lets in: red where any grant is unapproved, green approved, grey dashed reported only.</small></p>");
    h.push_str(&svg(&edges));
    h.push_str("<table id=\"pairs\"><thead><tr><th>Owner</th><th>Outside party</th><th>Approved</th><th>Unapproved</th><th>Warning</th></tr></thead><tbody>");
    for ((o, p), e) in &edges {
        let class = if e.unapproved > 0 {
            "violation"
        } else {
            "compliant"
        };
        let _ = write!(
            h,
            "<tr class=\"{class}\"><td><code>{}</code></td><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(o), esc(p), e.approved, e.unapproved, e.warning
        );
    }
    h.push_str("</tbody></table>");
    w.write_all(h.as_bytes())?;

    w.write_all(b"<h2>Grant changes</h2><p><small>Unapproved first.</small></p><table id=\"changes\"><thead><tr><th>Verdict</th><th>Time</th><th>Account</th><th>Resource</th><th>Event</th><th>Actor</th><th>Outside parties</th><th>Approved by</th><th>Ticket</th><th>Action</th><th>Outcome</th><th>Source</th></tr></thead><tbody>")?;
    for c in r.ordered() {
        let mut row = String::new();
        let grants = c
            .grantees
            .iter()
            .map(|g| format!("<code>{}</code> {}", esc(&g.party), g.standing.as_str()))
            .collect::<Vec<_>>()
            .join("<br>");
        // Ignored and error rows say why in the parties' place.
        let grants = if grants.is_empty() {
            format!("<small>{}</small>", esc(&c.reason))
        } else {
            grants
        };
        let _ = write!(
            row,
            "<tr class=\"{v}\" data-event-id=\"{id}\"><td><span class=\"badge\">{v}</span></td><td>{}</td><td><code>{}</code></td><td>{}/{}</td><td>{}</td><td><code>{}</code></td><td>{grants}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><small>{}</small></td></tr>",
            esc(or_dash(&c.time)),
            esc(or_dash(&c.account)),
            esc(or_dash(&c.kind)),
            esc(or_dash(&c.resource)),
            esc(or_dash(&c.event_name)),
            esc(or_dash(&c.actor)),
            esc(&pairings(c)),
            esc(&tickets(c)),
            esc(&c.action),
            esc(or_dash(&c.outcome)),
            esc(&c.sources.join("; ")),
            v = verdict_str(c.verdict),
            id = esc(c.event_id.as_deref().unwrap_or("")),
        );
        w.write_all(row.as_bytes())?;
    }
    w.write_all(b"</tbody></table>")?;

    let mut t = String::from("<h2>Actors</h2><table id=\"actors\"><thead><tr><th>Actor</th><th>Changes</th><th>Violations</th></tr></thead><tbody>");
    for (a, n, x) in r.actors() {
        let _ = write!(
            t,
            "<tr><td><code>{}</code></td><td class=\"n\">{n}</td><td class=\"n\">{x}</td></tr>",
            esc(&a)
        );
    }
    t.push_str("</tbody></table>");
    let i = &r.inputs;
    let _ = write!(
        t,
        "<h2>Inputs</h2><p>{} file(s) read, {} passed over by path; {} record(s), {} irrelevant, {} outside the filters, {} duplicate(s); {} unfinished guard claim(s).</p><table id=\"skipped\"><thead><tr><th>Skipped input</th><th>Why</th></tr></thead><tbody>",
        i.files_read,
        i.passed_over,
        i.records,
        i.irrelevant,
        i.filtered,
        i.duplicates,
        i.unfinished_claims
    );
    for s in &i.skipped {
        let _ = write!(
            t,
            "<tr class=\"error\"><td><code>{}</code></td><td>{}</td></tr>",
            esc(&s.source),
            esc(&s.reason)
        );
    }
    t.push_str("</tbody></table></body></html>\n");
    w.write_all(t.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decision(id: &str, verdict: &str, findings: Value) -> Value {
        json!({
            "verdict": verdict, "action": "alert", "reason": "r",
            "resource": {"kind": "bucket", "name": "b", "account": "222222222222"},
            "findings": findings,
            "event": {"id": id, "time": "2026-01-02T03:04:05Z", "name": "PutBucketPolicy",
                      "actor": "arn:aws:iam::222222222222:user/<alice>"}
        })
    }

    fn finding(account: &str, approved: bool) -> Value {
        json!({"scope": if account == "*" {"public"} else {"account"}, "account": account,
               "principal": "p", "approved": approved, "warning": false,
               "approved_by": if approved {json!("pairing-1")} else {Value::Null},
               "ticket": if approved {json!("SEC-1")} else {Value::Null}})
    }

    #[test]
    fn rows_merge_by_event_and_evidence_wins() {
        let mut r = Report::default();
        let d = decision("e1", "violation", json!([finding("333333333333", false)]));
        let c = Change::from_decision(&d, Origin::CloudTrail, "a.json", None);
        assert_eq!(r.add(c.clone()), Added::New);
        assert_eq!(r.add(c), Added::Duplicate);
        let e = Change::from_decision(&d, Origin::Evidence, "ev.json", Some("remediated".into()));
        assert_eq!(r.add(e), Added::Merged);
        assert_eq!(r.changes.len(), 1);
        assert_eq!(r.changes[0].outcome.as_deref(), Some("remediated"));
        assert_eq!(r.changes[0].sources, ["a.json", "ev.json"]);
        assert_eq!(r.inputs.duplicates, 1);
    }

    #[test]
    fn records_that_only_share_an_event_id_are_both_kept() {
        // Sample records reuse placeholder ids: only a true copy is a duplicate.
        let mut r = Report::default();
        let a = decision("1111", "violation", json!([finding("333333333333", false)]));
        let b = decision("1111", "ignored", json!([]));
        assert_eq!(
            r.add(Change::from_decision(&a, Origin::CloudTrail, "x", None)),
            Added::New
        );
        assert_eq!(
            r.add(Change::from_decision(&b, Origin::CloudTrail, "y", None)),
            Added::New
        );
        assert_eq!(
            r.add(Change::from_decision(&a, Origin::CloudTrail, "z", None)),
            Added::Duplicate
        );
        // Evidence for the event joins one row only.
        let ev = Change::from_decision(&a, Origin::Evidence, "e", Some("alerted".into()));
        assert_eq!(r.add(ev), Added::Merged);
        assert_eq!(r.changes.len(), 2);
        let joined: Vec<_> = r.changes.iter().filter(|c| c.merged).collect();
        assert_eq!(joined.len(), 1);
        assert_eq!(joined[0].outcome.as_deref(), Some("alerted"));
        assert_eq!(joined[0].sources, ["x", "e"]);
    }

    #[test]
    fn edges_count_each_party_once_per_change() {
        let mut r = Report::default();
        let internal = json!({"scope": "internal", "account": "222222222222", "approved": true});
        r.add(Change::from_decision(
            &decision(
                "e1",
                "violation",
                json!([
                    finding("333333333333", false),
                    finding("333333333333", false),
                    finding("111111111111", true),
                    internal
                ]),
            ),
            Origin::CloudTrail,
            "a",
            None,
        ));
        r.add(Change::from_decision(
            &decision("e2", "compliant", json!([finding("111111111111", true)])),
            Origin::CloudTrail,
            "a",
            None,
        ));
        let edges = r.edges();
        assert_eq!(edges.len(), 2);
        let k = |p: &str| ("222222222222".to_string(), p.to_string());
        assert_eq!(edges[&k("333333333333")].unapproved, 1);
        assert_eq!(edges[&k("111111111111")].approved, 2);
        assert_eq!(r.accounts().len(), 3);
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut d = decision("e1", "violation", json!([finding("*", false)]));
        d["resource"]["name"] = json!("=cmd|x");
        d["reason"] = json!("a, \"b\"");
        let line = csv_line(&Change::from_decision(&d, Origin::CloudTrail, "f", None));
        assert!(line.contains(",\"'=cmd|x\","), "{line}");
        assert!(line.contains(",\"a, \"\"b\"\"\"\n"), "{line}");
        assert_eq!(
            line.matches(',').count() - 1,
            CSV_HEADER.matches(',').count()
        );
    }

    #[test]
    fn text_and_csv_show_control_characters_never_obey_them() {
        let mut d = decision("e1", "violation", json!([finding("*", false)]));
        d["resource"]["name"] = json!("b\n  2026-01-01 compliant forged line\u{1b}[2J");
        d["reason"] = json!("why\r\u{7}");
        let change = Change::from_decision(&d, Origin::CloudTrail, "f", None);
        let mut r = Report::default();
        r.add(change.clone());
        let mut out = Vec::new();
        write_text(&r, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("  2026-01-01 compliant")),
            "{text}"
        );
        assert!(
            text.contains("b\\u{a}  2026-01-01 compliant forged line\\u{1b}[2J"),
            "{text}"
        );
        let line = csv_line(&change);
        assert!(
            !line.contains('\u{1b}') && !line.contains('\r') && !line.contains('\u{7}'),
            "{line:?}"
        );
        assert!(
            line.contains("\\u{1b}[2J") && line.contains("why\\u{d}\\u{7}"),
            "{line}"
        );
    }

    #[test]
    fn html_escapes_and_orders_unapproved_first() {
        let mut r = Report::default();
        r.add(Change::from_decision(
            &decision("ok", "compliant", json!([finding("111111111111", true)])),
            Origin::CloudTrail,
            "f",
            None,
        ));
        let mut bad = decision("bad", "violation", json!([finding("*", false)]));
        bad["event"]["time"] = json!("2026-12-01T00:00:00Z");
        r.add(Change::from_decision(&bad, Origin::CloudTrail, "<f>", None));
        let mut out = Vec::new();
        write_html(&r, "t", &mut out).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(!html.contains("<alice>") && html.contains("&lt;alice&gt;"));
        assert!(!html.contains("<script"));
        let bad_at = html.find("data-event-id=\"bad\"").unwrap();
        let ok_at = html.find("data-event-id=\"ok\"").unwrap();
        assert!(bad_at < ok_at);
        assert!(html.contains("class=\"edge unapproved\""));
    }
}
