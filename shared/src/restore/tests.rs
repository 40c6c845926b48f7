use super::*;
use crate::alert::Outcome;
use crate::allowlist::Allowlist;
use crate::date::Date;
use crate::decision::{decide, Options, Verdict};
use crate::event::EventSummary;
use serde_json::json;

const AL: &str = "version = 1\nmode = \"remediate\"\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\n";

fn opts() -> Options {
    Options {
        today: Date::new(2026, 12, 2).unwrap(),
        mode: None,
    }
}

/// The evidence record the guard writes for a remediated `policy` on `kind/name`.
fn record_of(kind: ResourceKind, name: &str, policy: &Value) -> (String, Value) {
    let al = Allowlist::from_toml(AL, "a.toml").unwrap();
    let r = Resource::new(kind, name, "222222222222", Some("us-east-1")).unwrap();
    let doc = PolicyDocument::from_value(policy.clone()).unwrap();
    let mut d = decide(&al, &r, Some(&doc), opts());
    assert_eq!(d.verdict, Verdict::Violation);
    d.event = Some(EventSummary {
        id: Some("e-1".into()),
        ..EventSummary::default()
    });
    let plan = d.remediation.clone().unwrap();
    let after = plan
        .policy
        .as_ref()
        .map_or(Value::Null, |p| p.to_value().unwrap());
    let rec =
        crate::evidence::record(&d, Some(policy.clone()), Some(&Outcome::Remediated), "t").unwrap();
    (serde_json::to_string(&rec).unwrap(), after)
}

fn bucket_policy_with(extra: Value) -> Value {
    let mut p = bucket_policy();
    p["Statement"].as_array_mut().unwrap().push(extra);
    p
}

fn bucket_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Mixed", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::999999999999:root"]},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"},
        {"Sid": "Bad", "Effect": "Allow", "Principal": {"AWS": "888888888888"},
         "Action": "s3:*", "Resource": "arn:aws:s3:::data/*"}]})
}

#[test]
fn an_unchanged_policy_gets_the_policy_before_the_fix_back_whole() {
    let before = bucket_policy();
    let (rec, after) = record_of(ResourceKind::Bucket, "data", &before);
    let fixed = Fixed::from_record(&rec).unwrap();
    assert_eq!(fixed.grants().len(), 2);
    let r = fixed.restored(Some(&after), false).unwrap();
    assert_eq!(r.policy, before);
    assert!(!r.changed_since_fix);
}

#[test]
fn a_changed_policy_is_refused_unless_forced_then_only_the_removed_grants_are_added() {
    let before = bucket_policy();
    let (rec, after) = record_of(ResourceKind::Bucket, "data", &before);
    let fixed = Fixed::from_record(&rec).unwrap();
    // Since the fix someone added a statement of their own.
    let mut live = after.clone();
    let extra = json!({"Sid": "Later", "Effect": "Allow", "Principal": {"AWS": "111111111111"},
                       "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::data"});
    live["Statement"]
        .as_array_mut()
        .unwrap()
        .push(extra.clone());
    assert_eq!(
        fixed.restored(Some(&live), false),
        Err(RestoreError::Changed("bucket/data".into()))
    );
    let r = fixed.restored(Some(&live), true).unwrap();
    assert!(r.changed_since_fix);
    let statements = r.policy["Statement"].as_array().unwrap();
    // The later statement stays; the cut principal comes back narrowed to itself (its
    // statement id taken by the kept part, so renamed); the dropped statement comes back.
    assert!(statements.contains(&extra));
    assert!(
        statements.contains(&json!({"Sid": "MixedRestored", "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::999999999999:root"]},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}))
    );
    assert!(statements.contains(&before["Statement"][1]));
    assert_eq!(statements.len(), 4, "{statements:?}");
    // Exactly the removed grants: deciding the result finds the same unapproved grants
    // as before the fix, plus the later approved one.
    let al = Allowlist::from_toml(AL, "a.toml").unwrap();
    let res = Resource::new(ResourceKind::Bucket, "data", "222222222222", None).unwrap();
    let d = decide(
        &al,
        &res,
        Some(&PolicyDocument::from_value(r.policy.clone()).unwrap()),
        opts(),
    );
    let mut bad: Vec<&str> = d.violations().map(|f| f.principal.as_str()).collect();
    bad.sort_unstable();
    assert_eq!(bad, ["888888888888", "arn:aws:iam::999999999999:root"]);
    // Those are the grants it puts back, found where they were added; the later
    // statement's grant (and the kept part of the cut statement) is not put back.
    assert!(r.turned_on.is_empty());
    let mut back: Vec<&str> = d
        .findings
        .iter()
        .filter(|f| r.puts_back(f))
        .map(|f| f.principal.as_str())
        .collect();
    back.sort_unstable();
    assert_eq!(back, bad);
}

