//! An OCSF 1.6 Detection Finding checked against the schema's facts (vendored in
//! `shared/tests/data/ocsf-1.6-detection-finding.json`, read from ocsf/ocsf-schema 1.6.0):
//! required attributes of the class and of each object, no attribute the class or object
//! does not define, enum values the schema lists, `type_uid` = class × 100 + activity,
//! times as integer milliseconds. Shared by the engine's and the CLI's tests.

use serde_json::Value;
use std::sync::LazyLock;

static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/tests/data/ocsf-1.6-detection-finding.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
});

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn object(name: &str, v: &Value, at: &str) -> Vec<String> {
    let spec = &SCHEMA["objects"][name];
    let mut faults = Vec::new();
    let Some(o) = v.as_object() else {
        return vec![format!("{at} is not an object")];
    };
    for r in names(&spec["required"]) {
        if !o.contains_key(r) {
            faults.push(format!("{at}.{r} is required"));
        }
    }
    let known = names(&spec["attributes"]);
    for k in o.keys() {
        if !known.contains(&k.as_str()) {
            faults.push(format!("{at}.{k} is not an attribute of {name}"));
        }
    }
    if let Some(one_of) = spec["constraints"]["at_least_one"].as_array() {
        if !one_of
            .iter()
            .filter_map(Value::as_str)
            .any(|k| o.contains_key(k))
        {
            faults.push(format!("{at} needs one of {one_of:?}"));
        }
    }
    faults
}

/// Every way `f` departs from the schema (empty: it conforms). One check after another.
#[allow(clippy::too_many_lines)]
pub fn faults(f: &Value) -> Vec<String> {
    let class = &SCHEMA["class"];
    let mut faults = Vec::new();
    let Some(o) = f.as_object() else {
        return vec!["not an object".into()];
    };
    let profiles = names(&f["metadata"]["profiles"]);
    let mut required: Vec<&str> = names(&class["required"]);
    let mut known: Vec<&str> = names(&class["attributes"]);
    for p in &profiles {
        let pa = &class["profile_attributes"][p];
        required.extend(names(&pa["required"]));
        for k in ["required", "recommended", "optional"] {
            known.extend(names(&pa[k]));
        }
    }
    for r in &required {
        if !o.contains_key(*r) {
            faults.push(format!("{r} is required"));
        }
    }
    for k in o.keys() {
        if !known.contains(&k.as_str()) {
            faults.push(format!("{k} is not an attribute of detection_finding"));
        }
    }
    if f["class_uid"] != 2004 || f["category_uid"] != 2 {
        faults.push("class_uid/category_uid are not 2004/2".into());
    }
    let activity = f["activity_id"].as_u64().unwrap_or(u64::MAX);
    if f["type_uid"].as_u64() != Some(2004 * 100 + activity) {
        faults.push(format!(
            "type_uid {} is not 2004 × 100 + activity_id",
            f["type_uid"]
        ));
    }
    for (attr, label) in [
        ("activity_id", "activity_name"),
        ("severity_id", "severity"),
        ("status_id", "status"),
    ] {
        let id = f[attr].as_u64().map(|n| n.to_string()).unwrap_or_default();
        match SCHEMA["enums"][attr].get(&id) {
            None => faults.push(format!("{attr} {} is not in the schema's enum", f[attr])),
            Some(name) if f.get(label).is_some_and(|l| l != name) => {
                faults.push(format!(
                    "{label} {} does not name {attr} {id} ({name})",
                    f[label]
                ));
            }
            Some(_) => {}
        }
    }
    for t in [&f["time"], &f["finding_info"]["created_time"]] {
        if !t.is_i64() && !t.is_u64() {
            faults.push(format!("time {t} is not integer milliseconds"));
        }
    }
    faults.extend(object("metadata", &f["metadata"], "metadata"));
    faults.extend(object(
        "product",
        &f["metadata"]["product"],
        "metadata.product",
    ));
    faults.extend(object("finding_info", &f["finding_info"], "finding_info"));
    if o.contains_key("cloud") {
        faults.extend(object("cloud", &f["cloud"], "cloud"));
        if let Some(a) = f["cloud"].get("account") {
            faults.extend(object("account", a, "cloud.account"));
        }
    }
    if let Some(r) = o.get("remediation") {
        faults.extend(object("remediation", r, "remediation"));
    }
    for (i, r) in f["resources"].as_array().into_iter().flatten().enumerate() {
        faults.extend(object("resource_details", r, &format!("resources[{i}]")));
        if !r["uid"].is_string() && !r["uid"].is_null() {
            faults.push(format!("resources[{i}].uid is not a string"));
        }
    }
    if let Some(u) = f.get("actor").and_then(|a| a.get("user")) {
        faults.extend(object("user", u, "actor.user"));
    }
    faults
}
