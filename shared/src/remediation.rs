//! The remediation plan (SPEC §4): the smallest edit of the policy that removes exactly
//! the unapproved grants. A principal is cut from its statement's list; a statement goes
//! only when nothing is left in it; a wide principal narrowed by condition values to
//! several accounts loses only the unapproved values. The edit works on the document's
//! raw JSON, so every field crossguard does not interpret stays as it was.

use crate::analysis::{self, Via, Who};
use crate::condition;
use crate::finding::Finding;
use crate::kinds::{Edited, Emptied};
use crate::policy::{
    Effect, Given, Parts, Piece, PolicyDocument, PolicyError, Principals, Statement,
};
use crate::principal;
use crate::resource::Resource;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the plan does to the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// Replace the policy with `policy`.
    PutPolicy,
    /// Nothing is left: delete the bucket policy.
    DeletePolicy,
    /// Nothing is left of a role trust: replace it with `policy`, which denies everyone.
    DenyAllTrust,
    /// Revoke the KMS grant `grant_id` (a grant is one unit: all of it goes).
    RevokeGrant,
    /// Put the bucket ACL `acl` back: every grant but the unapproved ones.
    PutAcl,
    /// Turn Block Public Access back on: `public_access_block`, the settings to put.
    PutPublicAccessBlock,
    /// Undo a call that switched the guard off: `undo` says which call to make.
    Undo,
    /// No safe plan: alert only (`reason` says why).
    Refused,
}

/// A grant the plan takes away, with what it was, so that a person can restore it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Removed {
    /// Index of the statement in the policy before the plan.
    pub statement: usize,
    /// The statement's `Sid`.
    pub sid: Option<Arc<str>>,
    /// The principal as a person reads it.
    pub principal: String,
    /// The account it let in (`*` for public).
    pub account: Option<String>,
    /// The organization it let in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// What was cut.
    pub cut: Cut,
    /// The statement as it was before the plan (shared by the grants cut from it).
    pub original_statement: Arc<PolicyJson>,
}

/// What the plan cut to remove a grant. Serialized as the sentence a person reads:
/// `principal`, `principal; its statement, left empty, goes too`, `statement`, or
/// `condition value OP KEY = VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    /// The principal entry, from its statement's list.
    Principal,
    /// The principal entry, and the statement it left empty.
    PrincipalAndStatement,
    /// The whole statement (`NotPrincipal` in an Allow: nothing smaller can go).
    Statement,
    /// One value of a narrowing condition.
    ConditionValue {
        /// The condition operator.
        operator: String,
        /// The condition key.
        key: String,
        /// The value cut.
        value: String,
    },
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cut::Principal => f.write_str("principal"),
            Cut::PrincipalAndStatement => {
                f.write_str("principal; its statement, left empty, goes too")
            }
            Cut::Statement => f.write_str("statement"),
            Cut::ConditionValue {
                operator,
                key,
                value,
            } => write!(f, "condition value {operator} {key} = {value}"),
        }
    }
}

impl Serialize for Cut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The remediation plan (SPEC §4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// What it does.
    pub kind: PlanKind,
    /// The policy after the plan, for `put_policy` and `deny_all_trust`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyJson>,
    /// Every grant it removes, with its original statement.
    pub removed: Vec<Removed>,
    /// Why there is no plan, for `refused`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The KMS grant to revoke, for `revoke_grant`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// The bucket ACL after the plan, for `put_acl` (`GetBucketAcl`'s JSON form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl: Option<Value>,
    /// The Block Public Access settings to put, for `put_public_access_block`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<Value>,
    /// The call that undoes a tampering, for `undo` (`{"call": "EnableRule", "name": …}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undo: Option<Value>,
    /// What the plan wrote into `policy`, parsed: what its check reads.
    #[serde(skip)]
    written: Option<Written>,
}

/// A policy a plan leaves: compact JSON text when the plan was made on the policy's text
/// (the statements it did not change as they were given, white space left out; the ones
/// it wrote from their values), or the JSON value it was made as. Serialized as the JSON
/// object it is; `to_string` is the text to put.
#[derive(Debug, Clone)]
pub struct PolicyJson(Made);

#[derive(Debug, Clone)]
enum Made {
    /// With whether it is spelled as serde_json writes it (`policy::as_serde_json_writes`),
    /// found when it is first written: a guard that only puts the policy never asks.
    Text(String, std::sync::OnceLock<bool>),
    Value(Value),
}

/// Equal as the JSON values they are (member order and spelling aside), as plans were
/// compared when they held values: a guard compares the plan it decided with the plan of
/// the policy read again before writing, which may come back spelled otherwise.
impl PartialEq for PolicyJson {
    fn eq(&self, other: &PolicyJson) -> bool {
        match (&self.0, &other.0) {
            (Made::Text(a, _), Made::Text(b, _)) if a == b => true,
            (Made::Value(a), Made::Value(b)) => a == b,
            _ => matches!((self.to_value(), other.to_value()), (Ok(a), Ok(b)) if a == b),
        }
    }
}

impl Eq for PolicyJson {}

