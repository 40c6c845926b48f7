//! Hostile and odd input at the command line: inputs over a limit are refused whole with
//! the limit named (never cut and read in part), stdin's gzip bombs end with a reason,
//! walked directories say what they did not read, `--jobs` is bounded, every exit 2 says
//! why on stderr, echoed values are cut, control characters never reach the terminal,
//! and a closed stdout ends the run quietly.

mod common;

use common::archive::{self, generate, scratch, Spec, OWNER};
use common::{json_lines, run};
use flate2::write::GzEncoder;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

fn ex(path: &str) -> String {
    archive::root()
        .join("examples")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A sparse file of `len` bytes that starts with `head`: its size is real, its blocks
/// are not written.
fn sparse(path: &Path, head: &[u8], len: u64) -> String {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(head).unwrap();
    f.set_len(len).unwrap();
    s(path)
}

/// `n` MiB of blank space, gzipped: one compressed MiB repeated as gzip members
/// (concatenated members are one stream), a few KB per GiB.
fn blank_gz(mib: usize) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 1 << 20]).unwrap();
    gz.finish().unwrap().repeat(mib)
}

#[test]
fn an_allowlist_over_the_limit_is_refused_whole_with_its_true_size() {
    let dir = scratch("limits-allowlist");
    // Valid TOML up front; the size is what counts, and it is told truly.
    let big = sparse(
        &dir.join("big.toml"),
        b"version = 1\nmode = \"alert\"\n",
        600 << 20,
    );
    let o = run(&["allowlist", "validate", &big], None);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("larger than 64 MiB") && err.contains("629145600 bytes"),
        "{err}"
    );
    assert!(
        !err.contains("536870912"),
        "the read cap shown as the size: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // check refuses to run on it the same way.
    let o = run(
        &[
            "check",
            "--allowlist",
            &big,
            "--owner",
            OWNER,
            "--resource",
            "bucket/b",
            &ex("policies/website.json"),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("larger than 64 MiB"), "{}", stderr(&o));
    // A stream of unknown size (a device) is read up to the limit only, and refused.
    let o = run(&["allowlist", "validate", "/dev/zero"], None);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/dev/zero is larger than 64 MiB (the limit)"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn check_and_event_name_the_limit_of_an_oversized_input() {
    let dir = scratch("limits-inputs");
    let al = ex("allowlist.toml");
    let o = run(
        &[
            "check",
            "--allowlist",
            &al,
            "--owner",
            OWNER,
            "--resource",
            "bucket/b",
            "--format",
            "json",
            "/dev/zero",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let d = &json_lines(&o)[0];
    let reason = d["reason"].as_str().unwrap();
    assert!(reason.contains("larger than 1 MiB (the limit)"), "{reason}");
    assert!(!reason.contains("536870912"), "{reason}");

    // An event file over the limit: refused by its size, not "EOF while parsing".
    let big = sparse(&dir.join("big.json"), b"{\"Records\": [", (512 << 20) + 1);
    let o = run(&["event", "--allowlist", &al, &big], None);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("larger than 512 MiB"), "{err}");
    assert!(!err.contains("EOF while parsing"), "{err}");
    std::fs::remove_dir_all(&dir).ok();

    // Gzip that unzips past the limit: refused whole, never decided on its first part.
    let mut bomb = Vec::new();
    let mut gz = GzEncoder::new(&mut bomb, flate2::Compression::fast());
    gz.write_all(br#"{"Records": ["#).unwrap();
    gz.finish().unwrap();
    bomb.extend(blank_gz(513));
    let o = run(&["event", "--allowlist", &al, "-"], Some(&bomb));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("unzips to more than 512 MiB"), "{err}");
}

#[test]
fn replay_stdin_gzip_bomb_ends_with_a_reason_and_exit_2() {
    let al = ex("allowlist.toml");
    let bomb = blank_gz(1100);
    assert!(bomb.len() < 8 << 20);
    let o = run(
        &["replay", "--allowlist", &al, "--format", "json", "-"],
        Some(&bomb),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("larger than 1024 MiB (the limit)"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn jobs_is_bounded_with_a_clear_error() {
    let al = ex("allowlist.toml");
    let logs = s(&archive::root().join("fixtures/cloudtrail"));
    for n in ["0", "257", "100000000", "18446744073709551615"] {
        let o = run(&["replay", "--allowlist", &al, "--jobs", n, &logs], None);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "--jobs {n}: {err}");
        assert!(err.contains("--jobs"), "--jobs {n}: {err}");
        assert!(!err.contains("panicked"), "--jobs {n}: {err}");
    }
    let o = run(
        &[
            "replay",
            "--allowlist",
            &al,
            "--jobs",
            "256",
            "--format",
            "json",
            &logs,
        ],
        None,
    );
    assert!(!json_lines(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn every_exit_2_of_replay_says_why() {
    let al = ex("allowlist.toml");
    let logs = s(&archive::root().join("fixtures/cloudtrail"));
    let o = run(&["replay", "--allowlist", &al, &logs], None);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.starts_with("crossguard: error: ")
            && last.contains("record(s) could not be checked (error decisions); see the report"),
        "{err}"
    );
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn walked_directories_follow_links_and_name_what_they_do_not_read() {
    let dir = scratch("limits-walk");
    let al = ex("allowlist.toml");
    // The only log is a symbolic link to a violating event.
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    symlink(
        Path::new(&ex("events/2-unapproved-account.json")),
        &logs.join("event.json"),
    );
    let o = run(
        &["replay", "--allowlist", &al, "--format", "json", &s(&logs)],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let rows = json_lines(&o);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["verdict"], "violation");

    // A FIFO, a broken link and a loop beside it: each named, none waited on.
    let odd = dir.join("odd");
    std::fs::create_dir_all(&odd).unwrap();
    symlink(
        Path::new(&ex("events/1-approved-share.json")),
        &odd.join("a.json"),
    );
    let fifo = odd.join("pipe.json");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    symlink(&dir.join("nowhere.json"), &odd.join("broken.json"));
    symlink(&odd, &odd.join("loop"));
    let o = run(
        &["replay", "--allowlist", &al, "--format", "json", &s(&odd)],
        None,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(json_lines(&o).len(), 1);
    for (name, why) in [
        (
            "pipe.json",
            "a FIFO (named pipe), not a regular file: not read",
        ),
        ("broken.json", "broken symbolic link"),
        ("loop", "symbolic link loop"),
    ] {
        assert!(
            err.lines().any(|l| l.contains(name) && l.contains(why)),
            "{name}: {err}"
        );
    }
    assert!(err.contains("3 input(s) skipped"), "{err}");

    // Nothing read at all: not "all clear".
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not a log").unwrap();
    let o = run(&["replay", "--allowlist", &al, &s(&empty)], None);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim_end(),
        "crossguard: error: no CloudTrail log file or evidence record was read"
    );
}

#[test]
fn stdin_named_twice_is_refused() {
    let al = ex("allowlist.toml");
    let policy = std::fs::read(ex("policies/website.json")).unwrap();
    let o = run(
        &[
            "check",
            "--allowlist",
            &al,
            "--owner",
            OWNER,
            "--resource",
            "bucket/www-example-com",
            "-",
            "-",
        ],
        Some(&policy),
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim_end(),
        "crossguard: error: stdin (-) can be named once"
    );
    assert!(o.stdout.is_empty());
    let o = run(&["event", "--allowlist", &al, "-", "-"], Some(b"{}"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("stdin (-) can be named once"));
}

#[test]
fn echoed_values_are_cut() {
    let dir = scratch("limits-echo");
    let al = ex("allowlist.toml");
    let schema = "s".repeat(3 << 20);
    let file = dir.join("odd.json");
    std::fs::write(&file, json!({ "schema": schema }).to_string()).unwrap();
    let o = run(
        &["replay", "--allowlist", &al, "--format", "json", &s(&file)],
        None,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains(&format!("unknown schema \"{}…\"", "s".repeat(100))),
        "{}",
        &err[..err.len().min(400)]
    );
    assert!(err.len() < 2_000, "{} bytes on stderr", err.len());
    // A message from the engine quoting a huge value is cut too.
    let name = format!("bucket/{}", "b".repeat(100_000));
    let o = run(
        &[
            "check",
            "--allowlist",
            &al,
            "--owner",
            OWNER,
            "--resource",
            &name,
            &ex("policies/website.json"),
        ],
        None,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.len() < 2_000, "{} bytes on stderr", err.len());
    assert_eq!(err.lines().count(), 1);
}

/// Example 2 with control characters in the fields a person reads.
fn hostile_event() -> Value {
    let mut ev: Value = serde_json::from_str(
        &std::fs::read_to_string(ex("events/2-unapproved-account.json")).unwrap(),
    )
    .unwrap();
    let d = &mut ev["detail"];
    d["sourceIPAddress"] = json!("198.51.100.23\u{1b}[2J\u{1b}[31mfine\r");
    d["userIdentity"]["arn"] =
        json!("arn:aws:sts::222222222222:assumed-role/Admin/\u{1b}]0;owned\u{7}");
    ev
}

#[test]
fn control_characters_never_reach_the_terminal() {
    let dir = scratch("limits-controls");
    let al = ex("allowlist.toml");
    let ev = hostile_event();
    let file = dir.join("event.json");
    std::fs::write(&file, ev.to_string()).unwrap();
    let o = run(&["event", "--allowlist", &al, &s(&file)], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        !o.stdout
            .iter()
            .any(|&b| b == 0x1b || b == b'\r' || b == 0x07),
        "{out:?}"
    );
    assert!(out.contains("198.51.100.23\\u{1b}[2J"), "{out}");
    // JSON output keeps the value exactly (escaped by JSON itself).
    let o = run(
        &["event", "--allowlist", &al, "--format", "json", &s(&file)],
        None,
    );
    assert_eq!(
        json_lines(&o)[0]["event"]["source_ip"],
        "198.51.100.23\u{1b}[2J\u{1b}[31mfine\r"
    );
    // replay's text summary names the actor: escaped there too.
    let log = dir.join("log.json");
    std::fs::write(&log, json!({ "Records": [ev["detail"]] }).to_string()).unwrap();
    let o = run(&["replay", "--allowlist", &al, &s(&log)], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        !o.stdout
            .iter()
            .any(|&b| b == 0x1b || b == b'\r' || b == 0x07),
        "{:?}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let dir = scratch("limits-pipe");
    let e = generate(
        &dir,
        Spec {
            accounts: 2,
            days: 2,
            files_per_day: 2,
            records_per_file: 200,
            guarded_every: 2,
        },
    );
    assert!(e.guarded > 300);
    let al = ex("allowlist.toml");
    // (The text summary is written at the end, small enough to fit in the pipe.)
    for format in ["json", "csv"] {
        let (err, code) =
            read_a_little_then_close(Command::new(env!("CARGO_BIN_EXE_crossguard")).args([
                "replay",
                "--allowlist",
                &al,
                "--format",
                format,
                &s(&dir),
            ]));
        assert_eq!(err, "", "{format}");
        assert_eq!(code, Some(141), "{format}");
    }
    // event with many decisions, the same.
    let (err, code) = read_a_little_then_close(
        Command::new(env!("CARGO_BIN_EXE_crossguard"))
            .args(["event", "--allowlist", &al, "--format", "json"])
            .args(&e.paths),
    );
    assert_eq!(err, "");
    assert_eq!(code, Some(141));
}

/// `| head -c 100`: read the first 100 bytes of stdout, close it, and return stderr and
/// the exit code.
fn read_a_little_then_close(cmd: &mut Command) -> (String, Option<i32>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (err, child.wait().unwrap().code())
}
