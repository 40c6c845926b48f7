//! Every fixture and example decided, rendered and alerted, compared byte for byte with
//! `golden/decisions.jsonl`: a restructuring of the engine must not change one decision.
//! After an intended change, `CROSSGUARD_BLESS=1 cargo test --test golden` rewrites it
//! (review the diff before committing it).

use crossguard_engine::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

fn opts(mode: Option<Mode>) -> Options {
    Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode,
    }
}

fn line(input: &str, variant: &str, d: &Decision) -> Value {
    let outcome = alert::Outcome::Alerted;
    let alerted = alert::render(d, &outcome);
    let evidence = evidence::record(d, None, Some(&outcome), "2026-11-22T00:00:00Z")
        .ok()
        .map(|e| serde_json::to_value(e).unwrap());
    json!({
        "input": input,
        "variant": variant,
        "decision": serde_json::to_value(d).unwrap(),
        "text": render::decision_text(d),
        "alert": alerted.map(|a| json!({"subject": a.subject, "body": a.body,
            "attributes": a.attributes})),
        "evidence": evidence,
    })
}

#[test]
fn fixture_and_example_decisions_are_unchanged() {
    let al_text = std::fs::read_to_string(root().join("examples/allowlist.toml")).unwrap();
    let al = Allowlist::from_toml(&al_text, "examples/allowlist.toml").unwrap();
    let mut out = String::new();
    let name = |p: &Path| p.strip_prefix(root()).unwrap().display().to_string();
    for dir in ["fixtures/cloudtrail", "examples/events"] {
        for p in files(dir) {
            let text = std::fs::read_to_string(&p).unwrap();
            for mode in [None, Some(Mode::Remediate)] {
                let variant = mode.map_or("allowlist modes", |_| "remediate");
                match decide_event_text(&al, &text, opts(mode)) {
                    Ok(ds) => {
                        for d in &ds {
                            out += &line(&name(&p), variant, d).to_string();
                            out.push('\n');
                        }
                    }
                    Err(e) => {
                        out += &json!({"input": name(&p), "error": e.to_string()}).to_string();
                        out.push('\n');
                    }
                }
            }
        }
    }
    for p in files("examples/policies") {
        let text = std::fs::read_to_string(&p).unwrap();
        for spec in [
            "bucket/shared-data",
            "role/deploy",
            "key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ] {
            let r = Resource::from_spec(spec, "222222222222", Some("us-east-1")).unwrap();
            let d = match PolicyDocument::parse(&text) {
                Ok(doc) => decide(&al, &r, Some(&doc), opts(Some(Mode::Remediate))),
                Err(e) => Decision::error(Some(r.clone()), e.to_string()),
            };
            out += &line(&name(&p), spec, &d).to_string();
            out.push('\n');
        }
    }
    let golden = root().join("shared/tests/golden/decisions.jsonl");
    if std::env::var_os("CROSSGUARD_BLESS").is_some() {
        std::fs::write(&golden, &out).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    for (i, (got, want)) in out.lines().zip(want.lines()).enumerate() {
        assert_eq!(got, want, "line {} of {} differs", i + 1, golden.display());
    }
    assert_eq!(
        out.lines().count(),
        want.lines().count(),
        "number of decisions"
    );
}
