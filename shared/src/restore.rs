//! Putting back what a fix removed (`crossguard restore`): the evidence record of a
//! remediated event says what the policy was, what the fix left, and which grants it cut
//! from which statements. Pure: the caller reads the record and the live policy and
//! writes the result.
//!
//! When the live policy is still what the fix left, the policy before the fix goes back
//! whole (exactly the removed grants return, nothing else changes). When it changed since,
//! only a forced restore goes on, and then it adds the removed grants to the live policy
//! as statements of their own (each the original statement narrowed to the removed
//! principals), leaving every later change in place.

use crate::policy::{PolicyDocument, Principals};
use crate::remediation::{self, PlanKind};
use crate::resource::{Resource, ResourceKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The schema of a restore's own record.
pub const SCHEMA: &str = "crossguard.restore/1";

/// What a restore reads from an evidence record.
#[derive(Debug, Clone)]
pub struct Fixed {
    /// The CloudTrail event whose fix this was.
    pub event_id: String,
    /// When the guard recorded it.
    pub recorded_at: String,
    /// The resource fixed.
    pub resource: Resource,
    /// The policy before the fix (a JSON object).
    pub policy_before: Value,
    /// What the fix did.
    pub plan: PlanKind,
    /// The policy the fix put (`None` for a deleted policy).
    pub policy_after: Option<Value>,
    /// The grants it removed.
    pub removed: Vec<RemovedGrant>,
}

/// One removed grant as the record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemovedGrant {
    /// Index of its statement in the policy before the fix.
    pub statement: usize,
    /// Its statement's `Sid`.
    pub sid: Option<String>,
    /// The principal as a person reads it.
    pub principal: String,
    /// The account it let in (`*` for public).
    pub account: Option<String>,
    /// The organization it let in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// What the fix cut, as the record says it.
    pub cut: String,
    /// The statement as it was before the fix.
    pub original_statement: Value,
}

/// Why a record cannot be restored, or not as asked.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RestoreError {
    /// Not an evidence record, or one missing what a restore needs.
    #[error("not a crossguard evidence record a restore can read: {0}")]
    NotEvidence(String),
    /// The record's event was not fixed: nothing was removed.
    #[error("the record's outcome is {0}, not remediated: the guard removed nothing to put back")]
    NotRemediated(String),
    /// The fix was not a policy edit a restore can redo.
    #[error("{0}")]
    Unsupported(String),
    /// The resource is gone.
    #[error("{0} no longer exists: nothing to restore into")]
    Gone(String),
    /// The live policy changed since the fix.
    #[error("the live policy of {0} changed since the fix: the restore would undo those changes (run again with --force to add only the removed grants to the live policy)")]
    Changed(String),
    /// A forced restore cannot add a removed grant exactly.
    #[error("cannot add the removed grants to the changed live policy exactly: {0}")]
    Inexact(String),
}

#[derive(Deserialize)]
struct RecordIn {
    schema: String,
    event_id: String,
    #[serde(default)]
    recorded_at: String,
    policy_before: Option<Value>,
    decision: DecisionIn,
    outcome: String,
}

#[derive(Deserialize)]
struct DecisionIn {
    resource: Option<ResourceIn>,
    remediation: Option<PlanIn>,
}

/// A resource as decisions serialize it.
#[derive(Deserialize)]
pub(crate) struct ResourceIn {
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) account: String,
    #[serde(default)]
    pub(crate) region: Option<String>,
}

impl ResourceIn {
    pub(crate) fn resource(&self) -> Result<Resource, String> {
        let kind = ResourceKind::parse(&self.kind)
            .ok_or_else(|| format!("unknown resource kind {:?}", self.kind))?;
        Resource::new(kind, &self.name, &self.account, self.region.as_deref())
            .map_err(|e| e.to_string())
    }
}

#[derive(Deserialize)]
struct PlanIn {
    kind: PlanKind,
    #[serde(default)]
    policy: Option<Value>,
    #[serde(default)]
    removed: Vec<RemovedGrant>,
}

