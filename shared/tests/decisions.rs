//! Decisions end to end through the engine's public API: approval rules of SPEC §1–§2,
//! remediation plans of §4, and the real CloudTrail records in fixtures/cloudtrail.

// Test helpers take `json!` values as they are written at each call.
#![allow(clippy::needless_pass_by_value)]

use crossguard_engine::*;
use serde_json::{json, Value};

const OWNER: &str = "222222222222";
const TRUSTED: &str = "111111111111";
const OUTSIDER: &str = "999999999999";

fn allowlist(extra: &str) -> Allowlist {
    Allowlist::from_toml(&format!("version = 1\n{extra}"), "test.toml").unwrap()
}

fn opts() -> Options {
    Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode: None,
    }
}

fn decide_doc(al: &Allowlist, res: &str, policy: Value) -> Decision {
    let r = Resource::from_spec(res, OWNER, Some("us-east-1")).unwrap();
    let doc = PolicyDocument::from_value(policy).unwrap();
    decide(al, &r, Some(&doc), opts())
}

fn stmt(principal: Value, action: Value) -> Value {
    json!({"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"})
}

fn doc(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn pairing(extra: &str) -> String {
    format!("[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{TRUSTED}\"\n{extra}\n")
}

#[test]
fn owner_account_is_always_internal() {
    let d = decide_doc(
        &allowlist(""),
        "bucket/b",
        doc(vec![stmt(
            json!({"AWS": format!("arn:aws:iam::{OWNER}:role/x")}),
            json!("s3:*"),
        )]),
    );
    assert_eq!(d.verdict, Verdict::Compliant);
    assert_eq!(d.findings[0].approved_by.as_deref(), Some("owner"));
}

#[test]
fn unpaired_account_is_a_violation_and_pairing_approves_it() {
    let p = doc(vec![stmt(json!({"AWS": TRUSTED}), json!("s3:GetObject"))]);
    let d = decide_doc(&allowlist(""), "bucket/b", p.clone());
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(d.findings[0].account.as_deref(), Some(TRUSTED));
    assert!(d.findings[0].reason.contains("no [[pairing]]"));
    let d = decide_doc(&allowlist(&pairing("ticket = \"SEC-1\"")), "bucket/b", p);
    assert_eq!(d.verdict, Verdict::Compliant);
    assert_eq!(
        d.findings[0].approved_by.as_deref(),
        Some("pairing #1 (SEC-1)")
    );
    assert_eq!(d.findings[0].ticket.as_deref(), Some("SEC-1"));
}

#[test]
fn pairing_scope_owner_and_resources() {
    let p = doc(vec![stmt(json!({"AWS": TRUSTED}), json!("s3:GetObject"))]);
    let al = allowlist(&pairing("resources = [\"bucket/shared-*\"]"));
    assert_eq!(
        decide_doc(&al, "bucket/shared-data", p.clone()).verdict,
        Verdict::Compliant
    );
    let d = decide_doc(&al, "bucket/private", p.clone());
    assert_eq!(d.verdict, Verdict::Violation);
    assert!(
        d.findings[0]
            .reason
            .contains("bucket/private is not among its resources"),
        "{}",
        d.findings[0].reason
    );
    let other_owner = allowlist(&format!(
        "[[pairing]]\nowner = \"333333333333\"\ntrusted = \"{TRUSTED}\"\n"
    ));
    assert_eq!(
        decide_doc(&other_owner, "bucket/b", p.clone()).verdict,
        Verdict::Violation
    );
    let any_owner = allowlist(&format!(
        "[[pairing]]\nowner = \"*\"\ntrusted = \"{TRUSTED}\"\n"
    ));
    assert_eq!(
        decide_doc(&any_owner, "bucket/b", p).verdict,
        Verdict::Compliant
    );
}

#[test]
fn wildcard_action_coverage_both_directions() {
    let al = allowlist(&pairing("actions = [\"s3:Get*\", \"s3:ListBucket\"]"));
    let ok =
        |a: Value| decide_doc(&al, "bucket/b", doc(vec![stmt(json!({"AWS": TRUSTED}), a)])).verdict;
    assert_eq!(ok(json!("s3:GetObject")), Verdict::Compliant);
    assert_eq!(
        ok(json!(["S3:getobjectversion", "s3:listbucket"])),
        Verdict::Compliant,
        "case-insensitive"
    );
    assert_eq!(ok(json!("s3:Get*")), Verdict::Compliant);
    assert_eq!(ok(json!("s3:*")), Verdict::Violation);
    assert_eq!(ok(json!("*")), Verdict::Violation);
    assert_eq!(
        ok(json!(["s3:GetObject", "s3:PutObject"])),
        Verdict::Violation
    );
    let exact = allowlist(&pairing("actions = [\"s3:GetObject\"]"));
    let d = decide_doc(
        &exact,
        "bucket/b",
        doc(vec![stmt(json!({"AWS": TRUSTED}), json!("s3:Get*"))]),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    assert!(d.findings[0]
        .reason
        .contains("s3:Get* is outside the approved actions"));
}

#[test]
fn not_action_grants_nearly_everything() {
    let p = doc(vec![
        json!({"Effect": "Allow", "Principal": {"AWS": TRUSTED}, "NotAction": "s3:DeleteBucket", "Resource": "*"}),
    ]);
    let d = decide_doc(
        &allowlist(&pairing("actions = [\"s3:*\"]")),
        "bucket/b",
        p.clone(),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(
        d.findings[0].actions.except(),
        Some(&["s3:DeleteBucket".to_string()][..])
    );
    assert_eq!(
        decide_doc(
            &allowlist(&pairing("actions = [\"*\"]")),
            "bucket/b",
            p.clone()
        )
        .verdict,
        Verdict::Compliant
    );
    assert_eq!(
        decide_doc(&allowlist(&pairing("")), "bucket/b", p).verdict,
        Verdict::Compliant
    );
}

#[test]
fn expired_pairing_approves_nothing() {
    let p = doc(vec![stmt(json!({"AWS": TRUSTED}), json!("s3:GetObject"))]);
    let al = allowlist(&pairing("expires = 2026-11-22"));
    let d = decide_doc(&al, "bucket/b", p.clone());
    assert_eq!(d.verdict, Verdict::Violation, "expires on the day itself");
    assert!(d.findings[0].reason.contains("expired on 2026-11-22"));
    assert_eq!(
        decide_doc(&allowlist(&pairing("expires = 2026-11-23")), "bucket/b", p).verdict,
        Verdict::Compliant
    );
}

#[test]
fn role_trust_external_id() {
    let al = allowlist(&pairing("require_external_id = true"));
    let bare = doc(vec![
        json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{TRUSTED}:root")}, "Action": "sts:AssumeRole"}),
    ]);
    let d = decide_doc(&al, "role/R", bare);
    assert_eq!(d.verdict, Verdict::Violation);
    assert!(d.findings[0].reason.contains("sts:ExternalId"));
    let with = doc(vec![
        json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{TRUSTED}:root")}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "abc"}}}),
    ]);
    assert_eq!(decide_doc(&al, "role/R", with).verdict, Verdict::Compliant);
    let weak = doc(vec![
        json!({"Effect": "Allow", "Principal": {"AWS": TRUSTED}, "Action": "sts:AssumeRole",
        "Condition": {"StringEqualsIfExists": {"sts:ExternalId": "abc"}}}),
    ]);
    assert_eq!(decide_doc(&al, "role/R", weak).verdict, Verdict::Violation);
    // Buckets are not roles: the demand does not apply.
    assert_eq!(
        decide_doc(
            &al,
            "bucket/b",
            doc(vec![stmt(json!({"AWS": TRUSTED}), json!("s3:GetObject"))])
        )
        .verdict,
        Verdict::Compliant
    );
}

#[test]
fn org_entries() {
    let p = doc(vec![
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}),
    ]);
    let d = decide_doc(&allowlist(""), "bucket/b", p.clone());
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(
        (
            d.findings[0].account.as_deref(),
            d.findings[0].org.as_deref()
        ),
        (None, Some("o-a1b2c3d4e5"))
    );
    let al = allowlist("[[org]]\nid = \"o-a1b2c3d4e5\"\nowners = [\"*\"]\n");
    assert_eq!(
        decide_doc(&al, "bucket/b", p.clone()).verdict,
        Verdict::Compliant
    );
    let other = allowlist(&format!(
        "[[org]]\nid = \"o-a1b2c3d4e5\"\nowners = [\"{TRUSTED}\"]\n"
    ));
    assert_eq!(
        decide_doc(&other, "bucket/b", p).verdict,
        Verdict::Violation
    );
    // An outside account limited to the org is approved by the org entry too.
    let named = doc(vec![
        json!({"Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}),
    ]);
    assert_eq!(
        decide_doc(&al, "bucket/b", named).verdict,
        Verdict::Compliant
    );
}

#[test]
fn public_entries() {
    let p = doc(vec![stmt(json!("*"), json!("s3:GetObject"))]);
    let d = decide_doc(&allowlist(""), "bucket/www", p.clone());
    assert_eq!(
        (d.verdict, d.findings[0].account.as_deref()),
        (Verdict::Violation, Some("*"))
    );
    let al = allowlist(&format!("[[public]]\nowner = \"{OWNER}\"\nresources = [\"bucket/www\"]\nactions = [\"s3:GetObject\"]\n"));
    assert_eq!(
        decide_doc(&al, "bucket/www", p.clone()).verdict,
        Verdict::Compliant
    );
    assert_eq!(
        decide_doc(&al, "bucket/other", p).verdict,
        Verdict::Violation
    );
    let d = decide_doc(
        &al,
        "bucket/www",
        doc(vec![stmt(json!("*"), json!("s3:PutObject"))]),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    assert!(
        d.findings[0].reason.contains("public #1 does not apply"),
        "{}",
        d.findings[0].reason
    );
    // NotPrincipal with Allow is public.
    let np = doc(vec![
        json!({"Effect": "Allow", "NotPrincipal": {"AWS": TRUSTED}, "Action": "s3:GetObject", "Resource": "*"}),
    ]);
    assert_eq!(
        decide_doc(&allowlist(""), "bucket/b", np).findings[0]
            .account
            .as_deref(),
        Some("*")
    );
}

#[test]
fn service_principal_warning_is_not_a_violation() {
    let p = doc(vec![stmt(
        json!({"Service": "cloudtrail.amazonaws.com"}),
        json!("s3:PutObject"),
    )]);
    let d = decide_doc(&allowlist(""), "bucket/trail", p);
    assert_eq!(d.verdict, Verdict::Compliant);
    assert!(d.findings[0].warning && !d.findings[0].approved);
    assert!(d.findings[0].reason.contains("confused deputy"));
    let scoped = doc(vec![
        json!({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": OUTSIDER}}}),
    ]);
    let d = decide_doc(&allowlist(""), "bucket/trail", scoped);
    assert_eq!(
        (d.verdict, d.findings[0].account.as_deref()),
        (Verdict::Violation, Some(OUTSIDER))
    );
}

#[test]
fn federated_open_trust_cannot_be_approved() {
    let p = doc(vec![json!({"Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::{OWNER}:oidc-provider/token.actions.githubusercontent.com")},
        "Action": "sts:AssumeRoleWithWebIdentity"})]);
    let al = allowlist("[[public]]\nowner = \"*\"\nresources = [\"role/*\"]\n");
    let d = decide_doc(&al, "role/deploy", p);
    assert_eq!(d.verdict, Verdict::Violation);
    assert!(d.findings[0]
        .reason
        .contains("token.actions.githubusercontent.com:sub"));
}

#[test]
fn unresolvable_principals_are_never_approved() {
    let p = doc(vec![stmt(
        json!({"AWS": "AROAEXAMPLEEXAMPLE1234"}),
        json!("s3:GetObject"),
    )]);
    let al = allowlist(&format!("[[pairing]]\nowner = \"*\"\ntrusted = \"{TRUSTED}\"\n[[public]]\nowner = \"*\"\nresources = [\"bucket/*\"]\n"));
    let d = decide_doc(&al, "bucket/b", p);
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(d.findings[0].account, None);
    assert!(d.findings[0].reason.contains("never be approved"));
}

#[test]
fn deny_perimeter_turns_public_into_org() {
    let p = doc(vec![
        stmt(json!("*"), json!("s3:GetObject")),
        json!({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}),
    ]);
    let al = allowlist("[[org]]\nid = \"o-a1b2c3d4e5\"\nowners = [\"*\"]\n");
    assert_eq!(decide_doc(&al, "bucket/b", p).verdict, Verdict::Compliant);
}

#[test]
fn modes_pick_the_action() {
    let p = doc(vec![stmt(json!({"AWS": OUTSIDER}), json!("s3:GetObject"))]);
    let al = allowlist(&format!("mode = \"alert\"\n[[mode_override]]\nowner = \"{OWNER}\"\nresources = [\"bucket/prod-*\"]\nmode = \"remediate\"\n"));
    assert_eq!(
        decide_doc(&al, "bucket/dev", p.clone()).action,
        Action::Alert
    );
    assert_eq!(
        decide_doc(&al, "bucket/prod-x", p.clone()).action,
        Action::Remediate
    );
    let r = Resource::from_spec("bucket/prod-x", OWNER, None).unwrap();
    let d = decide(
        &al,
        &r,
        Some(&PolicyDocument::from_value(p).unwrap()),
        Options {
            mode: Some(Mode::DryRun),
            ..opts()
        },
    );
    assert_eq!((d.action, d.remediation.is_some()), (Action::None, true));
}

#[test]
fn oversized_policies_are_errors_not_panics() {
    let many: Vec<Value> = (0..400)
        .map(|i| {
            stmt(
                json!({"AWS": format!("arn:aws:iam::{TRUSTED}:role/r{i}")}),
                json!("s3:GetObject"),
            )
        })
        .collect();
    let d = decide_doc(&allowlist(""), "bucket/b", doc(many.clone()));
    assert_eq!(d.verdict, Verdict::Error);
    assert!(
        d.reason.contains("20480-byte limit") && d.reason.contains("bucket policy"),
        "{}",
        d.reason
    );
    assert_eq!(
        decide_doc(&allowlist(""), "key/k", doc(many[..200].to_vec())).verdict,
        Verdict::Violation
    );
}

// ---- remediation plans ----

fn plan_of(d: &Decision) -> &Plan {
    d.remediation.as_ref().expect("a plan")
}

#[test]
fn plan_cuts_only_the_unapproved_principal() {
    let p = doc(vec![stmt(
        json!({"AWS": [TRUSTED, format!("arn:aws:iam::{OUTSIDER}:root")]}),
        json!("s3:GetObject"),
    )]);
    let d = decide_doc(&allowlist(&pairing("")), "bucket/b", p);
    let plan = plan_of(&d);
    assert_eq!(plan.kind, PlanKind::PutPolicy);
    assert_eq!(
        plan.policy.as_ref().unwrap().to_value().unwrap()["Statement"][0]["Principal"],
        json!({"AWS": [TRUSTED]})
    );
    assert_eq!(plan.removed.len(), 1);
    assert_eq!(plan.removed[0].account.as_deref(), Some(OUTSIDER));
    assert_eq!(
        plan.removed[0].original_statement.to_value().unwrap()["Principal"]["AWS"][1],
        json!(format!("arn:aws:iam::{OUTSIDER}:root"))
    );
}

#[test]
fn plan_cuts_condition_values_of_a_narrowed_wildcard() {
    let p = doc(vec![
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": [TRUSTED, OUTSIDER]}}}),
    ]);
    let d = decide_doc(&allowlist(&pairing("")), "bucket/b", p);
    let plan = plan_of(&d);
    let pol = plan.policy.as_ref().unwrap().to_value().unwrap();
    assert_eq!(pol["Statement"][0]["Principal"], json!("*"));
    assert_eq!(
        pol["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalAccount"],
        json!([TRUSTED])
    );
    assert!(plan.removed[0]
        .cut
        .to_string()
        .contains("aws:PrincipalAccount"));
}

#[test]
fn plan_deletes_an_empty_bucket_policy_and_denies_an_empty_trust() {
    let d = decide_doc(
        &allowlist(""),
        "bucket/b",
        doc(vec![stmt(json!("*"), json!("s3:GetObject"))]),
    );
    assert_eq!(plan_of(&d).kind, PlanKind::DeletePolicy);
    let trust = doc(vec![
        json!({"Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "sts:AssumeRole"}),
    ]);
    let d = decide_doc(&allowlist(""), "role/R", trust);
    let plan = plan_of(&d);
    assert_eq!(plan.kind, PlanKind::DenyAllTrust);
    assert_eq!(
        plan.policy.as_ref().unwrap().to_value().unwrap()["Statement"][0]["Effect"],
        json!("Deny")
    );
    // A Deny left alone is not "empty": the bucket policy is rewritten, not deleted.
    let with_deny = doc(vec![
        stmt(json!("*"), json!("s3:GetObject")),
        json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
    ]);
    let d = decide_doc(&allowlist(""), "bucket/b", with_deny);
    assert_eq!(plan_of(&d).kind, PlanKind::PutPolicy);
    assert_eq!(
        plan_of(&d).policy.as_ref().unwrap().to_value().unwrap()["Statement"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn key_policy_keeps_owner_administration() {
    // A public key policy: cutting `*` must not lock the owner out.
    let d = decide_doc(
        &allowlist(""),
        "key/k",
        doc(vec![stmt(json!({"AWS": "*"}), json!("kms:*"))]),
    );
    let pol = plan_of(&d).policy.as_ref().unwrap().to_value().unwrap();
    assert_eq!(plan_of(&d).kind, PlanKind::PutPolicy);
    assert_eq!(
        pol["Statement"][0]["Principal"]["AWS"],
        json!(format!("arn:aws:iam::{OWNER}:root"))
    );
    // An outsider in its own statement: the statement goes, the owner's is added back.
    let d = decide_doc(
        &allowlist(""),
        "key/k",
        doc(vec![stmt(json!({"AWS": OUTSIDER}), json!("kms:Decrypt"))]),
    );
    let pol = plan_of(&d).policy.as_ref().unwrap().to_value().unwrap();
    assert_eq!(
        pol["Statement"][0]["Sid"],
        json!("Enable IAM User Permissions")
    );
    assert_eq!(pol["Statement"].as_array().unwrap().len(), 1);
}

#[test]
fn unsafe_plans_are_refused_and_alerted() {
    // `*` narrowed only by a perimeter to two accounts, one approved: no condition value
    // of the Allow separates them, so no plan may be offered.
    let p = doc(vec![
        stmt(json!("*"), json!("s3:GetObject")),
        json!({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": [TRUSTED, OUTSIDER]}}}),
    ]);
    let al = allowlist(&format!("mode = \"remediate\"\n{}", pairing("")));
    let d = decide_doc(&al, "bucket/b", p);
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(plan_of(&d).kind, PlanKind::Refused);
    assert_eq!(d.action, Action::Alert);
}

// ---- real CloudTrail fixtures ----

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../fixtures/cloudtrail/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

fn decide_fixture(al: &Allowlist, name: &str) -> Decision {
    let mut ds = decide_event_text(al, &fixture(name).to_string(), opts()).unwrap();
    assert_eq!(ds.len(), 1, "{name}");
    ds.remove(0)
}

#[test]
fn every_fixture_decides_without_panicking() {
    let dir = format!("{}/../fixtures/cloudtrail", env!("CARGO_MANIFEST_DIR"));
    let al = allowlist("");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let ds = decide_event_text(&al, &v.to_string(), opts()).unwrap();
        assert!(!ds.is_empty(), "{path:?}");
        for d in ds {
            assert!(d.event.is_some(), "{path:?}");
            serde_json::to_string(&d).unwrap();
        }
        n += 1;
    }
    assert!(n >= 30, "expected the fixture set, found {n} files");
}

#[test]
fn fixture_verdicts() {
    let al = allowlist("");
    let cases = [
        ("CreateRole__stratus__1.json", Verdict::Violation),
        ("CreateRole__tat-autotag__1.json", Verdict::Compliant),
        ("CreateKey__awsdocs-kms__1.json", Verdict::Compliant),
        ("PutKeyPolicy__awsdocs-kms__1.json", Verdict::Compliant),
        ("PutKeyPolicy__panther__1.json", Verdict::Violation),
        ("PutKeyPolicy__streamalert__1.json", Verdict::Violation),
        ("PutBucketPolicy__panther__1.json", Verdict::Violation),
        ("PutBucketPolicy__panther__2.json", Verdict::Ignored),
        (
            "PutBucketPolicy__soclabs-challenge__1.json",
            Verdict::Violation,
        ),
        ("PutBucketPolicy__cwl-notes__1.json", Verdict::Violation),
        (
            "EventBridgeEnvelope_PutBucketPolicy__remediator__1.json",
            Verdict::Compliant,
        ),
        (
            "EventBridgeEnvelope_DeleteBucketPolicy__remediator__1.json",
            Verdict::Compliant,
        ),
        (
            "DeleteBucketPolicy__awsdocs-s3dev__1.json",
            Verdict::Compliant,
        ),
        (
            "UpdateAssumeRolePolicy__stratus__1.json",
            Verdict::Violation,
        ),
        ("UpdateAssumeRolePolicy__elastic__1.json", Verdict::Error),
        ("CreateRole__idc-notes__1.json", Verdict::Error),
        (
            "EventBridgeEnvelope_CreateServiceLinkedRole__formatter__1.json",
            Verdict::Ignored,
        ),
        // A canned private ACL: a door checked, nothing shared.
        ("PutBucketAcl__panther__1.json", Verdict::Compliant),
        (
            "_FailedCallShape_AssumeRole__stratus__1.json",
            Verdict::Ignored,
        ),
    ];
    for (name, want) in cases {
        let d = decide_fixture(&al, name);
        assert_eq!(d.verdict, want, "{name}: {}", d.reason);
    }
}

#[test]
fn stratus_backdoor_role_is_cut_surgically() {
    let d = decide_fixture(&allowlist(""), "UpdateAssumeRolePolicy__stratus__1.json");
    let r = d.resource.as_ref().unwrap();
    assert_eq!(r.kind, ResourceKind::Role);
    let bad: Vec<_> = d.violations().map(|f| f.account.clone().unwrap()).collect();
    assert_eq!(bad, ["193672423079"]);
    let plan = plan_of(&d);
    assert_eq!(plan.kind, PlanKind::PutPolicy);
    let text = plan.policy.as_ref().unwrap().to_string();
    assert!(
        !text.contains("193672423079") && text.contains("ec2.amazonaws.com"),
        "{text}"
    );
}

#[test]
fn fixture_details() {
    let al = allowlist("");
    let d = decide_fixture(&al, "CreateRole__idc-notes__1.json");
    assert!(
        d.reason.contains("<MANAGEMENT_ACCT_ID>") && d.reason.contains("12-digit"),
        "{}",
        d.reason
    );
    let d = decide_fixture(&al, "PutBucketPolicy__panther__2.json");
    assert!(d.reason.contains("AccessDenied"));
    let d = decide_fixture(&al, "PutBucketPolicy__panther__1.json");
    let e = d.event.as_ref().unwrap();
    assert_eq!(
        e.actor_role.as_deref(),
        Some("arn:aws:iam::123456789012:role/example-role")
    );
    assert_eq!(
        d.resource.as_ref().unwrap().arn,
        "arn:aws:s3:::example-bucket"
    );
    // The CreateRole trust is read from the request; the role ARN from the response.
    let d = decide_fixture(&al, "CreateRole__stratus__1.json");
    assert_eq!(
        d.resource.as_ref().unwrap().arn,
        "arn:aws:iam::609418236337:role/stratus-red-team-malicious-iam-role"
    );
    // The guard's own change is recorded and ignored.
    let own = allowlist("ignore_actors = [\"arn:aws:iam::123456789012:role/example-*\"]");
    let d = decide_fixture(&own, "PutBucketPolicy__panther__1.json");
    assert_eq!(d.verdict, Verdict::Ignored);
    assert!(d.reason.contains("ignore_actors"));
}

#[test]
fn malformed_events_are_clear_errors() {
    let al = allowlist("");
    assert!(decide_event_text(&al, &json!({"hello": "world"}).to_string(), opts()).is_err());
    let bad_policy = json!({"eventName": "PutBucketPolicy", "eventSource": "s3.amazonaws.com", "recipientAccountId": OWNER,
        "requestParameters": {"bucketName": "b", "bucketPolicy": "{not json"}});
    let d = &decide_event_text(&al, &bad_policy.to_string(), opts()).unwrap()[0];
    assert_eq!(d.verdict, Verdict::Error);
    assert!(d.reason.contains("unreadable"), "{}", d.reason);
    let no_bucket = json!({"eventName": "PutBucketPolicy", "eventSource": "s3.amazonaws.com", "recipientAccountId": OWNER, "requestParameters": {}});
    assert!(
        decide_event_text(&al, &no_bucket.to_string(), opts()).unwrap()[0]
            .reason
            .contains("bucketName")
    );
}

/// Decide policy text as `crossguard check` does: an unreadable document is an error.
fn check_text(al: &Allowlist, text: &str) -> Decision {
    let r = Resource::from_spec("bucket/b", OWNER, Some("us-east-1")).unwrap();
    match PolicyDocument::parse(text) {
        Ok(doc) => decide(al, &r, Some(&doc), opts()),
        Err(e) => Decision::error(Some(r), e.to_string()),
    }
}

const PUBLIC: &str = r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}"#;

#[test]
fn text_the_full_parser_refuses_is_an_error_not_a_crash() {
    // Each hides in a field the fast path used to skip unread; planning a fix then read
    // an empty document and panicked.
    let al = allowlist("");
    for odd in [
        format!(r#"{{"Id":1e400,"Statement":[{PUBLIC}]}}"#),
        format!(r#"{{"Id":"\ud800","Statement":[{PUBLIC}]}}"#),
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Extra":-1e400}]}"#.to_string(),
        format!(r#"{{"Statement":[{PUBLIC}],"Meta":{{"deep":[{{"x":"\udc00"}}]}}}}"#),
    ] {
        let d = check_text(&al, &odd);
        assert_eq!(d.verdict, Verdict::Error, "{odd}");
        assert!(d.reason.contains("not valid JSON"), "{}", d.reason);
    }
}

#[test]
fn duplicate_keys_at_any_level_are_errors_with_their_path() {
    let al = allowlist("");
    let cases = [
        (format!(r#"{{"Statement":[{PUBLIC}],"Statement":[]}}"#), "Statement"),
        (
            r#"{"Statement":[{"Effect":"Allow","Effect":"Deny","Principal":"*","Action":"s3:*"}]}"#.to_string(),
            "Statement[0].Effect",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Principal":{"AWS":"222222222222"},"Action":"s3:*"}]}"#.to_string(),
            "Statement[0].Principal",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"999999999999","AWS":"222222222222"},"Action":"s3:*"}]}"#.to_string(),
            "Statement[0].Principal.AWS",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Condition":{"StringEquals":{"aws:PrincipalAccount":"999999999999","aws:PrincipalAccount":"222222222222"}}}]}"#.to_string(),
            "Statement[0].Condition.StringEquals.aws:PrincipalAccount",
        ),
        (
            format!(r#"{{"Version":"2012-10-17","Version":"2008-10-17","Statement":[{PUBLIC}]}}"#),
            "Version",
        ),
    ];
    for (text, path) in cases {
        let d = check_text(&al, &text);
        assert_eq!(d.verdict, Verdict::Error, "{text}");
        assert!(
            d.reason.contains(&format!("duplicate JSON key {path}:")),
            "{text}: {}",
            d.reason
        );
    }
}

/// Policies with `n` distinct members in one object of each kind (the document, a
/// statement, a principal, a condition, an operator's keys, an unknown member), each
/// valid where it stands, and then (`dup`) one member repeated.
fn many_members_then_a_repeat(n: usize, dup: bool) -> Vec<String> {
    let unknown: String = (0..n).map(|i| format!(r#""X{i}":1,"#)).collect();
    let principals: String = (0..n)
        .map(|i| format!(r#""X{i}":"arn:aws:iam::222222222222:root","#))
        .collect();
    let base = [
        "StringLike",
        "StringNotLike",
        "StringEqualsIgnoreCase",
        "StringNotEquals",
    ];
    let operators: String = ["", "ForAnyValue:", "ForAllValues:"]
        .iter()
        .flat_map(|p| {
            base.iter()
                .flat_map(move |b| [format!("{p}{b}"), format!("{p}{b}IfExists")])
        })
        .take(n)
        .map(|op| format!(r#""{op}":{{"aws:RequestTag/t":"x"}},"#))
        .collect();
    let keys: String = (0..n)
        .map(|i| format!(r#""aws:RequestTag/t{i}":"x","#))
        .collect();
    let tail = |t: &'static str| if dup { t } else { "" };
    vec![
        format!(
            r#"{{"Version":"2012-10-17",{unknown}"Statement":[{PUBLIC}]{}}}"#,
            tail(r#","Version":"2008-10-17""#)
        ),
        format!(
            r#"{{"Statement":[{{"Effect":"Allow",{unknown}"Principal":"*","Action":"s3:*"{}}}]}}"#,
            tail(r#","Effect":"Deny""#)
        ),
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"999999999999",{principals}"CanonicalUser":"abc"{}}},"Action":"s3:*"}}]}}"#,
            tail(r#","AWS":"222222222222""#)
        ),
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:*","Condition":{{"StringEquals":{{"aws:PrincipalAccount":"222222222222"}},{operators}"Null":{{"aws:SourceIp":"false"}}{}}}}}]}}"#,
            tail(r#","StringEquals":{"aws:SourceVpce":"vpce-1"}"#)
        ),
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:*","Condition":{{"StringEquals":{{"aws:PrincipalAccount":"222222222222",{keys}"aws:SourceVpce":"vpce-1"{}}}}}}}]}}"#,
            tail(r#","aws:PrincipalAccount":"999999999999""#)
        ),
        format!(
            r#"{{"Unknown":{{{unknown}"a":1{}}},"Statement":[{PUBLIC}]}}"#,
            tail(r#","a":2"#)
        ),
    ]
}

/// A duplicate key after many other keys in the same object (past the point where the
/// fast path's record of keys grows from a list to a set) is an error at every level:
/// a repeated condition operator after 17 others once passed as compliant.
#[test]
fn a_duplicate_key_after_many_others_is_an_error_at_every_level() {
    let al = allowlist("");
    for n in [0, 1, 15, 16, 17, 18, 24] {
        let plain = many_members_then_a_repeat(n, false);
        let repeated = many_members_then_a_repeat(n, true);
        for (plain, text) in plain.iter().zip(&repeated) {
            let d = check_text(&al, plain);
            assert_ne!(d.verdict, Verdict::Error, "{n}: {plain}: {}", d.reason);
            let d = check_text(&al, text);
            assert_eq!(d.verdict, Verdict::Error, "{n}: {text}");
            assert!(d.reason.contains("duplicate JSON key"), "{n}: {}", d.reason);
        }
    }
}

/// A member named as an element in another case (`principal` beside `Principal`, or
/// alone) is an error, not a member passed over: a reader that folds case would see a
/// grant crossguard did not judge.
#[test]
fn an_element_named_in_another_case_is_an_error() {
    let al = allowlist("");
    let approved = r#""Principal":{"AWS":"222222222222"}"#;
    let statement = |extra: &str| {
        format!(
            r#"{{"Statement":[{{"Effect":"Allow",{approved},"Action":"s3:GetObject","Resource":"*"{extra}}}]}}"#
        )
    };
    // As written by IAM, and with a member that is no element: read, compliant.
    for plain in [statement(""), statement(r#","Extra":"x""#)] {
        assert_eq!(
            check_text(&al, &plain).verdict,
            Verdict::Compliant,
            "{plain}"
        );
    }
    let cases = [
        (statement(r#","principal":"*""#), "principal"),
        (statement(r#","PRINCIPAL":"*""#), "PRINCIPAL"),
        (
            statement(r#","notPrincipal":{"AWS":"999999999999"}"#),
            "notPrincipal",
        ),
        (statement(r#","action":"s3:*""#), "action"),
        (statement(r#","effect":"Deny""#), "effect"),
        (
            statement(r#","condition":{"Bool":{"aws:SecureTransport":"false"}}"#),
            "condition",
        ),
        (statement(r#","SID":"x""#), "SID"),
        (
            format!(r#"{{"Statement":[],"statement":[{PUBLIC}]}}"#),
            "statement",
        ),
        (
            format!(r#"{{"version":"2012-10-17","Statement":[{PUBLIC}]}}"#),
            "version",
        ),
        (
            format!(
                r#"{{"Statement":{{"Effect":"Allow",{approved},"action":"*","Action":"s3:GetObject"}}}}"#
            ),
            "action",
        ),
    ];
    for (text, name) in cases {
        let d = check_text(&al, &text);
        assert_eq!(d.verdict, Verdict::Error, "{text}");
        assert!(
            d.reason.contains(&format!("{name:?}")) && d.reason.contains("in another case"),
            "{text}: {}",
            d.reason
        );
    }
}

/// A record whose call is named twice (`eventName` repeated, an envelope's
/// `detail-type` repeated) is an error even when another duplicate key comes first in
/// it, or more duplicates than are noted: the call it names could be a guarded one.
#[test]
fn a_call_named_twice_behind_other_duplicates_is_an_error() {
    let al = allowlist("");
    let record = |before: &str, after: &str| {
        format!(
            r#"{{"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","eventID":"e1","recipientAccountId":"{OWNER}","awsRegion":"us-east-1","requestParameters":{{"bucketName":"b",{before}"bucketPolicy":{{"Statement":[{PUBLIC}]}}}}{after}}}"#
        )
    };
    let many: String = (0..40).map(|i| format!(r#""x{i}":1,"x{i}":2,"#)).collect();
    let renamed = r#","eventName":"GetObject""#;
    let envelope = |detail: String, after: &str| {
        format!(
            r#"{{"detail-type":"AWS API Call via CloudTrail","id":"x","detail":{detail}{after}}}"#
        )
    };
    let cases = [
        record(r#""x":1,"x":2,"#, renamed),
        record(&many, renamed),
        format!(r#"{{"Records":[{}]}}"#, record(r#""x":1,"x":2,"#, renamed)),
        envelope(record(r#""x":1,"x":2,"#, renamed), ""),
        envelope(
            record(r#""x":1,"x":2,"#, ""),
            r#","detail-type":"Object Created""#,
        ),
    ];
    for text in &cases {
        let ds = decide_event_text(&al, text, opts()).unwrap();
        assert!(
            ds.iter().all(|d| d.verdict == Verdict::Error),
            "{text}: {:?}",
            ds.iter()
                .map(|d| (d.verdict, &d.reason))
                .collect::<Vec<_>>()
        );
    }
    // Without the second name, the duplicate inside the call's parameters is an error
    // of the guarded call; an unguarded call with the same duplicate stays ignored.
    let ds = decide_event_text(&al, &record(r#""x":1,"x":2,"#, ""), opts()).unwrap();
    assert_eq!(ds[0].verdict, Verdict::Error);
    let other = r#"{"eventName":"GetObject","eventSource":"s3.amazonaws.com","requestParameters":{"x":1,"x":2}}"#;
    let ds = decide_event_text(&al, other, opts()).unwrap();
    assert!(ds.iter().all(|d| d.verdict != Verdict::Error), "{other}");
}

#[test]
fn a_cloudtrail_record_with_a_duplicate_key_is_an_error() {
    let al = allowlist("");
    let record = |extra: &str| {
        format!(
            r#"{{"eventID":"e1","eventName":"PutBucketPolicy","eventSource":"s3.amazonaws.com","recipientAccountId":"{OWNER}",{extra}"requestParameters":{{"bucketName":"b","bucketPolicy":{{"Statement":[{PUBLIC}]}}}}}}"#
        )
    };
    // In the policy object, in the record, on the call's name, around it in the envelope.
    for (text, path) in [
        (
            record(r#""awsRegion":"us-east-1","awsRegion":"eu-west-1","#),
            "awsRegion",
        ),
        (record(r#""eventName":"GetObject","#), "eventName"),
        (
            format!(
                r#"{{"detail-type":"AWS API Call via CloudTrail","detail-type":"Object Created","id":"x","detail":{}}}"#,
                record("")
            ),
            "detail-type",
        ),
        (
            format!(
                r#"{{"Records":[{},{}]}}"#,
                record(""),
                record(r#""errorCode":"AccessDenied","errorCode":"x","#)
            ),
            "Records[1].errorCode",
        ),
    ] {
        let ds = decide_event_text(&al, &text, opts()).unwrap();
        let d = ds.last().unwrap();
        assert_eq!(d.verdict, Verdict::Error, "{text}");
        assert!(
            d.reason.contains(&format!("duplicate JSON key {path}:")),
            "{}",
            d.reason
        );
        assert!(d.reason.starts_with("could not be checked"), "{}", d.reason);
    }
    // The first record of the log file is still decided on its own.
    let log = format!(
        r#"{{"Records":[{},{}]}}"#,
        record(""),
        record(r#""eventID":"e2","eventID":"e3","#)
    );
    let ds = decide_event_text(&al, &log, opts()).unwrap();
    assert_eq!(
        ds.iter().map(|d| d.verdict).collect::<Vec<_>>(),
        vec![Verdict::Violation, Verdict::Error]
    );
    // A duplicate outside every record ("Records" twice) refuses the whole file.
    let hidden = format!(r#"{{"Records":[{}],"Records":[]}}"#, record(""));
    let err = decide_event_text(&al, &hidden, opts()).unwrap_err();
    assert!(
        err.to_string().contains("duplicate JSON key Records:"),
        "{err}"
    );
    // A call crossguard does not guard stays ignored, duplicate or not.
    let other = r#"{"eventName":"GetObject","eventSource":"s3.amazonaws.com","x":1,"x":2}"#;
    assert_eq!(
        decide_event_text(&al, other, opts()).unwrap()[0].verdict,
        Verdict::Ignored
    );
}

#[test]
fn effect_of_the_wrong_type_is_named() {
    let err =
        PolicyDocument::parse(r#"{"Statement":[{"Effect":1,"Principal":"*","Action":"s3:*"}]}"#)
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("Effect must be \"Allow\" or \"Deny\", found a number"),
        "{err}"
    );
    let long = "A".repeat(1 << 16);
    let err = PolicyDocument::parse(&format!(
        r#"{{"Statement":[{{"Effect":"{long}","Principal":"*","Action":"s3:*"}}]}}"#
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.len() < 300 && err.contains("65536 bytes"),
        "{}",
        &err[..300.min(err.len())]
    );
}

/// Bypasses found by an adversarial review, each now a test.
#[test]
fn a_for_any_value_org_paths_deny_does_not_fence_callers_without_the_key() {
    let al = allowlist("[[org]]\nid = \"o-a1b2c3d4e5\"\nowners = [\"*\"]\n");
    let perimeter = |op: &str| {
        json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {op: {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/*"}}})
    };
    let public = stmt(json!("*"), json!("s3:GetObject"));
    // Anonymous callers and accounts outside every organisation have no org paths:
    // ForAnyValue is false for them, the Deny never applies, the bucket stays public.
    let d = decide_doc(
        &al,
        "bucket/b",
        doc(vec![public.clone(), perimeter("ForAnyValue:StringNotLike")]),
    );
    assert_eq!(d.verdict, Verdict::Violation, "{}", d.reason);
    assert!(d.findings.iter().any(|f| f.account.as_deref() == Some("*")));
    // ForAllValues (and ForAnyValue…IfExists) hold for a missing key: a real perimeter.
    for op in [
        "ForAllValues:StringNotLike",
        "ForAnyValue:StringNotLikeIfExists",
    ] {
        let d = decide_doc(&al, "bucket/b", doc(vec![public.clone(), perimeter(op)]));
        assert_eq!(d.verdict, Verdict::Compliant, "{op}: {}", d.reason);
    }
}

#[test]
fn a_policy_with_too_many_grants_is_an_error_not_a_flood() {
    let al = allowlist("");
    // One key policy statement, * narrowed to 600 outside accounts (well within 32 KB).
    let accounts: Vec<String> = (0..600)
        .map(|i| format!("{:012}", 300_000_000_000u64 + i))
        .collect();
    let wide = json!({"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": accounts}}});
    let d = decide_doc(&al, "key/k", doc(vec![wide]));
    assert_eq!(d.verdict, Verdict::Error);
    assert!(d.reason.contains("more than 500 grants"), "{}", d.reason);
    assert!(d.findings.is_empty() && d.remediation.is_none());
    // "*" listed 300 times × 300 values: stopped early, not 90,000 grants.
    let stars: Vec<&str> = vec!["*"; 300];
    let many: Vec<String> = (0..300)
        .map(|i| format!("{:012}", 300_000_000_000u64 + i))
        .collect();
    let text = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": stars}, "Action": "s3:*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": many}}}]});
    let d = decide_doc(&al, "bucket/b", text);
    assert_eq!(d.verdict, Verdict::Error);
    assert_eq!(analysis::MAX_GRANTS, 500);
}

#[test]
fn string_like_with_a_wildcard_before_the_account_does_not_narrow() {
    // StringLike's * matches ':' too: arn:*:iam::111111111111:role/x also matches
    // arn:aws:iam::999999999999:role/p:iam::111111111111:role/x.
    let al = allowlist(&pairing(""));
    for value in [
        "arn:*:iam::111111111111:role/x",
        "arn:aws:*::111111111111:role/x",
    ] {
        let p = json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"StringLike": {"aws:PrincipalArn": value}}});
        let d = decide_doc(&al, "bucket/b", doc(vec![p]));
        assert_eq!(d.verdict, Verdict::Violation, "{value}: {}", d.reason);
        assert!(
            d.findings.iter().any(|f| f.account.as_deref() == Some("*")),
            "{value}"
        );
    }
    // ArnLike compares part by part: the account stays pinned.
    let p = json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:*:iam::111111111111:role/x"}}});
    assert_eq!(
        decide_doc(&al, "bucket/b", doc(vec![p])).verdict,
        Verdict::Compliant
    );
}

#[test]
fn a_policy_variable_never_pins_an_oidc_subject() {
    let al = allowlist("");
    let gh = format!("arn:aws:iam::{OWNER}:oidc-provider/token.actions.githubusercontent.com");
    for (op, value) in [
        ("StringEquals", "${token.actions.githubusercontent.com:sub}"),
        (
            "StringLike",
            "repo:${token.actions.githubusercontent.com:repository_owner}/*",
        ),
    ] {
        let trust = json!({"Effect": "Allow", "Principal": {"Federated": gh}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {op: {"token.actions.githubusercontent.com:sub": value}}});
        let d = decide_doc(&al, "role/r", doc(vec![trust]));
        assert_eq!(d.verdict, Verdict::Violation, "{value}: {}", d.reason);
    }
}

#[test]
fn a_condition_key_repeated_in_another_case_is_a_duplicate() {
    let al = allowlist("");
    let text = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111111111111","aws:principalaccount":"999999999999"}}}]}"#;
    let d = check_text(&al, text);
    assert_eq!(d.verdict, Verdict::Error);
    assert!(
        d.reason.contains(
            "duplicate JSON key Statement[0].Condition.StringEquals.aws:principalaccount"
        ),
        "{}",
        d.reason
    );
    let v: Value = serde_json::from_str(text).unwrap();
    assert!(
        PolicyDocument::from_value(v).is_err(),
        "the Value path agrees"
    );
}

/// Plans of policies read from text (as given, with a BOM, as a JSON string, URL-encoded)
/// whose statements hold escapes at string ends, brackets in strings, number spellings and
/// multibyte text: the same decision, JSON for JSON, as the plan of the same policy read as
/// a value; the policy written lets in the approved account and not the other.
#[test]
fn plans_from_edge_texts_are_the_plans_from_values() {
    let bad = r#"{"Sid":"bad\"}],","Effect":"Allow","Principal":{"AWS":"@OUT"},"Action":"s3:GetObject","Resource":"*","X":"\\\""}"#
        .replace("@OUT", OUTSIDER);
    let good = r#"{"Sid":"ü\\","Effect":"Allow","Principal":{"AWS":"@IN"},"Action":"s3:GetObject","Resource":"*","E":[[],{},[{}],-0,1e5]}"#
        .replace("@IN", TRUSTED);
    let mixed = r#"{"Effect":"Allow","Principal":{"AWS":["@IN","@OUT"]},"Action":"s3:GetObject","Resource":"*"}"#
        .replace("@IN", TRUSTED)
        .replace("@OUT", OUTSIDER);
    let templates = [
        r#"{"Id":"a\\","Statement":[BAD,GOOD],"Z":"}]\\"}"#,
        r#"{"N":-0,"E":1e5,"F":-1.5E-3,"B":123456789012345678901234567890,"Statement":[GOOD,BAD,GOOD]}"#,
        r#"{"A":[[],{},[{}],{"a":[]}],"Statement":[ BAD , GOOD ],"O":{}}"#,
        "{\"é\":\"ü\",\"Statement\":[GOOD,BAD],\"日本\":[\"語\",{\"ß\":\"\\u00e9\"}]}",
        "{\t\r\n\"Statement\"\t:\n[\rBAD\t,\nGOOD\r]\r,\n\"Id\" : \"x\"\t}",
        r#"{"Statement":MIXED,"Version":"2012-10-17"}"#,
        r#"{"Version":"2012-10-17","Statement":MIXED}"#,
        r#"{"Statement":[MIXED],"M":{"K\u0041":1,"\\":2,"\"":3}}"#,
    ];
    let al = allowlist(&pairing(""));
    let r = Resource::from_spec("bucket/b", OWNER, Some("us-east-1")).unwrap();
    for t in templates {
        let text = t
            .replace("BAD", &bad)
            .replace("GOOD", &good)
            .replace("MIXED", &mixed);
        let value: Value = serde_json::from_str(&text).unwrap();
        let b = decide(
            &al,
            &r,
            Some(&PolicyDocument::from_value(value).unwrap()),
            opts(),
        );
        assert_eq!(b.verdict, Verdict::Violation, "{text}");
        let url = percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
        for form in [
            text.clone(),
            format!("\u{feff}{text}"),
            serde_json::to_string(&text).unwrap(),
            url,
        ] {
            let doc = PolicyDocument::parse(&form).unwrap();
            assert!(doc.read_from_text(), "{form}");
            let a = decide(&al, &r, Some(&doc), opts());
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&b).unwrap(),
                "{form}"
            );
            let (pa, pb) = (plan_of(&a), plan_of(&b));
            assert_eq!(pa.kind, PlanKind::PutPolicy, "{form}: {:?}", pa.reason);
            let (ta, tb) = (pa.policy.as_ref().unwrap(), pb.policy.as_ref().unwrap());
            assert_eq!(ta.to_value().unwrap(), tb.to_value().unwrap(), "{form}");
            // As a guard compares the plan it decided with the plan of the policy read
            // again: equal, whatever the spelling.
            assert_eq!(pa, pb, "{form}");
            let after = PolicyDocument::parse(&ta.as_text()).unwrap();
            let d = decide(&al, &r, Some(&after), opts());
            assert_eq!(d.verdict, Verdict::Compliant, "{}", ta.as_text());
            assert!(
                d.findings
                    .iter()
                    .any(|f| f.account.as_deref() == Some(TRUSTED)),
                "{}",
                ta.as_text()
            );
            assert!(!ta.as_text().contains(OUTSIDER), "{}", ta.as_text());
        }
    }
}

/// What a plan puts keeps the policy's own spelling of what it did not change (a number
/// past 64 bits keeps its digits); what decisions and evidence show is the JSON value.
#[test]
fn the_policy_put_keeps_the_spelling_the_output_shows_the_value() {
    let text = format!(
        r#"{{"B":123456789012345678901234567890,"E":1e5,"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{OUTSIDER}"}},"Action":"s3:GetObject","Resource":"*"}},{{"Effect":"Allow","Principal":{{"AWS":"{TRUSTED}"}},"Action":"s3:GetObject","Resource":"*"}},{{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    );
    let r = Resource::from_spec("bucket/b", OWNER, Some("us-east-1")).unwrap();
    let d = decide(
        &allowlist(&pairing("")),
        &r,
        Some(&PolicyDocument::parse(&text).unwrap()),
        opts(),
    );
    let p = plan_of(&d).policy.as_ref().unwrap();
    assert!(p.as_text().contains("123456789012345678901234567890") && p.as_text().contains("1e5"));
    let shown = serde_json::to_string(p).unwrap();
    assert!(
        shown.contains("1.2345678901234568e+29") && shown.contains("100000.0"),
        "{shown}"
    );
    assert!(!p.as_text().contains(OUTSIDER));
}

/// A policy variable where an ARN's account would be read is filled in by the caller
/// (a role tag can hold `iam::999999999999:role/p`, and a role path may hold colons):
/// the value names no account, so it does not narrow. After the account field it does.
#[test]
fn a_policy_variable_before_an_arns_account_does_not_narrow() {
    let al = allowlist(&pairing(""));
    let with = |op: &str, value: &str| {
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{{"{op}":{{"aws:PrincipalArn":"{value}"}}}}}}]}}"#
        )
    };
    for (op, value) in [
        (
            "StringEquals",
            "arn:aws:${aws:PrincipalTag/t}:111111111111:role/x",
        ),
        ("ArnLike", "arn:aws:${aws:PrincipalTag/t}:111111111111:*"),
        (
            "StringLike",
            "arn:${aws:PrincipalTag/t}::111111111111:role/x",
        ),
        (
            "ForAnyValue:StringEquals",
            "arn:aws:iam:${aws:PrincipalTag/t}:111111111111:role/x",
        ),
    ] {
        let d = check_text(&al, &with(op, value));
        assert_eq!(d.verdict, Verdict::Violation, "{value}: {}", d.reason);
    }
    let d = check_text(
        &al,
        &with(
            "StringLike",
            "arn:aws:iam::111111111111:role/${aws:username}",
        ),
    );
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
}

/// A condition key with no values matches nothing, or is left out, depending on the
/// reader: an error, not "no access". A service principal that is a pattern is nobody
/// crossguard can name.
#[test]
fn an_empty_condition_and_a_service_pattern_are_not_read_as_narrow() {
    let al = allowlist(&pairing(""));
    for key in ["aws:PrincipalAccount", "aws:PrincipalOrgID"] {
        let text = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{{"StringEquals":{{"{key}":[]}}}}}}]}}"#
        );
        let d = check_text(&al, &text);
        assert_eq!(d.verdict, Verdict::Error, "{text}: {}", d.reason);
        assert!(d.reason.contains("has no values"), "{}", d.reason);
    }
    let role = Resource::from_spec("role/r", OWNER, Some("us-east-1")).unwrap();
    let trust = PolicyDocument::parse(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"*.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    )
    .unwrap();
    let d = decide(&al, &role, Some(&trust), opts());
    assert_eq!(d.verdict, Verdict::Violation, "{}", d.reason);
}

/// `ignore_actors` silences the guard's own fixes, made from the resource owner's
/// account: a role of the same name in another account (which the wildcard account of
/// `arn:aws:iam::*:role/crossguard-*` also matches) is acted on like anyone else.
#[test]
fn ignore_actors_silence_only_the_owners_own_roles() {
    let al = allowlist("ignore_actors = [\"arn:aws:iam::*:role/crossguard-*\"]");
    let event = |actor_account: &str| {
        json!({
            "eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy", "eventID": "e1",
            "recipientAccountId": OWNER, "awsRegion": "us-east-1",
            "userIdentity": {"type": "AssumedRole", "accountId": actor_account,
                "arn": format!("arn:aws:sts::{actor_account}:assumed-role/crossguard-x/s"),
                "sessionContext": {"sessionIssuer": {"arn": format!("arn:aws:iam::{actor_account}:role/crossguard-x")}}},
            "requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [serde_json::from_str::<Value>(PUBLIC).unwrap()]}}
        })
        .to_string()
    };
    let own = decide_event_text(&al, &event(OWNER), opts()).unwrap();
    assert_eq!(own[0].verdict, Verdict::Ignored, "{}", own[0].reason);
    let other = decide_event_text(&al, &event(TRUSTED), opts()).unwrap();
    assert_eq!(other[0].verdict, Verdict::Violation, "{}", other[0].reason);
}