impl PolicyJson {
    pub(crate) fn text(text: String) -> PolicyJson {
        PolicyJson(Made::Text(text, std::sync::OnceLock::new()))
    }

    pub(crate) fn value(value: Value) -> PolicyJson {
        PolicyJson(Made::Value(value))
    }

    /// The policy's JSON text, compact.
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match &self.0 {
            Made::Text(t, _) => std::borrow::Cow::Borrowed(t),
            Made::Value(v) => std::borrow::Cow::Owned(v.to_string()),
        }
    }

    /// The policy as a JSON value.
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        match &self.0 {
            Made::Text(t, _) => {
                let mut de = serde_json::Deserializer::from_str(t);
                de.disable_recursion_limit();
                Value::deserialize(&mut de)
            }
            Made::Value(v) => Ok(v.clone()),
        }
    }
}

impl std::fmt::Display for PolicyJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Made::Text(t, _) => f.write_str(t),
            Made::Value(v) => std::fmt::Display::fmt(v, f),
        }
    }
}

impl Serialize for PolicyJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            // The engine's compact writer copies text spelled as it would write it.
            Made::Text(t, plain)
                if *plain.get_or_init(|| crate::policy::as_serde_json_writes(t)) =>
            {
                crate::json::write::verbatim(s, t, &Transcoded(t))
            }
            Made::Text(t, _) => Transcoded(t).serialize(s),
            Made::Value(v) => v.serialize(s),
        }
    }
}

/// JSON text written into an output as the object it is, in the output's own form
/// (compact or pretty), as its value would be. Without serde_json's nesting limit: its
/// value had none.
struct Transcoded<'a>(&'a str);

impl Serialize for Transcoded<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut de = serde_json::Deserializer::from_str(self.0);
        de.disable_recursion_limit();
        serde_transcode::transcode(&mut de, s)
    }
}

/// The statements a plan wrote into the policy it leaves, parsed, and the statements it
/// left as they were. A statement's grants depend only on itself and the policy's `Deny`s,
/// so while those stand untouched the check of the plan reads only what it wrote.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Written {
    /// The statements the plan changed or added, with their indices in its policy.
    pub(crate) statements: Vec<Statement>,
    /// Indices (before the plan) of the statements it kept unchanged, ascending.
    pub(crate) untouched: Vec<usize>,
}

impl Written {
    /// Did the plan keep statement `index` (before the plan) as it was?
    pub(crate) fn untouched(&self, index: usize) -> bool {
        self.untouched.binary_search(&index).is_ok()
    }
}

impl Removed {
    /// The grant `f` judged, cut as `cut` from its statement `original`.
    fn of(f: &Finding, cut: Cut, original: Arc<PolicyJson>) -> Removed {
        Removed {
            statement: f.statement,
            sid: f.sid.clone(),
            principal: f.principal.clone(),
            account: f.account.clone(),
            org: f.org.clone(),
            cut,
            original_statement: original,
        }
    }
}

/// Why no safe plan exists: the violation is alerted instead of fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The policy's JSON cannot be read back exactly.
    #[error("the policy cannot be read exactly: {0}")]
    Unreadable(PolicyError),
    /// A principal lets in approved and unapproved callers alike, and no condition value
    /// tells them apart.
    #[error("{principal} in statement {statement} lets in both approved and unapproved callers, and no condition value separates them")]
    Inseparable {
        /// The principal.
        principal: String,
        /// Its statement's index.
        statement: usize,
    },
    /// A finding names a statement the policy's JSON does not hold.
    #[error("statement {0} is not in the policy's JSON")]
    Missing(usize),
    /// A statement is not a JSON object.
    #[error("statement {0} is not an object")]
    NotObject(usize),
    /// The narrowing condition to cut is not there.
    #[error("the narrowing condition to cut is missing")]
    NoCondition,
    /// Cutting the unapproved values would leave a key with none, which widens.
    #[error("cutting every value of {operator} {key} would widen the statement")]
    WouldWiden {
        /// The condition operator.
        operator: String,
        /// The condition key.
        key: String,
    },
    /// No condition value names the unapproved caller.
    #[error("no condition value names the unapproved caller")]
    NoValueNamesCaller,
    /// The policy is written a statement at a time and the plan would change one.
    #[error("the plan would change statement {0}, and this policy can only lose whole statements (by Sid)")]
    WithinStatement(usize),
    /// The policy is written a statement at a time and the statement to drop has no Sid.
    #[error("statement {0} has no Sid, and this policy loses statements only by Sid")]
    NoSid(usize),
    /// The statement to drop shares its Sid with another statement.
    #[error(
        "statement {0} shares its Sid with another statement: removing it by Sid is ambiguous"
    )]
    SharedSid(usize),
    /// The planned policy would not be valid.
    #[error("planned policy is invalid: {0}")]
    Invalid(PolicyError),
    /// Verification: applied, the plan would leave an unapproved grant.
    #[error("the planned policy would still let in {principal} ({reason})")]
    StillLetsIn {
        /// The principal still let in.
        principal: String,
        /// Why it is not approved.
        reason: String,
    },
    /// Verification: applied, the plan would take approved access away.
    #[error("the planned policy would remove approved access of {0}")]
    RemovesApproved(String),
}

