//! Side doors beside the resource policies, through the engine's public API: S3 bucket
//! ACLs (`PutBucketAcl`, `CreateBucket`'s ACL headers) decided grant by grant, with
//! canonical user ids named on pairings.

// Test helpers take `json!` values as they are written at each call; case tables are long.
#![allow(clippy::needless_pass_by_value, clippy::too_many_lines)]

use crossguard_engine::acl::{self, Acl};
use crossguard_engine::kinds;
use crossguard_engine::remediation::PlanKind;
use crossguard_engine::*;
use serde_json::{json, Value};

const OWNER: &str = "222222222222";
const TRUSTED: &str = "111111111111";
const OWNER_ID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const PARTNER_ID: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const STRANGER_ID: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

fn allowlist(extra: &str) -> Allowlist {
    Allowlist::from_toml(&format!("version = 1\n{extra}"), "test.toml").unwrap()
}

fn opts() -> Options {
    Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode: None,
    }
}

fn record(name: &str, params: Value) -> Value {
    json!({
        "eventVersion": "1.09",
        "eventID": "e-1",
        "eventTime": "2026-11-20T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "recipientAccountId": OWNER,
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{OWNER}:assumed-role/dev/alice"), "accountId": OWNER},
        "requestParameters": params,
        "responseElements": null,
    })
}

fn one(al: &Allowlist, rec: Value) -> Decision {
    let mut ds = decide_event_text(al, &rec.to_string(), opts()).unwrap();
    assert_eq!(ds.len(), 1);
    ds.remove(0)
}

fn user(id: &str, permission: &str) -> Value {
    json!({"Grantee": {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "xsi:type": "CanonicalUser", "ID": id}, "Permission": permission})
}

fn group(uri: &str, permission: &str) -> Value {
    json!({"Grantee": {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "xsi:type": "Group", "URI": uri}, "Permission": permission})
}

/// `PutBucketAcl` with an `AccessControlPolicy` body, as CloudTrail writes the XML.
fn put_acl(grants: Value) -> Value {
    record(
        "PutBucketAcl",
        json!({
            "bucketName": "shared-data",
            "acl": [""],
            "AccessControlPolicy": {
                "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                "Owner": {"ID": OWNER_ID, "DisplayName": "owner"},
                "AccessControlList": {"Grant": grants},
            },
        }),
    )
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../fixtures/cloudtrail/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap()
}

/// A fixture's CloudTrail record, in the owner's account: StreamAlert's envelopes have
/// their detail-type and account redacted ("...", "12345"); the record's shape is what
/// counts here (one has its eventSource redacted too, AWS's its bucket name).
fn fixture_record(name: &str) -> String {
    let v: Value = serde_json::from_str(&fixture(name)).unwrap();
    let mut r = v.get("detail").cloned().unwrap_or(v);
    r["recipientAccountId"] = json!(OWNER);
    r["eventSource"] = json!("s3.amazonaws.com");
    r["requestParameters"]["bucketName"] = json!("shared-data");
    r.to_string()
}

fn partner_pairing(actions: &str) -> String {
    format!(
        "[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{TRUSTED}\"\nresources = [\"bucket/shared-data\"]\ncanonical_ids = [\"{PARTNER_ID}\"]\n{actions}\nticket = \"SEC-7\"\n"
    )
}