impl Fixed {
    /// Read an evidence record (its JSON text).
    pub fn from_record(text: &str) -> Result<Fixed, RestoreError> {
        let bad = |m: String| RestoreError::NotEvidence(m);
        let checked = crate::json::from_str(text).map_err(|e| bad(e.to_string()))?;
        // A record with a duplicate key could say two things: which one is put back?
        if let Some(why) = checked.duplicate_reason("") {
            return Err(bad(why));
        }
        let r: RecordIn = serde_json::from_value(checked.value).map_err(|e| bad(e.to_string()))?;
        if r.schema != crate::evidence::SCHEMA {
            return Err(bad(format!(
                "schema {:?}, expected {:?}",
                r.schema,
                crate::evidence::SCHEMA
            )));
        }
        if r.outcome != "remediated" {
            return Err(RestoreError::NotRemediated(r.outcome));
        }
        let resource = r
            .decision
            .resource
            .ok_or_else(|| bad("the decision names no resource".into()))?
            .resource()
            .map_err(bad)?;
        let plan = r
            .decision
            .remediation
            .ok_or_else(|| bad("the decision has no remediation".into()))?;
        supported(plan.kind, &resource)?;
        let Some(policy_before @ Value::Object(_)) = r.policy_before else {
            return Err(bad(
                "its policy_before is not a JSON document (the policy could not be read then)"
                    .into(),
            ));
        };
        let policy_after = match (plan.kind, plan.policy) {
            (PlanKind::DeletePolicy, None) => None,
            (PlanKind::DeletePolicy, Some(_)) => {
                return Err(bad("a delete_policy plan carries a policy".into()))
            }
            (_, Some(p @ Value::Object(_))) => Some(p),
            _ => return Err(bad("the plan carries no policy document".into())),
        };
        // A forced restore lifts the deny-all trust only a deny_all_trust fix put: a record
        // of another fix calling itself one would take the owner's own deny-all away.
        let deny_all = policy_after
            .as_ref()
            .is_some_and(|a| *a == remediation::deny_all_trust());
        if (plan.kind == PlanKind::DenyAllTrust) != deny_all {
            return Err(bad(
                "it does not agree with itself: the plan's kind and the policy it put differ on the deny-all trust".into(),
            ));
        }
        if plan.removed.is_empty() {
            return Err(bad("the plan lists no removed grants".into()));
        }
        crate::evidence::key(&r.event_id).map_err(|e| bad(e.to_string()))?;
        consistent(
            &resource,
            &policy_before,
            policy_after.as_ref(),
            &plan.removed,
        )
        .map_err(|why| bad(format!("it does not agree with itself: {why}")))?;
        Ok(Fixed {
            event_id: r.event_id,
            recorded_at: r.recorded_at,
            resource,
            policy_before,
            plan: plan.kind,
            policy_after,
            removed: plan.removed,
        })
    }

    /// The policy to put, given the live one (`None`: the resource has no policy), or why
    /// not. `force` allows adding the removed grants to a policy changed since the fix.
    pub fn restored(&self, live: Option<&Value>, force: bool) -> Result<Restoration, RestoreError> {
        let unchanged = match (&self.policy_after, live) {
            (None, None) => true,
            (Some(after), Some(live)) => after == live,
            _ => false,
        };
        if unchanged {
            return Ok(Restoration {
                policy: self.policy_before.clone(),
                changed_since_fix: false,
                // The policy before the fix, whole: each grant at its own index.
                put_back: self
                    .removed
                    .iter()
                    .map(|g| (g.statement, g.clone()))
                    .collect(),
                turned_on: Vec::new(),
            });
        }
        if !force {
            return Err(RestoreError::Changed(self.resource.spec().to_string()));
        }
        self.added_to(live)
    }