impl Plan {
    /// A refused plan: the violation is alerted, nothing is changed.
    pub fn refused(why: &PlanError) -> Plan {
        Plan::refused_because(why.to_string())
    }

    /// A refused plan for a reason of the door's own (not a policy edit's).
    pub fn refused_because(reason: String) -> Plan {
        Plan {
            kind: PlanKind::Refused,
            policy: None,
            removed: Vec::new(),
            reason: Some(reason),
            grant_id: None,
            acl: None,
            public_access_block: None,
            undo: None,
            written: None,
        }
    }

    /// The plan for a KMS grant (`doc`: its statements) with unapproved principals:
    /// revoke it whole when its grantee is unapproved; `removed` lists every unapproved
    /// principal with its statement. When only the retiring principal is unapproved,
    /// revoking would take the approved grantee's access: refused.
    pub fn for_grant(doc: &PolicyDocument, findings: &[Finding], grant_id: Option<String>) -> Plan {
        let refuse = Plan::refused_because;
        let raw = match doc.raw_statements() {
            Ok(raw) => raw,
            Err(e) => return refuse(PlanError::Unreadable(e).to_string()),
        };
        let grantee_unapproved = findings
            .iter()
            .any(|f| f.statement == 0 && f.is_violation());
        let Some(id) = grant_id.filter(|_| grantee_unapproved) else {
            return refuse(if grantee_unapproved {
                "the record carries no grantId to revoke".into()
            } else {
                "the grantee is approved: revoking the grant would take its access too (the retiring principal can only retire the grant)".into()
            });
        };
        // Every finding's statement is one of the document's: were one not, the grant
        // is not what was decided, and nothing is revoked.
        let removed: Option<Vec<Removed>> = findings
            .iter()
            .filter(|f| f.is_violation())
            .map(|f| {
                let original = raw.get(f.statement)?.clone();
                Some(Removed::of(
                    f,
                    Cut::Statement,
                    Arc::new(PolicyJson::value(original)),
                ))
            })
            .collect();
        let Some(removed) = removed else {
            return refuse("a finding names a statement the grant does not have".into());
        };
        Plan {
            kind: PlanKind::RevokeGrant,
            policy: None,
            removed,
            reason: None,
            grant_id: Some(id),
            acl: None,
            public_access_block: None,
            undo: None,
            written: None,
        }
    }

    /// The plan for a bucket ACL: put `acl` (every grant kept) back, taking `removed`.
    pub fn for_acl(acl: Value, removed: Vec<Removed>) -> Plan {
        Plan {
            kind: PlanKind::PutAcl,
            policy: None,
            removed,
            reason: None,
            grant_id: None,
            acl: Some(acl),
            public_access_block: None,
            undo: None,
            written: None,
        }
    }

    /// The plan that turns Block Public Access settings back on: `settings` to put.
    pub fn for_public_access_block(settings: Value) -> Plan {
        Plan {
            kind: PlanKind::PutPublicAccessBlock,
            policy: None,
            removed: Vec::new(),
            reason: None,
            grant_id: None,
            acl: None,
            public_access_block: Some(settings),
            undo: None,
            written: None,
        }
    }

    /// The plan that undoes a tampering with the guard: make the call `undo` names.
    pub fn for_undo(undo: Value) -> Plan {
        Plan {
            kind: PlanKind::Undo,
            policy: None,
            removed: Vec::new(),
            reason: None,
            grant_id: None,
            acl: None,
            public_access_block: None,
            undo: Some(undo),
            written: None,
        }
    }

    /// The policy the resource has once the plan is applied (`None`: no policy, or no
    /// plan), read from `policy`.
    pub fn resulting_document(&self) -> Option<Result<PolicyDocument, PolicyError>> {
        self.policy
            .as_ref()
            .map(|p| PolicyDocument::parse(&p.as_text()))
    }

    /// What the plan wrote, for its check (`None`: it writes no policy).
    pub(crate) fn written(&self) -> Option<&Written> {
        self.written.as_ref()
    }

    /// What the plan wrote, to be altered by tests of its check.
    #[cfg(test)]
    pub(crate) fn written_mut(&mut self) -> Option<&mut Written> {
        self.written.as_mut()
    }
}

/// A trust policy that lets nobody assume the role: what a trust left empty becomes.
pub fn deny_all_trust() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CrossguardDenyAll",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"]
        }]
    })
}

fn owner_root(resource: &Resource) -> String {
    format!(
        "arn:{}:iam::{}:root",
        resource.partition(),
        resource.account
    )
}

