//! `crossguard allowlist suggest`: the narrowest allowlist entries that would approve a
//! decision's unapproved grants — one resource, the granted actions, the ExternalId the
//! trust requires — for a person to review and add. Read from any JSON crossguard writes
//! about a decision: `check`/`event`/`scan` output (one decision per line), an evidence
//! record, an alert's body or the SNS notification carrying it.

use crate::date::Date;
use crate::restore::ResourceIn;
use serde::Deserialize;
use serde_json::Value;
use std::fmt::Write as _;

/// Days from today to the `expires` placeholder: approvals end unless renewed.
pub const EXPIRES_IN_DAYS: i64 = 90;

/// Why no suggestion can be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SuggestError {
    /// No decision in the input.
    #[error("no crossguard decision found (expected check/event/scan JSON output, an evidence record, or an alert)")]
    NoDecision,
    /// A decision that cannot be read.
    #[error("decision {index}: {reason}")]
    Unreadable {
        /// Which decision (from 1).
        index: usize,
        /// Why.
        reason: String,
    },
    /// A decision that could not be checked: nothing it says can be approved.
    #[error("decision {index} is an error ({reason}): it names no grant to approve")]
    ErrorDecision {
        /// Which decision (from 1).
        index: usize,
        /// Its reason.
        reason: String,
    },
    /// The entries made did not read back as an allowlist (a bug: never printed).
    #[error("the suggested entries do not read as an allowlist: {0}")]
    Invalid(String),
}

/// The decisions in `text`: one per line of JSON output, or the one an evidence record,
/// an alert body or an SNS notification holds.
pub fn decisions_in(text: &str) -> Result<Vec<Value>, SuggestError> {
    let text = text.trim();
    if let Ok(checked) = crate::json::from_str(text) {
        return decisions_of(exact(checked, 1)?);
    }
    if let Some(i) = text.find(crate::alert::DECISION_MARK) {
        return decisions_in(&text[i + crate::alert::DECISION_MARK.len()..]);
    }
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let checked = crate::json::from_str(line).map_err(|e| SuggestError::Unreadable {
            index: n + 1,
            reason: format!("line {} is not JSON: {e}", n + 1),
        })?;
        out.extend(decisions_of(exact(checked, n + 1)?)?);
    }
    if out.is_empty() {
        return Err(SuggestError::NoDecision);
    }
    Ok(out)
}

/// The document, unless a duplicate key leaves what it says in doubt (which resource,
/// which findings: SPEC §1, never guessed at).
fn exact(checked: crate::json::Checked, index: usize) -> Result<Value, SuggestError> {
    match checked.duplicate_reason("") {
        Some(reason) => Err(SuggestError::Unreadable { index, reason }),
        None => Ok(checked.value),
    }
}

fn decisions_of(v: Value) -> Result<Vec<Value>, SuggestError> {
    match v {
        Value::Object(mut m) => {
            if m.get("Type").and_then(Value::as_str) == Some("Notification") {
                return match m.remove("Message") {
                    Some(Value::String(msg)) => decisions_in(&msg),
                    _ => Err(SuggestError::NoDecision),
                };
            }
            if m.contains_key("schema") {
                if let Some(d) = m.remove("decision") {
                    return decisions_of(d);
                }
            }
            if m.contains_key("verdict") {
                return Ok(vec![Value::Object(m)]);
            }
            Err(SuggestError::NoDecision)
        }
        Value::Array(list) => {
            let mut out = Vec::new();
            for v in list {
                out.extend(decisions_of(v)?);
            }
            Ok(out)
        }
        _ => Err(SuggestError::NoDecision),
    }
}

#[derive(Deserialize)]
struct DecisionIn {
    verdict: String,
    #[serde(default)]
    reason: String,
    resource: Option<ResourceIn>,
    #[serde(default)]
    findings: Vec<FindingIn>,
}

#[derive(Deserialize)]
struct FindingIn {
    #[serde(default)]
    sid: Option<String>,
    principal: String,
    account: Option<String>,
    #[serde(default)]
    org: Option<String>,
    scope: String,
    actions: Vec<String>,
    #[serde(default)]
    not_actions: Option<Vec<String>>,
    approved: bool,
    warning: bool,
    /// Absent in output written before the field existed: unknown, not false.
    #[serde(default)]
    requires_external_id: Option<bool>,
}

