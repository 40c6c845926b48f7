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
    deployment_with(|_| {})
}

/// The deployment with some of its parts changed.
fn deployment_with(change: impl FnOnce(&mut Value)) -> Deployment {
    let mut parts = json!({
        "rules": ["crossguard-bucket-policy-changes", "crossguard-tamper"],
        "bus": "default",
        "functions": ["crossguard-bucket-guard", "crossguard-tamper-guard"],
        "roles": ["crossguard-bucket-guard-eu-west-1", "crossguard-remediation"],
        "topic": TOPIC,
        "trail": "arn:aws:cloudtrail:eu-west-1:555555555555:trail/org-trail",
        "evidence_bucket": "crossguard-evidence-555555555555",
        "key": "arn:aws:kms:eu-west-1:555555555555:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "policies": ["arn:aws:iam::555555555555:policy/crossguard-GuardCommon-ABC"],
        "account": ACCOUNT,
    });
    change(&mut parts);
    Deployment::from_json(&parts.to_string()).unwrap()
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

fn decide_on(rec: &Value, dep: &Deployment) -> Option<Decision> {
    tamper::decide(rec, None, dep, &allowlist("alert"), opts())
}

/// A violation or an error: never passed over.
fn caught(rec: &Value, dep: &Deployment) -> Verdict {
    let d = decide_on(rec, dep).unwrap_or_else(|| panic!("passed over: {rec}"));
    assert!(
        matches!(d.verdict, Verdict::Violation | Verdict::Error),
        "{rec}: {:?} {}",
        d.verdict,
        d.reason
    );
    assert_eq!(d.severity, Some("critical"), "{rec}");
    d.verdict
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
        // Review findings: each of these switched the guard off or blinded it unseen.
        (
            call(
                "events.amazonaws.com",
                "PutTargets",
                json!({"rule": "crossguard-bucket-policy-changes", "targets": [{"id": "1", "arn": "arn:aws:lambda:eu-west-1:555555555555:function:noop"}]}),
            ),
            Some(false),
        ),
        (
            call(
                "iam.amazonaws.com",
                "CreatePolicyVersion",
                json!({"policyArn": "arn:aws:iam::555555555555:policy/crossguard-GuardCommon-ABC", "setAsDefault": true}),
            ),
            Some(false),
        ),
        (
            call(
                "iam.amazonaws.com",
                "SetDefaultPolicyVersion",
                json!({"policyArn": "arn:aws:iam::555555555555:policy/other", "versionId": "v2"}),
            ),
            None,
        ),
        (
            call(
                "iam.amazonaws.com",
                "DetachRolePolicy",
                json!({"roleName": "CROSSGUARD-BUCKET-GUARD-EU-WEST-1", "policyArn": "x"}),
            ),
            Some(false),
        ),
        (
            call(
                "sns.amazonaws.com",
                "SetSubscriptionAttributes",
                json!({"subscriptionArn": format!("{TOPIC}:0b6941c4"), "attributeName": "FilterPolicy"}),
            ),
            Some(false),
        ),
        (
            call(
                "lambda.amazonaws.com",
                "PutFunctionEventInvokeConfig20190925",
                json!({"functionName": "crossguard-bucket-guard", "maximumRetryAttempts": 0}),
            ),
            Some(false),
        ),
        (
            call(
                "kms.amazonaws.com",
                "DisableKey",
                json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
            ),
            Some(true),
        ),
        (
            call(
                "kms.amazonaws.com",
                "ScheduleKeyDeletion",
                json!({"keyId": "arn:aws:kms:eu-west-1:555555555555:key/1234abcd-12ab-34cd-56ef-1234567890ab", "pendingWindowInDays": 7}),
            ),
            Some(true),
        ),
        (
            call(
                "kms.amazonaws.com",
                "PutKeyPolicy",
                json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "policyName": "default"}),
            ),
            Some(false),
        ),
        (
            call(
                "kms.amazonaws.com",
                "DisableKey",
                json!({"keyId": "another-key"}),
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
fn a_namesake_in_another_account_is_not_the_guard_but_the_member_role_is_everywhere() {
    let mut rec = call(
        "events.amazonaws.com",
        "PutPermission",
        json!({"statementId": "x"}),
    );
    rec["recipientAccountId"] = json!("222222222222");
    assert!(
        decide(&rec, "alert").is_none(),
        "a member's own default bus"
    );
    let mut rec = call(
        "iam.amazonaws.com",
        "PutRolePolicy",
        json!({"roleName": "crossguard-remediation"}),
    );
    rec["recipientAccountId"] = json!("222222222222");
    assert_eq!(decide(&rec, "alert").unwrap().verdict, Verdict::Violation);
    // A key named by alias cannot be told apart: an error, not a pass.
    let rec = call(
        "kms.amazonaws.com",
        "ScheduleKeyDeletion",
        json!({"keyId": "alias/crossguard"}),
    );
    assert_eq!(decide(&rec, "alert").unwrap().verdict, Verdict::Error);
    let undo = decide(
        &call(
            "kms.amazonaws.com",
            "ScheduleKeyDeletion",
            json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
        ),
        "remediate",
    )
    .unwrap()
    .remediation
    .unwrap()
    .undo
    .unwrap();
    assert_eq!(undo["call"], "CancelKeyDeletion");
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
    // An errorCode that is no plain error name cannot say the call failed.
    for code in [json!(0), json!(true), json!(["AccessDenied"]), json!(" ")] {
        let mut odd = rec.clone();
        odd["errorCode"] = code.clone();
        let d = decide(&odd, "alert").unwrap();
        assert_eq!(d.verdict, Verdict::Error, "{code}: {}", d.reason);
        assert_eq!(alert::severity(&d), "critical");
    }
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

#[test]
fn whose_part_a_call_names_is_read_from_its_arn_or_recipient_account_and_never_guessed() {
    let dep = deployment();
    // No recipientAccountId (or one that is no string): not the caller's account instead.
    let mut rec = call(
        "events.amazonaws.com",
        "DisableRule",
        json!({"name": "crossguard-tamper"}),
    );
    rec.as_object_mut().unwrap().remove("recipientAccountId");
    rec["userIdentity"]["accountId"] = json!("999999999999");
    assert_eq!(caught(&rec, &dep), Verdict::Error);
    rec["recipientAccountId"] = json!(555_555_555_555_u64);
    assert_eq!(caught(&rec, &dep), Verdict::Error);
    // A part named by its ARN is that ARN's account's, wherever the call was recorded.
    for rec in [
        call(
            "sns.amazonaws.com",
            "Unsubscribe",
            json!({"subscriptionArn": format!("{TOPIC}:0b6941c4")}),
        ),
        call(
            "sns.amazonaws.com",
            "SetTopicAttributes",
            json!({"topicArn": TOPIC, "attributeName": "Policy"}),
        ),
        call(
            "lambda.amazonaws.com",
            "UpdateFunctionConfiguration20150331v2",
            json!({"functionName": "arn:aws:lambda:eu-west-1:555555555555:function:crossguard-bucket-guard"}),
        ),
        call(
            "kms.amazonaws.com",
            "DisableKey",
            json!({"keyId": "arn:aws:kms:eu-west-1:555555555555:key/1234abcd-12ab-34cd-56ef-1234567890ab"}),
        ),
    ] {
        let mut rec = rec;
        rec["recipientAccountId"] = json!("222222222222");
        rec["userIdentity"]["accountId"] = json!("222222222222");
        assert_eq!(caught(&rec, &dep), Verdict::Violation);
    }
    // A part the deployment names by an ARN in another account (an organization trail)
    // is ours there too; the same name in a third account is a namesake.
    let org = deployment_with(|d| {
        d["trail"] = json!("arn:aws:cloudtrail:eu-west-1:111111111111:trail/org-trail");
    });
    let rec = call(
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({"name": "arn:aws:cloudtrail:eu-west-1:111111111111:trail/org-trail"}),
    );
    assert_eq!(caught(&rec, &org), Verdict::Violation);
    let mut rec = call(
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({"name": "org-trail"}),
    );
    rec["recipientAccountId"] = json!("111111111111");
    assert_eq!(caught(&rec, &org), Verdict::Violation);
    rec["recipientAccountId"] = json!("222222222222");
    assert!(decide_on(&rec, &org).is_none());
}

#[test]
fn a_bus_call_without_readable_parameters_is_an_error_not_the_default_bus() {
    let dep = deployment_with(|d| d["bus"] = json!("crossguard-bus"));
    for params in [Value::Null, json!("x"), json!([1])] {
        let rec = call("events.amazonaws.com", "RemovePermission", params.clone());
        assert_eq!(caught(&rec, &dep), Verdict::Error, "{params}");
    }
    let mut rec = call("events.amazonaws.com", "RemovePermission", json!({}));
    rec.as_object_mut().unwrap().remove("requestParameters");
    assert_eq!(caught(&rec, &dep), Verdict::Error);
    // Parameters read that name no bus mean the default bus: not this deployment's.
    let rec = call(
        "events.amazonaws.com",
        "RemovePermission",
        json!({"statementId": "x"}),
    );
    assert!(decide_on(&rec, &dep).is_none());
}

#[test]
fn a_managed_policy_is_known_by_account_and_name_whatever_its_case_or_path() {
    let dep = deployment();
    for arn in [
        "arn:aws:iam::555555555555:policy/CROSSGUARD-GuardCommon-ABC",
        "arn:aws:iam::555555555555:policy/some/path/crossguard-guardcommon-abc",
    ] {
        let rec = call(
            "iam.amazonaws.com",
            "CreatePolicyVersion",
            json!({"policyArn": arn, "setAsDefault": true}),
        );
        assert_eq!(caught(&rec, &dep), Verdict::Violation, "{arn}");
    }
    let rec = call(
        "iam.amazonaws.com",
        "CreatePolicyVersion",
        json!({"policyArn": "arn:aws:iam::999999999999:policy/crossguard-GuardCommon-ABC"}),
    );
    assert!(decide_on(&rec, &dep).is_none());
}

#[test]
fn a_record_whose_call_is_in_doubt_is_an_error() {
    let dep = deployment();
    // A duplicated eventName: the one kept may not be the call that was made.
    let rec = call(
        "s3.amazonaws.com",
        "GetBucketPolicy",
        json!({"bucketName": "crossguard-evidence-555555555555"}),
    );
    let dup = Duplicate {
        reason: "duplicate key eventName".into(),
        identity: true,
    };
    let d = tamper::decide(&rec, Some(&dup), &dep, &allowlist("alert"), opts()).unwrap();
    assert_eq!(d.verdict, Verdict::Error);
    // A watched call spelled otherwise, or a name or source that is no string.
    for (source, name) in [
        (json!("events.amazonaws.com"), json!(" DisableRule")),
        (json!("events.amazonaws.com"), json!("disablerule")),
        (json!("Events.amazonaws.com"), json!("DisableRule")),
        (Value::Null, json!("DisableRule")),
        (json!("events.amazonaws.com"), json!(["DisableRule"])),
        (json!(7), json!("DisableRule")),
    ] {
        let mut rec = call(
            "events.amazonaws.com",
            "DisableRule",
            json!({"name": "crossguard-tamper"}),
        );
        rec["eventSource"] = source;
        rec["eventName"] = name;
        assert_eq!(caught(&rec, &dep), Verdict::Error);
    }
}

#[test]
fn calls_that_blind_the_guard_through_its_topic_bucket_concurrency_and_bus_are_watched() {
    let dep = deployment();
    for rec in [
        call(
            "sns.amazonaws.com",
            "PutDataProtectionPolicy",
            json!({"resourceArn": TOPIC, "dataProtectionPolicy": "{}"}),
        ),
        call(
            "s3.amazonaws.com",
            "PutBucketEncryption",
            json!({"bucketName": "crossguard-evidence-555555555555"}),
        ),
        call(
            "s3.amazonaws.com",
            "DeleteBucketEncryption",
            json!({"bucketName": "crossguard-evidence-555555555555"}),
        ),
        call(
            "s3.amazonaws.com",
            "DeleteBucket",
            json!({"bucketName": "crossguard-evidence-555555555555"}),
        ),
        call(
            "lambda.amazonaws.com",
            "DeleteFunctionConcurrency20171031",
            json!({"functionName": "crossguard-bucket-guard"}),
        ),
        call(
            "events.amazonaws.com",
            "UpdateEventBus",
            json!({"name": "default", "kmsKeyIdentifier": "arn:aws:kms:eu-west-1:999999999999:key/x"}),
        ),
        call(
            "events.amazonaws.com",
            "DeleteEventBus",
            json!({"name": "default"}),
        ),
    ] {
        assert_eq!(caught(&rec, &dep), Verdict::Violation);
    }
}

const MEMBER: &str = "222222222222";

/// The deployment as the template names the member accounts' forwarding parts.
fn with_members() -> Deployment {
    deployment_with(|d| {
        d["member_rules"] = json!([
            "crossguard-forward-s3-policy-changes",
            "crossguard-forward-guard-changes",
            "crossguard-forward-guard-watchdog",
        ]);
        d["roles"]
            .as_array_mut()
            .unwrap()
            .push(json!("crossguard-forwarding"));
    })
}

/// A call recorded in a member account.
fn in_member(source: &str, name: &str, params: Value) -> Value {
    let mut rec = call(source, name, params);
    rec["recipientAccountId"] = json!(MEMBER);
    rec["userIdentity"] = json!({"type": "IAMUser", "arn": format!("arn:aws:iam::{MEMBER}:user/mallory"), "accountId": MEMBER});
    rec
}

#[test]
fn a_members_forwarding_rules_are_the_guards_in_every_account_alerted_and_never_undone_from_here() {
    let dep = with_members();
    let rule = "crossguard-forward-s3-policy-changes";
    let carrier = "crossguard-forward-guard-changes";
    for (name, params) in [
        ("DisableRule", json!({"name": rule})),
        ("DisableRule", json!({"name": carrier})),
        ("DeleteRule", json!({"name": rule})),
        (
            "DeleteRule",
            json!({"name": "crossguard-forward-guard-watchdog", "force": true}),
        ),
        ("PutRule", json!({"name": rule, "state": "DISABLED"})),
        (
            "PutRule",
            json!({"name": rule, "eventPattern": "{\"source\":[\"nothing\"]}"}),
        ),
        (
            "RemoveTargets",
            json!({"rule": rule, "ids": ["central-bus"]}),
        ),
        (
            "PutTargets",
            json!({"rule": carrier, "targets": [{"id": "central-bus", "arn": "arn:aws:events:eu-west-1:999999999999:event-bus/default"}]}),
        ),
    ] {
        let rec = in_member("events.amazonaws.com", name, params.clone());
        for mode in ["alert", "remediate", "dry-run"] {
            let d = tamper::decide(&rec, None, &dep, &allowlist(mode), opts())
                .unwrap_or_else(|| panic!("{name} {params} passed over"));
            assert_eq!(d.verdict, Verdict::Violation, "{name}: {}", d.reason);
            assert_eq!(alert::severity(&d), "critical");
            // tamper-guard does not act in member accounts: alerted, never undone (an
            // EnableRule from the security account would name a namesake there).
            assert_eq!(d.action, Action::Alert, "{name} in {mode}");
            assert!(d.remediation.is_none(), "{name} in {mode}");
            let t = d.tamper.as_ref().unwrap();
            assert_eq!(t.part, "member forwarding rule");
            assert!(params.to_string().contains(&t.name), "{}", t.name);
            assert!(
                d.reason.contains(MEMBER) && d.reason.contains("member-account.yaml"),
                "{}",
                d.reason
            );
        }
        let a = alert::render(&decide_on(&rec, &dep).unwrap(), &alert::Outcome::Alerted).unwrap();
        assert!(
            a.subject.contains(&format!(
                "guard tampered with [{MEMBER}] member forwarding rule"
            )),
            "{}",
            a.subject
        );
    }
    // Recorded in the deployment's own account (which may be a member too), and with no
    // account at all: the member rules are the guard's wherever, and still not undone.
    let mut rec = call("events.amazonaws.com", "DisableRule", json!({"name": rule}));
    let d = tamper::decide(&rec, None, &dep, &allowlist("remediate"), opts()).unwrap();
    assert_eq!((d.verdict, d.action), (Verdict::Violation, Action::Alert));
    rec.as_object_mut().unwrap().remove("recipientAccountId");
    let d = tamper::decide(&rec, None, &dep, &allowlist("remediate"), opts()).unwrap();
    assert_eq!((d.verdict, d.action), (Verdict::Violation, Action::Alert));
    // The deployment's own rules are still undone in its own account.
    let rec = call(
        "events.amazonaws.com",
        "DisableRule",
        json!({"name": "crossguard-bucket-policy-changes"}),
    );
    let d = tamper::decide(&rec, None, &dep, &allowlist("remediate"), opts()).unwrap();
    assert_eq!(d.action, Action::Remediate);
    // A deployment rule's name in a member account is a namesake, there as before.
    let rec = in_member(
        "events.amazonaws.com",
        "DisableRule",
        json!({"name": "crossguard-bucket-policy-changes"}),
    );
    assert!(decide_on(&rec, &dep).is_none());
}

#[test]
fn a_members_forwarding_role_is_the_guards_in_every_account() {
    let dep = with_members();
    for (name, params) in [
        ("DeleteRole", json!({"roleName": "crossguard-forwarding"})),
        (
            "PutRolePolicy",
            json!({"roleName": "crossguard-forwarding", "policyName": "deny", "policyDocument": "{}"}),
        ),
        (
            "DeleteRolePolicy",
            json!({"roleName": "crossguard-forwarding", "policyName": "put-events-to-central-bus"}),
        ),
        (
            "AttachRolePolicy",
            json!({"roleName": "crossguard-forwarding", "policyArn": "arn:aws:iam::aws:policy/AWSDenyAll"}),
        ),
        (
            "DetachRolePolicy",
            json!({"roleName": "crossguard-forwarding", "policyArn": "arn:aws:iam::222222222222:policy/x"}),
        ),
        (
            "UpdateAssumeRolePolicy",
            json!({"roleName": "crossguard-forwarding", "policyDocument": "{}"}),
        ),
        (
            "PutRolePermissionsBoundary",
            json!({"roleName": "crossguard-forwarding", "permissionsBoundary": "arn:aws:iam::aws:policy/AWSDenyAll"}),
        ),
        (
            "DeleteRolePermissionsBoundary",
            json!({"roleName": "crossguard-forwarding"}),
        ),
        // IAM names are unique without regard to case: the same role.
        ("DeleteRole", json!({"roleName": "CROSSGUARD-Forwarding"})),
    ] {
        let rec = in_member("iam.amazonaws.com", name, params.clone());
        let d = tamper::decide(&rec, None, &dep, &allowlist("remediate"), opts())
            .unwrap_or_else(|| panic!("{name} {params} passed over"));
        assert_eq!(d.verdict, Verdict::Violation, "{name}: {}", d.reason);
        assert_eq!(alert::severity(&d), "critical");
        assert_eq!(d.action, Action::Alert, "{name}: no safe undo");
        assert_eq!(d.tamper.as_ref().unwrap().part, "role");
    }
}

#[test]
fn a_namesake_of_a_members_forwarding_part_is_not_the_guard() {
    let dep = with_members();
    for rec in [
        // Names that only look like the member's: the deployment names its parts.
        in_member(
            "events.amazonaws.com",
            "DisableRule",
            json!({"name": "crossguard-forward-s3-policy-changes-copy"}),
        ),
        in_member(
            "events.amazonaws.com",
            "DeleteRule",
            json!({"name": "crossguard-forward-mine"}),
        ),
        in_member(
            "events.amazonaws.com",
            "RemoveTargets",
            json!({"rule": "team-forward-guard-changes", "ids": ["1"]}),
        ),
        // Rule names are case-sensitive: another rule.
        in_member(
            "events.amazonaws.com",
            "DisableRule",
            json!({"name": "CROSSGUARD-FORWARD-GUARD-CHANGES"}),
        ),
        in_member(
            "iam.amazonaws.com",
            "PutRolePolicy",
            json!({"roleName": "crossguard-forwarding-2"}),
        ),
        // A call the tamper check does not watch (it switches the rule back on).
        in_member(
            "events.amazonaws.com",
            "EnableRule",
            json!({"name": "crossguard-forward-guard-changes"}),
        ),
    ] {
        assert!(decide_on(&rec, &dep).is_none(), "{rec}");
    }
    // Without the member parts in the deployment, no name pattern makes them the guard's.
    let rec = in_member(
        "events.amazonaws.com",
        "DisableRule",
        json!({"name": "crossguard-forward-guard-changes"}),
    );
    assert!(decide_on(&rec, &deployment()).is_none());
    assert!(decide_on(&rec, &dep).is_some());
}

#[test]
fn a_call_on_a_members_forwarding_rule_that_cannot_be_read_is_an_error_and_a_failed_one_is_recorded(
) {
    let dep = with_members();
    for (name, params) in [
        ("DisableRule", json!({})),
        ("DeleteRule", json!({"name": ""})),
        ("PutRule", json!({"name": 7})),
        ("RemoveTargets", json!({"ids": ["central-bus"]})),
        (
            "PutTargets",
            json!({"rule": ["crossguard-forward-guard-changes"]}),
        ),
        ("DisableRule", Value::Null),
    ] {
        let rec = in_member("events.amazonaws.com", name, params.clone());
        assert_eq!(caught(&rec, &dep), Verdict::Error, "{name} {params}");
    }
    let rec = in_member(
        "events.amazonaws.com",
        "DisableRule",
        json!({"name": "crossguard-forward-guard-changes"}),
    );
    // A duplicate in the record, a watched call spelled otherwise: errors.
    let dup = Duplicate {
        reason: "duplicate key requestParameters.name".into(),
        identity: false,
    };
    let d = tamper::decide(&rec, Some(&dup), &dep, &allowlist("alert"), opts()).unwrap();
    assert_eq!(d.verdict, Verdict::Error);
    let mut odd = rec.clone();
    odd["eventName"] = json!("disableRule");
    assert_eq!(caught(&odd, &dep), Verdict::Error);
    // A failed call changed nothing: recorded with its part, not alerted.
    let mut failed = rec.clone();
    failed["errorCode"] = json!("AccessDenied");
    let d = decide_on(&failed, &dep).unwrap();
    assert_eq!(d.verdict, Verdict::Ignored);
    assert_eq!(d.tamper.unwrap().part, "member forwarding rule");
    // An errorCode that cannot say the call failed is an error.
    let mut odd = rec;
    odd["errorCode"] = json!(["AccessDenied"]);
    assert_eq!(caught(&odd, &dep), Verdict::Error);
}

#[test]
fn a_deployment_may_name_only_member_rules_and_reads_them_strictly() {
    assert!(
        Deployment::from_json(r#"{"member_rules": ["crossguard-forward-guard-changes"]}"#).is_ok()
    );
    assert!(
        Deployment::from_json(r#"{"member_rule": ["crossguard-forward-guard-changes"]}"#)
            .unwrap_err()
            .contains("unknown field")
    );
}
