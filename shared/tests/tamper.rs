//! The guard guarding itself (`crossguard_engine::tamper`): calls on the deployment's own
//! rules, functions, roles, topic, trail and evidence bucket are critical violations,
//! whoever made them; namesakes elsewhere are not; what cannot be told apart is an error.

// Helpers take `json!` values as written at each call; case tables are long.
#![allow(clippy::needless_pass_by_value, clippy::too_many_lines)]

use crossguard_engine::event::Duplicate;
use crossguard_engine::remediation::PlanKind;
use crossguard_engine::tamper::{self, Deployment};
use crossguard_engine::*;
use serde_json::{json, Value};

const ACCOUNT: &str = "555555555555";
const TOPIC: &str = "arn:aws:sns:eu-west-1:555555555555:crossguard-alerts";

fn deployment() -> Deployment {
    Deployment::from_json(
        &json!({
            "rules": ["crossguard-bucket-policy-changes", "crossguard-tamper"],
            "bus": "default",
            "functions": ["crossguard-bucket-guard", "crossguard-tamper-guard"],
            "roles": ["crossguard-bucket-guard-eu-west-1", "crossguard-remediation"],
            "topic": TOPIC,
            "trail": "arn:aws:cloudtrail:eu-west-1:555555555555:trail/org-trail",
            "evidence_bucket": "crossguard-evidence-555555555555",
        })
        .to_string(),
    )
    .unwrap()
}

fn allowlist(mode: &str) -> Allowlist {
    Allowlist::from_toml(
        &format!("version = 1\nmode = \"{mode}\"\nignore_actors = [\"arn:aws:iam::*:role/crossguard-*\"]\n"),
        "a.toml",
    )
    .unwrap()
}

fn opts() -> Options {
    Options {
        today: Date::new(2026, 12, 2).unwrap(),
        mode: None,
    }
}

fn call(source: &str, name: &str, params: Value) -> Value {
    json!({
        "eventVersion": "1.09", "eventID": "t-1", "eventTime": "2026-12-01T10:00:00Z",
        "eventSource": source, "eventName": name, "awsRegion": "eu-west-1",
        "recipientAccountId": ACCOUNT,
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/crossguard-bucket-guard-eu-west-1/x"), "accountId": ACCOUNT},
        "requestParameters": params,
    })
}

fn decide(rec: &Value, mode: &str) -> Option<Decision> {
    tamper::decide(rec, None, &deployment(), &allowlist(mode), opts())
}

#[test]
fn a_disabled_guard_rule_is_critical_even_from_an_ignored_actor_and_undone_in_remediate_mode() {
    let rec = call(
        "events.amazonaws.com",
        "DisableRule",
        json!({"name": "crossguard-bucket-policy-changes"}),
    );
    // The actor is the guard's own role, which ignore_actors names: still reported.
    let d = decide(&rec, "alert").expect("a guard rule");
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(d.action, Action::Alert);
    assert_eq!(alert::severity(&d), "critical");
    let t = d.tamper.as_ref().unwrap();
    assert_eq!(
        (t.part, t.name.as_str()),
        ("rule", "crossguard-bucket-policy-changes")
    );
    let a = alert::render(&d, &alert::Outcome::Alerted).unwrap();
    assert!(a.subject.contains("guard tampered with"), "{}", a.subject);
    assert!(a
        .attributes
        .contains(&("resource_kind", "guard".to_string())));

    let d = decide(&rec, "remediate").unwrap();
    assert_eq!(d.action, Action::Remediate);
    let plan = d.remediation.unwrap();
    assert_eq!(plan.kind, PlanKind::Undo);
    assert_eq!(plan.undo.unwrap()["call"], "EnableRule");
    // Dry run changes nothing, but a tampered guard is still reported.
    assert_eq!(decide(&rec, "dry-run").unwrap().action, Action::Alert);
}