    /// The live policy (or a new one) with each removed grant added back as the original
    /// statement narrowed to the removed principals.
    fn added_to(&self, live: Option<&Value>) -> Result<Restoration, RestoreError> {
        let inexact = |m: String| RestoreError::Inexact(m);
        let mut doc = match live {
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(inexact("the live policy is not a JSON object".into())),
            None => {
                let mut m = Map::new();
                if let Some(v) = self.policy_before.get("Version") {
                    m.insert("Version".into(), v.clone());
                }
                m
            }
        };
        let mut statements = match doc.remove("Statement") {
            None => Vec::new(),
            Some(Value::Array(list)) => list,
            Some(one @ Value::Object(_)) => vec![one],
            Some(_) => return Err(inexact("the live policy's Statement is not a list".into())),
        };
        let turned_on = if self.plan == PlanKind::DenyAllTrust {
            lift_deny_all(&mut statements)
        } else {
            Vec::new()
        };
        let mut put_back = Vec::with_capacity(self.removed.len());
        let mut by_statement: BTreeMap<usize, Vec<&RemovedGrant>> = BTreeMap::new();
        for r in &self.removed {
            by_statement.entry(r.statement).or_default().push(r);
        }
        for grants in by_statement.values() {
            let original = &grants[0].original_statement;
            if grants.iter().any(|g| g.cut.starts_with("condition value")) {
                // The whole statement would bring back the values left standing too,
                // which a later change may have taken away on purpose.
                return Err(inexact(
                    "a condition value was cut: adding its statement back would also restore the values the fix left, which the live policy may have dropped since; restore it by hand from the record".into(),
                ));
            }
            let whole = grants.iter().any(|g| g.cut == "statement");
            let mut added = if whole {
                original.clone()
            } else {
                narrowed(original, grants).map_err(inexact)?
            };
            // Already there as it would be added: the grants are put back by that one.
            if let Some(at) = statements.iter().position(|s| *s == added) {
                put_back.extend(grants.iter().map(|&g| (at, g.clone())));
                continue;
            }
            if let Some(sid) = added.get("Sid").and_then(Value::as_str).map(String::from) {
                let taken = |sid: &str| {
                    statements
                        .iter()
                        .any(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))
                };
                if taken(&sid) {
                    let renamed = format!("{sid}Restored");
                    if taken(&renamed) {
                        return Err(inexact(format!(
                            "statement ids {sid:?} and {renamed:?} are both taken in the live policy"
                        )));
                    }
                    added["Sid"] = Value::String(renamed);
                }
            }
            put_back.extend(grants.iter().map(|&g| (statements.len(), g.clone())));
            statements.push(added);
        }
        doc.insert("Statement".into(), Value::Array(statements));
        Ok(Restoration {
            policy: Value::Object(doc),
            changed_since_fix: true,
            put_back,
            turned_on,
        })
    }

    /// The removed grants, as the record lists them.
    pub fn grants(&self) -> &[RemovedGrant] {
        &self.removed
    }
}

/// Take the fix's deny-all statement out of a trust's statements (it would refuse every
/// restored grant); the indices of the Allow statements that lifting it turns on (none
/// when it was not there).
fn lift_deny_all(statements: &mut Vec<Value>) -> Vec<usize> {
    let deny = remediation::deny_all_trust();
    let deny = &deny["Statement"][0];
    let count = statements.len();
    statements.retain(|s| s != deny);
    if statements.len() == count {
        return Vec::new();
    }
    statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .map(|(i, _)| i)
        .collect()
}

/// Whether a fix of this kind on this resource can be redone by a restore.
fn supported(kind: PlanKind, resource: &Resource) -> Result<(), RestoreError> {
    let unsupported = |what: &str| {
        RestoreError::Unsupported(format!(
            "the fix {what}: restore it by hand from the record's removed grants"
        ))
    };
    match kind {
        PlanKind::PutPolicy | PlanKind::DeletePolicy | PlanKind::DenyAllTrust => {}
        PlanKind::RevokeGrant => {
            return Err(unsupported(
                "revoked a KMS grant (a revoked grant cannot be re-created with its id)",
            ))
        }
        PlanKind::PutAcl => return Err(unsupported("edited a bucket ACL")),
        PlanKind::PutPublicAccessBlock => {
            return Err(unsupported("turned Block Public Access back on"))
        }
        PlanKind::Undo => return Err(unsupported("undid a change to the guard itself")),
        PlanKind::Refused => return Err(RestoreError::NotRemediated("refused (no plan)".into())),
    }
    if resource.kind.spec().edited == crate::kinds::Edited::BySid {
        return Err(RestoreError::Unsupported(format!(
        "{} policies are edited a statement at a time (AddPermission): re-add the removed statements by hand from the record",
        resource.kind.as_str()
        )));
    }
    Ok(())
}

