//! Decisions as OCSF 1.6 Detection Findings (class 2004), one per decision, for Amazon
//! Security Lake custom sources and SIEMs (`replay`/`scan --format ocsf`). Built from a
//! decision's JSON form (what reports carry, evidence records included) and its report row.

use crate::date::Date;
use crate::kinds::ResourceKind;
use crate::report::{verdict_str, Change, Standing};
use crate::Verdict;
use serde_json::{json, Map, Value};

/// The OCSF schema version written.
pub const VERSION: &str = "1.6.0";
const CLASS_UID: u64 = 2004;
const CATEGORY_UID: u64 = 2;
const ACTIVITY_CREATE: u64 = 1;

/// Milliseconds since the epoch of a UTC time as CloudTrail writes `eventTime`
/// (`2026-11-20T10:04:00Z`, with or without fractions; a space for `T`, no `Z`).
pub fn millis(t: &str) -> Option<i64> {
    let date = Date::parse(t.get(..10)?)?;
    // CloudTrail writes `T…Z`; CloudTrail Lake and some exports a space and no zone (UTC).
    let rest = t.get(10..)?.strip_prefix(['T', ' '])?;
    let clock = rest.strip_suffix('Z').unwrap_or(rest);
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut parts = hms.split(':').map(|p| {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<i64>().ok())
            .flatten()
    });
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let ms = match frac.get(..frac.len().min(3)) {
        Some("") | None => 0,
        Some(f) if f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<i64>().ok()? * 10_i64.pow(3 - u32::try_from(f.len()).ok()?)
        }
        Some(_) => return None,
    };
    Some(((date.days() * 86_400 + h * 3600 + m * 60 + s) * 1000) + ms)
}

/// The severity of a decision (SPEC §4, as the alert says it) and its OCSF id.
fn severity(c: &Change, decision: &Value) -> (u64, &'static str) {
    let named = decision.get("severity").and_then(Value::as_str);
    let worst = |parties: &[&str]| {
        c.unapproved().any(|g| {
            parties
                .iter()
                .any(|p| g.party == *p || (*p == "org" && g.party.starts_with("o-")))
        })
    };
    match (c.verdict, named) {
        (_, Some("critical")) => (5, "Critical"),
        (_, Some("high")) => (4, "High"),
        (Verdict::Violation, _) if worst(&["*", "unresolvable"]) => (5, "Critical"),
        (Verdict::Violation, _) if c.unapproved().next().is_some() => (4, "High"),
        (Verdict::Violation | Verdict::Error, _) => (3, "Medium"),
        (Verdict::Compliant | Verdict::Ignored, _) => (1, "Informational"),
    }
}

/// `(status_id, status)`: a violation is new until the guard fixed it; a compliant
/// decision needs nothing; an ignored one is suppressed.
fn status(c: &Change) -> (u64, &'static str) {
    match c.verdict {
        Verdict::Violation if c.outcome.as_deref() == Some("remediated") => (4, "Resolved"),
        Verdict::Violation | Verdict::Error => (1, "New"),
        Verdict::Compliant => (4, "Resolved"),
        Verdict::Ignored => (3, "Suppressed"),
    }
}

/// The Detection Finding of one decision. `now_ms` stands in for the time when the
/// decision has no event (a scan).
pub fn detection_finding(c: &Change, decision: &Value, now_ms: i64) -> Value {
    let time = c.time.as_deref().and_then(millis).unwrap_or(now_ms);
    let kind = c.kind.as_deref().and_then(ResourceKind::parse);
    let spec = match (&c.kind, &c.resource) {
        (Some(k), Some(n)) => format!("{k}/{n}"),
        _ => "an unnamed resource".to_string(),
    };
    let (severity_id, severity) = severity(c, decision);
    let (status_id, status) = status(c);
    let info = finding_info(c, &spec, time);
    let mut metadata = json!({
        "version": VERSION,
        "product": {"name": "crossguard", "vendor_name": "crossguard", "version": env!("CARGO_PKG_VERSION")},
        "profiles": ["cloud"],
        "log_name": c.origin.as_str(),
    });
    if let Some(t) = &c.time {
        metadata["original_time"] = json!(t);
    }
    let mut cloud = json!({"provider": "AWS"});
    if let Some(r) = &c.region {
        cloud["region"] = json!(r);
    }
    if let Some(a) = &c.account {
        cloud["account"] = json!({"uid": a});
    }
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    put("class_uid", json!(CLASS_UID));
    put("class_name", json!("Detection Finding"));
    put("category_uid", json!(CATEGORY_UID));
    put("category_name", json!("Findings"));
    put("activity_id", json!(ACTIVITY_CREATE));
    put("activity_name", json!("Create"));
    put("type_uid", json!(CLASS_UID * 100 + ACTIVITY_CREATE));
    put("type_name", json!("Detection Finding: Create"));
    put("time", json!(time));
    put("severity_id", json!(severity_id));
    put("severity", json!(severity));
    put("status_id", json!(status_id));
    put("status", json!(status));
    put(
        "status_detail",
        json!(match &c.outcome {
            Some(o) => format!("{}; {o}", verdict_str(c.verdict)),
            None => verdict_str(c.verdict).to_string(),
        }),
    );
    put(
        "is_alert",
        json!(matches!(c.verdict, Verdict::Violation | Verdict::Error)),
    );
    put("message", json!(c.reason));
    put("metadata", metadata);
    put("finding_info", info);
    put("cloud", cloud);
    if let Some(res) = resource(decision, kind) {
        put("resources", json!([res]));
    }
    if c.verdict == Verdict::Violation {
        let unapproved: Vec<String> = c
            .grantees
            .iter()
            .filter(|g| g.standing == Standing::Unapproved)
            .map(|g| format!("{} ({})", g.principal, g.party))
            .collect();
        put(
            "remediation",
            json!({"desc": format!(
                "Remove the unapproved grant(s) from {spec} ({}), or approve them: `crossguard allowlist suggest` prints the allowlist entries; `crossguard restore` puts back a grant the guard removed.",
                unapproved.join(", ")
            )}),
        );
    }
    if let Some(actor) = &c.actor {
        put("actor", json!({"user": {"uid": actor, "name": actor}}));
    }
    put("unmapped", json!({ "crossguard": unmapped(c, decision) }));
    Value::Object(out)
}