/// A policy written a statement at a time (Lambda, EventBridge) can lose whole
/// statements, each named by its `Sid`, and nothing else: a cut inside a statement could
/// only be written by removing the statement and adding a narrower one, which these APIs
/// cannot express exactly.
fn statementwise(
    doc: &PolicyDocument,
    cuts: &BTreeMap<usize, StatementCut>,
) -> Result<(), PlanError> {
    let sid_of = |i: usize| {
        doc.statements
            .get(i)
            .and_then(|st| st.sid.as_deref())
            .filter(|sid| !sid.is_empty())
    };
    for (&s, cut) in cuts {
        if !cut.dropped {
            return Err(PlanError::WithinStatement(s));
        }
        let sid = sid_of(s).ok_or(PlanError::NoSid(s))?;
        // Removing by a Sid another statement shares would take that one too, or leave
        // this one: the services refuse duplicate ids, a policy that has them is not
        // what it seems.
        if (0..doc.statements.len()).any(|i| i != s && sid_of(i) == Some(sid)) {
            return Err(PlanError::SharedSid(s));
        }
    }
    Ok(())
}

/// The policy SNS gives a new topic: the owner account alone, for the topic's
/// administration and publishing.
pub fn default_topic_policy(resource: &Resource) -> Value {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes",
                "SNS:SetTopicAttributes",
                "SNS:AddPermission",
                "SNS:RemovePermission",
                "SNS:DeleteTopic",
                "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic",
                "SNS:Publish"
            ],
            "Resource": resource.arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": resource.account}}
        }]
    })
}

/// The default key policy statement that keeps a key administrable by its owner.
fn owner_admin_statement(resource: &Resource) -> Value {
    json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": owner_root(resource)},
        "Action": "kms:*",
        "Resource": "*"
    })
}

/// What a condition value must name for cutting it to remove the grant (`None` for the
/// public: no value names everyone).
fn target_of(who: &Who) -> Option<Who> {
    match who {
        Who::Public => None,
        other => Some(other.clone()),
    }
}

/// What the plan does to one statement.
#[derive(Default)]
struct StatementCut {
    /// The statement goes altogether.
    dropped: bool,
    /// Principal entries cut from it (indices in parse order).
    entries: BTreeSet<usize>,
    removed: Vec<Removed>,
}

/// Plan the removal of every violating finding. Errors say why no safe plan exists.
pub fn plan(
    doc: &PolicyDocument,
    resource: &Resource,
    findings: &[Finding],
) -> Result<Plan, PlanError> {
    // The document taken apart: only the statements cut are read as values; every other
    // part is written back as the text it was.
    let by_statement: BTreeMap<usize, Vec<&Finding>> =
        findings.iter().fold(BTreeMap::new(), |mut m, f| {
            m.entry(f.statement).or_insert_with(Vec::new).push(f);
            m
        });
    let mut parts = doc.parts().map_err(PlanError::Unreadable)?;
    let mut raw = std::mem::take(&mut parts.statements);
    let mut cuts: BTreeMap<usize, StatementCut> = BTreeMap::new();
    for (&s, fs) in &by_statement {
        if fs.iter().any(|f| f.is_violation()) {
            // Both readings hold the same statements; were one missing, nothing is cut.
            let (Some(typed), Some(piece)) = (doc.statements.get(s), raw.get_mut(s)) else {
                return Err(PlanError::Missing(s));
            };
            cuts.insert(s, cut_one(s, fs, typed, piece, resource)?);
        }
    }
    // Each statement left: as it was (with its index before the plan), or as written.
    let mut kept: Vec<Kept> = Vec::with_capacity(raw.len() + 1);
    for (i, piece) in raw.into_iter().enumerate() {
        match (cuts.get(&i), piece) {
            (Some(c), _) if c.dropped => {}
            (Some(_), Piece::Value(v)) => kept.push(Kept::Written(v)),
            (Some(_), Piece::Owned(t)) => kept.push(Kept::Spliced(i, t)),
            (None, piece) => kept.push(Kept::Untouched(i, piece)),
            // A cut statement was written above, as text or as a value.
            (Some(_), Piece::Text(_)) => return Err(PlanError::NotObject(i)),
        }
    }
    let emptied = resource.kind.spec().emptied;
    if emptied == Emptied::OwnerAdmin && !owner_kept(resource, findings, &cuts, &kept)? {
        kept.insert(0, Kept::Written(owner_admin_statement(resource)));
    }
    if resource.kind.spec().edited == Edited::BySid {
        statementwise(doc, &cuts)?;
    }
    let mut removed = Vec::with_capacity(cuts.values().map(|c| c.removed.len()).sum());
    for c in cuts.into_values() {
        removed.extend(c.removed);
    }
    let any_allow = kept.iter().any(|k| match k {
        // Cutting principals from a statement's text leaves its `Effect` as it was.
        Kept::Untouched(i, _) | Kept::Spliced(i, _) => doc
            .statements
            .get(*i)
            .is_some_and(|s| s.effect == Effect::Allow),
        Kept::Written(v) => v.get("Effect").and_then(Value::as_str) == Some("Allow"),
    });
    let (kind, policy) = match emptied {
        Emptied::Delete if kept.is_empty() => (PlanKind::DeletePolicy, None),
        Emptied::TopicDefault if kept.is_empty() => (
            PlanKind::PutPolicy,
            Some(whole(default_topic_policy(resource))?),
        ),
        Emptied::DenyAll if !any_allow => (PlanKind::DenyAllTrust, Some(whole(deny_all_trust())?)),
        // A document whose `Statement` was one object keeps that form.
        _ => (PlanKind::PutPolicy, Some(edited(parts, kept)?)),
    };
    let (policy, written) = policy.unzip();
    Ok(Plan {
        kind,
        policy,
        removed,
        reason: None,
        grant_id: None,
        acl: None,
        public_access_block: None,
        undo: None,
        written,
    })
}

