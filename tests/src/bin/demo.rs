//! `make demo`: the guard Lambdas' story on a local AWS emulator. A production account
//! (222222222222) shares with its build account (111111111111) and an audit vendor
//! (333333333333). People change policies; each change's CloudTrail event reaches the
//! guard, which reads the live policy, decides, alerts or fixes, and keeps evidence.

// Scenarios read top to bottom, helpers take values as written, sizes are small: the
// workspace's length and cast lints are for the product code.
#![allow(
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]

use anyhow::{Context, Result};
use crossguard_emulator_tests::kinds::Door;
use crossguard_emulator_tests::{load_event, params, parse, Estate, Moto, EVIDENCE_BUCKET};
use crossguard_engine::ResourceKind;
use serde_json::{json, Value};

const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn say(title: &str, text: &str) {
    println!("\n{BOLD}== {title}{RESET}\n{text}\n");
}

/// One line per statement: who may do what, on which condition.
fn describe(policy: Option<&Value>) -> String {
    let Some(p) = policy else {
        return "    (no policy)".into();
    };
    let statements = match &p["Statement"] {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let list = |v: &Value| match v {
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().unwrap_or("?").to_string())
            .collect::<Vec<_>>()
            .join(", "),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    statements
        .iter()
        .map(|s| {
            let who = match &s["Principal"] {
                Value::String(x) => x.clone(),
                Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", list(v)))
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => "?".into(),
            };
            let cond = match &s["Condition"] {
                Value::Null => String::new(),
                c => format!("  if {c}"),
            };
            format!(
                "    {:5} {}  ->  {}{}",
                s["Effect"].as_str().unwrap_or("?"),
                who,
                list(&s["Action"]),
                cond
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the live resource's policy is now.
async fn live(estate: &Estate, kind: &str, name: &str) -> Result<Option<Value>> {
    Ok(match kind {
        "bucket" => estate.bucket_policy(name).await?,
        "role" => Some(estate.role_trust(name).await?),
        "queue" => estate.policy_of(&queue(name)).await?,
        _ => Some(estate.key_policy(name).await?),
    })
}

fn queue(name: &str) -> Door {
    Door {
        kind: ResourceKind::Queue,
        name: name.to_string(),
        arn: format!("arn:aws:sqs:eu-west-1:222222222222:{name}"),
    }
}

async fn play(estate: &Estate, file: &str, key_id: &str) -> Result<()> {
    let mut event = load_event(&format!("examples/events/{file}"))?;
    let d = &event["detail"];
    let name = d["eventName"].as_str().unwrap_or("").to_string();
    let failed = d.get("errorCode").is_some();
    let actor = d["userIdentity"]["arn"].as_str().unwrap_or("?").to_string();
    let (kind, resource) = match name.as_str() {
        "PutBucketPolicy" | "DeleteBucketPolicy" => (
            "bucket",
            d["requestParameters"]["bucketName"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        ),
        "UpdateAssumeRolePolicy" | "CreateRole" => (
            "role",
            d["requestParameters"]["roleName"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        ),
        "AddPermission" => (
            "queue",
            d["requestParameters"]["queueUrl"]
                .as_str()
                .and_then(|u| u.rsplit('/').next())
                .unwrap_or("")
                .to_string(),
        ),
        _ => ("key", key_id.to_string()),
    };
    if kind == "key" {
        // The example names a made-up key: point it at the one the emulator created.
        params(&mut event)["keyId"] = json!(key_id);
        event["detail"]["resources"] = json!([{
            "accountId": "222222222222", "type": "AWS::KMS::Key",
            "ARN": format!("arn:aws:kms:eu-west-1:222222222222:key/{key_id}")
        }]);
    }

    // What the person did, on the emulator (a failed call changed nothing).
    if !failed {
        let p = &event["detail"]["requestParameters"];
        match name.as_str() {
            "PutBucketPolicy" => {
                estate
                    .put_bucket_policy(&resource, &p["bucketPolicy"])
                    .await?;
            }
            "UpdateAssumeRolePolicy" => {
                estate
                    .update_trust(
                        &resource,
                        &parse(p["policyDocument"].as_str().unwrap_or(""))?,
                    )
                    .await?;
            }
            "PutKeyPolicy" => {
                estate
                    .put_key_policy(&resource, &parse(p["policy"].as_str().unwrap_or(""))?)
                    .await?;
            }
            "AddPermission" => {
                let url = estate
                    .sqs
                    .get_queue_url()
                    .queue_name(&resource)
                    .send()
                    .await?
                    .queue_url
                    .context("queue url")?;
                let strings = |v: &Value| -> Vec<String> {
                    v.as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                estate
                    .sqs
                    .add_permission()
                    .queue_url(url)
                    .label(p["label"].as_str().unwrap_or("grant"))
                    .set_aws_account_ids(Some(strings(&p["aWSAccountIds"])))
                    .set_actions(Some(strings(&p["actions"])))
                    .send()
                    .await?;
            }
            _ => {}
        }
    }
    let before = if resource.is_empty() {
        None
    } else {
        live(estate, kind, &resource).await?
    };
    let target = if resource.is_empty() {
        String::new()
    } else {
        format!(" on {kind}/{resource}")
    };
    let fail = if failed { " (the call FAILED)" } else { "" };
    println!("  {name}{target} by {actor}{fail}");
    if !resource.is_empty() {
        println!("  policy now:\n{}", describe(before.as_ref()));
    }

    let config = estate.config();
    let handled = match kind {
        "bucket" => {
            estate
                .bucket_guard(&config)
                .await?
                .handle_value(&event, file)
                .await?
        }
        "role" => {
            estate
                .role_guard(&config)
                .await?
                .handle_value(&event, file)
                .await?
        }
        "queue" => {
            estate
                .handle(ResourceKind::Queue, &config, &event, file)
                .await?
        }
        _ => {
            estate
                .key_guard(&config)
                .await?
                .handle_value(&event, file)
                .await?
        }
    };
    let h = handled.first().context("no record handled")?;
    let evidence = estate.evidence(&h.event_id).await?.unwrap_or(Value::Null);
    println!(
        "\n  guard: {} -> {}; {}",
        evidence["decision"]["verdict"].as_str().unwrap_or("?"),
        h.outcome,
        evidence["decision"]["reason"].as_str().unwrap_or("")
    );
    for a in estate.alerts().await? {
        let attrs: Vec<String> = a
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        println!(
            "\n  SNS alert [{}]\n  Subject: {}",
            attrs.join(" "),
            a.subject
        );
        for line in a
            .message
            .lines()
            .skip(2)
            .take_while(|l| !l.starts_with("Decision (JSON)"))
        {
            println!("  | {line}");
        }
    }
    let after = if resource.is_empty() {
        None
    } else {
        live(estate, kind, &resource).await?
    };
    if after != before {
        println!("\n  policy after the guard:\n{}", describe(after.as_ref()));
    }
    println!("  evidence: s3://{EVIDENCE_BUCKET}/{}", h.evidence);
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let moto =
        Moto::start().context("starting moto server (run `make demo`, which installs it)")?;
    println!(
        "moto server (a local AWS emulator) on {}: account 222222222222",
        moto.endpoint
    );
    let estate = Estate::new(moto.sdk().await).await?;

    // The estate: two buckets, the vendor's role (ExternalId required), a KMS key and the
    // build pipeline's queue, which the build account may send to.
    for b in ["build-artifacts", "prod-data"] {
        estate.create_bucket(b).await?;
    }
    estate
        .create_role(
            "VendorAudit",
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::333333333333:root"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "vendor-7f3a"}}}]}),
        )
        .await?;
    let key_id = estate
        .create_key(
            &json!({"Version": "2012-10-17", "Statement": [{"Sid": "Enable IAM User Permissions",
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
            "Action": "kms:*", "Resource": "*"}]}),
        )
        .await?;

    let build_events = estate.create(ResourceKind::Queue, "build-events").await?;
    estate
        .set_policy(
            &build_events,
            &json!({"Version": "2012-10-17", "Statement": [{"Sid": "BuildSends", "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sqs:SendMessage",
                "Resource": build_events.arn}]}),
        )
        .await?;
    say(
        "The allowlist (examples/allowlist.toml)",
        "build account 111111111111 may read bucket/build-artifacts and decrypt with keys (SEC-1234);\n\
         it may also send to its build-* queues, publish to its topics, pull its images (SEC-1250);\n\
         vendor 333333333333 may assume role/VendorAudit with an ExternalId (SEC-2001);\n\
         prod-* buckets are fixed automatically (remediate), everything else alerts;\n\
         the guard's own roles (crossguard-*) are ignored.",
    );
    let story = [
        ("1. An approved share", "The build account's CI role may read release artifacts.", "1-approved-share.json"),
        ("2. An unapproved account slips in", "Someone adds account 999999999999 beside the build role (alert mode: reported, not changed).", "2-unapproved-account.json"),
        ("3. A production bucket made public", "prod-* is in remediate mode: the public grant is removed.", "3-public-bucket.json"),
        ("4. A vendor role trust without ExternalId", "The vendor may assume the role only with sts:ExternalId (confused-deputy protection).", "4-role-trust-no-external-id.json"),
        ("5. A KMS key shared with an outside account", "An outsider gets kms:Decrypt on a key.", "5-key-policy-outside.json"),
        ("6. The guard's own fix comes back as an event", "The guard's role applies step 2's planned fix (999999999999 out). Its own event matches\nignore_actors: recorded, never acted on again.", "6-guard-own-fix.json"),
        ("7. A call that failed", "AccessDenied: nothing changed, nothing to do, but it is on record.", "7-failed-call.json"),
        ("8. A queue opened to an outside account", "AddPermission lets 444444444444 send to queue/build-events. The call carries only the grant:\nthe queue guard reads the whole live policy, keeps the build account's approved share, reports the outsider.", "8-queue-outside-account.json"),
    ];
    for (title, text, file) in story {
        say(title, text);
        play(&estate, file, &key_id).await?;
    }
    let listed = estate
        .s3
        .list_objects_v2()
        .bucket(EVIDENCE_BUCKET)
        .send()
        .await?;
    say(
        "Evidence",
        &format!(
            "{} records in s3://{EVIDENCE_BUCKET}/evidence/, one per event: the event, the policy before, the decision, what was done, the removed grants.",
            listed.key_count.unwrap_or(0)
        ),
    );
    // The auditor's copy, for `make demo` to replay once the emulator is gone.
    let out = crossguard_emulator_tests::root().join("target/demo/evidence");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    for key in listed.contents().iter().filter_map(|o| o.key()) {
        let body = crossguard_guard::aws::get_object(&estate.s3, EVIDENCE_BUCKET, key)
            .await?
            .unwrap_or_default();
        let name = key.rsplit('/').next().unwrap_or(key);
        std::fs::write(out.join(name), body)?;
    }
    drop(moto);
    println!("moto server stopped; evidence records copied to target/demo/evidence/.");
    Ok(())
}