/// The finding's `finding_info`: a stable id, what it is about, when.
fn finding_info(c: &Change, spec: &str, time: i64) -> Value {
    let uid = match &c.event_id {
        Some(id) => format!("crossguard/{id}/{spec}"),
        None => format!(
            "crossguard/{}/{spec}/{:016x}",
            c.account.as_deref().unwrap_or("unknown"),
            c.fingerprint
        ),
    };
    let title = match c.verdict {
        Verdict::Violation => format!("Unapproved cross-account access to {spec}"),
        Verdict::Error => format!("Cross-account access to {spec} could not be checked"),
        Verdict::Compliant => format!("Cross-account access to {spec} is approved"),
        Verdict::Ignored => format!("Change to {spec} not checked"),
    };
    let mut info = json!({
        "uid": uid,
        "title": title,
        "desc": c.reason,
        "created_time": time,
        "types": [format!("crossguard/{}", verdict_str(c.verdict))],
        "analytic": {"name": "crossguard cross-account allowlist", "type_id": 1, "type": "Rule"},
    });
    if let Some(id) = &c.event_id {
        info["related_events_count"] = json!(1);
        info["data_sources"] = json!([format!("CloudTrail event {id}")]);
    }
    info
}

/// The resource decided, as `resources[0]`.
fn resource(decision: &Value, kind: Option<ResourceKind>) -> Option<Value> {
    let r = decision.get("resource").filter(|r| r.is_object())?;
    let mut res = json!({
        "uid": r.get("arn").cloned().unwrap_or(Value::Null),
        "name": r.get("name").cloned().unwrap_or(Value::Null),
        "type": kind.map_or("unknown", |k| k.spec().cfn_type),
        "role_id": 1,
        "role": "Target",
        "cloud_partition": r.get("arn").and_then(Value::as_str).and_then(|a| a.split(':').nth(1)).unwrap_or("aws"),
    });
    if let Some(region) = r.get("region") {
        res["region"] = region.clone();
    }
    Some(res)
}

/// The decision as crossguard wrote it (findings, plan, event), under `unmapped`.
fn unmapped(c: &Change, decision: &Value) -> Value {
    let mut unmapped = json!({
        "verdict": verdict_str(c.verdict),
        "action": c.action,
    });
    for key in ["findings", "remediation", "mode", "event"] {
        if let Some(v) = decision.get(key).filter(|v| !v.is_null()) {
            unmapped[key] = v.clone();
        }
    }
    if let Some(o) = &c.outcome {
        unmapped["outcome"] = json!(o);
    }
    unmapped
}

#[cfg(test)]
mod tests {
    use super::millis;

    #[test]
    fn times() {
        assert_eq!(millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(millis("1970-01-02T00:00:01.5Z"), Some(86_401_500));
        assert_eq!(millis("2026-11-20T10:04:00Z"), Some(1_795_169_040_000));
        assert_eq!(
            millis("2026-11-20T10:04:00.123456Z"),
            Some(1_795_169_040_123)
        );
        assert_eq!(
            millis("2026-11-20 10:04:00.123000000"),
            Some(1_795_169_040_123)
        );
        for bad in [
            "2026-11-20",
            "2026-11-20T25:00:00Z",
            "2026-11-20T10:04:00+01:00",
            "x",
            "2026-11-20T10:04Z",
            "2026-11-20T10:04:00.1xZ",
            "2026-11-20T-1:-5:00Z",
            "2026-11-20T+1:05:00Z",
        ] {
            assert_eq!(millis(bad), None, "{bad}");
        }
    }
}
