//! A duplicate JSON key is decided the same way by `event` and `replay` (SPEC §1): an
//! `error` ("could not be checked") for a guarded record, with the key's path, never a
//! silent last-wins reading, and never dropped by replay's quick filter.

mod common;

use common::archive::{root, scratch};
use common::{json_lines, run};
use serde_json::Value;

const OWNER: &str = "222222222222";

fn record(id: &str, extra: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"{id}","eventTime":"2026-11-01T10:00:00Z","eventName":"PutBucketPolicy","eventSource":"s3.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"{OWNER}",{extra}"requestParameters":{{"bucketName":"prod-x","bucketPolicy":{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}]}}}}}}"#
    )
}

fn verdicts(out: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = out
        .iter()
        .map(|d| {
            (
                d["event"]["id"].as_str().unwrap_or("").to_string(),
                d["verdict"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn event_and_replay_decide_duplicate_keys_alike() {
    let allowlist = root().join("examples/allowlist.toml");
    let allowlist = allowlist.to_str().unwrap();
    let log = format!(
        r#"{{"Records":[{},{},{},{}]}}"#,
        record("plain", ""),
        // A second eventName: which call this is cannot be told.
        record("renamed", r#""eventName":"GetObject","#),
        // A second Effect inside the policy: a last-wins reader sees a Deny.
        record("effect", "").replace(
            r#""Effect":"Allow","#,
            r#""Effect":"Allow","Effect":"Deny","#
        ),
        record("errcode", r#""errorCode":"AccessDenied","errorCode":"x","#),
    );
    let dir = scratch("duplicates");
    let file = dir.join("log.json");
    std::fs::write(&file, &log).unwrap();
    let file = file.to_str().unwrap();

    let event = run(
        &["event", "--allowlist", allowlist, "--format", "json", file],
        None,
    );
    let replay = run(
        &["replay", "--allowlist", allowlist, "--format", "json", file],
        None,
    );
    let (e, r) = (json_lines(&event), json_lines(&replay));
    let want: Vec<(String, String)> = [
        ("effect", "error"),
        ("errcode", "error"),
        ("plain", "violation"),
        ("renamed", "error"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(
        verdicts(&e),
        want,
        "event: {}",
        String::from_utf8_lossy(&event.stdout)
    );
    assert_eq!(
        verdicts(&r),
        want,
        "replay: {}",
        String::from_utf8_lossy(&replay.stdout)
    );
    for d in e.iter().chain(&r).filter(|d| d["verdict"] == "error") {
        let reason = d["reason"].as_str().unwrap_or("");
        assert!(reason.contains("duplicate JSON key"), "{reason}");
    }
    let effect = e.iter().find(|d| d["event"]["id"] == "effect").unwrap();
    assert!(
        effect["reason"]
            .as_str()
            .unwrap_or("")
            .contains("Records[2].requestParameters.bucketPolicy.Statement[0].Effect"),
        "{}",
        effect["reason"]
    );
    assert_eq!(event.status.code(), Some(2));
    assert_eq!(replay.status.code(), Some(2));

    // "Records" twice hides the first list from a last-wins reader: refused whole.
    let hidden = format!(r#"{{"Records":[{}],"Records":[]}}"#, record("hidden", ""));
    std::fs::write(dir.join("log.json"), hidden).unwrap();
    let event = run(&["event", "--allowlist", allowlist, file], None);
    assert_eq!(event.status.code(), Some(2));
    let text = String::from_utf8_lossy(&event.stdout).to_string()
        + &String::from_utf8_lossy(&event.stderr);
    assert!(text.contains("duplicate JSON key Records"), "{text}");
}
