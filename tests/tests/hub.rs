//! Security Hub findings on moto server: the bucket guard decides and records, the
//! hub-exporter turns the record into findings through the real S3 and Security Hub
//! clients, and GetFindings shows what a security team would see — one finding per
//! outside party, updated (CreatedAt kept) by the next record, resolved when the grant
//! is gone or the guard removed it.

#![allow(clippy::too_many_lines)]

use anyhow::{Context, Result};
use aws_sdk_securityhub::types::{ComplianceStatus, SeverityLabel, WorkflowStatus};
use crossguard_emulator_tests::{
    load_event, params, retarget, Estate, Moto, ACCOUNT, EVIDENCE_BUCKET, REGION,
};
use crossguard_engine::asff::Product;
use crossguard_engine::Mode;
use hub_exporter::{AwsHub, ExportError, Exporter};
use serde_json::{json, Value};

fn statement(sid: &str, account: &str, bucket: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow",
           "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
           "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")})
}

fn put_event(id: &str, bucket: &str, policy: &Value, time: &str) -> Result<Value> {
    let mut e = retarget(
        load_event("fixtures/cloudtrail/PutBucketPolicy__cwl-notes__1.json")?,
        id,
        "PlatformAdmin",
    );
    let p = params(&mut e);
    p["bucketName"] = json!(bucket);
    p["bucketPolicy"] = policy.clone();
    e["detail"]["eventTime"] = json!(time);
    Ok(e)
}

/// S3's "Object Created" event for an evidence object, as EventBridge delivers it.
fn created(bucket: &str, key: &str) -> Value {
    json!({
        "version": "0", "id": "eb-object", "detail-type": "Object Created", "source": "aws.s3",
        "account": ACCOUNT, "time": "2026-12-02T10:00:00Z", "region": REGION,
        "resources": [format!("arn:aws:s3:::{bucket}")],
        "detail": {"version": "0", "bucket": {"name": bucket},
                   "object": {"key": key, "size": 1, "etag": "e", "sequencer": "1"},
                   "request-id": "r", "requester": ACCOUNT, "reason": "PutObject"}
    })
}

struct Finding {
    id: String,
    compliance: ComplianceStatus,
    workflow: WorkflowStatus,
    severity: SeverityLabel,
    created_at: String,
    updated_at: String,
    resource_type: String,
    evidence: String,
}

