//! `crossguard replay` over generated archives: exact counts, corrupt files named and
//! skipped, filters, stdin, evidence records merged with the events they record, and the
//! same output whatever the number of workers.

// Scenarios read top to bottom, helpers take values as written, sizes are small: the
// workspace's length and cast lints are for the product code.
#![allow(
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]

mod common;
#[path = "../../shared/tests/support/ocsf_schema.rs"]
mod ocsf_schema;

use common::archive::{self, generate, scratch, Spec, OTHER, OWNER};
use common::{json_lines as lines, run};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_crossguard");
/// Records in fixtures/cloudtrail, and how many are calls the registry guards (the side
/// doors among them: three PutBucketAcl, three CreateBucket, two PutBucketPublicAccessBlock;
/// one PutAccessPointPolicy).
const FIXTURES: usize = 53;
const GUARDED: usize = 45;

fn allowlist() -> String {
    archive::root()
        .join("examples/allowlist.toml")
        .to_string_lossy()
        .into_owned()
}

fn replay(args: &[&str], paths: &[&Path], stdin: Option<&[u8]>) -> Output {
    let al = allowlist();
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut argv = vec!["replay", "--allowlist", &al, "--as-of", "2026-06-01"];
    argv.extend(args);
    argv.extend(paths.iter().map(String::as_str));
    run(&argv, stdin)
}

fn verdicts(rows: &[Value]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r["verdict"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    m
}

const SMALL: Spec = Spec {
    accounts: 2,
    days: 3,
    files_per_day: 2,
    records_per_file: 150,
    guarded_every: 9,
};

/// One account, one day, one file.
const ONE_FILE: Spec = Spec {
    accounts: 1,
    days: 1,
    files_per_day: 1,
    ..SMALL
};

#[test]
fn a_mixed_archive_gives_exact_counts_and_names_every_corrupt_file() {
    let dir = scratch("mixed");
    let e = generate(&dir, SMALL);
    // Corrupt inputs among the logs, as a damaged copy of an archive would have them.
    let day = dir.join(format!("AWSLogs/{OWNER}/CloudTrail/eu-west-1/2026/01/02"));
    let good = std::fs::read(&e.paths[0]).unwrap();
    std::fs::write(day.join("truncated.json.gz"), &good[..good.len() / 2]).unwrap();
    std::fs::write(day.join("garbage.json"), b"{\"Records\": [{\"eventName\": ").unwrap();
    std::fs::write(day.join("empty.json"), b"").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"this is not json").unwrap();
    std::fs::write(day.join("not-json.json.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(day.join("notes.txt"), b"not a log file, not read").unwrap();

    let json = replay(&["--format", "json"], &[&dir], None);
    assert_eq!(
        json.status.code(),
        Some(2),
        "skipped files make the run fail"
    );
    let rows = lines(&json);
    assert_eq!(rows.len() as u64, e.guarded);
    let v = verdicts(&rows);
    assert_eq!(v.get("violation").copied().unwrap_or(0), e.violation);
    assert_eq!(v.get("compliant").copied().unwrap_or(0), e.compliant);
    assert_eq!(v.get("ignored").copied().unwrap_or(0), e.ignored);
    assert!(rows.iter().all(|r| r["origin"] == "cloudtrail"));
    let stderr = String::from_utf8_lossy(&json.stderr);
    for bad in [
        "truncated.json.gz",
        "garbage.json",
        "empty.json",
        "not-json.json.gz",
    ] {
        assert!(stderr.contains(bad), "{bad} not reported: {stderr}");
    }
    // One line per skipped file, then the reason for the exit status.
    assert_eq!(stderr.lines().count(), 5, "{stderr}");
    assert!(stderr
        .lines()
        .last()
        .is_some_and(|l| l.contains("4 input(s) skipped")));
    assert!(
        stderr.contains("truncated.json.gz: corrupt or truncated gzip"),
        "{stderr}"
    );

    let text = replay(&[], &[&dir], None);
    let out = String::from_utf8_lossy(&text.stdout);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "read {} file(s) (0 passed over by path), {} CloudTrail record(s): {} grant change(s), {} irrelevant, 0 outside the filters, 0 duplicate(s)",
            e.files,
            e.records,
            e.guarded,
            e.records - e.guarded
        )
    );
    assert!(out.contains(&format!(
        "verdicts: violation {}, error 0, compliant {}, ignored {}",
        e.violation, e.compliant, e.ignored
    )));
    assert!(out.contains("skipped (4):"), "{out}");
    // The build account's approved grants: the approved share, and the unapproved-account
    // event's first principal (its statement also lets in 999999999999).
    let approved_build = rows
        .iter()
        .filter(|r| r["resource"]["account"] == OWNER)
        .filter(|r| {
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["account"] == "111111111111" && f["approved"] == true)
        })
        .count();
    assert!(approved_build as u64 > e.compliant);
    assert!(
        out.contains(&format!(
            "{OWNER} -> 111111111111: {approved_build} / 0 / 0"
        )),
        "{out}"
    );

    let csv = replay(&["--format", "csv"], &[&dir], None);
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert_eq!(csv.lines().count() as u64, e.guarded + 1);
    assert!(csv.starts_with("origin,source,event_id,time,"));
    let violations = csv.lines().filter(|l| l.contains(",violation,")).count() as u64;
    assert_eq!(violations, e.violation);
}

