//! Side doors on moto server, through the bucket guard and the real S3 client: a bucket
//! ACL that opens the bucket to everyone or to an unknown canonical user, decided on the
//! live ACL, alerted, and in remediate mode put back without the unapproved grants.

#![allow(clippy::too_many_lines)]

use anyhow::{Context, Result};
use aws_sdk_s3::types::{AccessControlPolicy, Grant, Grantee, Owner, Permission, Type};
use crossguard_emulator_tests::{load_event, params, retarget, Estate, Moto};
use serde_json::{json, Value};

/// The audit vendor's canonical user id, as the example allowlist names it.
const VENDOR_ID: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
const STRANGER_ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";

fn user(id: &str, p: Permission) -> Result<Grant> {
    Ok(Grant::builder()
        .grantee(
            Grantee::builder()
                .r#type(Type::CanonicalUser)
                .id(id)
                .build()?,
        )
        .permission(p)
        .build())
}

fn group(uri: &str, p: Permission) -> Result<Grant> {
    Ok(Grant::builder()
        .grantee(Grantee::builder().r#type(Type::Group).uri(uri).build()?)
        .permission(p)
        .build())
}

/// The bucket owner's canonical id, as S3 reports it.
async fn owner_id(estate: &Estate, bucket: &str) -> Result<String> {
    estate
        .s3
        .get_bucket_acl()
        .bucket(bucket)
        .send()
        .await?
        .owner
        .and_then(|o| o.id)
        .context("GetBucketAcl named no owner")
}

async fn put_acl(estate: &Estate, bucket: &str, grants: Vec<Grant>) -> Result<()> {
    let owner = owner_id(estate, bucket).await?;
    estate
        .s3
        .put_bucket_acl()
        .bucket(bucket)
        .access_control_policy(
            AccessControlPolicy::builder()
                .owner(Owner::builder().id(owner).build())
                .set_grants(Some(grants))
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

/// The bucket's grants as (grantee, permission), in S3's order.
async fn grants(estate: &Estate, bucket: &str) -> Result<Vec<(String, String)>> {
    let out = estate.s3.get_bucket_acl().bucket(bucket).send().await?;
    Ok(out
        .grants()
        .iter()
        .map(|g| {
            let who = g
                .grantee
                .as_ref()
                .and_then(|ge| ge.id.clone().or_else(|| ge.uri.clone()))
                .unwrap_or_default();
            let p = g.permission.as_ref().map(|p| p.as_str().to_string());
            (who, p.unwrap_or_default())
        })
        .collect())
}

/// A PutBucketAcl event of the real shape (the S3 User Guide's record) for this bucket.
fn put_acl_event(id: &str, bucket: &str, grants: Value) -> Result<Value> {
    let mut e = retarget(
        load_event("fixtures/cloudtrail/PutBucketAcl__awsdocs-s3__1.json")?,
        id,
        "PlatformAdmin",
    );
    let p = params(&mut e);
    p["bucketName"] = json!(bucket);
    p["AccessControlPolicy"]["AccessControlList"]["Grant"] = grants;
    Ok(e)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_acl_is_put_back_without_the_public_grants_in_remediate_mode() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    // prod-* buckets are remediated (the example allowlist's mode_override); the audit
    // vendor's canonical id is approved on prod-audit-* for listing and reading the ACL.
    let bucket = "prod-audit-logs";
    estate.create_bucket(bucket).await?;
    let owner = owner_id(&estate, bucket).await?;
    put_acl(
        &estate,
        bucket,
        vec![
            user(&owner, Permission::FullControl)?,
            user(VENDOR_ID, Permission::Read)?,
            group(ALL_USERS, Permission::Read)?,
        ],
    )
    .await?;
    let guard = estate.bucket_guard(&estate.config()).await?;

    let id = "22222222-0000-4000-8000-000000000001";
    let event = put_acl_event(
        id,
        bucket,
        json!([{"Grantee": {"xsi:type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]),
    )?;
    let out = guard.handle_value(&event, "req-1").await?;
    assert_eq!(out[0].outcome, "remediated", "{out:?}");

    assert_eq!(
        grants(&estate, bucket).await?,
        [
            (owner.clone(), "FULL_CONTROL".to_string()),
            (VENDOR_ID.to_string(), "READ".to_string())
        ],
        "the owner's and the approved vendor's grants stay; the public one goes"
    );
    let ev = estate.evidence(id).await?.context("evidence written")?;
    assert_eq!(ev["outcome"], "remediated");
    let plan = &ev["decision"]["remediation"];
    assert_eq!(plan["kind"], "put_acl");
    assert_eq!(plan["removed"][0]["principal"], "Group:AllUsers");
    assert_eq!(plan["removed"][0]["statement"], 2);
    // What was there before, so a person can put it back.
    let before = ev["policy_before"]["Grants"]
        .as_array()
        .context("the ACL before is kept")?;
    assert_eq!(before.len(), 3);
    assert_eq!(before[2]["Grantee"]["URI"], ALL_USERS);
    let approved = &ev["decision"]["findings"][1];
    assert_eq!(approved["approved"], true);
    assert_eq!(approved["account"], "333333333333");

    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].attributes["severity"], "critical");
    assert!(alerts[0].message.contains("ACL"), "{}", alerts[0].message);

    // The same event again: nothing more is done.
    let out = guard.handle_value(&event, "req-2").await?;
    assert_eq!(out[0].outcome, "duplicate");
    assert!(estate.alerts().await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_canonical_user_is_alerted_and_nothing_changes_in_alert_mode() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let bucket = "team-exports";
    estate.create_bucket(bucket).await?;
    let owner = owner_id(&estate, bucket).await?;
    let set = vec![
        user(&owner, Permission::FullControl)?,
        user(STRANGER_ID, Permission::Write)?,
    ];
    put_acl(&estate, bucket, set).await?;
    let before = grants(&estate, bucket).await?;
    let guard = estate.bucket_guard(&estate.config()).await?;

    let id = "22222222-0000-4000-8000-000000000002";
    let event = put_acl_event(
        id,
        bucket,
        json!({"Grantee": {"xsi:type": "CanonicalUser", "ID": STRANGER_ID}, "Permission": "WRITE"}),
    )?;
    let out = guard.handle_value(&event, "req-1").await?;
    assert_eq!(out[0].outcome, "alerted");
    assert_eq!(
        grants(&estate, bucket).await?,
        before,
        "alert mode changes nothing"
    );

    let ev = estate.evidence(id).await?.context("evidence written")?;
    let f = &ev["decision"]["findings"][1];
    assert_eq!(f["approved"], false);
    assert_eq!(
        f["account"],
        Value::Null,
        "a canonical id no pairing names is unresolvable"
    );
    assert_eq!(
        f["principal"],
        format!("CanonicalUser:{STRANGER_ID} (WRITE)")
    );
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0].message.contains(STRANGER_ID),
        "{}",
        alerts[0].message
    );
    Ok(())
}