/// A statement a plan leaves: as it was, with its index before the plan, or as the plan
/// wrote it (as a value, or as text with principals cut: with its index before).
enum Kept<'a> {
    Untouched(usize, Piece<'a>),
    Written(Value),
    Spliced(usize, String),
}

impl Kept<'_> {
    fn value(&self) -> Result<Value, PolicyError> {
        match self {
            Kept::Untouched(_, p) => p.to_value(),
            Kept::Written(v) => Ok(v.clone()),
            Kept::Spliced(_, t) => Piece::Text(t).to_value(),
        }
    }
}

/// A whole new policy, and all of it as written.
fn whole(policy: Value) -> Result<(PolicyJson, Written), PlanError> {
    let doc = PolicyDocument::from_value(policy).map_err(PlanError::Invalid)?;
    let json = doc.to_json().map_err(PlanError::Invalid)?;
    let written = Written {
        statements: doc.statements,
        untouched: Vec::new(),
    };
    Ok((PolicyJson::value(json), written))
}

/// The document of `parts` with the statements `kept`, and what the plan wrote into it,
/// parsed.
fn edited(parts: Parts<'_>, kept: Vec<Kept<'_>>) -> Result<(PolicyJson, Written), PlanError> {
    let untouched = kept
        .iter()
        .filter_map(|k| match k {
            Kept::Untouched(i, _) => Some(*i),
            Kept::Written(_) | Kept::Spliced(..) => None,
        })
        .collect();
    let statements =
        PolicyDocument::parse_statements(kept.iter().enumerate().filter_map(|(i, k)| match k {
            Kept::Written(v) => Some((i, Given::Value(v))),
            Kept::Spliced(_, t) => Some((i, Given::Text(t))),
            Kept::Untouched(..) => None,
        }))
        .map_err(PlanError::Invalid)?;
    let pieces: Vec<Piece<'_>> = kept
        .into_iter()
        .map(|k| match k {
            Kept::Untouched(_, p) => p,
            Kept::Written(v) => Piece::Value(v),
            Kept::Spliced(_, t) => Piece::Owned(t),
        })
        .collect();
    let written = Written {
        statements,
        untouched,
    };
    let single = parts.single;
    let policy = if parts.values {
        PolicyJson::value(
            parts
                .into_value(pieces, single)
                .map_err(PlanError::Invalid)?,
        )
    } else {
        PolicyJson::text(
            parts
                .write_with(pieces.iter(), single)
                .map_err(PlanError::Invalid)?,
        )
    };
    Ok((policy, written))
}

/// Entries cut whole, each violation with its cut, callers whose condition values go.
type ToCut<'f> = (BTreeSet<usize>, Vec<(&'f Finding, Cut)>, Vec<Who>);

/// Of a listed statement's `n` principal entries, with its findings `fs`: the entries
/// that go whole (every grant they make is a violation), each violation noted with its
/// cut, and the callers whose condition values go (an entry that also lets in approved
/// callers).
fn what_to_cut<'f>(s: usize, fs: &[&'f Finding], n: usize) -> Result<ToCut<'f>, PlanError> {
    let (mut entries, mut notes, mut targets) = (BTreeSet::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let of_entry = || fs.iter().copied().filter(move |f| f.grant.entry == Some(i));
        if !of_entry().any(Finding::is_violation) {
            continue;
        }
        if of_entry().all(Finding::is_violation) {
            entries.insert(i);
            notes.extend(of_entry().map(|f| (f, Cut::Principal)));
            continue;
        }
        // The entry lets in approved and unapproved callers: only the condition values
        // naming the unapproved ones can go.
        for f in of_entry().filter(|f| f.is_violation()) {
            match (f.grant.via, target_of(&f.grant.who)) {
                (Via::Condition, Some(t)) => {
                    if !targets.contains(&t) {
                        targets.push(t);
                    }
                }
                _ => {
                    return Err(PlanError::Inseparable {
                        principal: f.principal.clone(),
                        statement: s,
                    })
                }
            }
        }
    }
    Ok((entries, notes, targets))
}