#[test]
fn filters_by_account_and_time_and_passes_over_other_folders() {
    let dir = scratch("filters");
    let e = generate(&dir, SMALL);
    let want: Vec<_> = e
        .events
        .iter()
        .filter(|(_, acct, day, _)| acct == OTHER && *day == 2)
        .collect();
    assert!(!want.is_empty());
    let out = replay(
        &[
            "--format",
            "json",
            "--account",
            OTHER,
            "--since",
            "2026-01-02",
            "--until",
            "2026-01-02",
        ],
        &[&dir],
        None,
    );
    let rows = lines(&out);
    let mut got: Vec<&str> = rows
        .iter()
        .map(|r| r["event"]["id"].as_str().unwrap())
        .collect();
    got.sort();
    let mut ids: Vec<&str> = want.iter().map(|(id, ..)| id.as_str()).collect();
    ids.sort();
    assert_eq!(got, ids);
    assert_eq!(out.status.code(), Some(1), "violations in the range");

    // The owner's folders are passed over unread; the other account's days 1-3 are read
    // (a day's margin around the range).
    let text = replay(
        &["--account", OTHER, "--since", "2026-01-02T00:00:00Z"],
        &[&dir],
        None,
    );
    let first = String::from_utf8_lossy(&text.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    let per_account = u64::from(SMALL.days * SMALL.files_per_day);
    assert!(
        first.starts_with(&format!(
            "read {per_account} file(s) ({per_account} passed over by path)"
        )),
        "{first}"
    );

    let bad = replay(&["--since", "last week"], &[&dir], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a date"));
}

#[test]
fn stdin_takes_a_stream_of_gzipped_log_files() {
    let dir = scratch("stdin");
    let e = generate(
        &dir,
        Spec {
            accounts: 1,
            days: 1,
            ..SMALL
        },
    );
    // `cat *.json.gz | crossguard replay -`: concatenated gzip members.
    let mut all = Vec::new();
    for p in &e.paths {
        all.extend(std::fs::read(p).unwrap());
    }
    let out = replay(&["--format", "json"], &[Path::new("-")], Some(&all));
    assert_eq!(lines(&out).len() as u64, e.guarded);
    assert_eq!(out.status.code(), Some(1));

    // A damaged stream: what came before the damage is kept, the damage is named.
    let mut plain = Vec::new();
    for p in &e.paths {
        let gz = std::fs::read(p).unwrap();
        let mut d = flate2::read::MultiGzDecoder::new(&gz[..]);
        std::io::Read::read_to_end(&mut d, &mut plain).unwrap();
    }
    let first_file_guarded = e.guarded / e.files;
    let cut = plain.len() / e.files as usize + 10;
    let out = replay(
        &["--format", "json"],
        &[Path::new("-")],
        Some(&plain[..cut]),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(lines(&out).len() as u64 >= first_file_guarded);
    assert!(String::from_utf8_lossy(&out.stderr).contains("stdin (document 2)"));
}

#[test]
fn evidence_records_join_the_events_they_record() {
    let dir = scratch("evidence");
    let e = generate(&dir, ONE_FILE);
    // The guard's records for two of the archive's violations, as the Lambda writes them.
    let json = lines(&replay(&["--format", "json"], &[&dir], None));
    let violations: Vec<&Value> = json
        .iter()
        .filter(|r| r["verdict"] == "violation")
        .take(2)
        .collect();
    assert_eq!(violations.len(), 2);
    let ev_dir = dir.join("evidence");
    std::fs::create_dir_all(&ev_dir).unwrap();
    for v in &violations {
        let id = v["event"]["id"].as_str().unwrap();
        let mut decision = (*v).clone();
        decision.as_object_mut().unwrap().remove("origin");
        decision.as_object_mut().unwrap().remove("source");
        let record = json!({"schema": "crossguard.evidence/1", "event_id": id,
            "recorded_at": "2026-01-01T00:00:05Z", "policy_before": null,
            "decision": decision, "outcome": "remediated"});
        std::fs::write(ev_dir.join(format!("{id}.json")), record.to_string()).unwrap();
    }
    // A claim whose handler never finished.
    std::fs::write(
        ev_dir.join("claim.json"),
        json!({"schema": "crossguard.claim/1", "event_id": "x"}).to_string(),
    )
    .unwrap();

    let both = lines(&replay(&["--format", "json"], &[&dir], None));
    assert_eq!(both.len() as u64, e.guarded + 2);
    assert_eq!(both.iter().filter(|r| r["origin"] == "evidence").count(), 2);
    assert!(both
        .iter()
        .filter(|r| r["origin"] == "evidence")
        .all(|r| r["outcome"] == "remediated"));

    // One report: the same events, counted once, with what the guard did.
    let text = replay(&[], &[&dir], None);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.contains(&format!("{} grant change(s)", e.guarded)),
        "{out}"
    );
    assert_eq!(out.matches("[remediated]").count(), 2, "{out}");
    assert!(out.contains("1 guard claim record(s) without a finished decision"));

    // Only the evidence: still a report.
    let only = lines(&replay(&["--format", "json"], &[&ev_dir], None));
    assert_eq!(only.len(), 2);

    // As OCSF: one conforming Detection Finding per decision, in the JSON lines' order,
    // the remediated ones resolved.
    let ocsf = replay(&["--format", "ocsf"], &[&dir], None);
    assert_eq!(
        ocsf.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&ocsf.stderr)
    );
    let findings = lines(&ocsf);
    assert_eq!(findings.len(), both.len());
    for (f, d) in findings.iter().zip(&both) {
        let faults = ocsf_schema::faults(f);
        assert!(faults.is_empty(), "{faults:?}\n{f:#}");
        assert_eq!(f["message"], d["reason"]);
        assert_eq!(f["unmapped"]["crossguard"]["verdict"], d["verdict"]);
        assert_eq!(
            f["time"].as_i64(),
            crossguard_engine::ocsf::millis(d["event"]["time"].as_str().unwrap())
        );
        assert_eq!(f["cloud"]["account"]["uid"], d["resource"]["account"]);
        let resolved = d["outcome"] == "remediated" || d["verdict"] == "compliant";
        assert_eq!(f["status_id"] == 4, resolved, "{f:#}");
    }
    assert_eq!(
        findings
            .iter()
            .filter(|f| f["status"] == "Resolved"
                && f["unmapped"]["crossguard"]["outcome"] == "remediated")
            .count(),
        2
    );
}

#[test]
fn output_is_the_same_whatever_the_number_of_workers() {
    let dir = scratch("jobs");
    generate(&dir, SMALL);
    let one = replay(&["--format", "json", "--jobs", "1"], &[&dir], None);
    let four = replay(&["--format", "json", "--jobs", "4"], &[&dir], None);
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, four.stdout);
}

