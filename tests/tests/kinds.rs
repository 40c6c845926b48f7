//! The queue, topic, function, secret, repository and event bus guards end to end on moto
//! server, each through its own store and SDK client: an approved share is left alone,
//! an unapproved account is alerted once and nothing changes in alert mode, a public
//! grant is cut exactly as planned in remediate mode (whole statements by Sid for Lambda
//! and EventBridge), a policy left with nothing approved becomes what the kind's
//! registry entry says (none, or SNS's default), every decision leaves evidence, and a
//! second delivery changes nothing.

// Scenarios read top to bottom, helpers take values as written.
#![allow(clippy::too_many_lines, clippy::needless_pass_by_value)]

use anyhow::Result;
use crossguard_emulator_tests::kinds::{approved_action, event_for, Door, NEW_KINDS};
use crossguard_emulator_tests::{Estate, Moto, ACCOUNT, REGION};
use crossguard_engine::{Mode, ResourceKind};
use serde_json::{json, Value};

fn statement(door: &Door, sid: &str, principal: Value) -> Value {
    let mut st = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": approved_action(door.kind),
    });
    // Resource-less statements are refused by SQS and SNS; the others take "*" too.
    st["Resource"] = json!(door.arn);
    st
}

fn build(door: &Door) -> Value {
    statement(
        door,
        "Build",
        json!({"AWS": "arn:aws:iam::111111111111:root"}),
    )
}

fn outsider(door: &Door) -> Value {
    statement(
        door,
        "Partner",
        json!({"AWS": "arn:aws:iam::444444444444:root"}),
    )
}