#[test]
fn public_acl_grants_are_violations_and_the_fix_keeps_every_other_grant() {
    let al = allowlist(&partner_pairing(""));
    let d = one(
        &al,
        put_acl(json!([
            user(OWNER_ID, "FULL_CONTROL"),
            user(PARTNER_ID, "READ"),
            group(acl::ALL_USERS, "READ"),
            group(acl::AUTHENTICATED_USERS, "READ_ACP"),
            group(acl::LOG_DELIVERY, "WRITE"),
        ])),
    );
    assert_eq!(d.verdict, Verdict::Violation, "{}", d.reason);
    assert!(
        d.reason.starts_with("bucket ACL: 2 unapproved"),
        "{}",
        d.reason
    );
    let bad: Vec<(&str, Option<&str>)> = d
        .violations()
        .map(|f| (f.principal.as_str(), f.account.as_deref()))
        .collect();
    assert_eq!(
        bad,
        [
            ("Group:AllUsers (READ)", Some("*")),
            ("Group:AuthenticatedUsers (READ_ACP)", Some("*"))
        ]
    );
    let partner = d.findings.iter().find(|f| f.statement == 1).unwrap();
    assert!(partner.approved, "{partner:?}");
    assert_eq!(partner.account.as_deref(), Some(TRUSTED));
    let plan = d.remediation.unwrap();
    assert_eq!(plan.kind, PlanKind::PutAcl);
    let removed: Vec<usize> = plan.removed.iter().map(|r| r.statement).collect();
    assert_eq!(removed, [2, 3]);
    assert_eq!(
        plan.acl.unwrap(),
        json!({
            "Owner": {"DisplayName": "owner", "ID": OWNER_ID},
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "CanonicalUser", "ID": PARTNER_ID}, "Permission": "READ"},
                {"Grantee": {"Type": "Group", "URI": acl::LOG_DELIVERY}, "Permission": "WRITE"},
            ],
        })
    );
}

