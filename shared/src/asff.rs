//! Evidence records as AWS Security Hub findings (the AWS Security Finding Format,
//! `SchemaVersion` 2018-10-08), for the `hub-exporter` function: one finding per
//! resource, door and outside party, so that a later record of the same resource
//! updates it (its `CreatedAt` kept) instead of adding another, and resolves it when
//! the grant is removed — by the guard, by hand — or approved.
//!
//! Pure: the function reads the record and the findings already in Security Hub
//! ([`Prior`]), this module says what to import.

use crate::json;
use crate::kinds::{self, Door};
use crate::report::{verdict_str, Change, Grantee, Origin, Standing};
use crate::ResourceKind;
use crate::Verdict;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The ASFF version written.
pub const SCHEMA_VERSION: &str = "2018-10-08";
/// Every finding's type; a public grant also gets [`DATA_EXPOSURE`].
pub const TYPE: &str =
    "Software and Configuration Checks/AWS Security Best Practices/Cross-Account Access";
/// The type added when everyone is let in.
pub const DATA_EXPOSURE: &str = "Effects/Data Exposure";
/// Where each finding's id starts; what [`Prior`]s are recognised by.
pub const ID_PREFIX: &str = "crossguard/";
/// The `ProductFields` key naming the outside party of a finding.
pub const PARTY_FIELD: &str = "crossguard/party";
// ASFF's limits (BatchImportFindings refuses longer).
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 1024;
const REMEDIATION_MAX: usize = 512;
const FIELD_VALUE_MAX: usize = 2048;

/// Where findings are imported: the account's own "default" product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: String,
    /// The region of the Security Hub the findings go to.
    pub region: String,
    /// The account importing them.
    pub account: String,
}

impl Product {
    /// `arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`.
    pub fn arn(&self) -> String {
        format!(
            "arn:{}:securityhub:{}:{}:product/{}/default",
            self.partition, self.region, self.account, self.account
        )
    }
}

/// A finding already in Security Hub with this record's id prefix, as far as an update
/// needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prior {
    /// Its `Id`.
    pub id: String,
    /// Its `CreatedAt`, kept by every update.
    pub created_at: String,
    /// Its `FirstObservedAt`.
    pub first_observed_at: Option<String>,
    /// Its `LastObservedAt`: the event time of the record it reflects. A record of an
    /// earlier event (delivered late) does not overwrite it.
    pub last_observed_at: Option<String>,
    /// Its `Compliance.Status`.
    pub compliance: Option<String>,
    /// Its `Workflow.Status` (a person's `NOTIFIED` or `SUPPRESSED` is kept while the
    /// grant stays).
    pub workflow: Option<String>,
    /// Its [`PARTY_FIELD`].
    pub party: Option<String>,
}

/// `Compliance.Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    /// The grant is approved or gone.
    Passed,
    /// An unapproved grant is in place.
    Failed,
    /// The policy could not be checked.
    NotAvailable,
}

impl Compliance {
    /// As ASFF writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Passed => "PASSED",
            Compliance::Failed => "FAILED",
            Compliance::NotAvailable => "NOT_AVAILABLE",
        }
    }
}

/// The resource of a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    /// `AwsS3Bucket`, `AwsIamRole`, …, `AwsAccount` when the record names none.
    #[serde(rename = "Type")]
    pub kind: String,
    /// Its ARN (`AWS::::Account:ID` for an account).
    pub id: String,
    /// Its partition.
    pub partition: String,
    /// Its region (`us-east-1` for global IAM, as Security Hub writes it).
    pub region: String,
}

