//! A guard function's start, behind this crate's own runtime API (`runtime_api`): it asks
//! for its first event without calling AWS, and builds itself (the allowlist from S3) on
//! that event, again on the next one when that failed.

use anyhow::Result;
use crossguard_emulator_tests::runtime_api::Function;
use crossguard_emulator_tests::{built_binary, Estate, Moto, ACCOUNT, EVIDENCE_BUCKET};
use serde_json::{json, Value};

const ARN: &str = "arn:aws:lambda:eu-west-1:222222222222:function:bucket-guard";

#[test]
fn a_cold_start_calls_no_aws_before_the_first_event() -> Result<()> {
    // As the template configures it: the allowlist in S3, the account given.
    let env = [
        ("ALLOWLIST", "s3://crossguard-config/allowlist.toml"),
        (
            "ALERT_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:222222222222:crossguard-alerts",
        ),
        ("EVIDENCE_BUCKET", "crossguard-evidence"),
        ("ACCOUNT_ID", ACCOUNT),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let f = Function::start(&built_binary("bucket-guard")?, &env)?;
    // The poll came; anything the start sent to AWS would have reached the trap first.
    assert!(
        !f.called_aws(),
        "the cold start called AWS before its first event"
    );
    // Without ACCOUNT_ID the account is asked of STS, on the first event, not at start.
    let f = Function::start(&built_binary("bucket-guard")?, &env[..3])?;
    assert!(!f.called_aws(), "STS was called at start");
    Ok(())
}

fn answer_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_is_built_on_the_first_event_and_retried_after_a_failure() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let bucket = "build-artifacts";
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")
    }]});
    let id = "cccccccc-0000-4000-8000-000000000001";
    let event = estate.bucket_policy_put(bucket, &policy, id).await?;
    let event = serde_json::to_vec(&event)?;

    let mut env = moto.function_env(&estate.topic_arn);
    env.retain(|(k, _)| k != "ALLOWLIST");
    env.push((
        "ALLOWLIST".into(),
        format!("s3://{EVIDENCE_BUCKET}/config/allowlist.toml"),
    ));
    let mut f = Function::start(&built_binary("bucket-guard")?, &env)?;

    // No allowlist yet: the event fails as a configuration error, nothing decided or kept.
    let answer = f.invoke("req-1", &event, ARN)?;
    assert!(
        answer.path.ends_with("/error"),
        "{} {}",
        answer.path,
        String::from_utf8_lossy(&answer.body)
    );
    let body = answer_json(&answer.body);
    assert_eq!(body["errorType"], "crossguard.Configuration", "{body}");
    assert!(estate.evidence(id).await?.is_none(), "nothing recorded");
    assert!(estate.alerts().await?.is_empty());

    // The allowlist put in place: the same running function builds itself and decides.
    estate
        .s3
        .put_object()
        .bucket(EVIDENCE_BUCKET)
        .key("config/allowlist.toml")
        .body(
            std::fs::read(crossguard_emulator_tests::root().join("examples/allowlist.toml"))?
                .into(),
        )
        .send()
        .await?;
    let answer = f.invoke("req-2", &event, ARN)?;
    assert!(
        answer.path.ends_with("/response"),
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let body = answer_json(&answer.body);
    assert_eq!(body[0]["event_id"], id, "{body}");
    assert_eq!(body[0]["verdict"], "violation", "{body}");
    assert!(estate.evidence(id).await?.is_some());
    assert_eq!(estate.alerts().await?.len(), 1);
    Ok(())
}