#[test]
fn canonical_ids_resolve_only_through_pairings_and_actions_still_bound_them() {
    // Unknown: unresolvable, never approved.
    let d = one(
        &allowlist(&partner_pairing("")),
        put_acl(json!([
            user(OWNER_ID, "FULL_CONTROL"),
            user(STRANGER_ID, "READ")
        ])),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    let f = d.violations().next().unwrap();
    assert_eq!(f.scope, Scope::Unresolvable);
    assert_eq!(f.account, None);
    assert!(f.principal.contains(STRANGER_ID));
    // Known, but FULL_CONTROL goes beyond the pairing's read-only actions.
    let d = one(
        &allowlist(&partner_pairing("actions = [\"s3:List*\"]")),
        put_acl(json!([user(PARTNER_ID, "FULL_CONTROL")])),
    );
    assert_eq!(d.verdict, Verdict::Violation, "{}", d.reason);
    assert_eq!(
        d.violations().next().unwrap().account.as_deref(),
        Some(TRUSTED)
    );
    let d = one(
        &allowlist(&partner_pairing("actions = [\"s3:List*\"]")),
        put_acl(json!(user(PARTNER_ID, "READ"))),
    );
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    // Known, on another bucket than the pairing's: not approved there.
    let rec = put_acl(json!([user(PARTNER_ID, "READ")]));
    let mut rec = rec;
    rec["requestParameters"]["bucketName"] = json!("other-bucket");
    let d = one(&allowlist(&partner_pairing("")), rec);
    assert_eq!(d.verdict, Verdict::Violation);
    // The owner's own id is only the owner when the ACL's Owner says so.
    let d = one(
        &allowlist(""),
        put_acl(json!([user(OWNER_ID, "FULL_CONTROL")])),
    );
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
}

#[test]
fn a_public_entry_approves_public_acl_reads_within_its_actions() {
    let public = format!(
        "[[public]]\nowner = \"{OWNER}\"\nresources = [\"bucket/shared-data\"]\nactions = [\"s3:ListBucket*\"]\n"
    );
    let d = one(
        &allowlist(&public),
        put_acl(json!([group(acl::ALL_USERS, "READ")])),
    );
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    let d = one(
        &allowlist(&public),
        put_acl(json!([group(acl::ALL_USERS, "WRITE")])),
    );
    assert_eq!(d.verdict, Verdict::Violation);
}

#[test]
fn real_acl_records_decide_as_their_authors_meant() {
    // StreamAlert: AllUsers/AuthenticatedUsers READ and READ_ACP must alert; LogDelivery
    // must not.
    let al = allowlist("");
    // As published, the account is redacted: not a resource that can be decided.
    let raw = fixture("EventBridgeEnvelope_PutBucketAcl__streamalert__1.json");
    let raw: Value = serde_json::from_str(&raw).unwrap();
    let d = decide_event_text(&al, &raw["detail"].to_string(), opts())
        .unwrap()
        .remove(0);
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    let d = decide_event_text(
        &al,
        &fixture_record("EventBridgeEnvelope_PutBucketAcl__streamalert__1.json"),
        opts(),
    )
    .unwrap()
    .remove(0);
    assert_eq!(d.verdict, Verdict::Violation, "{}", d.reason);
    assert_eq!(d.violations().count(), 4);
    assert!(d.violations().all(|f| f.scope == Scope::Public));
    assert_eq!(d.remediation.unwrap().kind, PlanKind::PutAcl);
    for (name, verdict) in [
        (
            "EventBridgeEnvelope_PutBucketAcl__streamalert__2.json",
            Verdict::Compliant,
        ),
        ("PutBucketAcl__awsdocs-s3__1.json", Verdict::Compliant),
        ("PutBucketAcl__panther__1.json", Verdict::Compliant),
    ] {
        let d = decide_event_text(&al, &fixture_record(name), opts())
            .unwrap()
            .remove(0);
        assert_eq!(d.verdict, verdict, "{name}: {}", d.reason);
    }
}

#[test]
fn canned_acls_and_grant_headers_are_read_too() {
    let al = allowlist(&partner_pairing(""));
    let canned = |name: &str, acl: &str| {
        record(
            name,
            json!({"bucketName": "shared-data", "x-amz-acl": [acl]}),
        )
    };
    let d = one(&al, canned("PutBucketAcl", "public-read-write"));
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(d.violations().count(), 2);
    // The record names the owner by the canned ACL, not by id: the fix is planned on the
    // live ACL the guard reads.
    assert!(d.remediation.is_none());
    assert!(d.reason.contains("live ACL"), "{}", d.reason);
    assert_eq!(
        one(&al, canned("PutBucketAcl", "private")).verdict,
        Verdict::Compliant
    );
    assert_eq!(
        one(&al, canned("PutBucketAcl", "log-delivery-write")).verdict,
        Verdict::Compliant
    );
    assert_eq!(
        one(&al, canned("CreateBucket", "authenticated-read")).verdict,
        Verdict::Violation
    );
    let d = one(&al, canned("PutBucketAcl", "aws-exec-read"));
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    // A PutBucketAcl always sets an ACL: one not found was not read (the live ACL decides).
    let d = one(
        &al,
        record(
            "PutBucketAcl",
            json!({"bucketName": "shared-data", "acl": [""]}),
        ),
    );
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    // CreateBucket without ACL headers sets none: not an ACL change.
    let d = one(
        &al,
        record(
            "CreateBucket",
            json!({"bucketName": "shared-data", "host": ["x"]}),
        ),
    );
    assert_eq!(d.verdict, Verdict::Ignored);
    // Grant headers, several grantees in one.
    let d = one(
        &al,
        record(
            "PutBucketAcl",
            json!({
                "bucketName": "shared-data",
                "x-amz-grant-read": [format!("id=\"{PARTNER_ID}\", uri=\"{}\"", acl::ALL_USERS)],
                "x-amz-grant-write": [format!("emailAddress=\"x@example.com\"")],
            }),
        ),
    );
    let got: Vec<(String, bool)> = d
        .findings
        .iter()
        .map(|f| (f.principal.clone(), f.approved))
        .collect();
    assert_eq!(
        got,
        [
            (format!("CanonicalUser:{PARTNER_ID} (READ)"), true),
            ("Group:AllUsers (READ)".to_string(), false),
            (
                "AmazonCustomerByEmail:x@example.com (WRITE)".to_string(),
                false
            ),
        ]
    );
}

#[test]
fn acl_shapes_not_read_exactly_are_errors() {
    let al = allowlist("");
    let body_and = |extra: (&str, Value)| {
        let mut r = put_acl(json!([group(acl::ALL_USERS, "READ")]));
        r["requestParameters"][extra.0] = extra.1;
        r
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            put_acl(json!([group(
                "http://acs.amazonaws.com/groups/global/Everyone",
                "READ"
            )])),
            "unknown group",
        ),
        (
            put_acl(json!([user(STRANGER_ID, "READ_ALL")])),
            "unknown permission",
        ),
        (put_acl(json!("READ")), "neither a grant nor a list"),
        (
            put_acl(
                json!([{"Grantee": {"xsi:type": "CanonicalUser", "ID": STRANGER_ID, "URI": acl::ALL_USERS}, "Permission": "READ"}]),
            ),
            "also carries",
        ),
        (
            put_acl(
                json!([{"Grantee": {"xsi:type": "CanonicalUser", "Type": "Group", "ID": STRANGER_ID}, "Permission": "READ"}]),
            ),
            "exactly once",
        ),
        (
            put_acl(
                json!([{"Grantee": {"xsi:type": "Robot", "ID": STRANGER_ID}, "Permission": "READ"}]),
            ),
            "unknown type",
        ),
        (
            put_acl(
                json!([{"Grantee": {"xsi:type": "CanonicalUser", "ID": ""}, "Permission": "READ"}]),
            ),
            "not a non-empty string",
        ),
        (
            put_acl(
                json!([{"Grantee": {"xsi:type": "CanonicalUser", "ID": STRANGER_ID}, "Permission": "READ", "Extra": 1}]),
            ),
            "unknown field",
        ),
        (
            body_and(("x-amz-acl", json!(["private"]))),
            "more than one way",
        ),
        (
            body_and(("X-Amz-Acl", json!(["private"]))),
            "more than one way",
        ),
        (
            record(
                "PutBucketAcl",
                json!({"bucketName": "b", "x-amz-acl": ["private"], "X-AMZ-ACL": ["public-read"]}),
            ),
            "twice",
        ),
        (
            record(
                "PutBucketAcl",
                json!({"bucketName": "b", "x-amz-grant-read": ["owner=\"x\""]}),
            ),
            "unknown grantee",
        ),
        (
            put_acl(Value::Array(
                (0..101).map(|_| user(OWNER_ID, "READ")).collect(),
            )),
            "at most 100",
        ),
        // Parts left empty between commas: no grantee can be read from them.
        (
            record(
                "PutBucketAcl",
                json!({"bucketName": "b", "x-amz-grant-read": [",,,"]}),
            ),
            "empty part",
        ),
        (
            record(
                "PutBucketAcl",
                json!({"bucketName": "b", "x-amz-grant-read": [format!("uri=\"{}\",", acl::ALL_USERS)]}),
            ),
            "empty part",
        ),
    ];
    for (rec, why) in cases {
        let d = one(&al, rec);
        assert_eq!(d.verdict, Verdict::Error, "{why}: {}", d.reason);
        assert!(d.reason.contains(why), "{why}: {}", d.reason);
    }
    // A duplicate key in the ACL is a duplicate in the record.
    let text = put_acl(json!([group(acl::ALL_USERS, "READ")]))
        .to_string()
        .replace(
            "\"Permission\":\"READ\"",
            "\"Permission\":\"READ\",\"Permission\":\"WRITE_ACP\"",
        );
    let d = decide_event_text(&al, &text, opts()).unwrap().remove(0);
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
}

