//! CloudTrail events (SPEC §3): the EventBridge envelope, the bare record, and log files
//! (`{"Records": […]}`). Read leniently, field by field, because real records vary: a
//! `sessionIssuer` of `{}`, `bucketPolicy` as an object but IAM/KMS policies as strings
//! (IAM's `responseElements` URL-encoded), `requestParameters: null` on failed calls,
//! fields missing before eventVersion 1.08. That is why this is not `aws_lambda_events`'
//! typed CloudTrail structs: they refuse some of these real shapes (see
//! `fixtures/cloudtrail`), and a refused event would be an event the guard never sees.
//! Lenient about *shape*, strict about *text*: every input is first read exactly
//! ([`json::from_str`]), and a duplicate key makes the record an `error`.

use crate::json;
use crate::kinds::{self, IdFrom, KindSpec, PolicyIn};

mod grant;
use crate::policy::PolicyDocument;
use crate::principal::{is_account_id, parse_arn};
use crate::resource::{Resource, ResourceKind};
use serde::Serialize;
use serde_json::Value;
use std::sync::LazyLock;

/// The EventBridge `detail-type` of CloudTrail API calls.
pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// The calls crossguard guards: event name, event source, resource kind (from the
/// registry, [`crate::kinds`]).
pub static GUARDED: LazyLock<Vec<(&'static str, &'static str, ResourceKind)>> =
    LazyLock::new(|| kinds::guarded_events().collect());

/// Who did what, when, from where: carried into decisions, alerts and evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventSummary {
    /// `eventID`: what evidence is keyed by.
    pub id: Option<String>,
    /// `eventName`.
    pub name: Option<String>,
    /// `eventSource`.
    pub source: Option<String>,
    /// `eventTime` (RFC 3339).
    pub time: Option<String>,
    /// `awsRegion`.
    pub region: Option<String>,
    /// The account the event was recorded in.
    pub account: Option<String>,
    /// The caller's ARN (`userIdentity.arn`).
    pub actor: Option<String>,
    /// For an assumed role, the role's ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_role: Option<String>,
    /// `userIdentity.type` (`AssumedRole`, `IAMUser`, `Root`, …).
    pub actor_type: Option<String>,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// `errorCode` of a failed call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `errorMessage` of a failed call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl EventSummary {
    /// The ARNs `ignore_actors` is matched against.
    pub fn actor_arns(&self) -> Vec<&str> {
        self.actor
            .iter()
            .chain(self.actor_role.iter())
            .map(String::as_str)
            .collect()
    }

    /// The ARNs `ignore_actors` is matched against for a change to a resource of
    /// `account`: only the actor's own identities in that account. The guard fixes a
    /// resource from its owner's account; a role of the same name in any other account
    /// (`arn:aws:iam::*:role/crossguard-*` matches it too) is somebody else.
    pub fn actor_arns_in(&self, account: &str) -> Vec<&str> {
        self.actor_arns()
            .into_iter()
            .filter(|a| parse_arn(a).is_some_and(|arn| arn.account == account))
            .collect()
    }
}

/// The policy an event carries.
#[derive(Debug, Clone, PartialEq)]
pub enum CarriedPolicy {
    /// The policy, read.
    Document(PolicyDocument),
    /// The call leaves no policy of its own (DeleteBucketPolicy; CreateKey with the
    /// default key policy, which lets in the owner alone).
    None(&'static str),
    /// The call added one grant and carries that alone (AddPermission, PutPermission):
    /// the statement, as a policy of its own. Whether the grant is approved can be
    /// decided on it; a fix only on the whole live policy.
    Added(PolicyDocument),
    /// A KMS grant: its grantee and retiring principal as statements, decided on their
    /// own (the key policy is another door); fixed by revoking the grant.
    KeyGrant {
        /// The grant as statements.
        doc: PolicyDocument,
        /// `responseElements.grantId`, what RevokeGrant takes (`None`: not in the record).
        grant_id: Option<String>,
    },
    /// A bucket ACL (a door beside the bucket policy), decided grant by grant.
    Acl(crate::acl::Acl),
    /// Block Public Access settings, of a bucket or of the account.
    PublicAccessBlock(crate::bpa::Change),
    /// A grant decided as the record makes it, never fixed from here (another account's
    /// access point on the bucket: `what` names it).
    Record {
        /// The grant as statements.
        doc: PolicyDocument,
        /// What makes it, for the reason.
        what: String,
    },
    /// The event's copy could not be read; the live policy can still be.
    Unreadable(String),
}

/// One CloudTrail record, read.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedEvent {
    /// A guarded call that succeeded.
    Guarded {
        /// Who, what, when.
        summary: EventSummary,
        /// The resource changed.
        resource: Resource,
        /// The policy the call set, as the event carries it.
        policy: CarriedPolicy,
    },
    /// Recorded, not acted on.
    Ignored {
        /// Who, what, when.
        summary: EventSummary,
        /// The resource, when the record names one.
        resource: Option<Resource>,
        /// Why it is ignored.
        reason: String,
    },
    /// A guarded call crossguard cannot make sense of.
    Invalid {
        /// Who, what, when, as far as it can be read.
        summary: EventSummary,
        /// Why it cannot be checked.
        reason: String,
    },
}

impl ParsedEvent {
    /// Who, what, when: whichever the record is.
    pub fn summary(&self) -> &EventSummary {
        match self {
            ParsedEvent::Guarded { summary, .. }
            | ParsedEvent::Ignored { summary, .. }
            | ParsedEvent::Invalid { summary, .. } => summary,
        }
    }
}