/// What the plan does to statement `s` (its findings `fs`): cut from its text where that
/// is all it takes, else from its value.
fn cut_one(
    s: usize,
    fs: &[&Finding],
    typed: &Statement,
    piece: &mut Piece<'_>,
    resource: &Resource,
) -> Result<StatementCut, PlanError> {
    let Principals::Listed(entries) = &typed.principals else {
        // NotPrincipal in an Allow: everyone but a few. Nothing smaller than the
        // statement can be cut. It goes whole: its JSON moves into the record.
        let original = match piece {
            Piece::Text(t) => compact_record(t),
            other => Arc::new(PolicyJson::value(
                other.value_mut().map_err(PlanError::Unreadable)?.take(),
            )),
        };
        return Ok(StatementCut {
            dropped: true,
            entries: BTreeSet::new(),
            removed: fs
                .iter()
                .filter(|f| f.is_violation())
                .map(|f| Removed::of(f, Cut::Statement, original.clone()))
                .collect(),
        });
    };
    // What is cut, noted before the statement as it was is kept.
    let to_cut = what_to_cut(s, fs, entries.len())?;
    // A key policy's `*` cut: its owner's root goes in its place.
    let add_owner = resource.kind.spec().emptied == Emptied::OwnerAdmin
        && to_cut
            .0
            .iter()
            .any(|&i| principal::resolve(entries[i].kind, &entries[i].value) == Who::Public);
    if let Some(cut) = cut_text(piece, entries.len(), &to_cut, add_owner) {
        return Ok(cut);
    }
    let value = piece.value_mut().map_err(PlanError::Unreadable)?;
    cut_statement(
        s,
        fs,
        to_cut,
        add_owner.then(|| owner_root(resource)),
        value,
    )
}

/// A statement's JSON text as the record of what a plan cut: compact.
fn compact_record(text: &str) -> Arc<PolicyJson> {
    let mut compact = String::with_capacity(text.len());
    crate::policy::compact_into(&mut compact, text);
    Arc::new(PolicyJson::text(compact))
}

/// Cut the principal entries `to_cut` names from a statement's text (of `n` entries),
/// when that is all it takes. `None` when it is not text, or the cut needs its value
/// (condition values to cut, a key's owner to put in place of a cut `*`, a `Principal`
/// of another shape): [`cut_statement`] then cuts it. Both cut alike: the property
/// tests hold plans of text and of values equal.
fn cut_text(
    piece: &mut Piece<'_>,
    n: usize,
    to_cut: &ToCut<'_>,
    add_owner: bool,
) -> Option<StatementCut> {
    let Piece::Text(text) = *piece else {
        return None;
    };
    let (entries, notes, targets) = to_cut;
    if !targets.is_empty() || entries.is_empty() || add_owner {
        return None;
    }
    let left = crate::policy::principal_cut(text, entries, n)?;
    let original = compact_record(text);
    let dropped = left.is_none();
    if let Some(written) = left {
        *piece = Piece::Owned(written);
    }
    let removed = notes
        .iter()
        .map(|(f, cut)| {
            let cut = match cut {
                Cut::Principal if dropped => Cut::PrincipalAndStatement,
                other => other.clone(),
            };
            Removed::of(f, cut, original.clone())
        })
        .collect();
    Some(StatementCut {
        dropped,
        entries: entries.clone(),
        removed,
    })
}

/// Cut the violating grants of statement `s` (its findings `fs`, what goes `to_cut`)
/// from its raw JSON; `add`: the owner's root, in place of a cut `*`.
fn cut_statement(
    s: usize,
    fs: &[&Finding],
    to_cut: ToCut<'_>,
    add: Option<String>,
    raw: &mut Value,
) -> Result<StatementCut, PlanError> {
    let mut out = StatementCut::default();
    let (cut_entries, mut notes, targets) = to_cut;
    out.entries = cut_entries;
    let Value::Object(stmt) = raw else {
        return Err(PlanError::NotObject(s));
    };
    // The statement as it was, copied before the first change to it; a statement that
    // goes whole, unchanged until then, is moved instead.
    let mut before: Option<Arc<PolicyJson>> = None;
    let copy = |stmt: &Map<String, Value>| Arc::new(PolicyJson::value(Value::Object(stmt.clone())));
    if !targets.is_empty() {
        before = Some(copy(stmt));
        for (t, what) in cut_condition_values(stmt, &targets)? {
            for f in fs
                .iter()
                .filter(|f| f.is_violation() && target_of(&f.grant.who).as_ref() == Some(&t))
            {
                notes.push((f, what.clone()));
            }
        }
    }
    if !out.entries.is_empty() {
        match principal_without(stmt, &out.entries, add) {
            None => {}
            Some(left) if left.is_empty() => {
                out.dropped = true;
                for (_, cut) in notes.iter_mut().filter(|(_, c)| *c == Cut::Principal) {
                    *cut = Cut::PrincipalAndStatement;
                }
            }
            Some(left) => {
                before.get_or_insert_with(|| copy(stmt));
                stmt.insert("Principal".into(), Value::Object(left));
            }
        }
    }
    let original = match before {
        Some(b) => b,
        None if out.dropped => Arc::new(PolicyJson::value(Value::Object(std::mem::take(stmt)))),
        None => copy(stmt),
    };
    out.removed = notes
        .into_iter()
        .map(|(f, cut)| Removed::of(f, cut, original.clone()))
        .collect();
    Ok(out)
}

