//! The guard handlers end to end on moto server: real-shaped events in, then the
//! emulator's state out (the policy, the messages on the queue subscribed to the alert
//! topic, the evidence object).

// Scenarios read top to bottom, helpers take values as written, sizes are small: the
// workspace's length and cast lints are for the product code.
#![allow(
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]

use anyhow::Result;
use crossguard_emulator_tests::{
    load_event, params, retarget, Estate, HttpSink, Moto, ACCOUNT, EVIDENCE_BUCKET,
};
use crossguard_engine::alert::Alert;
use crossguard_engine::Mode;
use crossguard_guard::aws::{s3_client, BucketPolicies, S3Evidence, SnsTopic};
use crossguard_guard::load_allowlist;
use crossguard_guard::{AlertSink, AwsError, Guard};

/// Publishes through the real topic after turning moto's authorization off.
struct AuthorizationOff {
    port: u16,
    topic: SnsTopic,
}

impl AlertSink for AuthorizationOff {
    async fn publish(&self, alert: &Alert) -> Result<String, AwsError> {
        crossguard_emulator_tests::enforce_iam(self.port, false).map_err(|e| AwsError {
            operation: "moto reset-auth",
            code: None,
            message: e.to_string(),
        })?;
        self.topic.publish(alert).await
    }
}
use serde_json::{json, Value};

const ADMIN: &str = "PlatformAdmin";

async fn estate() -> Result<(Moto, Estate)> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    Ok((moto, estate))
}

fn bucket_statement(sid: &str, principal: Value, bucket: &str) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]
    })
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn approved_build(bucket: &str) -> Value {
    bucket_statement(
        "BuildReadsArtifacts",
        json!({"AWS": "arn:aws:iam::111111111111:role/ci-runner"}),
        bucket,
    )
}

/// A PutBucketPolicy event of the real shape (CloudTrail docs' sample) for this bucket.
fn put_bucket_policy_event(id: &str, bucket: &str, policy: &Value, actor: &str) -> Value {
    let mut e = retarget(
        load_event("fixtures/cloudtrail/PutBucketPolicy__cwl-notes__1.json").unwrap(),
        id,
        actor,
    );
    let p = params(&mut e);
    p["bucketName"] = json!(bucket);
    p["bucketPolicy"] = policy.clone();
    p["host"] = json!([format!("{bucket}.s3.eu-west-1.amazonaws.com")]);
    e
}

/// A bucket whose policy lets in only an unapproved vendor account; returns the policy.
async fn vendor_only_bucket(estate: &Estate, bucket: &str) -> Result<Value> {
    let p = policy(vec![bucket_statement(
        "Vendor",
        json!({"AWS": "arn:aws:iam::999999999999:root"}),
        bucket,
    )]);
    estate.create_bucket(bucket).await?;
    estate.put_bucket_policy(bucket, &p).await?;
    Ok(p)
}

fn trust(principal: Value, condition: Option<Value>) -> Value {
    let mut st = json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"});
    if let Some(c) = condition {
        st["Condition"] = c;
    }
    policy(vec![st])
}

fn update_trust_event(id: &str, role: &str, trust: &Value) -> Value {
    let mut e = retarget(
        load_event("fixtures/cloudtrail/UpdateAssumeRolePolicy__stratus__1.json").unwrap(),
        id,
        ADMIN,
    );
    let p = params(&mut e);
    p["roleName"] = json!(role);
    p["policyDocument"] = json!(trust.to_string());
    e
}

fn key_admin() -> Value {
    json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "kms:*",
        "Resource": "*"
    })
}

fn put_key_policy_event(id: &str, key_id: &str, policy: &Value) -> Value {
    let mut e = retarget(
        load_event("fixtures/cloudtrail/PutKeyPolicy__awsdocs-kms__1.json").unwrap(),
        id,
        ADMIN,
    );
    let p = params(&mut e);
    p["keyId"] = json!(key_id);
    p["policy"] = json!(policy.to_string());
    e
}

