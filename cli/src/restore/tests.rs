//! What a refused restore suggests: entries for the grants it puts back, and for those
//! only. An unapproved grant already in the live policy (added since the fix, or whose
//! entry expired since) is listed as not suggested, with no entry.

use super::*;
use crossguard_engine::alert::Outcome;
use crossguard_engine::event::EventSummary;
use crossguard_engine::{remediation, Date};

const OWNER: &str = "222222222222";

/// Remediate mode; the build account approved until `expires`.
fn allowlist(expires: &str) -> Allowlist {
    Allowlist::from_toml(
        &format!(
            "version = 1\nmode = \"remediate\"\n[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"111111111111\"\nexpires = {expires}\n"
        ),
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

fn statement(sid: &str, account: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
           "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"})
}

fn trust(sid: &str, account: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
           "Action": "sts:AssumeRole"})
}

/// The guard fixes `policy` (its allowlist approves the build account): the record it
/// keeps, read as a restore reads it, and the policy the fix put.
fn fix(kind: ResourceKind, name: &str, policy: &Value) -> (Fixed, Value) {
    let r = Resource::new(kind, name, OWNER, Some("us-east-1")).unwrap();
    let doc = PolicyDocument::from_value(policy.clone()).unwrap();
    let mut d = engine::decide(&allowlist("2027-06-01"), &r, Some(&doc), opts());
    assert_eq!(d.verdict, Verdict::Violation);
    d.event = Some(EventSummary {
        id: Some("e-1".into()),
        ..EventSummary::default()
    });
    let after = d.remediation.as_ref().unwrap().policy.as_ref().unwrap();
    let after = after.to_value().unwrap();
    let rec = engine::evidence::record(&d, Some(policy.clone()), Some(&Outcome::Remediated), "t")
        .unwrap();
    let fixed = Fixed::from_record(&serde_json::to_string(&rec).unwrap()).unwrap();
    (fixed, after)
}

fn decided(al: &Allowlist, fixed: &Fixed, policy: &Value) -> Decision {
    let doc = PolicyDocument::from_value(policy.clone()).unwrap();
    engine::decide(al, &fixed.resource, Some(&doc), opts())
}

/// The TOML lines of the suggested entries (comments aside).
fn entry_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            let l = l.trim_start();
            !l.is_empty() && !l.starts_with('#') && l.contains(" = ") || l.starts_with("[[")
        })
        .collect()
}

#[test]
fn a_grant_added_since_the_fix_is_listed_not_suggested() {
    let build = statement("Build", "111111111111");
    let vendor = statement("Vendor", "999999999999");
    let before = json!({"Version": "2012-10-17", "Statement": [build.clone(), vendor]});
    let (fixed, after) = fix(ResourceKind::Bucket, "data", &before);
    assert_eq!(after["Statement"], json!([build]));
    // Since the fix someone added a grant of their own, which no entry approves.
    let mut live = after.clone();
    live["Statement"]
        .as_array_mut()
        .unwrap()
        .push(statement("Stranger", "555555555555"));
    let restoration = fixed.restored(Some(&live), true).unwrap();
    let al = allowlist("2027-06-01");
    let d = decided(&al, &fixed, &restoration.policy);
    assert_eq!(d.violations().count(), 2);
    let text = refusal(&d, &restoration, opts()).unwrap();
    assert!(text.contains("does not approve 2 grant(s)"), "{text}");
    // The entry approves the vendor put back, and nothing else.
    let entries = entry_lines(&text);
    assert!(entries.contains(&"trusted = \"999999999999\""), "{text}");
    assert_eq!(
        entries.iter().filter(|l| l.starts_with("[[")).count(),
        1,
        "{text}"
    );
    assert!(
        !entries.iter().any(|l| l.contains("555555555555")),
        "{text}"
    );
    assert!(
        text.contains("Put back by this restore and not approved (1)"),
        "{text}"
    );
    let (_, not_suggested) = text
        .split_once("not put back by this restore — not suggested (1)")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        not_suggested.contains(
            "  - arn:aws:iam::555555555555:root in statement 1 (\"Stranger\"): lets in account 555555555555"
        ),
        "{text}"
    );
    assert!(!not_suggested.contains("999999999999"), "{text}");
    // Added to the allowlist, the entries approve the grant put back and leave the
    // stranger refused: the suggestion is no wider than the restore.
    let toml = text
        .split_once("prints the same from the fix's record):\n")
        .unwrap()
        .1
        .split("Already in the live policy")
        .next()
        .unwrap();
    let widened = Allowlist::from_toml(
        &format!(
            "version = 1\nmode = \"remediate\"\n[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"111111111111\"\nexpires = 2027-06-01\n{toml}"
        ),
        "b.toml",
    )
    .unwrap();
    let again = decided(&widened, &fixed, &restoration.policy);
    let left: Vec<&str> = again.violations().map(|f| f.principal.as_str()).collect();
    assert_eq!(left, ["arn:aws:iam::555555555555:root"]);
    assert_eq!(turned_on(&d, &restoration), "");
}

