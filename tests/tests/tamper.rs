//! The guard guarding itself, on moto server through the real EventBridge, CloudTrail,
//! SNS and S3 clients: a guard rule disabled and the trail stopped are critical alerts,
//! undone in remediate mode; a namesake rule elsewhere is not the guard's.

// A scenario reads top to bottom; helpers take `json!` values as written.
#![allow(clippy::needless_pass_by_value, clippy::too_many_lines)]

use anyhow::Result;
use crossguard_emulator_tests::{Estate, Moto, ACCOUNT, REGION};
use crossguard_engine::tamper::Deployment;
use crossguard_engine::Mode;
use crossguard_guard::tamper::{connect, AwsUndo};
use serde_json::{json, Value};

const RULE: &str = "crossguard-bucket-policy-changes";
const TRAIL: &str = "org-trail";

fn deployment(estate: &Estate) -> Result<Deployment> {
    Deployment::from_json(
        &json!({
            "rules": [RULE, "crossguard-tamper"],
            "functions": ["crossguard-bucket-guard", "crossguard-tamper-guard"],
            "roles": ["crossguard-remediation"],
            "topic": estate.topic_arn,
            "trail": TRAIL,
            "evidence_bucket": crossguard_emulator_tests::EVIDENCE_BUCKET,
        })
        .to_string(),
    )
    .map_err(anyhow::Error::msg)
}

/// A CloudTrail call as EventBridge delivers it, by someone in the account.
fn call(id: &str, source: &str, name: &str, params: Value) -> Value {
    json!({
        "version": "0", "id": format!("eb-{id}"), "detail-type": "AWS API Call via CloudTrail",
        "source": format!("aws.{}", source.split('.').next().unwrap_or("")),
        "account": ACCOUNT, "time": "2026-12-01T10:00:00Z", "region": REGION, "resources": [],
        "detail": {
            "eventVersion": "1.09", "eventID": id, "eventTime": "2026-12-01T10:00:00Z",
            "eventSource": source, "eventName": name, "awsRegion": REGION,
            "recipientAccountId": ACCOUNT, "sourceIPAddress": "203.0.113.9",
            "userIdentity": {"type": "AssumedRole", "accountId": ACCOUNT,
                "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/intruder/x")},
            "requestParameters": params,
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_guard_rule_and_a_stopped_trail_are_critical_and_undone() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let events = aws_sdk_eventbridge::Client::new(&estate.sdk);
    let trails = aws_sdk_cloudtrail::Client::new(&estate.sdk);
    for name in [RULE, "team-rule"] {
        events
            .put_rule()
            .name(name)
            .event_pattern(r#"{"source": ["aws.s3"]}"#)
            .send()
            .await?;
        events.disable_rule().name(name).send().await?;
    }
    estate.create_bucket("trail-logs").await?;
    trails
        .create_trail()
        .name(TRAIL)
        .s3_bucket_name("trail-logs")
        .send()
        .await?;
    trails.start_logging().name(TRAIL).send().await?;
    trails.stop_logging().name(TRAIL).send().await?;

    // Alert mode: reported, nothing changed.
    let guard = connect(
        &estate.sdk,
        &estate.config(),
        deployment(&estate)?,
        AwsUndo::new(&estate.sdk),
    )
    .await?;
    let out = guard
        .handle_value(
            &call(
                "t-1",
                "events.amazonaws.com",
                "DisableRule",
                json!({"name": RULE}),
            ),
            "r1",
        )
        .await?;
    assert_eq!(out[0].outcome, "alerted", "{out:?}");
    let state = |name: &'static str| {
        let events = events.clone();
        async move {
            let r = events.describe_rule().name(name).send().await?;
            anyhow::Ok(r.state.map(|s| s.as_str().to_string()))
        }
    };
    assert_eq!(state(RULE).await?.as_deref(), Some("DISABLED"));
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].attributes["severity"], "critical");
    assert_eq!(alerts[0].attributes["resource_kind"], "guard");
    assert!(
        alerts[0].subject.contains("guard tampered with"),
        "{}",
        alerts[0].subject
    );
    assert!(
        alerts[0].message.contains("intruder"),
        "{}",
        alerts[0].message
    );
    // Its own evidence record, apart from any kind guard's record of the same event.
    let ev = estate
        .evidence_at("evidence/tamper/t-1.json")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no tamper evidence"))?;
    assert_eq!(ev["decision"]["tamper"]["name"], RULE);
    assert!(
        estate.evidence("t-1").await?.is_none(),
        "the kind guards' key stays free"
    );

    // Remediate mode: the rule is enabled again, the trail logs again.
    let config = crossguard_guard::Config {
        mode: Some(Mode::Remediate),
        ..estate.config()
    };
    let guard = connect(
        &estate.sdk,
        &config,
        deployment(&estate)?,
        AwsUndo::new(&estate.sdk),
    )
    .await?;
    let out = guard
        .handle_value(
            &call(
                "t-2",
                "events.amazonaws.com",
                "DisableRule",
                json!({"name": RULE}),
            ),
            "r2",
        )
        .await?;
    assert_eq!(out[0].outcome, "remediated", "{out:?}");
    assert_eq!(state(RULE).await?.as_deref(), Some("ENABLED"));
    let out = guard
        .handle_value(
            &call(
                "t-3",
                "cloudtrail.amazonaws.com",
                "StopLogging",
                json!({"name": TRAIL}),
            ),
            "r3",
        )
        .await?;
    assert_eq!(out[0].outcome, "remediated", "{out:?}");
    let status = trails.get_trail_status().name(TRAIL).send().await?;
    assert_eq!(status.is_logging, Some(true));
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 2);
    assert!(
        alerts.iter().all(|a| a.subject.contains("undone")),
        "{:?}",
        alerts.iter().map(|a| &a.subject).collect::<Vec<_>>()
    );

    // A namesake's rule is not the guard's: recorded, nothing done.
    let out = guard
        .handle_value(
            &call(
                "t-4",
                "events.amazonaws.com",
                "DisableRule",
                json!({"name": "team-rule"}),
            ),
            "r4",
        )
        .await?;
    assert_eq!(out[0].outcome, "none");
    assert_eq!(state("team-rule").await?.as_deref(), Some("DISABLED"));
    assert!(estate.alerts().await?.is_empty());

    // A second delivery of the same event does nothing more.
    let out = guard
        .handle_value(
            &call(
                "t-2",
                "events.amazonaws.com",
                "DisableRule",
                json!({"name": RULE}),
            ),
            "r5",
        )
        .await?;
    assert_eq!(out[0].outcome, "duplicate");
    Ok(())
}

