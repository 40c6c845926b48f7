//! The infrastructure templates: crossguard's own policies pass `crossguard check`
//! (dogfood), and every EventBridge rule's pattern, run by EventBridge on moto server,
//! matches exactly the guarded calls among real fixtures and near-misses.

// Scenarios read top to bottom, helpers take values as written, sizes are small: the
// workspace's length and cast lints are for the product code.
#![allow(
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]

use anyhow::{bail, Context, Result};
use crossguard_emulator_tests::{load_event, root, venv_bin, Moto};
use crossguard_engine::kinds;
use crossguard_engine::ResourceKind;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

const CENTRAL: &str = "555555555555";
const MEMBER: &str = "222222222222";

/// A template as JSON, read by cfn-lint's own decoder (short-form tags included).
fn template(name: &str) -> Result<Value> {
    let out = Command::new(venv_bin("python")?)
        .arg(root().join("scripts/template_json.py"))
        .arg(root().join("infra").join(name))
        .output()?;
    if !out.status.success() {
        bail!("{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Resolve the intrinsic functions these policies use, with example values.
fn resolve(v: &Value, vars: &BTreeMap<&str, String>) -> Result<Value> {
    Ok(match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("Fn::Sub") => {
            let mut s = m["Fn::Sub"]
                .as_str()
                .context("Fn::Sub with a list")?
                .to_string();
            while let Some(start) = s.find("${") {
                let end = start + s[start..].find('}').context("unclosed ${")?;
                let name = &s[start + 2..end];
                let value = vars
                    .get(name)
                    .with_context(|| format!("no example value for {name}"))?;
                s.replace_range(start..=end, value);
            }
            Value::String(s)
        }
        Value::Object(m) if m.len() == 1 && m.contains_key("Ref") => {
            let name = m["Ref"].as_str().unwrap_or("");
            Value::String(
                vars.get(name)
                    .with_context(|| format!("no example value for Ref {name}"))?
                    .clone(),
            )
        }
        Value::Object(m) if m.len() == 1 && m.contains_key("Fn::GetAtt") => {
            let parts: Vec<&str> = match &m["Fn::GetAtt"] {
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                Value::String(s) => s.split('.').collect(),
                _ => vec![],
            };
            let name = parts.join(".");
            Value::String(
                vars.get(name.as_str())
                    .with_context(|| format!("no example value for {name}"))?
                    .clone(),
            )
        }
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.clone(), resolve(v, vars)?);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve(x, vars)).collect::<Result<_>>()?),
        other => other.clone(),
    })
}

/// The `crossguard` binary built beside this test.
fn crossguard() -> Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .context("target dir")?;
    let bin = dir.join("crossguard");
    if !bin.exists() {
        bail!(
            "{} is missing: `cargo test --workspace` builds it",
            bin.display()
        );
    }
    Ok(bin)
}

/// Every resource policy in a template: (kind/name, policy).
fn policies(t: &Value, vars: &BTreeMap<&str, String>) -> Result<Vec<(String, Value)>> {
    let mut out = Vec::new();
    for (logical, r) in t["Resources"].as_object().context("Resources")? {
        let p = &r["Properties"];
        let found = match r["Type"].as_str().unwrap_or("") {
            "AWS::IAM::Role" => {
                let name = resolve(&p["RoleName"], vars)?;
                Some((
                    format!("role/{}", name.as_str().unwrap_or(logical)),
                    &p["AssumeRolePolicyDocument"],
                ))
            }
            "AWS::S3::BucketPolicy" => Some((
                "bucket/crossguard-evidence".to_string(),
                &p["PolicyDocument"],
            )),
            "AWS::KMS::Key" => Some((
                "key/1234abcd-12ab-34cd-56ef-1234567890ab".to_string(),
                &p["KeyPolicy"],
            )),
            "AWS::SQS::QueuePolicy" => Some((
                "queue/crossguard-dead-letters".to_string(),
                &p["PolicyDocument"],
            )),
            // One statement per resource; checked as the bus's policy.
            "AWS::Events::EventBusPolicy" => {
                let doc = json!({"Version": "2012-10-17", "Statement": [p["Statement"].clone()]});
                out.push(("bus/default".to_string(), resolve(&doc, vars)?));
                None
            }
            _ => None,
        };
        if let Some((spec, doc)) = found {
            out.push((spec, resolve(doc, vars)?));
        }
    }
    Ok(out)
}

