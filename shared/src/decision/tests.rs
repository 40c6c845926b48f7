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
    PolicyDocument::parse_statements(std::iter::once((index, &v)))
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
