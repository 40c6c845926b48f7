//! `crossguard scan` against moto server: every resource of every kind (paged listings
//! two a page), each decided against the example allowlist.

// Scenarios read top to bottom, helpers take values as written, sizes are small: the
// workspace's length and cast lints are for the product code.
#![allow(
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]

#[path = "../../shared/tests/support/ocsf_schema.rs"]
mod ocsf_schema;

use crossguard_emulator_tests::{free_port, Estate, Moto, ACCOUNT};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_crossguard");

fn scan(env: &[(String, String)], args: &[&str]) -> Output {
    let allowlist = crossguard_emulator_tests::root().join("examples/allowlist.toml");
    Command::new(BIN)
        .args(["scan", "--as-of", "2026-06-01", "--allowlist"])
        .arg(allowlist)
        .args(args)
        .env_remove("AWS_PROFILE")
        .envs(env.iter().cloned())
        .output()
        .unwrap()
}

/// The OCSF run's lines are one conforming Detection Finding per JSON row, in order,
/// with the row's verdict, resource and account.
fn same_as_ocsf(json: &Output, ocsf: &Output) {
    let lines = |o: &Output| -> Vec<Value> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (rows, findings) = (lines(json), lines(ocsf));
    assert_eq!(findings.len(), rows.len());
    for (f, d) in findings.iter().zip(&rows) {
        let faults = ocsf_schema::faults(f);
        assert!(faults.is_empty(), "{faults:?}\n{f:#}");
        assert_eq!(f["unmapped"]["crossguard"]["verdict"], d["verdict"]);
        assert_eq!(f["resources"][0]["uid"], d["resource"]["arn"]);
        assert_eq!(f["cloud"]["account"]["uid"], ACCOUNT);
    }
}

fn aws_env(moto: &Moto) -> Vec<(String, String)> {
    moto.cli_env()
}

fn trust(principal: Value, condition: Option<Value>) -> Value {
    let mut st = json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"});
    if let Some(c) = condition {
        st["Condition"] = c;
    }
    json!({"Version": "2012-10-17", "Statement": [st]})
}

fn bucket_policy(bucket: &str, principal: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": principal}, "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*")}]})
}

