//! The fuzz targets of `make fuzz` (fuzz/src/lib.rs) over the seed corpus kept in
//! fuzz/corpus/, and over every input the fuzzer found: no panic, no policy with a
//! duplicate key parsed, and a violation with a remediation plan has a document that
//! turns back into JSON. Runs in `make test`;
//! the fuzzing itself (`make fuzz`) does not.

use crossguard_engine::*;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

const ALLOWLIST: &str = include_str!("../../examples/allowlist.toml");

fn allowlist() -> Allowlist {
    Allowlist::from_toml(ALLOWLIST, "examples/allowlist.toml").unwrap()
}

fn opts() -> Options {
    Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode: None,
    }
}

fn resources() -> Vec<Resource> {
    ["bucket/b", "role/r", "key/k"]
        .iter()
        .map(|spec| Resource::from_spec(spec, "222222222222", Some("us-east-1")).unwrap())
        .collect()
}

fn show(d: &Decision) {
    let _ = render::decision_text(d);
    let _ = serde_json::to_string(d).unwrap();
}

/// Target `policy`: parse, decide on a bucket, a role and a key.
fn policy(al: &Allowlist, text: &str) {
    let Ok(doc) = PolicyDocument::parse(text) else {
        return;
    };
    // A document with a key twice anywhere does not parse (as the fuzz target holds).
    if let Ok(checked) = json::from_str(text) {
        assert!(
            checked.duplicates.is_empty() && !checked.overflow,
            "a policy with a duplicate key parsed: {:?}",
            checked.duplicates
        );
    }
    for r in resources() {
        let d = decide(al, &r, Some(&doc), opts());
        if d.verdict == Verdict::Violation && d.remediation.is_some() {
            if let Err(e) = doc.to_json() {
                panic!(
                    "{} is a violation with a plan, but to_json fails: {e}",
                    r.spec()
                );
            }
        }
        show(&d);
    }
}

/// Target `event`: decide every record of an input.
fn event(al: &Allowlist, text: &str) {
    if let Ok(ds) = decide_event_text(al, text, opts()) {
        ds.iter().for_each(show);
    }
}

/// Target `allowlist`: load; a loaded one decides the example policies.
fn allowlist_toml(text: &str) {
    let Ok(list) = Allowlist::from_toml(text, "fuzz.toml") else {
        return;
    };
    let _ = list.ignores_actor(&["arn:aws:iam::222222222222:role/crossguard-x/attacker-role"]);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policies");
    for r in resources() {
        let _ = list.mode_for(&r);
        for f in files(&dir) {
            let doc = PolicyDocument::parse(&std::fs::read_to_string(f).unwrap()).unwrap();
            show(&decide(&list, &r, Some(&doc), opts()));
        }
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Every file of fuzz/corpus/TARGET through the target; the names of those that panic.
fn corpus(target: &str) {
    let al = allowlist();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let all = files(&dir);
    assert!(all.len() >= 5, "{}: seeds missing", dir.display());
    let mut failed = Vec::new();
    for f in &all {
        let bytes = std::fs::read(f).unwrap();
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let run = AssertUnwindSafe(|| match target {
            "policy" => policy(&al, text),
            "event" => event(&al, text),
            _ => allowlist_toml(text),
        });
        if panic::catch_unwind(run).is_err() {
            failed.push(f.display().to_string());
        }
    }
    assert!(failed.is_empty(), "panicked on: {failed:#?}");
}

#[test]
fn policy_corpus_never_panics() {
    corpus("policy");
}

#[test]
fn event_corpus_never_panics() {
    corpus("event");
}

#[test]
fn allowlist_corpus_never_panics() {
    corpus("allowlist");
}