/// The statements of a policy, as a list.
fn statements_of(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// Does the record agree with itself? A restore puts `policy_before` back, so it must be
/// exactly the fix's result plus the removed grants: each removed grant's
/// `original_statement` is the statement at its index in `policy_before`; every other
/// statement of `policy_before` is still in the fix's result (a deny-all trust drops
/// the `Deny`s beside it); the grants `policy_before` makes beyond the fix's result are
/// the removed ones; and what the fix's result adds (an owner's admin statement, a
/// default topic policy, the deny-all) lets in the owner only. A record edited to slip in
/// another grant, or to drop a `Deny`, is refused.
fn consistent(
    resource: &Resource,
    before: &Value,
    after: Option<&Value>,
    removed: &[RemovedGrant],
) -> Result<(), String> {
    // The fix rewrites statements only, unless it put a whole document of its own.
    if let (Some(Value::Object(a)), Value::Object(b)) = (after, before) {
        let own = after.is_some_and(|a| {
            *a == remediation::deny_all_trust() || *a == remediation::default_topic_policy(resource)
        });
        if let Some(k) = a
            .keys()
            .chain(b.keys())
            .find(|k| *k != "Statement" && !own && a.get(*k) != b.get(*k))
        {
            return Err(format!(
                "policy_before's {k:?} differs from the fix's result's"
            ));
        }
    }
    let before_st = statements_of(before);
    // A deleted policy (no fix result) has no statements: nothing stands after the fix.
    let after_st = match after {
        Some(a) => statements_of(a),
        None => Vec::new(),
    };
    let mut cut: BTreeMap<usize, &Value> = BTreeMap::new();
    for g in removed {
        let Some(at) = before_st.get(g.statement) else {
            return Err(format!(
                "removed statement {} is not in policy_before",
                g.statement
            ));
        };
        if *at != &g.original_statement {
            return Err(format!(
                "the original of statement {} differs from policy_before's",
                g.statement
            ));
        }
        if g.original_statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
            return Err(format!("removed statement {} is not an Allow", g.statement));
        }
        cut.insert(g.statement, at);
    }
    cuts_agree(resource, &after_st, removed)?;
    let deny_all = after.is_some_and(|a| *a == remediation::deny_all_trust());
    for (i, s) in before_st.iter().enumerate() {
        let dropped_beside_deny_all =
            deny_all && s.get("Effect").and_then(Value::as_str) != Some("Allow");
        if !cut.contains_key(&i) && !after_st.contains(s) && !dropped_beside_deny_all {
            return Err(format!(
                "statement {i} of policy_before is neither removed nor in the fix's result"
            ));
        }
    }
    // The fix only cuts Allows (and adds a deny-all trust): a Deny it left that
    // policy_before lacks would be lost by putting policy_before back.
    let deny_all_statement = &remediation::deny_all_trust()["Statement"][0];
    if let Some(i) = after_st.iter().position(|s| {
        !before_st.contains(s)
            && s.get("Effect").and_then(Value::as_str) != Some("Allow")
            && *s != deny_all_statement
    }) {
        return Err(format!(
            "statement {i} of the fix's result is a Deny policy_before lacks"
        ));
    }
    same_callers(resource, before, after, removed)
}

/// Each statement the record says the fix cut, cut as it says (the removed principal
/// entries and condition values taken out, a key policy's cut `*` replaced by its
/// owner's root), is in the fix's result exactly, unless nothing of it is left. Putting
/// `policy_before` back then returns the listed grants and nothing else: a record whose
/// original statement gives the principals the fix kept more than the result does (no
/// condition, a wider resource or action), or that calls a principal cut a whole
/// statement's, is refused. The grants compared by [`same_callers`] do not see a
/// statement's conditions or resources.
fn cuts_agree(
    resource: &Resource,
    after_st: &[&Value],
    removed: &[RemovedGrant],
) -> Result<(), String> {
    let mut by_statement: BTreeMap<usize, Vec<&RemovedGrant>> = BTreeMap::new();
    for g in removed {
        by_statement.entry(g.statement).or_default().push(g);
    }
    for (i, grants) in by_statement {
        let Some(first) = grants.first() else {
            continue;
        };
        let original = &first.original_statement;
        let mut doc = Map::new();
        doc.insert("Statement".into(), Value::Array(vec![original.clone()]));
        let parsed = PolicyDocument::from_value(Value::Object(doc))
            .map_err(|e| format!("removed statement {i} does not read: {e}"))?;
        let entries = match parsed.statements.first().map(|s| &s.principals) {
            Some(Principals::Listed(entries)) => entries,
            // NotPrincipal: nothing smaller than the statement goes, and it goes whole.
            Some(Principals::AllExcept(_)) if grants.iter().all(|g| g.cut == "statement") => {
                continue
            }
            _ => {
                return Err(format!(
                    "removed statement {i} is a NotPrincipal statement not cut whole"
                ))
            }
        };
        let Value::Object(mut stmt) = original.clone() else {
            return Err(format!("removed statement {i} is not an object"));
        };
        let mut wanted: BTreeSet<&str> = BTreeSet::new();
        // A value cut for several grants of one caller is listed for each.
        let mut values: BTreeSet<&str> = BTreeSet::new();
        for g in &grants {
            if let Some(what) = g.cut.strip_prefix("condition value ") {
                values.insert(what);
            } else if g.cut == "principal"
                || g.cut == remediation::Cut::PrincipalAndStatement.to_string()
            {
                wanted.insert(g.principal.as_str());
            } else {
                return Err(format!(
                    "removed statement {i} names a principal list, but the record says the fix cut {:?}",
                    g.cut
                ));
            }
        }
        for what in &values {
            cut_value(&mut stmt, what).map_err(|why| format!("removed statement {i}: {why}"))?;
        }
        let left = cut_entries(resource, entries, &wanted, &mut stmt)
            .map_err(|why| format!("removed statement {i}: {why}"))?;
        if !left && !values.is_empty() {
            return Err(format!(
                "removed statement {i} lost condition values and every principal"
            ));
        }
        if left && !after_st.contains(&&Value::Object(stmt)) {
            return Err(format!(
                "what the fix left of statement {i} is not in its result as the removed grants say"
            ));
        }
    }
    Ok(())
}