#[test]
fn the_live_acl_form_round_trips() {
    let v = json!({
        "Owner": {"DisplayName": "o", "ID": OWNER_ID},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID, "DisplayName": "o"}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": acl::ALL_USERS}, "Permission": "READ"},
        ],
    });
    let a = Acl::from_json(&v).unwrap();
    assert_eq!(a.grants.len(), 2);
    let back = a.to_json().unwrap();
    assert_eq!(Acl::from_json(&back).unwrap(), a);
    assert!(Acl::from_json(&json!({"Owner": {"ID": OWNER_ID}, "Grants": [], "Extra": 1})).is_err());
    let d = decide_carried(
        &allowlist(""),
        Resource::from_spec("bucket/shared-data", OWNER, None).unwrap(),
        CarriedPolicy::Acl(a),
        opts(),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(d.remediation.unwrap().kind, PlanKind::PutAcl);
}

#[test]
fn canonical_ids_on_pairings_are_checked() {
    let bad = Allowlist::from_toml(
        &format!("version = 1\n[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{TRUSTED}\"\ncanonical_ids = [\"ABC\"]\n"),
        "a.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        bad.contains("a.toml:5") && bad.contains("64 lowercase hex"),
        "{bad}"
    );
    let twice = Allowlist::from_toml(
        &format!("version = 1\n[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{TRUSTED}\"\ncanonical_ids = [\"{PARTNER_ID}\"]\n[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"333333333333\"\ncanonical_ids = [\"{PARTNER_ID}\"]\n"),
        "a.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(twice.contains("belongs to one account"), "{twice}");
}

// ---- Block Public Access ----

fn bpa(name: &str, config: Option<Value>) -> Value {
    let mut params = json!({"bucketName": "shared-data", "publicAccessBlock": [""]});
    if let Some(c) = config {
        params["PublicAccessBlockConfiguration"] = c;
    }
    if name.contains("Account") {
        params = json!({"PublicAccessBlockConfiguration": params["PublicAccessBlockConfiguration"].clone()});
    }
    record(name, params)
}

fn settings(acls: bool, ignore: bool, policy: bool, restrict: bool) -> Value {
    json!({"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "BlockPublicAcls": acls,
        "IgnorePublicAcls": ignore, "BlockPublicPolicy": policy, "RestrictPublicBuckets": restrict})
}

#[test]
fn block_public_access_lowered_is_a_violation_and_the_fix_turns_it_back_on() {
    let al = allowlist("");
    let d = one(
        &al,
        bpa(
            "PutBucketPublicAccessBlock",
            Some(settings(true, true, true, true)),
        ),
    );
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    assert!(d.findings.is_empty());

    let d = one(
        &al,
        bpa(
            "PutBucketPublicAccessBlock",
            Some(settings(true, false, false, true)),
        ),
    );
    assert_eq!(d.verdict, Verdict::Violation, "{}", d.reason);
    let off: Vec<&str> = d.violations().map(|f| f.principal.as_str()).collect();
    assert_eq!(off, ["IgnorePublicAcls off", "BlockPublicPolicy off"]);
    assert!(d
        .violations()
        .all(|f| f.scope == Scope::Public && f.account.as_deref() == Some("*")));
    // Nothing public is known to be behind it: high, not critical.
    assert_eq!(alert::severity(&d), "high");
    let plan = d.remediation.clone().unwrap();
    assert_eq!(plan.kind, PlanKind::PutPublicAccessBlock);
    assert_eq!(
        plan.public_access_block.unwrap(),
        json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true})
    );
    assert_eq!(d.action, Action::Alert);

    let d = one(&al, bpa("DeleteBucketPublicAccessBlock", None));
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(d.violations().count(), 4);
    assert_eq!(d.resource.as_ref().unwrap().name, "shared-data");
    // RestrictPublicBuckets is never turned on by a fix: S3 would also cut cross-account
    // grants it counts public that crossguard approves. The rest is.
    assert_eq!(
        d.remediation.unwrap().public_access_block.unwrap(),
        json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": false})
    );
    assert!(
        d.reason.contains("RestrictPublicBuckets is left off"),
        "{}",
        d.reason
    );
    let remediate = Allowlist::from_toml("version = 1\nmode = \"remediate\"\n", "a.toml").unwrap();
    let d = one(
        &remediate,
        bpa(
            "PutBucketPublicAccessBlock",
            Some(settings(true, true, true, false)),
        ),
    );
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(
        d.action,
        Action::Alert,
        "only RestrictPublicBuckets off: nothing safe to fix"
    );
    assert_eq!(d.remediation.unwrap().kind, PlanKind::Refused);
}

