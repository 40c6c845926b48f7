//! Decisions per second over realistic policies, from a small role trust to a 20 KB
//! bucket policy: the whole path a guard runs per event, from the policy's text to the
//! decision with its remediation plan. `scripts/bench_compare.py` reads the results and
//! times Cloud Custodian's PolicyChecker on the same files in the same run.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

// As the `crossguard` CLI runs the engine (check, replay): on mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use crossguard_engine::decision::evaluate;
use crossguard_engine::{decide, Allowlist, Date, Options, PolicyDocument, Resource};

const CASES: [(&str, &str); 5] = [
    ("trust-small", "role/VendorAudit"),
    ("key-medium", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("bucket-5k", "bucket/shared-data"),
    ("bucket-20k", "bucket/data-lake"),
    // The same size, every grant approved but one statement's: one unapproved grant
    // added to a large policy, as a real change usually is.
    ("bucket-20k-one", "bucket/data-lake"),
];

fn bench(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches");
    let al_text = std::fs::read_to_string(format!("{dir}/allowlist.toml")).unwrap();
    let allowlist = Allowlist::from_toml(&al_text, "allowlist.toml").unwrap();
    let opts = Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode: None,
    };
    let cases: Vec<_> = CASES
        .iter()
        .map(|(name, res)| {
            let text = std::fs::read_to_string(format!("{dir}/policies/{name}.json")).unwrap();
            (
                *name,
                text,
                Resource::from_spec(res, "222222222222", Some("eu-west-1")).unwrap(),
            )
        })
        .collect();
    // The floor: the policy's text to the typed document, nothing decided.
    let mut group = c.benchmark_group("parse");
    for (name, text, _) in &cases {
        group.throughput(Throughput::Elements(1));
        group.bench_function(*name, |b| {
            b.iter(|| black_box(PolicyDocument::parse(black_box(text)).unwrap()));
        });
    }
    group.finish();
    // JSON read exactly (duplicate keys noted, SPEC §1) against serde_json's own reading
    // of the same text, the floor for every document and record crossguard reads whole.
    let mut group = c.benchmark_group("json");
    for (name, text, _) in &cases {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{name}/checked"), |b| {
            b.iter(|| black_box(crossguard_engine::json::from_str(black_box(text)).unwrap()));
        });
        group.bench_function(format!("{name}/serde_json"), |b| {
            b.iter(|| {
                black_box(serde_json::from_str::<serde_json::Value>(black_box(text)).unwrap())
            });
        });
    }
    group.finish();
    // What Cloud Custodian's PolicyChecker does: text to the list of findings.
    let mut group = c.benchmark_group("evaluate");
    for (name, text, resource) in &cases {
        group.throughput(Throughput::Elements(1));
        group.bench_function(*name, |b| {
            b.iter(|| {
                let doc = PolicyDocument::parse(black_box(text)).unwrap();
                black_box(evaluate(&allowlist, resource, &doc, opts.today))
            });
        });
    }
    group.finish();
    // The whole decision: findings, verdict, action, and the verified remediation plan.
    let mut group = c.benchmark_group("decide");
    for (name, res) in CASES {
        let text = std::fs::read_to_string(format!("{dir}/policies/{name}.json")).unwrap();
        let resource = Resource::from_spec(res, "222222222222", Some("eu-west-1")).unwrap();
        // Sanity: the benchmark measures real decisions, not errors.
        let d = decide(
            &allowlist,
            &resource,
            Some(&PolicyDocument::parse(&text).unwrap()),
            opts,
        );
        assert!(!d.findings.is_empty(), "{name}: {}", d.reason);
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| {
            b.iter(|| {
                let doc = PolicyDocument::parse(black_box(&text)).unwrap();
                black_box(decide(&allowlist, &resource, Some(&doc), opts))
            });
        });
    }
    group.finish();
}

/// Loading a 100,000-pairing allowlist (every `check` does it once) against parsing the
/// same TOML into a plain `toml::Table`, the floor. Line numbers for faults used to be
/// found by rescanning the text per entry: quadratic, over 20 s at 40,000 pairings.
fn allowlist_load(c: &mut Criterion) {
    let mut text = String::from("version = 1\nmode = \"alert\"\n");
    for i in 0..100_000u64 {
        text.push_str(&format!(
            "[[pairing]]\nowner = \"222222222222\"\ntrusted = \"{:012}\"\nresources = [\"bucket/b{i}-*\"]\nactions = [\"s3:Get*\"]\n",
            100_000_000_000 + i
        ));
    }
    let mut group = c.benchmark_group("allowlist-100k");
    group.sample_size(10);
    group.bench_function("toml-parse-only", |b| {
        b.iter(|| black_box(text.parse::<toml::Table>().unwrap()));
    });
    group.bench_function("load-and-check", |b| {
        b.iter(|| black_box(Allowlist::from_toml(&text, "big.toml").unwrap()));
    });
    group.finish();
}

criterion_group!(benches, bench, allowlist_load);
criterion_main!(benches);
