//! One report over both sources: a guard (the real handler, on moto server) fixes a
//! public bucket and writes its evidence record to S3; the record, downloaded as an
//! auditor would, and the CloudTrail log file holding the same event go through
//! `crossguard replay` together.

use crossguard_emulator_tests::{load_event, params, retarget, Estate, Moto, EVIDENCE_BUCKET};
use serde_json::{json, Value};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_crossguard");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_written_by_a_guard_joins_the_archived_event() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    // prod-* buckets are remediated by the example allowlist's mode_override.
    let bucket = "prod-data";
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Anyone",
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    estate.create_bucket(bucket).await?;
    estate.put_bucket_policy(bucket, &policy).await?;
    let id = "cccccccc-0000-4000-8000-000000000001";
    let mut event = retarget(
        load_event("examples/events/3-public-bucket.json")?,
        id,
        "PlatformAdmin",
    );
    params(&mut event)["bucketName"] = json!(bucket);
    params(&mut event)["bucketPolicy"] = policy;
    let guard = estate.bucket_guard(&estate.config()).await?;
    let handled = guard.handle_value(&event, "req-1").await?;
    assert_eq!(handled[0].outcome, "remediated");

    // The auditor's copy: the evidence bucket's objects, and the trail's log file.
    let dir = crossguard_emulator_tests::root()
        .join(format!("target/replay-tests/evidence-{}", moto.port));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("evidence"))?;
    let s3 = crossguard_guard::aws::s3_client(&moto.sdk().await);
    let listed = s3.list_objects_v2().bucket(EVIDENCE_BUCKET).send().await?;
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    assert_eq!(keys, [format!("evidence/{id}.json")]);
    for key in &keys {
        let body = crossguard_guard::aws::get_object(&s3, EVIDENCE_BUCKET, key)
            .await?
            .unwrap();
        std::fs::write(dir.join(key), body)?;
    }
    let log = json!({"Records": [event["detail"]]});
    std::fs::write(dir.join("trail.json"), log.to_string())?;

    let run = |format: &str| {
        Command::new(BIN)
            .args(["replay", "--format", format, "--allowlist"])
            .arg(crossguard_emulator_tests::root().join("examples/allowlist.toml"))
            .arg(&dir)
            .output()
            .unwrap()
    };
    let json_out = run("json");
    let rows: Vec<Value> = String::from_utf8_lossy(&json_out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "one line per origin");
    let evidence = rows.iter().find(|r| r["origin"] == "evidence").unwrap();
    assert_eq!(evidence["outcome"], "remediated");
    assert_eq!(evidence["event"]["id"], id);
    assert_eq!(evidence["verdict"], "violation");
    let trail = rows.iter().find(|r| r["origin"] == "cloudtrail").unwrap();
    assert_eq!(trail["event"]["id"], id);

    let text = run("text");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("1 grant change(s)"), "{text}");
    assert!(
        text.contains(&format!("bucket/{bucket}")) && text.contains("[remediated]"),
        "{text}"
    );
    Ok(())
}
