use super::*;
use crate::alert::Outcome;
use crate::allowlist::Allowlist;
use crate::date::Date;
use crate::decision::{decide, Options};
use crate::event::EventSummary;
use crate::{PolicyDocument, Resource};
use serde_json::json;

const AL: &str = "version = 1\nmode = \"alert\"\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"111111111111\"\n";

fn product() -> Product {
    Product {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "222222222222".into(),
    }
}

/// The guard's record of `policy` on bucket `data`, decided at `time`, as written.
#[allow(clippy::needless_pass_by_value)]
fn record(policy: &Value, outcome: Option<Outcome>, time: &str, live: bool) -> String {
    let al = Allowlist::from_toml(AL, "a.toml").unwrap();
    let r = Resource::new(
        ResourceKind::Bucket,
        "data",
        "222222222222",
        Some("us-east-1"),
    )
    .unwrap();
    let doc = PolicyDocument::from_value(policy.clone()).unwrap();
    let opts = Options {
        today: Date::new(2026, 12, 2).unwrap(),
        mode: None,
    };
    let mut d = decide(&al, &r, Some(&doc), opts);
    d.event = Some(EventSummary {
        id: Some(format!("e-{time}").replace(':', "")),
        name: Some("PutBucketPolicy".into()),
        source: Some("s3.amazonaws.com".into()),
        time: Some(time.into()),
        ..EventSummary::default()
    });
    let mut rec = crate::evidence::record(
        &d,
        Some(policy.clone()),
        outcome.as_ref(),
        "2026-12-02T10:00:00Z",
    )
    .unwrap();
    rec.live = live;
    serde_json::to_string(&rec).unwrap()
}

/// The record of an alert on `principals`' grants, decided on the whole live policy.
fn alerted(principals: &[&str], time: &str) -> String {
    record(&policy(principals), Some(Outcome::Alerted), time, true)
}

