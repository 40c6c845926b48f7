//! The guard guarding itself: CloudTrail calls that switch off, blind, or rewrite the
//! deployment's own parts — its EventBridge rules and bus, its functions, its roles and
//! the member remediation role, its alert topic, the trail it sees through, its evidence
//! bucket, and in every member account the rules and the role that forward events to it
//! (`infra/member-account.yaml`). Which parts are the guard's comes from the deployment
//! ([`Deployment`], filled in by the template), not from name patterns: a namesake
//! elsewhere is not the guard.
//!
//! Every such call is a `critical` violation, alerted even when its actor matches
//! `ignore_actors` and in dry-run (alerting changes nothing); where a safe undo exists
//! (`EnableRule` after `DisableRule`, `StartLogging` after `StopLogging`) remediate mode
//! does it, in the deployment's own account only: a member's forwarding rule is alerted,
//! never undone (tamper-guard does not act in member accounts). A call that names no
//! target it can be told apart by is an `error`, alerted as critical too: the guard
//! does not guess that it was not about itself. So is a call that may be a watched one
//! but cannot be told (a duplicate on its name, a name spelled otherwise), and one whose
//! account cannot be read: a part named by an ARN is that ARN's account's, one named by
//! its name alone the recording account's (`recipientAccountId`, never the caller's).

use crate::allowlist::{Allowlist, Mode};
use crate::decision::{Action, Decision, Options, Tampered, Verdict};
use crate::event::{summarize, Duplicate};
use crate::principal::parse_arn;
use crate::remediation::Plan;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The deployment's own parts (the template writes them into `GUARD_DEPLOYMENT`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// The EventBridge rules that route events to the guards, by name.
    #[serde(default)]
    pub rules: Vec<String>,
    /// The bus those rules are on (`default` when unset).
    #[serde(default)]
    pub bus: Option<String>,
    /// The guard functions, by name.
    #[serde(default)]
    pub functions: Vec<String>,
    /// The guards' roles and the member accounts' remediation and forwarding roles, by
    /// name (a role named here is the guard's in every account).
    #[serde(default)]
    pub roles: Vec<String>,
    /// The EventBridge rules every member account forwards its events to the deployment
    /// through (`infra/member-account.yaml`), by name: the guard's in every account, as
    /// the member roles are. A call on one is alerted, never undone from here.
    #[serde(default)]
    pub member_rules: Vec<String>,
    /// The alert topic's ARN.
    #[serde(default)]
    pub topic: Option<String>,
    /// The trail whose events the guards see, by name or ARN.
    #[serde(default)]
    pub trail: Option<String>,
    /// The evidence bucket, by name.
    #[serde(default)]
    pub evidence_bucket: Option<String>,
    /// The KMS key that encrypts the topic, the evidence, the dead letters and the
    /// functions' environment, by id or ARN.
    #[serde(default)]
    pub key: Option<String>,
    /// The managed policies the guard's roles carry, by ARN.
    #[serde(default)]
    pub policies: Vec<String>,
    /// The account the deployment is in: its rules, bus, functions, topic, trail, key
    /// and bucket are that account's (the member roles and rules are in every account).
    #[serde(default)]
    pub account: Option<String>,
}

impl Deployment {
    /// Read strictly: an unknown field is refused (a misspelt `rule` would watch nothing).
    pub fn from_json(text: &str) -> Result<Deployment, String> {
        let checked = crate::json::from_str(text).map_err(|e| e.to_string())?;
        if let Some(p) = checked.duplicates.first() {
            return Err(crate::json::duplicate_message(p));
        }
        let d: Deployment = serde_json::from_value(checked.value).map_err(|e| e.to_string())?;
        if d.rules.is_empty()
            && d.functions.is_empty()
            && d.roles.is_empty()
            && d.member_rules.is_empty()
            && d.topic.is_none()
        {
            return Err("the deployment names none of the guard's rules, functions, roles or topic: nothing would be watched".into());
        }
        Ok(d)
    }
}

/// Which of the guard's parts a call touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Rule,
    /// A member account's forwarding rule: a watched call names it as it names a rule
    /// (the call is looked up as [`Part::Rule`]); it is told apart by its name.
    MemberRule,
    Bus,
    Function,
    Role,
    Topic,
    Subscription,
    Trail,
    EvidenceBucket,
    Key,
    ManagedPolicy,
}

