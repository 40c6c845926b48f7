//! The guard's core without AWS: claim, lease, resend and mode capping, on the in-memory
//! ports of [`crate::fakes`], driven by the example events.

use crate::fakes::{MemAlerts, MemEvidence, MemPolicies};
use crate::handler::{Guard, CLAIM_SCHEMA, LEASE_SECS};
use crate::ports::Live;
use crossguard_engine::{json, Allowlist, ResourceKind};
use serde_json::{json as j, Value};

const PUBLIC_ID: &str = "00000000-0000-4000-8000-000000000003";
const PUBLIC_KEY: &str = "evidence/00000000-0000-4000-8000-000000000003.json";

fn example(name: &str) -> String {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A bucket guard on the example allowlist, `prod-data` public as in the third example
/// event (prod-* buckets are remediated).
fn guard() -> Guard<MemPolicies, MemAlerts, MemEvidence> {
    let policies = MemPolicies::new(ResourceKind::Bucket);
    let event: Value = serde_json::from_str(&example("events/3-public-bucket.json")).unwrap();
    let policy = event["detail"]["requestParameters"]["bucketPolicy"].to_string();
    policies.set("prod-data", Live::Policy(policy));
    Guard {
        policies,
        alerts: MemAlerts::default(),
        evidence: MemEvidence::default(),
        allowlist: Allowlist::from_toml(&example("allowlist.toml"), "allowlist.toml").unwrap(),
    }
}

fn public_event() -> json::Checked {
    json::from_str(&example("events/3-public-bucket.json")).unwrap()
}

fn claim(request_id: &str, age_secs: u64) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    j!({"schema": CLAIM_SCHEMA, "event_id": PUBLIC_ID, "request_id": request_id,
        "claimed_at_epoch": now - age_secs})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn a_violation_is_fixed_once_and_a_second_delivery_does_nothing() {
    let g = guard();
    let first = g.handle(&public_event(), "req-1").await.unwrap();
    assert_eq!(first[0].outcome, "remediated");
    assert_eq!(g.policies.writes(), vec![("prod-data".to_string(), None)]);
    let ev = g.evidence.json(PUBLIC_KEY).unwrap();
    assert_eq!(ev["outcome"], "remediated");
    assert_eq!(ev["alert"]["status"], "sent");

    let second = g.handle(&public_event(), "req-2").await.unwrap();
    assert_eq!(second[0].outcome, "duplicate");
    assert_eq!(g.policies.writes().len(), 1, "no second fix");
    assert_eq!(g.alerts.sent().len(), 1, "no second alert");
}

#[tokio::test]
async fn a_fresh_claim_of_another_request_is_left_alone() {
    let g = guard();
    g.evidence.put(PUBLIC_KEY, &claim("req-other", 10));
    let out = g.handle(&public_event(), "req-1").await.unwrap();
    assert_eq!(out[0].outcome, "in_flight");
    assert!(g.policies.writes().is_empty());
    assert!(g.alerts.sent().is_empty());
    assert_eq!(g.evidence.json(PUBLIC_KEY).unwrap()["schema"], CLAIM_SCHEMA);
}

#[tokio::test]
async fn a_stale_claim_or_lambdas_own_retry_takes_the_event_over() {
    for (request, age) in [("req-dead", LEASE_SECS + 60), ("req-1", 5)] {
        let g = guard();
        g.evidence.put(PUBLIC_KEY, &claim(request, age));
        let out = g.handle(&public_event(), "req-1").await.unwrap();
        assert_eq!(
            out[0].outcome, "remediated",
            "claim by {request}, {age} s old"
        );
        assert_eq!(
            g.evidence.json(PUBLIC_KEY).unwrap()["outcome"],
            "remediated"
        );
    }
}

#[tokio::test]
async fn an_unreadable_object_under_the_key_proves_nothing_and_is_taken_over() {
    // Junk, or JSON of another schema, must never pass the event as handled.
    for junk in [&b"not json"[..], br#"{"schema":"something/1"}"#, b"{}"] {
        let g = guard();
        g.evidence.put(PUBLIC_KEY, junk);
        let out = g.handle(&public_event(), "req-1").await.unwrap();
        assert_eq!(
            out[0].outcome,
            "remediated",
            "{}",
            String::from_utf8_lossy(junk)
        );
        assert_eq!(g.alerts.sent().len(), 1);
        assert_eq!(
            g.evidence.json(PUBLIC_KEY).unwrap()["schema"],
            "crossguard.evidence/1"
        );
    }
}

#[tokio::test]
async fn a_failed_alert_is_kept_and_sent_by_the_next_delivery() {
    let g = guard();
    *g.alerts.fail_next.lock().unwrap() = 1;
    let err = g.handle(&public_event(), "req-1").await.unwrap_err();
    assert!(err.to_string().contains("was not sent"), "{err}");
    let ev = g.evidence.json(PUBLIC_KEY).unwrap();
    assert_eq!(ev["alert"]["status"], "failed");
    assert_eq!(g.policies.writes().len(), 1, "the fix itself went through");

    let again = g.handle(&public_event(), "req-2").await.unwrap();
    assert_eq!(again[0].outcome, "duplicate");
    assert_eq!(again[0].alert.as_deref(), Some("sent"));
    assert_eq!(g.alerts.sent().len(), 1, "sent once, by the retry");
    assert_eq!(g.policies.writes().len(), 1, "not fixed twice");
    assert_eq!(
        g.evidence.json(PUBLIC_KEY).unwrap()["alert"]["status"],
        "sent"
    );
}

#[tokio::test]
async fn without_the_live_policy_nothing_is_changed_and_the_alert_says_so() {
    let g = guard();
    *g.policies.fail_reads.lock().unwrap() = 1;
    let out = g.handle(&public_event(), "req-1").await.unwrap();
    assert_eq!(out[0].outcome, "alerted", "remediate mode capped to alert");
    assert!(g.policies.writes().is_empty());
    let reason = g.evidence.json(PUBLIC_KEY).unwrap()["decision"]["reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(reason.contains("could not be read"), "{reason}");
}

#[tokio::test]
async fn a_policy_changed_meanwhile_is_not_overwritten() {
    let g = guard();
    // The decision reads the public policy; the re-read right before writing finds
    // another document (someone changed it meanwhile): nothing is written.
    let original = g.policies.get("prod-data");
    let changed = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"s3:*","Resource":"*"}]}"#;
    g.policies
        .next_reads
        .lock()
        .unwrap()
        .extend([original, Live::Policy(changed.into())]);
    let out = g.handle(&public_event(), "req-1").await.unwrap();
    assert_eq!(out[0].outcome, "remediation_failed");
    assert!(g.policies.writes().is_empty());
    let ev = g.evidence.json(PUBLIC_KEY).unwrap();
    assert!(
        ev.to_string()
            .contains("changed while it was being decided"),
        "{ev}"
    );
}