fn policy(principals: &[&str]) -> Value {
    json!({"Version": "2012-10-17", "Statement": principals.iter().enumerate().map(|(i, p)| json!(
        {"Sid": format!("S{i}"), "Effect": "Allow", "Principal": {"AWS": p},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"})).collect::<Vec<_>>()})
}

fn subject(text: &str) -> Subject {
    match Subject::read(text).unwrap() {
        Read::Subject(s) => *s,
        Read::Skip(why) => panic!("skipped: {why}"),
    }
}

/// What Security Hub holds after importing `fs` over `held` (same id: replaced).
fn import(held: &mut Vec<AsffFinding>, fs: Vec<AsffFinding>) {
    for f in fs {
        held.retain(|h| h.id != f.id);
        held.push(f);
    }
}

fn priors(held: &[AsffFinding]) -> Vec<Prior> {
    held.iter()
        .map(|f| Prior {
            id: f.id.clone(),
            created_at: f.created_at.clone(),
            first_observed_at: Some(f.first_observed_at.clone()),
            last_observed_at: Some(f.last_observed_at.clone()),
            compliance: Some(f.compliance.as_str().into()),
            workflow: Some(f.workflow.clone()),
            party: f.product_fields.get(PARTY_FIELD).cloned(),
        })
        .collect()
}

fn by_party<'a>(held: &'a [AsffFinding], party: &str) -> &'a AsffFinding {
    held.iter()
        .find(|f| f.product_fields[PARTY_FIELD] == party)
        .unwrap_or_else(|| panic!("no finding of {party} in {held:#?}"))
}

#[test]
fn an_unapproved_grant_is_one_failed_finding_per_party_with_the_required_fields() {
    let text = alerted(
        &["111111111111", "999999999999", "*"],
        "2026-12-01T09:00:00Z",
    );
    let s = subject(&text);
    let fs = s.findings(
        &product(),
        &[],
        "2026-12-02T10:00:01Z",
        Some("s3://ev/evidence/e.json"),
    );
    // 111… is approved and had no finding: nothing to say about it.
    assert_eq!(fs.len(), 2, "{fs:#?}");
    let f = by_party(&fs, "999999999999");
    assert_eq!(f.schema_version, "2018-10-08");
    assert_eq!(f.id, "crossguard/policy/arn:aws:s3:::data/999999999999");
    assert_eq!(
        f.product_arn,
        "arn:aws:securityhub:us-east-1:222222222222:product/222222222222/default"
    );
    assert_eq!(f.generator_id, "crossguard/bucket/policy");
    assert_eq!(f.aws_account_id, "222222222222");
    assert_eq!(f.types, [TYPE]);
    assert_eq!(f.severity, "HIGH");
    assert_eq!(f.compliance, Compliance::Failed);
    assert_eq!(f.workflow, "NEW");
    assert_eq!(f.created_at, "2026-12-01T09:00:00Z");
    assert_eq!(f.updated_at, "2026-12-02T10:00:01Z");
    assert_eq!(f.resources[0].kind, "AwsS3Bucket");
    assert_eq!(f.resources[0].id, "arn:aws:s3:::data");
    assert!(f.title.contains("account 999999999999"), "{}", f.title);
    assert!(f
        .remediation
        .contains("allowlist suggest s3://ev/evidence/e.json"));
    assert_eq!(f.product_fields["crossguard/outcome"], "alerted");
    let public = by_party(&fs, "*");
    assert_eq!(public.severity, "CRITICAL");
    assert_eq!(public.types, [TYPE, DATA_EXPOSURE]);
}

#[test]
fn a_second_record_updates_the_finding_keeping_created_at_then_removal_resolves_it() {
    let mut held = Vec::new();
    let first = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    import(
        &mut held,
        subject(&first).findings(&product(), &[], "2026-12-01T09:00:05Z", None),
    );
    assert_eq!(held.len(), 1);
    // The same grant again, later: the same finding, created when it was first seen.
    let again = alerted(&["999999999999", "888888888888"], "2026-12-01T10:00:00Z");
    let fs = subject(&again).findings(&product(), &priors(&held), "2026-12-01T10:00:05Z", None);
    import(&mut held, fs);
    assert_eq!(held.len(), 2);
    let f = by_party(&held, "999999999999");
    assert_eq!(f.created_at, "2026-12-01T09:00:00Z");
    assert_eq!(f.updated_at, "2026-12-01T10:00:05Z");
    assert_eq!(f.last_observed_at, "2026-12-01T10:00:00Z");
    assert_eq!(f.compliance, Compliance::Failed);
    // Someone removed 999… by hand: the live policy no longer lets it in.
    let later = alerted(&["888888888888"], "2026-12-01T11:00:00Z");
    let fs = subject(&later).findings(&product(), &priors(&held), "2026-12-01T11:00:05Z", None);
    import(&mut held, fs);
    let gone = by_party(&held, "999999999999");
    assert_eq!(gone.compliance, Compliance::Passed);
    assert_eq!(gone.workflow, "RESOLVED");
    assert_eq!(gone.severity, "INFORMATIONAL");
    assert_eq!(gone.created_at, "2026-12-01T09:00:00Z");
    assert_eq!(
        by_party(&held, "888888888888").compliance,
        Compliance::Failed
    );
    // Resolved stays resolved: a further record adds nothing for it.
    let fs = subject(&later).findings(&product(), &priors(&held), "2026-12-01T11:00:09Z", None);
    assert!(fs
        .iter()
        .all(|f| f.product_fields[PARTY_FIELD] != "999999999999"));
}

#[test]
fn a_party_approved_later_is_resolved_and_a_remediated_grant_is_resolved_at_once() {
    let mut held = Vec::new();
    // Alerted on 999…, then the allowlist approves it (simulated by a record where the
    // finding is approved).
    let text = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    import(
        &mut held,
        subject(&text).findings(&product(), &[], "2026-12-01T09:00:05Z", None),
    );
    let approved = text
        .replace("\"approved\":false", "\"approved\":true")
        .replace("\"verdict\":\"violation\"", "\"verdict\":\"compliant\"");
    let approved = approved.replace("2026-12-01T09:00:00Z", "2026-12-01T12:00:00Z");
    let fs = subject(&approved).findings(&product(), &priors(&held), "2026-12-01T12:00:05Z", None);
    assert_eq!(fs.len(), 1, "{fs:#?}");
    assert_eq!(fs[0].compliance, Compliance::Passed);
    assert_eq!(fs[0].workflow, "RESOLVED");
    assert!(fs[0].title.contains("is approved"), "{}", fs[0].title);
    // The guard removing a grant: resolved in the same finding that reports it.
    let fixed = record(
        &policy(&["777777777777"]),
        Some(Outcome::Remediated),
        "2026-12-01T13:00:00Z",
        true,
    );
    let fs = subject(&fixed).findings(&product(), &[], "2026-12-01T13:00:05Z", None);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0].compliance, Compliance::Passed);
    assert_eq!(fs[0].workflow, "RESOLVED");
    assert_eq!(fs[0].severity, "HIGH");
    assert!(fs[0].remediation.contains("crossguard restore"));
}

#[test]
fn without_the_whole_live_door_nothing_is_resolved_by_absence_or_approval() {
    let mut held = Vec::new();
    let first = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    import(
        &mut held,
        subject(&first).findings(&product(), &[], "2026-12-01T09:00:05Z", None),
    );
    // Decided on the event's copy only (the live policy could not be read).
    let partial = record(
        &policy(&["888888888888"]),
        Some(Outcome::Alerted),
        "2026-12-01T10:00:00Z",
        false,
    );
    let fs = subject(&partial).findings(&product(), &priors(&held), "2026-12-01T10:00:05Z", None);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0].product_fields[PARTY_FIELD], "888888888888");
    let approved = first
        .replace("\"approved\":false", "\"approved\":true")
        .replace("\"verdict\":\"violation\"", "\"verdict\":\"compliant\"")
        .replace("\"live\":true,", "");
    assert!(subject(&approved)
        .findings(&product(), &priors(&held), "2026-12-01T10:00:05Z", None)
        .is_empty());
}