/// Which allowlist table an entry goes in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Table {
    /// `[[pairing]]` for one outside account.
    Pairing {
        /// The account let in.
        trusted: String,
        /// The trust requires `sts:ExternalId`, so the pairing can demand it.
        external_id: bool,
    },
    /// `[[org]]` for an organization.
    Org {
        /// The organization's id.
        id: String,
    },
    /// `[[public]]`.
    Public,
}

/// One suggested entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its table and whom it lets in.
    pub table: Table,
    /// The resource's owner.
    pub owner: String,
    /// The one resource (`KIND/NAME`).
    pub resource: String,
    /// Every action the grants allow (`*` for a `NotAction` grant).
    pub actions: Vec<String>,
    /// The principals it approves, for the comment above it.
    pub principals: Vec<String>,
    /// A grant is `NotAction`: nearly every action, so `*` is the narrowest cover.
    pub not_action: bool,
}

/// The suggestion: entries, and the grants no entry can approve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The entries.
    pub entries: Vec<Entry>,
    /// Grants no entry can approve, with why.
    pub unapprovable: Vec<String>,
    /// The `expires` placeholder.
    pub expires: Date,
}

/// The entries that approve every unapproved grant of `decisions`.
pub fn suggest(decisions: &[Value], today: Date) -> Result<Suggestion, SuggestError> {
    let mut s = Suggestion {
        entries: Vec::new(),
        unapprovable: Vec::new(),
        expires: Date::from_days(today.days() + EXPIRES_IN_DAYS),
    };
    for (i, v) in decisions.iter().enumerate() {
        let index = i + 1;
        let d: DecisionIn =
            serde_json::from_value(v.clone()).map_err(|e| SuggestError::Unreadable {
                index,
                reason: e.to_string(),
            })?;
        if d.verdict == "error" {
            return Err(SuggestError::ErrorDecision {
                index,
                reason: d.reason,
            });
        }
        let Some(r) = d.resource else { continue };
        let resource = r
            .resource()
            .map_err(|reason| SuggestError::Unreadable { index, reason })?;
        let spec = resource.spec().to_string();
        let exact = !spec.contains(['*', '?']);
        for f in d.findings.iter().filter(|f| !f.approved && !f.warning) {
            let table = match table_of(f, &resource) {
                Ok(table) => table,
                Err(why) => {
                    s.unapprovable.push(format!(
                        "{} in {spec}: {why}",
                        crate::render::escape_controls(&f.principal)
                    ));
                    continue;
                }
            };
            if !exact {
                s.unapprovable.push(format!(
                    "{} in {}: the name holds a wildcard character, so an entry for it would approve other resources too",
                    crate::render::escape_controls(&f.principal),
                    crate::render::escape_controls(&spec)
                ));
                continue;
            }
            // Comments hold policy text: a newline in it must not start a TOML line.
            let principal = crate::render::escape_controls(&f.principal);
            let shown = match &f.sid {
                Some(sid) => format!("{principal} (statement {sid:?})"),
                None => principal.into_owned(),
            };
            let not_action = f.not_actions.is_some();
            let actions: Vec<String> = if not_action {
                vec!["*".into()]
            } else {
                f.actions.clone()
            };
            s.add(Entry {
                table,
                owner: resource.account.clone(),
                resource: spec.clone(),
                actions,
                principals: vec![shown],
                not_action,
            });
        }
    }
    // What is printed, exactly, must read as allowlist entries.
    let check = format!("version = 1\nmode = \"alert\"\n{}", s.to_toml());
    crate::allowlist::Allowlist::from_toml(&check, "suggestion")
        .map_err(|e| SuggestError::Invalid(e.to_string()))?;
    Ok(s)
}

/// The table an entry approving finding `f` goes in, or why no entry approves it.
fn table_of(f: &FindingIn, resource: &crate::resource::Resource) -> Result<Table, &'static str> {
    match (f.scope.as_str(), &f.account, &f.org) {
        ("account", Some(a), _) if crate::principal::is_account_id(a) => Ok(Table::Pairing {
            trusted: a.clone(),
            // Unknown: demand it (narrower; a trust without one stays refused).
            external_id: f.requires_external_id.unwrap_or(true) && resource.kind.spec().external_id,
        }),
        ("org", _, Some(id)) => Ok(Table::Org { id: id.clone() }),
        // Everyone via an identity provider: any subject of a shared provider (SPEC §1),
        // which no entry approves; the trust must name who may.
        ("public", _, _) if f.principal.starts_with("Federated:") => Err(
            "any subject of a shared identity provider can assume the role, which no entry approves; add a subject condition naming who may",
        ),
        ("public", _, _) => Ok(Table::Public),
        _ => Err(
            "whose account it is cannot be told, so no entry approves it; change the policy instead",
        ),
    }
}

