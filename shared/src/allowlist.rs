//! The allowlist of approved account pairings (SPEC §2), loaded strictly: a file with
//! any fault is refused whole, each fault reported as `FILE:LINE: reason`, so the guard
//! never runs on a half-read allowlist.

use crate::condition::is_org_id;
use crate::date::Date;
use crate::principal::is_account_id;
use crate::resource::{Resource, ResourceKind};
use crate::wildcard;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use toml::Spanned;

/// What a violation gets (SPEC §2): an alert, a surgical fix, or only a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Alert; nothing is changed.
    Alert,
    /// Remove the unapproved grants, then alert.
    Remediate,
    /// Decide and record only: no alert, no change.
    DryRun,
}

impl Mode {
    /// `alert`, `remediate` or `dry-run`, as the allowlist and `MODE` write it.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "alert" => Some(Mode::Alert),
            "remediate" => Some(Mode::Remediate),
            "dry-run" => Some(Mode::DryRun),
            _ => None,
        }
    }

    /// As the allowlist writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Alert => "alert",
            Mode::Remediate => "remediate",
            Mode::DryRun => "dry-run",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One fault in an allowlist file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The allowlist's file name (or S3 location).
    pub file: String,
    /// 1-based line of the entry or value at fault.
    pub line: usize,
    /// What is wrong, and what to write instead where that can be said.
    pub message: String,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Every fault found in an allowlist file; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AllowlistError {
    /// Every fault found, by line.
    pub faults: Vec<Fault>,
}

impl fmt::Display for AllowlistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for fault in &self.faults {
            if !first {
                writeln!(f)?;
            }
            first = false;
            write!(f, "{fault}")?;
        }
        Ok(())
    }
}

/// Which resources an entry covers: `None` = all of the owner's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Owner account, or `*` for any.
    pub owner: String,
    /// Resource globs (`bucket/prod-*`, `role/Deploy`); `None`: every resource of the owner.
    pub resources: Option<Vec<String>>,
}

impl Coverage {
    /// Does this cover the resource (its owner and one of the globs)?
    pub fn covers(&self, resource: &Resource) -> bool {
        (self.owner == "*" || self.owner == resource.account)
            && resources_cover(&self.resources, resource)
    }
}

/// Do these resource globs (`None`: every resource) cover the resource?
pub fn resources_cover(globs: &Option<Vec<String>>, resource: &Resource) -> bool {
    globs.as_ref().is_none_or(|globs| {
        let spec = resource.spec();
        globs.iter().any(|g| wildcard::matches(g, spec, false))
    })
}

/// A `[[pairing]]`: an outside account approved on an owner's resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pairing {
    /// 1-based position among the `[[pairing]]` entries, and the line it starts on.
    pub number: usize,
    /// Line the entry starts on.
    pub line: usize,
    /// The owner and resources it approves access to.
    #[serde(flatten)]
    pub scope: Coverage,
    /// The outside account let in (12 digits).
    pub trusted: String,
    /// The actions approved (IAM wildcards); `None`: any.
    pub actions: Option<Vec<String>>,
    /// A role trust must also require `sts:ExternalId`.
    pub require_external_id: bool,
    /// The day it stops approving (exclusive).
    pub expires: Option<Date>,
    /// The change ticket, shown with every approval it makes.
    pub ticket: Option<String>,
    /// The trusted account's S3 canonical user ids (64 hex digits): an ACL grant to one
    /// of them is a grant to `trusted`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub canonical_ids: Vec<String>,
    /// How findings name it (`pairing #N (TICKET)`) and its ticket, made once for
    /// every approval it gives.
    #[serde(skip)]
    pub(crate) naming: Naming,
}

/// An entry's name as findings give it, and its ticket, shared by every approval the
/// entry gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Naming {
    pub(crate) name: Arc<str>,
    pub(crate) ticket: Option<Arc<str>>,
}