#[test]
fn a_bucket_meant_to_be_public_may_lower_its_guardrail_and_so_may_its_account() {
    let public = format!(
        "[[public]]\nowner = \"{OWNER}\"\nresources = [\"bucket/shared-data\"]\nactions = [\"s3:GetObject\"]\nticket = \"WEB-7\"\n"
    );
    let al = allowlist(&public);
    let d = one(&al, bpa("DeleteBucketPublicAccessBlock", None));
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    assert!(d
        .findings
        .iter()
        .all(|f| f.approved_by.as_deref() == Some("public #1 (WEB-7)")));
    // Another bucket of the same owner: not meant to be public.
    let mut other = bpa("DeleteBucketPublicAccessBlock", None);
    other["requestParameters"]["bucketName"] = json!("private-data");
    assert_eq!(one(&al, other).verdict, Verdict::Violation);
    // The account's guardrail: one public bucket needs it lowered.
    let d = one(&al, bpa("DeleteAccountPublicAccessBlock", None));
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    let r = d.resource.unwrap();
    assert_eq!((r.spec(), r.arn.as_str()), ("bucket/*", "arn:aws:s3:::*"));
    let d = one(
        &allowlist(""),
        bpa(
            "PutAccountPublicAccessBlock",
            Some(settings(false, true, true, true)),
        ),
    );
    assert_eq!(d.verdict, Verdict::Violation, "{}", d.reason);
    assert!(
        d.reason.contains("every bucket of 222222222222"),
        "{}",
        d.reason
    );
    // An expired entry approves nothing.
    let expired = public.replace("ticket", "expires = 2026-01-01\nticket");
    assert_eq!(
        one(
            &allowlist(&expired),
            bpa("DeleteBucketPublicAccessBlock", None)
        )
        .verdict,
        Verdict::Violation
    );
}