fn same_party(a: &Table, b: &Table) -> bool {
    match (a, b) {
        (Table::Pairing { trusted: x, .. }, Table::Pairing { trusted: y, .. }) => x == y,
        (Table::Org { id: x }, Table::Org { id: y }) => x == y,
        (Table::Public, Table::Public) => true,
        _ => false,
    }
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", q.join(", "))
}

impl Suggestion {
    /// Add an entry, merged into one for the same owner, resource and party.
    fn add(&mut self, new: Entry) {
        let same = self.entries.iter_mut().find(|e| {
            e.owner == new.owner && e.resource == new.resource && same_party(&e.table, &new.table)
        });
        let Some(e) = same else {
            self.entries.push(new);
            return;
        };
        // A pairing demands an ExternalId only if every grant it approves has one.
        if let (
            Table::Pairing { external_id, .. },
            Table::Pairing {
                external_id: this, ..
            },
        ) = (&mut e.table, &new.table)
        {
            *external_id &= *this;
        }
        for a in new.actions {
            if !e.actions.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
                e.actions.push(a);
            }
        }
        for p in new.principals {
            if !e.principals.contains(&p) {
                e.principals.push(p);
            }
        }
        e.not_action |= new.not_action;
    }
}

impl Suggestion {
    /// The entries as TOML, each headed by a comment naming what it approves.
    pub fn entries_toml(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            let _ = writeln!(out);
            for p in &e.principals {
                let _ = writeln!(out, "# approves {p}");
            }
            if e.not_action {
                let _ = writeln!(
                    out,
                    "# the statement uses NotAction: it grants nearly every action, so only \"*\" covers it"
                );
            }
            let table = match &e.table {
                Table::Pairing { .. } => "pairing",
                Table::Org { .. } => "org",
                Table::Public => "public",
            };
            let _ = writeln!(out, "[[{table}]]");
            match &e.table {
                Table::Pairing { trusted, .. } => {
                    let _ = writeln!(out, "owner = {}", quoted(&e.owner));
                    let _ = writeln!(out, "trusted = {}", quoted(trusted));
                }
                Table::Org { id } => {
                    let _ = writeln!(out, "id = {}", quoted(id));
                    let _ = writeln!(out, "owners = {}", list(std::slice::from_ref(&e.owner)));
                }
                Table::Public => {
                    let _ = writeln!(out, "owner = {}", quoted(&e.owner));
                }
            }
            let _ = writeln!(
                out,
                "resources = {}",
                list(std::slice::from_ref(&e.resource))
            );
            let _ = writeln!(out, "actions = {}", list(&e.actions));
            if let Table::Pairing {
                external_id: true, ..
            } = e.table
            {
                let _ = writeln!(out, "require_external_id = true");
            }
            let _ = writeln!(
                out,
                "expires = {}  # placeholder: the day this approval ends",
                self.expires
            );
            let _ = writeln!(
                out,
                "# ticket = \"…\"  # the change ticket that approved it"
            );
        }
        out
    }

    /// The whole suggestion as printed: the entries, and a comment per grant no entry
    /// can approve.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        if self.entries.is_empty() && self.unapprovable.is_empty() {
            out.push_str("# nothing to approve: every grant is approved already\n");
        } else if !self.entries.is_empty() {
            let _ = writeln!(
                out,
                "# crossguard allowlist suggest: {} entr{} to review, then add to the allowlist",
                self.entries.len(),
                if self.entries.len() == 1 { "y" } else { "ies" }
            );
        }
        out.push_str(&self.entries_toml());
        for u in &self.unapprovable {
            let _ = writeln!(out, "\n# not approvable: {u}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowlist::Allowlist;
    use crate::policy::PolicyDocument;
    use crate::resource::{Resource, ResourceKind};
    use crate::{decide, Options, Verdict};

    fn today() -> Date {
        Date::new(2026, 12, 2).unwrap()
    }

    fn decided(kind: ResourceKind, name: &str, allowlist: &str, policy: &str) -> Value {
        let al = Allowlist::from_toml(allowlist, "a.toml").unwrap();
        let r = Resource::new(kind, name, "222222222222", None).unwrap();
        let doc = PolicyDocument::parse(policy).unwrap();
        let opts = Options {
            today: today(),
            mode: None,
        };
        serde_json::to_value(decide(&al, &r, Some(&doc), opts)).unwrap()
    }

    const AL: &str = "version = 1\nmode = \"remediate\"\n";

    /// The suggestion, added to the allowlist, makes the same policy compliant; and it
    /// is no wider than the grants (another account, action or resource stays refused).
    fn approves(kind: ResourceKind, name: &str, policy: &str) -> String {
        let d = decided(kind, name, AL, policy);
        assert_eq!(d["verdict"], "violation", "{d}");
        let s = suggest(&[d], today()).unwrap();
        assert!(s.unapprovable.is_empty(), "{s:?}");
        let toml = s.to_toml();
        let widened = format!("{AL}{toml}");
        let after = decided(kind, name, &widened, policy);
        assert_eq!(after["verdict"], "compliant", "{toml}\n{after}");
        toml
    }

    #[test]
    fn a_bucket_grant_gets_a_pairing_for_its_actions_and_bucket_only() {
        let policy = r#"{"Statement":[{"Sid":"Share","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}"#;
        let toml = approves(ResourceKind::Bucket, "data", policy);
        assert!(toml.contains("trusted = \"111111111111\""), "{toml}");
        assert!(toml.contains("resources = [\"bucket/data\"]"), "{toml}");
        assert!(
            toml.contains("actions = [\"s3:GetObject\", \"s3:ListBucket\"]"),
            "{toml}"
        );
        assert!(toml.contains("expires = 2027-03-02"), "{toml}");
        // Not wider: the same entries leave a broader grant, and another bucket, refused.
        let widened = format!("{AL}{toml}");
        let wider = policy.replace("\"s3:ListBucket\"", "\"s3:*\"");
        assert_eq!(
            decided(ResourceKind::Bucket, "data", &widened, &wider)["verdict"],
            "violation"
        );
        assert_eq!(
            decided(ResourceKind::Bucket, "other", &widened, policy)["verdict"],
            "violation"
        );
    }

    #[test]
    fn a_trust_with_an_external_id_gets_a_pairing_that_demands_it() {
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}"#;
        let toml = approves(ResourceKind::Role, "Deploy", policy);
        assert!(toml.contains("require_external_id = true"), "{toml}");
        let without = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}"#;
        let toml = approves(ResourceKind::Role, "Deploy", without);
        assert!(!toml.contains("require_external_id"), "{toml}");
    }

    #[test]
    fn public_org_and_not_action_grants() {
        let public = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#;
        assert!(approves(ResourceKind::Bucket, "www", public).contains("[[public]]"));
        let org = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abcdef1234"}}}]}"#;
        let toml = approves(ResourceKind::Bucket, "shared", org);
        assert!(
            toml.contains("[[org]]") && toml.contains("o-abcdef1234"),
            "{toml}"
        );
        let not_action = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"NotAction":"s3:DeleteBucket","Resource":"*"}]}"#;
        let toml = approves(ResourceKind::Bucket, "data", not_action);
        assert!(
            toml.contains("actions = [\"*\"]") && toml.contains("NotAction"),
            "{toml}"
        );
    }

    #[test]
    fn several_grants_of_one_account_make_one_entry() {
        let policy = r#"{"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/a"},"Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/b"},"Action":"s3:PutObject","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":"s3:GetObject","Resource":"*"}]}"#;
        let toml = approves(ResourceKind::Bucket, "data", policy);
        assert_eq!(toml.matches("[[pairing]]").count(), 2, "{toml}");
        assert!(toml.contains("actions = [\"s3:GetObject\", \"s3:PutObject\"]"));
    }

    #[test]
    fn policy_text_cannot_add_a_table() {
        let d = decided(
            ResourceKind::Bucket,
            "data",
            AL,
            r#"{"Statement":[{"Sid":"x\n[[public]]","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/x\n[[public]]\nowner=\"222222222222\"\nresources=[\"bucket/data\"]"},"Action":"s3:GetObject","Resource":"*"}]}"#,
        );
        let toml = suggest(&[d], today()).unwrap().to_toml();
        assert_eq!(toml.matches("[[public]]").count(), 2, "{toml}");
        assert!(!toml.lines().any(|l| l.starts_with("[[public]]")), "{toml}");
        assert!(!toml.lines().any(|l| l.starts_with("owner=")), "{toml}");
    }

    #[test]
    fn inputs_in_every_form() {
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"*"}]}"#;
        let d = decided(ResourceKind::Bucket, "data", AL, policy);
        let line = serde_json::to_string(&d).unwrap();
        let record =
            serde_json::json!({"schema": "crossguard.evidence/1", "decision": d}).to_string();
        let alert = format!(
            "Who: someone\n\n{}\n{}\n",
            crate::alert::DECISION_MARK,
            serde_json::to_string_pretty(&d).unwrap()
        );
        let sns = serde_json::json!({"Type": "Notification", "Message": alert}).to_string();
        let lines = format!("{line}\n{line}\n");
        for text in [&line, &record, &alert, &sns] {
            assert_eq!(decisions_in(text).unwrap(), vec![d.clone()], "{text}");
        }
        assert_eq!(decisions_in(&lines).unwrap().len(), 2);
        assert_eq!(decisions_in("{}"), Err(SuggestError::NoDecision));
        // A duplicate key (which resource? which findings?) is not guessed at, in any form.
        let dup = line.replacen('{', "{\"resource\":null,", 1);
        let dup_record = record.replacen('{', "{\"schema\":\"x\",", 1);
        let dup_sns = serde_json::json!({"Type": "Notification", "Message": format!("{}\n{dup}", crate::alert::DECISION_MARK)}).to_string();
        for text in [&dup, &format!("{line}\n{dup}\n"), &dup_record, &dup_sns] {
            assert!(
                matches!(decisions_in(text), Err(SuggestError::Unreadable { ref reason, .. }) if reason.contains("duplicate")),
                "{text}: {:?}",
                decisions_in(text)
            );
        }
        assert!(decisions_in("not json").is_err());
    }

    #[test]
    fn unresolvable_and_error_decisions_are_said_not_guessed() {
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"AIDAJQABLZS4A3QDU576Q"},"Action":"s3:GetObject","Resource":"*"}]}"#;
        let d = decided(ResourceKind::Bucket, "data", AL, policy);
        let s = suggest(&[d], today()).unwrap();
        assert!(s.entries.is_empty());
        assert_eq!(s.unapprovable.len(), 1, "{s:?}");
        assert!(s
            .to_toml()
            .contains("# not approvable: AIDAJQABLZS4A3QDU576Q"));
        let err = serde_json::json!({"verdict": "error", "reason": "bad", "resource": null, "findings": []});
        assert!(matches!(
            suggest(&[err], today()),
            Err(SuggestError::ErrorDecision { .. })
        ));
        let compliant = decided(ResourceKind::Bucket, "data", AL, r#"{"Statement":[]}"#);
        assert_eq!(verdict_of(&compliant), Verdict::Compliant);
        assert!(suggest(&[compliant], today())
            .unwrap()
            .to_toml()
            .contains("nothing to approve"));
    }

    /// A trust any subject of a shared identity provider may assume can never be
    /// approved (SPEC §1): no `[[public]]` entry is suggested for it (one would not
    /// approve it, and would approve a later `"AWS": "*"` trust of the role).
    #[test]
    fn an_identity_provider_open_to_all_is_not_approvable() {
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"Federated":"token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}]}"#;
        let d = decided(ResourceKind::Role, "Deploy", AL, policy);
        assert_eq!(d["verdict"], "violation", "{d}");
        let s = suggest(&[d], today()).unwrap();
        assert!(s.entries.is_empty(), "{}", s.to_toml());
        assert_eq!(s.unapprovable.len(), 1, "{s:?}");
        assert!(s
            .to_toml()
            .contains("# not approvable: Federated:token.actions"));
    }

    fn verdict_of(v: &Value) -> Verdict {
        match v["verdict"].as_str() {
            Some("compliant") => Verdict::Compliant,
            Some("violation") => Verdict::Violation,
            Some("ignored") => Verdict::Ignored,
            _ => Verdict::Error,
        }
    }
}
