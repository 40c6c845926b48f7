//! The guard functions as Lambda runs them, against a baseline in the same run:
//! - cold start: from exec to the first poll of the runtime API, `bucket-guard` against a
//!   hello-world `lambda_runtime` function built with the same profile (goal ≤ 1.5×);
//! - peak memory (VmHWM) of `bucket-guard` handling one event that carries a 20 KB bucket
//!   policy, on moto server, with the allowlist read from S3 (goal ≤ 32 MB).
//!
//! The binaries come from `make bench` (CROSSGUARD_BENCH_BIN: the directory holding
//! `bucket-guard` and `examples/hello`, built with the deploy profile).

use criterion::{criterion_group, criterion_main, Criterion};
use crossguard_emulator_tests::runtime_api::Function;
use crossguard_emulator_tests::{root, Estate, Moto, ACCOUNT, EVIDENCE_BUCKET};
use std::path::PathBuf;
use std::time::Duration;

fn bin_dir() -> PathBuf {
    std::env::var_os("CROSSGUARD_BENCH_BIN")
        .map_or_else(|| root().join("target/deploy"), PathBuf::from)
}

fn guard_env() -> Vec<(String, String)> {
    [
        ("ALLOWLIST", "s3://crossguard-config/allowlist.toml"),
        (
            "ALERT_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:222222222222:crossguard-alerts",
        ),
        ("EVIDENCE_BUCKET", "crossguard-evidence"),
        ("ACCOUNT_ID", ACCOUNT),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec()
}

fn cold_start(c: &mut Criterion) {
    let dir = bin_dir();
    let cases = [
        ("hello", dir.join("examples/hello"), Vec::new()),
        ("bucket-guard", dir.join("bucket-guard"), guard_env()),
    ];
    let mut group = c.benchmark_group("cold-start");
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(5));
    let mut medians = Vec::new();
    for (name, path, env) in &cases {
        assert!(
            path.is_file(),
            "{} is not built: run `make bench`",
            path.display()
        );
        let mut seen = Vec::new();
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let f = Function::start(path, env).expect("the function starts");
                    assert!(!f.called_aws(), "{name} called AWS before its first event");
                    total += f.cold_start;
                    seen.push(f.cold_start);
                }
                total
            });
        });
        seen.sort();
        medians.push(seen[seen.len() / 2]);
    }
    group.finish();
    println!(
        "cold start (median of every start): hello {:?}, bucket-guard {:?}: {:.2}x hello (goal ≤ 1.5x)",
        medians[0],
        medians[1],
        medians[1].as_secs_f64() / medians[0].as_secs_f64()
    );
}

/// One event with a 20 KB bucket policy, handled end to end on moto.
fn peak_memory(_: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    rt.block_on(async {
        let moto = Moto::start().expect("moto server");
        let estate = Estate::new(moto.sdk().await).await.expect("estate");
        let bucket = "data-lake";
        let text = std::fs::read_to_string(root().join("shared/benches/policies/bucket-20k.json"))
            .expect("policy");
        let policy: serde_json::Value = serde_json::from_str(&text).expect("policy JSON");
        let event = estate
            .bucket_policy_put(bucket, &policy, "dddddddd-0000-4000-8000-000000000001")
            .await
            .expect("bucket and event");
        estate
            .s3
            .put_object()
            .bucket(EVIDENCE_BUCKET)
            .key("config/allowlist.toml")
            .body(std::fs::read(root().join("examples/allowlist.toml")).expect("allowlist").into())
            .send()
            .await
            .expect("allowlist upload");
        let mut env = moto.function_env(&estate.topic_arn);
        env.retain(|(k, _)| k != "ALLOWLIST");
        env.push(("ALLOWLIST".into(), format!("s3://{EVIDENCE_BUCKET}/config/allowlist.toml")));
        let mut f = Function::start(&bin_dir().join("bucket-guard"), &env).expect("start");
        let before = f.peak_rss().expect("VmHWM");
        let answer = f
            .invoke("req-1", &serde_json::to_vec(&event).expect("event"), "arn:aws:lambda:eu-west-1:222222222222:function:bucket-guard")
            .expect("invoke");
        assert!(answer.path.ends_with("/response"), "{}", String::from_utf8_lossy(&answer.body));
        let peak = f.peak_rss().expect("VmHWM");
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        println!(
            "peak RSS, bucket-guard: {:.1} MiB at start, {:.1} MiB after one event with a {} B policy (goal ≤ 32 MB): {}",
            mib(before),
            mib(peak),
            text.len(),
            String::from_utf8_lossy(&answer.body)
        );
    });
}

criterion_group!(benches, cold_start, peak_memory);
criterion_main!(benches);