fn public(door: &Door) -> Value {
    statement(door, "Anyone", json!("*"))
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The statements' Sids in force: what a per-statement policy is compared by (Lambda and
/// EventBridge write their own Resource and Principal forms).
fn sids(p: &Option<Value>) -> Vec<String> {
    p.as_ref()
        .and_then(|p| p["Statement"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s["Sid"].as_str().map(str::to_string))
        .collect()
}

fn remediate(estate: &Estate) -> crossguard_guard::Config {
    crossguard_guard::Config {
        mode: Some(Mode::Remediate),
        ..estate.config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_kind_is_guarded_end_to_end() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    for (k, kind) in NEW_KINDS.into_iter().enumerate() {
        let id = |n: usize| format!("7{k}000000-0000-4000-8000-00000000000{n}");
        let name = |n: usize| format!("build-{kind}-{n}");

        // 1. An approved share: nothing changes, the decision is recorded.
        let door = estate.create(kind, &name(1)).await?;
        let ok = policy(vec![build(&door)]);
        estate.set_policy(&door, &ok).await?;
        let before = estate.policy_of(&door).await?;
        let out = estate
            .handle(
                kind,
                &remediate(&estate),
                &event_for(&door, &id(1), &ok)?,
                "r1",
            )
            .await?;
        assert_eq!(
            (out[0].verdict, out[0].outcome.as_str()),
            (crossguard_engine::Verdict::Compliant, "none"),
            "{kind}: {out:?}"
        );
        assert_eq!(
            estate.policy_of(&door).await?,
            before,
            "{kind}: approved share untouched"
        );
        let ev = estate.evidence(&id(1)).await?.expect("evidence");
        assert_eq!(ev["decision"]["resource"]["kind"], kind.as_str());
        assert!(
            estate.alerts().await?.is_empty(),
            "{kind}: no alert for an approved share"
        );

        // 2. An unapproved account in alert mode: one alert, nothing changed.
        let door = estate.create(kind, &name(2)).await?;
        let bad = policy(vec![build(&door), outsider(&door)]);
        estate.set_policy(&door, &bad).await?;
        let before = estate.policy_of(&door).await?;
        let out = estate
            .handle(
                kind,
                &estate.config(),
                &event_for(&door, &id(2), &bad)?,
                "r2",
            )
            .await?;
        assert_eq!(out[0].outcome, "alerted", "{kind}: {out:?}");
        assert_eq!(
            estate.policy_of(&door).await?,
            before,
            "{kind}: alert mode changes nothing"
        );
        let alerts = estate.alerts().await?;
        assert_eq!(alerts.len(), 1, "{kind}");
        assert_eq!(alerts[0].attributes["resource_kind"], kind.as_str());
        assert!(
            alerts[0].message.contains("444444444444"),
            "{kind}: {}",
            alerts[0].message
        );
        let ev = estate.evidence(&id(2)).await?.expect("evidence");
        assert_eq!(ev["decision"]["verdict"], "violation");

        // 3. A public grant in remediate mode: cut, the approved share kept.
        let door = estate.create(kind, &name(3)).await?;
        let open = policy(vec![build(&door), public(&door)]);
        estate.set_policy(&door, &open).await?;
        let event = event_for(&door, &id(3), &open)?;
        let out = estate
            .handle(kind, &remediate(&estate), &event, "r3")
            .await?;
        assert_eq!(out[0].outcome, "remediated", "{kind}: {out:?}");
        let after = estate.policy_of(&door).await?;
        assert_eq!(sids(&after), ["Build"], "{kind}: {after:?}");
        if matches!(kind, ResourceKind::Function | ResourceKind::Bus) {
            // Edited by RemovePermission: the approved statement is Lambda's/EventBridge's own.
        } else {
            assert_eq!(
                after,
                Some(policy(vec![build(&door)])),
                "{kind}: exactly the plan"
            );
        }
        let ev = estate.evidence(&id(3)).await?.expect("evidence");
        assert_eq!(ev["outcome"], "remediated");
        // moto's EventBridge writes PutPermission's "*" as arn:aws:iam::*:root (AWS writes
        // "*"): unresolvable, cut all the same. The removed grant is the public statement.
        let removed = &ev["decision"]["remediation"]["removed"];
        assert_eq!(
            removed.as_array().map(Vec::len),
            Some(1),
            "{kind}: {removed}"
        );
        assert_eq!(removed[0]["sid"], "Anyone", "{kind}: {removed}");
        assert_eq!(
            estate.alerts().await?.len(),
            1,
            "{kind}: the fix is reported"
        );

        // 4. The same event delivered again: handled once.
        let out = estate
            .handle(kind, &remediate(&estate), &event, "r3-again")
            .await?;
        assert_eq!(out[0].outcome, "duplicate", "{kind}: {out:?}");
        assert!(estate.alerts().await?.is_empty(), "{kind}: no second alert");
        assert_eq!(estate.policy_of(&door).await?, after);

        // 5. Nothing approved left: the kind's emptied form.
        let door = estate.create(kind, &name(4)).await?;
        let only_public = policy(vec![public(&door)]);
        estate.set_policy(&door, &only_public).await?;
        let out = estate
            .handle(
                kind,
                &remediate(&estate),
                &event_for(&door, &id(4), &only_public)?,
                "r4",
            )
            .await?;
        assert_eq!(out[0].outcome, "remediated", "{kind}: {out:?}");
        let after = estate.policy_of(&door).await?;
        if kind == ResourceKind::Topic {
            let default = crossguard_engine::remediation::default_topic_policy(
                &crossguard_engine::Resource::new(kind, &door.arn, ACCOUNT, Some(REGION))?,
            );
            assert_eq!(
                after,
                Some(default),
                "an emptied topic gets SNS's default back"
            );
        } else {
            assert!(sids(&after).is_empty(), "{kind}: nothing left: {after:?}");
        }
        estate.alerts().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_calls_and_function_urls_are_decided_on_the_live_policy() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;

    // SQS AddPermission carries one grant; the live policy holds the approved share too.
    let queue = estate.create(ResourceKind::Queue, "build-feed").await?;
    estate
        .set_policy(&queue, &policy(vec![build(&queue)]))
        .await?;
    let url = estate
        .sqs
        .get_queue_url()
        .queue_name("build-feed")
        .send()
        .await?
        .queue_url
        .unwrap_or_default();
    estate
        .sqs
        .add_permission()
        .queue_url(&url)
        .label("partner")
        .aws_account_ids("444444444444")
        .actions("SendMessage")
        .send()
        .await?;
    let mut e = crossguard_emulator_tests::retarget(
        crossguard_emulator_tests::load_event(
            "fixtures/cloudtrail/AddPermission__sqs-reconstructed__1.json",
        )?,
        "75000000-0000-4000-8000-000000000001",
        "PlatformAdmin",
    );
    crossguard_emulator_tests::params(&mut e)["queueUrl"] = json!(format!(
        "https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/build-feed"
    ));
    let out = estate
        .handle(ResourceKind::Queue, &remediate(&estate), &e, "q")
        .await?;
    assert_eq!(out[0].outcome, "remediated", "{out:?}");
    assert_eq!(sids(&estate.policy_of(&queue).await?), ["Build"]);
    let ev = estate
        .evidence("75000000-0000-4000-8000-000000000001")
        .await?
        .expect("evidence");
    // Decided on the live policy: both statements were read, the outsider's cut.
    assert_eq!(ev["decision"]["findings"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        ev["decision"]["remediation"]["removed"][0]["account"],
        "444444444444"
    );
    estate.alerts().await?;

    // A function URL without auth: public only if the policy lets * invoke it.
    let f = estate.create(ResourceKind::Function, "build-hook").await?;
    let lambda = aws_sdk_lambda::Client::new(&estate.sdk);
    let url_event = |id: &str| -> Result<Value> {
        let mut e = crossguard_emulator_tests::retarget(
            crossguard_emulator_tests::load_event(
                "fixtures/cloudtrail/CreateFunctionUrlConfig20211031__lambda-reconstructed__1.json",
            )?,
            id,
            "PlatformAdmin",
        );
        crossguard_emulator_tests::params(&mut e)["functionName"] = json!("build-hook");
        Ok(e)
    };
    let out = estate
        .handle(
            ResourceKind::Function,
            &remediate(&estate),
            &url_event("75000000-0000-4000-8000-000000000002")?,
            "u1",
        )
        .await?;
    assert_eq!(
        (out[0].verdict, out[0].outcome.as_str()),
        (crossguard_engine::Verdict::Compliant, "none"),
        "no policy: the URL lets nobody in: {out:?}"
    );
    lambda
        .add_permission()
        .function_name("build-hook")
        .statement_id("FunctionURLAllowPublicAccess")
        .action("lambda:InvokeFunctionUrl")
        .principal("*")
        .function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
        .send()
        .await?;
    estate.set_policy(&f, &policy(vec![build(&f)])).await?;
    let out = estate
        .handle(
            ResourceKind::Function,
            &remediate(&estate),
            &url_event("75000000-0000-4000-8000-000000000003")?,
            "u2",
        )
        .await?;
    assert_eq!(out[0].outcome, "remediated", "{out:?}");
    assert_eq!(sids(&estate.policy_of(&f).await?), ["Build"]);
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    let ev = estate
        .evidence("75000000-0000-4000-8000-000000000003")
        .await?
        .expect("evidence");
    let removed = &ev["decision"]["remediation"]["removed"];
    assert_eq!(removed.as_array().map(Vec::len), Some(1), "{removed}");
    assert_eq!(removed[0]["sid"], "FunctionURLAllowPublicAccess");
    assert_eq!(removed[0]["account"], "*");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_in_another_region_is_not_read_as_nothing_shared() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let queue = estate.create(ResourceKind::Queue, "build-west").await?;
    let open = policy(vec![public(&queue)]);
    estate.set_policy(&queue, &open).await?;
    // The same name in another region: this function's client cannot see it, and must
    // not take "not found" for "no policy".
    let mut e = event_for(&queue, "76000000-0000-4000-8000-000000000001", &open)?;
    crossguard_emulator_tests::params(&mut e)["queueUrl"] = json!(format!(
        "https://sqs.us-west-2.amazonaws.com/{ACCOUNT}/build-west"
    ));
    let out = estate
        .handle(ResourceKind::Queue, &remediate(&estate), &e, "w")
        .await?;
    assert_eq!(out[0].outcome, "alerted", "{out:?}");
    let ev = estate
        .evidence("76000000-0000-4000-8000-000000000001")
        .await?
        .expect("evidence");
    let reason = ev["decision"]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("is in us-west-2"), "{reason}");
    assert_eq!(
        estate.policy_of(&queue).await?,
        Some(open),
        "nothing touched"
    );
    Ok(())
}