#[test]
fn a_late_record_of_an_earlier_event_does_not_overwrite_a_later_one() {
    let mut held = Vec::new();
    let late = alerted(&["888888888888"], "2026-12-01T11:00:00Z");
    import(
        &mut held,
        subject(&late).findings(&product(), &[], "2026-12-01T11:00:05Z", None),
    );
    let early = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    let fs = subject(&early).findings(&product(), &priors(&held), "2026-12-01T11:00:09Z", None);
    // 999… is new (reported); 888…'s finding reflects a later event: left alone.
    assert_eq!(fs.len(), 1, "{fs:#?}");
    assert_eq!(fs[0].product_fields[PARTY_FIELD], "999999999999");
}

#[test]
fn an_error_decision_is_not_available_and_a_later_check_resolves_it() {
    let ok = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    let mut v: Value = serde_json::from_str(&ok).unwrap();
    v["decision"]["verdict"] = json!("error");
    v["decision"]["findings"] = json!([]);
    v["decision"]["reason"] = json!("could not be checked: a duplicate key");
    let fs = subject(&v.to_string()).findings(&product(), &[], "2026-12-01T09:00:05Z", None);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0].compliance, Compliance::NotAvailable);
    assert_eq!(fs[0].workflow, "NEW");
    assert_eq!(fs[0].severity, "MEDIUM");
    assert!(fs[0].id.ends_with("/unchecked"));
    assert!(fs[0].title.contains("could not be checked"));
    // A verdict the exporter does not know is an error too, never a pass.
    v["decision"]["verdict"] = json!("fine");
    let fs = subject(&v.to_string()).findings(&product(), &[], "2026-12-01T09:00:05Z", None);
    assert_eq!(fs[0].compliance, Compliance::NotAvailable);
    let mut held = fs;
    let later = record(
        &policy(&["111111111111"]),
        None,
        "2026-12-01T10:00:00Z",
        true,
    );
    let fs = subject(&later).findings(&product(), &priors(&held), "2026-12-01T10:00:05Z", None);
    import(&mut held, fs);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].compliance, Compliance::Passed);
}

#[test]
fn claims_and_restore_records_are_skipped_and_broken_records_refused() {
    let claim = json!({"schema": "crossguard.claim/1", "event_id": "e"}).to_string();
    assert!(matches!(Subject::read(&claim), Ok(Read::Skip(_))));
    let restore = json!({"schema": "crossguard.restore/1"}).to_string();
    assert!(matches!(Subject::read(&restore), Ok(Read::Skip(_))));
    let ok = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    assert!(matches!(
        Subject::read(&ok.replacen('{', "{\"schema\":\"x\",", 1)),
        Err(AsffError::Unreadable(_))
    ));
    assert_eq!(
        Subject::read("{\"schema\":\"other\"}").unwrap_err(),
        AsffError::Missing("crossguard.evidence/1 schema")
    );
    assert!(matches!(Subject::read("{"), Err(AsffError::Unreadable(_))));
    let mut v: Value = serde_json::from_str(&ok).unwrap();
    v.as_object_mut().unwrap().remove("event_id");
    assert_eq!(
        Subject::read(&v.to_string()).unwrap_err(),
        AsffError::Missing("event_id")
    );
    let mut v: Value = serde_json::from_str(&ok).unwrap();
    v["event_id"] = json!("../x");
    assert!(matches!(
        Subject::read(&v.to_string()),
        Err(AsffError::Unreadable(_))
    ));
    let mut v: Value = serde_json::from_str(&ok).unwrap();
    v["decision"]["verdict"] = json!("ignored");
    assert!(matches!(Subject::read(&v.to_string()), Ok(Read::Skip(_))));
}