/// A grant that is not put back is told apart from one that is even when it is unapproved
/// and in the same statement: the restore's suggestions (and nothing else) come from
/// `puts_back`.
#[test]
fn only_the_removed_grants_are_put_back_whatever_else_the_restored_policy_makes() {
    let before = bucket_policy();
    let (rec, after) = record_of(ResourceKind::Bucket, "data", &before);
    let fixed = Fixed::from_record(&rec).unwrap();
    // Unchanged: each at its own index in the policy before the fix.
    let r = fixed.restored(Some(&after), false).unwrap();
    let at: Vec<usize> = r.put_back.iter().map(|(i, _)| *i).collect();
    assert_eq!(at, [0, 1]);
    // The allowlist's pairing for 111111111111 gone since (expired, say): its grant is a
    // violation of the restored policy, but already in the live policy, not put back.
    let al = Allowlist::from_toml("version = 1\nmode = \"remediate\"\n", "a.toml").unwrap();
    let res = Resource::new(ResourceKind::Bucket, "data", "222222222222", None).unwrap();
    let d = decide(
        &al,
        &res,
        Some(&PolicyDocument::from_value(r.policy.clone()).unwrap()),
        opts(),
    );
    let (back, kept): (Vec<_>, Vec<_>) = d.violations().partition(|f| r.puts_back(f));
    let names = |v: &[&crate::finding::Finding]| {
        let mut n: Vec<String> = v.iter().map(|f| f.principal.clone()).collect();
        n.sort_unstable();
        n
    };
    assert_eq!(
        names(&back),
        ["888888888888", "arn:aws:iam::999999999999:root"]
    );
    assert_eq!(names(&kept), ["arn:aws:iam::111111111111:root"]);
}