impl Naming {
    /// `pairing #3 (SEC-1234)`: the entry of `kind` at `number`, as findings and reasons
    /// name it.
    fn of(kind: &str, number: usize, ticket: &Option<String>) -> Naming {
        let name = match ticket {
            Some(t) => format!("{kind} #{number} ({t})"),
            None => format!("{kind} #{number}"),
        };
        Naming {
            name: name.into(),
            ticket: ticket.as_deref().map(Arc::from),
        }
    }
}

/// An `[[org]]` entry: every account of an AWS Organization approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgEntry {
    /// 1-based position among the `[[org]]` entries.
    pub number: usize,
    /// Line the entry starts on.
    pub line: usize,
    /// The organization id (`o-…`).
    pub id: String,
    /// Owner accounts whose resources it covers; `*` for all.
    pub owners: Vec<String>,
    /// Resource globs; `None`: every resource of those owners.
    pub resources: Option<Vec<String>>,
    /// The actions approved; `None`: any.
    pub actions: Option<Vec<String>>,
    /// The day it stops approving (exclusive).
    pub expires: Option<Date>,
    /// The change ticket.
    pub ticket: Option<String>,
    /// How findings name it (`org #N (TICKET)`) and its ticket, made once for
    /// every approval it gives.
    #[serde(skip)]
    pub(crate) naming: Naming,
}

/// A `[[public]]` entry: resources meant to be open to anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicEntry {
    /// 1-based position among the `[[public]]` entries.
    pub number: usize,
    /// Line the entry starts on.
    pub line: usize,
    /// The owner and the resources it makes public (always named).
    #[serde(flatten)]
    pub scope: Coverage,
    /// The actions approved; `None`: any.
    pub actions: Option<Vec<String>>,
    /// The day it stops approving (exclusive).
    pub expires: Option<Date>,
    /// The change ticket.
    pub ticket: Option<String>,
    /// How findings name it (`public #N (TICKET)`) and its ticket, made once for
    /// every approval it gives.
    #[serde(skip)]
    pub(crate) naming: Naming,
}

/// A `[[mode_override]]`: another mode for some resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModeOverride {
    /// Line the entry starts on.
    pub line: usize,
    /// The resources it applies to.
    #[serde(flatten)]
    pub scope: Coverage,
    /// Their mode.
    pub mode: Mode,
}

/// A checked allowlist (SPEC §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allowlist {
    /// Where it was read from, for messages.
    pub source: String,
    /// The default mode (`alert` when the file names none).
    pub mode: Mode,
    /// ARN patterns of actors whose changes are recorded, never acted on (the guard's own role).
    pub ignore_actors: Vec<String>,
    /// The `[[pairing]]` entries, in file order.
    pub pairings: Vec<Pairing>,
    /// The `[[org]]` entries, in file order.
    pub orgs: Vec<OrgEntry>,
    /// The `[[public]]` entries, in file order.
    pub public: Vec<PublicEntry>,
    /// The `[[mode_override]]` entries; the first that covers a resource wins.
    pub mode_overrides: Vec<ModeOverride>,
}

// ---- the file as written ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Option<Spanned<toml::Value>>,
    mode: Option<Spanned<String>>,
    #[serde(default)]
    ignore_actors: Vec<Spanned<String>>,
    #[serde(default)]
    pairing: Vec<Spanned<RawPairing>>,
    #[serde(default)]
    org: Vec<Spanned<RawOrg>>,
    #[serde(default)]
    public: Vec<Spanned<RawPublic>>,
    #[serde(default)]
    mode_override: Vec<Spanned<RawOverride>>,
}