#[tokio::test]
async fn no_claim_no_action() {
    let g = guard();
    *g.evidence.fail_creates.lock().unwrap() = 1;
    let err = g.handle(&public_event(), "req-1").await.unwrap_err();
    assert!(err.to_string().contains("could not be claimed"), "{err}");
    assert_eq!(err.error_type(), "crossguard.Unclaimed");
    assert!(g.policies.writes().is_empty());
    assert!(g.alerts.sent().is_empty());
}

#[tokio::test]
async fn evidence_not_written_fails_the_invocation_for_a_retry() {
    let g = guard();
    *g.evidence.fail_replaces.lock().unwrap() = 1;
    let err = g.handle(&public_event(), "req-1").await.unwrap_err();
    assert!(err.to_string().contains("was not written"), "{err}");
    assert_eq!(err.error_type(), "crossguard.EvidenceStore");
    // The claim stays; Lambda's retry (same request id) takes it over and records.
    let retry = g.handle(&public_event(), "req-1").await.unwrap();
    assert_eq!(
        g.evidence.json(PUBLIC_KEY).unwrap()["schema"],
        "crossguard.evidence/1"
    );
    assert_eq!(retry[0].evidence, PUBLIC_KEY);
}

#[tokio::test]
async fn a_duplicate_key_in_the_event_is_an_alert_and_nothing_else() {
    let g = guard();
    let text = example("events/3-public-bucket.json").replacen(
        "\"bucketName\":",
        "\"bucketName\": \"other\", \"bucketName\":",
        1,
    );
    assert!(text.contains("\"other\""), "the event names its bucket");
    let out = g
        .handle(&json::from_str(&text).unwrap(), "req-1")
        .await
        .unwrap();
    assert_eq!(out[0].outcome, "alerted");
    assert!(g.policies.writes().is_empty());
    let sent = g.alerts.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].subject.contains("could not be checked"),
        "{}",
        sent[0].subject
    );
}

#[tokio::test]
async fn every_failure_has_its_own_error_type_for_lambda() {
    let g = guard();
    let err = g
        .handle(&json::from_str("{\"Records\": 3}").unwrap(), "req-1")
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "crossguard.MalformedEvent");
    let d = lambda_runtime::Diagnostic::from(err);
    assert_eq!(d.error_type, "crossguard.MalformedEvent");
    assert!(
        d.error_message.starts_with("malformed event"),
        "{}",
        d.error_message
    );

    *g.alerts.fail_next.lock().unwrap() = 1;
    let err = g.handle(&public_event(), "req-1").await.unwrap_err();
    assert_eq!(err.error_type(), "crossguard.AlertNotSent");
    assert!(g.alerts.sent().is_empty());
}

#[tokio::test]
async fn losing_the_claim_race_to_a_live_invocation_does_nothing() {
    let g = guard();
    *g.evidence.racer.lock().unwrap() = Some(claim("req-other", 1));
    let out = g.handle(&public_event(), "req-1").await.unwrap();
    assert_eq!(out[0].outcome, "in_flight");
    assert!(g.policies.writes().is_empty());
    assert!(g.alerts.sent().is_empty());
    assert_eq!(
        g.evidence.json(PUBLIC_KEY).unwrap()["request_id"],
        "req-other"
    );
}