/// Cut the principal entries named `wanted` from a statement, as the fix did (a key
/// policy's cut `*` replaced by its owner's root); whether any principal is left.
fn cut_entries(
    resource: &Resource,
    entries: &[crate::policy::PrincipalEntry],
    wanted: &BTreeSet<&str>,
    stmt: &mut Map<String, Value>,
) -> Result<bool, String> {
    if let Some(missing) = wanted
        .iter()
        .find(|w| !entries.iter().any(|e| e.display().as_str() == **w))
    {
        return Err(format!("principal {missing} is not in it"));
    }
    let indices: BTreeSet<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| wanted.contains(e.display().as_str()))
        .map(|(n, _)| n)
        .collect();
    if indices.is_empty() {
        return Ok(true);
    }
    // A key policy keeps its owner: a cut `*` is replaced by the owner's root.
    let add = (resource.kind.spec().emptied == crate::kinds::Emptied::OwnerAdmin
        && indices.iter().any(|&n| {
            entries.get(n).is_some_and(|e| {
                crate::principal::resolve(e.kind, &e.value) == crate::who::Who::Public
            })
        }))
    .then(|| {
        format!(
            "arn:{}:iam::{}:root",
            resource.partition(),
            resource.account
        )
    });
    Ok(remediation::rebuild_principal(stmt, &indices, add))
}