impl Part {
    /// The deployment's entries for this kind of part, as it names them.
    fn named_in(self, dep: &Deployment) -> Vec<&str> {
        fn list(l: &[String]) -> Vec<&str> {
            l.iter().map(String::as_str).collect()
        }
        fn one(o: &Option<String>) -> Vec<&str> {
            o.as_deref().into_iter().collect()
        }
        match self {
            Part::Rule => list(&dep.rules),
            Part::MemberRule => list(&dep.member_rules),
            Part::Function => list(&dep.functions),
            Part::Role => list(&dep.roles),
            Part::ManagedPolicy => list(&dep.policies),
            Part::Bus => one(&dep.bus),
            Part::Topic | Part::Subscription => one(&dep.topic),
            Part::Trail => one(&dep.trail),
            Part::EvidenceBucket => one(&dep.evidence_bucket),
            Part::Key => one(&dep.key),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Part::Rule => "rule",
            Part::MemberRule => "member forwarding rule",
            Part::Bus => "event bus",
            Part::Function => "function",
            Part::Role => "role",
            Part::Topic | Part::Subscription => "alert topic",
            Part::Trail => "trail",
            Part::EvidenceBucket => "evidence bucket",
            Part::Key => "encryption key",
            Part::ManagedPolicy => "managed policy",
        }
    }
}

/// One watched call: its source, name (Lambda's without the API version suffix), the
/// part it touches, where the record names that part, and what it does to it.
struct Watched {
    source: &'static str,
    name: &'static str,
    part: Part,
    field: &'static str,
    does: &'static str,
}

const fn w(
    source: &'static str,
    name: &'static str,
    part: Part,
    field: &'static str,
    does: &'static str,
) -> Watched {
    Watched {
        source,
        name,
        part,
        field,
        does,
    }
}

const EVENTS: &str = "events.amazonaws.com";
const LAMBDA: &str = "lambda.amazonaws.com";
const IAM: &str = "iam.amazonaws.com";
const SNS: &str = "sns.amazonaws.com";
const TRAIL: &str = "cloudtrail.amazonaws.com";
const S3: &str = "s3.amazonaws.com";
const KMS: &str = "kms.amazonaws.com";