#[test]
fn block_public_access_records_not_read_exactly_are_errors() {
    let al = allowlist("");
    for (config, why) in [
        (None, "no PublicAccessBlockConfiguration"),
        (
            Some(json!({"BlockPublicAcls": "maybe"})),
            "not true or false",
        ),
        (
            Some(json!({"BlockPublicAcls": true, "BlockEverything": true})),
            "unknown setting",
        ),
        (Some(json!("true")), "not an object"),
    ] {
        let d = one(&al, bpa("PutBucketPublicAccessBlock", config));
        assert_eq!(d.verdict, Verdict::Error, "{why}: {}", d.reason);
        assert!(d.reason.contains(why), "{why}: {}", d.reason);
    }
    // The settings named twice, in another case: which S3 read cannot be told.
    let mut r = bpa(
        "PutBucketPublicAccessBlock",
        Some(settings(true, true, true, true)),
    );
    r["requestParameters"]["publicAccessBlockConfiguration"] = json!({"BlockPublicAcls": false});
    let d = one(&al, r);
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    assert!(d.reason.contains("beside"), "{}", d.reason);
    // Strings as CloudTrail sometimes writes XML booleans.
    let d = one(
        &al,
        bpa(
            "PutBucketPublicAccessBlock",
            Some(
                json!({"BlockPublicAcls": "true", "IgnorePublicAcls": "TRUE", "BlockPublicPolicy": "true", "RestrictPublicBuckets": "false"}),
            ),
        ),
    );
    assert_eq!(d.violations().count(), 1);
    // Panther's captured record: two settings off. Its trimmed test record: unreadable.
    let d = decide_event_text(
        &al,
        &fixture("EventBridgeEnvelope_PutBucketPublicAccessBlock__panther-oss__1.json"),
        opts(),
    )
    .unwrap()
    .remove(0);
    let off: Vec<&str> = d.violations().map(|f| f.principal.as_str()).collect();
    assert_eq!(
        off,
        ["BlockPublicAcls off", "BlockPublicPolicy off"],
        "{}",
        d.reason
    );
    let d = decide_event_text(
        &al,
        &fixture("PutBucketPublicAccessBlock__panther__1.json"),
        opts(),
    )
    .unwrap()
    .remove(0);
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
}

// ---- ownership controls ----