/// Does the key's owner keep access once the plan is applied? Owner grants are approved,
/// so never cut: one still standing settles it. Else (a dropped statement, a cut `*`)
/// look at what is left.
fn owner_kept(
    resource: &Resource,
    findings: &[Finding],
    cuts: &BTreeMap<usize, StatementCut>,
    kept: &[Kept<'_>],
) -> Result<bool, PlanError> {
    let owner = Who::Account(resource.account.clone());
    let standing = findings.iter().any(|f| {
        let cut = cuts.get(&f.statement);
        f.grant.who == owner
            && !cut.is_some_and(|c| c.dropped)
            && !f
                .grant
                .entry
                .is_some_and(|e| cut.is_some_and(|c| c.entries.contains(&e)))
    });
    if standing {
        return Ok(true);
    }
    let statements = kept
        .iter()
        .map(Kept::value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(PlanError::Unreadable)?;
    let probe = PolicyDocument::from_value(json!({ "Statement": statements }))
        .map_err(PlanError::Invalid)?;
    Ok(analysis::grants(&probe, resource)
        .iter()
        .any(|g| g.who == owner))
}

/// Remove the principal entries at `cut` (indices in parse order), keeping each type's
/// string-or-list form. `add` (the owner's root) replaces a cut `*` in a key policy.
/// Returns whether any principal is left.
pub(crate) fn rebuild_principal(
    stmt: &mut Map<String, Value>,
    cut: &BTreeSet<usize>,
    add: Option<String>,
) -> bool {
    let Some(out) = principal_without(stmt, cut, add) else {
        return true;
    };
    let left = !out.is_empty();
    stmt.insert("Principal".into(), Value::Object(out));
    left
}

/// The statement's `Principal` object without the entries at `cut` (see
/// [`rebuild_principal`]), the statement left as it is; `None` when it stays as it is
/// (`"*"`, not cut).
fn principal_without(
    stmt: &Map<String, Value>,
    cut: &BTreeSet<usize>,
    add: Option<String>,
) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    match stmt.get("Principal") {
        // `"Principal": "*"` is the statement's one entry, index 0.
        Some(Value::String(_)) if !cut.contains(&0) => return None,
        Some(Value::Object(map)) => {
            let mut index = 0usize;
            for (key, values) in map {
                let (list, was_string) = match values {
                    Value::String(s) => (vec![Value::String(s.clone())], true),
                    Value::Array(a) => (a.clone(), false),
                    _ => (Vec::new(), false),
                };
                let mut kept = Vec::new();
                for v in list {
                    if !cut.contains(&index) {
                        kept.push(v);
                    }
                    index += 1;
                }
                if !kept.is_empty() {
                    let v = if was_string && kept.len() == 1 {
                        kept.remove(0)
                    } else {
                        Value::Array(kept)
                    };
                    out.insert(key.clone(), v);
                }
            }
        }
        _ => {}
    }
    if let Some(root) = add {
        let aws = out.entry("AWS").or_insert_with(|| Value::Array(Vec::new()));
        let mut list = match aws.take() {
            Value::String(s) => vec![Value::String(s)],
            Value::Array(a) => a,
            _ => Vec::new(),
        };
        if !list.iter().any(|v| v.as_str() == Some(root.as_str())) {
            list.push(Value::String(root));
        }
        *aws = if list.len() == 1 {
            list.remove(0)
        } else {
            Value::Array(list)
        };
    }
    Some(out)
}

/// Remove condition values that resolve to the given targets. Cutting a value of an
/// OR-list only narrows; a key left with no value would widen the statement instead,
/// so that is refused.
fn cut_condition_values(
    stmt: &mut Map<String, Value>,
    targets: &[Who],
) -> Result<Vec<(Who, Cut)>, PlanError> {
    let mut cuts = Vec::new();
    let Some(Value::Object(ops)) = stmt.get_mut("Condition") else {
        return Err(PlanError::NoCondition);
    };
    for (op, keys) in ops.iter_mut() {
        if matches!(
            condition::operator_kind(op),
            condition::OpKind::NotNarrowing(_)
        ) {
            continue;
        }
        let Value::Object(keys) = keys else { continue };
        for (key, values) in keys.iter_mut() {
            if !condition::is_narrowing_key(key) {
                continue;
            }
            let list: Vec<Value> = match &*values {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            let mut kept = Vec::new();
            let before = cuts.len();
            for v in list {
                let s = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                match targets
                    .iter()
                    .find(|t| condition::value_targets(key, &s, t))
                {
                    Some(t) => cuts.push((
                        t.clone(),
                        Cut::ConditionValue {
                            operator: op.clone(),
                            key: key.clone(),
                            value: s,
                        },
                    )),
                    None => kept.push(v),
                }
            }
            if cuts.len() == before {
                continue;
            }
            if kept.is_empty() {
                return Err(PlanError::WouldWiden {
                    operator: op.clone(),
                    key: key.clone(),
                });
            }
            *values = Value::Array(kept);
        }
    }
    if cuts.is_empty() {
        return Err(PlanError::NoValueNamesCaller);
    }
    Ok(cuts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::principal_cut;

    /// Every subset of the entries of statements of each shape, cut from text, gives the
    /// statement the value path gives; shapes the text cut does not read are left to it.
    #[test]
    fn principals_cut_from_text_are_cut_as_from_values() {
        let shapes = [
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:*"}"#,
            r#"{"Sid":"a","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*"}"#,
            r#"{"Principal":{"AWS":["1","2","3"]},"Effect":"Allow"}"#,
            r#"{"Principal":{"AWS":["1"],"Service":"s.amazonaws.com","Federated":["f1","f2"]},"X":{"Principal":"no"}}"#,
            "{ \"Sid\" : \"}]\\\"\" ,\n \"Principal\" : {\n  \"AWS\" : [ \"1\" ,\t\"\\u0032\" ] ,\r\n  \"CanonicalUser\":\"c\" } , \"Effect\":\"Allow\" }",
            r#"{"Principal":{"AWS":[],"Service":["s1","s2"]},"Effect":"Allow"}"#,
            r#"{"Principal":{"A\u0057S":["1","2"]},"Effect":"Allow"}"#,
        ];
        for t in shapes {
            let v: Value = serde_json::from_str(t).unwrap();
            let n = match &v["Principal"] {
                Value::String(_) => 1,
                Value::Object(m) => m.values().map(|x| x.as_array().map_or(1, Vec::len)).sum(),
                _ => unreachable!(),
            };
            for mask in 1..(1u32 << n) {
                let cut: std::collections::BTreeSet<usize> =
                    (0..n).filter(|i| mask & (1 << i) != 0).collect();
                let mut want = v.as_object().unwrap().clone();
                let left = rebuild_principal(&mut want, &cut, None);
                let got = principal_cut(t, &cut, n);
                match got {
                    Some(None) => assert!(!left, "{t} {cut:?}"),
                    Some(Some(text)) => {
                        assert!(left, "{t} {cut:?}");
                        let got: Value = serde_json::from_str(&text).unwrap();
                        assert_eq!(got, Value::Object(want), "{t} {cut:?}: {text}");
                    }
                    None => panic!("{t} {cut:?}: not cut from text"),
                }
            }
            // Entries counted otherwise than the typed statement counts them: refused.
            assert_eq!(principal_cut(t, &[0].into(), n + 1), None, "{t}");
        }
        for t in [
            r#"{"Principal":{"AWS":[1,"2"]},"Effect":"Allow"}"#,
            r#"{"Principal":{"AWS":{"x":"1"}},"Effect":"Allow"}"#,
            r#"{"Principal":["1"],"Effect":"Allow"}"#,
            r#"{"Effect":"Allow","NotPrincipal":{"AWS":"1"}}"#,
        ] {
            assert_eq!(principal_cut(t, &[0].into(), 1), None, "{t}");
            assert_eq!(principal_cut(t, &[0].into(), 2), None, "{t}");
        }
        // `"*"` not cut is not a cut.
        assert_eq!(principal_cut(r#"{"Principal":"*"}"#, &[1].into(), 1), None);
    }

    /// Text is copied as it is only where that is what serde_json writes for its value;
    /// every text, so copied or read again, is written as its value is, compact by the
    /// engine's writer and by serde_json, pretty by serde_json.
    #[test]
    fn policy_text_is_written_as_its_value() {
        let plain = [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root"]},"Action":"s3:*","Resource":"*"}]}"#,
            "{\"a\":true,\"b\":false,\"c\":null,\"d\":[],\"e\":{},\"f\":[[{}]],\"g\":\"é 日本 / \u{7f}\"}",
            r#"{"k":"}],:{[ tr ue"}"#,
            "{}",
        ];
        let spelled_otherwise = [
            r#"{"a":"\u00e9"}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":"\"q\""}"#,
            r#"{"a":-0}"#,
            r#"{"a":1}"#,
            r#"{"a":1E2}"#,
            r#"{"a":1.50}"#,
            r#"{"a": "b"}"#,
            "{\"a\":\"b\"}\n",
            r#"{"a":123456789012345678901234567890}"#,
        ];
        for (t, expected) in plain
            .iter()
            .map(|t| (t, true))
            .chain(spelled_otherwise.iter().map(|t| (t, false)))
        {
            assert_eq!(crate::policy::as_serde_json_writes(t), expected, "{t}");
            let value: Value = serde_json::from_str(t).unwrap();
            if expected {
                assert_eq!(serde_json::to_string(&value).unwrap(), *t);
            }
            let p = PolicyJson::text(t.to_string());
            // Inside a structure too: the slot is taken by the policy's own call.
            let record = json!({"before": 1, "after": 2});
            let both = (&p, &record, &p);
            let want = serde_json::to_vec(&(&value, &record, &value)).unwrap();
            assert_eq!(crate::json::write::to_vec(&both).unwrap(), want, "{t}");
            assert_eq!(serde_json::to_vec(&both).unwrap(), want, "{t}");
            assert_eq!(
                serde_json::to_string_pretty(&p).unwrap(),
                serde_json::to_string_pretty(&value).unwrap(),
                "{t}"
            );
            assert_eq!(serde_json::to_value(&p).unwrap(), value, "{t}");
        }
    }
}
