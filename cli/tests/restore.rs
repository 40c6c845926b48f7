//! `crossguard restore` and `crossguard allowlist suggest` end to end on moto server: the
//! guard fixes a bucket policy, the restore refuses while the guard would remove the grant
//! again and prints the entry that would approve it, `allowlist suggest` prints the same
//! from the evidence record, and once the allowlist has it the restore puts the grant
//! back, records itself, and the guard decides the restored policy compliant.

#![allow(clippy::too_many_lines)]

use anyhow::Result;
use crossguard_emulator_tests::{Estate, Moto, EVIDENCE_BUCKET};
use serde_json::{json, Value};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_crossguard");

fn crossguard(moto: &Moto, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("AWS_PROFILE")
        .envs(moto.cli_env())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn statement(sid: &str, principal: &str, bucket: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal},
           "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")})
}

/// Every account of the organization the example allowlist approves (`[[org]]`).
fn org_statement(sid: &str, bucket: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
           "Resource": format!("arn:aws:s3:::{bucket}/*"),
           "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}})
}

/// The guard (remediate mode for prod-* in the example allowlist) fixes `policy` on
/// `bucket`; returns the evidence record's S3 URI.
async fn fixed(
    estate: &Estate,
    allowlist: &str,
    bucket: &str,
    policy: &Value,
    id: &str,
) -> Result<String> {
    let event = estate.bucket_policy_put(bucket, policy, id).await?;
    let mut config = estate.config();
    config.allowlist = allowlist.to_string();
    let guard = estate.bucket_guard(&config).await?;
    let out = guard.handle_value(&event, id).await?;
    assert_eq!(out[0].outcome, "remediated", "{out:?}");
    Ok(format!("s3://{EVIDENCE_BUCKET}/evidence/{id}.json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_restore_suggest_and_decide_again() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let dir = std::env::temp_dir().join(format!("crossguard-restore-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let examples = crossguard_emulator_tests::root().join("examples/allowlist.toml");
    let examples = examples.display().to_string();
    let bucket = "prod-data";
    let build = org_statement("Build", bucket);
    let vendor = statement("Vendor", "arn:aws:iam::999999999999:root", bucket);
    let before = json!({"Version": "2012-10-17", "Statement": [build.clone(), vendor.clone()]});
    let record = fixed(&estate, &examples, bucket, &before, "restore-0001").await?;
    let after_fix = estate.bucket_policy(bucket).await?;
    assert_eq!(
        after_fix,
        Some(json!({"Version": "2012-10-17", "Statement": [build.clone()]}))
    );

    // The allowlist does not approve the vendor and prod-* is remediated: refused, with
    // the entry that would approve it, and nothing changed.
    let o = crossguard(&moto, &["restore", "--allowlist", &examples, &record]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(
        shown.contains("+ arn:aws:iam::999999999999:root in statement 1 (\"Vendor\")"),
        "{shown}"
    );
    assert!(
        shown.contains("Not restored") && shown.contains("trusted = \"999999999999\""),
        "{shown}"
    );
    assert_eq!(estate.bucket_policy(bucket).await?, after_fix);

    // `allowlist suggest` from the evidence record prints the same narrow entry.
    let evidence = estate
        .evidence("restore-0001")
        .await?
        .expect("the fix's record");
    let record_file = dir.join("record.json");
    std::fs::write(&record_file, serde_json::to_vec(&evidence)?)?;
    let s = crossguard(
        &moto,
        &["allowlist", "suggest", record_file.to_str().unwrap()],
    );
    assert_eq!(s.status.code(), Some(0), "{}", text(&s));
    let suggestion = String::from_utf8(s.stdout.clone())?;
    let today = crossguard_engine::Date::today();
    let expires = crossguard_engine::Date::from_days(today.days() + 90);
    assert!(suggestion.contains(&format!("[[pairing]]\nowner = \"222222222222\"\ntrusted = \"999999999999\"\nresources = [\"bucket/prod-data\"]\nactions = [\"s3:GetObject\"]\nexpires = {expires}")), "{suggestion}");
    assert!(
        shown.contains(suggestion.trim_start_matches(|c| c != '\n').trim()),
        "restore printed the same entries:\n{shown}\n{suggestion}"
    );

    // Approved, the restore puts exactly the policy before the fix back and records it.
    let approved = dir.join("allowlist.toml");
    std::fs::write(
        &approved,
        format!("{}\n{suggestion}", std::fs::read_to_string(&examples)?),
    )?;
    let approved = approved.display().to_string();
    let dry = crossguard(
        &moto,
        &["restore", "--dry-run", "--allowlist", &approved, &record],
    );
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    assert_eq!(
        estate.bucket_policy(bucket).await?,
        after_fix,
        "a dry run changes nothing"
    );
    let o = crossguard(&moto, &["restore", "--allowlist", &approved, &record]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(estate.bucket_policy(bucket).await?, Some(before.clone()));
    let listed = estate
        .s3
        .list_objects_v2()
        .bucket(EVIDENCE_BUCKET)
        .prefix("evidence/restore/")
        .send()
        .await?;
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(String::from))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let kept = estate
        .evidence_at(&keys[0])
        .await?
        .expect("the restore's record");
    assert_eq!(kept["schema"], "crossguard.restore/1");
    assert_eq!(kept["policy_restored"], before);
    assert_eq!(kept["policy_before_restore"], after_fix.clone().unwrap());
    assert_eq!(kept["decision"]["verdict"], "compliant");
    assert_eq!(
        kept["restored"][0]["principal"],
        "arn:aws:iam::999999999999:root"
    );

    // The guard, on the approving allowlist, decides the restored policy compliant and
    // leaves it.
    let again = estate
        .bucket_policy_put(bucket, &before, "restore-0002")
        .await?;
    let mut config = estate.config();
    config.allowlist = approved.clone();
    let guard = estate.bucket_guard(&config).await?;
    let out = guard.handle_value(&again, "restore-0002").await?;
    assert_eq!(
        estate.evidence("restore-0002").await?.unwrap()["decision"]["verdict"],
        "compliant",
        "{out:?}"
    );
    assert_eq!(estate.bucket_policy(bucket).await?, Some(before.clone()));

    // Fixed again, then changed by hand: refused without --force; forced, the vendor comes
    // back beside the later change, which stays.
    let record = fixed(&estate, &examples, bucket, &before, "restore-0003").await?;
    // A grant no one approved added since the fix: forced, the restore is refused, with
    // an entry for the vendor it puts back and none for the stranger, listed apart.
    let stranger = statement("Stranger", "arn:aws:iam::555555555555:root", bucket);
    let strange = json!({"Version": "2012-10-17", "Statement": [build.clone(), stranger]});
    estate.put_bucket_policy(bucket, &strange).await?;
    let o = crossguard(
        &moto,
        &["restore", "--force", "--allowlist", &examples, &record],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let shown = String::from_utf8_lossy(&o.stdout);
    let (entries, others) = shown
        .split_once("Already in the live policy, not put back by this restore — not suggested (1)")
        .unwrap_or_else(|| panic!("{}", text(&o)));
    assert!(
        entries.contains("trusted = \"999999999999\"") && !entries.contains("555555555555"),
        "{}",
        text(&o)
    );
    assert!(
        others.contains("  - arn:aws:iam::555555555555:root in statement 1 (\"Stranger\")"),
        "{}",
        text(&o)
    );
    assert_eq!(estate.bucket_policy(bucket).await?, Some(strange));
    let later = org_statement("Later", bucket);
    let changed = json!({"Version": "2012-10-17", "Statement": [build.clone(), later.clone()]});
    estate.put_bucket_policy(bucket, &changed).await?;
    let o = crossguard(&moto, &["restore", "--allowlist", &approved, &record]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("changed since the fix"),
        "{}",
        text(&o)
    );
    assert_eq!(estate.bucket_policy(bucket).await?, Some(changed));
    let o = crossguard(
        &moto,
        &["restore", "--force", "--allowlist", &approved, &record],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        estate.bucket_policy(bucket).await?,
        Some(json!({"Version": "2012-10-17", "Statement": [build, later, vendor]}))
    );

    // A record that is not a fix is refused with its reason.
    let o = crossguard(
        &moto,
        &[
            "restore",
            "--allowlist",
            &approved,
            "s3://crossguard-evidence/evidence/restore-0002.json",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not remediated"),
        "{}",
        text(&o)
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
