//! A built guard function behind the real Lambda runtime API: `cargo lambda watch`
//! (the runtime emulator) runs `bucket-guard`, `cargo lambda invoke --data-file` sends it
//! an EventBridge event, and the emulator's state shows what the function did.

use anyhow::{bail, Context, Result};
use crossguard_emulator_tests::{free_port, root, venv_bin, Estate, Moto, ACCOUNT};
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `cargo lambda watch` and the function it starts, stopped together when dropped.
struct Watch {
    child: Child,
}

impl Drop for Watch {
    fn drop(&mut self) {
        // The watcher stops its function and itself on SIGINT (Ctrl-C), not on SIGTERM.
        // Sent to its own process group by the syscall: procps' `kill -INT -PGID` reads
        // "-PGID" as a signal option and signalled an unrelated group (make's, in CI).
        if let Ok(pgid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: killpg only sends a signal; the group is the one this test created.
            unsafe { libc::killpg(pgid, libc::SIGINT) };
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn invoke(cargo_lambda: &std::path::Path, port: u16, data: &std::path::Path) -> Result<Value> {
    let out = Command::new(cargo_lambda)
        .args([
            "lambda",
            "invoke",
            "bucket-guard",
            "--output-format",
            "json",
        ])
        .args(["-A", "127.0.0.1", "-P", &port.to_string()])
        .arg("--data-file")
        .arg(data)
        .output()?;
    if !out.status.success() {
        bail!(
            "cargo lambda invoke: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_guard_runs_behind_the_lambda_runtime_api() -> Result<()> {
    let moto = Moto::start()?;
    let estate = Estate::new(moto.sdk().await).await?;
    // The function runs with MODE=remediate: the build account's pairing covers this
    // bucket, so its grant stays and the public one goes.
    let bucket = "build-artifacts";
    let keep = json!({
        "Sid": "BuildReads", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:role/ci-runner"},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")
    });
    let bad = json!({
        "Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")
    });
    let policy = json!({"Version": "2012-10-17", "Statement": [keep.clone(), bad]});

    let id = "aaaaaaaa-0000-4000-8000-000000000001";
    let event = estate.bucket_policy_put(bucket, &policy, id).await?;
    let dir = root().join("target").join("lambda-invoke");
    std::fs::create_dir_all(&dir)?;
    let data = dir.join(format!("event-{}.json", moto.port));
    std::fs::write(&data, serde_json::to_vec(&event)?)?;

    let cargo_lambda = venv_bin("cargo-lambda")?;
    let port = free_port()?;
    let profile = std::env::var("CROSSGUARD_PROFILE").unwrap_or_else(|_| "ci".into());
    let mut cmd = Command::new(&cargo_lambda);
    cmd.args(["lambda", "watch", "--ignore-changes", "--quiet"])
        .args(["-A", "127.0.0.1", "-P", &port.to_string()])
        .args(["--profile", &profile])
        .arg("--manifest-path")
        .arg(root().join("functions/bucket-guard/Cargo.toml"))
        .current_dir(root())
        // Only what a shell would pass: the variables `cargo test` sets for this process
        // would make the nested build look stale and rebuild every dependency.
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| {
            matches!(
                k.as_str(),
                // CARGO_TARGET_DIR: the build `make test` made first is found there.
                "PATH" | "HOME" | "CARGO_HOME" | "RUSTUP_HOME" | "TMPDIR" | "CARGO_TARGET_DIR"
            )
        }))
        .stderr(std::fs::File::create(dir.join("watch.log"))?)
        .stdin(Stdio::null())
        .process_group(0);
    cmd.arg("--env-var").arg("MODE=remediate");
    for (k, v) in moto.function_env(&estate.topic_arn) {
        cmd.arg("--env-var").arg(format!("{k}={v}"));
    }
    let _watch = Watch {
        child: cmd.spawn().context("starting cargo lambda watch")?,
    };

    // The first invoke waits for the build; retry while the emulator comes up.
    let deadline = Instant::now() + Duration::from_secs(600);
    let response = loop {
        match invoke(&cargo_lambda, port, &data) {
            Ok(v) => break v,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    };

    // The function's own answer, through the runtime API.
    assert_eq!(response[0]["event_id"], id, "{response}");
    assert_eq!(response[0]["outcome"], "remediated", "{response}");

    // And the emulator's state.
    let after = estate
        .bucket_policy(bucket)
        .await?
        .expect("approved grant kept");
    assert_eq!(after["Statement"], json!([keep]));
    let alerts = estate.alerts().await?;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].attributes["account"], ACCOUNT);
    assert_eq!(alerts[0].attributes["severity"], "critical");
    let ev = estate.evidence(id).await?.expect("evidence");
    assert_eq!(ev["outcome"], "remediated");
    assert_eq!(ev["decision"]["remediation"]["policy"], after);

    // The same event again, through the same running function: nothing more happens.
    let again = invoke(&cargo_lambda, port, &data)?;
    assert_eq!(again[0]["outcome"], "duplicate", "{again}");
    assert!(estate.alerts().await?.is_empty());
    Ok(())
}