/// One finding to import (the fields crossguard sets; ASFF names in its JSON form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    /// [`SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// `crossguard/DOOR/RESOURCE/PARTY`: stable per resource, door and party.
    pub id: String,
    /// [`Product::arn`].
    pub product_arn: String,
    /// The check: `crossguard/KIND/DOOR`.
    pub generator_id: String,
    /// The resource's account.
    pub aws_account_id: String,
    /// The region of the Security Hub it is imported to.
    pub region: String,
    /// [`TYPE`], and [`DATA_EXPOSURE`] for everyone.
    pub types: Vec<String>,
    /// When first reported (kept by every update).
    pub created_at: String,
    /// When this import was made.
    pub updated_at: String,
    /// The first event's time.
    pub first_observed_at: String,
    /// This record's event time.
    pub last_observed_at: String,
    /// `Severity.Label`: CRITICAL, HIGH, MEDIUM, INFORMATIONAL.
    pub severity: &'static str,
    /// At most 256 bytes.
    pub title: String,
    /// At most 1,024 bytes.
    pub description: String,
    /// `Remediation.Recommendation.Text`.
    pub remediation: String,
    /// `crossguard/party`, `crossguard/event_id`, `crossguard/evidence`, ….
    pub product_fields: BTreeMap<String, String>,
    /// The resource (its ARN), or the account.
    pub resources: Vec<AsffResource>,
    /// `Compliance.Status`.
    pub compliance: Compliance,
    /// `Workflow.Status`: NEW, RESOLVED, or a person's status kept.
    pub workflow: String,
    /// `RecordState`: always ACTIVE (a resolved finding stays visible as resolved).
    pub record_state: &'static str,
}

/// Why a record cannot become findings. Each fails the export (retried, then the
/// dead-letter queue): nothing is guessed into Security Hub.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AsffError {
    /// Not JSON, or a key twice.
    #[error("the evidence record could not be read: {0}")]
    Unreadable(String),
    /// An evidence record without what every record has.
    #[error("the evidence record has no {0}")]
    Missing(&'static str),
}

/// What an evidence record is about, read strictly.
#[derive(Debug, Clone)]
pub struct Subject {
    decision: Value,
    change: Change,
    door: &'static str,
    /// The whole door was read live when deciding: a party it no longer lets in is gone.
    whole: bool,
    resource_id: String,
    resource_type: String,
    /// From the resource's ARN; the product's for an account.
    partition: Option<String>,
    region: String,
    account: String,
    event_id: String,
    observed_at: String,
}

/// What a record is, before any finding.
#[derive(Debug)]
pub enum Read {
    /// A decision to report.
    Subject(Box<Subject>),
    /// Not for Security Hub (a claim in flight, a restore record, an ignored event), and
    /// why.
    Skip(String),
}

fn door_name(d: Option<Door>) -> &'static str {
    match d {
        Some(Door::Policy) | None => "policy",
        Some(Door::KmsGrant) => "grant",
        Some(Door::Acl) => "acl",
        Some(Door::Record) => "record",
        Some(Door::PublicAccessBlock) => "bpa",
    }
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

