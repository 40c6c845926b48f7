//! Every golden decision (examples and real CloudTrail fixtures, every verdict) as an OCSF
//! 1.6 Detection Finding conforms to the schema's facts, and says what the decision says.

#[path = "support/ocsf_schema.rs"]
mod ocsf_schema;

use crossguard_engine::ocsf;
use crossguard_engine::report::{Change, Origin};
use serde_json::Value;

#[test]
fn every_golden_decision_is_a_conforming_detection_finding() {
    let golden = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/decisions.jsonl"
    ))
    .unwrap();
    let mut verdicts = std::collections::BTreeSet::new();
    let mut n = 0;
    for line in golden.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        let d = &row["decision"];
        let c = Change::from_decision(d, Origin::CloudTrail, "golden", None);
        let f = ocsf::detection_finding(&c, d, 1_700_000_000_000);
        let faults = ocsf_schema::faults(&f);
        assert!(faults.is_empty(), "{}: {faults:?}\n{f:#}", row["input"]);
        let verdict = d["verdict"].as_str().unwrap();
        verdicts.insert(verdict.to_string());
        // What it says is the decision's.
        assert_eq!(f["message"], d["reason"]);
        assert_eq!(f["unmapped"]["crossguard"]["verdict"], verdict);
        assert_eq!(f["is_alert"], verdict == "violation" || verdict == "error");
        if let Some(arn) = d["resource"]["arn"].as_str() {
            assert_eq!(f["resources"][0]["uid"], arn);
        }
        match verdict {
            "violation" => {
                assert!(f["severity_id"].as_u64().unwrap() >= 3, "{f:#}");
                assert!(f["remediation"]["desc"]
                    .as_str()
                    .unwrap()
                    .contains("allowlist suggest"));
            }
            "compliant" | "ignored" => assert_eq!(f["severity_id"], 1),
            _ => {}
        }
        if let Some(t) = d["event"]["time"].as_str() {
            assert_eq!(f["time"].as_i64(), ocsf::millis(t), "{t}");
        }
        n += 1;
    }
    assert!(n > 20, "{n} decisions");
    assert!(verdicts.len() >= 3, "{verdicts:?}");
}

#[test]
fn the_checker_finds_faults() {
    // The checker is what the other tests rely on: it must see a missing or foreign field.
    let golden = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/decisions.jsonl"
    ))
    .unwrap();
    let row: Value = serde_json::from_str(golden.lines().next().unwrap()).unwrap();
    let c = Change::from_decision(&row["decision"], Origin::CloudTrail, "golden", None);
    let good = ocsf::detection_finding(&c, &row["decision"], 0);
    for (path, change) in [
        ("finding_info", None),
        ("severity_id", Some(Value::from(7))),
        ("type_uid", Some(Value::from(200_402))),
        ("nonsense", Some(Value::from(1))),
    ] {
        let mut bad = good.clone();
        match change {
            None => {
                bad.as_object_mut().unwrap().remove(path);
            }
            Some(v) => bad[path] = v,
        }
        assert!(!ocsf_schema::faults(&bad).is_empty(), "{path}");
    }
    let mut bad = good.clone();
    bad["metadata"].as_object_mut().unwrap().remove("version");
    assert!(!ocsf_schema::faults(&bad).is_empty());
}