#[test]
fn a_grant_whose_entry_expired_since_is_listed_not_suggested() {
    let before = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Share", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::999999999999:root"]},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]});
    let (fixed, after) = fix(ResourceKind::Bucket, "data", &before);
    // Unchanged since the fix: the policy before it goes back whole; but the build
    // account's entry has expired by today.
    let restoration = fixed.restored(Some(&after), false).unwrap();
    assert_eq!(restoration.policy, before);
    let d = decided(&allowlist("2026-11-01"), &fixed, &restoration.policy);
    let text = refusal(&d, &restoration, opts()).unwrap();
    let entries = entry_lines(&text);
    assert!(entries.contains(&"trusted = \"999999999999\""), "{text}");
    assert!(
        !entries.iter().any(|l| l.contains("111111111111")),
        "{text}"
    );
    assert!(
        text.contains("not suggested (1)")
            && text.contains("  - arn:aws:iam::111111111111:root in statement 0 (\"Share\")"),
        "{text}"
    );
    // Only the expired one refused: nothing put back needs an entry.
    let only_expired = json!({"Version": "2012-10-17", "Statement": [
        statement("Build", "111111111111"), statement("Vendor", "999999999999")]});
    let (fixed, after) = fix(ResourceKind::Bucket, "data", &only_expired);
    let restoration = fixed.restored(Some(&after), false).unwrap();
    let al = Allowlist::from_toml(
        &format!("version = 1\nmode = \"remediate\"\n[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"999999999999\"\n"),
        "c.toml",
    )
    .unwrap();
    let d = decided(&al, &fixed, &restoration.policy);
    let text = refusal(&d, &restoration, opts()).unwrap();
    assert!(
        text.contains("Every grant this restore puts back is approved: no entry is suggested."),
        "{text}"
    );
    assert!(entry_lines(&text).is_empty(), "{text}");
    assert!(text.contains("not suggested (1)"), "{text}");
}

/// A forced restore of a deny-all trust fix turns on the Allows added since: said, and
/// not suggested.
#[test]
fn a_forced_deny_all_lift_says_what_it_turns_on_and_does_not_suggest_it() {
    let before = json!({"Version": "2012-10-17", "Statement": [trust("Vendor", "888888888888")]});
    let (fixed, after) = fix(ResourceKind::Role, "Deploy", &before);
    assert_eq!(fixed.plan, engine::PlanKind::DenyAllTrust);
    assert_eq!(after, remediation::deny_all_trust());
    let mut live = after.clone();
    live["Statement"].as_array_mut().unwrap().extend([
        trust("Later", "555555555555"),
        trust("Build", "111111111111"),
    ]);
    let restoration = fixed.restored(Some(&live), true).unwrap();
    let d = decided(&allowlist("2027-06-01"), &fixed, &restoration.policy);
    let on = turned_on(&d, &restoration);
    assert!(
        on.contains("    ! arn:aws:iam::555555555555:root in statement 0 (\"Later\"): lets in account 555555555555: NOT approved"),
        "{on}"
    );
    assert!(
        on.contains("    ! arn:aws:iam::111111111111:root in statement 1 (\"Build\"): lets in account 111111111111: approved"),
        "{on}"
    );
    assert!(!on.contains("888888888888"), "{on}");
    let text = refusal(&d, &restoration, opts()).unwrap();
    let entries = entry_lines(&text);
    assert!(entries.contains(&"trusted = \"888888888888\""), "{text}");
    assert!(
        !entries.iter().any(|l| l.contains("555555555555")),
        "{text}"
    );
    assert!(
        text.contains("  - arn:aws:iam::555555555555:root in statement 0 (\"Later\"): lets in account 555555555555 (turned on by lifting the deny-all)"),
        "{text}"
    );
}