/// Why an input holds no CloudTrail record to decide.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// The text is not JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// JSON, but no shape crossguard reads.
    #[error("not a CloudTrail event: expected an EventBridge event, a CloudTrail record or a log file with \"Records\"")]
    Shape,
    /// A duplicate key outside every record.
    #[error("could not be checked: {0}")]
    Duplicate(String),
}

/// The CloudTrail records inside any accepted input, with what each envelope said.
pub enum Record<'a> {
    /// A CloudTrail record.
    CloudTrail(&'a Value),
    /// An EventBridge event of another detail-type.
    OtherDetailType {
        /// The EventBridge event's id.
        id: Option<String>,
        /// Its `detail-type`.
        detail_type: String,
    },
}

/// The records of an input: an EventBridge event, a bare record, or a log file.
pub fn records(input: &Value) -> Result<Vec<Record<'_>>, EventError> {
    let Value::Object(map) = input else {
        return Err(EventError::Shape);
    };
    if let Some(detail) = map.get("detail") {
        let dt = map.get("detail-type").and_then(Value::as_str).unwrap_or("");
        if dt != DETAIL_TYPE {
            return Ok(vec![Record::OtherDetailType {
                id: str_of(input, "id"),
                detail_type: dt.to_string(),
            }]);
        }
        return if detail.is_object() {
            Ok(vec![Record::CloudTrail(detail)])
        } else {
            Err(EventError::Shape)
        };
    }
    if let Some(list) = map.get("Records") {
        return match list {
            Value::Array(items) => Ok(items.iter().map(Record::CloudTrail).collect()),
            _ => Err(EventError::Shape),
        };
    }
    if map.contains_key("eventName") || map.contains_key("eventSource") {
        return Ok(vec![Record::CloudTrail(input)]);
    }
    Err(EventError::Shape)
}

/// A record of an input read with [`json::from_str`], with the duplicate key that makes
/// it unreadable, if any.
pub struct CheckedRecord<'a> {
    /// The record.
    pub record: Record<'a>,
    /// The duplicate key that makes it unreadable, if any.
    pub duplicate: Option<Duplicate>,
}

/// A duplicate JSON key in or around a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The duplicate's path, as a message.
    pub reason: String,
    /// On `eventName` / `eventSource`, or on the envelope: which call this is, or whether
    /// it is one at all, cannot be told.
    pub identity: bool,
}

/// The records of an input read exactly ([`records`], plus duplicate keys). A duplicate
/// in a log file outside every record (`"Records"` twice) refuses the whole input.
pub fn records_checked(input: &json::Checked) -> Result<Vec<CheckedRecord<'_>>, EventError> {
    let records = records(&input.value)?;
    let envelope = input.value.get("detail").is_some();
    let log = !envelope && input.value.get("Records").is_some();
    if log {
        let within = |p: &str| p.starts_with("Records[");
        if let Some(p) = input.duplicates.iter().find(|p| !within(p)) {
            return Err(EventError::Duplicate(json::duplicate_message(p)));
        }
    }
    Ok(records
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            let prefix = if log {
                format!("Records[{i}]")
            } else {
                String::new()
            };
            let inner = if envelope { "detail" } else { prefix.as_str() };
            let duplicate = duplicate_in(input, &prefix, inner);
            CheckedRecord { record, duplicate }
        })
        .collect())
}

/// The duplicate key of one CloudTrail record read alone (a log file's record, as
/// `replay` and `event` read them one by one). `at` is where the record sits in its file
/// (`Records[2]`): the reason names the key's path from there, as when the file is read
/// whole; `""` for a record on its own.
pub fn record_duplicate(input: &json::Checked, at: &str) -> Option<Duplicate> {
    let mut dup = duplicate_in(input, "", "")?;
    if let (false, Some(p)) = (at.is_empty(), input.duplicate_under("")) {
        let sep = if p.starts_with('[') { "" } else { "." };
        dup.reason = json::duplicate_message(&format!("{at}{sep}{p}"));
    }
    Some(dup)
}

/// The first duplicate at or under `prefix`, and whether any bears on the call's
/// identity: one on the record's own `eventName`/`eventSource` (the record at `inner`),
/// on the record key itself, or outside the record (the envelope). Every noted duplicate
/// is looked at, not only the first (a repeated `x` before a repeated `eventName` once
/// hid it), and more duplicates than were noted leave the identity in doubt.
fn duplicate_in(input: &json::Checked, prefix: &str, inner: &str) -> Option<Duplicate> {
    let reason = input.duplicate_reason(prefix)?;
    let identity = input.overflow
        || input
            .duplicates
            .iter()
            .filter(|p| json::is_under(p, prefix))
            .any(|p| {
                if !json::is_under(p, inner) {
                    return true;
                }
                let rel = p[inner.len()..].trim_start_matches('.');
                p.len() == inner.len() || rel == "eventName" || rel == "eventSource"
            });
    Some(Duplicate { reason, identity })
}

/// Parse one record read exactly. A duplicate key makes a guarded call (or one whose
/// identity is in doubt) invalid, decided `error`: which policy, resource or outcome it
/// carries cannot be told. Another call stays ignored, as its text says.
pub fn parse_checked_record(record: &Value, duplicate: Option<&Duplicate>) -> ParsedEvent {
    let parsed = parse_record(record);
    let Some(dup) = duplicate else {
        return parsed;
    };
    let guarded = parsed
        .summary()
        .name
        .as_deref()
        .is_some_and(kinds::is_guarded_name);
    if !guarded && !dup.identity {
        return parsed;
    }
    let summary = match parsed {
        ParsedEvent::Guarded { summary, .. }
        | ParsedEvent::Ignored { summary, .. }
        | ParsedEvent::Invalid { summary, .. } => summary,
    };
    ParsedEvent::Invalid {
        summary,
        reason: format!("could not be checked: {}", dup.reason),
    }
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn path<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| v.get(k))
}