#[test]
fn acls_enabled_again_are_decided_on_the_live_acl_and_disabled_ones_are_ignored() {
    let al = allowlist("");
    let oc = |rule: Value| {
        record(
            "PutBucketOwnershipControls",
            json!({"bucketName": "shared-data", "ownershipControls": [""],
                "OwnershipControls": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "Rule": rule}}),
        )
    };
    let d = one(&al, oc(json!({"ObjectOwnership": "BucketOwnerEnforced"})));
    assert_eq!(d.verdict, Verdict::Ignored, "{}", d.reason);
    for rule in [
        json!({"ObjectOwnership": "ObjectWriter"}),
        json!([{"ObjectOwnership": "BucketOwnerPreferred"}]),
    ] {
        // From the record alone: the ACL that now counts is not in it.
        let d = one(&al, oc(rule));
        assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
        assert!(d.reason.contains("the live one decides"), "{}", d.reason);
    }
    let d = one(&al, oc(json!({"ObjectOwnership": "Whoever"})));
    assert_eq!(d.verdict, Verdict::Error);
    // What crossguard reads named again in another case: not ignored on the word of one.
    let mut twice = oc(json!({"ObjectOwnership": "BucketOwnerEnforced"}));
    twice["requestParameters"]["ownershipControls"] =
        json!({"Rule": {"ObjectOwnership": "ObjectWriter"}});
    for r in [
        twice,
        oc(json!({"ObjectOwnership": "BucketOwnerEnforced", "objectOwnership": "ObjectWriter"})),
        {
            let mut r = oc(json!({"ObjectOwnership": "BucketOwnerEnforced"}));
            r["requestParameters"]["OwnershipControls"]["rule"] =
                json!({"ObjectOwnership": "ObjectWriter"});
            r
        },
    ] {
        let d = one(&al, r);
        assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
        assert!(d.reason.contains("another case"), "{}", d.reason);
    }
    // Deleted controls: S3 applies ACLs again, as under ObjectWriter.
    let d = one(
        &al,
        record(
            "DeleteBucketOwnershipControls",
            json!({"bucketName": "shared-data", "ownershipControls": [""]}),
        ),
    );
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    assert!(d.reason.contains("the live one decides"), "{}", d.reason);
    for name in [
        "PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls",
    ] {
        assert_eq!(
            kinds::door("s3.amazonaws.com", name),
            Some(kinds::Door::Acl)
        );
    }
}

// ---- access points ----

#[test]
fn access_point_policies_are_decided_like_bucket_policies() {
    let al = allowlist(&format!(
        "[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{TRUSTED}\"\nresources = [\"access-point/analytics-*\"]\nactions = [\"s3:GetObject\"]\n"
    ));
    let put = |name: &str, principal: &str| {
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Share", "Effect": "Allow",
            "Principal": {"AWS": principal}, "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:eu-west-1:{OWNER}:accesspoint/{name}/object/*")}]});
        record(
            "PutAccessPointPolicy",
            json!({"name": name, "x-amz-account-id": OWNER,
                "PutAccessPointPolicyRequest": {"xmlns": "http://awss3control.amazonaws.com/doc/2018-08-20/", "Policy": policy.to_string()}}),
        )
    };
    let d = one(
        &al,
        put("analytics-ro", &format!("arn:aws:iam::{TRUSTED}:root")),
    );
    assert_eq!(d.verdict, Verdict::Compliant, "{}", d.reason);
    let r = d.resource.unwrap();
    assert_eq!(r.kind, ResourceKind::AccessPoint);
    assert_eq!(
        r.arn,
        format!("arn:aws:s3:eu-west-1:{OWNER}:accesspoint/analytics-ro")
    );
    assert_eq!(serde_json::to_value(r.kind).unwrap(), json!("access-point"));
    let d = one(&al, put("analytics-ro", "*"));
    assert_eq!(d.verdict, Verdict::Violation);
    assert_eq!(d.remediation.unwrap().kind, PlanKind::DeletePolicy);
    let d = one(&al, put("reports", &format!("arn:aws:iam::{TRUSTED}:root")));
    assert_eq!(
        d.verdict,
        Verdict::Violation,
        "not among the pairing's access points"
    );
    let d = one(
        &al,
        record("DeleteAccessPointPolicy", json!({"name": "reports"})),
    );
    assert_eq!(d.verdict, Verdict::Compliant);
    let d = one(
        &al,
        record("PutAccessPointPolicy", json!({"name": "reports"})),
    );
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
}

