//! SNS alerts rendered from decisions (SPEC §4).

use crossguard_engine::alert::{render, severity, Outcome, MAX_SUBJECT};
use crossguard_engine::*;
use serde_json::Value;

fn decide_example(event: &str) -> Decision {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let al = Allowlist::from_toml(
        &std::fs::read_to_string(format!("{dir}/allowlist.toml")).unwrap(),
        "allowlist.toml",
    )
    .unwrap();
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/events/{event}")).unwrap())
            .unwrap();
    let opts = Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode: None,
    };
    decide_event_text(&al, &v.to_string(), opts)
        .unwrap()
        .remove(0)
}

fn attr<'a>(a: &'a alert::Alert, k: &str) -> &'a str {
    &a.attributes.iter().find(|(key, _)| *key == k).unwrap().1
}

#[test]
fn no_alert_for_compliant_or_ignored() {
    assert!(render(&decide_example("1-approved-share.json"), &Outcome::Alerted).is_none());
    assert!(render(&decide_example("6-guard-own-fix.json"), &Outcome::Alerted).is_none());
    assert!(render(&decide_example("7-failed-call.json"), &Outcome::Alerted).is_none());
}

#[test]
fn alert_names_resource_who_what_and_carries_the_decision() {
    let d = decide_example("2-unapproved-account.json");
    let a = render(&d, &Outcome::Alerted).unwrap();
    assert!(
        a.subject.contains("bucket/build-artifacts") && a.subject.chars().count() <= MAX_SUBJECT,
        "{}",
        a.subject
    );
    for want in [
        "arn:aws:sts::222222222222:assumed-role/PlatformAdmin/alice",
        "2026-11-20T10:02:00Z",
        "198.51.100.23",
        "account 999999999999",
        "Not changed (mode alert)",
    ] {
        assert!(a.body.contains(want), "missing {want:?} in\n{}", a.body);
    }
    let json = &a.body[a.body.find("Decision (JSON):").unwrap() + "Decision (JSON):".len()..];
    let decoded: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(decoded["verdict"], "violation");
    assert_eq!(
        (
            attr(&a, "severity"),
            attr(&a, "account"),
            attr(&a, "resource_kind")
        ),
        ("high", "222222222222", "bucket")
    );
}

#[test]
fn public_grants_are_critical_and_outcomes_are_told() {
    let d = decide_example("3-public-bucket.json");
    assert_eq!(severity(&d), "critical");
    let done = render(&d, &Outcome::Remediated).unwrap();
    assert!(
        done.subject.contains("removed") && done.body.contains("bucket policy was deleted"),
        "{}",
        done.body
    );
    let failed = render(
        &d,
        &Outcome::RemediationFailed("AccessDenied: not authorized".into()),
    )
    .unwrap();
    assert!(failed.subject.contains("FAILED"));
    assert!(failed
        .body
        .contains("Remediation FAILED: AccessDenied: not authorized"));
}

#[test]
fn long_names_are_clipped_to_the_subject_limit() {
    let al = Allowlist::from_toml("version = 1", "a").unwrap();
    let name = format!("role/{}", "R".repeat(60) + &"é".repeat(60));
    let r = Resource::from_spec(&name, "222222222222", None).unwrap();
    let doc = PolicyDocument::parse(
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#,
    )
    .unwrap();
    let d = decide(&al, &r, Some(&doc), Options::default());
    let a = render(&d, &Outcome::Alerted).unwrap();
    assert_eq!(a.subject.chars().count(), MAX_SUBJECT, "{}", a.subject);
    assert!(a.subject.ends_with('…') && a.subject.contains("[222222222222]"));
}

// ---- evidence records ----

use crossguard_engine::evidence;

#[test]
fn evidence_keeps_what_a_person_needs_to_restore() {
    let d = decide_example("2-unapproved-account.json");
    let before: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/policies/unapproved-account.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let rec = evidence::record(
        &d,
        Some(before.clone()),
        Some(&Outcome::Remediated),
        "2026-11-22T10:00:00Z",
    )
    .unwrap();
    let v = serde_json::to_value(&rec).unwrap();
    assert_eq!(v["schema"], evidence::SCHEMA);
    assert_eq!(v["event_id"], "00000000-0000-4000-8000-000000000002");
    assert_eq!(v["outcome"], "remediated");
    assert_eq!(v["policy_before"], before);
    assert_eq!(
        v["decision"]["event"]["actor"],
        "arn:aws:sts::222222222222:assumed-role/PlatformAdmin/alice"
    );
    let removed = &v["decision"]["remediation"]["removed"][0];
    assert_eq!(removed["account"], "999999999999");
    assert_eq!(removed["original_statement"], before["Statement"][0]);
    assert_eq!(
        evidence::key(v["event_id"].as_str().unwrap()).unwrap(),
        "evidence/00000000-0000-4000-8000-000000000002.json"
    );
}

#[test]
fn evidence_for_every_verdict_and_failures() {
    for (event, verdict) in [
        ("1-approved-share.json", "compliant"),
        ("6-guard-own-fix.json", "ignored"),
        ("7-failed-call.json", "ignored"),
    ] {
        let d = decide_example(event);
        let v = serde_json::to_value(evidence::record(&d, None, None, "t").unwrap()).unwrap();
        assert_eq!(
            (v["decision"]["verdict"].as_str(), v["outcome"].as_str()),
            (Some(verdict), Some("none")),
            "{event}"
        );
    }
    let d = decide_example("3-public-bucket.json");
    let v = serde_json::to_value(
        evidence::record(
            &d,
            None,
            Some(&Outcome::RemediationFailed("Throttling".into())),
            "t",
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (v["outcome"].as_str(), v["outcome_detail"].as_str()),
        (Some("remediation_failed"), Some("Throttling"))
    );
    // A decision without an event id cannot be keyed.
    let mut no_id = d.clone();
    no_id.event = None;
    assert_eq!(
        evidence::record(&no_id, None, None, "t").unwrap_err(),
        evidence::EvidenceError::NoEventId
    );
}

#[test]
fn an_unreadable_event_alerts_with_every_attribute_set() {
    // No resource can be named: SNS refuses an empty attribute, so the recording account
    // (or "unknown") stands in.
    let al = Allowlist::from_toml("version = 1", "a.toml").unwrap();
    let opts = Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode: None,
    };
    for (text, account) in [
        (
            r#"{"eventID":"e","eventName":"PutBucketPolicy","eventSource":"s3.amazonaws.com","recipientAccountId":"222222222222","requestParameters":{"bucketName":"a","bucketName":"b"}}"#,
            "222222222222",
        ),
        (
            r#"{"eventID":"e","eventName":"PutBucketPolicy","eventName":"PutBucketPolicy"}"#,
            "unknown",
        ),
    ] {
        let d = decide_event_text(&al, text, opts).unwrap().remove(0);
        assert_eq!(d.verdict, Verdict::Error);
        let a = render(&d, &Outcome::Alerted).unwrap();
        assert!(a.subject.contains("could not be checked"), "{}", a.subject);
        assert_eq!(attr(&a, "account"), account);
        assert!(
            a.attributes.iter().all(|(_, v)| !v.is_empty()),
            "{:?}",
            a.attributes
        );
    }
}