fn remediate(estate: &Estate) -> crossguard_guard::Config {
    crossguard_guard::Config {
        mode: Some(Mode::Remediate),
        ..estate.config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_share_changes_nothing_and_is_recorded() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let bucket = "build-artifacts";
    let p = policy(vec![approved_build(bucket)]);
    estate.create_bucket(bucket).await?;
    estate.put_bucket_policy(bucket, &p).await?;
    let guard = estate.bucket_guard(&remediate(&estate)).await?;

    let id = "11111111-0000-4000-8000-000000000001";
    let out = guard
        .handle_value(&put_bucket_policy_event(id, bucket, &p, ADMIN), "req-1")
        .await?;

    assert_eq!(out.len(), 1);
    assert_eq!(out[0].outcome, "none");
    assert_eq!(estate.bucket_policy(bucket).await?, Some(p.clone()));
    assert!(estate.alerts().await?.is_empty());
    let ev = estate.evidence(id).await?.expect("evidence written");
    assert_eq!(ev["schema"], "crossguard.evidence/1");
    assert_eq!(ev["decision"]["verdict"], "compliant");
    assert_eq!(
        ev["decision"]["findings"][0]["approved_by"]
            .as_str()
            .map(|s| s.contains("SEC-1234") || s.contains("111111111111")),
        Some(true)
    );
    assert_eq!(ev["policy_before"], p);
    assert_eq!(ev["outcome"], "none");
    assert_eq!(
        ev["decision"]["event"]["actor"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/{ADMIN}/someone")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unapproved_account_alerts_once_and_changes_nothing_in_alert_mode() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let bucket = "build-artifacts";
    let p = policy(vec![bucket_statement(
        "BuildReadsArtifacts",
        json!({"AWS": ["arn:aws:iam::111111111111:role/ci-runner", "arn:aws:iam::999999999999:root"]}),
        bucket,
    )]);
    estate.create_bucket(bucket).await?;
    estate.put_bucket_policy(bucket, &p).await?;
    let guard = estate.bucket_guard(&estate.config()).await?;
    let sink = HttpSink::start()?;
    estate
        .sns
        .subscribe()
        .topic_arn(&estate.topic_arn)
        .protocol("http")
        .endpoint(&sink.url)
        .send()
        .await?;

    let id = "11111111-0000-4000-8000-000000000002";
    let out = guard
        .handle_value(&put_bucket_policy_event(id, bucket, &p, ADMIN), "req-2")
        .await?;
    assert_eq!(out[0].outcome, "alerted");

    assert_eq!(estate.bucket_policy(bucket).await?, Some(p));
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert!(a.subject.len() <= 100);
    assert!(
        a.subject.contains("bucket/build-artifacts"),
        "{}",
        a.subject
    );
    assert_eq!(a.attributes["severity"], "high");
    assert_eq!(a.attributes["account"], ACCOUNT);
    assert_eq!(a.attributes["resource_kind"], "bucket");
    // SQS (and Lambda, HTTP, email-json) subscribers get one JSON document: the readable
    // text, the next steps, the whole decision.
    let record = format!("s3://{EVIDENCE_BUCKET}/evidence/{id}.json");
    let doc: Value = serde_json::from_str(&a.message)?;
    assert_eq!(doc["schema"], "crossguard.alert/1");
    assert_eq!(doc["decision"]["verdict"], "violation");
    assert_eq!(doc["decision"]["findings"][1]["account"], "999999999999");
    assert_eq!(doc["evidence"], record.as_str());
    let summary = doc["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains(&format!("assumed-role/{ADMIN}/someone")),
        "{summary}"
    );
    assert!(
        doc["next_steps"][0]
            .as_str()
            .unwrap_or("")
            .contains(&format!("crossguard allowlist suggest {record}")),
        "{doc}"
    );
    // The HTTP subscriber got the same document in SNS's envelope.
    let http = sink.bodies();
    assert_eq!(http.len(), 1, "{http:?}");
    let envelope: Value = serde_json::from_str(&http[0])?;
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(
        serde_json::from_str::<Value>(envelope["Message"].as_str().unwrap_or(""))?,
        doc
    );

    let ev = estate.evidence(id).await?.unwrap();
    assert_eq!(ev["decision"]["verdict"], "violation");
    assert_eq!(ev["outcome"], "alerted");
    assert_eq!(ev["alert"]["status"], "sent");
    assert_eq!(ev["alert"]["subject"], a.subject.as_str());
    // What the other subscribers were sent (moto delivers to no mail or chat): email a
    // text with the next steps and no JSON; HTTPS (AWS Chatbot) a custom notification.
    let sent: Value = serde_json::from_str(ev["alert"]["structured"].as_str().unwrap_or(""))?;
    let email = sent["email"].as_str().unwrap_or("");
    assert!(
        email.contains("Who:") && email.contains("Next:") && !email.contains("\"verdict\""),
        "{email}"
    );
    let chat: Value = serde_json::from_str(sent["https"].as_str().unwrap_or(""))?;
    assert_eq!(chat["source"], "custom");
    assert_eq!(chat["content"]["title"], a.subject.as_str());
    assert!(chat["content"]["description"]
        .as_str()
        .unwrap_or("")
        .contains("999999999999"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_grant_is_removed_surgically_in_remediate_mode() -> Result<()> {
    let (_moto, estate) = estate().await?;
    // prod-* buckets are remediated by the example allowlist's mode_override.
    let bucket = "prod-data";
    let public = json!({
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*")
    });
    let org = json!({
        "Sid": "OrgRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*"),
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    });
    let p = policy(vec![public, org.clone()]);
    estate.create_bucket(bucket).await?;
    estate.put_bucket_policy(bucket, &p).await?;
    let guard = estate.bucket_guard(&estate.config()).await?;

    let id = "11111111-0000-4000-8000-000000000003";
    let out = guard
        .handle_value(&put_bucket_policy_event(id, bucket, &p, ADMIN), "req-3")
        .await?;
    assert_eq!(out[0].outcome, "remediated");

    let after = estate
        .bucket_policy(bucket)
        .await?
        .expect("a policy is left");
    let ev = estate.evidence(id).await?.unwrap();
    assert_eq!(
        after, ev["decision"]["remediation"]["policy"],
        "the policy is exactly the plan"
    );
    assert_eq!(
        after["Statement"],
        json!([org]),
        "the approved org statement stays, untouched"
    );
    assert_eq!(ev["outcome"], "remediated");
    assert_eq!(ev["policy_before"], p);
    let removed = &ev["decision"]["remediation"]["removed"][0];
    assert_eq!(removed["principal"], "*");
    assert_eq!(removed["original_statement"]["Sid"], "PublicRead");

    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].attributes["severity"], "critical");
    assert!(
        alerts[0].subject.contains("removed"),
        "{}",
        alerts[0].subject
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_policy_left_empty_is_deleted() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let bucket = "prod-logs";
    let p = vendor_only_bucket(&estate, bucket).await?;
    let guard = estate.bucket_guard(&estate.config()).await?;
    let id = "11111111-0000-4000-8000-000000000004";
    guard
        .handle_value(&put_bucket_policy_event(id, bucket, &p, ADMIN), "req-4")
        .await?;
    assert_eq!(estate.bucket_policy(bucket).await?, None);
    let ev = estate.evidence(id).await?.unwrap();
    assert_eq!(ev["decision"]["remediation"]["kind"], "delete_policy");
    assert_eq!(
        ev["decision"]["remediation"]["removed"][0]["original_statement"]["Sid"],
        "Vendor"
    );
    assert_eq!(estate.alerts().await?.len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_trust_without_external_id_is_replaced_by_deny_all_when_nothing_is_left() -> Result<()>
{
    let (_moto, estate) = estate().await?;
    let role = "VendorAudit";
    let ok = trust(
        json!({"AWS": "arn:aws:iam::333333333333:root"}),
        Some(json!({"StringEquals": {"sts:ExternalId": "vendor-7f3a"}})),
    );
    estate.create_role(role, &ok).await?;
    let risky = trust(json!({"AWS": "arn:aws:iam::333333333333:root"}), None);
    estate.update_trust(role, &risky).await?;

    // Alert mode (the allowlist's default): reported, trust untouched.
    let alerting = estate.role_guard(&estate.config()).await?;
    let id = "22222222-0000-4000-8000-000000000001";
    let out = alerting
        .handle_value(&update_trust_event(id, role, &risky), "req-r1")
        .await?;
    assert_eq!(out[0].outcome, "alerted");
    assert_eq!(estate.role_trust(role).await?, risky);
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].attributes["resource_kind"], "role");
    assert!(
        alerts[0].message.to_lowercase().contains("externalid"),
        "{}",
        alerts[0].message
    );

    // Remediate mode: the grant is the whole trust, so the role gets a deny-all trust.
    let fixing = estate.role_guard(&remediate(&estate)).await?;
    let id2 = "22222222-0000-4000-8000-000000000002";
    let out = fixing
        .handle_value(&update_trust_event(id2, role, &risky), "req-r2")
        .await?;
    assert_eq!(out[0].outcome, "remediated");
    let after = estate.role_trust(role).await?;
    let ev = estate.evidence(id2).await?.unwrap();
    assert_eq!(ev["decision"]["remediation"]["kind"], "deny_all_trust");
    assert_eq!(after, ev["decision"]["remediation"]["policy"]);
    assert_eq!(after["Statement"][0]["Effect"], "Deny");
    assert_eq!(estate.alerts().await?.len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_role_event_keeps_the_approved_external_id_grant() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let role = "VendorAudit";
    let t = policy(vec![
        json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
               "Action": "sts:AssumeRole",
               "Condition": {"StringEquals": {"sts:ExternalId": "vendor-7f3a"}}}),
        json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
               "Action": "sts:AssumeRole"}),
    ]);
    estate.create_role(role, &t).await?;
    let mut e = retarget(
        load_event("fixtures/cloudtrail/CreateRole__stratus__1.json")?,
        "22222222-0000-4000-8000-000000000003",
        ADMIN,
    );
    let p = params(&mut e);
    p["roleName"] = json!(role);
    p["assumeRolePolicyDocument"] = json!(t.to_string());
    let guard = estate.role_guard(&remediate(&estate)).await?;
    guard.handle_value(&e, "req-r3").await?;
    let after = estate.role_trust(role).await?;
    assert_eq!(after["Statement"], json!([t["Statement"][0]]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_policy_loses_the_outside_account_and_keeps_owner_admin() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let outside = json!({
        "Sid": "Allow use by partner",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": "*"
    });
    let build = json!({
        "Sid": "Build decrypts",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "kms:Decrypt",
        "Resource": "*"
    });
    let before = policy(vec![key_admin(), build.clone()]);
    let key_id = estate.create_key(&before).await?;
    let p = policy(vec![key_admin(), build.clone(), outside]);
    estate.put_key_policy(&key_id, &p).await?;
    let guard = estate.key_guard(&remediate(&estate)).await?;
    let id = "33333333-0000-4000-8000-000000000001";
    let out = guard
        .handle_value(&put_key_policy_event(id, &key_id, &p), "req-k1")
        .await?;
    assert_eq!(out[0].outcome, "remediated");
    assert_eq!(estate.key_policy(&key_id).await?, before);
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].attributes["resource_kind"], "key");
    let ev = estate.evidence(id).await?.unwrap();
    assert_eq!(
        ev["decision"]["remediation"]["removed"][0]["account"],
        "999999999999"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guards_own_fix_and_failed_calls_are_recorded_and_ignored() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let bucket = "prod-data";
    let bad = vendor_only_bucket(&estate, bucket).await?;
    let guard = estate.bucket_guard(&estate.config()).await?;

    let own = "44444444-0000-4000-8000-000000000001";
    let out = guard
        .handle_value(
            &put_bucket_policy_event(own, bucket, &bad, "crossguard-bucket-guard"),
            "req-i1",
        )
        .await?;
    assert_eq!(out[0].outcome, "none");

    let failed = "44444444-0000-4000-8000-000000000002";
    let mut e = put_bucket_policy_event(failed, bucket, &bad, ADMIN);
    e["detail"]["errorCode"] = json!("AccessDenied");
    e["detail"]["errorMessage"] = json!("Access Denied");
    let out = guard.handle_value(&e, "req-i2").await?;
    assert_eq!(out[0].outcome, "none");

    assert_eq!(
        estate.bucket_policy(bucket).await?,
        Some(bad),
        "nothing was touched"
    );
    assert!(estate.alerts().await?.is_empty());
    let own_ev = estate.evidence(own).await?.unwrap();
    assert_eq!(own_ev["decision"]["verdict"], "ignored");
    assert!(own_ev["decision"]["reason"]
        .as_str()
        .unwrap()
        .contains("ignore_actors"));
    let failed_ev = estate.evidence(failed).await?.unwrap();
    assert_eq!(failed_ev["decision"]["verdict"], "ignored");
    assert!(failed_ev["decision"]["reason"]
        .as_str()
        .unwrap()
        .contains("AccessDenied"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_delivery_neither_alerts_nor_remediates_again() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let bucket = "prod-data";
    let p = policy(vec![
        approved_build(bucket),
        bucket_statement(
            "Vendor",
            json!({"AWS": "arn:aws:iam::999999999999:root"}),
            bucket,
        ),
    ]);
    estate.create_bucket(bucket).await?;
    estate.put_bucket_policy(bucket, &p).await?;
    let guard = estate.bucket_guard(&estate.config()).await?;
    let id = "55555555-0000-4000-8000-000000000001";
    let event = put_bucket_policy_event(id, bucket, &p, ADMIN);

    let first = guard.handle_value(&event, "req-d1").await?;
    assert_eq!(first[0].outcome, "remediated");
    let record = estate.evidence(id).await?.unwrap();
    // Someone puts the grant back by hand; that is a new change with its own event.
    // The old event delivered again must not act on it.
    estate.put_bucket_policy(bucket, &p).await?;
    let second = guard.handle_value(&event, "req-d2").await?;
    assert_eq!(second[0].outcome, "duplicate");

    assert_eq!(estate.alerts().await?.len(), 1, "one alert for one event");
    assert_eq!(
        estate.bucket_policy(bucket).await?,
        Some(p),
        "the duplicate did not remediate"
    );
    assert_eq!(
        estate.evidence(id).await?.unwrap(),
        record,
        "the record is the first one"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_remediation_is_reported_and_recorded() -> Result<()> {
    let (moto, estate) = estate().await?;
    let bucket = "prod-data";
    let p = vendor_only_bucket(&estate, bucket).await?;
    // The guard runs as a user that may do everything but change bucket policies.
    estate.iam.create_user().user_name("guard").send().await?;
    let policy_doc = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"], "Resource": "*"}
    ]});
    estate
        .iam
        .put_user_policy()
        .user_name("guard")
        .policy_name("guard")
        .policy_document(policy_doc.to_string())
        .send()
        .await?;
    let key = estate
        .iam
        .create_access_key()
        .user_name("guard")
        .send()
        .await?
        .access_key
        .expect("access key");
    let guard_sdk = moto
        .sdk_as(&key.access_key_id, &key.secret_access_key, None)
        .await;
    let config = estate.config();
    let guard = Guard {
        policies: BucketPolicies::new(&guard_sdk),
        // moto's signature check rejects the Rust SDK's SNS requests when authorization
        // is on (SignatureDoesNotMatch): the alert goes out with authorization off again.
        alerts: AuthorizationOff {
            port: moto.port,
            topic: SnsTopic {
                client: aws_sdk_sns::Client::new(&guard_sdk),
                topic_arn: config.alert_topic_arn.clone(),
            },
        },
        evidence: S3Evidence {
            client: s3_client(&guard_sdk),
            bucket: config.evidence_bucket.clone(),
        },
        allowlist: load_allowlist(&config, &estate.s3).await?,
    };

    moto.enforce_iam(true)?;
    let id = "66666666-0000-4000-8000-000000000001";
    let out = guard
        .handle_value(&put_bucket_policy_event(id, bucket, &p, ADMIN), "req-f1")
        .await;
    moto.enforce_iam(false)?;
    let out = out?;
    assert_eq!(out[0].outcome, "remediation_failed");

    assert_eq!(
        estate.bucket_policy(bucket).await?,
        Some(p),
        "nothing changed"
    );
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0].subject.contains("FAILED"),
        "{}",
        alerts[0].subject
    );
    assert!(
        alerts[0].message.contains("AccessDenied"),
        "{}",
        alerts[0].message
    );
    let ev = estate.evidence(id).await?.unwrap();
    assert_eq!(ev["outcome"], "remediation_failed");
    // Nothing approved is left in the policy: the plan deletes it.
    assert_eq!(ev["decision"]["remediation"]["kind"], "delete_policy");
    let detail = ev["outcome_detail"].as_str().unwrap();
    assert!(
        detail.starts_with("DeleteBucketPolicy failed: AccessDenied"),
        "{detail}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_that_could_not_be_sent_is_sent_by_the_next_delivery() -> Result<()> {
    let (_moto, mut estate) = estate().await?;
    let bucket = "build-artifacts";
    let p = vendor_only_bucket(&estate, bucket).await?;
    let guard = estate.bucket_guard(&estate.config()).await?;
    estate
        .sns
        .delete_topic()
        .topic_arn(&estate.topic_arn)
        .send()
        .await?;

    let id = "77777777-0000-4000-8000-000000000001";
    let event = put_bucket_policy_event(id, bucket, &p, ADMIN);
    let err = guard
        .handle_value(&event, "req-a1")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("was not sent"), "{err}");
    let ev = estate.evidence(id).await?.unwrap();
    assert_eq!(ev["alert"]["status"], "failed");

    // The topic is back; Lambda's retry delivers the event again.
    estate.alert_topic().await?;
    let out = guard.handle_value(&event, "req-a1").await?;
    assert_eq!(out[0].outcome, "duplicate");
    assert_eq!(out[0].alert.as_deref(), Some("sent"));
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].message.contains("999999999999"));
    assert_eq!(
        estate.evidence(id).await?.unwrap()["alert"]["status"],
        "sent"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_fails_clearly_and_records_nothing() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let guard = estate.bucket_guard(&estate.config()).await?;
    let err = guard
        .handle_value(&json!("not an event"), "req-b1")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("malformed event"), "{err}");

    let mut no_id = put_bucket_policy_event("x", "b", &json!({}), ADMIN);
    no_id["detail"].as_object_mut().unwrap().remove("eventID");
    let err = guard.handle_value(&no_id, "req-b2").await.unwrap_err();
    assert!(err.to_string().contains("eventID"), "{err}");

    let evil = put_bucket_policy_event("../../escape", "b", &json!({}), ADMIN);
    let err = guard.handle_value(&evil, "req-b3").await.unwrap_err();
    assert!(err.to_string().contains("not safe"), "{err}");

    let listed = estate
        .s3
        .list_objects_v2()
        .bucket(crossguard_emulator_tests::EVIDENCE_BUCKET)
        .send()
        .await?;
    assert_eq!(listed.key_count, Some(0));
    assert!(estate.alerts().await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_live_policy_is_reported_not_touched() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let bucket = "prod-big";
    let statements: Vec<Value> = (0..200)
        .map(|i| {
            bucket_statement(
                &format!("Padding{i:03}PaddingPaddingPaddingPadding"),
                json!({"AWS": "arn:aws:iam::999999999999:root"}),
                bucket,
            )
        })
        .collect();
    let p = policy(statements);
    assert!(p.to_string().len() > 20 * 1024);
    estate.create_bucket(bucket).await?;
    estate.put_bucket_policy(bucket, &p).await?;
    let guard = estate.bucket_guard(&estate.config()).await?;
    let id = "88888888-0000-4000-8000-000000000001";
    guard
        .handle_value(&put_bucket_policy_event(id, bucket, &p, ADMIN), "req-o1")
        .await?;
    assert_eq!(estate.bucket_policy(bucket).await?, Some(p));
    let ev = estate.evidence(id).await?.unwrap();
    assert_eq!(ev["decision"]["verdict"], "error");
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0].subject.contains("could not be checked"),
        "{}",
        alerts[0].subject
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_policy_and_other_kinds_are_compliant_or_ignored() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let bucket = "prod-data";
    estate.create_bucket(bucket).await?;
    let guard = estate.bucket_guard(&estate.config()).await?;

    let mut del = retarget(
        load_event("fixtures/cloudtrail/DeleteBucketPolicy__awsdocs-s3dev__1.json")?,
        "99999999-0000-4000-8000-000000000001",
        ADMIN,
    );
    params(&mut del)["bucketName"] = json!(bucket);
    guard.handle_value(&del, "req-x1").await?;
    let ev = estate
        .evidence("99999999-0000-4000-8000-000000000001")
        .await?
        .unwrap();
    assert_eq!(ev["decision"]["verdict"], "compliant");

    // A key event reaching the bucket guard is recorded and left alone.
    let key_event = put_key_policy_event(
        "99999999-0000-4000-8000-000000000002",
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        &policy(vec![key_admin()]),
    );
    guard.handle_value(&key_event, "req-x2").await?;
    let ev = estate
        .evidence("99999999-0000-4000-8000-000000000002")
        .await?
        .unwrap();
    assert_eq!(ev["decision"]["verdict"], "ignored");
    assert!(ev["decision"]["reason"]
        .as_str()
        .unwrap()
        .contains("this function guards bucket"));
    assert!(estate.alerts().await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_event_is_decided_on_the_new_keys_policy() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let outside = json!({
        "Sid": "Partner encrypts",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::999999999999:root"]},
        "Action": "kms:Decrypt",
        "Resource": "*"
    });
    let p = policy(vec![key_admin(), outside]);
    let key_id = estate.create_key(&p).await?;
    // The real CreateKey shape: the new key is named only in responseElements.
    let id = "33333333-0000-4000-8000-000000000002";
    let mut e = retarget(
        load_event("fixtures/cloudtrail/CreateKey__streamalert__1.json")?,
        id,
        ADMIN,
    );
    params(&mut e)["policy"] = json!(p.to_string());
    e["detail"]["responseElements"] = json!({"keyMetadata": {
        "keyId": key_id,
        "arn": format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key_id}"),
        "aWSAccountId": ACCOUNT
    }});
    let guard = estate.key_guard(&remediate(&estate)).await?;
    let out = guard.handle_value(&e, "req-k2").await?;
    assert_eq!(out[0].outcome, "remediated");
    let after = estate.key_policy(&key_id).await?;
    assert_eq!(
        after["Statement"][0],
        key_admin(),
        "owner administration kept"
    );
    assert_eq!(
        after["Statement"][1]["Principal"]["AWS"],
        json!(["arn:aws:iam::111111111111:root"]),
        "only the outsider is cut from the statement"
    );
    assert_eq!(estate.alerts().await?.len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allowlist_loads_from_s3_and_a_missing_one_is_a_clear_error() -> Result<()> {
    let (_moto, estate) = estate().await?;
    estate.create_bucket("config").await?;
    let text = std::fs::read(crossguard_emulator_tests::root().join("examples/allowlist.toml"))?;
    estate
        .s3
        .put_object()
        .bucket("config")
        .key("crossguard/allowlist.toml")
        .body(text.into())
        .send()
        .await?;
    let config = crossguard_guard::Config {
        allowlist: "s3://config/crossguard/allowlist.toml".into(),
        ..estate.config()
    };
    let guard = estate.bucket_guard(&config).await?;
    assert_eq!(guard.allowlist.pairings.len(), 5);

    let missing = crossguard_guard::Config {
        allowlist: "s3://config/nothing.toml".into(),
        ..estate.config()
    };
    let err = estate
        .bucket_guard(&missing)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("s3://config/nothing.toml") && err.contains("no object nothing.toml"),
        "{err}"
    );
    Ok(())
}