static WATCHED: &[Watched] = &[
    w(EVENTS, "DisableRule", Part::Rule, "name", "disabled"),
    w(EVENTS, "DeleteRule", Part::Rule, "name", "deleted"),
    w(
        EVENTS,
        "PutRule",
        Part::Rule,
        "name",
        "rewritten (its pattern or state)",
    ),
    w(
        EVENTS,
        "RemoveTargets",
        Part::Rule,
        "rule",
        "stripped of targets",
    ),
    w(
        EVENTS,
        "RemovePermission",
        Part::Bus,
        "eventBusName",
        "stripped of a permission",
    ),
    w(
        EVENTS,
        "PutPermission",
        Part::Bus,
        "eventBusName",
        "given a new permission",
    ),
    w(
        LAMBDA,
        "DeleteFunction",
        Part::Function,
        "functionName",
        "deleted",
    ),
    w(
        LAMBDA,
        "PutFunctionConcurrency",
        Part::Function,
        "functionName",
        "given a concurrency limit (0 stops it)",
    ),
    w(
        LAMBDA,
        "UpdateFunctionCode",
        Part::Function,
        "functionName",
        "given new code",
    ),
    w(
        LAMBDA,
        "UpdateFunctionConfiguration",
        Part::Function,
        "functionName",
        "reconfigured",
    ),
    w(
        LAMBDA,
        "RemovePermission",
        Part::Function,
        "functionName",
        "stripped of an invoke permission",
    ),
    w(
        IAM,
        "PutRolePolicy",
        Part::Role,
        "roleName",
        "given an inline policy",
    ),
    w(
        IAM,
        "DeleteRolePolicy",
        Part::Role,
        "roleName",
        "stripped of an inline policy",
    ),
    w(
        IAM,
        "AttachRolePolicy",
        Part::Role,
        "roleName",
        "given a managed policy",
    ),
    w(
        IAM,
        "DetachRolePolicy",
        Part::Role,
        "roleName",
        "stripped of a managed policy",
    ),
    w(
        IAM,
        "PutRolePermissionsBoundary",
        Part::Role,
        "roleName",
        "given a permissions boundary",
    ),
    w(
        IAM,
        "DeleteRolePermissionsBoundary",
        Part::Role,
        "roleName",
        "stripped of its permissions boundary",
    ),
    w(
        IAM,
        "UpdateAssumeRolePolicy",
        Part::Role,
        "roleName",
        "given a new trust policy",
    ),
    w(IAM, "DeleteRole", Part::Role, "roleName", "deleted"),
    w(
        IAM,
        "CreatePolicyVersion",
        Part::ManagedPolicy,
        "policyArn",
        "given a new version",
    ),
    w(
        IAM,
        "SetDefaultPolicyVersion",
        Part::ManagedPolicy,
        "policyArn",
        "switched to another version",
    ),
    w(
        IAM,
        "DeletePolicyVersion",
        Part::ManagedPolicy,
        "policyArn",
        "stripped of a version",
    ),
    w(SNS, "DeleteTopic", Part::Topic, "topicArn", "deleted"),
    w(
        SNS,
        "SetTopicAttributes",
        Part::Topic,
        "topicArn",
        "changed",
    ),
    w(
        SNS,
        "RemovePermission",
        Part::Topic,
        "topicArn",
        "stripped of a permission",
    ),
    w(
        SNS,
        "Unsubscribe",
        Part::Subscription,
        "subscriptionArn",
        "lost a subscriber",
    ),
    w(TRAIL, "StopLogging", Part::Trail, "name", "stopped"),
    w(TRAIL, "DeleteTrail", Part::Trail, "name", "deleted"),
    w(TRAIL, "UpdateTrail", Part::Trail, "name", "reconfigured"),
    w(
        TRAIL,
        "PutEventSelectors",
        Part::Trail,
        "trailName",
        "given new event selectors",
    ),
    w(
        S3,
        "PutBucketPolicy",
        Part::EvidenceBucket,
        "bucketName",
        "given a new bucket policy",
    ),
    w(
        S3,
        "DeleteBucketPolicy",
        Part::EvidenceBucket,
        "bucketName",
        "stripped of its bucket policy",
    ),
    w(
        S3,
        "PutBucketLifecycle",
        Part::EvidenceBucket,
        "bucketName",
        "given a new lifecycle",
    ),
    w(
        S3,
        "PutBucketLifecycleConfiguration",
        Part::EvidenceBucket,
        "bucketName",
        "given a new lifecycle",
    ),
    w(
        S3,
        "DeleteBucketLifecycle",
        Part::EvidenceBucket,
        "bucketName",
        "stripped of its lifecycle",
    ),
    w(
        S3,
        "PutBucketVersioning",
        Part::EvidenceBucket,
        "bucketName",
        "given new versioning",
    ),
    w(
        S3,
        "PutBucketNotification",
        Part::EvidenceBucket,
        "bucketName",
        "given new event notifications (the Security Hub export reads them)",
    ),
    w(
        S3,
        "PutObjectLockConfiguration",
        Part::EvidenceBucket,
        "bucketName",
        "given a new Object Lock configuration",
    ),
    w(
        EVENTS,
        "PutTargets",
        Part::Rule,
        "rule",
        "given new targets (a target's id reused replaces it)",
    ),
    w(
        SNS,
        "SetSubscriptionAttributes",
        Part::Subscription,
        "subscriptionArn",
        "had a subscription changed (a filter policy can drop every alert)",
    ),
    w(
        LAMBDA,
        "PutFunctionEventInvokeConfig",
        Part::Function,
        "functionName",
        "given new retry and event-age limits",
    ),
    w(
        LAMBDA,
        "UpdateFunctionEventInvokeConfig",
        Part::Function,
        "functionName",
        "given new retry and event-age limits",
    ),
    w(
        LAMBDA,
        "DeleteFunctionEventInvokeConfig",
        Part::Function,
        "functionName",
        "stripped of its retry and dead-letter settings",
    ),
    w(
        KMS,
        "DisableKey",
        Part::Key,
        "keyId",
        "disabled (nothing it encrypts can be read: alerts, evidence, the functions' settings)",
    ),
    w(
        KMS,
        "ScheduleKeyDeletion",
        Part::Key,
        "keyId",
        "scheduled for deletion",
    ),
    w(
        KMS,
        "PutKeyPolicy",
        Part::Key,
        "keyId",
        "given a new key policy",
    ),
    w(
        SNS,
        "PutDataProtectionPolicy",
        Part::Topic,
        "resourceArn",
        "given a data protection policy (it can deny or mask alerts)",
    ),
    w(
        S3,
        "PutBucketEncryption",
        Part::EvidenceBucket,
        "bucketName",
        "given new default encryption (a key the guards cannot use stops every evidence write)",
    ),
    w(
        S3,
        "DeleteBucketEncryption",
        Part::EvidenceBucket,
        "bucketName",
        "stripped of its encryption by the guard's key",
    ),
    w(
        S3,
        "DeleteBucket",
        Part::EvidenceBucket,
        "bucketName",
        "deleted",
    ),
    w(
        LAMBDA,
        "DeleteFunctionConcurrency",
        Part::Function,
        "functionName",
        "stripped of its reserved concurrency",
    ),
    w(
        EVENTS,
        "UpdateEventBus",
        Part::Bus,
        "name",
        "reconfigured (its encryption key or dead-letter queue)",
    ),
    w(EVENTS, "DeleteEventBus", Part::Bus, "name", "deleted"),
];

