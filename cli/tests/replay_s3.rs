//! `crossguard replay s3://BUCKET/PREFIX` against moto server: an archive of two
//! accounts (one under an organization trail's folder) over several days gives the same
//! rows as the same archive on disk; the filters pass folders over unlisted; a corrupt
//! object, a missing bucket and a bad address are named, the rest read.

// Scenarios read top to bottom, helpers take values as written, sizes are small: the
// workspace's length and cast lints are for the product code.
#![allow(clippy::too_many_lines, clippy::cast_possible_truncation)]

mod common;

use common::archive::{self, generate, scratch, Spec, OTHER, OWNER};
use common::json_lines as lines;
use crossguard_emulator_tests::{Estate, Moto};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_crossguard");

const SPEC: Spec = Spec {
    accounts: 2,
    days: 4,
    files_per_day: 2,
    records_per_file: 120,
    guarded_every: 7,
};

fn replay(moto: &Moto, args: &[&str]) -> Output {
    let allowlist = archive::root().join("examples/allowlist.toml");
    Command::new(BIN)
        .args(["replay", "--as-of", "2026-06-01", "--allowlist"])
        .arg(allowlist)
        .args(args)
        .env_remove("AWS_PROFILE")
        .envs(moto.cli_env())
        .output()
        .unwrap()
}

/// Every file under `dir`, as (key, bytes): the owner's under an organization trail's
/// folder, as an organization trail delivers them.
fn objects(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap().to_string_lossy();
        let key = rel.replace(
            &format!("AWSLogs/{OWNER}/"),
            &format!("AWSLogs/o-exampleorg1/{OWNER}/"),
        );
        out.push((key, std::fs::read(entry.path()).unwrap()));
    }
    out
}

async fn upload(estate: &Estate, bucket: &str, objects: Vec<(String, Vec<u8>)>) {
    estate.create_bucket(bucket).await.unwrap();
    for (key, body) in objects {
        estate
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
}

/// Rows as they would read from any copy of the archive: without where each was read,
/// by event (the organization trail's folder sorts the owner's files after the other
/// account's in S3).
fn unsourced(mut rows: Vec<Value>) -> Vec<Value> {
    for r in &mut rows {
        r.as_object_mut().unwrap().remove("source");
    }
    rows.sort_by_key(|r| r["event"]["id"].as_str().unwrap().to_string());
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_in_s3_replays_as_the_same_archive_on_disk() {
    let moto = Moto::start().unwrap();
    let estate = Estate::bare(moto.sdk().await);
    let dir = scratch("s3-archive");
    let e = generate(&dir, SPEC);
    upload(&estate, "org-trail", objects(&dir)).await;

    let local = replay(&moto, &["--format", "json", dir.to_str().unwrap()]);
    // Three keys a page: the SDK's continuation tokens followed to the end.
    let remote = replay(
        &moto,
        &["--format", "json", "--page-size", "3", "s3://org-trail/"],
    );
    assert_eq!(
        remote.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    assert_eq!(local.status.code(), Some(1));
    let rows = lines(&remote);
    assert_eq!(rows.len() as u64, e.guarded);
    for r in &rows {
        let source = r["source"].as_str().unwrap();
        assert!(source.starts_with("s3://org-trail/AWSLogs/"), "{source}");
    }
    assert_eq!(unsourced(rows), unsourced(lines(&local)));

    // One account, one day: a day's margin either side is read, everything else passed
    // over without being listed (the owner's folder, day 4).
    let filtered = [
        "--account",
        OTHER,
        "--since",
        "2026-01-02",
        "--until",
        "2026-01-02",
    ];
    let out = replay(
        &moto,
        &[&["--format", "json"][..], &filtered, &["s3://org-trail"]].concat(),
    );
    let mut got: Vec<String> = lines(&out)
        .iter()
        .map(|r| r["event"]["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    let mut want: Vec<String> = e
        .events
        .iter()
        .filter(|(_, acct, day, _)| acct == OTHER && *day == 2)
        .map(|(id, ..)| id.clone())
        .collect();
    want.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let text = replay(
        &moto,
        &[&filtered[..], &["s3://org-trail/AWSLogs/"]].concat(),
    );
    let first = String::from_utf8_lossy(&text.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    let read = 3 * SPEC.files_per_day;
    assert!(
        first.starts_with(&format!(
            "read {read} file(s) (0 passed over by path, 2 S3 folder(s) never listed)"
        )),
        "{first}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_in_s3_are_named_and_the_rest_read() {
    let moto = Moto::start().unwrap();
    let estate = Estate::bare(moto.sdk().await);
    let dir = scratch("s3-faults");
    let e = generate(
        &dir,
        Spec {
            accounts: 1,
            days: 1,
            files_per_day: 1,
            ..SPEC
        },
    );
    let folder = format!("AWSLogs/{OWNER}/CloudTrail/eu-west-1/2026/01/01");
    let mut objects = objects(&dir);
    objects.push((
        format!("{folder}/broken.json.gz"),
        b"\x1f\x8bnot gzip".to_vec(),
    ));
    objects.push((format!("{folder}/notes.json"), b"not json".to_vec()));
    // The console's folder marker, and a copy of the good file under a name that
    // ListObjectsV2 URL-encodes (a space, a plus, a percent).
    objects.push(("AWSLogs/".into(), Vec::new()));
    let good = objects
        .iter()
        .find(|(k, _)| {
            k.ends_with(".json.gz") && k.contains("/CloudTrail/") && !k.contains("broken")
        })
        .unwrap()
        .1
        .clone();
    let odd = format!("{folder}/copy of+log 100%.json.gz");
    objects.push((odd.clone(), good));
    upload(&estate, "faulty-trail", objects).await;

    let out = replay(
        &moto,
        &[
            "--format",
            "json",
            "s3://faulty-trail/AWSLogs/",
            "s3://no-such-trail-bucket/AWSLogs/",
            "s3://faulty-trail/AWSLogs/o-typo/",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        lines(&out).len() as u64,
        e.guarded,
        "the good file's rows stand"
    );
    assert!(
        stderr.contains(&format!(
            "skipped s3://faulty-trail/{folder}/broken.json.gz: corrupt or truncated gzip"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "skipped s3://faulty-trail/{folder}/notes.json: not a CloudTrail log file"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "skipped s3://no-such-trail-bucket/AWSLogs/: cannot list: ListObjectsV2 failed: NoSuchBucket"
        ),
        "{stderr}"
    );

    assert!(
        stderr.contains("skipped s3://faulty-trail/AWSLogs/o-typo/: no object under this prefix"),
        "{stderr}"
    );
    // Exactly the four faults: not the folder marker, not the oddly named copy.
    assert_eq!(stderr.matches("crossguard: skipped").count(), 4, "{stderr}");
    assert!(
        !stderr.contains("copy of") && !stderr.contains("faulty-trail/AWSLogs/:"),
        "{stderr}"
    );
    // The copy was read (its events are the good file's again: dropped as duplicates).
    let text = replay(&moto, &["s3://faulty-trail/AWSLogs/"]);
    let first = String::from_utf8_lossy(&text.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(first.starts_with("read 2 file(s)"), "{first}");
    let json = replay(
        &moto,
        &["--format", "json", &format!("s3://faulty-trail/{odd}")],
    );
    let rows = lines(&json);
    assert_eq!(rows.len() as u64, e.guarded);
    assert_eq!(rows[0]["source"], format!("s3://faulty-trail/{odd}"));

    let bad = replay(&moto, &["s3://Not_A_Bucket/x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not an S3 address"));
    assert!(bad.stdout.is_empty());
}