#[test]
fn a_kms_grant_has_findings_per_event_and_texts_stay_within_asff_limits() {
    let ok = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    let mut v: Value = serde_json::from_str(&ok).unwrap();
    v["decision"]["event"]["name"] = json!("CreateGrant");
    v["decision"]["event"]["source"] = json!("kms.amazonaws.com");
    v["decision"]["reason"] = json!("é".repeat(2000));
    let s = subject(&v.to_string());
    assert_eq!(
        s.id_prefix(),
        format!(
            "crossguard/grant/arn:aws:s3:::data/{}/",
            v["event_id"].as_str().unwrap()
        )
    );
    let fs = s.findings(&product(), &[], "2026-12-01T09:00:05Z", None);
    assert!(fs[0].description.len() <= 1024 && fs[0].description.ends_with("..."));
    assert!(fs[0].title.len() <= 256);
}

#[test]
fn a_person_s_workflow_stays_while_the_grant_stays() {
    let text = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    let mut held = subject(&text).findings(&product(), &[], "2026-12-01T09:00:05Z", None);
    held[0].workflow = "SUPPRESSED".into();
    let again = alerted(&["999999999999"], "2026-12-01T10:00:00Z");
    let fs = subject(&again).findings(&product(), &priors(&held), "2026-12-01T10:00:05Z", None);
    assert_eq!(fs[0].workflow, "SUPPRESSED");
}

/// Held findings of the vendor: open, observed at 09:00.
fn held_open() -> Vec<AsffFinding> {
    let text = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    subject(&text).findings(&product(), &[], "2026-12-01T09:00:05Z", None)
}

#[test]
fn nothing_is_resolved_by_a_record_not_known_to_be_later() {
    let held = held_open();
    // Gone in the same second: the two are not ordered.
    let same = alerted(&["888888888888"], "2026-12-01T09:00:00Z");
    let fs = subject(&same).findings(&product(), &priors(&held), "2026-12-01T09:00:09Z", None);
    assert!(
        fs.iter().all(|f| f.compliance != Compliance::Passed),
        "{fs:#?}"
    );
    // A prior whose time cannot be read is not resolved either.
    let mut odd = priors(&held);
    odd[0].last_observed_at = Some("yesterday".into());
    let later = alerted(&["888888888888"], "2026-12-01T10:00:00Z");
    let fs = subject(&later).findings(&product(), &odd, "2026-12-01T10:00:05Z", None);
    assert!(
        fs.iter().all(|f| f.compliance != Compliance::Passed),
        "{fs:#?}"
    );
    // …while the same record with a readable prior resolves it.
    let fs = subject(&later).findings(&product(), &priors(&held), "2026-12-01T10:00:05Z", None);
    assert!(fs.iter().any(|f| f.compliance == Compliance::Passed));
    // Failures are imported before resolutions.
    assert_eq!(fs.last().map(|f| f.compliance), Some(Compliance::Passed));
    assert_eq!(fs[0].compliance, Compliance::Failed);
}

#[test]
fn could_not_be_checked_is_resolved_only_by_a_whole_live_check() {
    let ok = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    let mut v: Value = serde_json::from_str(&ok).unwrap();
    v["decision"]["verdict"] = json!("error");
    v["decision"]["findings"] = json!([]);
    v["decision"]["severity"] = json!("critical");
    let held = subject(&v.to_string()).findings(&product(), &[], "2026-12-01T09:00:05Z", None);
    assert_eq!(held[0].severity, "CRITICAL");
    let partial = record(
        &policy(&["111111111111"]),
        None,
        "2026-12-01T10:00:00Z",
        false,
    );
    let fs = subject(&partial).findings(&product(), &priors(&held), "2026-12-01T10:00:05Z", None);
    assert!(fs.is_empty(), "{fs:#?}");
}