/// Lambda's event names carry the API version (`DeleteFunction20150331`,
/// `UpdateFunctionCode20150331v2`): the name without it.
fn base_name(name: &str) -> &str {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let no_v = match name.rsplit_once('v') {
        Some((head, tail)) if digits(tail) => head,
        _ => name,
    };
    let head = no_v.trim_end_matches(|c: char| c.is_ascii_digit());
    // Only a date (eight digits) is a version: `PutRule` stays itself.
    if no_v.len() - head.len() == 8 {
        head
    } else {
        name
    }
}

/// The calls watched, as `(eventSource, eventName)`: what the tamper rule routes (Lambda's
/// names as CloudTrail writes them today).
pub fn watched_calls() -> impl Iterator<Item = (&'static str, &'static str)> {
    WATCHED.iter().map(|w| (w.source, w.name))
}

/// A name as a call gives it: an ARN's last part (`rule/NAME`, `trail/NAME`,
/// `function:NAME[:QUALIFIER]`), or the name itself.
fn short(part: Part, v: &str) -> String {
    let Some(arn) = parse_arn(v) else {
        return match part {
            // A partial Lambda ARN (`ACCOUNT:function:NAME`) or `NAME:QUALIFIER`.
            Part::Function => {
                let after = v.rsplit_once("function:").map_or(v, |(_, n)| n);
                after.split(':').next().unwrap_or(after).to_string()
            }
            _ => v.to_string(),
        };
    };
    match part {
        Part::Function => arn
            .resource
            .strip_prefix("function:")
            .map_or(arn.resource, |n| n.split(':').next().unwrap_or(n))
            .to_string(),
        _ => arn
            .resource
            .rsplit('/')
            .next()
            .unwrap_or(arn.resource)
            .to_string(),
    }
}

/// Whether the named value is this deployment's part.
fn is_ours(dep: &Deployment, part: Part, value: &str) -> bool {
    let named = part.named_in(dep);
    let v = short(part, value);
    match part {
        Part::Rule | Part::MemberRule | Part::Function | Part::Trail | Part::Key => {
            named.iter().any(|x| short(part, x) == v)
        }
        // The default bus when the deployment names none.
        Part::Bus => short(part, named.first().copied().unwrap_or("default")) == v,
        // IAM names are unique without regard to case: `CROSSGUARD-…` is the same role.
        Part::Role => named
            .iter()
            .any(|x| short(part, x).eq_ignore_ascii_case(&v)),
        Part::Topic | Part::EvidenceBucket => named.contains(&value),
        Part::Subscription => named.iter().any(|t| {
            value
                .strip_prefix(t)
                .is_some_and(|rest| rest.starts_with(':'))
        }),
        Part::ManagedPolicy => named.iter().any(|p| same_policy(p, value)),
    }
}

/// Whether two managed policy ARNs are one policy: the same account and name. IAM names
/// are unique in an account without regard to case or path, so neither tells them apart.
fn same_policy(ours: &str, value: &str) -> bool {
    if ours == value {
        return true;
    }
    let name = |arn: &str| {
        parse_arn(arn).and_then(|a| {
            let path_and_name = a.resource.strip_prefix("policy/")?;
            let name = path_and_name.rsplit('/').next()?;
            Some((a.account.to_string(), name.to_ascii_lowercase()))
        })
    };
    name(ours).is_some_and(|o| name(value) == Some(o))
}