type Globs = Option<Vec<Spanned<String>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPairing {
    owner: Spanned<String>,
    trusted: Spanned<String>,
    resources: Globs,
    actions: Globs,
    #[serde(default)]
    require_external_id: bool,
    expires: Option<Spanned<toml::Value>>,
    ticket: Option<String>,
    #[serde(default)]
    canonical_ids: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrg {
    id: Spanned<String>,
    owners: Vec<Spanned<String>>,
    resources: Globs,
    actions: Globs,
    expires: Option<Spanned<toml::Value>>,
    ticket: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPublic {
    owner: Spanned<String>,
    resources: Vec<Spanned<String>>,
    actions: Globs,
    expires: Option<Spanned<toml::Value>>,
    ticket: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    owner: Spanned<String>,
    resources: Globs,
    mode: Spanned<String>,
}

/// A TOML value as the file wrote it, for messages: a date/time as itself (toml passes
/// one through serde as a private map), anything long cut.
fn shown(v: &toml::Value) -> String {
    let private = v
        .as_table()
        .and_then(|t| t.get("$__toml_private_datetime"))
        .and_then(toml::Value::as_str);
    let text = match (v, private) {
        (_, Some(dt)) => dt.to_string(),
        (toml::Value::Datetime(dt), _) => dt.to_string(),
        _ => v.to_string(),
    };
    if text.chars().count() > 64 {
        format!("{}…", text.chars().take(64).collect::<String>())
    } else {
        text
    }
}

/// An S3 canonical user id: 64 lowercase hex digits.
pub fn is_canonical_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Largest allowlist read: 100,000 pairings take about 12 MB; a guard Lambda (256 MB)
/// must never be made to load more than it can hold.
pub const MAX_ALLOWLIST_BYTES: usize = 64 << 20;

struct Checker<'a> {
    file: &'a str,
    /// Offsets where each line starts: a line number is a binary search, so checking
    /// 100,000 pairings stays linear.
    line_starts: Vec<usize>,
    faults: Vec<Fault>,
}

impl Checker<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// Where a line (1-based) starts.
    fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0)
    }

    fn fault(&mut self, offset: usize, message: impl Into<String>) {
        let line = self.line_of(offset);
        self.faults.push(Fault {
            file: self.file.to_string(),
            line,
            message: message.into(),
        });
    }

    fn owner(&mut self, v: &Spanned<String>, what: &str) -> String {
        let s = v.get_ref();
        if s != "*" && !is_account_id(s) {
            self.fault(
                v.span().start,
                format!("{what} {s:?} is not a 12-digit account id or \"*\""),
            );
        }
        s.clone()
    }

    fn resources(&mut self, globs: &Globs) -> Option<Vec<String>> {
        globs.as_ref().map(|list| {
            if list.is_empty() {
                // An empty list would silently match nothing: say so instead.
                self.fault(
                    0,
                    "resources = [] matches nothing: leave it out to cover every resource",
                );
            }
            list.iter().map(|g| self.resource_glob(g)).collect()
        })
    }

    fn resource_glob(&mut self, g: &Spanned<String>) -> String {
        let s = g.get_ref();
        let at = g.span().start;
        match s.split_once('/') {
            Some((kind, pattern)) if ResourceKind::parse(kind).is_some() => {
                if pattern.is_empty() {
                    self.fault(at, format!("resource glob {s:?} has no name after {kind}/"));
                } else if let Some(c) = pattern
                    .chars()
                    .find(|c| "[]{}".contains(*c) || c.is_whitespace() || c.is_control())
                {
                    self.fault(at, format!("resource glob {s:?}: {c:?} is not supported; only * and ? are wildcards"));
                }
            }
            _ => self.fault(
                at,
                format!("resource glob {s:?} must be KIND/NAME with KIND one of bucket, role, key"),
            ),
        }
        s.clone()
    }

    fn actions(&mut self, list: &Globs) -> Option<Vec<String>> {
        list.as_ref().map(|list| {
            if list.is_empty() {
                self.fault(0, "actions = [] approves nothing: leave it out to approve every action");
            }
            list.iter()
                .map(|a| {
                    let s = a.get_ref();
                    let ok = s == "*"
                        || s.split_once(':').is_some_and(|(svc, act)| {
                            !svc.is_empty()
                                && svc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                                && !act.is_empty()
                                && act.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?')
                        });
                    if !ok {
                        self.fault(a.span().start, format!("action {s:?} must be SERVICE:ACTION (e.g. s3:GetObject, s3:Get*) or \"*\""));
                    }
                    s.clone()
                })
                .collect()
        })
    }

    fn date(&mut self, v: &Option<Spanned<toml::Value>>) -> Option<Date> {
        let v = v.as_ref()?;
        let at = v.span().start;
        let parsed = match v.get_ref() {
            toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
                .date
                .and_then(|d| Date::new(i32::from(d.year), d.month, d.day)),
            toml::Value::String(s) => Date::parse_day(s),
            _ => None,
        };
        if parsed.is_none() {
            self.fault(
                at,
                format!(
                    "expires = {} must be a date such as 2027-06-30",
                    shown(v.get_ref())
                ),
            );
        }
        parsed
    }

    fn mode(&mut self, v: &Spanned<String>) -> Mode {
        Mode::parse(v.get_ref()).unwrap_or_else(|| {
            self.fault(
                v.span().start,
                format!(
                    "mode {:?} must be \"alert\", \"remediate\" or \"dry-run\"",
                    v.get_ref()
                ),
            );
            Mode::Alert
        })
    }
}