#[test]
fn a_warning_is_not_an_approval() {
    let held = held_open();
    let text = alerted(&["999999999999"], "2026-12-01T10:00:00Z")
        .replace("\"warning\":false", "\"warning\":true")
        .replace("\"verdict\":\"violation\"", "\"verdict\":\"compliant\"");
    assert!(text.contains("\"warning\":true"));
    let fs = subject(&text).findings(&product(), &priors(&held), "2026-12-01T10:00:05Z", None);
    assert!(fs.is_empty(), "{fs:#?}");
}

#[test]
fn findings_are_the_importing_account_s_and_name_the_resource_s() {
    let mut p = product();
    p.account = "123456789012".into();
    let text = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    let fs = subject(&text).findings(&p, &[], "2026-12-01T09:00:05Z", None);
    assert_eq!(fs[0].aws_account_id, "123456789012");
    assert_eq!(
        fs[0].product_fields["crossguard/resource_account"],
        "222222222222"
    );
    assert!(fs[0]
        .product_arn
        .contains(":123456789012:product/123456789012/default"));
}

#[test]
fn records_without_a_resource_or_of_the_account_are_findings_of_their_event() {
    let text = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["decision"]["resource"] = Value::Null;
    v["decision"]["event"]["account"] = json!("222222222222");
    let s = subject(&v.to_string());
    assert_eq!(s.resource_id(), "AWS::::Account:222222222222");
    assert!(
        s.id_prefix().ends_with(&format!("/{}/", s.event_id())),
        "{}",
        s.id_prefix()
    );
    let fs = s.findings(&product(), &[], "2026-12-01T09:00:05Z", None);
    assert_eq!(fs[0].resources[0].kind, "AwsAccount");
    assert_eq!(fs[0].resources[0].partition, "aws");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["decision"]["resource"]["name"] = json!("*");
    v["decision"]["resource"]["arn"] = json!("arn:aws:s3:::*");
    let s = subject(&v.to_string());
    assert_eq!(s.resource_id(), "AWS::::Account:222222222222");
}

#[test]
fn a_long_arn_is_hashed_in_the_id_and_kept_in_the_resource() {
    let text = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let arn = format!("arn:aws:s3:::{}", "b".repeat(400));
    v["decision"]["resource"]["arn"] = json!(arn);
    let fs = subject(&v.to_string()).findings(&product(), &[], "2026-12-01T09:00:05Z", None);
    assert!(fs[0].id.len() <= 512);
    assert_eq!(
        fs[0].id,
        subject(&v.to_string()).findings(&product(), &[], "x", None)[0].id
    );
    assert_eq!(fs[0].resources[0].id, arn);
}

#[test]
fn findings_the_exporter_cannot_read_exactly_refuse_the_record() {
    let text = alerted(&["999999999999"], "2026-12-01T09:00:00Z");
    let v: Value = serde_json::from_str(&text).unwrap();
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut v = v.clone();
        f(&mut v);
        Subject::read(&v.to_string()).map(|_| ())
    };
    assert_eq!(
        broken(&|v| {
            v["decision"].as_object_mut().unwrap().remove("findings");
        }),
        Err(AsffError::Missing("decision.findings (a list)"))
    );
    assert!(matches!(
        broken(&|v| v["decision"]["findings"][0]["scope"] = json!("galaxy")),
        Err(AsffError::Unreadable(_))
    ));
    assert!(matches!(
        broken(&|v| v["decision"]["findings"][0]["account"] = Value::Null),
        Err(AsffError::Unreadable(_))
    ));
    assert!(matches!(
        broken(&|v| v["decision"]["resource"]["account"] = json!("")),
        Err(AsffError::Missing(_))
    ));
}

#[test]
fn a_violation_no_outside_party_explains_is_still_a_finding() {
    // The outside party is approved, yet the decision is a violation (here: a service's
    // grant): the record becomes a finding of its event, failed.
    let text = alerted(&["111111111111"], "2026-12-01T09:00:00Z");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["decision"]["verdict"] = json!("violation");
    v["decision"]["findings"]
        .as_array_mut()
        .unwrap()
        .push(json!({"statement": 1, "principal": "logs.amazonaws.com", "account": null,
                     "scope": "service", "actions": ["s3:PutObject"], "approved": false,
                     "approved_by": null, "warning": false, "reason": "a service without SourceAccount"}));
    let fs = subject(&v.to_string()).findings(&product(), &[], "2026-12-01T09:00:05Z", None);
    assert_eq!(fs.len(), 1, "{fs:#?}");
    assert_eq!(fs[0].compliance, Compliance::Failed);
    assert!(fs[0].id.contains("/event-"), "{}", fs[0].id);
}