/// Take the condition value `what` (`OP KEY = VALUE`, as a removed grant's `cut` says
/// after "condition value ") out of a statement, as the fix did: the key's values are
/// written as a list of those left.
fn cut_value(stmt: &mut Map<String, Value>, what: &str) -> Result<(), String> {
    let parts = what
        .split_once(' ')
        .and_then(|(op, rest)| rest.split_once(" = ").map(|(key, value)| (op, key, value)));
    let Some((op, key, value)) = parts else {
        return Err(format!("the cut {what:?} does not read"));
    };
    let Some(values) = stmt
        .get_mut("Condition")
        .and_then(|c| c.get_mut(op))
        .and_then(|k| k.get_mut(key))
    else {
        return Err(format!("it has no condition {op} {key}"));
    };
    let list: Vec<Value> = match &*values {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let kept: Vec<Value> = list.iter().filter(|v| text(v) != value).cloned().collect();
    if kept.len() == list.len() {
        return Err(format!("its condition {op} {key} has no value {value:?}"));
    }
    if kept.is_empty() {
        return Err(format!("the fix would have left {op} {key} with no value"));
    }
    *values = Value::Array(kept);
    Ok(())
}

/// The callers policy_before lets in are those the fix's result lets in (the owner
/// aside), and those the record lists as removed.
fn same_callers(
    resource: &Resource,
    before: &Value,
    after: Option<&Value>,
    removed: &[RemovedGrant],
) -> Result<(), String> {
    let read = |v: &Value| {
        PolicyDocument::from_value(v.clone()).map_err(|e| format!("a policy does not read: {e}"))
    };
    let before_doc = read(before)?;
    let grants = |doc: &PolicyDocument| -> Vec<(String, String, crate::who::Who)> {
        crate::analysis::grants(doc, resource)
            .into_iter()
            .map(|g| (g.principal, format!("{:?}", g.actions), g.who))
            .collect()
    };
    let was = grants(&before_doc);
    let now = match after {
        Some(a) => grants(&read(a)?),
        None => Vec::new(),
    };
    // The grants stop at one past the limit: past it, those compared are not all there
    // are. A decision past the limit is an error with no fix, so no true record is.
    if was.len().max(now.len()) > crate::analysis::MAX_GRANTS {
        return Err(format!(
            "a policy in the record lets in more than {} callers: it cannot be compared whole",
            crate::analysis::MAX_GRANTS
        ));
    }
    let owner = crate::who::Who::Account(resource.account.clone());
    if let Some(extra) = now.iter().find(|g| !was.contains(g) && g.2 != owner) {
        return Err(format!(
            "the fix's result lets in {} beyond policy_before",
            extra.0
        ));
    }
    let listed: BTreeSet<&str> = removed.iter().map(|g| g.principal.as_str()).collect();
    if let Some(lost) = was
        .iter()
        .find(|g| !now.contains(g) && !listed.contains(g.0.as_str()))
    {
        return Err(format!(
            "policy_before lets in {} beyond the fix's result, and it is not listed as removed",
            lost.0
        ));
    }
    Ok(())
}

/// The original statement with only the removed principal entries left in its
/// `Principal`, each in its original form.
fn narrowed(original: &Value, grants: &[&RemovedGrant]) -> Result<Value, String> {
    let mut doc = Map::new();
    doc.insert("Statement".into(), Value::Array(vec![original.clone()]));
    let parsed = PolicyDocument::from_value(Value::Object(doc))
        .map_err(|e| format!("the record's original statement does not read: {e}"))?;
    let Some(Principals::Listed(entries)) = parsed.statements.first().map(|s| &s.principals) else {
        return Err("the record's original statement names no Principal list".into());
    };
    let wanted: BTreeSet<&str> = grants.iter().map(|g| g.principal.as_str()).collect();
    let others: BTreeSet<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| !wanted.contains(e.display().as_str()))
        .map(|(i, _)| i)
        .collect();
    let found: BTreeSet<String> = entries
        .iter()
        .map(crate::policy::PrincipalEntry::display)
        .filter(|d| wanted.contains(d.as_str()))
        .collect();
    if let Some(missing) = wanted.iter().find(|w| !found.contains(**w)) {
        return Err(format!(
            "principal {missing} is not in its original statement as recorded"
        ));
    }
    let Value::Object(mut stmt) = original.clone() else {
        return Err("the record's original statement is not an object".into());
    };
    remediation::rebuild_principal(&mut stmt, &others, None);
    Ok(Value::Object(stmt))
}

/// What a restore puts.
#[derive(Debug, Clone, PartialEq)]
pub struct Restoration {
    /// The policy to put.
    pub policy: Value,
    /// The live policy had changed since the fix (a forced restore).
    pub changed_since_fix: bool,
    /// Each removed grant, with the index in `policy` of the statement that puts it back.
    pub put_back: Vec<(usize, RemovedGrant)>,
    /// The indices in `policy` of the Allow statements added to the live policy since a
    /// deny-all trust fix, which a forced restore turns on by lifting the deny-all (none
    /// otherwise): the restore does not put them back, but they take effect.
    pub turned_on: Vec<usize>,
}

impl Restoration {
    /// Does finding `f` of the restored policy's decision judge a grant this restore puts
    /// back? The same statement (as placed in `policy`), principal, account and
    /// organization as a removed grant, which the fix recorded from its finding. Every
    /// other finding judges a grant already in the live policy (or, in `turned_on`, one
    /// added since the fix that lifting the deny-all turns on).
    pub fn puts_back(&self, f: &crate::finding::Finding) -> bool {
        self.put_back.iter().any(|(at, g)| {
            f.statement == *at
                && f.principal == g.principal
                && f.account == g.account
                && f.org == g.org
        })
    }
}

#[cfg(test)]
mod tests;
