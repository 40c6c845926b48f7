//! A generated CloudTrail archive laid out as AWS writes it
//! (`AWSLogs/ACCT/CloudTrail/REGION/YYYY/MM/DD/…json.gz`): the guarded calls are the
//! example events' real shapes (examples/events), among other calls padded to real
//! record sizes. Deterministic, with the exact counts a replay must find.

// Scenarios read top to bottom, helpers take values as written, sizes are small: the
// workspace's length and cast lints are for the product code.
#![allow(
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]
#![allow(dead_code)]

use flate2::write::GzEncoder;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const OWNER: &str = "222222222222";
/// A second account no pairing covers: every grant it makes is unapproved.
pub const OTHER: &str = "444444444444";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The example events' records, with each one's verdict for the owner account and for
/// [`OTHER`] (examples/allowlist.toml, as of 2026-06-01).
fn templates() -> Vec<(Value, &'static str, &'static str)> {
    let verdicts = [
        ("1-approved-share", "compliant", "violation"),
        ("2-unapproved-account", "violation", "violation"),
        ("3-public-bucket", "violation", "violation"),
        ("4-role-trust-no-external-id", "violation", "violation"),
        ("5-key-policy-outside", "violation", "violation"),
        ("6-guard-own-fix", "ignored", "ignored"),
        ("7-failed-call", "ignored", "ignored"),
    ];
    verdicts
        .iter()
        .map(|(name, owner, other)| {
            let path = root().join(format!("examples/events/{name}.json"));
            let event: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            (event["detail"].clone(), *owner, *other)
        })
        .collect()
}

/// A call no guard handles, near a real record's size; every third one names a guarded
/// call somewhere in its text, so the quick text search alone cannot decide it.
fn noise(n: u64, account: &str, time: &str) -> Value {
    let names = [
        "GetObject",
        "AssumeRole",
        "DescribeInstances",
        "GetBucketPolicy",
        "ListRoles",
        "Decrypt",
    ];
    let name = names[(n % names.len() as u64) as usize];
    let mention = if n % 3 == 0 {
        "PutBucketPolicy CreateRole PutKeyPolicy"
    } else {
        ""
    };
    json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": format!("AROAEXAMPLE{n}:worker"),
            "arn": format!("arn:aws:sts::{account}:assumed-role/app/worker-{}", n % 17),
            "accountId": account, "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                "arn": format!("arn:aws:iam::{account}:role/app"), "accountId": account, "userName": "app"},
                "attributes": {"creationDate": time, "mfaAuthenticated": "false"}}},
        "eventTime": time, "eventSource": "sts.amazonaws.com", "eventName": name,
        "awsRegion": "eu-west-1", "sourceIPAddress": "10.0.0.1",
        "userAgent": format!("aws-sdk-java/2.20.{} Linux/5.10 OpenJDK_64-Bit_Server_VM {mention}", n % 97),
        "requestParameters": {"roleArn": format!("arn:aws:iam::{account}:role/app"),
            "roleSessionName": format!("session-{n}"), "durationSeconds": 3600,
            "tags": (0..6).map(|i| json!({"key": format!("k{i}"), "value": format!("value-{n}-{i}")})).collect::<Vec<_>>()},
        "responseElements": {"credentials": {"accessKeyId": "ASIAEXAMPLE", "expiration": time,
            "sessionToken": "x".repeat(120)}},
        "requestID": format!("req-{n}"), "eventID": format!("noise-{n:016}"),
        "readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": account, "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "sts.eu-west-1.amazonaws.com"}
    })
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub accounts: usize,
    pub days: u32,
    pub files_per_day: u32,
    pub records_per_file: u64,
    /// One record in this many is a guarded call.
    pub guarded_every: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    pub files: u64,
    pub records: u64,
    pub guarded: u64,
    pub violation: u64,
    pub compliant: u64,
    pub ignored: u64,
    pub uncompressed_bytes: u64,
    pub paths: Vec<PathBuf>,
    /// event id → (account, day, verdict) of every guarded record.
    pub events: Vec<(String, String, u32, String)>,
}

pub fn generate(dir: &Path, spec: Spec) -> Expect {
    let templates = templates();
    let accounts = [OWNER, OTHER];
    let mut e = Expect::default();
    let mut n: u64 = 0;
    let mut t = 0usize;
    for account in accounts.iter().take(spec.accounts) {
        for day in 1..=spec.days {
            let folder = dir.join(format!(
                "AWSLogs/{account}/CloudTrail/eu-west-1/2026/01/{day:02}"
            ));
            std::fs::create_dir_all(&folder).unwrap();
            for f in 0..spec.files_per_day {
                let path = folder.join(format!(
                    "{account}_CloudTrail_eu-west-1_202601{day:02}T{:02}00Z_{f:04}.json.gz",
                    f % 24
                ));
                // Each record written as it is made, straight into the gzip file: the dense
                // file's 400,000 records held as values took gigabytes, and a process the
                // bench spawns afterwards has its peak RSS counted from the bench's own.
                let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
                let mut gz = GzEncoder::new(file, flate2::Compression::fast());
                let mut written: u64 = 0;
                let mut put = |bytes: &[u8]| {
                    written += bytes.len() as u64;
                    gz.write_all(bytes).unwrap();
                };
                put(b"{\"Records\":[");
                for i in 0..spec.records_per_file {
                    if i > 0 {
                        put(b",");
                    }
                    n += 1;
                    let secs = n % 86_400;
                    let time = format!(
                        "2026-01-{day:02}T{:02}:{:02}:{:02}Z",
                        secs / 3600,
                        secs / 60 % 60,
                        secs % 60
                    );
                    if n % spec.guarded_every == 0 {
                        let (tpl, v_owner, v_other) = &templates[t % templates.len()];
                        t += 1;
                        let mut text = serde_json::to_string(tpl).unwrap();
                        if *account != OWNER {
                            text = text.replace(OWNER, account);
                        }
                        let mut r: Value = serde_json::from_str(&text).unwrap();
                        let id = format!("00000000-0000-4000-8000-{n:012}");
                        r["eventID"] = json!(id);
                        r["eventTime"] = json!(time);
                        let verdict = if *account == OWNER {
                            *v_owner
                        } else {
                            *v_other
                        };
                        match verdict {
                            "violation" => e.violation += 1,
                            "compliant" => e.compliant += 1,
                            _ => e.ignored += 1,
                        }
                        e.guarded += 1;
                        e.events
                            .push((id, account.to_string(), day, verdict.to_string()));
                        put(&serde_json::to_vec(&r).unwrap());
                    } else {
                        put(&serde_json::to_vec(&noise(n, account, &time)).unwrap());
                    }
                }
                put(b"]}");
                e.records += spec.records_per_file;
                e.uncompressed_bytes += written;
                gz.finish().unwrap().flush().unwrap();
                e.files += 1;
                e.paths.push(path);
            }
        }
        // CloudTrail's digest files sit beside the logs: not events, never read.
        let digest = dir.join(format!(
            "AWSLogs/{account}/CloudTrail-Digest/eu-west-1/2026/01/01"
        ));
        std::fs::create_dir_all(&digest).unwrap();
        std::fs::write(digest.join("digest.json.gz"), b"not a log file").unwrap();
    }
    e
}

/// A fresh directory under target/ for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = root().join("target").join("replay-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