#[test]
fn a_deleted_policy_comes_back_and_a_deny_all_trust_is_lifted() {
    let only_bad = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "888888888888"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::data/*"}]});
    let (rec, _) = record_of(ResourceKind::Bucket, "data", &only_bad);
    let fixed = Fixed::from_record(&rec).unwrap();
    assert_eq!(fixed.plan, PlanKind::DeletePolicy);
    assert_eq!(fixed.restored(None, false).unwrap().policy, only_bad);
    let trust = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "888888888888"}, "Action": "sts:AssumeRole"}]});
    let (rec, after) = record_of(ResourceKind::Role, "Deploy", &trust);
    let fixed = Fixed::from_record(&rec).unwrap();
    assert_eq!(fixed.plan, PlanKind::DenyAllTrust);
    assert_eq!(fixed.restored(Some(&after), false).unwrap().policy, trust);
    // Forced onto a changed trust: the deny-all goes, the grant comes back, the change stays.
    let mut live = after.clone();
    let service = json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"});
    live["Statement"]
        .as_array_mut()
        .unwrap()
        .push(service.clone());
    let r = fixed.restored(Some(&live), true).unwrap();
    assert_eq!(
        r.policy["Statement"],
        json!([service, trust["Statement"][0]])
    );
    // The service's statement, added since, takes effect: said, though not put back.
    assert_eq!(r.turned_on, [0]);
    assert_eq!(r.put_back.len(), 1);
    assert_eq!(r.put_back[0].0, 1);
    // With the deny-all already gone, lifting it turns nothing on.
    let mut without = live.clone();
    without["Statement"].as_array_mut().unwrap().remove(0);
    let r = fixed.restored(Some(&without), true).unwrap();
    assert!(r.turned_on.is_empty(), "{r:?}");
}

#[test]
fn records_that_cannot_be_restored_say_why() {
    let before = bucket_policy();
    let (rec, _) = record_of(ResourceKind::Bucket, "data", &before);
    let alerted = rec.replace("\"outcome\":\"remediated\"", "\"outcome\":\"alerted\"");
    assert_eq!(
        Fixed::from_record(&alerted).unwrap_err(),
        RestoreError::NotRemediated("alerted".into())
    );
    assert!(matches!(
        Fixed::from_record("{\"schema\": \"other\"}"),
        Err(RestoreError::NotEvidence(_))
    ));
    // A duplicate key could hide which policy goes back.
    let dup = rec.replacen("{", "{\"outcome\":\"remediated\",", 1);
    assert!(matches!(
        Fixed::from_record(&dup),
        Err(RestoreError::NotEvidence(m)) if m.contains("duplicate")
    ));
    assert!(matches!(
        Fixed::from_record("not json"),
        Err(RestoreError::NotEvidence(_))
    ));
    // A record edited to say something else than the fix did is refused: a removed
    // principal that is not what the statements lost; a grant slipped into
    // policy_before; a Deny dropped from it.
    let renamed = rec.replace(
        "arn:aws:iam::999999999999:root\",\"account",
        "arn:aws:iam::999999999998:root\",\"account",
    );
    assert_ne!(renamed, rec);
    let slipped = {
        let mut v: Value = serde_json::from_str(&rec).unwrap();
        v["policy_before"]["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Effect": "Allow",
            "Principal": {"AWS": "777777777777"}, "Action": "s3:*", "Resource": "*"}));
        v.to_string()
    };
    let with_deny = bucket_policy_with(json!({"Sid": "TLS", "Effect": "Deny", "Principal": "*",
        "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}));
    let (deny_rec, _) = record_of(ResourceKind::Bucket, "data", &with_deny);
    assert!(Fixed::from_record(&deny_rec).is_ok());
    let no_deny = {
        let mut v: Value = serde_json::from_str(&deny_rec).unwrap();
        v["policy_before"]["Statement"]
            .as_array_mut()
            .unwrap()
            .pop();
        v.to_string()
    };
    for edited in [renamed, slipped, no_deny] {
        assert!(
            matches!(Fixed::from_record(&edited), Err(RestoreError::NotEvidence(ref m)) if m.contains("does not agree")),
            "{:?}",
            Fixed::from_record(&edited)
        );
    }
    // The resource is gone: the caller says so before asking (no live policy to compare).
    assert!(matches!(
        Fixed::from_record(&rec)
            .unwrap()
            .restored(Some(&json!({"Statement": []})), false),
        Err(RestoreError::Changed(_))
    ));
}

/// A record whose policies let in more callers than a decision compares is refused: a
/// grant slipped into it past the limit (here into the statement the fix cut, behind a
/// statement of many accounts) would otherwise not be compared at all.
#[test]
fn a_record_past_the_grant_limit_is_refused_not_compared_in_part() {
    let (rec, _) = record_of(ResourceKind::Bucket, "data", &bucket_policy());
    let forged = |n: usize| {
        let mut v: Value = serde_json::from_str(&rec).unwrap();
        let many: Vec<String> = (0..n)
            .map(|i| format!("{}", 300_000_000_000u64 + i as u64))
            .collect();
        let big = json!({"Sid": "Many", "Effect": "Allow", "Principal": {"AWS": many},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"});
        let slip = |st: &mut Value| {
            if st["Sid"] == "Mixed" {
                st["Principal"]["AWS"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("arn:aws:iam::777777777777:root"));
            }
        };
        for st in v["policy_before"]["Statement"].as_array_mut().unwrap() {
            slip(st);
        }
        for r in v["decision"]["remediation"]["removed"]
            .as_array_mut()
            .unwrap()
        {
            slip(&mut r["original_statement"]);
            r["statement"] = json!(r["statement"].as_u64().unwrap() + 1);
        }
        for at in [
            "/policy_before/Statement",
            "/decision/remediation/policy/Statement",
        ] {
            v.pointer_mut(at)
                .unwrap()
                .as_array_mut()
                .unwrap()
                .insert(0, big.clone());
        }
        v.to_string()
    };
    for n in [10, 499, 500, 501, 502] {
        let got = Fixed::from_record(&forged(n));
        assert!(
            matches!(got, Err(RestoreError::NotEvidence(ref m)) if m.contains("does not agree")),
            "{n}: {:?}",
            got.map(|_| ())
        );
    }
    // The same statement of many accounts without the slipped grant: the record agrees
    // with itself while under the limit.
    let mut v: Value = serde_json::from_str(&forged(10)).unwrap();
    let unslip = v
        .to_string()
        .replace(",\"arn:aws:iam::777777777777:root\"", "");
    v = serde_json::from_str(&unslip).unwrap();
    assert!(Fixed::from_record(&v.to_string()).is_ok());
}

/// The statement a fix cut keeps what it had beside the grants it lost: a record whose
/// `policy_before` gives the statement's other principals more than the fix's result
/// does (no condition, a wider resource) would widen approved access beyond the grants
/// listed, and is refused; so is one that calls a principal cut a whole statement's.
#[test]
fn a_record_that_widens_what_the_fix_kept_is_refused() {
    let mut before = bucket_policy();
    before["Statement"][0]["Condition"] = json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}});
    before["Statement"][0]["Resource"] = json!("arn:aws:s3:::data/public/*");
    let (rec, after) = record_of(ResourceKind::Bucket, "data", &before);
    let fixed = Fixed::from_record(&rec).unwrap();
    assert_eq!(fixed.restored(Some(&after), false).unwrap().policy, before);
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_str(&rec).unwrap();
        f(&mut v["policy_before"]["Statement"][0]);
        for r in v["decision"]["remediation"]["removed"]
            .as_array_mut()
            .unwrap()
        {
            if r["sid"] == "Mixed" {
                f(&mut r["original_statement"]);
            }
        }
        v.to_string()
    };
    let no_condition = edit(&|s| {
        s.as_object_mut().unwrap().remove("Condition");
    });
    let wider = edit(&|s| s["Resource"] = json!("arn:aws:s3:::data/*"));
    let whole = {
        let mut v: Value = serde_json::from_str(&rec).unwrap();
        for r in v["decision"]["remediation"]["removed"]
            .as_array_mut()
            .unwrap()
        {
            r["cut"] = json!("statement");
        }
        v.to_string()
    };
    for edited in [no_condition, wider, whole] {
        let got = Fixed::from_record(&edited);
        assert!(
            matches!(got, Err(RestoreError::NotEvidence(ref m)) if m.contains("does not agree")),
            "{:?}",
            got.map(|f| f.restored(Some(&after), true))
        );
    }
}

/// Records the guard writes agree with themselves, whatever the fix cut: a principal
/// from a string or a list, condition values narrowing `*`, a key policy's `*` replaced
/// by its owner, a `NotPrincipal` statement, a statement left empty.
#[test]
fn records_of_every_cut_agree_with_themselves() {
    let cases = [
        (
            ResourceKind::Bucket,
            "data",
            json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*",
             "Condition": {"StringEquals": {"aws:PrincipalAccount": ["111111111111", "999999999999"]},
                           "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}),
        ),
        (
            ResourceKind::Bucket,
            "data",
            json!({"Statement": [
            {"Sid": "S", "Effect": "Allow", "Principal": {"AWS": "999999999999", "Service": "s3.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": "arn:aws:s3:::data/*",
             "Condition": {"StringEquals": {"aws:SourceAccount": "222222222222"}}},
            {"Effect": "Allow", "NotPrincipal": {"AWS": "111111111111"}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::data/*"}]}),
        ),
        (
            ResourceKind::Key,
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            json!({"Statement": [
            {"Sid": "Any", "Effect": "Allow", "Principal": {"AWS": ["*", "arn:aws:iam::111111111111:root"]},
             "Action": "kms:Decrypt", "Resource": "*"}]}),
        ),
        (
            ResourceKind::Role,
            "Deploy",
            json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["111111111111", "888888888888"]},
             "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x"}}},
            {"Effect": "Allow", "Principal": {"AWS": "777777777777"}, "Action": "sts:AssumeRole"}]}),
        ),
    ];
    let mut cuts = BTreeSet::new();
    for (kind, name, policy) in cases {
        let (rec, after) = record_of(kind, name, &policy);
        let fixed = Fixed::from_record(&rec).unwrap_or_else(|e| panic!("{policy}: {e}"));
        cuts.extend(fixed.grants().iter().map(|g| g.cut.clone()));
        let r = fixed.restored(Some(&after), false).unwrap();
        assert_eq!(r.policy, policy, "{rec}");
        // The restored policy's unapproved grants are the ones put back, each found.
        let al = Allowlist::from_toml(AL, "a.toml").unwrap();
        let decided = |p: &Value| {
            decide(
                &al,
                &fixed.resource,
                Some(&PolicyDocument::from_value(p.clone()).unwrap()),
                opts(),
            )
        };
        let found = |r: &Restoration, d: &crate::decision::Decision| {
            r.put_back.iter().all(|(at, g)| {
                d.violations().any(|f| {
                    f.statement == *at && f.principal == g.principal && f.account == g.account
                })
            })
        };
        let d = decided(&r.policy);
        assert!(d.violations().all(|f| r.puts_back(f)), "{policy}");
        assert!(found(&r, &d), "{policy}");
        // Forced onto a policy given another unapproved grant since: that one is not.
        let mut later = json!({"Sid": "Later", "Effect": "Allow",
                               "Principal": {"AWS": "666666666666"}, "Action": "*"});
        if kind != ResourceKind::Role {
            later["Resource"] = json!("*");
        }
        let mut live = after.clone();
        live["Statement"].as_array_mut().unwrap().push(later);
        match fixed.restored(Some(&live), true) {
            Ok(r) => {
                let d = decided(&r.policy);
                let (back, kept): (Vec<_>, Vec<_>) = d.violations().partition(|f| r.puts_back(f));
                assert!(found(&r, &d), "{policy}");
                assert!(!back.is_empty(), "{policy}");
                assert!(
                    !kept.is_empty() && kept.iter().all(|f| f.principal == "666666666666"),
                    "{policy}: {kept:?}"
                );
            }
            // A condition value cut is not added to a changed policy.
            Err(RestoreError::Inexact(_)) => {
                assert!(fixed
                    .grants()
                    .iter()
                    .any(|g| g.cut.starts_with("condition")));
            }
            Err(e) => panic!("{policy}: {e}"),
        }
    }
    assert_eq!(
        cuts.into_iter().collect::<Vec<_>>(),
        [
            "condition value StringEquals aws:PrincipalAccount = 999999999999",
            "principal",
            "principal; its statement, left empty, goes too",
            "statement"
        ]
    );
}

/// Only a fix that put the deny-all trust lifts it: a record of another fix edited to
/// say `deny_all_trust` would, forced, take the owner's own deny-all out of the live
/// trust and let in every later grant it held back.
#[test]
fn a_record_that_calls_another_fix_a_deny_all_trust_is_refused() {
    let trust = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ["111111111111", "888888888888"]}, "Action": "sts:AssumeRole"}]});
    let (rec, _) = record_of(ResourceKind::Role, "Deploy", &trust);
    let fixed = Fixed::from_record(&rec).unwrap();
    assert_eq!(fixed.plan, PlanKind::PutPolicy);
    let edited = rec.replace("\"kind\":\"put_policy\"", "\"kind\":\"deny_all_trust\"");
    assert_ne!(edited, rec);
    let got = Fixed::from_record(&edited);
    assert!(
        matches!(got, Err(RestoreError::NotEvidence(ref m)) if m.contains("does not agree")),
        "{:?}",
        got.map(|f| f.restored(Some(&remediation::deny_all_trust()), true))
    );
}

/// The fix keeps every field of the document but its statements: a record whose
/// `policy_before` has another `Version` (which decides whether policy variables are
/// read) would change what every statement it puts back means.
#[test]
fn a_record_whose_policy_before_has_other_document_fields_is_refused() {
    let mut before = bucket_policy();
    before["Version"] = json!("2008-10-17");
    let (rec, _) = record_of(ResourceKind::Bucket, "data", &before);
    assert!(Fixed::from_record(&rec).is_ok());
    for (key, value) in [("Version", json!("2012-10-17")), ("Id", json!("x"))] {
        let mut v: Value = serde_json::from_str(&rec).unwrap();
        v["policy_before"][key] = value;
        let got = Fixed::from_record(&v.to_string());
        assert!(
            matches!(got, Err(RestoreError::NotEvidence(ref m)) if m.contains("does not agree")),
            "{key}: {:?}",
            got.map(|_| ())
        );
    }
}
