//! Reports for auditors: every grant change — replayed from CloudTrail, recorded by the
//! guard Lambdas as evidence, or found by a scan of the live estate — as one compact row,
//! aggregated (verdicts, who trusts whom, actors, period). The CLI writes them out as a
//! text summary, CSV or one HTML page. A row is read from a decision's JSON form (an
//! evidence record's) or, for a decision made in this run, from the decision itself
//! ([`Change::of_decision`]); the CLI's tests hold the two equal, fingerprint included.

use crate::decision::{Decision, Verdict};
use crate::event::EventSummary;
use crate::finding::{Finding, Scope};
use crate::principal::is_account_id;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    /// As reports write it.
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
    /// Not approved: a violation.
    Unapproved,
    /// Approved by an entry or ownership.
    Approved,
    /// Reported, not a violation (e.g. a grant the allowlist cannot judge).
    Warning,
}

impl Standing {
    /// As reports write it.
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
    /// The principal as the policy names it.
    pub principal: String,
    /// Approved, unapproved or warning.
    pub standing: Standing,
    /// The allowlist entry that approved it.
    pub approved_by: Option<String>,
    /// The approving entry's ticket.
    pub ticket: Option<String>,
}

/// One grant change (or, for a scan, one resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where the row came from.
    pub origin: Origin,
    /// The file (or `scan`) it was read from; several when the same event was found in
    /// more than one place.
    pub sources: Vec<String>,
    /// The CloudTrail event id.
    pub event_id: Option<String>,
    /// When the change was made.
    pub time: Option<String>,
    /// The call.
    pub event_name: Option<String>,
    /// Who made it.
    pub actor: Option<String>,
    /// The account that owns the resource.
    pub account: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The resource kind (`bucket`, …).
    pub kind: Option<String>,
    /// The resource name.
    pub resource: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// `none`, `alert` or `remediate`: what the decision calls for.
    pub action: String,
    /// What the guard did (evidence records only): `alerted`, `remediated`, …
    pub outcome: Option<String>,
    /// Why (the decision's reason).
    pub reason: String,
    /// Outside parties only: grants within the owner's account are not listed.
    pub grantees: Vec<Grantee>,
    /// A digest of the decision (its JSON without where it was read): two copies of one
    /// delivery agree, two records that only share an event id do not.
    pub fingerprint: u64,
    /// Joined with the same event from the other origin.
    pub merged: bool,
}

fn string_at(v: &Value, key: &str) -> Option<String> {
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

/// A verdict as reports write it.
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
        let fingerprint = fingerprint(decision);
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
            event_id: string_at(event, "id"),
            time: string_at(event, "time"),
            event_name: string_at(event, "name"),
            actor: string_at(event, "actor"),
            account: string_at(resource, "account").or_else(|| string_at(event, "account")),
            region: string_at(resource, "region").or_else(|| string_at(event, "region")),
            kind: string_at(resource, "kind"),
            resource: string_at(resource, "name"),
            verdict: verdict_of(
                decision
                    .get("verdict")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            ),
            action: string_at(decision, "action").unwrap_or_else(|| "none".into()),
            outcome,
            reason: string_at(decision, "reason").unwrap_or_default(),
            grantees,
            fingerprint,
            merged: false,
        }
    }

    /// A row from a decision itself: what [`Change::from_decision`] reads from the
    /// decision's JSON (`fingerprint`: a digest of that JSON).
    pub fn of_decision(d: &Decision, fingerprint: u64, origin: Origin, source: &str) -> Change {
        let event = d.event.as_ref();
        let resource = d.resource.as_ref();
        let of_event = |f: fn(&EventSummary) -> &Option<String>| event.and_then(|e| f(e).clone());
        Change {
            origin,
            sources: vec![source.to_string()],
            event_id: of_event(|e| &e.id),
            time: of_event(|e| &e.time),
            event_name: of_event(|e| &e.name),
            actor: of_event(|e| &e.actor),
            account: resource
                .map(|r| r.account.clone())
                .or_else(|| of_event(|e| &e.account)),
            region: resource
                .and_then(|r| r.region.clone())
                .or_else(|| of_event(|e| &e.region)),
            kind: resource.map(|r| r.kind.as_str().to_string()),
            resource: resource.map(|r| r.name.clone()),
            verdict: d.verdict,
            action: d.action.as_str().to_string(),
            outcome: None,
            reason: d.reason.clone(),
            grantees: d.findings.iter().filter_map(grantee_of).collect(),
            fingerprint,
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

    /// The outside parties no entry approves.
    pub fn unapproved(&self) -> impl Iterator<Item = &Grantee> {
        self.grantees
            .iter()
            .filter(|g| g.standing == Standing::Unapproved)
    }
}

/// The decision's JSON, without the keys that say where it was read, hashed.
fn fingerprint(decision: &Value) -> u64 {
    let mut f = Fingerprint::default();
    match decision.as_object() {
        Some(o) => o.iter().for_each(|(k, v)| f.member(k, v)),
        None => hash_json(decision, &mut f.0),
    }
    f.finish()
}

/// A decision's fingerprint, a member at a time, from its JSON value or its JSON text.
#[derive(Default)]
pub struct Fingerprint(std::collections::hash_map::DefaultHasher);

impl Fingerprint {
    /// Where a decision was read is not part of it.
    fn counts(key: &str) -> bool {
        !matches!(key, "source" | "origin" | "outcome")
    }

    /// The member `key` with the value `v`.
    pub fn member(&mut self, key: &str, v: &Value) {
        if Fingerprint::counts(key) {
            std::hash::Hash::hash(key, &mut self.0);
            hash_json(v, &mut self.0);
        }
    }

    /// The member `key` whose value is the compact JSON `text` (as serde_json writes it:
    /// the same digest as [`Fingerprint::member`] of that value).
    pub fn member_text(&mut self, key: &str, text: &str) {
        if Fingerprint::counts(key) {
            std::hash::Hash::hash(key, &mut self.0);
            std::hash::Hash::hash(text, &mut self.0);
        }
    }

    /// The digest.
    pub fn finish(&self) -> u64 {
        std::hash::Hasher::finish(&self.0)
    }
}

/// Hash `v`'s compact JSON as `v.to_string().hash(h)` would, without the string: the
/// hasher reads its input as one stream however it is cut, and a `str` ends with 0xFF.
fn hash_json(v: &Value, h: &mut impl std::hash::Hasher) {
    struct Feed<'h, H>(&'h mut H);
    impl<H: std::hash::Hasher> std::io::Write for Feed<'_, H> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // A Value always encodes (its keys are strings): nothing to fail here.
    let _ = serde_json::to_writer(Feed(&mut *h), v);
    h.write_u8(0xff);
}

