//! The plan's check reads only what the plan wrote while every `Deny` stands: these
//! tests alter a real plan's record of what it wrote and show the check catching each
//! way it could be wrong, and reading the whole policy once a `Deny` is written.

#![allow(clippy::needless_pass_by_value)]

use super::*;
use crate::policy::PolicyDocument;
use serde_json::json;

const OWNER: &str = "222222222222";
const TRUSTED: &str = "111111111111";
const OUTSIDER: &str = "999999999999";

fn today() -> Date {
    Date::new(2026, 11, 22).unwrap()
}

fn allowlist() -> Allowlist {
    Allowlist::from_toml(
        &format!("version = 1\n[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{TRUSTED}\"\n"),
        "test.toml",
    )
    .unwrap()
}

fn allow(accounts: &[&str]) -> serde_json::Value {
    json!({"Effect": "Allow", "Principal": {"AWS": accounts}, "Action": "s3:GetObject", "Resource": "*"})
}

/// The policy, its findings and its plan, as `decide` makes them.
fn planned(statements: serde_json::Value) -> (Resource, PolicyDocument, Vec<Finding>, Plan) {
    let resource = Resource::from_spec("bucket/b", OWNER, Some("us-east-1")).unwrap();
    let doc = PolicyDocument::from_value(json!({"Version": "2012-10-17", "Statement": statements}))
        .unwrap();
    let findings = evaluate(&allowlist(), &resource, &doc, today());
    let plan = remediation::plan(&doc, &resource, &findings).unwrap();
    (resource, doc, findings, plan)
}

fn check(r: &Resource, doc: &PolicyDocument, f: &[Finding], plan: &Plan) -> Result<(), PlanError> {
    verify(&allowlist(), r, doc, f, plan, today())
}

fn statement(v: serde_json::Value, index: usize) -> Statement {
    PolicyDocument::parse_statements(std::iter::once((index, crate::policy::Given::Value(&v))))
        .unwrap()
        .remove(0)
}

#[test]
fn a_real_plan_passes() {
    let (r, doc, f, plan) = planned(json!([allow(&[TRUSTED, OUTSIDER]), allow(&[OUTSIDER])]));
    let w = plan.written().unwrap();
    // Statement 0 was edited (written again), statement 1 dropped: nothing kept as it was.
    assert_eq!(w.statements.len(), 1);
    assert!(w.untouched.is_empty());
    assert_eq!(check(&r, &doc, &f, &plan), Ok(()));
}

#[test]
fn a_written_statement_still_letting_in_is_caught() {
    let (r, doc, f, mut plan) = planned(json!([allow(&[TRUSTED, OUTSIDER])]));
    plan.written_mut().unwrap().statements = vec![statement(allow(&[TRUSTED, OUTSIDER]), 0)];
    assert!(matches!(
        check(&r, &doc, &f, &plan),
        Err(PlanError::StillLetsIn { principal, .. }) if principal.contains(OUTSIDER)
    ));
}

#[test]
fn approved_access_left_out_of_what_was_written_is_caught() {
    let (r, doc, f, mut plan) = planned(json!([allow(&[TRUSTED, OUTSIDER])]));
    plan.written_mut().unwrap().statements = vec![statement(allow(&[OWNER]), 0)];
    assert!(matches!(
        check(&r, &doc, &f, &plan),
        Err(PlanError::RemovesApproved(p)) if p.contains(TRUSTED)
    ));
}

#[test]
fn approved_access_standing_elsewhere_is_enough() {
    // As with the whole policy read again: the trusted account's grant in statement 0 is
    // gone from what was written, but the same grant stands in statement 1, unchanged.
    let (r, doc, f, mut plan) = planned(json!([allow(&[TRUSTED, OUTSIDER]), allow(&[TRUSTED])]));
    let w = plan.written_mut().unwrap();
    assert_eq!(w.untouched, vec![1]);
    w.statements = vec![statement(allow(&[OWNER]), 0)];
    assert_eq!(check(&r, &doc, &f, &plan), Ok(()));
}