async fn findings(hub: &aws_sdk_securityhub::Client) -> Result<Vec<Finding>> {
    let out = hub.get_findings().send().await?;
    out.findings()
        .iter()
        .map(|f| {
            Ok(Finding {
                id: f.id().context("id")?.to_string(),
                compliance: f
                    .compliance()
                    .and_then(|c| c.status())
                    .context("compliance")?
                    .clone(),
                workflow: f
                    .workflow()
                    .and_then(|w| w.status())
                    .context("workflow")?
                    .clone(),
                severity: f
                    .severity()
                    .and_then(|s| s.label())
                    .context("severity")?
                    .clone(),
                created_at: f.created_at().context("created")?.to_string(),
                updated_at: f.updated_at().context("updated")?.to_string(),
                resource_type: f.resources()[0].r#type().context("type")?.to_string(),
                evidence: f
                    .product_fields()
                    .and_then(|p| p.get("crossguard/evidence"))
                    .context("evidence field")?
                    .clone(),
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_become_findings_updated_then_resolved() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let hub = aws_sdk_securityhub::Client::new(&estate.sdk);
    let exporter = Exporter {
        hub: AwsHub {
            s3: estate.s3.clone(),
            bucket: EVIDENCE_BUCKET.into(),
            hub: hub_exporter::wire::SecurityHub::new(&estate.sdk).map_err(anyhow::Error::msg)?,
        },
        bucket: EVIDENCE_BUCKET.into(),
        product: Product {
            partition: "aws".into(),
            region: REGION.into(),
            account: ACCOUNT.into(),
        },
    };
    let guard = estate.bucket_guard(&estate.config()).await?;
    let bucket = "shared-data";
    let vendor = "999999999999";
    let id_of = |party: &str| format!("crossguard/policy/arn:aws:s3:::{bucket}/{party}");

    // 1. An unapproved vendor grant: alerted, recorded; exported as one failed finding.
    let p1 = json!({"Version": "2012-10-17", "Statement": [statement("Vendor", vendor, bucket)]});
    estate.create_bucket(bucket).await?;
    estate.put_bucket_policy(bucket, &p1).await?;
    guard
        .handle_value(
            &put_event("hub-1", bucket, &p1, "2026-12-01T09:00:00Z")?,
            "r1",
        )
        .await?;
    let done = exporter
        .handle(
            &created(EVIDENCE_BUCKET, "evidence/hub-1.json"),
            "2026-12-01T09:00:05Z",
        )
        .await?;
    assert_eq!(done.imported, [id_of(vendor)]);
    let held = findings(&hub).await?;
    assert_eq!(held.len(), 1);
    let f = &held[0];
    assert_eq!(f.id, id_of(vendor));
    assert_eq!(f.compliance, ComplianceStatus::Failed);
    assert_eq!(f.workflow, WorkflowStatus::New);
    assert_eq!(f.severity, SeverityLabel::High);
    assert_eq!(f.resource_type, "AwsS3Bucket");
    assert_eq!(f.created_at, "2026-12-01T09:00:00Z");
    assert_eq!(
        f.evidence,
        format!("s3://{EVIDENCE_BUCKET}/evidence/hub-1.json")
    );

    // 2. The same grant and a public one: the vendor's finding updated, not added again.
    let p2 = json!({"Version": "2012-10-17", "Statement": [
        statement("Vendor", vendor, bucket),
        {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    estate.put_bucket_policy(bucket, &p2).await?;
    guard
        .handle_value(
            &put_event("hub-2", bucket, &p2, "2026-12-01T10:00:00Z")?,
            "r2",
        )
        .await?;
    exporter
        .handle(
            &created(EVIDENCE_BUCKET, "evidence/hub-2.json"),
            "2026-12-01T10:00:05Z",
        )
        .await?;
    let held = findings(&hub).await?;
    assert_eq!(
        held.len(),
        2,
        "{:?}",
        held.iter().map(|f| &f.id).collect::<Vec<_>>()
    );
    let v = held
        .iter()
        .find(|f| f.id == id_of(vendor))
        .context("vendor")?;
    assert_eq!(v.created_at, "2026-12-01T09:00:00Z");
    assert_eq!(v.updated_at, "2026-12-01T10:00:05Z");
    assert_eq!(
        v.evidence,
        format!("s3://{EVIDENCE_BUCKET}/evidence/hub-2.json")
    );
    let public = held.iter().find(|f| f.id == id_of("*")).context("public")?;
    assert_eq!(public.severity, SeverityLabel::Critical);
    assert_eq!(public.compliance, ComplianceStatus::Failed);

    // 3. The vendor's statement removed by hand: its finding resolved, the public one not.
    let p3 = json!({"Version": "2012-10-17", "Statement": [p2["Statement"][1].clone()]});
    estate.put_bucket_policy(bucket, &p3).await?;
    guard
        .handle_value(
            &put_event("hub-3", bucket, &p3, "2026-12-01T11:00:00Z")?,
            "r3",
        )
        .await?;
    exporter
        .handle(
            &created(EVIDENCE_BUCKET, "evidence/hub-3.json"),
            "2026-12-01T11:00:05Z",
        )
        .await?;
    let held = findings(&hub).await?;
    assert_eq!(held.len(), 2);
    let v = held
        .iter()
        .find(|f| f.id == id_of(vendor))
        .context("vendor")?;
    assert_eq!(v.compliance, ComplianceStatus::Passed);
    assert_eq!(v.workflow, WorkflowStatus::Resolved);
    assert_eq!(v.severity, SeverityLabel::Informational);
    assert_eq!(v.created_at, "2026-12-01T09:00:00Z");
    let public = held.iter().find(|f| f.id == id_of("*")).context("public")?;
    assert_eq!(public.compliance, ComplianceStatus::Failed);

    // 4. In remediate mode the guard removes the public grant: resolved in one step.
    let fixer = estate
        .bucket_guard(&crossguard_guard::Config {
            mode: Some(Mode::Remediate),
            ..estate.config()
        })
        .await?;
    fixer
        .handle_value(
            &put_event("hub-4", bucket, &p3, "2026-12-01T12:00:00Z")?,
            "r4",
        )
        .await?;
    exporter
        .handle(
            &created(EVIDENCE_BUCKET, "evidence/hub-4.json"),
            "2026-12-01T12:00:05Z",
        )
        .await?;
    let held = findings(&hub).await?;
    let public = held.iter().find(|f| f.id == id_of("*")).context("public")?;
    assert_eq!(public.compliance, ComplianceStatus::Passed);
    assert_eq!(public.workflow, WorkflowStatus::Resolved);
    assert_eq!(public.created_at, "2026-12-01T10:00:00Z");
    assert_eq!(held.len(), 2);

    // 5. A late delivery of the first record changes nothing that a later one set.
    exporter
        .handle(
            &created(EVIDENCE_BUCKET, "evidence/hub-1.json"),
            "2026-12-01T13:00:00Z",
        )
        .await?;
    let v = findings(&hub).await?;
    let v = v.iter().find(|f| f.id == id_of(vendor)).context("vendor")?;
    assert_eq!(v.compliance, ComplianceStatus::Passed);

    // Objects that are not records, and events that are not the evidence bucket's.
    estate
        .s3
        .put_object()
        .bucket(EVIDENCE_BUCKET)
        .key("evidence/claimed.json")
        .body(
            json!({"schema": "crossguard.claim/1", "event_id": "claimed"})
                .to_string()
                .into_bytes()
                .into(),
        )
        .send()
        .await?;
    let skipped = exporter
        .handle(
            &created(EVIDENCE_BUCKET, "evidence/claimed.json"),
            "2026-12-01T13:00:00Z",
        )
        .await?;
    assert!(skipped.imported.is_empty() && skipped.skipped.is_some());
    // A record copied to another key under evidence/ is not taken for its event.
    estate
        .s3
        .copy_object()
        .bucket(EVIDENCE_BUCKET)
        .copy_source(format!("{EVIDENCE_BUCKET}/evidence/hub-2.json"))
        .key("evidence/forged.json")
        .send()
        .await?;
    let forged = exporter
        .handle(
            &created(EVIDENCE_BUCKET, "evidence/forged.json"),
            "2026-12-01T13:00:00Z",
        )
        .await;
    assert!(matches!(forged, Err(ExportError::NotOurs(_))), "{forged:?}");
    let other = exporter
        .handle(
            &created("someone-elses", "evidence/hub-1.json"),
            "2026-12-01T13:00:00Z",
        )
        .await;
    assert!(matches!(other, Err(ExportError::NotOurs(_))), "{other:?}");
    let missing = exporter
        .handle(
            &created(EVIDENCE_BUCKET, "evidence/nothing.json"),
            "2026-12-01T13:00:00Z",
        )
        .await;
    assert!(matches!(missing, Err(ExportError::Gone(_))), "{missing:?}");
    let odd = exporter
        .handle(
            &created(EVIDENCE_BUCKET, "evidence/a%2Fb.json"),
            "2026-12-01T13:00:00Z",
        )
        .await;
    assert!(matches!(odd, Err(ExportError::NotOurs(_))), "{odd:?}");
    assert_eq!(findings(&hub).await?.len(), 2);
    Ok(())
}