#[test]
fn an_access_point_in_another_account_on_the_bucket_is_that_accounts_door() {
    // Recorded in the access point's account (TRUSTED), on OWNER's bucket.
    let create = |bucket_account: Value| {
        let mut r = record(
            "CreateAccessPoint",
            json!({"name": "partner-ap", "x-amz-account-id": TRUSTED,
                "CreateAccessPointRequest": {"Bucket": "shared-data", "BucketAccountId": bucket_account}}),
        );
        r["recipientAccountId"] = json!(TRUSTED);
        r
    };
    let d = one(&allowlist(""), create(json!(OWNER)));
    assert_eq!(d.verdict, Verdict::Violation, "{}", d.reason);
    let r = d.resource.as_ref().unwrap();
    assert_eq!(
        (r.spec(), r.account.as_str()),
        ("bucket/shared-data", OWNER)
    );
    assert_eq!(
        d.violations().next().unwrap().account.as_deref(),
        Some(TRUSTED)
    );
    assert!(
        d.remediation.is_none(),
        "another account's access point is not ours to delete"
    );
    assert!(
        d.reason.contains("access point partner-ap in account"),
        "{}",
        d.reason
    );
    // In remediate mode too: alerted, never "fixed".
    let remediate = Allowlist::from_toml("version = 1\nmode = \"remediate\"\n", "a.toml").unwrap();
    assert_eq!(one(&remediate, create(json!(OWNER))).action, Action::Alert);
    // A pairing approves it.
    let approved = allowlist(&format!(
        "[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{TRUSTED}\"\nresources = [\"bucket/shared-data\"]\n"
    ));
    assert_eq!(
        one(&approved, create(json!(OWNER))).verdict,
        Verdict::Compliant
    );
    // The bucket owner's trail may carry a copy: the access point's account is the
    // call's, not the recorder's.
    let mut copy = create(json!(OWNER));
    copy["recipientAccountId"] = json!(OWNER);
    copy["userIdentity"]["accountId"] = json!(TRUSTED);
    let d = one(&allowlist(""), copy.clone());
    assert_eq!(d.verdict, Verdict::Violation, "{}", d.reason);
    assert_eq!(
        d.violations().next().unwrap().account.as_deref(),
        Some(TRUSTED)
    );
    // A copy that names neither the header nor the caller's account: whose access point
    // it is cannot be told (the recorder's own account would pass it as the owner's).
    let mut blind = copy;
    blind["requestParameters"]
        .as_object_mut()
        .unwrap()
        .remove("x-amz-account-id");
    blind["userIdentity"]
        .as_object_mut()
        .unwrap()
        .remove("accountId");
    let d = one(&allowlist(""), blind.clone());
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    // Nor is an empty BucketAccountId that account's own when no account is named.
    blind["requestParameters"]["CreateAccessPointRequest"]["BucketAccountId"] = json!("");
    let d = one(&allowlist(""), blind);
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    // The bucket's own account, or none named: ignored. A malformed one: an error.
    assert_eq!(
        one(&allowlist(""), create(json!(TRUSTED))).verdict,
        Verdict::Ignored
    );
    assert_eq!(
        one(&allowlist(""), create(Value::Null)).verdict,
        Verdict::Ignored
    );
    // None named, yet another account recorded it: the bucket S3 used (the access
    // point's account's) and the trail that holds the record disagree: not ignored.
    let mut elsewhere = create(Value::Null);
    elsewhere["recipientAccountId"] = json!(OWNER);
    let d = one(&allowlist(""), elsewhere);
    assert_eq!(d.verdict, Verdict::Error, "{}", d.reason);
    assert!(d.reason.contains("whose bucket"), "{}", d.reason);
    assert_eq!(
        one(&allowlist(""), create(json!("12"))).verdict,
        Verdict::Error
    );
}