/// Whether the named part is in the deployment's own account, for the parts that are
/// only there (everything but roles and member rules: the member roles and forwarding
/// rules are in every account, and a managed policy's ARN names its account). A part
/// named by an ARN is in the ARN's account, wherever the call was recorded (a
/// subscriber's account, say); one named by its name alone is in the account that
/// recorded the call, read from `recipientAccountId` only (the caller's own account is
/// not the resource's). `Err` when that account cannot be read.
fn in_deployment_account(
    dep: &Deployment,
    part: Part,
    value: &str,
    record: &Value,
) -> Result<bool, String> {
    let home = match (part, dep.account.as_deref()) {
        (Part::Role | Part::ManagedPolicy | Part::MemberRule, _) | (_, None) => return Ok(true),
        (_, Some(home)) => home,
    };
    // The deployment's own account, and any its entry for this part names by ARN (an
    // organization trail in the management account, say).
    let entries = part.named_in(dep);
    let theirs = |account: &str| {
        account == home
            || entries
                .iter()
                .filter_map(|e| parse_arn(e))
                .any(|a| a.account == account)
    };
    if let Some(arn) = parse_arn(value).filter(|a| !a.account.is_empty()) {
        return Ok(theirs(arn.account));
    }
    match record.get("recipientAccountId") {
        Some(Value::String(s)) if !s.is_empty() => Ok(theirs(s)),
        _ => Err(format!(
            "names the {} {value} without an account, and the record has no recipientAccountId: whose it is cannot be told",
            part.noun()
        )),
    }
}

/// The call that safely undoes this one, if any: a disabled rule or key is enabled again,
/// a stopped trail started again, a key's deletion cancelled. Nothing else has an undo
/// that cannot do harm.
fn undo_of(source: &str, base: &str, value: &str, record: &Value) -> Option<Value> {
    match (source, base) {
        (EVENTS, "DisableRule") => Some(json!({
            "call": "EnableRule",
            "name": value,
            "event_bus": record.pointer("/requestParameters/eventBusName").and_then(Value::as_str),
        })),
        (TRAIL, "StopLogging") => Some(json!({"call": "StartLogging", "name": value})),
        (KMS, "DisableKey") => Some(json!({"call": "EnableKey", "name": value})),
        // A key whose deletion is cancelled is left disabled: it is enabled again too.
        (KMS, "ScheduleKeyDeletion") => Some(json!({"call": "CancelKeyDeletion", "name": value})),
        _ => None,
    }
}

/// The part a watched call names, as it names it.
fn target(record: &Value, watched: &Watched) -> Result<String, String> {
    let Some(Value::Object(params)) = record.get("requestParameters") else {
        return Err(format!(
            "names no {} (its requestParameters are no object)",
            watched.part.noun()
        ));
    };
    match params.get(watched.field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        // EventBridge's bus calls name no bus when they mean the default one: only
        // parameters that were read and leave the name out say so.
        None | Some(Value::Null) if watched.part == Part::Bus => Ok("default".to_string()),
        _ => Err(format!(
            "names no {} (requestParameters.{})",
            watched.part.noun(),
            watched.field
        )),
    }
}

/// Which of the deployment's parts a watched call names (`None`: not the deployment's);
/// `Err` when that cannot be told (a key named by alias: its alias may be anything).
fn ours(
    dep: &Deployment,
    watched: &Watched,
    value: &str,
    record: &Value,
) -> Result<Option<Part>, String> {
    if watched.part == Part::Key && value.contains("alias/") {
        return Err(format!(
            "names a key by alias ({value}): whether it is the guard's key cannot be told"
        ));
    }
    if is_ours(dep, watched.part, value) && in_deployment_account(dep, watched.part, value, record)?
    {
        return Ok(Some(watched.part));
    }
    // A rule call may name a member's forwarding rule: the guard's in every account.
    if watched.part == Part::Rule && is_ours(dep, Part::MemberRule, value) {
        return Ok(Some(Part::MemberRule));
    }
    Ok(None)
}

/// The watched call a record is: `None` when it is none, `Err` when it may be one but
/// cannot be told (an `eventName` or `eventSource` that is no string, or a watched call
/// spelled otherwise: padded, another case, or without its source).
fn watched_call(record: &Value) -> Result<Option<&'static Watched>, String> {
    let text = |key: &str| match record.get(key) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(other) => Err(format!(
            "its {key} is {}: which call it is cannot be told",
            crate::policy::json_type(other)
        )),
    };
    let (name, source) = (text("eventName")?, text("eventSource")?);
    if name.is_empty() {
        return Ok(None);
    }
    let base = if source == LAMBDA {
        base_name(name)
    } else {
        name
    };
    if let Some(w) = WATCHED
        .iter()
        .find(|w| w.source == source && w.name == base)
    {
        return Ok(Some(w));
    }
    fn trim(s: &str) -> &str {
        s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
    }
    let (name_bare, source_bare) = (trim(name), trim(source));
    let doubtful = WATCHED.iter().find(|w| {
        (w.name.eq_ignore_ascii_case(name_bare)
            || (w.source == LAMBDA && w.name.eq_ignore_ascii_case(base_name(name_bare))))
            && (source_bare.is_empty() || w.source.eq_ignore_ascii_case(source_bare))
    });
    match doubtful {
        Some(w) => Err(format!(
            "{name:?} from {source:?} may be {} from {} spelled otherwise",
            w.name, w.source
        )),
        None => Ok(None),
    }
}