#[test]
fn a_written_deny_makes_the_whole_policy_read_again() {
    let (r, doc, f, mut plan) = planned(json!([allow(&[OUTSIDER]), allow(&[TRUSTED])]));
    // Claim the unapproved statement 0 was kept as it was: with every Deny standing, the
    // check trusts what was kept (its grants are the ones judged before the plan)…
    let w = plan.written_mut().unwrap();
    w.untouched = vec![0, 1];
    w.statements = Vec::new();
    assert_eq!(check(&r, &doc, &f, &plan), Ok(()));
    // …but a Deny among what was written changes every statement's grants: the whole
    // policy is read again, and statement 0's outsider found.
    let deny =
        json!({"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "*"});
    plan.written_mut().unwrap().statements = vec![statement(deny, 2)];
    assert!(matches!(
        check(&r, &doc, &f, &plan),
        Err(PlanError::StillLetsIn { principal, .. }) if principal.contains(OUTSIDER)
    ));
}

#[test]
fn an_action_is_spelled_as_its_json() {
    for a in [Action::None, Action::Alert, Action::Remediate] {
        assert_eq!(serde_json::to_value(a).unwrap(), json!(a.as_str()));
    }
}

/// A grant's approval is remembered per account, actions, ExternalId and organisations:
/// judged with what was remembered, every finding is what it is judged afresh, over the
/// benchmark and example policies (approved, refused, expired, orgs, ExternalId, public)
/// and a statement naming more accounts than are remembered.
#[test]
fn remembered_approvals_are_the_approvals() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let al_text = std::fs::read_to_string(format!("{root}/shared/benches/allowlist.toml")).unwrap();
    let al = Allowlist::from_toml(&al_text, "allowlist.toml").unwrap();
    let mut texts: Vec<String> = [
        "trust-small",
        "key-medium",
        "bucket-5k",
        "bucket-20k",
        "bucket-20k-one",
    ]
    .iter()
    .map(|n| std::fs::read_to_string(format!("{root}/shared/benches/policies/{n}.json")).unwrap())
    .collect();
    for e in std::fs::read_dir(format!("{root}/examples/policies")).unwrap() {
        texts.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    // More accounts than the memo keeps, approved and not, in one statement.
    let many: Vec<String> = (0..200)
        .map(|i| {
            if i % 3 == 0 {
                TRUSTED.to_string()
            } else {
                format!("{:012}", 100_000_000_000u64 + i)
            }
        })
        .collect();
    texts.push(json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": many}, "Action": "s3:GetObject", "Resource": "*"}]}).to_string());
    // Whole organisations, approved and not, with the same actions and others.
    let org = |id: &str, action: &str| json!({"Effect": "Allow", "Principal": "*", "Action": action, "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": id}}});
    texts.push(json!({"Statement": [org("o-a1b2c3d4e5", "s3:GetObject"), org("o-zzzzzzzzzz", "s3:GetObject"), org("o-a1b2c3d4e5", "s3:GetObject"), org("o-a1b2c3d4e5", "s3:*"), org("o-zzzzzzzzzz", "s3:GetObject")]}).to_string());
    let mut judged = 0;
    let mut orgs = 0;
    for text in &texts {
        let doc = PolicyDocument::parse(text).unwrap();
        for spec in [
            "bucket/data-lake",
            "role/VendorAudit",
            "key/k",
            "bucket/logs-x",
        ] {
            let r = Resource::from_spec(spec, OWNER, Some("eu-west-1")).unwrap();
            for today in [today(), Date::new(2100, 1, 1).unwrap()] {
                let remembered = evaluate(&al, &r, &doc, today);
                let afresh: Vec<Finding> = analysis::grants(&doc, &r)
                    .into_iter()
                    .map(|g| judge(&al, &r, g, today, &mut Memo::default()))
                    .collect();
                assert_eq!(
                    serde_json::to_string(&remembered).unwrap(),
                    serde_json::to_string(&afresh).unwrap(),
                    "{spec}: {text}"
                );
                judged += remembered.len();
                orgs += remembered.iter().filter(|f| f.scope == Scope::Org).count();
            }
        }
    }
    assert!(judged > 2000, "{judged}");
    assert!(orgs >= 40, "{orgs}");
}