#[test]
fn every_part_of_the_deployment_is_watched_and_namesakes_are_not() {
    let cases: Vec<(Value, Option<bool>)> = vec![
        (
            call(
                "events.amazonaws.com",
                "DisableRule",
                json!({"name": "someone-elses-rule"}),
            ),
            None,
        ),
        (
            call(
                "events.amazonaws.com",
                "RemoveTargets",
                json!({"rule": "crossguard-tamper", "ids": ["1"]}),
            ),
            Some(false),
        ),
        (
            call(
                "events.amazonaws.com",
                "RemovePermission",
                json!({"statementId": "org"}),
            ),
            Some(false),
        ),
        (
            call(
                "events.amazonaws.com",
                "RemovePermission",
                json!({"statementId": "x", "eventBusName": "other-bus"}),
            ),
            None,
        ),
        (
            call(
                "lambda.amazonaws.com",
                "PutFunctionConcurrency20171031",
                json!({"functionName": "arn:aws:lambda:eu-west-1:555555555555:function:crossguard-bucket-guard", "reservedConcurrentExecutions": 0}),
            ),
            Some(false),
        ),
        (
            call(
                "lambda.amazonaws.com",
                "UpdateFunctionCode20150331v2",
                json!({"functionName": "crossguard-tamper-guard:live"}),
            ),
            Some(false),
        ),
        (
            call(
                "lambda.amazonaws.com",
                "DeleteFunction20150331",
                json!({"functionName": "crossguard-bucket-guard-copy"}),
            ),
            None,
        ),
        (
            call(
                "iam.amazonaws.com",
                "AttachRolePolicy",
                json!({"roleName": "crossguard-remediation", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
            ),
            Some(false),
        ),
        (
            call(
                "iam.amazonaws.com",
                "PutRolePermissionsBoundary",
                json!({"roleName": "crossguard-bucket-guard-eu-west-1"}),
            ),
            Some(false),
        ),
        (
            call(
                "sns.amazonaws.com",
                "Unsubscribe",
                json!({"subscriptionArn": format!("{TOPIC}:0b6941c4")}),
            ),
            Some(false),
        ),
        (
            call(
                "sns.amazonaws.com",
                "Unsubscribe",
                json!({"subscriptionArn": format!("{TOPIC}-2:0b6941c4")}),
            ),
            None,
        ),
        (
            call(
                "sns.amazonaws.com",
                "SetTopicAttributes",
                json!({"topicArn": TOPIC, "attributeName": "Policy"}),
            ),
            Some(false),
        ),
        (
            call(
                "cloudtrail.amazonaws.com",
                "StopLogging",
                json!({"name": "org-trail"}),
            ),
            Some(true),
        ),
        (
            call(
                "cloudtrail.amazonaws.com",
                "PutEventSelectors",
                json!({"trailName": "arn:aws:cloudtrail:eu-west-1:555555555555:trail/org-trail"}),
            ),
            Some(false),
        ),
        (
            call(
                "cloudtrail.amazonaws.com",
                "StopLogging",
                json!({"name": "another-trail"}),
            ),
            None,
        ),
        (
            call(
                "s3.amazonaws.com",
                "PutBucketLifecycleConfiguration",
                json!({"bucketName": "crossguard-evidence-555555555555"}),
            ),
            Some(false),
        ),
        (
            call(
                "s3.amazonaws.com",
                "PutBucketVersioning",
                json!({"bucketName": "some-bucket"}),
            ),
            None,
        ),
        (
            call(
                "s3.amazonaws.com",
                "GetBucketPolicy",
                json!({"bucketName": "crossguard-evidence-555555555555"}),
            ),
            None,
        ),
    ];
    for (rec, want) in cases {
        let d = decide(&rec, "remediate");
        let got = d.as_ref().map(|d| {
            assert_eq!(d.verdict, Verdict::Violation, "{rec}: {}", d.reason);
            assert_eq!(d.severity, Some("critical"));
            d.remediation
                .as_ref()
                .is_some_and(|p| p.kind == PlanKind::Undo)
        });
        assert_eq!(got, want, "{}: {:?}", rec["eventName"], d.map(|d| d.reason));
    }
}

#[test]
fn a_watched_call_that_cannot_be_read_is_an_error_and_a_failed_one_is_recorded() {
    let no_name = call("events.amazonaws.com", "DisableRule", json!({}));
    let d = decide(&no_name, "alert").unwrap();
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    assert_eq!(alert::severity(&d), "critical");
    let dup = Duplicate {
        reason: "duplicate key requestParameters.name".into(),
        identity: false,
    };
    let rec = call(
        "events.amazonaws.com",
        "DisableRule",
        json!({"name": "crossguard-tamper"}),
    );
    let d = tamper::decide(&rec, Some(&dup), &deployment(), &allowlist("alert"), opts()).unwrap();
    assert_eq!(d.verdict, Verdict::Error);
    assert!(d.reason.contains("duplicate key"), "{}", d.reason);
    let mut failed = rec.clone();
    failed["errorCode"] = json!("AccessDenied");
    let d = decide(&failed, "alert").unwrap();
    assert_eq!(d.verdict, Verdict::Ignored);
    assert!(d.reason.contains("failed (AccessDenied)"), "{}", d.reason);
}

#[test]
fn the_deployment_is_read_strictly() {
    assert!(Deployment::from_json(r#"{"rule": ["x"]}"#)
        .unwrap_err()
        .contains("unknown field"));
    assert!(Deployment::from_json("{}")
        .unwrap_err()
        .contains("nothing would be watched"));
    assert!(Deployment::from_json(r#"{"rules": ["a"], "rules": ["b"]}"#).is_err());
    assert!(tamper::watched_calls().any(|c| c == ("cloudtrail.amazonaws.com", "StopLogging")));
}