fn path_str(v: &Value, keys: &[&str]) -> Option<String> {
    match path(v, keys)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Who, what, when, from where: read from any record, guarded or not.
pub fn summarize(record: &Value) -> EventSummary {
    let ui = record.get("userIdentity").cloned().unwrap_or(Value::Null);
    let actor = path_str(&ui, &["arn"]);
    // Only as the issuer names it: a role's path is not in its session's ARN, and
    // `ignore_actors` tells `role/crossguard-x` from `role/evil/crossguard-x` by it.
    let actor_role = path_str(&ui, &["sessionContext", "sessionIssuer", "arn"]);
    let error_code = match record.get("errorCode") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(Value::String(_)) => None,
        Some(other) => Some(other.to_string()),
    };
    EventSummary {
        id: str_of(record, "eventID"),
        name: str_of(record, "eventName"),
        source: str_of(record, "eventSource"),
        time: str_of(record, "eventTime"),
        region: str_of(record, "awsRegion"),
        account: str_of(record, "recipientAccountId").or_else(|| path_str(&ui, &["accountId"])),
        actor,
        actor_role,
        actor_type: path_str(&ui, &["type"]),
        source_ip: str_of(record, "sourceIPAddress"),
        user_agent: str_of(record, "userAgent"),
        error_code,
        error_message: str_of(record, "errorMessage"),
    }
}

/// The event's `resources[]` entry for the resource of this kind, if it lists one.
fn resource_entry<'r>(record: &'r Value, spec: &KindSpec) -> Option<&'r Value> {
    record
        .get("resources")?
        .as_array()?
        .iter()
        .find(|r| r.get("type").and_then(Value::as_str) == Some(spec.cfn_type))
}

/// The owner account: the event's resource entry of the right type, else the account
/// that recorded the event.
fn owner_of(record: &Value, spec: &KindSpec, summary: &EventSummary) -> Option<String> {
    resource_entry(record, spec)
        .and_then(|r| str_of(r, "accountId"))
        .or_else(|| summary.account.clone())
}

fn carried(v: Option<&Value>, missing: &str) -> CarriedPolicy {
    match v {
        None | Some(Value::Null) => CarriedPolicy::Unreadable(missing.to_string()),
        Some(Value::String(s)) if s.is_empty() => CarriedPolicy::Unreadable(missing.to_string()),
        Some(v) => match PolicyDocument::from_json(v) {
            Ok(d) => CarriedPolicy::Document(d),
            Err(e) => CarriedPolicy::Unreadable(format!("the event's policy is unreadable: {e}")),
        },
    }
}

/// Parse one CloudTrail record.
pub fn parse_record(record: &Value) -> ParsedEvent {
    let summary = summarize(record);
    let name = summary.name.clone().unwrap_or_default();
    let source = summary.source.clone().unwrap_or_default();
    let Some((spec, event)) = kinds::event(&source, &name) else {
        if let Some(why) = doubtful_call(record) {
            return ParsedEvent::Invalid {
                summary,
                reason: format!("could not be checked: {why}"),
            };
        }
        let reason = if name.is_empty() {
            "a record without eventName is not a policy change crossguard guards".to_string()
        } else if kinds::is_guarded_name(&name) {
            format!("{name} from {source:?} is not a call crossguard guards")
        } else {
            format!("{name} ({source}) is not a policy change crossguard guards")
        };
        return ParsedEvent::Ignored {
            reason,
            summary,
            resource: None,
        };
    };
    let resource = match event.policy {
        PolicyIn::PublicAccessBlock {
            account_wide: true, ..
        } => owner_of(record, spec, &summary)
            .ok_or_else(|| format!("{name} names no account (recipientAccountId)"))
            .and_then(|a| {
                Resource::every_bucket(&a, summary.region.as_deref())
                    .map_err(|e| format!("{name}: {e}"))
            }),
        PolicyIn::AccessPointCreated => match access_point_bucket(record, &summary) {
            Ok(Some(bucket)) => Ok(bucket),
            Ok(None) => {
                return ParsedEvent::Ignored {
                    reason: "an access point in the bucket's own account: its policy is decided when it is set".into(),
                    summary,
                    resource: None,
                }
            }
            Err(why) => Err(format!("{name}: {why}")),
        },
        _ => resource_of(record, spec, &summary),
    };
    if let Err(why) = failed(record) {
        return ParsedEvent::Invalid {
            summary,
            reason: format!("could not be checked: {why}"),
        };
    }
    if let Some(code) = &summary.error_code {
        let msg = summary
            .error_message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        return ParsedEvent::Ignored {
            reason: format!("the call failed ({code}{msg}): nothing changed"),
            resource: resource.ok(),
            summary,
        };
    }
    let resource = match resource {
        Ok(r) => r,
        Err(reason) => return ParsedEvent::Invalid { summary, reason },
    };
    match policy_in(record, event.policy, &resource) {
        Ok(policy) => ParsedEvent::Guarded {
            summary,
            resource,
            policy,
        },
        Err(reason) => ParsedEvent::Ignored {
            summary,
            resource: Some(resource),
            reason: reason.to_string(),
        },
    }
}