impl Checker<'_> {
    /// Which resources an entry covers, checked.
    fn coverage(&mut self, owner: &Spanned<String>, resources: &Globs) -> Coverage {
        Coverage {
            owner: self.owner(owner, "owner"),
            resources: self.resources(resources),
        }
    }

    fn version(&mut self, version: &Option<Spanned<toml::Value>>) {
        match version {
            None => self.fault(0, "version is missing: start the file with `version = 1`"),
            Some(v) if v.get_ref().as_integer() != Some(1) => self.fault(
                v.span().start,
                format!(
                    "version = {} is not supported: this crossguard reads version 1",
                    shown(v.get_ref())
                ),
            ),
            Some(_) => {}
        }
    }

    fn ignore_actor(&mut self, a: &Spanned<String>) -> String {
        let s = a.get_ref();
        if let Some(why) = actor_pattern_fault(s) {
            self.fault(
                a.span().start,
                format!(
                    "ignore_actors entry {} {why}: name the guard's own role, such as arn:aws:iam::222222222222:role/crossguard-*",
                    crate::json::excerpt(s)
                ),
            );
        }
        s.clone()
    }

    fn pairing(&mut self, number: usize, spanned: &Spanned<RawPairing>) -> Pairing {
        let line = self.line_of(spanned.span().start);
        let p = spanned.get_ref();
        let owner = self.owner(&p.owner, "owner");
        let trusted = p.trusted.get_ref().clone();
        if trusted == "*" {
            self.fault(p.trusted.span().start, "trusted = \"*\" would approve everyone: use a [[public]] entry for resources meant to be public");
        } else if !is_account_id(&trusted) {
            self.fault(
                p.trusted.span().start,
                format!("trusted {trusted:?} is not a 12-digit account id"),
            );
        }
        Pairing {
            number,
            line,
            scope: Coverage {
                owner,
                resources: self.resources(&p.resources),
            },
            trusted,
            actions: self.actions(&p.actions),
            require_external_id: p.require_external_id,
            expires: self.date(&p.expires),
            naming: Naming::of("pairing", number, &p.ticket),
            ticket: p.ticket.clone(),
            canonical_ids: p
                .canonical_ids
                .iter()
                .map(|c| {
                    let id = c.get_ref();
                    if !is_canonical_id(id) {
                        self.fault(
                            c.span().start,
                            format!("canonical id {id:?} is not an S3 canonical user id (64 lowercase hex digits)"),
                        );
                    }
                    id.clone()
                })
                .collect(),
        }
    }

    fn org(&mut self, number: usize, spanned: &Spanned<RawOrg>) -> OrgEntry {
        let line = self.line_of(spanned.span().start);
        let o = spanned.get_ref();
        if !is_org_id(o.id.get_ref()) {
            self.fault(o.id.span().start, format!("org id {:?} is not an AWS Organizations id (o- and 10 to 32 lowercase letters or digits)", o.id.get_ref()));
        }
        if o.owners.is_empty() {
            self.fault(
                self.line_start(line),
                "owners = [] approves nothing: name the owner accounts, or [\"*\"] for all",
            );
        }
        OrgEntry {
            number,
            line,
            id: o.id.get_ref().clone(),
            owners: o.owners.iter().map(|w| self.owner(w, "owner")).collect(),
            resources: self.resources(&o.resources),
            actions: self.actions(&o.actions),
            expires: self.date(&o.expires),
            naming: Naming::of("org", number, &o.ticket),
            ticket: o.ticket.clone(),
        }
    }

    fn public(&mut self, number: usize, spanned: &Spanned<RawPublic>) -> PublicEntry {
        let line = self.line_of(spanned.span().start);
        let p = spanned.get_ref();
        PublicEntry {
            number,
            line,
            // Required here: a [[public]] entry names what it makes public.
            scope: self.coverage(&p.owner, &Some(p.resources.clone())),
            actions: self.actions(&p.actions),
            expires: self.date(&p.expires),
            naming: Naming::of("public", number, &p.ticket),
            ticket: p.ticket.clone(),
        }
    }

    fn mode_override(&mut self, spanned: &Spanned<RawOverride>) -> ModeOverride {
        let line = self.line_of(spanned.span().start);
        let o = spanned.get_ref();
        ModeOverride {
            line,
            scope: self.coverage(&o.owner, &o.resources),
            mode: self.mode(&o.mode),
        }
    }
}

