//! The `crossguard` binary as a user runs it: exit codes, JSON output, stdin, gzip,
//! allowlist errors with file:line.

mod common;

use common::{json_lines, run};
use serde_json::Value;
use std::io::Write;
use std::process::Output;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ex(path: &str) -> String {
    root()
        .join("examples")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn check(resource: &str, policies: &[&str]) -> Output {
    check_with(&["--format", "json"], resource, policies)
}

/// `check` against the example allowlist with `flags` added.
fn check_with(flags: &[&str], resource: &str, policies: &[&str]) -> Output {
    let al = ex("allowlist.toml");
    let mut args = vec![
        "check",
        "--allowlist",
        &al,
        "--owner",
        "222222222222",
        "--resource",
        resource,
        "--as-of",
        "2026-11-22",
    ];
    args.extend_from_slice(flags);
    args.extend_from_slice(policies);
    run(&args, None)
}

#[test]
fn check_exit_codes_and_json_shape() {
    let ok = check(
        "bucket/build-artifacts",
        &[&ex("policies/approved-share.json")],
    );
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let d = &json_lines(&ok)[0];
    assert_eq!(d["verdict"], "compliant");
    assert_eq!(d["resource"]["kind"], "bucket");
    assert_eq!(d["resource"]["arn"], "arn:aws:s3:::build-artifacts");
    assert_eq!(d["resource"]["account"], "222222222222");
    let f = &d["findings"][0];
    for key in [
        "statement",
        "sid",
        "principal",
        "account",
        "actions",
        "approved",
        "approved_by",
        "warning",
        "reason",
    ] {
        assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
    }
    assert_eq!(f["approved_by"], "pairing #1 (SEC-1234)");
    assert_eq!(d["action"], "none");

    let bad = check(
        "bucket/build-artifacts",
        &[&ex("policies/unapproved-account.json")],
    );
    assert_eq!(bad.status.code(), Some(1));
    let d = &json_lines(&bad)[0];
    assert_eq!(d["verdict"], "violation");
    assert_eq!(d["action"], "alert");
    assert_eq!(d["remediation"]["kind"], "put_policy");
    assert_eq!(d["remediation"]["removed"][0]["account"], "999999999999");
}

#[test]
fn check_many_files_one_decision_each_and_worst_exit_wins() {
    let o = check(
        "bucket/build-artifacts",
        &[
            &ex("policies/approved-share.json"),
            &ex("policies/unapproved-account.json"),
        ],
    );
    let ds = json_lines(&o);
    assert_eq!(ds.len(), 2);
    assert_eq!(
        (ds[0]["verdict"].as_str(), ds[1]["verdict"].as_str()),
        (Some("compliant"), Some("violation"))
    );
    assert!(ds[0]["source"]
        .as_str()
        .unwrap()
        .ends_with("approved-share.json"));
    assert_eq!(o.status.code(), Some(1));
    let o = check(
        "bucket/www-example-com",
        &[&ex("policies/website.json"), "/nonexistent/policy.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("/nonexistent/policy.json") && err.contains("cannot open"),
        "{err}"
    );
    assert_eq!(json_lines(&o)[1]["verdict"], "error");
}

/// Files decided on several cores come out in the order given, each with its own
/// decision, exactly as one worker prints them (text and JSON), errors included.
#[test]
fn check_on_several_workers_prints_what_one_prints_in_order() {
    let files = [
        ex("policies/approved-share.json"),
        ex("policies/unapproved-account.json"),
        "/nonexistent/policy.json".to_string(),
        ex("policies/website.json"),
    ];
    // Enough files for many batches, in an order that shows any mix-up.
    let many: Vec<&str> = (0..700)
        .map(|i| files[(i * 7 + i / 3) % 4].as_str())
        .collect();
    for format in ["json", "text"] {
        let run_with = |jobs: &str| {
            check_with(
                &["--format", format, "--jobs", jobs],
                "bucket/build-artifacts",
                &many,
            )
        };
        let (one, four) = (run_with("1"), run_with("4"));
        assert_eq!(one.status.code(), Some(2));
        assert_eq!(four.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&one.stdout),
            String::from_utf8_lossy(&four.stdout)
        );
        assert_eq!(
            String::from_utf8_lossy(&one.stderr),
            String::from_utf8_lossy(&four.stderr)
        );
        if format == "json" {
            let ds = json_lines(&four);
            assert_eq!(ds.len(), many.len());
            // Each file's decision is the one it gets checked alone.
            let alone: Vec<Value> = files
                .iter()
                .map(|f| json_lines(&check("bucket/build-artifacts", &[f]))[0]["verdict"].clone())
                .collect();
            assert_eq!(alone[0], "compliant");
            assert_eq!(alone[1], "violation");
            assert_eq!(alone[2], "error");
            for (d, f) in ds.iter().zip(&many) {
                assert_eq!(d["source"], *f);
                let i = files.iter().position(|x| x == f).unwrap_or(usize::MAX);
                assert_eq!(d["verdict"], alone[i], "{f}");
            }
        }
    }
}

#[test]
fn check_reads_stdin_and_url_encoded_documents() {
    let al = ex("allowlist.toml");
    let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A999999999999%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
    let o = run(
        &[
            "check",
            "--allowlist",
            &al,
            "--owner",
            "222222222222",
            "--resource",
            "role/VendorAudit",
            "--format",
            "json",
            "-",
        ],
        Some(encoded.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(1));
    let d = &json_lines(&o)[0];
    assert_eq!(d["findings"][0]["account"], "999999999999");
    assert_eq!(d["remediation"]["kind"], "deny_all_trust");
}

#[test]
fn bad_input_is_exit_2_with_one_line_reason() {
    let check_args = |allowlist: String, owner: &str, resource: &str| -> Vec<String> {
        let policy = ex("policies/website.json");
        [
            "check",
            "--allowlist",
            &allowlist,
            "--owner",
            owner,
            "--resource",
            resource,
            &policy,
        ]
        .map(String::from)
        .to_vec()
    };
    let cases: Vec<Vec<String>> = vec![
        check_args("/nope.toml".into(), "222222222222", "bucket/b"),
        check_args(ex("allowlist.toml"), "2222", "bucket/b"),
        check_args(ex("allowlist.toml"), "222222222222", "table/q"),
        vec![
            "event".into(),
            "--allowlist".into(),
            ex("allowlist.toml"),
            ex("allowlist.toml"),
        ],
    ];
    for args in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&a, None);
        assert_eq!(o.status.code(), Some(2), "{a:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{a:?}: {err}");
        assert!(err.starts_with("crossguard: error: "), "{err}");
    }
}