/// A member account's forwarding rule, disabled there and forwarded: a critical alert
/// naming the member, and in remediate mode nothing undone, not even the same name in
/// the security account (tamper-guard does not act in member accounts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_disabled_forwarding_rule_is_alerted_and_not_undone_here() -> Result<()> {
    const MEMBER: &str = "222222222222";
    const FORWARD: &str = "crossguard-forward-guard-changes";
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let events = aws_sdk_eventbridge::Client::new(&estate.sdk);
    // A namesake in the security account, disabled: an EnableRule here would wake it.
    events
        .put_rule()
        .name(FORWARD)
        .event_pattern(r#"{"source": ["aws.events"]}"#)
        .send()
        .await?;
    events.disable_rule().name(FORWARD).send().await?;
    let mut dep: Value = serde_json::from_str(&serde_json::to_string(&deployment(&estate)?)?)?;
    dep["member_rules"] = json!([FORWARD, "crossguard-forward-guard-watchdog"]);
    let dep = Deployment::from_json(&dep.to_string()).map_err(anyhow::Error::msg)?;
    let config = crossguard_guard::Config {
        mode: Some(Mode::Remediate),
        ..estate.config()
    };
    let guard = connect(&estate.sdk, &config, dep, AwsUndo::new(&estate.sdk)).await?;
    let mut forwarded = call(
        "m-1",
        "events.amazonaws.com",
        "DisableRule",
        json!({"name": FORWARD}),
    );
    forwarded["account"] = json!(MEMBER);
    forwarded["detail"]["recipientAccountId"] = json!(MEMBER);
    forwarded["detail"]["userIdentity"] = json!({"type": "IAMUser", "accountId": MEMBER,
        "arn": format!("arn:aws:iam::{MEMBER}:user/intruder")});
    let out = guard.handle_value(&forwarded, "r1").await?;
    assert_eq!(out[0].outcome, "alerted", "{out:?}");
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].attributes["severity"], "critical");
    assert!(
        alerts[0].subject.contains(&format!(
            "guard tampered with [{MEMBER}] member forwarding rule"
        )),
        "{}",
        alerts[0].subject
    );
    assert!(
        alerts[0].message.contains("member-account.yaml"),
        "{}",
        alerts[0].message
    );
    let state = events.describe_rule().name(FORWARD).send().await?.state;
    assert_eq!(
        state.map(|s| s.as_str().to_string()).as_deref(),
        Some("DISABLED")
    );
    Ok(())
}