#[tokio::test]
async fn losing_the_claim_race_to_a_finished_record_is_a_duplicate() {
    let g = guard();
    let done =
        j!({"schema": "crossguard.evidence/1", "event_id": PUBLIC_ID, "outcome": "remediated"});
    *g.evidence.racer.lock().unwrap() = Some(done.to_string().into_bytes());
    let out = g.handle(&public_event(), "req-1").await.unwrap();
    assert_eq!(out[0].outcome, "duplicate");
    assert!(g.policies.writes().is_empty());
    assert!(g.alerts.sent().is_empty());
}

#[tokio::test]
async fn a_throttled_fix_is_reported_failed_and_the_grant_is_still_there() {
    let g = guard();
    let before = g.policies.get("prod-data");
    *g.policies.fail_writes.lock().unwrap() = 1;
    let out = g.handle(&public_event(), "req-1").await.unwrap();
    assert_eq!(out[0].outcome, "remediation_failed");
    assert_eq!(
        g.policies.get("prod-data"),
        before,
        "the policy is as it was"
    );
    let ev = g.evidence.json(PUBLIC_KEY).unwrap();
    assert_eq!(ev["outcome"], "remediation_failed");
    assert!(
        ev["outcome_detail"]
            .as_str()
            .unwrap_or("")
            .contains("ThrottlingException"),
        "{ev}"
    );
    let sent = g.alerts.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].subject.contains("removal FAILED"),
        "{}",
        sent[0].subject
    );
}

#[tokio::test]
async fn dry_run_stays_dry_run_when_the_live_policy_cannot_be_read() {
    let mut g = guard();
    let text = example("allowlist.toml").replace("mode = \"remediate\"", "mode = \"dry-run\"");
    g.allowlist = Allowlist::from_toml(&text, "allowlist.toml").unwrap();
    *g.policies.fail_reads.lock().unwrap() = 1;
    let out = g.handle(&public_event(), "req-1").await.unwrap();
    assert_eq!(out[0].outcome, "none");
    assert!(g.policies.writes().is_empty());
    assert!(g.alerts.sent().is_empty(), "dry run: recorded, not alerted");
    let ev = g.evidence.json(PUBLIC_KEY).unwrap();
    assert_eq!(ev["decision"]["verdict"], "violation");
    assert_eq!(ev["decision"]["mode"], "dry-run");
}

/// The guard is built on the first event that needs it, kept once built, and built again
/// on the next event when building failed (nothing decided meanwhile).
#[tokio::test]
async fn the_lazy_guard_is_built_once_and_retried_after_a_failure() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&calls);
    let lazy = crate::Lazy::new(move || {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Err(crate::ConfigError::Allowlist {
                    location: "s3://b/k".into(),
                    reason: "no object k in bucket b".into(),
                })
            } else {
                Ok(n)
            }
        }
    });
    let err = lazy.get().await.unwrap_err();
    assert_eq!(err.error_type(), "crossguard.Configuration");
    assert!(err.to_string().contains("no object k in bucket b"), "{err}");
    assert_eq!(*lazy.get().await.unwrap(), 1);
    assert_eq!(*lazy.get().await.unwrap(), 1);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "built once more after the failure, then kept"
    );
}

/// The functions' SDK configuration reads Lambda's environment, honours FIPS, dual-stack
/// and attempts, and refuses the SDK settings it would otherwise ignore.
#[test]
fn the_sdk_configuration_comes_from_lambdas_environment() {
    let base = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_USE_FIPS_ENDPOINT", "true"),
        ("AWS_MAX_ATTEMPTS", "5"),
    ];
    let with = |extra: &[(&str, &str)], without: &str| {
        let env: std::collections::HashMap<String, String> = base
            .iter()
            .chain(extra)
            .filter(|(k, _)| *k != without)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let names: Vec<String> = env.keys().cloned().collect();
        crate::sdk_config_from(|k| env.get(k).cloned(), names.into_iter())
    };
    let sdk = with(&[], "").unwrap();
    assert_eq!(
        sdk.region().map(ToString::to_string).as_deref(),
        Some("eu-west-1")
    );
    assert_eq!(sdk.use_fips(), Some(true));
    assert_eq!(sdk.use_dual_stack(), None);
    assert_eq!(
        sdk.retry_config()
            .map(aws_sdk_s3::config::retry::RetryConfig::max_attempts),
        Some(5)
    );
    assert_eq!(sdk.endpoint_url(), None);
    let sdk = with(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")], "").unwrap();
    assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:5000"));
    let err = |extra: &[(&str, &str)], without: &str| with(extra, without).unwrap_err().to_string();
    assert!(err(&[], "AWS_SECRET_ACCESS_KEY").contains("AWS_SECRET_ACCESS_KEY"));
    assert!(err(&[("AWS_USE_DUALSTACK_ENDPOINT", "yes")], "").contains("true or false"));
    assert!(err(&[("AWS_MAX_ATTEMPTS", "0")], "").contains("positive"));
    for unread in [
        "AWS_ENDPOINT_URL_S3",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_RETRY_MODE",
    ] {
        assert!(err(&[(unread, "x")], "").contains(unread), "{unread}");
    }
}