/// A guarded call's `errorCode` says it failed only as a plain error name; absent, null
/// or `""` it succeeded. Any other value (a number, a list, white space) cannot say which,
/// and a call taken for failed is passed over.
pub(crate) fn failed(record: &Value) -> Result<(), String> {
    match record.get("errorCode") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s))
            if s.is_empty() || (bare(s) == s.as_str() && !s.chars().any(char::is_control)) =>
        {
            Ok(())
        }
        Some(Value::String(s)) => Err(format!(
            "its errorCode {s:?} is not an error name: whether the call failed cannot be told"
        )),
        Some(other) => Err(format!(
            "its errorCode is {}: whether the call failed cannot be told",
            crate::policy::json_type(other)
        )),
    }
}

/// Why a record that matches no guarded call may still be one: its `eventName` or
/// `eventSource` is there but not a string, a guarded name comes without its source, or
/// a guarded call is spelled otherwise (padded, another case) by the same service.
fn doubtful_call(record: &Value) -> Option<String> {
    let name = match record.get("eventName") {
        None | Some(Value::Null) => return None,
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Some(format!(
                "its eventName is {}: which call it is cannot be told",
                crate::policy::json_type(other)
            ))
        }
    };
    let source = match record.get("eventSource") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Some(format!(
                "its eventSource is {}: which service's call it is cannot be told",
                crate::policy::json_type(other)
            ))
        }
    };
    let (n, s) = spelled_otherwise(name, source)?;
    Some(if bare(source).is_empty() {
        format!("{name:?} without an eventSource: which service's call it is cannot be told")
    } else {
        format!("{name:?} from {source:?} is {n} from {s} spelled otherwise")
    })
}

/// The guarded call a name and source may stand for when they do not name it exactly:
/// spelled otherwise (padded, another case) by its own service, or without a source.
fn spelled_otherwise(name: &str, source: &str) -> Option<(&'static str, &'static str)> {
    let (name_bare, source_bare) = (bare(name), bare(source));
    GUARDED
        .iter()
        .find(|(n, s, _)| {
            name_bare.eq_ignore_ascii_case(n)
                && (source_bare.is_empty() || source_bare.eq_ignore_ascii_case(s))
                && (name, source) != (*n, *s)
        })
        .map(|&(n, s, _)| (n, s))
}

/// Is a record naming this call (its `eventName` and `eventSource`, as strings) one to
/// decide: a guarded call, or one that may be a guarded call spelled otherwise or
/// without its source (decided `error`, as [`parse_record`] decides it)?
pub fn may_be_guarded(name: Option<&str>, source: Option<&str>) -> bool {
    let Some(name) = name else {
        return false;
    };
    let source = source.unwrap_or("");
    kinds::event(source, name).is_some() || spelled_otherwise(name, source).is_some()
}

/// The policy a guarded call carries, where the registry says it is; `Err` when the
/// call did not change the policy after all (another attribute, an IAM-auth URL).
fn policy_in(
    record: &Value,
    at: PolicyIn,
    resource: &Resource,
) -> Result<CarriedPolicy, &'static str> {
    Ok(match at {
        PolicyIn::Field { paths, missing } => {
            carried(paths.iter().find_map(|p| path(record, p)), missing)
        }
        PolicyIn::FieldOrDefault {
            path: p,
            default,
            empty,
        } => match (request(record), path(record, p)) {
            (Err(why), _) => CarriedPolicy::Unreadable(why),
            (Ok(()), None) => CarriedPolicy::None(default),
            (Ok(()), Some(Value::Null)) => CarriedPolicy::Unreadable(format!("{empty} (null)")),
            (Ok(()), v) => carried(v, empty),
        },
        PolicyIn::Absent(why) => CarriedPolicy::None(why),
        PolicyIn::Attribute {
            path: p,
            absent,
            emptied,
        } => attribute_policy(record, p, absent, emptied)?,
        PolicyIn::Named {
            name_path,
            name,
            value_path,
            other,
        } => {
            // Compared without case: a spelling the service might accept is never
            // waved through as "another attribute". No name: unreadable, not another.
            match path(record, name_path).and_then(Value::as_str).map(bare) {
                Some(n) if n.eq_ignore_ascii_case(name) => {}
                Some(n) if !n.is_empty() => return Err(other),
                _ => {
                    return Ok(CarriedPolicy::Unreadable(
                        "the call names no attribute".into(),
                    ))
                }
            }
            carried(path(record, value_path), "the call carries an empty policy")
        }
        PolicyIn::Grant(shape) => added_grant(record, shape, resource),
        PolicyIn::KmsGrant => kms_grant_policy(record, resource),
        PolicyIn::PublicAccessBlock { deleted, .. } => public_access_block(record, deleted),
        PolicyIn::Acl { absent } => match (bucket_acl(record), absent) {
            (Some(acl), _) => acl,
            (None, Some(why)) => return Err(why),
            // S3 refuses a PutBucketAcl that sets nothing: this record was not read.
            (None, None) => CarriedPolicy::Unreadable(
                "the call carries no ACL crossguard can find (no AccessControlPolicy, canned ACL or grant header): the live ACL decides".into(),
            ),
        },
        PolicyIn::AclsEnabled { deleted: true } => CarriedPolicy::Unreadable(
            "the ownership controls are gone: S3 applies the bucket's ACL again (as ObjectWriter); the record carries no ACL, the live one decides".into(),
        ),
        PolicyIn::AclsEnabled { deleted: false } => acls_enabled(record)?,
        PolicyIn::AccessPointCreated => access_point_grant(record, resource),
        PolicyIn::Live {
            path: p,
            equals,
            safe,
            why,
            otherwise,
        } => match path(record, p).and_then(Value::as_str) {
            Some(v) if v == safe => return Err(otherwise),
            Some(v) if v == equals => CarriedPolicy::Unreadable(why.to_string()),
            // Missing, mistyped or another spelling: whether the call matters cannot be
            // told from the record, so the live state decides.
            _ => CarriedPolicy::Unreadable(format!(
                "the record's {} is neither {safe} nor {equals}: the live configuration decides",
                p.last().copied().unwrap_or("value")
            )),
        },
    })
}