impl Subject {
    /// Read an object of the evidence bucket: an evidence record (SPEC §4) becomes a
    /// subject; a claim or a restore record is skipped; anything else unreadable is an
    /// error.
    pub fn read(text: &str) -> Result<Read, AsffError> {
        let checked = json::from_str(text).map_err(|e| AsffError::Unreadable(e.to_string()))?;
        if let Some(why) = checked.duplicate_reason("") {
            return Err(AsffError::Unreadable(why));
        }
        let v = &checked.value;
        if let Some(why) = skipped_schema(v)? {
            return Ok(Read::Skip(why));
        }
        let decision = v
            .get("decision")
            .filter(|d| d.is_object())
            .ok_or(AsffError::Missing("decision"))?;
        let event_id = str_at(v, &["event_id"]).ok_or(AsffError::Missing("event_id"))?;
        crate::evidence::key(event_id).map_err(|e| AsffError::Unreadable(e.to_string()))?;
        let outcome = str_at(v, &["outcome"]).ok_or(AsffError::Missing("outcome"))?;
        let recorded = str_at(v, &["recorded_at"]).ok_or(AsffError::Missing("recorded_at"))?;
        check_findings(decision)?;
        let change =
            Change::from_decision(decision, Origin::Evidence, "", Some(outcome.to_string()));
        if let Some(g) = change
            .grantees
            .iter()
            .find(|g| g.party.is_empty() || g.party.contains('/') || g.party.len() > 64)
        {
            return Err(AsffError::Unreadable(format!("a party {:?}", g.party)));
        }
        if str_at(decision, &["verdict"]).is_none() {
            return Err(AsffError::Missing("verdict"));
        }
        // `Change` reads the verdict exactly: anything but the four is an error decision.
        if change.verdict == Verdict::Ignored {
            return Ok(Read::Skip(format!("ignored: {}", change.reason)));
        }
        let account = change
            .account
            .clone()
            .filter(|a| crate::principal::is_account_id(a))
            .ok_or(AsffError::Missing("account (resource or event)"))?;
        let (resource_id, resource_type, partition) = resource_of(decision, &change, &account);
        let door = door_name(
            change
                .event_name
                .as_deref()
                .zip(str_at(decision, &["event", "source"]))
                .and_then(|(n, s)| kinds::door(s, n)),
        );
        let whole = v.get("live").and_then(Value::as_bool) == Some(true)
            && matches!(door, "policy" | "acl");
        Ok(Read::Subject(Box::new(Subject {
            decision: decision.clone(),
            region: change.region.clone().unwrap_or_else(|| "us-east-1".into()),
            observed_at: change
                .time
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| recorded.to_string()),
            change,
            door,
            whole,
            resource_id,
            resource_type,
            partition,
            account,
            event_id: event_id.to_string(),
        })))
    }

    /// The resource the findings are about (what to look prior findings up by).
    pub fn resource_id(&self) -> &str {
        &self.resource_id
    }

    /// The check: one per kind and door (`crossguard/bucket/policy`).
    pub fn generator_id(&self) -> String {
        format!(
            "{ID_PREFIX}{}/{}",
            self.change.kind.as_deref().unwrap_or("unknown"),
            self.door
        )
    }

    /// Every finding of this resource and door starts so. A door read whole (a policy,
    /// an ACL) has one finding per party across events; a KMS grant, a cross-account
    /// access point or a Block Public Access change is decided as its call made it, so
    /// each event has its own findings: one grant approved says nothing of another.
    /// A record about no resource (a tamper check, an unreadable event) is its own
    /// event too. An ARN too long for ASFF's 512-character `Id` is replaced by its hash
    /// (the finding's `Resources` keeps it).
    pub fn id_prefix(&self) -> String {
        let resource = if self.resource_id.len() > 256 {
            format!("h{:016x}", fnv1a(self.resource_id.as_bytes()))
        } else {
            self.resource_id.clone()
        };
        if self.per_party() {
            format!("{ID_PREFIX}{}/{resource}/", self.door)
        } else {
            format!("{ID_PREFIX}{}/{resource}/{}/", self.door, self.event_id)
        }
    }

    /// One finding per party across events: a policy or an ACL of a resource.
    fn per_party(&self) -> bool {
        matches!(self.door, "policy" | "acl") && self.resource_type != "AwsAccount"
    }

    /// The CloudTrail event the record is of.
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// The findings to import: one per outside party the decision names (unapproved:
    /// failed, or resolved when the guard removed it; approved: resolved, when a finding
    /// of it is open), one per prior finding whose party the live door no longer lets in
    /// (resolved), and one "could not be checked" for an error decision. `now` is
    /// `UpdatedAt`; priors of later events are left alone.
    pub fn findings(
        &self,
        product: &Product,
        priors: &[Prior],
        now: &str,
        evidence_uri: Option<&str>,
    ) -> Vec<AsffFinding> {
        let prefix = self.id_prefix();
        let priors: BTreeMap<&str, &Prior> = priors
            .iter()
            .filter_map(|p| Some((p.id.strip_prefix(&prefix)?, p)))
            .filter(|(party, _)| !party.is_empty() && !party.contains('/'))
            .collect();
        let at = |t: Option<&str>| t.and_then(crate::ocsf::millis);
        let this = at(Some(&self.observed_at));
        // A prior of a later event is left as it is. Resolving asks more: this record
        // must be known to be later (two events in one second, or a time that cannot be
        // read, are not ordered, and an unordered pass is a guess).
        let stale = |p: &Prior, resolving: bool| match (at(p.last_observed_at.as_deref()), this) {
            (Some(prior), Some(this)) => prior > this || resolving && prior == this,
            _ => resolving,
        };
        let mut out = Vec::new();
        let mut emit = |party: &str, state: State, what: Text| {
            let prior = priors.get(party).copied();
            let resolving = matches!(state, State::Approved | State::Gone | State::Removed);
            if prior.is_some_and(|p| stale(p, resolving)) {
                return;
            }
            let open = prior.is_some_and(|p| p.compliance.as_deref() != Some("PASSED"));
            // Resolving needs an open finding, and approval the whole door: a grant
            // approved in part of a policy says nothing of the rest.
            if matches!(state, State::Approved | State::Gone) && !open
                || state == State::Approved && !self.whole
            {
                return;
            }
            out.push(self.finding(product, party, state, what, prior, now, evidence_uri));
        };
        if self.change.verdict == Verdict::Error {
            emit(UNCHECKED, State::Unchecked, Text::Reason);
            return out;
        }
        // Checked now, whole: "could not be checked" is over.
        if self.whole {
            emit(UNCHECKED, State::Gone, Text::Checked);
        }
        let parties = self.parties();
        let remediated = self.change.outcome.as_deref() == Some("remediated");
        let mut unapproved_party = false;
        for (party, grantees) in &parties {
            let has = |s: Standing| grantees.iter().any(|g| g.standing == s);
            let state = match (has(Standing::Unapproved), remediated) {
                (true, true) => State::Removed,
                (true, false) => State::Open,
                // A warning is not an approval: what a finding of the party says stays.
                (false, _) if has(Standing::Warning) => continue,
                (false, _) => State::Approved,
            };
            unapproved_party |= matches!(state, State::Open | State::Removed);
            emit(party, state, Text::Grants(grantees));
        }
        if !unapproved_party && self.change.verdict == Verdict::Violation {
            // A violation that no outside party's grant explains (a lowered guardrail,
            // the guard tampered with, a service's grant): a finding of its own per
            // event, never none.
            let party = format!("event-{}", self.event_id);
            let state = if remediated {
                State::Removed
            } else {
                State::Open
            };
            emit(&party, state, Text::Reason);
        }
        if self.whole && self.per_party() {
            for party in priors.keys() {
                if *party != UNCHECKED
                    && !party.starts_with("event-")
                    && !parties.contains_key(*party)
                {
                    emit(party, State::Gone, Text::Gone);
                }
            }
        }
        // What fails first: should a later batch be refused, no resolution is in
        // Security Hub without the failures it came with.
        out.sort_by_key(|f| f.compliance == Compliance::Passed);
        out
    }

    /// The outside parties, each with its grants.
    fn parties(&self) -> BTreeMap<String, Vec<&Grantee>> {
        let mut by: BTreeMap<String, Vec<&Grantee>> = BTreeMap::new();
        for g in &self.change.grantees {
            by.entry(g.party.clone()).or_default().push(g);
        }
        by
    }

    /// Title, description and remediation text of a finding.
    fn texts(
        &self,
        party: &str,
        state: State,
        what: Text,
        evidence_uri: Option<&str>,
    ) -> (String, String, String) {
        let spec = match (&self.change.kind, &self.change.resource) {
            (Some(k), Some(n)) => format!("{k}/{n}"),
            _ => format!("account {}", self.account),
        };
        let door = match self.door {
            "acl" => "bucket ACL of ",
            "grant" => "KMS grant on ",
            "bpa" => "Block Public Access of ",
            _ => "",
        };
        let who = party_name(party);
        let title = match (state, what) {
            (State::Unchecked, _) => {
                format!("Cross-account access to {door}{spec} could not be checked")
            }
            (_, Text::Reason) => format!("Unapproved change to {door}{spec}"),
            (State::Gone, Text::Checked) => {
                format!("Cross-account access to {door}{spec} is checked again")
            }
            (State::Open, _) => format!("Unapproved access to {door}{spec} for {who}"),
            (State::Removed, _) => {
                format!("Unapproved access to {door}{spec} for {who} removed by crossguard")
            }
            (State::Approved, _) => format!("Access to {door}{spec} for {who} is approved"),
            (State::Gone, _) => format!("Access to {door}{spec} for {who} is gone"),
        };
        let description = match what {
            Text::Grants(gs) => {
                let lines: Vec<String> = gs
                    .iter()
                    .map(|g| {
                        let by = g
                            .approved_by
                            .as_deref()
                            .map(|b| format!(", approved by {b}"))
                            .unwrap_or_default();
                        format!("{} ({}{by})", g.principal, g.standing.as_str())
                    })
                    .collect();
                format!("{}. Principals: {}.", self.change.reason, lines.join("; "))
            }
            Text::Gone => format!(
                "The {} of {spec}, read live by the guard, no longer lets {who} in. {}",
                if self.door == "acl" { "ACL" } else { "policy" },
                self.change.reason
            ),
            Text::Reason | Text::Checked => self.change.reason.clone(),
        };
        // ASFF refuses an empty description.
        let description = if description.trim().is_empty() {
            format!("crossguard's decision on {spec}.")
        } else {
            description
        };
        let remediation = match state {
            State::Open | State::Unchecked => format!(
                "Remove the grant from {spec}, or approve it: `crossguard allowlist suggest {}` prints the allowlist entry.",
                evidence_uri.unwrap_or("EVIDENCE")
            ),
            State::Removed => format!(
                "crossguard removed the grant. If it was wanted, approve it (`crossguard allowlist suggest`) and put it back with `crossguard restore {}`.",
                evidence_uri.unwrap_or("EVIDENCE")
            ),
            State::Approved | State::Gone => "Nothing to do.".to_string(),
        };
        (title, description, remediation)
    }

    /// `ProductFields`: what the record says beside the finding.
    fn fields(&self, party: &str, evidence_uri: Option<&str>) -> BTreeMap<String, String> {
        let mut fields = BTreeMap::new();
        let mut field = |k: &str, v: &str| {
            fields.insert(format!("crossguard/{k}"), cut(v, FIELD_VALUE_MAX));
        };
        field("party", party);
        field("resource_account", &self.account);
        field("event_id", &self.event_id);
        field("verdict", verdict_str(self.change.verdict));
        if let Some(o) = &self.change.outcome {
            field("outcome", o);
        }
        if let Some(n) = &self.change.event_name {
            field("event_name", n);
        }
        if let Some(a) = &self.change.actor {
            field("actor", a);
        }
        if let Some(u) = evidence_uri {
            field("evidence", u);
        }
        if let Some(m) = str_at(&self.decision, &["mode"]) {
            field("mode", m);
        }
        fields
    }

    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        product: &Product,
        party: &str,
        state: State,
        what: Text,
        prior: Option<&Prior>,
        now: &str,
        evidence_uri: Option<&str>,
    ) -> AsffFinding {
        let (title, description, remediation) = self.texts(party, state, what, evidence_uri);
        let severity = match state {
            State::Approved | State::Gone => "INFORMATIONAL",
            State::Unchecked => match str_at(&self.decision, &["severity"]) {
                Some("critical") => "CRITICAL",
                Some("high") => "HIGH",
                _ => "MEDIUM",
            },
            State::Open | State::Removed => self.severity(party),
        };
        let (compliance, workflow) = match state {
            State::Open => (Compliance::Failed, None),
            State::Unchecked => (Compliance::NotAvailable, None),
            State::Removed | State::Approved | State::Gone => {
                (Compliance::Passed, Some("RESOLVED"))
            }
        };
        // A person's NOTIFIED or SUPPRESSED stays while the finding stays failed;
        // Security Hub itself moves RESOLVED back to NEW when it fails again.
        let workflow = match (workflow, prior.and_then(|p| p.workflow.as_deref())) {
            (Some(w), _) => w.to_string(),
            (None, Some(w @ ("NOTIFIED" | "SUPPRESSED"))) => w.to_string(),
            (None, _) => "NEW".to_string(),
        };
        let mut types = vec![TYPE.to_string()];
        if party == "*" && matches!(state, State::Open | State::Removed) {
            types.push(DATA_EXPOSURE.to_string());
        }
        let fields = self.fields(party, evidence_uri);
        let observed = self.observed_at.clone();
        AsffFinding {
            schema_version: SCHEMA_VERSION,
            id: format!("{}{party}", self.id_prefix()),
            product_arn: product.arn(),
            generator_id: self.generator_id(),
            // The importing account: Security Hub takes a finding into an account's own
            // product only for that account. The resource's is in `ProductFields`.
            aws_account_id: product.account.clone(),
            region: product.region.clone(),
            types,
            created_at: prior.map_or_else(|| observed.clone(), |p| p.created_at.clone()),
            updated_at: now.to_string(),
            first_observed_at: prior
                .and_then(|p| p.first_observed_at.clone())
                .unwrap_or_else(|| observed.clone()),
            last_observed_at: observed,
            severity,
            title: cut(&title, TITLE_MAX),
            description: cut(&description, DESCRIPTION_MAX),
            remediation: cut(&remediation, REMEDIATION_MAX),
            product_fields: fields,
            resources: vec![AsffResource {
                kind: self.resource_type.clone(),
                id: self.resource_id.clone(),
                partition: self
                    .partition
                    .clone()
                    .unwrap_or_else(|| product.partition.clone()),
                region: self.region.clone(),
            }],
            compliance,
            workflow,
            record_state: "ACTIVE",
        }
    }

    /// SPEC §4: everyone or an unknown party critical, another account or organization
    /// high; a decision naming its own severity (a lowered guardrail) says so.
    fn severity(&self, party: &str) -> &'static str {
        match str_at(&self.decision, &["severity"]) {
            Some("critical") => "CRITICAL",
            _ if party == "*" || party == "unresolvable" => "CRITICAL",
            _ => "HIGH",
        }
    }
}

