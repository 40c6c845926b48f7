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

// ---- Block Public Access ----

fn bpa_event(id: &str, name: &str, bucket: Option<&str>, settings: Option<Value>) -> Result<Value> {
    let mut e = retarget(
        load_event("fixtures/cloudtrail/EventBridgeEnvelope_PutBucketPublicAccessBlock__panther-oss__1.json")?,
        id,
        "PlatformAdmin",
    );
    e["detail"]["eventName"] = json!(name);
    let p = params(&mut e);
    match bucket {
        Some(b) => p["bucketName"] = json!(b),
        None => *p = json!({}),
    }
    match settings {
        Some(s) => p["PublicAccessBlockConfiguration"] = s,
        None => {
            if let Some(o) = p.as_object_mut() {
                o.remove("PublicAccessBlockConfiguration");
            }
        }
    }
    Ok(e)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_public_access_deleted_over_a_public_policy_is_critical_and_restored() -> Result<()> {
    use aws_sdk_s3::types::PublicAccessBlockConfiguration;
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    // prod-* buckets are remediated (the example allowlist's mode_override).
    let bucket = "prod-reports";
    estate.create_bucket(bucket).await?;
    let all_on = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    estate
        .s3
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(all_on)
        .send()
        .await?;
    // The guardrail goes, then a public policy comes.
    estate
        .s3
        .delete_public_access_block()
        .bucket(bucket)
        .send()
        .await?;
    let public = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Open", "Effect": "Allow",
        "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    estate.put_bucket_policy(bucket, &public).await?;
    let guard = estate.bucket_guard(&estate.config()).await?;

    let id = "22222222-0000-4000-8000-000000000003";
    let event = bpa_event(id, "DeleteBucketPublicAccessBlock", Some(bucket), None)?;
    let out = guard.handle_value(&event, "req-1").await?;
    assert_eq!(out[0].outcome, "remediated", "{out:?}");

    let now = estate
        .s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await?
        .public_access_block_configuration
        .context("settings back")?;
    assert_eq!(
        (
            now.block_public_acls,
            now.ignore_public_acls,
            now.block_public_policy,
            now.restrict_public_buckets
        ),
        (Some(true), Some(true), Some(true), Some(false)),
        "every setting back on but RestrictPublicBuckets, which a fix never turns on"
    );
    let ev = estate.evidence(id).await?.context("evidence written")?;
    assert_eq!(
        ev["decision"]["remediation"]["kind"],
        "put_public_access_block"
    );
    // The settings as the change left them, so a person can see what was undone.
    assert_eq!(
        ev["policy_before"],
        json!({"BlockPublicAcls": false, "IgnorePublicAcls": false, "BlockPublicPolicy": false, "RestrictPublicBuckets": false})
    );
    assert!(
        ev["decision"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("a public bucket policy is in force"),
        "{}",
        ev["decision"]["reason"]
    );
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].attributes["severity"], "critical");
    assert!(
        alerts[0].message.contains("Restored"),
        "{}",
        alerts[0].message
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accounts_block_public_access_lowered_is_alerted_as_high() -> Result<()> {
    use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let control = crossguard_guard::aws::BucketPolicies::new(&estate.sdk).control;
    let lowered = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(false)
        .restrict_public_buckets(false)
        .build();
    control
        .put_public_access_block()
        .account_id(crossguard_emulator_tests::ACCOUNT)
        .public_access_block_configuration(lowered)
        .send()
        .await?;
    // The example allowlist means www-example-com to be public: lowering the account's
    // guardrail is what that takes, so it is approved there.
    let approved = estate.bucket_guard(&estate.config()).await?;
    let id = "22222222-0000-4000-8000-000000000005";
    let event = bpa_event(
        id,
        "PutAccountPublicAccessBlock",
        None,
        Some(
            json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": false, "RestrictPublicBuckets": false}),
        ),
    )?;
    let out = approved.handle_value(&event, "req-0").await?;
    assert_eq!(out[0].outcome, "none", "{out:?}");
    let ev = estate.evidence(id).await?.context("evidence written")?;
    assert_eq!(
        ev["decision"]["findings"][0]["approved_by"],
        "public #1 (WEB-7)"
    );

    // An estate with no public bucket: the same change is a violation.
    let dir = std::env::temp_dir().join(format!("crossguard-doors-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("allowlist.toml");
    std::fs::write(&file, "version = 1\nmode = \"alert\"\n")?;
    let config = crossguard_guard::Config {
        allowlist: file.display().to_string(),
        ..estate.config()
    };
    let guard = estate.bucket_guard(&config).await?;

    let id = "22222222-0000-4000-8000-000000000004";
    let event = bpa_event(
        id,
        "PutAccountPublicAccessBlock",
        None,
        Some(
            json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": false, "RestrictPublicBuckets": false}),
        ),
    )?;
    let out = guard.handle_value(&event, "req-1").await?;
    assert_eq!(out[0].outcome, "alerted", "{out:?}");
    // Alert mode: the account's settings stay as they were set.
    let now = control
        .get_public_access_block()
        .account_id(crossguard_emulator_tests::ACCOUNT)
        .send()
        .await?
        .public_access_block_configuration
        .context("account settings")?;
    assert_eq!(now.block_public_policy, Some(false));
    let ev = estate.evidence(id).await?.context("evidence written")?;
    assert_eq!(ev["decision"]["resource"]["name"], "*");
    let off: Vec<&str> = ev["decision"]["findings"]
        .as_array()
        .context("findings")?
        .iter()
        .filter_map(|f| f["principal"].as_str())
        .collect();
    assert_eq!(off, ["BlockPublicPolicy off", "RestrictPublicBuckets off"]);
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].attributes["severity"], "high");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

// ---- ownership controls ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_enabled_again_over_an_outside_grant_are_alerted() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let bucket = "team-archive";
    estate.create_bucket(bucket).await?;
    let owner = owner_id(&estate, bucket).await?;
    put_acl(
        &estate,
        bucket,
        vec![
            user(&owner, Permission::FullControl)?,
            user(STRANGER_ID, Permission::Read)?,
        ],
    )
    .await?;
    let guard = estate.bucket_guard(&estate.config()).await?;
    let event = |id: &str, setting: &str| -> Result<Value> {
        let mut e = put_acl_event(id, bucket, json!([]))?;
        e["detail"]["eventName"] = json!("PutBucketOwnershipControls");
        e["detail"]["requestParameters"] = json!({"bucketName": bucket, "ownershipControls": [""],
            "OwnershipControls": {"Rule": {"ObjectOwnership": setting}}});
        Ok(e)
    };
    // ACLs disabled: nothing an ACL grants applies.
    let out = guard
        .handle_value(
            &event(
                "22222222-0000-4000-8000-000000000006",
                "BucketOwnerEnforced",
            )?,
            "r1",
        )
        .await?;
    assert_eq!(out[0].outcome, "none");
    // Enabled again: the stranger's read counts, decided on the live ACL.
    let id = "22222222-0000-4000-8000-000000000007";
    let out = guard
        .handle_value(&event(id, "ObjectWriter")?, "r2")
        .await?;
    assert_eq!(out[0].outcome, "alerted", "{out:?}");
    let ev = estate.evidence(id).await?.context("evidence")?;
    assert_eq!(ev["decision"]["verdict"], "violation");
    assert_eq!(
        ev["decision"]["findings"][1]["principal"],
        format!("CanonicalUser:{STRANGER_ID} (READ)")
    );
    assert_eq!(estate.alerts().await?.len(), 1);
    Ok(())
}

// ---- access points ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_access_point_policy_fails_closed_and_another_accounts_access_point_is_alerted(
) -> Result<()> {
    use crossguard_guard::stores::AccessPointPolicies;
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let account = crossguard_emulator_tests::ACCOUNT;
    estate.create_bucket("reports-data").await?;
    let ap = estate
        .create_access_point("reports", "reports-data")
        .await?;
    let public = json!({"Sid": "Open", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": format!("{ap}/object/*")});
    let policy = json!({"Version": "2012-10-17", "Statement": [public]});
    crossguard_guard::aws::s3control_client(&estate.sdk)
        .put_access_point_policy()
        .account_id(account)
        .name("reports")
        .policy(policy.to_string())
        .send()
        .await?;
    let config = crossguard_guard::Config {
        mode: Some(crossguard_engine::Mode::Remediate),
        ..estate.config()
    };
    // moto 5.2.5 answers GetAccessPointPolicy with a root element the SDK refuses: the
    // live policy cannot be read, so nothing is changed, even in remediate mode, and the
    // alert goes out decided on the event's copy.
    let guard =
        crossguard_guard::connect(&estate.sdk, &config, AccessPointPolicies::new(&estate.sdk))
            .await?;
    let id = "22222222-0000-4000-8000-000000000008";
    let mut event = put_acl_event(id, "unused", json!([]))?;
    event["detail"]["eventName"] = json!("PutAccessPointPolicy");
    event["detail"]["requestParameters"] = json!({"name": "reports", "x-amz-account-id": account,
        "PutAccessPointPolicyRequest": {"Policy": policy.to_string()}});
    let out = guard.handle_value(&event, "r1").await?;
    assert_eq!(out[0].outcome, "alerted", "{out:?}");
    let ev = estate.evidence(id).await?.context("evidence")?;
    assert_eq!(ev["decision"]["resource"]["kind"], "access-point");
    assert_eq!(ev["decision"]["action"], "alert");
    let reason = ev["decision"]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("GetAccessPointPolicy failed") && reason.contains("nothing changed"),
        "{reason}"
    );
    assert_eq!(
        ev["decision"]["remediation"]["kind"], "delete_policy",
        "the plan is kept for a person"
    );
    assert_eq!(estate.alerts().await?.len(), 1);

    // Another account's access point on a bucket of this one: the bucket guard alerts;
    // there is nothing here to delete.
    let guard = estate.bucket_guard(&config).await?;
    let id = "22222222-0000-4000-8000-000000000009";
    let mut event = put_acl_event(id, "unused", json!([]))?;
    event["detail"]["eventName"] = json!("CreateAccessPoint");
    event["detail"]["recipientAccountId"] = json!("999999999999");
    event["detail"]["requestParameters"] = json!({"name": "outside-ap", "x-amz-account-id": "999999999999",
        "CreateAccessPointRequest": {"Bucket": "reports-data", "BucketAccountId": account}});
    let out = guard.handle_value(&event, "r2").await?;
    assert_eq!(out[0].outcome, "alerted", "{out:?}");
    let ev = estate.evidence(id).await?.context("evidence")?;
    assert_eq!(ev["decision"]["resource"]["name"], "reports-data");
    assert_eq!(ev["decision"]["findings"][0]["account"], "999999999999");
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0].message.contains("outside-ap"),
        "{}",
        alerts[0].message
    );
    Ok(())
}