/// The policy an attribute carries (`PolicyIn::Attribute`): `Err` when the call did not
/// touch it.
fn attribute_policy(
    record: &Value,
    p: &[&str],
    absent: Result<&'static str, &'static str>,
    emptied: Result<&'static str, &'static str>,
) -> Result<CarriedPolicy, &'static str> {
    Ok(match attribute(record, p) {
        Err(why) => CarriedPolicy::Unreadable(why),
        // No attribute map at all: a create without attributes has no policy; a
        // call that sets attributes without any cannot be read.
        Ok(Attribute::NoMap) => match absent {
            Ok(none) => CarriedPolicy::None(none),
            Err(_) => CarriedPolicy::Unreadable("the call carries no attributes".into()),
        },
        Ok(Attribute::Absent) => CarriedPolicy::None(absent?),
        Ok(Attribute::Found(Value::Null)) => {
            CarriedPolicy::Unreadable("the call sets the policy attribute to null".into())
        }
        Ok(Attribute::Found(Value::String(s))) if s.is_empty() => match emptied {
            Ok(none) => CarriedPolicy::None(none),
            Err(why) => CarriedPolicy::Unreadable(why.to_string()),
        },
        Ok(Attribute::Found(v)) => carried(Some(v), "the call carries an empty policy"),
    })
}

/// A member of `v` other than `key` that names it in another case or padded, other than
/// S3's subresource marker `[""]` (as `ownershipControls` stands beside
/// `OwnershipControls` in real records): a reader that folds case would read it, where
/// crossguard reads `key`.
fn named_otherwise<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a str> {
    v?.as_object()?
        .iter()
        .find(|(k, val)| {
            k.as_str() != key
                && bare(k).eq_ignore_ascii_case(key)
                && val.as_array().is_none_or(|a| a.len() != 1 || a[0] != "")
        })
        .map(|(k, _)| k.as_str())
}

/// The Block Public Access settings a call leaves (`deleted`: all off).
fn public_access_block(record: &Value, deleted: bool) -> CarriedPolicy {
    let key = "PublicAccessBlockConfiguration";
    if let Some(k) = named_otherwise(record.get("requestParameters"), key) {
        return CarriedPolicy::Unreadable(format!(
            "the event's settings: {k:?} beside {key}: which one S3 read cannot be told"
        ));
    }
    let settings = if deleted {
        Ok(crate::bpa::PublicAccessBlock::OFF)
    } else {
        match path(
            record,
            &["requestParameters", "PublicAccessBlockConfiguration"],
        ) {
            Some(v) => crate::bpa::PublicAccessBlock::from_json(v),
            None => Err("the call carries no PublicAccessBlockConfiguration".into()),
        }
    };
    match settings {
        Ok(settings) => CarriedPolicy::PublicAccessBlock(crate::bpa::Change {
            settings,
            exposed: None,
        }),
        Err(why) => CarriedPolicy::Unreadable(format!("the event's settings: {why}")),
    }
}

/// The bucket a `CreateAccessPoint` record opens to another account: `None` when the
/// access point is in the bucket's own account.
fn access_point_bucket(record: &Value, summary: &EventSummary) -> Result<Option<Resource>, String> {
    let req = path(record, &["requestParameters", "CreateAccessPointRequest"])
        .ok_or("the call carries no CreateAccessPointRequest")?;
    let bucket = str_of(req, "Bucket").ok_or("CreateAccessPointRequest names no Bucket")?;
    // The access point's own account, not whichever account's trail recorded it (the
    // bucket owner's may carry a copy).
    // (`None`: not told; never equal to an account named below.)
    let recorder = access_point_account(record);
    // No BucketAccountId: the bucket is the access point's account's own (S3 Control's
    // default; a cross-account access point must name it). A copy of the record in
    // another account's trail then contradicts it: whose bucket it is cannot be told.
    let owner = match req.get("BucketAccountId") {
        None | Some(Value::Null) => {
            return match path_str(record, &["recipientAccountId"]) {
                Some(r) if Some(&r) != recorder.as_ref() => Err(format!(
                    "it names no BucketAccountId (the access point's own account, {}), yet account {r} recorded it: whose bucket it is cannot be told",
                    recorder.as_deref().unwrap_or("not named")
                )),
                _ => Ok(None),
            }
        }
        Some(Value::String(a)) if Some(a) == recorder.as_ref() => return Ok(None),
        Some(Value::String(a)) if is_account_id(a) => a.clone(),
        Some(other) => {
            return Err(format!(
                "BucketAccountId {other} is not a 12-digit account id"
            ))
        }
    };
    Resource::new(
        ResourceKind::Bucket,
        &bucket,
        &owner,
        summary.region.as_deref(),
    )
    .map(Some)
    .map_err(|e| e.to_string())
}