/// The party of an error finding.
const UNCHECKED: &str = "unchecked";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// An unapproved grant in place.
    Open,
    /// An unapproved grant the guard removed.
    Removed,
    /// Approved now.
    Approved,
    /// No longer in the live door (or, for [`UNCHECKED`], checked now).
    Gone,
    /// The decision could not be made.
    Unchecked,
}

#[derive(Clone, Copy)]
enum Text<'a> {
    Grants(&'a [&'a Grantee]),
    Gone,
    Reason,
    Checked,
}

fn party_name(party: &str) -> String {
    match party {
        "*" => "everyone (public)".into(),
        "unresolvable" => "an unresolvable principal".into(),
        p if p.starts_with("o-") => format!("organization {p}"),
        p => format!("account {p}"),
    }
}

/// The resource a record is about: its id (the ARN, or the account), ASFF type and
/// partition (from the ARN; the product's for an account).
fn resource_of(
    decision: &Value,
    change: &Change,
    account: &str,
) -> (String, String, Option<String>) {
    let kind = change.kind.as_deref().and_then(ResourceKind::parse);
    let arn = str_at(decision, &["resource", "arn"]);
    // The account's own settings (`bucket/*`) are the account's, not a bucket's.
    let account_wide = str_at(decision, &["resource", "name"]) == Some("*");
    let (resource_id, resource_type) = match arn.filter(|_| !account_wide) {
        Some(a) => (
            a.to_string(),
            kind.map_or("Other", |k| k.spec().asff_type).to_string(),
        ),
        None => (
            format!("AWS::::Account:{account}"),
            "AwsAccount".to_string(),
        ),
    };
    let partition = arn
        .and_then(|a| a.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    (resource_id, resource_type, partition)
}

/// Why an object of the evidence bucket is not for Security Hub (`None`: an evidence
/// record, to export); an error when it is no record of the guards.
fn skipped_schema(v: &Value) -> Result<Option<String>, AsffError> {
    match str_at(v, &["schema"]) {
        Some(crate::evidence::SCHEMA) => Ok(None),
        Some(s) if s.starts_with("crossguard.claim/") => {
            Ok(Some("a claim: the record follows".into()))
        }
        Some(s) if s.starts_with("crossguard.restore/") => Ok(Some(
            "a restore record: the guard's record of the restored policy follows".into(),
        )),
        _ => Err(AsffError::Missing("crossguard.evidence/1 schema")),
    }
}

/// Every finding of a decision read exactly: an outside party the exporter cannot name
/// would otherwise read as no party at all, and a whole door as one that lets nobody in.
fn check_findings(decision: &Value) -> Result<(), AsffError> {
    let findings = decision
        .get("findings")
        .and_then(Value::as_array)
        .ok_or(AsffError::Missing("decision.findings (a list)"))?;
    for f in findings {
        let scope = str_at(f, &["scope"]).unwrap_or("");
        if !matches!(
            scope,
            "internal" | "account" | "org" | "public" | "unresolvable" | "service"
        ) {
            return Err(AsffError::Unreadable(format!(
                "a finding of scope {scope:?}"
            )));
        }
        if matches!(scope, "account" | "public") && str_at(f, &["account"]).is_none()
            || scope == "org" && str_at(f, &["org"]).is_none()
        {
            return Err(AsffError::Unreadable(format!(
                "a finding of scope {scope} without its party"
            )));
        }
    }
    Ok(())
}

/// FNV-1a, 64 bits: a stable short name for a long ARN (std's hasher may change between
/// releases, and an id must not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `s` cut to `max` bytes on a character boundary, marked when cut.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max - 3;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests;
