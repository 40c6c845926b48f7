//! The fuzz targets over crossguard's engine, shared by the coverage-guided AFL binary
//! (`afl_target`) and the plain `replay` binary that reruns saved inputs.
//!
//! Every target takes raw bytes; input that is not UTF-8 is skipped (the engine's entry
//! points take `&str`, and the CLI and Lambda refuse such bytes before reaching them).
//! A panic anywhere is a finding; so is a broken invariant, raised as a panic.

use crossguard_engine::{
    decide, decide_event_text, render, Allowlist, Date, Decision, Options, PolicyDocument,
    Resource, Verdict,
};
use std::sync::OnceLock;

/// The example allowlist: real pairings, orgs, ignore_actors and mode overrides.
pub const ALLOWLIST_TOML: &str = include_str!("../../examples/allowlist.toml");

/// The targets by name, as `make fuzz` and the corpus directories name them.
pub const TARGETS: [&str; 4] = ["policy", "event", "allowlist", "logfile"];

pub fn allowlist() -> &'static Allowlist {
    static A: OnceLock<Allowlist> = OnceLock::new();
    A.get_or_init(|| {
        Allowlist::from_toml(ALLOWLIST_TOML, "examples/allowlist.toml")
            .expect("examples/allowlist.toml loads")
    })
}

pub fn options() -> Options {
    Options {
        today: Date::new(2026, 11, 22).expect("a valid date"),
        mode: None,
    }
}

fn resources() -> &'static [Resource; 3] {
    static R: OnceLock<[Resource; 3]> = OnceLock::new();
    R.get_or_init(|| {
        ["bucket/b", "role/r", "key/k"].map(|spec| {
            Resource::from_spec(spec, "222222222222", Some("us-east-1")).expect("a valid spec")
        })
    })
}

/// What every decision goes through in the CLI: its text and its JSON line.
fn show(d: &Decision) {
    let _ = render::decision_text(d);
    let _ = serde_json::to_string(d);
}

/// (1) A policy document: parse, then decide it on a bucket, a role and a key.
/// Invariants: a document with a duplicate key does not parse; a violation with a remediation plan has a document that turns back into
/// JSON; a plan made on the document's text (its statements found by a scan) is the plan
/// made on the same document read as a value, and the policy it puts reads back.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = PolicyDocument::parse(text) else {
        return;
    };
    // A document with a key twice anywhere reads differently to another reader: one
    // that parsed is a way around the guard (one after 16 other keys once parsed).
    if let Ok(checked) = crossguard_engine::json::from_str(text) {
        assert!(
            checked.duplicates.is_empty() && !checked.overflow,
            "invariant: a policy with a duplicate key parsed: {:?}",
            checked.duplicates
        );
    }
    let as_value = doc.to_json().ok().and_then(|v| PolicyDocument::from_value(v).ok());
    for resource in resources() {
        let d = decide(allowlist(), resource, Some(&doc), options());
        if d.verdict == Verdict::Violation && d.remediation.is_some() {
            if let Err(e) = doc.to_json() {
                panic!(
                    "invariant: {} is a violation with a plan, but to_json fails: {e}",
                    resource.spec()
                );
            }
        }
        if let Some(value_doc) = &as_value {
            let v = decide(allowlist(), resource, Some(value_doc), options());
            let (a, b) = (d.remediation.as_ref(), v.remediation.as_ref());
            assert_eq!(
                a.map(|p| (p.kind, &p.policy, &p.removed)),
                b.map(|p| (p.kind, &p.policy, &p.removed)),
                "invariant: {}: the plan from text differs from the plan from the value",
                resource.spec()
            );
            if let Some(policy) = a.and_then(|p| p.policy.as_ref()) {
                let back = PolicyDocument::parse(&policy.as_text());
                assert!(
                    back.is_ok(),
                    "invariant: {}: the policy a plan puts does not read back: {:?}",
                    resource.spec(),
                    back.err()
                );
            }
        }
        show(&d);
    }
}

/// (2) A CloudTrail input (EventBridge event, bare record or log file) as text.
pub fn event(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(decisions) = decide_event_text(allowlist(), text, options()) {
        for d in &decisions {
            show(d);
        }
    }
}