#[test]
fn crossguards_own_policies_pass_crossguard_check() -> Result<()> {
    let bin = crossguard()?;
    let dir = root().join("target").join("infra-dogfood");
    std::fs::create_dir_all(&dir)?;
    let cases = [("template.yaml", CENTRAL), ("member-account.yaml", MEMBER)];
    let mut checked = BTreeSet::new();
    for (file, owner) in cases {
        let vars: BTreeMap<&str, String> = [
            ("AWS::Partition", "aws".to_string()),
            ("AWS::AccountId", owner.to_string()),
            ("AWS::Region", "us-east-1".to_string()),
            ("CentralAccountId", CENTRAL.to_string()),
            ("ExternalId", "example-external-id".to_string()),
            ("RemediationRoleName", "crossguard-remediation".to_string()),
            (
                "ScannerPrincipalArn",
                format!("arn:aws:iam::{CENTRAL}:role/security-auditor"),
            ),
            ("ScanExternalId", "example-scan-id".to_string()),
            ("OrganizationId", "o-a1b2c3d4e5".to_string()),
            (
                "DeadLetterQueue.Arn",
                format!("arn:aws:sqs:us-east-1:{owner}:crossguard-dead-letters"),
            ),
            (
                "EvidenceBucket.Arn",
                "arn:aws:s3:::crossguard-evidence".to_string(),
            ),
        ]
        .into_iter()
        .collect();
        for (spec, policy) in policies(&template(file)?, &vars)? {
            let path = dir.join(format!("{}.json", spec.replace('/', "-")));
            std::fs::write(&path, serde_json::to_vec_pretty(&policy)?)?;
            let out = Command::new(&bin)
                .args(["check", "--allowlist"])
                .arg(root().join("examples/allowlist.toml"))
                .args(["--owner", owner, "--resource", &spec])
                .arg(&path)
                .output()?;
            assert!(
                out.status.success(),
                "{file} {spec} fails crossguard check:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            checked.insert(spec);
        }
    }
    // The roles that matter are all there: a template change cannot drop one silently.
    for kind in ResourceKind::ALL
        .into_iter()
        .filter(|k| *k != ResourceKind::Role)
    {
        let spec = format!("role/crossguard-{kind}-guard-us-east-1");
        assert!(checked.contains(&spec), "{spec} not found in {checked:?}");
    }
    for spec in [
        "role/crossguard-role-guard",
        "role/crossguard-remediation",
        "role/crossguard-scan",
        "role/crossguard-forwarding",
        "bucket/crossguard-evidence",
        "queue/crossguard-dead-letters",
        "bus/default",
    ] {
        assert!(checked.contains(spec), "{spec} not found in {checked:?}");
    }

    // And the check does fail: the remediation role without its ExternalId is refused.
    let mut t = template("member-account.yaml")?;
    let st = &mut t["Resources"]["RemediationRole"]["Properties"]["AssumeRolePolicyDocument"]
        ["Statement"][0];
    st["Condition"]
        .as_object_mut()
        .unwrap()
        .remove("StringEquals");
    let vars: BTreeMap<&str, String> = [
        ("AWS::Partition", "aws".to_string()),
        ("CentralAccountId", CENTRAL.to_string()),
    ]
    .into_iter()
    .collect();
    let doc = resolve(
        &t["Resources"]["RemediationRole"]["Properties"]["AssumeRolePolicyDocument"],
        &vars,
    )?;
    let path = dir.join("remediation-without-external-id.json");
    std::fs::write(&path, doc.to_string())?;
    let out = Command::new(&bin)
        .args(["check", "--allowlist"])
        .arg(root().join("examples/allowlist.toml"))
        .args([
            "--owner",
            MEMBER,
            "--resource",
            "role/crossguard-remediation",
        ])
        .arg(&path)
        .output()?;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    Ok(())
}

/// `queue` → `Queue`.
fn title(name: &str) -> String {
    // `access-point` → `AccessPoint`: CloudFormation's logical ids are alphanumeric.
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The central template's function for a kind: `BucketGuard`, `QueueGuard`, …
fn guard_of(kind: ResourceKind) -> String {
    format!("{}Guard", title(kind.as_str()))
}

/// An EventBridge entry for a CloudTrail event, tagged with a case name in its eventID.
fn entry(
    source: &str,
    detail_type: &str,
    mut detail: Value,
    case: &str,
) -> aws_sdk_eventbridge::types::PutEventsRequestEntry {
    detail["eventID"] = json!(case);
    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .source(source)
        .detail_type(detail_type)
        .detail(detail.to_string())
        .build()
}

/// A rule with this pattern on moto's default bus, delivering to a new queue of the same
/// name; the queue's URL.
async fn rule_to_queue(
    eb: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    pattern: &Value,
) -> Result<String> {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await?
        .queue_url
        .context("url")?;
    eb.put_rule()
        .name(name)
        .event_pattern(pattern.to_string())
        .send()
        .await?;
    eb.put_targets()
        .rule(name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("q")
                .arn(format!("arn:aws:sqs:eu-west-1:{MEMBER}:{name}"))
                .build()?,
        )
        .send()
        .await?;
    Ok(url)
}

/// Put every entry on the bus, ten at a time; none may be refused.
async fn put_all(
    eb: &aws_sdk_eventbridge::Client,
    entries: &[aws_sdk_eventbridge::types::PutEventsRequestEntry],
) -> Result<()> {
    for chunk in entries.chunks(10) {
        let out = eb
            .put_events()
            .set_entries(Some(chunk.to_vec()))
            .send()
            .await?;
        assert_eq!(out.failed_entry_count, 0, "{out:?}");
    }
    Ok(())
}

/// The eventIDs (case names) of every message on the queue, taken off it.
async fn received_cases(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<BTreeSet<String>> {
    let mut got = BTreeSet::new();
    for body in crossguard_emulator_tests::drain_queue(sqs, url).await? {
        let body: Value = serde_json::from_str(body.as_deref().unwrap_or("{}"))?;
        got.insert(
            body["detail"]["eventID"]
                .as_str()
                .unwrap_or("?")
                .to_string(),
        );
    }
    Ok(got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_patterns_match_exactly_the_guarded_calls() -> Result<()> {
    let central = template("template.yaml")?;
    let member = template("member-account.yaml")?;
    let mut rules: Vec<(String, Value)> = Vec::new();
    for kind in ResourceKind::ALL {
        let f = guard_of(kind);
        let events = central["Resources"][&f]["Properties"]["Events"]
            .as_object()
            .with_context(|| format!("{f}: no function with Events in template.yaml"))?;
        for (_, e) in events {
            rules.push((f.clone(), e["Properties"]["Pattern"].clone()));
        }
        // A member's forwarding rule sends on exactly what the central guard takes.
        let forward = match kind {
            ResourceKind::Role => "ForwardRoleTrustChanges".to_string(),
            other => format!("Forward{}PolicyChanges", title(other.as_str())),
        };
        let pattern = &member["Resources"][&forward]["Properties"]["EventPattern"];
        assert!(pattern.is_object(), "member-account.yaml has no {forward}");
        rules.push((format!("{forward}-{f}"), pattern.clone()));
    }

    // Every call the registry guards is named by its kind's rules, central and member.
    for (name, source, kind) in kinds::guarded_events() {
        let guard = guard_of(kind);
        let guard = guard.as_str();
        let named = |p: &Value| {
            p["detail"]["eventName"]
                .as_array()
                .is_some_and(|n| n.iter().any(|n| n == name))
                && p["detail"]["eventSource"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s == source))
        };
        let of_guard: Vec<&Value> = rules
            .iter()
            .filter(|(r, _)| r == guard || r.ends_with(&format!("-{guard}")))
            .map(|(_, p)| p)
            .collect();
        assert_eq!(
            of_guard.len(),
            2,
            "{guard}: one central rule and one member rule"
        );
        assert!(
            of_guard.iter().all(|p| named(p)),
            "{name} ({source}) is guarded by the engine but missing from a {guard} rule"
        );
    }

    let moto = Moto::start()?;
    let sdk = moto.sdk().await;
    let eb = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let mut queues = BTreeMap::new();
    for (name, pattern) in &rules {
        queues.insert(name.clone(), rule_to_queue(&eb, &sqs, name, pattern).await?);
    }

    // Every real fixture, then near-misses built from a guarded call.
    let mut entries = Vec::new();
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Which rule takes a call, from the engine's registry of kinds: a call added there
    // and missing from a template's rule fails here.
    let guarded = |source: &str, name: &str| {
        kinds::event(source, name).map(|(k, _)| (guard_of(k.kind), k.event_source))
    };
    let mut fixtures: Vec<_> = std::fs::read_dir(root().join("fixtures/cloudtrail"))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .filter(|n| n.ends_with(".json"))
        .collect();
    fixtures.sort();
    for (i, file) in fixtures.iter().enumerate() {
        let event = load_event(&format!("fixtures/cloudtrail/{file}"))?;
        let case = format!("fixture-{i}");
        let name = event["detail"]["eventName"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let source = event["source"].as_str().unwrap_or("").to_string();
        let from = event["detail"]["eventSource"].as_str().unwrap_or("");
        // A guarded call is guarded only when it comes from its own service.
        if let Some((rule, _)) = guarded(from, &name).filter(|(_, event_source)| {
            let svc = event_source.trim_end_matches(".amazonaws.com");
            source == format!("aws.{svc}") && from == *event_source
        }) {
            expected.entry(rule).or_default().insert(case.clone());
            expected
                .entry("Forward".into())
                .or_default()
                .insert(case.clone());
        }
        entries.push(entry(
            &source,
            event["detail-type"].as_str().unwrap_or(""),
            event["detail"].clone(),
            &case,
        ));
    }
    let base = load_event("examples/events/2-unapproved-account.json")?["detail"].clone();
    let with_name = |n: &str| {
        let mut d = base.clone();
        d["eventName"] = json!(n);
        d
    };
    let near_misses = [
        (
            "wrong-source",
            "aws.kms",
            "AWS API Call via CloudTrail",
            base.clone(),
        ),
        (
            "read-only-call",
            "aws.s3",
            "AWS API Call via CloudTrail",
            with_name("GetBucketPolicy"),
        ),
        (
            "other-event",
            "aws.s3",
            "AWS API Call via CloudTrail",
            with_name("GetBucketAcl"),
        ),
        (
            "other-detail-type",
            "aws.s3",
            "Object Created",
            base.clone(),
        ),
        (
            "lookalike-name",
            "aws.s3",
            "AWS API Call via CloudTrail",
            with_name("PutBucketPolicyStatus"),
        ),
    ];
    for (case, source, dt, detail) in near_misses {
        entries.push(entry(source, dt, detail, case));
    }
    // One that must match, built the same way as the near-misses.
    entries.push(entry(
        "aws.s3",
        "AWS API Call via CloudTrail",
        base.clone(),
        "built-match",
    ));
    expected
        .entry("BucketGuard".into())
        .or_default()
        .insert("built-match".into());
    expected
        .entry("Forward".into())
        .or_default()
        .insert("built-match".into());

    put_all(&eb, &entries).await?;

    for (name, url) in &queues {
        let got = received_cases(&sqs, url).await?;
        let guard = name.rsplit('-').next().unwrap_or(name);
        let want = expected.get(guard).cloned().unwrap_or_default();
        assert_eq!(got, want, "rule {name}");
    }
    // The fixtures hold every guarded call at least once.
    for rule in ["BucketGuard", "RoleGuard", "KeyGuard"] {
        assert!(expected[rule].len() >= 2, "{rule}: {:?}", expected[rule]);
    }
    Ok(())
}

/// The deployment the central template hands tamper-guard (`GUARD_DEPLOYMENT`), with
/// example values for what the stack fills in.
fn template_deployment(central: &Value) -> Result<crossguard_engine::tamper::Deployment> {
    use crossguard_engine::tamper::Deployment;
    let guard = &central["Resources"]["TamperGuard"]["Properties"];
    let sub = &guard["Environment"]["Variables"]["GUARD_DEPLOYMENT"]["Fn::Sub"];
    let mut text = sub[0]
        .as_str()
        .context("GUARD_DEPLOYMENT is a Fn::Sub list")?
        .to_string();
    for (var, value) in [
        ("${AWS::Region}", "eu-west-1"),
        ("${MemberRoleName}", "crossguard-remediation"),
        (
            "${Topic}",
            "arn:aws:sns:eu-west-1:555555555555:crossguard-alerts",
        ),
        ("${TrailName}", "org-trail"),
        ("${Evidence}", "crossguard-evidence"),
        (
            "${Key}",
            "arn:aws:kms:eu-west-1:555555555555:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        (
            "${Common}",
            "arn:aws:iam::555555555555:policy/crossguard-GuardCommon-ABC",
        ),
        ("${AWS::AccountId}", "555555555555"),
    ] {
        text = text.replace(var, value);
    }
    assert!(!text.contains("${"), "an unresolved variable: {text}");
    Deployment::from_json(&text).map_err(anyhow::Error::msg)
}

/// The tamper rule takes every call the tamper check watches (Lambda's under their
/// versioned names) and not their near-misses; the deployment the template hands
/// tamper-guard names every function, rule and role the template makes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tamper_rule_and_deployment_cover_the_whole_guard() -> Result<()> {
    use crossguard_engine::tamper;
    let central = template("template.yaml")?;
    let resources = central["Resources"].as_object().context("Resources")?;
    let guard = &central["Resources"]["TamperGuard"]["Properties"];

    let dep = template_deployment(&central)?;
    for (_, r) in resources {
        let p = &r["Properties"];
        match r["Type"].as_str() {
            Some("AWS::Serverless::Function") => {
                let f = p["FunctionName"].as_str().context("FunctionName")?;
                assert!(
                    dep.functions.iter().any(|x| x == f),
                    "{f} is not in GUARD_DEPLOYMENT"
                );
                for (_, e) in p["Events"].as_object().into_iter().flatten() {
                    let rule = e["Properties"]["RuleName"].as_str().context("RuleName")?;
                    assert!(
                        dep.rules.iter().any(|x| x == rule),
                        "{rule} is not in GUARD_DEPLOYMENT"
                    );
                }
            }
            Some("AWS::IAM::Role") => {
                let name = match &p["RoleName"] {
                    Value::String(s) => s.clone(),
                    v => v["Fn::Sub"]
                        .as_str()
                        .context("RoleName")?
                        .replace("${AWS::Region}", "eu-west-1"),
                };
                assert!(
                    dep.roles.contains(&name),
                    "{name} is not in GUARD_DEPLOYMENT"
                );
            }
            _ => {}
        }
    }

    // The rule, run by EventBridge on moto.
    let pattern = &guard["Events"]["TamperChecks"]["Properties"]["Pattern"];
    let moto = Moto::start()?;
    let sdk = moto.sdk().await;
    let eb = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = rule_to_queue(&eb, &sqs, "tamper", pattern).await?;
    let mut want = BTreeSet::new();
    let mut entries = Vec::new();
    let calls: Vec<(&str, String, bool)> = tamper::watched_calls()
        .map(|(source, name)| {
            let name = if source == "lambda.amazonaws.com" {
                format!("{name}20150331v2")
            } else {
                name.to_string()
            };
            (source, name, true)
        })
        .chain([
            ("events.amazonaws.com", "EnableRule".to_string(), false),
            ("s3.amazonaws.com", "GetBucketPolicy".to_string(), false),
            (
                "lambda.amazonaws.com",
                "ListFunctions20150331".to_string(),
                false,
            ),
            (
                "cloudtrail.amazonaws.com",
                "StartLogging".to_string(),
                false,
            ),
        ])
        .collect();
    for (i, (source, name, watched)) in calls.iter().enumerate() {
        let case = format!("call-{i}-{name}");
        if *watched {
            want.insert(case.clone());
        }
        let svc = source.trim_end_matches(".amazonaws.com");
        let detail = json!({"eventSource": source, "eventName": name});
        entries.push(entry(
            &format!("aws.{svc}"),
            "AWS API Call via CloudTrail",
            detail,
            &case,
        ));
    }
    put_all(&eb, &entries).await?;
    let got = received_cases(&sqs, &url).await?;
    assert_eq!(got, want);
    Ok(())
}

/// (case, source, eventName, requestParameters, which member rule carries it, whether the
/// engine calls it the guard's).
type MemberCase = (
    String,
    &'static str,
    &'static str,
    Value,
    Option<&'static str>,
    bool,
);

/// A member account's calls on its own forwarding parts reach tamper-guard: the member
/// template names every rule it makes as GUARD_DEPLOYMENT's `member_rules` lists them and
/// its roles among `roles`; its two guard rules (each carrying calls on the other) and its
/// role rule, run by EventBridge on moto, forward exactly the calls on those parts; what
/// they forward matches the central tamper rule; and the engine calls each a violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_calls_on_its_forwarding_parts_reach_the_tamper_check() -> Result<()> {
    use crossguard_engine::tamper;
    let central = template("template.yaml")?;
    let member = template("member-account.yaml")?;
    let dep = template_deployment(&central)?;

    // The deployment names the member's parts exactly, and only those.
    let mut made = BTreeSet::new();
    for (logical, r) in member["Resources"].as_object().context("Resources")? {
        let p = &r["Properties"];
        match r["Type"].as_str() {
            Some("AWS::Events::Rule") => {
                let name = p["Name"].as_str().context("Name")?;
                // The guard rules forward calls on crossguard-forward-* rules.
                assert!(name.starts_with("crossguard-forward-"), "{name}");
                assert!(
                    dep.member_rules.iter().any(|x| x == name),
                    "{name} is not in GUARD_DEPLOYMENT's member_rules"
                );
                made.insert(name.to_string());
            }
            Some("AWS::IAM::Role") => {
                let name = match &p["RoleName"] {
                    Value::String(s) => s.clone(),
                    v if v["Ref"] == "RemediationRoleName" => "crossguard-remediation".into(),
                    v => bail!("{logical}: RoleName {v}"),
                };
                // The scan role only reads, for `crossguard scan --org`: not on the
                // guard's path (its trust changes are role-guard's).
                if logical != "ScanRole" {
                    assert!(
                        dep.roles.contains(&name),
                        "{name} is not in GUARD_DEPLOYMENT"
                    );
                }
            }
            _ => {}
        }
    }
    let listed: BTreeSet<String> = dep.member_rules.iter().cloned().collect();
    assert_eq!(listed, made, "member_rules and the member template's rules");

    // The member's rules that carry tamper calls, and the central tamper rule.
    let vars = BTreeMap::from([("RemediationRoleName", "crossguard-remediation".to_string())]);
    let pattern = |logical: &str| -> Result<Value> {
        let p = &member["Resources"][logical]["Properties"]["EventPattern"];
        assert!(p.is_object(), "member-account.yaml has no {logical}");
        resolve(p, &vars)
    };
    let carriers = [
        ("guard-changes", pattern("ForwardGuardChanges")?),
        ("guard-watchdog", pattern("ForwardGuardWatchdog")?),
        ("role-changes", pattern("ForwardRemediationRoleChanges")?),
        (
            "central-tamper",
            central["Resources"]["TamperGuard"]["Properties"]["Events"]["TamperChecks"]
                ["Properties"]["Pattern"]
                .clone(),
        ),
    ];
    let moto = Moto::start()?;
    let sdk = moto.sdk().await;
    let eb = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let mut queues = BTreeMap::new();
    for (name, p) in &carriers {
        queues.insert(*name, rule_to_queue(&eb, &sqs, name, p).await?);
    }

    let mut cases: Vec<MemberCase> = Vec::new();
    for rule in &made {
        for (call, field) in [
            ("DisableRule", "name"),
            ("DeleteRule", "name"),
            ("PutRule", "name"),
            ("RemoveTargets", "rule"),
            ("PutTargets", "rule"),
        ] {
            cases.push((
                format!("{call}-{rule}"),
                "events.amazonaws.com",
                call,
                json!({ field: rule }),
                Some("guard"),
                true,
            ));
        }
    }
    for role in [
        "crossguard-forwarding",
        "CROSSGUARD-FORWARDING",
        "crossguard-remediation",
    ] {
        for call in [
            "PutRolePolicy",
            "DeleteRolePolicy",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "PutRolePermissionsBoundary",
            "DeleteRolePermissionsBoundary",
            "UpdateAssumeRolePolicy",
            "DeleteRole",
        ] {
            cases.push((
                format!("{call}-{role}"),
                "iam.amazonaws.com",
                call,
                json!({ "roleName": role }),
                Some("role-changes"),
                true,
            ));
        }
    }
    // Near-misses: a look-alike is forwarded (the filter is wider than the names) and
    // told apart by the engine; the rest are not forwarded.
    cases.extend([
        (
            "lookalike-rule".to_string(),
            "events.amazonaws.com",
            "DisableRule",
            json!({"name": "crossguard-forward-mine"}),
            Some("guard"),
            false,
        ),
        (
            "enable-rule".to_string(),
            "events.amazonaws.com",
            "EnableRule",
            json!({"name": "crossguard-forward-guard-changes"}),
            None,
            false,
        ),
        (
            "other-rule".to_string(),
            "events.amazonaws.com",
            "DisableRule",
            json!({"name": "team-rule"}),
            None,
            false,
        ),
        (
            "other-targets".to_string(),
            "events.amazonaws.com",
            "RemoveTargets",
            json!({"rule": "team-rule", "ids": ["1"]}),
            None,
            false,
        ),
        (
            "other-role".to_string(),
            "iam.amazonaws.com",
            "PutRolePolicy",
            json!({"roleName": "crossguard-forwarding-2"}),
            None,
            false,
        ),
        (
            "read-only".to_string(),
            "iam.amazonaws.com",
            "GetRole",
            json!({"roleName": "crossguard-forwarding"}),
            None,
            false,
        ),
    ]);

    let mut want: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut entries = Vec::new();
    for (case, source, call, params, carrier, ours) in &cases {
        let detail = json!({
            "eventSource": source, "eventName": call, "requestParameters": params,
            "recipientAccountId": MEMBER, "awsRegion": "us-east-1",
            "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{MEMBER}:user/mallory"), "accountId": MEMBER},
        });
        match *carrier {
            Some("guard") => {
                want.entry("guard-changes")
                    .or_default()
                    .insert(case.clone());
                want.entry("guard-watchdog")
                    .or_default()
                    .insert(case.clone());
            }
            Some(rule) => {
                want.entry(rule).or_default().insert(case.clone());
            }
            None => {}
        }
        // What a member forwards, the central tamper rule takes.
        if carrier.is_some() {
            want.entry("central-tamper")
                .or_default()
                .insert(case.clone());
        }
        // The engine on the forwarded record: the guard's parts are violations.
        let mut rec = detail.clone();
        rec["eventID"] = json!(case);
        let d = tamper::decide(
            &rec,
            None,
            &dep,
            &crossguard_engine::Allowlist::from_toml(
                "version = 1\nmode = \"remediate\"\n",
                "a.toml",
            )
            .map_err(|e| anyhow::anyhow!("{e:?}"))?,
            crossguard_engine::Options {
                today: crossguard_engine::Date::new(2026, 12, 2).context("date")?,
                mode: None,
            },
        );
        match (ours, &d) {
            (true, Some(d)) => {
                assert_eq!(
                    d.verdict,
                    crossguard_engine::Verdict::Violation,
                    "{case}: {}",
                    d.reason
                );
                // Never undone from the security account.
                assert!(d.remediation.is_none(), "{case}");
            }
            (false, None) => {}
            _ => bail!("{case}: {:?}", d.map(|d| d.reason)),
        }
        let svc = source.trim_end_matches(".amazonaws.com");
        entries.push(entry(
            &format!("aws.{svc}"),
            "AWS API Call via CloudTrail",
            detail,
            case,
        ));
    }
    put_all(&eb, &entries).await?;
    for (name, url) in &queues {
        let got = received_cases(&sqs, url).await?;
        let want = want.remove(name).unwrap_or_default();
        if *name == "central-tamper" {
            // Coarse on purpose (it takes the unforwarded near-misses too, all on one
            // bus here): it must take everything a member forwards.
            let missed: Vec<_> = want.difference(&got).collect();
            assert!(
                missed.is_empty(),
                "the central tamper rule misses {missed:?}"
            );
        } else {
            assert_eq!(got, want, "rule {name}");
        }
    }
    Ok(())
}

/// hub-exporter's rule, run by EventBridge on moto: every new object under `evidence/`
/// of the evidence bucket (tamper records too), and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_hub_rule_takes_each_new_evidence_object_only() -> Result<()> {
    let central = template("template.yaml")?;
    let exporter = &central["Resources"]["HubExporter"];
    assert_eq!(exporter["Condition"], "ExportsToSecurityHub");
    let props = &central["Resources"]["EvidenceBucket"]["Properties"];
    assert!(
        props["NotificationConfiguration"]
            .to_string()
            .contains("EventBridgeEnabled"),
        "the evidence bucket must send its events to EventBridge"
    );
    let vars = BTreeMap::from([("EvidenceBucket", "crossguard-evidence".to_string())]);
    let pattern = resolve(
        &exporter["Properties"]["Events"]["EvidenceRecorded"]["Properties"]["Pattern"],
        &vars,
    )?;
    let moto = Moto::start()?;
    let sdk = moto.sdk().await;
    let eb = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = rule_to_queue(&eb, &sqs, "hub", &pattern).await?;
    let cases = [
        (
            "record",
            "Object Created",
            "crossguard-evidence",
            "evidence/e-1.json",
            true,
        ),
        (
            "tamper",
            "Object Created",
            "crossguard-evidence",
            "evidence/tamper/e-2.json",
            true,
        ),
        (
            "elsewhere",
            "Object Created",
            "other-bucket",
            "evidence/e-3.json",
            false,
        ),
        (
            "allowlist",
            "Object Created",
            "crossguard-evidence",
            "crossguard/allowlist.toml",
            false,
        ),
        (
            "deleted",
            "Object Deleted",
            "crossguard-evidence",
            "evidence/e-4.json",
            false,
        ),
    ];
    let mut want = BTreeSet::new();
    let mut entries = Vec::new();
    for (case, detail_type, bucket, key, taken) in cases {
        if taken {
            want.insert(case.to_string());
        }
        let detail = json!({"bucket": {"name": bucket}, "object": {"key": key}});
        entries.push(entry("aws.s3", detail_type, detail, case));
    }
    put_all(&eb, &entries).await?;
    assert_eq!(received_cases(&sqs, &url).await?, want);
    Ok(())
}
