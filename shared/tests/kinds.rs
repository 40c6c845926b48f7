//! The queue, topic, function, secret, repository and event bus kinds through the
//! engine's public API: where each kind's events carry the resource and the policy, and
//! each kind's quirks (SQS's `Policy` string and `""`, SNS's default policy, Lambda's
//! per-statement policy and function URLs, Secrets Manager's ARN suffix, EventBridge's
//! default bus and whole-policy PutPermission).

// Test helpers take `json!` values as they are written at each call.
#![allow(clippy::needless_pass_by_value)]

use crossguard_engine::remediation::PlanKind;
use crossguard_engine::*;
use serde_json::{json, Value};

const OWNER: &str = "222222222222";
const TRUSTED: &str = "111111111111";

fn allowlist(extra: &str) -> Allowlist {
    Allowlist::from_toml(&format!("version = 1\n{extra}"), "test.toml").unwrap()
}

fn opts() -> Options {
    Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode: None,
    }
}

/// A successful call recorded in the owner's account.
fn record(source: &str, name: &str, params: Value, response: Value) -> Value {
    json!({
        "eventVersion": "1.09",
        "eventID": "e-1",
        "eventTime": "2026-11-20T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "recipientAccountId": OWNER,
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{OWNER}:assumed-role/dev/alice"), "accountId": OWNER},
        "requestParameters": params,
        "responseElements": response,
    })
}

fn one(al: &Allowlist, rec: Value) -> Decision {
    let mut ds = decide_event_text(al, &rec.to_string(), opts()).unwrap();
    assert_eq!(ds.len(), 1);
    ds.remove(0)
}

fn policy(statements: Vec<Value>) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn grant(sid: &str, principal: Value, action: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"})
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../fixtures/cloudtrail/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap()
}

fn fixture_decision(name: &str) -> Decision {
    let mut ds = decide_event_text(&allowlist(""), &fixture(name), opts()).unwrap();
    ds.remove(0)
}

#[test]
fn every_kind_round_trips_its_name_and_arn() {
    for (spec, arn) in [
        ("queue/q", "arn:aws:sqs:eu-west-1:222222222222:q"),
        ("topic/t", "arn:aws:sns:eu-west-1:222222222222:t"),
        (
            "function/f",
            "arn:aws:lambda:eu-west-1:222222222222:function:f",
        ),
        (
            "secret/db",
            "arn:aws:secretsmanager:eu-west-1:222222222222:secret:db",
        ),
        (
            "repository/team/app",
            "arn:aws:ecr:eu-west-1:222222222222:repository/team/app",
        ),
        (
            "bus/default",
            "arn:aws:events:eu-west-1:222222222222:event-bus/default",
        ),
    ] {
        let r = Resource::from_spec(spec, OWNER, Some("eu-west-1")).unwrap();
        assert_eq!(r.arn, arn);
        let back = Resource::new(r.kind, arn, OWNER, Some("eu-west-1")).unwrap();
        assert_eq!(back.spec(), spec);
    }
    // Secrets Manager appends -XXXXXX to the name in the ARN; allowlists name the secret.
    let s = Resource::new(
        ResourceKind::Secret,
        "arn:aws:secretsmanager:eu-west-1:222222222222:secret:prod/db-pass-AbC123",
        OWNER,
        None,
    )
    .unwrap();
    assert_eq!(s.spec(), "secret/prod/db-pass");
}