#[test]
fn event_decides_like_the_lambda() {
    let al = ex("allowlist.toml");
    let cases = [
        ("events/1-approved-share.json", 0, "compliant", "none"),
        ("events/2-unapproved-account.json", 1, "violation", "alert"),
        ("events/3-public-bucket.json", 1, "violation", "remediate"),
        (
            "events/4-role-trust-no-external-id.json",
            1,
            "violation",
            "alert",
        ),
        ("events/5-key-policy-outside.json", 1, "violation", "alert"),
        ("events/6-guard-own-fix.json", 0, "ignored", "none"),
        ("events/7-failed-call.json", 0, "ignored", "none"),
    ];
    for (file, code, verdict, action) in cases {
        let o = run(
            &[
                "event",
                "--allowlist",
                &al,
                "--format",
                "json",
                "--as-of",
                "2026-11-22",
                &ex(file),
            ],
            None,
        );
        assert_eq!(o.status.code(), Some(code), "{file}");
        let d = &json_lines(&o)[0];
        assert_eq!(
            (d["verdict"].as_str(), d["action"].as_str()),
            (Some(verdict), Some(action)),
            "{file}"
        );
        assert!(d["event"]["id"].is_string(), "{file}");
    }
}

#[test]
fn event_reads_gzipped_cloudtrail_log_files() {
    let records: Vec<Value> = [
        "events/2-unapproved-account.json",
        "events/7-failed-call.json",
        "events/1-approved-share.json",
    ]
    .iter()
    .map(|f| {
        serde_json::from_str::<Value>(&std::fs::read_to_string(ex(f)).unwrap()).unwrap()["detail"]
            .clone()
    })
    .collect();
    let log = serde_json::json!({ "Records": records }).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(log.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let al = ex("allowlist.toml");
    let o = run(
        &["event", "--allowlist", &al, "--format", "json", "-"],
        Some(&bytes),
    );
    let verdicts: Vec<String> = json_lines(&o)
        .iter()
        .map(|d| d["verdict"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(verdicts, ["violation", "ignored", "compliant"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn text_output_reads_at_a_glance() {
    let al = ex("allowlist.toml");
    let o = run(
        &[
            "event",
            "--allowlist",
            &al,
            "--as-of",
            "2026-11-22",
            &ex("events/4-role-trust-no-external-id.json"),
        ],
        None,
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("VIOLATION  role/VendorAudit"), "{text}");
    assert!(
        text.contains("DENY") && text.contains("sts:ExternalId") && text.contains("deny-all trust"),
        "{text}"
    );
}

#[test]
fn mode_flag_overrides_the_allowlist() {
    let al = ex("allowlist.toml");
    let o = run(
        &[
            "event",
            "--allowlist",
            &al,
            "--format",
            "json",
            "--mode",
            "dry-run",
            &ex("events/3-public-bucket.json"),
        ],
        None,
    );
    let d = &json_lines(&o)[0];
    assert_eq!(
        (d["action"].as_str(), d["mode"].as_str()),
        (Some("none"), Some("dry-run"))
    );
}

#[test]
fn allowlist_validate() {
    let o = run(&["allowlist", "validate", &ex("allowlist.toml")], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("5 pairing(s)"));
    let dir = std::env::temp_dir().join(format!("crossguard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "version = 1\n\n[[pairing]]\nowner = \"222222222222\"\ntrusted = \"12345\"\nexpires = \"2027-02-30\"\n").unwrap();
    let bad = bad.to_string_lossy().into_owned();
    let o = run(&["allowlist", "validate", &bad], None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{bad}:5: trusted \"12345\"")),
        "{err}"
    );
    assert!(err.contains(&format!("{bad}:6: expires")), "{err}");
    // A TOML syntax error stops the parser: one fault, on one line.
    let syntax = dir.join("syntax.toml");
    std::fs::write(&syntax, "version = 1\n[[pairing]]\nexpires = 2027-02-30\n").unwrap();
    let o = run(&["allowlist", "validate", &syntax.to_string_lossy()], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        (o.status.code(), err.trim_end().lines().count()),
        (Some(2), 1),
        "{err}"
    );
    assert!(err.contains("syntax.toml:3: invalid date-time"), "{err}");
    // check refuses to run on it, pointing at validate.
    let o = run(
        &[
            "check",
            "--allowlist",
            &bad,
            "--owner",
            "222222222222",
            "--resource",
            "bucket/b",
            &ex("policies/website.json"),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("allowlist validate"));
    std::fs::remove_dir_all(&dir).ok();
}