/// The account an access point is created in: S3 Control's `x-amz-account-id` header,
/// else the caller's account. Not the account that recorded the call: the bucket owner's
/// trail may hold a copy, and its own account would pass the access point as its own.
fn access_point_account(record: &Value) -> Option<String> {
    let header = match path(record, &["requestParameters", "x-amz-account-id"]) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(v)) if v.len() == 1 => v[0].as_str().map(String::from),
        _ => None,
    };
    header
        .or_else(|| path_str(record, &["userIdentity", "accountId"]))
        .filter(|a| is_account_id(a))
}

/// A cross-account access point as the grant it makes on the bucket: the access point's
/// account, for whatever the bucket policy delegates to it.
fn access_point_grant(record: &Value, bucket: &Resource) -> CarriedPolicy {
    let Some(account) = access_point_account(record) else {
        return CarriedPolicy::Unreadable(
            "the record names no account for the access point".into(),
        );
    };
    let name = path_str(record, &["requestParameters", "name"]).unwrap_or_else(|| "?".into());
    let statement = serde_json::json!({
        "Sid": format!("AccessPoint:{name}"),
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:{}:iam::{account}:root", bucket.partition())},
        // What the bucket policy delegates to access points: decided there.
        "Action": ["s3:*"],
        "Resource": [bucket.arn.clone(), format!("{}/*", bucket.arn)],
    });
    match as_policy(&[statement]) {
        CarriedPolicy::Document(doc) => CarriedPolicy::Record {
            doc,
            what: format!("access point {name} in account {account}"),
        },
        other => other,
    }
}

/// What `PutBucketOwnershipControls` does to the bucket's ACL: `Err` (ignored) when it
/// disables ACLs; otherwise the live ACL decides, which the record does not carry.
fn acls_enabled(record: &Value) -> Result<CarriedPolicy, &'static str> {
    let params = record.get("requestParameters");
    let controls = path(record, &["requestParameters", "OwnershipControls"]);
    let rule = path(record, &["requestParameters", "OwnershipControls", "Rule"]);
    // One rule: an object, or XML's list of one.
    let rule = match rule {
        Some(Value::Array(rules)) if rules.len() == 1 => rules.first(),
        other => other,
    };
    let otherwise = named_otherwise(params, "OwnershipControls")
        .or_else(|| named_otherwise(controls, "Rule"))
        .or_else(|| named_otherwise(rule, "ObjectOwnership"));
    if let Some(k) = otherwise {
        return Ok(CarriedPolicy::Unreadable(format!(
            "the call names {k:?} in another case beside what crossguard reads: which S3 read cannot be told"
        )));
    }
    let setting = rule
        .and_then(|r| r.get("ObjectOwnership"))
        .and_then(Value::as_str);
    Ok(CarriedPolicy::Unreadable(match setting {
        Some("BucketOwnerEnforced") => {
            return Err("ACLs are disabled (BucketOwnerEnforced): no ACL grant applies")
        }
        Some(s @ ("ObjectWriter" | "BucketOwnerPreferred")) => format!(
            "ACLs are enabled again ({s}): every grant of the bucket's ACL applies; the record carries no ACL, the live one decides"
        ),
        Some(other) => format!(
            "object ownership {other:?} is not one crossguard knows: the live ACL decides"
        ),
        None => "the call names no ObjectOwnership rule: the live ACL decides".into(),
    }))
}

/// The bucket ACL a call sets; `None` when it sets none.
fn bucket_acl(record: &Value) -> Option<CarriedPolicy> {
    let params = record.get("requestParameters").unwrap_or(&Value::Null);
    match crate::acl::Acl::from_request(params) {
        Ok(Some(acl)) => Some(CarriedPolicy::Acl(acl)),
        Ok(None) => None,
        Err(why) => Some(CarriedPolicy::Unreadable(format!("the event's ACL: {why}"))),
    }
}

/// A KMS grant as `ListGrants` shows it (`granteePrincipal`, `operations`,
/// `retiringPrincipal`, `constraints`, `grantId`, named as `CreateGrant` names them), as
/// `CreateGrant`'s record would carry it: what `scan` decides for each grant.
pub fn kms_grant_listed(grant: &Value, resource: &Resource) -> CarriedPolicy {
    let record = serde_json::json!({
        "requestParameters": grant,
        "responseElements": {"grantId": grant.get("grantId")},
    });
    kms_grant_policy(&record, resource)
}

/// Statements as a policy document of their own.
fn as_policy(statements: &[Value]) -> CarriedPolicy {
    carried(
        Some(&serde_json::json!({"Version": "2012-10-17", "Statement": statements})),
        "",
    )
}

/// The one grant a permission call carries (EventBridge's `PutPermission` with a whole
/// `policy`: that policy).
fn added_grant(record: &Value, shape: kinds::GrantShape, resource: &Resource) -> CarriedPolicy {
    if shape == kinds::GrantShape::EventsPutPermission {
        if let Some(policy) = grant::events_policy(record) {
            return carried(Some(policy), "PutPermission carries an empty policy");
        }
    }
    match grant::statement(record, shape, resource) {
        Ok(st) => match as_policy(&[st]) {
            CarriedPolicy::Document(doc) => CarriedPolicy::Added(doc),
            other => other,
        },
        Err(why) => CarriedPolicy::Unreadable(why),
    }
}

/// A KMS grant as statements, with its id.
fn kms_grant_policy(record: &Value, resource: &Resource) -> CarriedPolicy {
    match grant::kms_grant(record, resource) {
        Ok((statements, grant_id)) => match as_policy(&statements) {
            CarriedPolicy::Document(doc) => CarriedPolicy::KeyGrant { doc, grant_id },
            other => other,
        },
        Err(why) => CarriedPolicy::Unreadable(why),
    }
}