fn key_policy(outside: Option<&str>) -> Value {
    let mut statements = vec![json!({"Sid": "Admin", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "kms:*", "Resource": "*"})];
    if let Some(acct) = outside {
        statements.push(json!({"Sid": "Outside", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")},
            "Action": "kms:Decrypt", "Resource": "*"}));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_reads_every_page_and_decides_every_resource() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let mut want: BTreeMap<String, &str> = BTreeMap::new();

    for (name, principal, verdict) in [
        (
            "build-artifacts",
            Some("arn:aws:iam::111111111111:role/ci-runner"),
            "compliant",
        ),
        ("prod-data", Some("*"), "violation"),
        (
            "vendor-drop",
            Some("arn:aws:iam::999999999999:root"),
            "violation",
        ),
        ("plain-1", None, "compliant"),
        ("plain-2", None, "compliant"),
    ] {
        estate.create_bucket(name).await?;
        if let Some(p) = principal {
            estate
                .put_bucket_policy(name, &bucket_policy(name, p))
                .await?;
        }
        want.insert(format!("bucket/{name}"), verdict);
    }
    want.insert(
        format!("bucket/{}", crossguard_emulator_tests::EVIDENCE_BUCKET),
        "compliant",
    );
    // Every bucket's ACL is a row of its own: the owner's alone is compliant. So is its
    // Block Public Access: off (none set, as moto leaves it) is a violation, except on
    // the one bucket that has it on.
    let buckets: Vec<String> = want.keys().cloned().collect();
    for b in buckets {
        want.insert(format!("{b} (acl)"), "compliant");
        let on = b == "bucket/plain-1";
        want.insert(
            format!("{b} (bpa)"),
            if on { "compliant" } else { "violation" },
        );
    }
    estate
        .s3
        .put_public_access_block()
        .bucket("plain-1")
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await?;
    // The account's own settings: off, and approved, since the example allowlist means
    // www-example-com to be public.
    want.insert("bucket/* (bpa)".into(), "compliant");
    // A bucket opened by its ACL, with no policy at all.
    estate.create_bucket("acl-public").await?;
    estate
        .s3
        .put_bucket_acl()
        .bucket("acl-public")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await?;
    want.insert("bucket/acl-public".into(), "compliant");
    want.insert("bucket/acl-public (acl)".into(), "violation");
    want.insert("bucket/acl-public (bpa)".into(), "violation");

    let with_id = json!({"StringEquals": {"sts:ExternalId": "vendor-secret"}});
    let own = json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")});
    for (name, doc, verdict) in [
        (
            "VendorAudit",
            trust(
                json!({"AWS": "arn:aws:iam::333333333333:root"}),
                Some(with_id),
            ),
            "compliant",
        ),
        (
            "Backdoor",
            trust(json!({"AWS": "arn:aws:iam::999999999999:root"}), None),
            "violation",
        ),
        (
            "LambdaExec",
            trust(json!({"Service": "lambda.amazonaws.com"}), None),
            "compliant",
        ),
        ("Internal1", trust(own.clone(), None), "compliant"),
        ("Internal2", trust(own.clone(), None), "compliant"),
        ("Internal3", trust(own.clone(), None), "compliant"),
        ("Internal4", trust(own, None), "compliant"),
    ] {
        estate.create_role(name, &doc).await?;
        want.insert(format!("role/{name}"), verdict);
    }

    for (outside, verdict) in [
        (None, "compliant"),
        (Some("999999999999"), "violation"),
        (Some("111111111111"), "compliant"),
    ] {
        let id = estate.create_key(&key_policy(outside)).await?;
        want.insert(format!("key/{id}"), verdict);
    }

    let env = aws_env(&moto);
    let three = ["--kind", "bucket", "--kind", "role", "--kind", "key"];
    let out = scan(
        &env,
        &[&["--format", "json", "--page-size", "2"][..], &three].concat(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same scan as OCSF: one conforming Detection Finding per row, same verdicts.
    let ocsf = scan(
        &env,
        &[&["--format", "ocsf", "--page-size", "2"][..], &three].concat(),
    );
    assert_eq!(ocsf.status.code(), Some(1));
    same_as_ocsf(&out, &ocsf);
    let got: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["origin"], "scan");
            assert_eq!(v["resource"]["account"], ACCOUNT);
            let reason = v["reason"].as_str().unwrap();
            let door = if reason.starts_with("bucket ACL:") {
                " (acl)"
            } else if reason.contains("Block Public Access") {
                " (bpa)"
            } else {
                ""
            };
            (
                format!(
                    "{}/{}{door}",
                    v["resource"]["kind"].as_str().unwrap(),
                    v["resource"]["name"].as_str().unwrap(),
                ),
                v["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeMap<String, String> =
        want.into_iter().map(|(k, v)| (k, v.to_string())).collect();
    assert_eq!(got, want);

    // The same estate as a text summary and an HTML report.
    let text = scan(&env, &[&["--page-size", "2"][..], &three].concat());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.starts_with(&format!("scanned {} resource(s)\n", got.len())),
        "{text}"
    );
    assert!(
        text.contains(&format!("{ACCOUNT} -> 999999999999: 0 / 3 / 0")),
        "{text}"
    );
    assert!(!text.contains("actors"), "a scan has no actors: {text}");
    let html = scan(&env, &["--format", "html", "--kind", "role"]);
    let html = String::from_utf8_lossy(&html.stdout);
    assert_eq!(
        html.matches("<tr class=\"violation\" data-event-id")
            .count(),
        1
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_covers_queues_topics_functions_secrets_repositories_and_buses() -> anyhow::Result<()>
{
    use crossguard_emulator_tests::kinds::{approved_action, NEW_KINDS};
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    // The estate's own alert topic (SNS's default policy) and alerts queue (none).
    let mut want: BTreeMap<String, String> = [
        ("topic/crossguard-alerts", "compliant"),
        ("queue/alerts", "compliant"),
        ("bus/default", "compliant"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for kind in NEW_KINDS {
        let action = approved_action(kind);
        // Three of each, listed two a page: approved, outside, none.
        for (n, trusted, verdict) in [
            (1, Some("111111111111"), "compliant"),
            (2, Some("999999999999"), "violation"),
            (3, None, "compliant"),
        ] {
            let door = estate.create(kind, &format!("build-{kind}-{n}")).await?;
            if let Some(t) = trusted {
                let p = json!({"Version": "2012-10-17", "Statement": [{
                    "Sid": "Share", "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{t}:root")},
                    "Action": action, "Resource": door.arn}]});
                estate.set_policy(&door, &p).await?;
            }
            // A topic without a policy of its own keeps SNS's default.
            want.insert(format!("{kind}/{}", door.name), verdict.to_string());
        }
    }
    let env = aws_env(&moto);
    let mut args = vec!["--format", "json", "--page-size", "2"];
    for k in NEW_KINDS {
        args.extend(["--kind", k.as_str()]);
    }
    let out = scan(&env, &args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same scan as OCSF: one conforming Detection Finding per row, same verdicts.
    let mut as_ocsf = args.clone();
    as_ocsf[1] = "ocsf";
    let ocsf = scan(&env, &as_ocsf);
    assert_eq!(ocsf.status.code(), Some(1));
    same_as_ocsf(&out, &ocsf);
    let got: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                format!(
                    "{}/{}",
                    v["resource"]["kind"].as_str().unwrap(),
                    v["resource"]["name"].as_str().unwrap()
                ),
                v["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    // The HTML report shows every kind's rows.
    let html = scan(&env, &[&["--format", "html"][..], &args[2..]].concat());
    let html = String::from_utf8_lossy(&html.stdout);
    assert_eq!(
        html.matches("<tr class=\"violation\" data-event-id")
            .count(),
        6,
        "one per kind"
    );
    for kind in NEW_KINDS {
        assert!(
            html.contains(&format!("{kind}/build-{kind}-2")),
            "{kind} missing from the HTML"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_reports_each_kms_grant_as_its_own_row() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    let id = estate.create_key(&key_policy(None)).await?;
    for grantee in [
        "arn:aws:iam::111111111111:role/ci-runner",
        "arn:aws:iam::999999999999:role/thief",
    ] {
        estate
            .kms
            .create_grant()
            .key_id(&id)
            .grantee_principal(grantee)
            .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
            .send()
            .await?;
    }
    let out = scan(&aws_env(&moto), &["--format", "json", "--kind", "key"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let grants: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r["reason"].as_str().unwrap_or("").starts_with("KMS grant "))
        .map(|r| {
            let account = r["findings"][0]["account"]
                .as_str()
                .unwrap_or("")
                .to_string();
            (account, r["verdict"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(
        grants.into_iter().collect::<BTreeMap<_, _>>(),
        [
            ("111111111111".to_string(), "compliant".to_string()),
            ("999999999999".to_string(), "violation".to_string()),
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(rows.len(), 3, "the key policy and two grants");
    Ok(())
}

#[test]
fn scan_without_a_reachable_aws_says_so() {
    let port = free_port().unwrap();
    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_REGION", "eu-west-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_MAX_ATTEMPTS", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let out = scan(&env, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("finding the account to scan"), "{err}");
    assert!(out.stdout.is_empty());
}

/// `scan --org` on moto with IAM enforced: an organization of three accounts — the
/// management account (the caller's, scanned with its own credentials), a member with the
/// scan role, a member without it. The first two are scanned and reported per account;
/// the third is named as not scanned, and the scan exits 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_org_scans_each_member_through_its_role_and_names_the_one_it_could_not(
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    const ROLE: &str = "crossguard-scan";
    const ALLOW_ALL: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#;
    let moto = Moto::start_multi_account()?;
    let central = moto.sdk().await;
    let orgs = aws_sdk_organizations::Client::new(&central);
    orgs.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await?;
    let mut members = Vec::new();
    for name in ["with-role", "without-role"] {
        let status = orgs
            .create_account()
            .email(format!("{name}@example.com"))
            .account_name(name)
            .send()
            .await?
            .create_account_status
            .context("status")?;
        members.push(status.account_id.context("account id")?);
    }
    let (with_role, without_role) = (members[0].clone(), members[1].clone());
    let own = aws_sdk_sts::Client::new(&central)
        .get_caller_identity()
        .send()
        .await?
        .account
        .context("account")?;
    // As each member's administrators: a bucket shared with an unapproved account, and
    // in the first member the role the scan assumes.
    for (account, bucket) in [
        (&with_role, "org-member-data"),
        (&without_role, "org-hidden-data"),
    ] {
        let creds = aws_sdk_sts::Client::new(&central)
            .assume_role()
            .role_arn(format!(
                "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
            ))
            .role_session_name("admin")
            .send()
            .await?
            .credentials
            .context("credentials")?;
        let sdk = moto
            .sdk_as(
                &creds.access_key_id,
                &creds.secret_access_key,
                Some(&creds.session_token),
            )
            .await;
        let estate = Estate::bare(sdk.clone());
        estate.create_bucket(bucket).await?;
        estate
            .put_bucket_policy(
                bucket,
                &bucket_policy(bucket, "arn:aws:iam::999999999999:root"),
            )
            .await?;
        if account == &with_role {
            let iam = aws_sdk_iam::Client::new(&sdk);
            let trust = trust(
                json!({"AWS": format!("arn:aws:iam::{own}:root")}),
                Some(json!({"StringEquals": {"sts:ExternalId": "org-scan-id"}})),
            );
            iam.create_role()
                .role_name(ROLE)
                .assume_role_policy_document(trust.to_string())
                .send()
                .await?;
            iam.put_role_policy()
                .role_name(ROLE)
                .policy_name("read")
                .policy_document(ALLOW_ALL)
                .send()
                .await?;
        }
    }
    // The caller: a user of the management account allowed everything.
    let iam = aws_sdk_iam::Client::new(&central);
    iam.create_user().user_name("scanner").send().await?;
    iam.put_user_policy()
        .user_name("scanner")
        .policy_name("all")
        .policy_document(ALLOW_ALL)
        .send()
        .await?;
    let key = iam
        .create_access_key()
        .user_name("scanner")
        .send()
        .await?
        .access_key
        .context("key")?;
    let central_estate = Estate::bare(central.clone());
    central_estate.create_bucket("org-central-data").await?;
    let mut env: Vec<(String, String)> = aws_env(&moto)
        .into_iter()
        .filter(|(k, _)| {
            !k.starts_with("AWS_ACCESS_KEY")
                && !k.starts_with("AWS_SECRET")
                && k != "AWS_SESSION_TOKEN"
        })
        .collect();
    env.push(("AWS_ACCESS_KEY_ID".into(), key.access_key_id.clone()));
    env.push((
        "AWS_SECRET_ACCESS_KEY".into(),
        key.secret_access_key.clone(),
    ));
    env.push(("CROSSGUARD_EXTERNAL_ID".into(), "org-scan-id".into()));
    moto.enforce_iam(true)?;
    let out = scan(
        &env,
        &[
            "--org", "--role", ROLE, "--kind", "bucket", "--format", "json",
        ],
    );
    moto.enforce_iam(false)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |account: &str| -> Vec<&Value> {
        rows.iter()
            .filter(|r| r["resource"]["account"] == account || r["event"]["account"] == account)
            .collect()
    };
    let member = of(&with_role);
    let shared = member
        .iter()
        .find(|r| r["resource"]["name"] == "org-member-data")
        .context("the member's bucket")?;
    assert_eq!(shared["verdict"], "violation");
    assert!(
        of(&own)
            .iter()
            .any(|r| r["resource"]["name"] == "org-central-data"),
        "the management account is scanned with the caller's own credentials: {rows:#?}"
    );
    // The account without the role: one error row naming it, never a quiet absence.
    let gap = of(&without_role);
    assert_eq!(gap.len(), 1, "{rows:#?}");
    assert_eq!(gap[0]["verdict"], "error");
    assert!(gap[0]["reason"]
        .as_str()
        .unwrap_or("")
        .contains("not scanned"));
    assert!(
        stderr.contains(&format!("account {without_role}")) && stderr.contains("not scanned"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&format!("account {with_role}")),
        "{stderr}"
    );
    // Where no organization is in use: a clear error, not an empty report.
    let lone = Moto::start()?;
    let out = scan(
        &aws_env(&lone),
        &["--org", "--kind", "bucket", "--format", "csv"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ListAccounts"), "{stderr}");
    assert!(out.stdout.is_empty(), "no report, not even a CSV header");
    let out = scan(&aws_env(&lone), &["--org", "--external-id", " "]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ExternalId"));
    Ok(())
}