#[test]
fn the_same_event_delivered_twice_is_reported_once() {
    let dir = scratch("dupes");
    let e = generate(&dir, ONE_FILE);
    std::fs::copy(&e.paths[0], dir.join("copy.json.gz")).unwrap();
    let out = replay(&["--format", "json"], &[&dir], None);
    assert_eq!(lines(&out).len() as u64, e.guarded);
    let text = replay(&[], &[&dir], None);
    assert!(String::from_utf8_lossy(&text.stdout).contains(&format!("{} duplicate(s)", e.guarded)));
}

#[test]
fn real_records_in_one_log_file_decide_as_crossguard_event_decides_them() {
    // Every record of fixtures/cloudtrail (real CloudTrail from public sources), as one
    // gzipped log file among the generated ones.
    let dir = scratch("fixtures");
    let e = generate(&dir, ONE_FILE);
    let mut records = Vec::new();
    let mut singles = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(archive::root().join("fixtures/cloudtrail"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    for p in &paths {
        let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        match v.get("Records").and_then(Value::as_array) {
            Some(rs) => records.extend(rs.iter().cloned()),
            None => records.push(v.get("detail").cloned().unwrap_or(v)),
        }
    }
    // What `crossguard event` decides for each record alone: the oracle.
    for (n, r) in records.iter().enumerate() {
        let file = dir.join(format!("single-{n}.json"));
        std::fs::write(&file, r.to_string()).unwrap();
        singles.push(file);
    }
    let mut expected: Vec<(String, String)> = Vec::new();
    for f in &singles {
        let out = Command::new(BIN)
            .args([
                "event",
                "--format",
                "json",
                "--as-of",
                "2026-06-01",
                "--allowlist",
                &allowlist(),
            ])
            .arg(f)
            .output()
            .unwrap();
        let d: Value = serde_json::from_slice(&out.stdout).unwrap();
        let name = d["event"]["name"].as_str().unwrap_or("").to_string();
        let source = d["event"]["source"].as_str().unwrap_or("").to_string();
        let guarded = crossguard_engine::kinds::event(&source, &name).is_some();
        if guarded {
            expected.push((name, d["verdict"].as_str().unwrap().to_string()));
        }
        std::fs::remove_file(f).unwrap();
    }
    assert_eq!(records.len(), FIXTURES);
    assert_eq!(expected.len(), GUARDED, "the fixtures' guarded calls");

    let day = e.paths[0].parent().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(json!({"Records": records}).to_string().as_bytes())
        .unwrap();
    std::fs::write(day.join("zz-fixtures.json.gz"), gz.finish().unwrap()).unwrap();

    let out = replay(&["--format", "json"], &[&dir], None);
    let rows = lines(&out);
    let from_fixtures: Vec<(String, String)> = rows
        .iter()
        .filter(|r| {
            r["source"]
                .as_str()
                .unwrap()
                .ends_with("zz-fixtures.json.gz")
        })
        .map(|r| {
            (
                r["event"]["name"].as_str().unwrap().to_string(),
                r["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(from_fixtures, expected);
    assert_eq!(rows.len() as u64, e.guarded + GUARDED as u64);
    let text = replay(&[], &[&dir], None);
    let first = String::from_utf8_lossy(&text.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(
        first.contains(&format!(
            "{} CloudTrail record(s)",
            e.records + FIXTURES as u64
        )),
        "{first}"
    );
}

/// A record of the call `name` from `source` (each any JSON value) with `params`.
fn named_call(name: Value, source: Value, params: Value) -> Value {
    json!({"eventVersion": "1.09", "eventID": format!("e-{name}-{source}"), "eventTime": "2026-01-05T10:00:00Z",
        "eventSource": source, "eventName": name, "awsRegion": "eu-west-1",
        "recipientAccountId": OWNER, "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{OWNER}:user/alice"), "accountId": OWNER},
        "requestParameters": params})
}

/// `log` (a log file's text) gzipped in `dir`, replayed: each row's verdict, and stderr.
fn verdicts_of_log(dir: &Path, log: &str) -> (Vec<String>, String) {
    let file = dir.join("log.json.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(log.as_bytes()).unwrap();
    std::fs::write(&file, gz.finish().unwrap()).unwrap();
    let out = replay(&["--format", "json"], &[&file], None);
    let verdicts = lines(&out)
        .iter()
        .map(|r| r["verdict"].as_str().unwrap().to_string())
        .collect();
    (verdicts, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A record whose `eventName` or `eventSource` is there but not a string cannot be told
/// apart from a guarded call: decided `error`, as `crossguard event` decides it, even when
/// its text names no guarded call (the name search passed over it); `null` reads as
/// absent (irrelevant), and a record that is not an object names no call.
#[test]
fn a_call_named_by_no_string_is_an_error_not_irrelevant() {
    let dir = scratch("call-no-string");
    let record = |name: Value, source: Value| named_call(name, source, json!({"bucketName": "b"}));
    let s3 = json!("s3.amazonaws.com");
    let records = json!({"Records": [
        record(json!(1), s3.clone()),
        record(json!({"op": "x"}), s3.clone()),
        record(json!(["GetObject"]), s3.clone()),
        record(json!(true), Value::Null),
        record(json!("GetObject"), json!(7)),
        record(Value::Null, s3.clone()),
        record(json!("GetObject"), s3.clone()),
        7,
        "x",
    ]});
    let (verdicts, stderr) = verdicts_of_log(&dir, &records.to_string());
    assert_eq!(verdicts, ["error"; 5], "{stderr}");
    // A guarded name written with an escape is that call, decided as `crossguard event`
    // decides it.
    let public = json!({"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}});
    let escaped = json!({"Records": [named_call(json!("PutBucketPolicy"), json!("s3.amazonaws.com"), public)]})
        .to_string()
        .replace("\"eventName\":\"PutBucketPolicy\"", "\"eventName\":\"PutBucket\\u0050olicy\"");
    assert!(escaped.contains("\\u0050"), "{escaped}");
    let (verdicts, stderr) = verdicts_of_log(&dir, &escaped);
    assert_eq!(verdicts, ["violation"], "{stderr}");
    // As `crossguard event` decides each of them.
    for r in records["Records"].as_array().unwrap().iter().take(5) {
        assert!(
            matches!(
                crossguard_engine::event::parse_record(r),
                crossguard_engine::event::ParsedEvent::Invalid { .. }
            ),
            "{r}"
        );
    }
}

/// A record that may be a guarded call spelled otherwise (another case, padded) or
/// without its source is decided, as `crossguard event` decides it (`error`), not
/// counted as irrelevant; another service's call of the same name stays irrelevant.
#[test]
fn a_guarded_call_spelled_otherwise_is_an_error_not_irrelevant() {
    let dir = scratch("spelled-otherwise");
    let params = json!({"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}});
    let record = |name: Value, source: Value| named_call(name, source, params.clone());
    let s3 = json!("s3.amazonaws.com");
    let records = json!({"Records": [
        record(json!("PutBucketPolicy"), s3.clone()),
        // Its source a list: the fast delimiter leaves the record to the name search.
        record(json!("PUTBUCKETPOLICY"), json!(["s3.amazonaws.com"])),
        record(json!("putBucketPolicy"), s3.clone()),
        record(json!(" PutBucketPolicy"), s3.clone()),
        record(json!("PutBucketPolicy"), json!("S3.amazonaws.com")),
        record(json!("PutBucketPolicy"), Value::Null),
        record(json!("PutBucketPolicy"), json!("s3-outposts.amazonaws.com")),
    ]});
    let (verdicts, stderr) = verdicts_of_log(&dir, &records.to_string());
    assert_eq!(
        verdicts,
        ["violation", "error", "error", "error", "error", "error"],
        "{stderr}"
    );
}