/// What the alert says beyond what was done: nothing when it is undone, else where to
/// restore it from (a member's part in its own account, which tamper-guard does not
/// act in).
fn restore_hint(part: Part, undone: bool, account: Option<&str>) -> String {
    match (part, undone) {
        (_, true) => String::new(),
        (Part::MemberRule, false) => format!(
            ": not undone from here (tamper-guard does not act in member accounts), and events from account {} may no longer reach the guard: restore it there from infra/member-account.yaml (the StackSet)",
            account.unwrap_or("(unknown)")
        ),
        (_, false) => ": no safe undo, restore it from the deployment (the template)".to_string(),
    }
}

/// Decide a record against the deployment: `None` when the call is not one of the
/// watched calls or touches none of the guard's parts.
pub fn decide(
    record: &Value,
    duplicate: Option<&Duplicate>,
    dep: &Deployment,
    allowlist: &Allowlist,
    opts: Options,
) -> Option<Decision> {
    let summary = summarize(record);
    let error = |why: String| Decision {
        event: Some(summary.clone()),
        severity: Some("critical"),
        ..Decision::error(
            None,
            format!("could not be checked for tampering with the guard: {why}"),
        )
    };
    // A duplicate on the call's name or source, or around the record: the name kept
    // may not be the call that was made.
    if let Some(dup) = duplicate.filter(|d| d.identity) {
        return Some(error(dup.reason.clone()));
    }
    let watched = match watched_call(record) {
        Ok(w) => w?,
        Err(why) => return Some(error(why)),
    };
    let name = summary.name.as_deref().unwrap_or(watched.name);
    let source = watched.source;
    let base = watched.name;
    if let Some(dup) = duplicate {
        return Some(error(dup.reason.clone()));
    }
    let value = match target(record, watched) {
        Ok(v) => v,
        Err(why) => return Some(error(format!("{name} {why}"))),
    };
    let part = match ours(dep, watched, &value, record) {
        Ok(Some(part)) => part,
        Ok(None) => return None,
        Err(why) => return Some(error(format!("{name} {why}"))),
    };
    let tampered = Tampered {
        part: part.noun(),
        name: value.clone(),
        did: watched.does,
    };
    let who = summary
        .actor
        .clone()
        .unwrap_or_else(|| "an unknown actor".into());
    // An errorCode that is no plain error name cannot say the call failed.
    if let Err(why) = crate::event::failed(record) {
        return Some(error(format!("{name}: {why}")));
    }
    if let Some(code) = &summary.error_code {
        // A failed call changed nothing (SPEC §3): recorded, not acted on.
        let reason = format!(
            "{who} tried to have the guard's {} {value} {}, and failed ({code}): nothing changed",
            part.noun(),
            watched.does
        );
        return Some(Decision {
            event: Some(summary.clone()),
            tamper: Some(tampered),
            ..Decision::ignored(None, reason)
        });
    }
    // A member's rule is in the member's account, where tamper-guard does not act: its
    // undo would be made on a namesake in the deployment's own account, or fail.
    let undo = match part {
        Part::MemberRule => None,
        _ => undo_of(source, base, &value, record),
    };
    let mode = opts.mode.unwrap_or(allowlist.mode);
    let action = match (mode, &undo) {
        (Mode::Remediate, Some(_)) => Action::Remediate,
        // Alerting changes nothing: a tampered guard is reported even in dry-run.
        _ => Action::Alert,
    };
    let restore = restore_hint(part, undo.is_some(), summary.account.as_deref());
    let reason = format!(
        "the guard's {} {value} was {} by {who}{restore}",
        part.noun(),
        watched.does,
    );
    Some(Decision {
        action,
        mode: Some(mode),
        remediation: undo.map(Plan::for_undo),
        severity: Some("critical"),
        tamper: Some(tampered),
        event: Some(summary),
        ..Decision::bare(Verdict::Violation, None, reason)
    })
}
