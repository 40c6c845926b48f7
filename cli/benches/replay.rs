//! Replay throughput on a generated archive of at least 200 MB of CloudTrail JSON
//! (gzipped, laid out as AWS archives it), beside `zcat` over the same files in the same
//! run: zcat only decompresses, replay decompresses, delimits every record, decides every
//! guarded call and writes the report. Both run as processes, output to /dev/null.

#[path = "../tests/common/archive.rs"]
mod archive;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

const SPEC: archive::Spec = archive::Spec {
    accounts: 2,
    days: 10,
    files_per_day: 10,
    records_per_file: 1_000,
    guarded_every: 50,
};

/// The archive, generated once and kept under target/ (its spec is in its marker).
fn archive() -> (PathBuf, Vec<PathBuf>, u64) {
    let dir = archive::root().join("target/bench-archive");
    let marker = dir.join(format!("{SPEC:?}.done").replace([' ', '{', '}', ':', ','], ""));
    let e = if marker.exists() {
        None
    } else {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let e = archive::generate(&dir, SPEC);
        std::fs::write(&marker, e.uncompressed_bytes.to_string()).unwrap();
        Some(e)
    };
    let bytes: u64 = std::fs::read_to_string(&marker).unwrap().parse().unwrap();
    let mut files: Vec<PathBuf> = walk(&dir.join("AWSLogs"));
    files.retain(|p| !p.iter().any(|c| c == "CloudTrail-Digest"));
    files.sort();
    if let Some(e) = e {
        assert_eq!(files.len() as u64, e.files);
    }
    (dir, files, bytes)
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.to_string_lossy().ends_with(".json.gz") {
            out.push(p);
        }
    }
    out
}

fn run(cmd: &mut Command) {
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    // replay exits 1: the archive holds violations.
    assert!(matches!(status.code(), Some(0 | 1)), "{cmd:?}: {status}");
}

fn bench(c: &mut Criterion) {
    let (dir, files, bytes) = archive();
    assert!(bytes >= 200_000_000, "archive is {bytes} bytes");
    eprintln!(
        "archive: {} files, {} MB uncompressed",
        files.len(),
        bytes / 1_000_000
    );
    let allowlist = archive::root().join("examples/allowlist.toml");
    let bin = env!("CARGO_BIN_EXE_crossguard");

    let mut g = c.benchmark_group("replay-archive");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("zcat", |b| {
        b.iter(|| run(Command::new("zcat").args(&files)))
    });
    for jobs in [1, 2] {
        g.bench_function(format!("replay-json-jobs{jobs}"), |b| {
            b.iter(|| {
                run(Command::new(bin)
                    .args(["replay", "--format", "json", "--as-of", "2026-06-01"])
                    .arg(format!("--jobs={jobs}"))
                    .arg("--allowlist")
                    .arg(&allowlist)
                    .arg(&dir))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
