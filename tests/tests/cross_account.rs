//! Central-account remediation: an event from member account 222222222222 handled by the
//! guard in the security account (moto's 123456789012), which assumes the member's
//! remediation role with the ExternalId and fixes the member's bucket.

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use crossguard_emulator_tests::{load_event, params, retarget, s3_policy, Estate, Moto, ACCOUNT};
use crossguard_engine::Mode;
use crossguard_guard::accounts::{AccountRouter, MemberAccess};
use crossguard_guard::aws::{s3_client, BucketPolicies};
use serde_json::json;

const CENTRAL: &str = "123456789012";
const ROLE: &str = "crossguard-remediation";

/// Credentials in the member account, as its own administrators would have.
async fn member_sdk(moto: &Moto, central: &SdkConfig) -> Result<SdkConfig> {
    let creds = aws_sdk_sts::Client::new(central)
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("admin")
        .send()
        .await?
        .credentials
        .context("credentials")?;
    Ok(moto
        .sdk_as(
            &creds.access_key_id,
            &creds.secret_access_key,
            Some(&creds.session_token),
        )
        .await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_central_guard_fixes_a_member_accounts_bucket_through_its_role() -> Result<()> {
    let moto = Moto::start_multi_account()?;
    let central_sdk = moto.sdk().await;
    let central = Estate::new(central_sdk.clone()).await?;
    let member = member_sdk(&moto, &central_sdk).await?;
    let member_s3 = s3_client(&member);
    let caller = crossguard_guard::own_account(&member).await?;
    assert_eq!(
        caller, ACCOUNT,
        "the member credentials act in the member account"
    );

    let bucket = "build-artifacts";
    member_s3
        .create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    "eu-west-1",
                ))
                .build(),
        )
        .send()
        .await?;
    let keep = json!({"Sid": "Build", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:role/ci-runner"},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")});
    let bad = json!({"Sid": "Outsider", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")});
    let policy = json!({"Version": "2012-10-17", "Statement": [keep.clone(), bad]});
    member_s3
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await?;
    // moto keeps one S3 namespace and checks neither trust policies nor ExternalIds: what
    // this test shows is that the guard routes the member's resource through the assumed
    // role (and refuses without one), not that AWS would refuse a wrong ExternalId.

    let mut event = retarget(
        load_event("examples/events/2-unapproved-account.json")?,
        "cccccccc-0000-4000-8000-000000000001",
        "PlatformAdmin",
    );
    params(&mut event)["bucketName"] = json!(bucket);
    params(&mut event)["bucketPolicy"] = policy.clone();

    let home = crossguard_guard::own_account(&central_sdk).await?;
    assert_eq!(home, CENTRAL);
    let config = crossguard_guard::Config {
        mode: Some(Mode::Remediate),
        ..central.config()
    };
    let router = AccountRouter::new(
        central_sdk.clone(),
        home.clone(),
        Some(MemberAccess {
            role_name: ROLE.into(),
            external_id: Some("example-external-id".into()),
        }),
        |cfg: &SdkConfig| BucketPolicies::new(cfg),
    );
    let guard = crossguard_guard::connect(&central_sdk, &config, router).await?;
    let out = guard.handle_value(&event, "req-c1").await?;
    assert_eq!(out[0].outcome, "remediated", "{out:?}");

    let after = s3_policy(&member_s3, bucket)
        .await?
        .context("policy kept")?;
    assert_eq!(after["Statement"], json!([keep]));
    let alerts = central.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].attributes["account"], ACCOUNT);
    let ev = central
        .evidence("cccccccc-0000-4000-8000-000000000001")
        .await?
        .context("evidence in the central bucket")?;
    assert_eq!(ev["outcome"], "remediated");

    // A guard without member access cannot act there: nothing changes, the alert says why.
    member_s3
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await?;
    let router = AccountRouter::new(central_sdk.clone(), home, None, |cfg: &SdkConfig| {
        BucketPolicies::new(cfg)
    });
    let guard = crossguard_guard::connect(&central_sdk, &config, router).await?;
    let mut event2 = event.clone();
    event2["detail"]["eventID"] = json!("cccccccc-0000-4000-8000-000000000002");
    let out = guard.handle_value(&event2, "req-c2").await?;
    assert_eq!(out[0].outcome, "alerted", "{out:?}");
    assert_eq!(
        s3_policy(&member_s3, bucket).await?,
        Some(crossguard_emulator_tests::parse(&policy.to_string())?)
    );
    let alerts = central.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert!(
        alerts[0].message.contains("MEMBER_ROLE_NAME"),
        "{}",
        alerts[0].message
    );
    Ok(())
}