/// A duplicate JSON key is never resolved by guessing (SPEC §1): in the live policy or in
/// the event itself, the guard alerts "could not be checked", records it, and writes
/// nothing, even on a bucket it would otherwise remediate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_json_keys_alert_as_unreadable_and_change_nothing() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let bucket = "prod-dup"; // remediated by the example allowlist's mode_override
    estate.create_bucket(bucket).await?;
    // The live policy: public read, then an "Effect" that a last-wins reader takes as Deny.
    let live = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Pub","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*","Effect":"Deny"}}]}}"#
    );
    estate
        .s3
        .put_bucket_policy()
        .bucket(bucket)
        .policy(&live)
        .send()
        .await?;
    let guard = estate.bucket_guard(&estate.config()).await?;
    let raw_policy = || async {
        let out = estate.s3.get_bucket_policy().bucket(bucket).send().await?;
        anyhow::Ok(out.policy.unwrap_or_default())
    };
    let stored = raw_policy().await?;

    let id = "77777777-0000-4000-8000-000000000001";
    let event = put_bucket_policy_event(id, bucket, &json!({"Statement": []}), ADMIN);
    let out = guard.handle_value(&event, "req-dup1").await?;
    assert_eq!(out[0].outcome, "alerted");
    let ev = estate.evidence(id).await?.unwrap();
    assert_eq!(ev["decision"]["verdict"], "error");
    let reason = ev["decision"]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("duplicate JSON key Statement[0].Effect"),
        "{reason}"
    );

    // The event itself with a duplicate: which bucket it names cannot be told.
    let id2 = "77777777-0000-4000-8000-000000000002";
    let text = put_bucket_policy_event(id2, bucket, &json!({"Statement": []}), ADMIN)
        .to_string()
        .replacen(
            "\"bucketName\":",
            "\"bucketName\":\"other-bucket\",\"bucketName\":",
            1,
        );
    assert!(
        text.contains("other-bucket"),
        "the event has requestParameters.bucketName"
    );
    let payload = crossguard_engine::json::from_str(&text)?;
    let out = guard.handle(&payload, "req-dup2").await?;
    assert_eq!(out[0].outcome, "alerted");
    let ev = estate.evidence(id2).await?.unwrap();
    assert_eq!(ev["decision"]["verdict"], "error");
    let reason = ev["decision"]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains(
            "could not be checked: duplicate JSON key detail.requestParameters.bucketName"
        ),
        "{reason}"
    );

    // Nothing was written; each event alerted once, saying it could not be checked.
    assert_eq!(raw_policy().await?, stored);
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 2);
    for a in &alerts {
        assert!(a.subject.contains("could not be checked"), "{}", a.subject);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_kms_grant_is_revoked_and_an_approved_one_kept() -> Result<()> {
    let (_moto, estate) = estate().await?;
    let key_id = estate.create_key(&policy(vec![key_admin()])).await?;
    let grant = |grantee: &str, ops: &[&str]| {
        let kms = estate.kms.clone();
        let key_id = key_id.clone();
        let grantee = grantee.to_string();
        let ops: Vec<aws_sdk_kms::types::GrantOperation> =
            ops.iter().map(|o| (*o).into()).collect();
        async move {
            kms.create_grant()
                .key_id(key_id)
                .grantee_principal(grantee)
                .set_operations(Some(ops))
                .send()
                .await
                .map(|o| o.grant_id.unwrap_or_default())
        }
    };
    let event = |id: &str, grant_id: &str, grantee: &str, ops: &[&str]| {
        let mut e = retarget(
            load_event("fixtures/cloudtrail/CreateGrant__awsdocs-kms__1.json").unwrap(),
            id,
            ADMIN,
        );
        let p = params(&mut e);
        p["keyId"] = json!(key_id);
        p["granteePrincipal"] = json!(grantee);
        p["operations"] = json!(ops);
        p.as_object_mut().unwrap().remove("constraints");
        e["detail"]["responseElements"] = json!({"grantId": grant_id});
        e
    };
    let live_grants = || {
        let kms = estate.kms.clone();
        let key_id = key_id.clone();
        async move {
            kms.list_grants().key_id(key_id).send().await.map(|o| {
                o.grants()
                    .iter()
                    .filter_map(|g| g.grant_id().map(str::to_string))
                    .collect::<Vec<_>>()
            })
        }
    };
    let guard = estate.key_guard(&remediate(&estate)).await?;

    // The build account may decrypt with any key (pairing SEC-1234): kept.
    let build = "arn:aws:iam::111111111111:role/ci-runner";
    let kept = grant(build, &["Decrypt"]).await?;
    let id = "88888888-0000-4000-8000-000000000001";
    let out = guard
        .handle_value(&event(id, &kept, build, &["Decrypt"]), "g1")
        .await?;
    assert_eq!(out[0].outcome, "none", "{out:?}");
    assert_eq!(live_grants().await?, vec![kept.clone()]);

    // An outsider's grant: revoked, with evidence and one alert.
    let outsider = "arn:aws:iam::999999999999:role/thief";
    let bad = grant(outsider, &["Decrypt", "GenerateDataKey"]).await?;
    let id = "88888888-0000-4000-8000-000000000002";
    let out = guard
        .handle_value(
            &event(id, &bad, outsider, &["Decrypt", "GenerateDataKey"]),
            "g2",
        )
        .await?;
    assert_eq!(out[0].outcome, "remediated", "{out:?}");
    assert_eq!(
        live_grants().await?,
        vec![kept.clone()],
        "only the outsider's grant went"
    );
    let ev = estate.evidence(id).await?.unwrap();
    assert_eq!(ev["decision"]["remediation"]["kind"], "revoke_grant");
    assert_eq!(ev["decision"]["remediation"]["grant_id"], bad.as_str());
    assert_eq!(
        ev["decision"]["remediation"]["removed"][0]["account"],
        "999999999999"
    );
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0].message.contains("KMS grant was revoked"),
        "{}",
        alerts[0].message
    );

    // Another event naming the revoked grant: decided as the record grants it (a new grant
    // may not show in ListGrants yet); "not found" on revoking is a failure, alerted,
    // never "nothing shared".
    let again = "88888888-0000-4000-8000-000000000003";
    let out = guard
        .handle_value(&event(again, &bad, outsider, &["Decrypt"]), "g3")
        .await?;
    assert_eq!(out[0].outcome, "remediation_failed", "{out:?}");
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0].message.contains("RevokeGrant"),
        "{}",
        alerts[0].message
    );
    assert_eq!(live_grants().await?, vec![kept.clone()]);
    Ok(())
}