/// The file as TOML, or the one fault that stops reading it.
fn read_raw(text: &str, c: &mut Checker) -> Option<RawFile> {
    match toml::from_str(text) {
        Ok(r) => Some(r),
        Err(e) => {
            let at = e.span().map(|s| s.start).unwrap_or(0);
            let mut message = e.message().trim().replace('\n', ": ");
            // toml carries a date/time through serde as a private map: say what it is.
            let value = e.span().and_then(|s| text.get(s)).unwrap_or("");
            if message.starts_with("invalid type: map")
                && value.starts_with(|c: char| c.is_ascii_digit())
            {
                message = message.replacen(
                    "invalid type: map",
                    &format!("{} is a date/time", value.trim()),
                    1,
                );
            }
            c.fault(at, message);
            None
        }
    }
}

impl Allowlist {
    /// Parse and check an allowlist. `file` names it in messages. Text over
    /// [`MAX_ALLOWLIST_BYTES`] is refused whole, never read in part.
    pub fn from_toml(text: &str, file: &str) -> Result<Allowlist, AllowlistError> {
        if text.len() > MAX_ALLOWLIST_BYTES {
            return Err(AllowlistError {
                faults: vec![Fault {
                    file: file.to_string(),
                    line: 1,
                    message: format!(
                        "the allowlist is {} bytes, over the {} MiB limit: refused whole (split it, or approve by [[org]])",
                        text.len(),
                        MAX_ALLOWLIST_BYTES >> 20
                    ),
                }],
            });
        }
        let mut c = Checker {
            file,
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
            faults: Vec::new(),
        };
        let Some(raw) = read_raw(text, &mut c) else {
            return Err(AllowlistError { faults: c.faults });
        };
        c.version(&raw.version);
        let numbered = |i: usize| i + 1;
        let allowlist = Allowlist {
            source: file.to_string(),
            mode: raw.mode.as_ref().map(|m| c.mode(m)).unwrap_or(Mode::Alert),
            ignore_actors: raw
                .ignore_actors
                .iter()
                .map(|a| c.ignore_actor(a))
                .collect(),
            pairings: (raw.pairing.iter().enumerate())
                .map(|(i, p)| c.pairing(numbered(i), p))
                .collect(),
            orgs: (raw.org.iter().enumerate())
                .map(|(i, o)| c.org(numbered(i), o))
                .collect(),
            public: (raw.public.iter().enumerate())
                .map(|(i, p)| c.public(numbered(i), p))
                .collect(),
            mode_overrides: raw
                .mode_override
                .iter()
                .map(|o| c.mode_override(o))
                .collect(),
        };
        // The first pairing naming each canonical id: one look-up per id, not a scan of
        // every earlier pairing (100,000 pairings took minutes to load).
        let mut first: std::collections::HashMap<&str, &Pairing> = std::collections::HashMap::new();
        for p in &allowlist.pairings {
            for id in &p.canonical_ids {
                let q = *first.entry(id.as_str()).or_insert(p);
                if q.trusted != p.trusted {
                    // One canonical id is one account: naming it for two would let an
                    // ACL grant pass as either.
                    c.faults.push(Fault {
                        file: file.to_string(),
                        line: p.line,
                        message: format!(
                            "canonical id {id} is named for {} here and for {} on line {}: a canonical id belongs to one account",
                            p.trusted, q.trusted, q.line
                        ),
                    });
                }
            }
        }
        if !c.faults.is_empty() {
            c.faults.sort_by_key(|f| f.line);
            return Err(AllowlistError { faults: c.faults });
        }
        Ok(allowlist)
    }