/// A finding that reaches outside the owner's account, as a grantee.
fn grantee(f: &Value) -> Option<Grantee> {
    let scope = f.get("scope").and_then(Value::as_str)?;
    if !matches!(scope, "account" | "org" | "public" | "unresolvable") {
        return None;
    }
    let party = string_at(f, "account")
        .or_else(|| string_at(f, "org"))
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
        principal: string_at(f, "principal").unwrap_or_default(),
        standing,
        approved_by: string_at(f, "approved_by"),
        ticket: string_at(f, "ticket"),
    })
}

/// [`grantee`] of a finding itself.
fn grantee_of(f: &Finding) -> Option<Grantee> {
    if !matches!(
        f.scope,
        Scope::Account | Scope::Org | Scope::Public | Scope::Unresolvable
    ) {
        return None;
    }
    let standing = if f.approved {
        Standing::Approved
    } else if f.warning {
        Standing::Warning
    } else {
        Standing::Unapproved
    };
    Some(Grantee {
        party: f
            .account
            .clone()
            .or_else(|| f.org.clone())
            .unwrap_or_else(|| "unresolvable".into()),
        principal: f.principal.clone(),
        standing,
        approved_by: f.approved_by.as_deref().map(String::from),
        ticket: f.ticket.as_deref().map(String::from),
    })
}

/// A file or document that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file (or listing) passed over.
    pub source: String,
    /// Why.
    pub reason: String,
}

/// What was read, besides the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Resources read by a scan.
    pub scanned: u64,
    /// Files read whole.
    pub files_read: u64,
    /// Files left unread: their archive path (`AWSLogs/ACCT/CloudTrail/REGION/Y/M/D/`)
    /// is outside the account or time filters.
    pub passed_over: u64,
    /// Folders of an archive in S3 never listed: everything below them is outside the
    /// account or time filters.
    pub folders_passed_over: u64,
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
    /// Every row, in the order added (merged by event).
    pub changes: Vec<Change>,
    /// What was read, and what was not.
    pub inputs: Inputs,
    by_event: HashMap<(String, String, String), Vec<usize>>,
}

/// What [`Report::add`] did with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A row not seen before.
    New,
    /// The same event from another origin: the guard's evidence replaces the replayed
    /// decision (it was made on the live policy and says what was done).
    Merged,
    /// A row already held from the same origin: dropped.
    Duplicate,
}

/// Counts per owner → outside party.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edge {
    /// Grants an entry approves.
    pub approved: u64,
    /// Grants no entry approves.
    pub unapproved: u64,
    /// Grants reported only (service principals).
    pub warning: u64,
}

impl Report {
    /// Add a row, merging it with one of the same event.
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

    /// The rows with this verdict.
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
                    .filter(|g| is_account_id(&g.party))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[allow(clippy::needless_pass_by_value)] // written with json! at each call
    fn decision(id: &str, verdict: &str, findings: Value) -> Value {
        json!({
            "verdict": verdict, "action": "alert", "reason": "r",
            "resource": {"kind": "bucket", "name": "b", "account": "222222222222"},
            "findings": findings,
            "event": {"id": id, "time": "2026-01-02T03:04:05Z", "name": "PutBucketPolicy",
                      "actor": "arn:aws:iam::222222222222:user/<alice>"}
        })
    }

    /// The fingerprint is an id in OCSF output: hashing the JSON as it is written must
    /// give what hashing its text as a string gave.
    #[test]
    fn a_fingerprint_hashes_the_json_text_as_a_string() {
        use std::hash::{Hash, Hasher};
        let long = "x".repeat(5000);
        for v in [
            json!(null),
            json!("é \" \\ \n \u{1}"),
            json!({"a": [1, -2, 3.5, true], "b": {"c": long}, "d": "→"}),
            decision("e-1", "violation", json!([finding("*", false)])),
        ] {
            let mut by_text = std::collections::hash_map::DefaultHasher::new();
            v.to_string().hash(&mut by_text);
            let mut streamed = std::collections::hash_map::DefaultHasher::new();
            hash_json(&v, &mut streamed);
            assert_eq!(streamed.finish(), by_text.finish(), "{v}");
        }
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
}