/// What a map of attributes says about one attribute.
enum Attribute<'a> {
    /// The map is absent (or null).
    NoMap,
    /// The map is there, without the attribute.
    Absent,
    /// The attribute's value.
    Found(&'a Value),
}

/// The call's `requestParameters` is an object: a create whose request is missing or of
/// another shape is not read as "nothing set" (no policy, the default).
fn request(record: &Value) -> Result<(), String> {
    match record.get("requestParameters") {
        Some(Value::Object(_)) => Ok(()),
        Some(other) => Err(format!(
            "the call's requestParameters is {}, not an object: could not be checked",
            crate::policy::json_type(other)
        )),
        None => Err("the record carries no requestParameters: could not be checked".into()),
    }
}

/// A name as compared: without surrounding white space or byte-order marks.
fn bare(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// An attribute in a map of attributes (the last key of `keys`), its name matched without
/// case: two spellings of it, or a map that is not an object, make the record unreadable.
fn attribute<'a>(record: &'a Value, keys: &[&str]) -> Result<Attribute<'a>, String> {
    let Some((last, parents)) = keys.split_last() else {
        return Ok(Attribute::NoMap);
    };
    request(record)?;
    let map = match path(record, parents) {
        None | Some(Value::Null) => return Ok(Attribute::NoMap),
        Some(Value::Object(map)) => map,
        Some(_) => return Err("the call's attributes are not a map".into()),
    };
    let mut found = map.iter().filter(|(k, _)| k.eq_ignore_ascii_case(last));
    match (found.next(), found.next()) {
        (Some((_, v)), None) => Ok(Attribute::Found(v)),
        (None, _) => Ok(Attribute::Absent),
        (Some(_), Some(_)) => Err(format!(
            "the record sets {last} twice, in different cases: could not be checked"
        )),
    }
}

/// The resource a guarded call changed, where the registry says the record names it.
/// An ARN or queue URL that names an account names the owner: the copy of a cross-account
/// call recorded in the caller's account still names the resource's own account.
fn resource_of(
    record: &Value,
    spec: &KindSpec,
    summary: &EventSummary,
) -> Result<Resource, String> {
    let name = summary.name.as_deref().unwrap_or("");
    let recorded = owner_of(record, spec, summary)
        .ok_or_else(|| format!("{name} names no account (recipientAccountId)"))?;
    if !is_account_id(&recorded) {
        return Err(format!(
            "{name}: account {recorded:?} is not a 12-digit AWS account id"
        ));
    }
    let mut id = None;
    for from in spec.id_from {
        id = match *from {
            IdFrom::Request(field) => path_str(record, &["requestParameters", field]),
            IdFrom::Path(p) => path_str(record, p),
            IdFrom::OwnersArn(p) => {
                path_str(record, p).filter(|a| parse_arn(a).is_some_and(|p| p.account == recorded))
            }
            IdFrom::ResourcesEntry => resource_entry(record, spec).and_then(|r| str_of(r, "ARN")),
            IdFrom::QueueUrl(p) => path_str(record, p).map(|url| queue_arn(&url, summary)),
            IdFrom::LambdaFunction => lambda_function(record, summary),
            IdFrom::Default(name) => Some(name.to_string()),
            IdFrom::NamedIn { name, account } => named_in(record, spec, summary, name, account),
            IdFrom::UnsuffixedArn(field) => match path_str(record, &["requestParameters", field]) {
                Some(arn) if parse_arn(&arn).is_some_and(|a| ends_like_suffix(a.resource)) => {
                    return Err(format!(
                            "{name}: {field} {arn:?} may be a partial ARN of a secret whose name ends like ARN's random suffix, or a full ARN: which secret cannot be told"
                        ));
                }
                other => other,
            },
        };
        if id.is_some() {
            break;
        }
    }
    let id = id.ok_or_else(|| format!("{name} {}", spec.id_missing))?;
    let owner = match parse_arn(&id) {
        Some(arn) if !arn.account.is_empty() => {
            if !is_account_id(arn.account) {
                return Err(format!("{name}: {id:?} names no 12-digit AWS account"));
            }
            arn.account.to_string()
        }
        _ => recorded,
    };
    Resource::new(spec.kind, &id, &owner, summary.region.as_deref())
        .map_err(|e| format!("{name}: {e}"))
}

/// `requestParameters.NAME` in the account `requestParameters.ACCOUNT` names (ECR's
/// `registryId`), as an ARN; the name alone when no account is given.
fn named_in(
    record: &Value,
    spec: &KindSpec,
    summary: &EventSummary,
    name: &str,
    account: &str,
) -> Option<String> {
    let n = path_str(record, &["requestParameters", name])?;
    let Some(a) = path_str(record, &["requestParameters", account]) else {
        return Some(n);
    };
    let (region, partition) = arn_region(summary.region.as_deref());
    Some(format!(
        "arn:{partition}:{}:{region}:{a}:{}{n}",
        spec.arn_service, spec.arn_prefix
    ))
}

/// The region an ARN built from a record names, and its partition: as
/// [`Resource::new`] does, `us-east-1` when the record names none (a resource there is
/// then not read by a guard of another region, never taken for "nothing shared").
fn arn_region(region: Option<&str>) -> (&str, &'static str) {
    let region = region.unwrap_or("us-east-1");
    (region, crate::principal::partition_of_region(region))
}