    /// The account whose S3 canonical user id this is, as a pairing names it.
    pub fn account_of_canonical_id(&self, id: &str) -> Option<&str> {
        self.pairings
            .iter()
            .find(|p| p.canonical_ids.iter().any(|c| c == id))
            .map(|p| p.trusted.as_str())
    }

    /// The mode for a resource: the first matching `[[mode_override]]`, else the default.
    pub fn mode_for(&self, resource: &Resource) -> Mode {
        self.mode_overrides
            .iter()
            .find(|o| o.scope.covers(resource))
            .map(|o| o.mode)
            .unwrap_or(self.mode)
    }

    /// Is the actor one whose events are recorded but never acted on? `*` and `?` stay
    /// within one `/`-separated part, so `role/crossguard-*` does not match a role
    /// `crossguard-x/attacker` whose path merely begins like the guard's name.
    pub fn ignores_actor(&self, arns: &[&str]) -> Option<&str> {
        self.ignore_actors
            .iter()
            .find(|pat| {
                arns.iter()
                    .any(|a| wildcard::matches_within_parts(pat, a, '/'))
            })
            .map(String::as_str)
    }
}

/// Why an `ignore_actors` pattern is refused: not an ARN, or so wide it would silence
/// the guard for actors it was never meant to (`*`, `arn:*`, `arn:aws:iam::*:role/*`).
/// The resource part must start with a literal type and, after `/`, a literal name
/// character (`role/crossguard-*`), or be a literal (`root`).
fn actor_pattern_fault(s: &str) -> Option<&'static str> {
    if !s.starts_with("arn:") || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("must be an ARN pattern");
    }
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [_, partition, service, _, _, resource] = parts[..] else {
        return Some("must have all six ARN parts (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)");
    };
    if wildcard::has_wildcard(partition) || wildcard::has_wildcard(service) {
        return Some("matches every actor: the partition and service must be literal");
    }
    if service == "sts" && resource.starts_with("assumed-role/") {
        // `role/evil/crossguard-x` and `role/crossguard-x` have the same sessions.
        return Some("an assumed-role ARN carries no role path, so it cannot tell the guard's role from another of the same name: name the role (arn:PARTITION:iam::ACCOUNT:role/NAME), matched against the session's issuer");
    }
    let named = match resource.split_once('/') {
        Some((kind, name)) => {
            !kind.is_empty()
                && !wildcard::has_wildcard(kind)
                && name.chars().next().is_some_and(|c| c != '*' && c != '?')
        }
        None => !resource.is_empty() && !wildcard::has_wildcard(resource),
    };
    if named {
        None
    } else {
        Some(
            "matches every actor of its kind: it must name who, with a literal type and name start",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const EXAMPLE: &str = r#"
version = 1
mode = "alert"
ignore_actors = ["arn:aws:iam::222222222222:role/crossguard-*"]

[[pairing]]
owner = "222222222222"
trusted = "111111111111"
resources = ["bucket/my-shared-bucket", "role/S3AccessFromA"]
actions = ["s3:GetObject", "s3:ListBucket"]
require_external_id = true
expires = 2027-06-30
ticket = "SEC-1234"

[[org]]
id = "o-a1b2c3d4e5"
owners = ["*"]

[[public]]
owner = "222222222222"
resources = ["bucket/www-example-com"]
actions = ["s3:GetObject"]

[[mode_override]]
owner = "222222222222"
resources = ["bucket/prod-*"]
mode = "remediate"
"#;

    #[test]
    fn reads_the_spec_example() {
        let a = Allowlist::from_toml(EXAMPLE, "allow.toml").unwrap();
        assert_eq!(a.mode, Mode::Alert);
        assert_eq!(a.pairings.len(), 1);
        let p = &a.pairings[0];
        assert_eq!((p.number, p.line), (1, 6));
        assert_eq!(p.expires, Date::new(2027, 6, 30));
        assert_eq!(p.ticket.as_deref(), Some("SEC-1234"));
        assert!(p.require_external_id);
        assert_eq!(a.orgs[0].id, "o-a1b2c3d4e5");
        let prod = Resource::from_spec("bucket/prod-data", "222222222222", None).unwrap();
        let dev = Resource::from_spec("bucket/dev-data", "222222222222", None).unwrap();
        assert_eq!(a.mode_for(&prod), Mode::Remediate);
        assert_eq!(a.mode_for(&dev), Mode::Alert);
        assert!(a
            .ignores_actor(&["arn:aws:iam::222222222222:role/crossguard-bucket-guard"])
            .is_some());
        assert!(a
            .ignores_actor(&["arn:aws:iam::222222222222:role/admin"])
            .is_none());
    }

    fn faults(text: &str) -> Vec<String> {
        Allowlist::from_toml(text, "a.toml")
            .unwrap_err()
            .faults
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn refuses_with_file_line_and_reason() {
        let cases: &[(&str, &str)] = &[
            ("version = 1\nfoo = 2\n", "a.toml:2: unknown field `foo`"),
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\ncolour = \"red\"\n", "a.toml:5: unknown field `colour`"),
            ("version = 1\n[[pairing]]\nowner = \"22222222222\"\ntrusted = \"111111111111\"\n", "a.toml:3: owner \"22222222222\" is not a 12-digit"),
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"abc\"\n", "a.toml:4: trusted \"abc\" is not a 12-digit"),
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"*\"\n", "a.toml:4: trusted = \"*\" would approve everyone"),
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\nresources = [\"table/x\"]\n", "a.toml:5: resource glob \"table/x\""),
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\nresources = [\"bucket/[ab]\"]\n", "only * and ? are wildcards"),
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\nexpires = 2027-13-01\n", "a.toml:5"),
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\nexpires = \"someday\"\n", "a.toml:5: expires = \"someday\" must be a date"),
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\nexpires = 2027-06-30T10:00:00Z\n", "must be a date"),
            // A time in a string is refused as in TOML's own form, not cut to its date.
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\nexpires = \"2026-11-22T00:00:00+14:00\"\n", "must be a date"),
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\nexpires = \"+027-06-30\"\n", "must be a date"),
            ("version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\nactions = [\"GetObject\"]\n", "a.toml:5: action \"GetObject\""),
            ("version = 1\nmode = \"block\"\n", "a.toml:2: mode \"block\""),
            ("version = 2\n", "a.toml:1: version = 2 is not supported"),
            ("mode = \"alert\"\n", "version is missing"),
            ("version = 1\n[[org]]\nid = \"org-1\"\nowners = [\"*\"]\n", "a.toml:3: org id \"org-1\""),
            ("version = 1\nignore_actors = [\"crossguard\"]\n", "a.toml:2: ignore_actors entry"),
            ("version = 1\n[[public]]\nowner = \"222222222222\"\n", "missing field `resources`"),
            ("version = 1\n[[pairing]\n", "a.toml:2"),
            ("version = 1\n[[mode_override]]\nowner = \"*\"\nmode = \"nope\"\n", "a.toml:4: mode \"nope\""),
        ];
        for (text, want) in cases {
            let got = faults(text);
            assert!(
                got.iter().any(|f| f.contains(want)),
                "{text:?}: want {want:?}, got {got:?}"
            );
        }
    }

    #[test]
    fn ignore_actors_stay_within_a_path_part_and_name_who() {
        let a = Allowlist::from_toml(
            "version = 1\nignore_actors = [\"arn:aws:iam::*:role/crossguard-*\"]\n",
            "a.toml",
        )
        .unwrap();
        assert!(a
            .ignores_actor(&["arn:aws:iam::222222222222:role/crossguard-bucket-guard"])
            .is_some());
        // A session's ARN has no role path: its pattern is refused, the role's is used.
        let session = Allowlist::from_toml(
            "version = 1\nignore_actors = [\"arn:aws:sts::*:assumed-role/crossguard-?/*\"]\n",
            "a.toml",
        );
        assert!(
            session
                .as_ref()
                .is_err_and(|e| e.to_string().contains("no role path")),
            "{:?}",
            session.map(|_| ())
        );
        // A role whose path begins like the guard's name is not the guard.
        for dodge in [
            "arn:aws:iam::222222222222:role/crossguard-x/attacker-role",
            "arn:aws:iam::222222222222:role/crossguard-",
        ] {
            assert!(
                a.ignores_actor(&[dodge]).is_some() == dodge.ends_with('-'),
                "{dodge}"
            );
        }
        for wide in [
            "*",
            "arn:*",
            "arn:aws:*",
            "arn:*:iam::*:role/x",
            "arn:aws:iam::*:*",
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::*:role/?*",
            "arn:aws:iam::*:*/crossguard",
            "arn:aws:iam::*:",
        ] {
            let got = faults(&format!("version = 1\nignore_actors = [{wide:?}]\n"));
            assert!(
                got.iter()
                    .any(|f| f.contains("a.toml:2: ignore_actors entry")),
                "{wide}: {got:?}"
            );
        }
    }

    #[test]
    fn line_numbers_of_many_entries() {
        let mut text = String::from("version = 1\n");
        for _ in 0..20_000 {
            text.push_str("[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\n");
        }
        text.push_str("[[pairing]]\nowner = \"222222222222\"\ntrusted = \"1\"\n");
        let got = faults(&text);
        assert_eq!(
            got,
            vec![format!(
                "a.toml:{}: trusted \"1\" is not a 12-digit account id",
                2 + 20_000 * 3 + 2
            )]
        );
    }

    #[test]
    fn dates_and_times_are_shown_as_written() {
        let pairing =
            "version = 1\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\n";
        for (text, want) in [
            (
                format!("{pairing}expires = 2027-01-01T00:00:00\n"),
                "a.toml:5: expires = 2027-01-01T00:00:00 must be a date",
            ),
            (
                format!("{pairing}expires = 10:00:00\n"),
                "a.toml:5: expires = 10:00:00 must be a date",
            ),
            (
                format!("{pairing}ticket = 2027-01-01\n"),
                "a.toml:5: 2027-01-01 is a date/time, expected a string",
            ),
            (
                "version = 2027-01-01\n".to_string(),
                "a.toml:1: version = 2027-01-01 is not supported",
            ),
        ] {
            let got = faults(&text);
            assert!(got.iter().any(|f| f.contains(want)), "{text:?}: {got:?}");
            assert!(!got.iter().any(|f| f.contains("$__toml")), "{got:?}");
        }
    }

    #[test]
    fn oversized_text_is_refused_whole() {
        let mut text = String::from("version = 1\n");
        text.push_str(&"# padding\n".repeat(MAX_ALLOWLIST_BYTES / 10 + 1));
        let got = faults(&text);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("a.toml:1: the allowlist is") && got[0].contains("64 MiB limit"),
            "{got:?}"
        );
    }

    #[test]
    fn reports_every_fault() {
        let got =
            faults("version = 1\n[[pairing]]\nowner = \"x\"\ntrusted = \"y\"\nactions = [\"z\"]\n");
        assert_eq!(got.len(), 3, "{got:?}");
    }
}