#[test]
fn sqs_policy_is_a_string_and_empty_removes_it() {
    let url = format!("https://sqs.eu-west-1.amazonaws.com/{OWNER}/jobs");
    let open = policy(vec![grant("p", json!("*"), "sqs:SendMessage")]);
    let d = one(
        &allowlist(""),
        record(
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            json!({"queueUrl": url, "attributes": {"Policy": open}}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    let r = d.resource.unwrap();
    assert_eq!(
        (r.spec(), r.arn.as_str()),
        ("queue/jobs", "arn:aws:sqs:eu-west-1:222222222222:jobs")
    );
    assert_eq!(d.remediation.unwrap().kind, PlanKind::DeletePolicy);

    let d = one(
        &allowlist(""),
        record(
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            json!({"queueUrl": url, "attributes": {"Policy": ""}}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Compliant);
    assert_eq!(d.reason, "the queue policy was removed");

    let d = one(
        &allowlist(""),
        record(
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            json!({"queueUrl": url, "attributes": {"VisibilityTimeout": "30"}}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Ignored);

    // A policy that is not JSON is never read as no policy.
    let d = one(
        &allowlist(""),
        record(
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            json!({"queueUrl": url, "attributes": {"Policy": "{\"Statement\": ["}}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Error);
}

#[test]
fn a_queue_url_names_the_owner_even_in_the_callers_copy() {
    // The copy of a cross-account call recorded in the caller's account.
    let mut rec = record(
        "sqs.amazonaws.com",
        "SetQueueAttributes",
        json!({"queueUrl": format!("https://sqs.eu-west-1.amazonaws.com/{OWNER}/jobs"), "attributes": {"Policy": policy(vec![])}}),
        Value::Null,
    );
    rec["recipientAccountId"] = json!(TRUSTED);
    let d = one(&allowlist(""), rec);
    assert_eq!(d.resource.unwrap().account, OWNER);
}

#[test]
fn add_permission_is_decided_on_the_grant_it_added() {
    let url = format!("https://sqs.eu-west-1.amazonaws.com/{OWNER}/jobs");
    let add = |accounts: Value| {
        record(
            "sqs.amazonaws.com",
            "AddPermission",
            json!({"queueUrl": url, "label": "l", "aWSAccountIds": accounts, "actions": ["SendMessage"]}),
            Value::Null,
        )
    };
    let d = one(&allowlist(""), add(json!([TRUSTED])));
    assert_eq!(d.verdict, Verdict::Violation);
    // The record carries the grant, not the whole policy: no plan from it.
    assert!(d.remediation.is_none());
    assert!(
        d.reason.contains("decided on the grant the call added"),
        "{}",
        d.reason
    );
    let approved = allowlist(&format!(
        "[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{TRUSTED}\"\nresources = [\"queue/jobs\"]\nactions = [\"sqs:SendMessage\"]\n"
    ));
    assert_eq!(
        one(&approved, add(json!([TRUSTED]))).verdict,
        Verdict::Compliant
    );
    // The same grant to a second, unapproved account is not approved by the first.
    assert_eq!(
        one(&approved, add(json!([TRUSTED, "444444444444"]))).verdict,
        Verdict::Violation
    );
    // Parameters of the wrong type: could not be checked, never a narrower grant.
    assert_eq!(one(&approved, add(json!(12))).verdict, Verdict::Error);
    assert_eq!(one(&approved, add(json!([null]))).verdict, Verdict::Error);

    // SNS's AddPermission has its own parameter names, and goes to the topic kind.
    let d = one(
        &allowlist(""),
        record(
            "sns.amazonaws.com",
            "AddPermission",
            json!({"topicArn": format!("arn:aws:sns:eu-west-1:{OWNER}:t"), "label": "l", "aWSAccountId": [TRUSTED], "actionName": ["Publish"]}),
            Value::Null,
        ),
    );
    assert_eq!(d.resource.as_ref().unwrap().spec(), "topic/t");
    assert_eq!(d.findings[0].account.as_deref(), Some(TRUSTED));
    // AddPermission from a service crossguard does not guard is ignored.
    let d = one(
        &allowlist(""),
        record(
            "sagemaker.amazonaws.com",
            "AddPermission",
            json!({}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Ignored);
}

#[test]
fn sns_default_policy_is_the_owner_alone_and_what_an_emptied_topic_gets() {
    let topic = Resource::from_spec("topic/t", OWNER, Some("eu-west-1")).unwrap();
    let default = remediation::default_topic_policy(&topic);
    let doc = PolicyDocument::from_value(default.clone()).unwrap();
    let d = decide(&allowlist(""), &topic, Some(&doc), opts());
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);

    let open = policy(vec![grant("Anyone", json!({"AWS": "*"}), "sns:Subscribe")]);
    let arn = format!("arn:aws:sns:eu-west-1:{OWNER}:t");
    let d = one(
        &allowlist(""),
        record(
            "sns.amazonaws.com",
            "SetTopicAttributes",
            json!({"topicArn": arn, "attributeName": "Policy", "attributeValue": open}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    let plan = d.remediation.unwrap();
    assert_eq!(plan.kind, PlanKind::PutPolicy);
    assert_eq!(plan.policy.unwrap().to_value().unwrap(), default);

    let d = one(
        &allowlist(""),
        record(
            "sns.amazonaws.com",
            "SetTopicAttributes",
            json!({"topicArn": arn, "attributeName": "DeliveryPolicy", "attributeValue": "{}"}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Ignored);

    let d = one(
        &allowlist(""),
        record(
            "sns.amazonaws.com",
            "CreateTopic",
            json!({"name": "t"}),
            json!({"topicArn": arn}),
        ),
    );
    assert_eq!(d.verdict, Verdict::Compliant);
    assert!(d.reason.contains("default policy"), "{}", d.reason);
}

#[test]
fn lambda_policies_lose_whole_statements_by_sid_only() {
    let f = Resource::from_spec("function/f", OWNER, Some("eu-west-1")).unwrap();
    let al = allowlist(&format!(
        "[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{TRUSTED}\"\nresources = [\"function/f\"]\n"
    ));
    // Two statements: the approved one stays, the public one goes by its Sid.
    let doc = PolicyDocument::from_value(
        serde_json::from_str(&policy(vec![
            grant(
                "build",
                json!({"AWS": format!("arn:aws:iam::{TRUSTED}:root")}),
                "lambda:InvokeFunction",
            ),
            grant("public", json!("*"), "lambda:InvokeFunction"),
        ]))
        .unwrap(),
    )
    .unwrap();
    let d = decide(&al, &f, Some(&doc), opts());
    let plan = d.remediation.unwrap();
    assert_eq!(plan.kind, PlanKind::PutPolicy);
    let kept = plan.policy.unwrap().to_value().unwrap();
    assert_eq!(kept["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(kept["Statement"][0]["Sid"], "build");

    // One statement lets in an approved and an unapproved account: Lambda cannot narrow
    // it, so the plan is refused (alert only), never a wider or partial write.
    let doc = PolicyDocument::from_value(serde_json::from_str(&policy(vec![grant(
        "both",
        json!({"AWS": [format!("arn:aws:iam::{TRUSTED}:root"), "arn:aws:iam::444444444444:root"]}),
        "lambda:InvokeFunction",
    )])).unwrap())
    .unwrap();
    let plan = decide(&al, &f, Some(&doc), opts()).remediation.unwrap();
    assert_eq!(plan.kind, PlanKind::Refused);
    assert!(plan.reason.unwrap().contains("whole statements"));

    // A statement without a Sid cannot be removed by Sid.
    let doc = PolicyDocument::from_value(json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction"}]})).unwrap();
    let plan = decide(&al, &f, Some(&doc), opts()).remediation.unwrap();
    assert_eq!(plan.kind, PlanKind::Refused);
    assert!(plan.reason.unwrap().contains("no Sid"));
}

#[test]
fn lambda_events_name_the_function_however_written() {
    let add = |function: &str, qualifier: Option<&str>| {
        let mut p = json!({"functionName": function, "statementId": "s", "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com", "sourceAccount": OWNER});
        if let Some(q) = qualifier {
            p["qualifier"] = json!(q);
        }
        one(
            &allowlist(""),
            record(
                "lambda.amazonaws.com",
                "AddPermission20150331v2",
                p,
                Value::Null,
            ),
        )
    };
    for (given, q, spec) in [
        ("f", None, "function/f"),
        ("f", Some("live"), "function/f:live"),
        (&format!("{OWNER}:function:f") as &str, None, "function/f"),
        (
            &format!("arn:aws:lambda:eu-west-1:{OWNER}:function:f:live") as &str,
            None,
            "function/f:live",
        ),
    ] {
        let d = add(given, q);
        assert_eq!(d.resource.as_ref().unwrap().spec(), spec, "{given}");
        // A service principal narrowed to the owner account is the owner's.
        assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    }
    // A service principal without a source condition acts for anyone: a warning.
    let d = one(
        &allowlist(""),
        record(
            "lambda.amazonaws.com",
            "AddPermission20150331v2",
            json!({"functionName": "f", "statementId": "s", "action": "lambda:InvokeFunction", "principal": "sns.amazonaws.com"}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    assert!(d.findings[0].warning, "{:?}", d.findings);
}

#[test]
fn function_urls_matter_only_without_auth() {
    let url = |auth: &str| {
        record(
            "lambda.amazonaws.com",
            "CreateFunctionUrlConfig20211031",
            json!({"functionName": "f", "authType": auth}),
            Value::Null,
        )
    };
    assert_eq!(
        one(&allowlist(""), url("AWS_IAM")).verdict,
        Verdict::Ignored
    );
    // NONE: public if the live policy lets * invoke; the record alone cannot tell.
    let d = one(&allowlist(""), url("NONE"));
    assert_eq!(d.verdict, Verdict::Error);
    assert!(d.reason.contains("AuthType NONE"), "{}", d.reason);
    // The grant Lambda added for a public URL, from responseElements.statement.
    let d = fixture_decision("AddPermission20150331v2__lambda-reconstructed__1.json");
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(d.findings[0].account.as_deref(), Some("*"));
}

#[test]
fn secrets_repositories_and_buses() {
    let d = fixture_decision("PutResourcePolicy__secrets-reconstructed__1.json");
    assert_eq!(
        d.resource.as_ref().unwrap().spec(),
        "secret/prod/db-password"
    );
    assert_eq!(d.verdict, Verdict::Violation);
    let d = one(
        &allowlist(""),
        record(
            "secretsmanager.amazonaws.com",
            "DeleteResourcePolicy",
            json!({"secretId": "db"}),
            json!({"aRN": format!("arn:aws:secretsmanager:eu-west-1:{OWNER}:secret:db-AbCdEf"), "name": "db"}),
        ),
    );
    assert_eq!(
        (d.verdict, d.resource.unwrap().spec()),
        (Verdict::Compliant, "secret/db")
    );

    let d = fixture_decision("SetRepositoryPolicy__panther__1.json");
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(d.remediation.unwrap().kind, PlanKind::DeletePolicy);

    // PutPermission without eventBusName is the default bus.
    let d = fixture_decision("PutPermission__events-reconstructed__2.json");
    assert_eq!(d.resource.as_ref().unwrap().spec(), "bus/default");
    assert_eq!(d.verdict, Verdict::Violation);
    // A whole policy given to PutPermission is read as the policy.
    let whole = policy(vec![grant("all", json!("*"), "events:PutEvents")]);
    let d = one(
        &allowlist(""),
        record(
            "events.amazonaws.com",
            "PutPermission",
            json!({"eventBusName": "orders", "policy": whole}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    assert!(d.remediation.is_some());
    // An organization condition narrows "*" to the organization.
    let org = allowlist("[[org]]\nid = \"o-a1b2c3d4e5\"\nowners = [\"*\"]\n");
    let d = decide_event_text(
        &org,
        &fixture("PutPermission__events-reconstructed__1.json"),
        opts(),
    )
    .unwrap()
    .remove(0);
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    let d = one(
        &allowlist(""),
        record(
            "events.amazonaws.com",
            "CreateEventBus",
            json!({"name": "orders"}),
            json!({"eventBusArn": format!("arn:aws:events:eu-west-1:{OWNER}:event-bus/orders")}),
        ),
    );
    assert_eq!(d.verdict, Verdict::Compliant);
}

#[test]
fn policy_limits_are_the_kinds_own() {
    for (spec, limit) in [
        ("queue/q", 8192),
        ("topic/t", 30 * 1024),
        ("repository/r", 10 * 1024),
    ] {
        let r = Resource::from_spec(spec, OWNER, None).unwrap();
        let pad = "x".repeat(limit);
        let doc = PolicyDocument::from_value(json!({"Statement": [{"Sid": pad, "Effect": "Allow", "Principal": {"AWS": OWNER}, "Action": "*"}]})).unwrap();
        let d = decide(&allowlist(""), &r, Some(&doc), opts());
        assert_eq!(d.verdict, Verdict::Error, "{spec}");
        assert!(d.reason.contains(r.kind.spec().policy_name), "{}", d.reason);
    }
}

#[test]
fn hostile_shapes_are_never_a_quiet_pass() {
    let url = format!("https://sqs.eu-west-1.amazonaws.com/{OWNER}/jobs");
    let open = policy(vec![grant("p", json!("*"), "sqs:SendMessage")]);
    // The policy attribute spelled another way is still the policy.
    let d = one(
        &allowlist(""),
        record(
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            json!({"queueUrl": url, "attributes": {"policy": open}}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    // Two spellings at once: which one SQS took cannot be told.
    let d = one(
        &allowlist(""),
        record(
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            json!({"queueUrl": url, "attributes": {"Policy": "", "POLICY": open}}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    let d = one(
        &allowlist(""),
        record(
            "sns.amazonaws.com",
            "SetTopicAttributes",
            json!({"topicArn": format!("arn:aws:sns:eu-west-1:{OWNER}:t"), "attributeName": "policy", "attributeValue": open}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Violation);

    // A secret named like an ARN suffix, changed through a partial ARN: the response's
    // full ARN names it exactly.
    let d = one(
        &allowlist(""),
        record(
            "secretsmanager.amazonaws.com",
            "PutResourcePolicy",
            json!({"secretId": format!("arn:aws:secretsmanager:eu-west-1:{OWNER}:secret:app-config-prod01"), "resourcePolicy": open}),
            json!({"aRN": format!("arn:aws:secretsmanager:eu-west-1:{OWNER}:secret:app-config-prod01-AbCdEf"), "name": "app-config-prod01"}),
        ),
    );
    assert_eq!(d.resource.unwrap().spec(), "secret/app-config-prod01");

    // Two statements sharing a Sid: removing one by Sid is ambiguous, so nothing is.
    let f = Resource::from_spec("function/f", OWNER, Some("eu-west-1")).unwrap();
    let doc = PolicyDocument::from_value(
        serde_json::from_str(&policy(vec![
            grant(
                "same",
                json!({"AWS": format!("arn:aws:iam::{OWNER}:root")}),
                "lambda:InvokeFunction",
            ),
            grant("same", json!("*"), "lambda:InvokeFunction"),
        ]))
        .unwrap(),
    )
    .unwrap();
    let plan = decide(&allowlist(""), &f, Some(&doc), opts())
        .remediation
        .unwrap();
    assert_eq!(plan.kind, PlanKind::Refused);
    assert!(plan.reason.unwrap().contains("shares its Sid"));
}

#[test]
fn the_readme_and_the_makefile_cover_every_kind_of_the_registry() {
    let root = format!("{}/..", env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let makefile = std::fs::read_to_string(format!("{root}/Makefile")).unwrap();
    let functions = makefile
        .lines()
        .find_map(|l| l.strip_prefix("FUNCTIONS := "))
        .unwrap();
    for spec in &kinds::KINDS {
        let function = format!("{}-guard", spec.name);
        assert!(
            readme.contains(&format!("| `{function}` | `{}/", spec.name)),
            "README's table of functions has no row for {function}"
        );
        assert!(
            functions.split_whitespace().any(|f| f == function),
            "Makefile FUNCTIONS lacks {function}"
        );
        assert!(
            std::path::Path::new(&format!("{root}/functions/{function}/src/main.rs")).exists(),
            "no crate functions/{function}"
        );
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{function}` |")))
            .unwrap();
        for event in spec.events {
            assert!(
                row.contains(&format!("`{}`", event.name)),
                "README's row for {function} does not name {}",
                event.name
            );
        }
    }
}

#[test]
fn reviewers_bypasses_stay_closed() {
    // A function named like its alias: the qualifier parameter still names the alias.
    for given in [
        format!("arn:aws:lambda:eu-west-1:{OWNER}:function:prod"),
        format!("{OWNER}:function:prod"),
        "prod".to_string(),
    ] {
        let d = one(
            &allowlist(""),
            record(
                "lambda.amazonaws.com",
                "AddPermission20150331v2",
                json!({"functionName": given, "qualifier": "prod", "statementId": "s", "action": "lambda:InvokeFunction", "principal": "*"}),
                Value::Null,
            ),
        );
        assert_eq!(d.resource.unwrap().spec(), "function/prod:prod", "{given}");
    }
    // ECR's registryId names the owner, whoever's trail recorded the call.
    let mut rec = record(
        "ecr.amazonaws.com",
        "SetRepositoryPolicy",
        json!({"repositoryName": "app", "registryId": OWNER, "policyText": policy(vec![])}),
        Value::Null,
    );
    rec["recipientAccountId"] = json!(TRUSTED);
    let r = one(&allowlist(""), rec).resource.unwrap();
    assert_eq!((r.account.as_str(), r.spec()), (OWNER, "repository/app"));
    // A secret ARN that may be partial, with no response to settle it: error.
    let d = one(
        &allowlist(""),
        record(
            "secretsmanager.amazonaws.com",
            "DeleteResourcePolicy",
            json!({"secretId": format!("arn:aws:secretsmanager:eu-west-1:{OWNER}:secret:app-config-prod01")}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    // Malformed attribute shapes are unreadable, not "another attribute".
    let url = format!("https://sqs.eu-west-1.amazonaws.com/{OWNER}/jobs");
    for params in [
        json!({"queueUrl": url}),
        json!({"queueUrl": url, "attributes": "Policy"}),
    ] {
        let d = one(
            &allowlist(""),
            record(
                "sqs.amazonaws.com",
                "SetQueueAttributes",
                params,
                Value::Null,
            ),
        );
        assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    }
    let d = one(
        &allowlist(""),
        record(
            "sns.amazonaws.com",
            "SetTopicAttributes",
            json!({"topicArn": format!("arn:aws:sns:eu-west-1:{OWNER}:t"), "attributeValue": "{}"}),
            Value::Null,
        ),
    );
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
}

#[test]
fn kms_grants_are_a_door_of_their_own() {
    let key = format!("arn:aws:kms:eu-west-1:{OWNER}:key/k1");
    let grant = |grantee: &str, retiring: Option<&str>, response: Value| {
        let mut p = json!({"keyId": key, "granteePrincipal": grantee, "operations": ["Decrypt", "GenerateDataKey"],
            "constraints": {"encryptionContextSubset": {"app": "billing"}}});
        if let Some(r) = retiring {
            p["retiringPrincipal"] = json!(r);
        }
        record("kms.amazonaws.com", "CreateGrant", p, response)
    };
    let approved = allowlist(&format!(
        "[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{TRUSTED}\"\nresources = [\"key/*\"]\nactions = [\"kms:Decrypt\", \"kms:GenerateDataKey\"]\n"
    ));
    // An outside grantee: revoke the grant, by its id.
    let d = one(
        &approved,
        grant(
            "arn:aws:iam::444444444444:role/x",
            None,
            json!({"grantId": "g-1"}),
        ),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    let plan = d.remediation.unwrap();
    assert_eq!(
        (plan.kind, plan.grant_id.as_deref()),
        (PlanKind::RevokeGrant, Some("g-1"))
    );
    // The constraints are recorded with the grant, not taken for a narrowing of who.
    assert!(plan.removed[0]
        .original_statement
        .to_string()
        .contains("kms:EncryptionContext:app"));
    // An approved grantee: compliant, nothing to do.
    let d = one(
        &approved,
        grant(
            &format!("arn:aws:iam::{TRUSTED}:role/ci"),
            None,
            json!({"grantId": "g-2"}),
        ),
    );
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    // Approved grantee, outside retiring principal: reported, but revoking would take
    // approved access: refused.
    let d = one(
        &approved,
        grant(
            &format!("arn:aws:iam::{TRUSTED}:role/ci"),
            Some("arn:aws:iam::444444444444:root"),
            json!({"grantId": "g-3"}),
        ),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(d.remediation.unwrap().kind, PlanKind::Refused);
    // No grantId in the record: alerted, not revocable.
    let d = one(
        &approved,
        grant("arn:aws:iam::444444444444:role/x", None, Value::Null),
    );
    assert_eq!(d.remediation.unwrap().kind, PlanKind::Refused);
    // AWS infrastructure in the owner's account (EBS) is the owner.
    let d = one(
        &approved,
        grant(
            &format!("{OWNER}:aws:ec2-infrastructure:i-81e2f56c"),
            None,
            json!({"grantId": "g-4"}),
        ),
    );
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    // A refused grant plan alerts, even in remediate mode.
    let remediating = Options {
        mode: Some(Mode::Remediate),
        ..opts()
    };
    let rec = grant(
        &format!("arn:aws:iam::{TRUSTED}:role/ci"),
        Some("arn:aws:iam::444444444444:root"),
        json!({"grantId": "g-3"}),
    );
    let d = decide_event_text(&approved, &rec.to_string(), remediating)
        .unwrap()
        .remove(0);
    assert_eq!(d.action, Action::Alert);
    let rec = grant(
        "arn:aws:iam::444444444444:role/x",
        None,
        json!({"grantId": "g-6"}),
    );
    let d = decide_event_text(&approved, &rec.to_string(), remediating)
        .unwrap()
        .remove(0);
    assert_eq!(d.action, Action::Remediate);
    assert_eq!(
        d.remediation.unwrap().removed[0].account.as_deref(),
        Some("444444444444")
    );
    // A service grantee acting for an outside account's resource (constraints.sourceArn).
    let service = record(
        "kms.amazonaws.com",
        "CreateGrant",
        json!({"keyId": key, "granteePrincipal": "logs.eu-west-1.amazonaws.com", "operations": ["Decrypt"],
            "constraints": {"sourceArn": "arn:aws:logs:eu-west-1:444444444444:log-group:x"}}),
        json!({"grantId": "g-7"}),
    );
    assert_eq!(one(&approved, service).verdict, Verdict::Violation);
    // A constraint crossguard does not know: could not be checked.
    let unknown = record(
        "kms.amazonaws.com",
        "CreateGrant",
        json!({"keyId": key, "granteePrincipal": "arn:aws:iam::444444444444:root", "operations": ["Decrypt"],
            "constraints": {"somethingNew": {"a": "b"}}}),
        json!({"grantId": "g-8"}),
    );
    assert_eq!(one(&approved, unknown).verdict, Verdict::Error);
    // Operations missing: could not be checked.
    let d = one(
        &approved,
        record(
            "kms.amazonaws.com",
            "CreateGrant",
            json!({"keyId": key, "granteePrincipal": "arn:aws:iam::444444444444:root"}),
            json!({"grantId": "g-5"}),
        ),
    );
    assert_eq!(d.verdict, Verdict::Error);
    // A principal named both ways (KMS takes one or the other): which one it used cannot
    // be told, so the one not read could be an outsider.
    for (a, b) in [
        ("granteePrincipal", "granteeServicePrincipal"),
        ("retiringPrincipal", "retiringServicePrincipal"),
    ] {
        let mut p = json!({"keyId": key, "granteePrincipal": format!("arn:aws:iam::{OWNER}:root"), "operations": ["Decrypt"]});
        p[a] = json!(format!("arn:aws:iam::{OWNER}:root"));
        p[b] = json!("arn:aws:iam::444444444444:root");
        let d = one(
            &approved,
            record(
                "kms.amazonaws.com",
                "CreateGrant",
                p,
                json!({"grantId": "g-9"}),
            ),
        );
        assert_eq!(d.verdict, Verdict::Error, "{a}/{b}: {}", d.reason);
        assert!(d.reason.contains("names both"), "{}", d.reason);
    }
}

fn public_policy() -> String {
    policy(vec![grant("Anyone", json!({"AWS": "*"}), "s3:GetObject")])
}

fn put_public() -> Value {
    record(
        "s3.amazonaws.com",
        "PutBucketPolicy",
        json!({"bucketName": "b", "bucketPolicy": public_policy()}),
        Value::Null,
    )
}

fn is_error(rec: Value) {
    let d = one(&allowlist(""), rec.clone());
    assert_eq!(d.verdict, Verdict::Error, "{rec}: {}", d.reason);
}

/// A guarded call whose record cannot say exactly what it did is an error, never
/// ignored or compliant. Here: a mistyped `errorCode` (the call taken for failed).
#[test]
fn a_mistyped_error_code_is_an_error() {
    let al = allowlist("");
    for code in [
        json!(0),
        json!(false),
        json!({}),
        json!([]),
        json!(["AccessDenied"]),
        json!(" "),
        json!("AccessDenied\n"),
    ] {
        let mut rec = put_public();
        rec["errorCode"] = code;
        is_error(rec);
    }
    // A plain error name: the call failed, nothing changed; "" and null: it succeeded.
    let mut failed = put_public();
    failed["errorCode"] = json!("AccessDenied");
    assert_eq!(one(&al, failed).verdict, Verdict::Ignored);
    for ok in [json!(""), Value::Null] {
        let mut rec = put_public();
        rec["errorCode"] = ok;
        assert_eq!(one(&al, rec).verdict, Verdict::Violation);
    }
}

/// A call whose name or service is unreadable, or a guarded call spelled otherwise by
/// its own service, is an error; another service's call of the same name is not ours.
#[test]
fn a_call_whose_identity_is_unreadable_is_an_error() {
    for (source, name) in [
        (Value::Null, json!("PutBucketPolicy")),
        (json!(""), json!("PutBucketPolicy")),
        (json!(["s3.amazonaws.com"]), json!("PutBucketPolicy")),
        (json!("S3.amazonaws.com"), json!("PutBucketPolicy")),
        (json!(" s3.amazonaws.com"), json!("PutBucketPolicy")),
        (json!("s3.amazonaws.com"), json!("putBucketPolicy")),
        (json!("s3.amazonaws.com"), json!("\u{feff}PutBucketPolicy")),
        (json!("s3.amazonaws.com"), json!(7)),
    ] {
        let mut rec = put_public();
        rec["eventSource"] = source;
        rec["eventName"] = name;
        is_error(rec);
    }
    let mut other = put_public();
    other["eventSource"] = json!("s3-outposts.amazonaws.com");
    assert_eq!(one(&allowlist(""), other).verdict, Verdict::Ignored);
}

/// Function URLs: only `AWS_IAM` auth is passed over; a missing or other auth type
/// leaves the live configuration to decide (offline: an error).
#[test]
fn a_function_url_is_passed_over_only_with_iam_auth() {
    let url = |params: Value| {
        record(
            "lambda.amazonaws.com",
            "CreateFunctionUrlConfig20211031",
            params,
            Value::Null,
        )
    };
    for auth in [Value::Null, json!("none"), json!(["NONE"]), json!("CUSTOM")] {
        is_error(url(json!({"functionName": "f", "authType": auth})));
    }
    is_error(url(json!({"functionName": "f"})));
    is_error(url(json!({"functionName": "f", "AuthType": "NONE"})));
}

/// A create whose request is missing or of another shape is not "nothing set"; a policy
/// set to null is not "no policy"; an SNS attribute name is read padded or in another
/// case, and an empty one cannot be told.
#[test]
fn an_unreadable_request_is_an_error_not_a_default() {
    let al = allowlist("");
    let public = public_policy();
    let arn = format!("arn:aws:sns:eu-west-1:{OWNER}:t");
    let key_arn = format!("arn:aws:kms:eu-west-1:{OWNER}:key/k");
    let key = |params: Value| {
        let mut rec = record(
            "kms.amazonaws.com",
            "CreateKey",
            params,
            json!({"keyMetadata": {"keyId": "k", "arn": key_arn}}),
        );
        rec["resources"] = json!([{"type": "AWS::KMS::Key", "ARN": key_arn, "accountId": OWNER}]);
        rec
    };
    let topic = |params: Value| {
        record(
            "sns.amazonaws.com",
            "CreateTopic",
            params,
            json!({"topicArn": arn}),
        )
    };
    for params in [Value::Null, json!("x"), json!([])] {
        is_error(key(params.clone()));
        is_error(topic(params));
    }
    is_error(key(json!({"policy": null})));
    for attributes in [
        json!("x"),
        json!(["Policy"]),
        json!(1),
        json!({"Policy": null}),
        json!({"Policy": ""}),
    ] {
        is_error(topic(json!({"name": "t", "attributes": attributes})));
    }
    let lower = topic(json!({"name": "t", "attributes": {"policy": public}}));
    assert_eq!(one(&al, lower).verdict, Verdict::Violation);
    let queue = format!("https://sqs.eu-west-1.amazonaws.com/{OWNER}/q");
    is_error(record(
        "sqs.amazonaws.com",
        "SetQueueAttributes",
        json!({"queueUrl": queue, "attributes": {"Policy": null}}),
        Value::Null,
    ));
    is_error(record(
        "sqs.amazonaws.com",
        "CreateQueue",
        json!({"queueName": "q", "attributes": {"Policy": null}}),
        json!({"queueUrl": queue}),
    ));
    let named = |name: &str| {
        record(
            "sns.amazonaws.com",
            "SetTopicAttributes",
            json!({"topicArn": arn, "attributeName": name, "attributeValue": public}),
            Value::Null,
        )
    };
    for name in [" Policy", "Policy\t", "\u{feff}Policy", "policy"] {
        assert_eq!(
            one(&al, named(name)).verdict,
            Verdict::Violation,
            "{name:?}"
        );
    }
    is_error(named(""));
    is_error(named(" "));
}