/// A secret ARN's last part ends in `-` and six letters or digits, as Secrets Manager's
/// random suffix does.
fn ends_like_suffix(resource: &str) -> bool {
    resource
        .rsplit_once('-')
        .is_some_and(|(_, s)| s.len() == 6 && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME` → the queue's ARN; anything else is
/// kept as written (a name, or a URL the resource check refuses).
fn queue_arn(url: &str, summary: &EventSummary) -> String {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let mut parts = rest.split('/');
    let (Some(host), Some(account), Some(queue), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return url.to_string();
    };
    // sqs.REGION.amazonaws.com, or the legacy REGION.queue.amazonaws.com.
    let region = host
        .strip_prefix("sqs.")
        .and_then(|h| h.split('.').next())
        .or_else(|| host.split(".queue.").next().filter(|r| *r != host))
        .or(summary.region.as_deref());
    let (region, partition) = arn_region(region);
    format!("arn:{partition}:sqs:{region}:{account}:{queue}")
}

/// Lambda's `functionName` (name, `ACCOUNT:function:NAME`, or ARN; any of them with
/// `:QUALIFIER`) and `qualifier`, as the function's (qualified) ARN or name.
fn lambda_function(record: &Value, summary: &EventSummary) -> Option<String> {
    let given = path_str(record, &["requestParameters", "functionName"])?;
    let qualifier = path_str(record, &["requestParameters", "qualifier"]);
    // NAME, ACCOUNT:function:NAME or an ARN, each maybe NAME:QUALIFIER already: the
    // qualifier parameter counts only when the name carries none (a function may be
    // named like its alias).
    let (prefix, rest) = match given.split_once(":function:") {
        Some((head, rest)) if head.starts_with("arn:") => (head.to_string(), rest),
        Some((account, rest)) => {
            let (region, partition) = arn_region(summary.region.as_deref());
            (format!("arn:{partition}:lambda:{region}:{account}"), rest)
        }
        None => (String::new(), given.as_str()),
    };
    let rest = match &qualifier {
        Some(q) if !rest.contains(':') => format!("{rest}:{q}"),
        _ => rest.to_string(),
    };
    Some(if prefix.is_empty() {
        rest
    } else {
        format!("{prefix}:function:{rest}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_shapes() {
        let rec = json!({"eventName": "PutKeyPolicy", "eventSource": "kms.amazonaws.com"});
        assert_eq!(records(&rec).unwrap().len(), 1);
        let env = json!({"detail-type": DETAIL_TYPE, "detail": rec});
        assert!(matches!(records(&env).unwrap()[0], Record::CloudTrail(_)));
        let other = json!({"id": "x", "detail-type": "Object Created", "detail": {}});
        assert!(matches!(
            records(&other).unwrap()[0],
            Record::OtherDetailType { .. }
        ));
        let log = json!({"Records": [rec, rec]});
        assert_eq!(records(&log).unwrap().len(), 2);
        assert_eq!(records(&json!([1])).err(), Some(EventError::Shape));
        assert_eq!(records(&json!({"foo": 1})).err(), Some(EventError::Shape));
    }

    /// A session's role is the one its issuer names, path and all; with no issuer it is
    /// not made up from the session's ARN (which has no path), so no `ignore_actors`
    /// pattern matches a role whose path cannot be known.
    #[test]
    fn a_session_role_is_only_what_its_issuer_names() {
        let s = summarize(
            &json!({"userIdentity": {"arn": "arn:aws:sts::222222222222:assumed-role/crossguard-bucket-guard/s", "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::222222222222:role/evil/crossguard-bucket-guard"}}}}),
        );
        assert_eq!(
            s.actor_role.as_deref(),
            Some("arn:aws:iam::222222222222:role/evil/crossguard-bucket-guard")
        );
        let al = crate::allowlist::Allowlist::from_toml(
            "version = 1\nignore_actors = [\"arn:aws:iam::222222222222:role/crossguard-*\"]\n",
            "a.toml",
        )
        .unwrap();
        for issuer in [
            json!({}),
            json!({"arn": null}),
            json!({"arn": ""}),
            json!({"arn": 7}),
        ] {
            let s = summarize(
                &json!({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::222222222222:assumed-role/crossguard-bucket-guard/s", "sessionContext": {"sessionIssuer": issuer}}}),
            );
            assert_eq!(s.actor_role, None, "{issuer}");
            assert_eq!(al.ignores_actor(&s.actor_arns()), None, "{issuer}");
        }
    }

    #[test]
    fn failed_and_unguarded_calls_are_ignored() {
        let failed = json!({"eventName": "PutBucketPolicy", "eventSource": "s3.amazonaws.com", "errorCode": "AccessDenied",
            "recipientAccountId": "222222222222", "requestParameters": null});
        let ParsedEvent::Ignored { reason, .. } = parse_record(&failed) else {
            panic!()
        };
        assert!(reason.contains("failed (AccessDenied)"), "{reason}");
        let other = json!({"eventName": "GetBucketAcl", "eventSource": "s3.amazonaws.com"});
        assert!(matches!(parse_record(&other), ParsedEvent::Ignored { .. }));
        let spoof = json!({"eventName": "PutBucketPolicy", "eventSource": "evil.example.com"});
        assert!(matches!(parse_record(&spoof), ParsedEvent::Ignored { .. }));
    }

    #[test]
    fn bad_accounts_are_invalid() {
        let r = json!({"eventName": "UpdateAssumeRolePolicy", "eventSource": "iam.amazonaws.com", "recipientAccountId": "000000000",
            "requestParameters": {"roleName": "r", "policyDocument": "{}"}});
        let ParsedEvent::Invalid { reason, .. } = parse_record(&r) else {
            panic!()
        };
        assert!(reason.contains("not a 12-digit"), "{reason}");
    }
}