/// Policies every loaded allowlist decides (target 3): public, accounts, org, OIDC, keys.
const POLICIES: [&str; 5] = [
    include_str!("../../examples/policies/public-bucket.json"),
    include_str!("../../examples/policies/approved-share.json"),
    include_str!("../../examples/policies/org-share.json"),
    include_str!("../../examples/policies/github-oidc-open.json"),
    include_str!("../../examples/policies/role-trust-external-id.json"),
];

fn policies() -> &'static [PolicyDocument; 5] {
    static P: OnceLock<[PolicyDocument; 5]> = OnceLock::new();
    P.get_or_init(|| POLICIES.map(|p| PolicyDocument::parse(p).expect("an example policy")))
}

/// Builds what the targets share, so that a persistent fuzzer's first input costs no more
/// than the others (AFL reads a first-run difference as instability).
pub fn warm() {
    let _ = (allowlist(), resources(), policies());
}

const ACTORS: [&str; 3] = [
    "arn:aws:iam::222222222222:role/crossguard-remediation",
    "arn:aws:sts::222222222222:assumed-role/PlatformAdmin/alice",
    "arn:aws:iam::222222222222:role/crossguard-x/attacker-role",
];

/// (3) The allowlist loader; a loaded allowlist then decides a few fixed policies, so
/// whatever it accepted is also matched against (globs, modes, dates, ignore_actors).
pub fn allowlist_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Allowlist::from_toml(text, "fuzz.toml") {
        Err(e) => {
            let _ = e.to_string();
        }
        Ok(list) => {
            for actor in ACTORS {
                let _ = list.ignores_actor(&[actor]);
            }
            for resource in resources() {
                let _ = list.mode_for(resource);
                for doc in policies() {
                    show(&decide(&list, resource, Some(doc), options()));
                }
            }
        }
    }
}

/// `crossguard replay`'s fast delimiter, compiled here from the CLI's own source (the CLI
/// is a binary crate; the scanner uses std alone). Its unit tests need the CLI and are
/// never built here: this crate's targets have `test = false`.
#[path = "../../cli/src/replay/fast.rs"]
#[allow(dead_code)]
mod fast;

/// What serde_json reads of a log file, as `replay` reads it when the fast delimiter
/// doubts a text: the judge, compiled from the CLI's own source too.
#[path = "../../cli/src/replay/shape.rs"]
#[allow(dead_code)]
mod shape;
use shape::{Skim, Top};

/// (4) A text of log files, differentially: whatever the fast delimiter accepts,
/// serde_json must accept as log files only, with the same records (the same slices of
/// the text), and the call it read of a record must be what serde reads of it. The fast
/// delimiter looser than serde_json would let a guarded call pass as another.
pub fn logfile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(docs) = fast::log_files(text) else {
        return;
    };
    let mut judged = serde_json::Deserializer::from_str(text).into_iter::<Top>();
    for fast_doc in &docs {
        let slow = match judged.next() {
            Some(Ok(Top {
                records: Some(r), ..
            })) => r,
            other => panic!(
                "accepted fast, not a log file to serde_json: {:?}",
                other.map(|d| d.map(|_| ()))
            ),
        };
        assert_eq!(slow.len(), fast_doc.len(), "records");
        for (s, f) in slow.iter().zip(fast_doc) {
            assert_eq!(
                (s.get().as_ptr(), s.get().len()),
                (f.raw.as_ptr(), f.raw.len()),
                "record slices"
            );
            if let fast::Call::Named { name, source } = f.call {
                let skim: Skim = serde_json::from_str(f.raw).expect("named, so serde reads it");
                assert_eq!(skim.name.as_deref(), name, "eventName");
                assert_eq!(skim.source.as_deref(), source, "eventSource");
            }
        }
    }
    assert!(judged.next().is_none(), "serde_json reads more documents");
}

/// The target of a name.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    match name {
        "policy" => Some(policy),
        "event" => Some(event),
        "allowlist" => Some(allowlist_toml),
        "logfile" => Some(logfile),
        _ => None,
    }
}
