//! Replay throughput on a generated archive of at least 200 MB of CloudTrail JSON
//! (gzipped, laid out as AWS archives it), beside `zcat` over the same files in the same
//! run: zcat only decompresses, replay decompresses, delimits every record, decides every
//! guarded call and writes the report. Both run as processes, output to /dev/null.
//! Beside it a dense archive (one file, every record a guarded call: 400,000 decisions)
//! and each run's peak RSS, which must stay flat however dense a file is.
//! Then the sparse archive read from S3 (moto server, on this machine) beside the same
//! files on local disk, in the same run: `replay s3://BUCKET/` against `replay DIR`.

// Scenarios read top to bottom, helpers take values as written, sizes are small: the
// workspace's length and cast lints are for the product code.
#![allow(
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]

#[path = "../tests/common/archive.rs"]
mod archive;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use crossguard_emulator_tests::{Estate, Moto};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const SPEC: archive::Spec = archive::Spec {
    accounts: 2,
    days: 10,
    files_per_day: 10,
    records_per_file: 1_000,
    guarded_every: 50,
};

/// One file in which every record is a guarded call (400,000 decisions, ~8 MB gzipped):
/// replay once held a file's whole batch of decisions in memory (7.6 GB here).
const DENSE: archive::Spec = archive::Spec {
    accounts: 1,
    days: 1,
    files_per_day: 1,
    records_per_file: 400_000,
    guarded_every: 1,
};

/// The sparse archive, generated once and kept under target/ (its spec is in its marker).
fn archive() -> (PathBuf, Vec<PathBuf>, u64) {
    generated("target/bench-archive", SPEC)
}

fn generated(name: &str, spec: archive::Spec) -> (PathBuf, Vec<PathBuf>, u64) {
    let dir = archive::root().join(name);
    let marker = dir.join(format!("{spec:?}.done").replace([' ', '{', '}', ':', ','], ""));
    let e = if marker.exists() {
        None
    } else {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let e = archive::generate(&dir, spec);
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

/// Run once and return the child's peak resident set, in MiB (getrusage of the child).
// wait4 reaps the child (std's wait cannot return its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn peak_rss_mib(cmd: &mut Command) -> f64 {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it for this child alone.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(status) && matches!(libc::WEXITSTATUS(status), 0 | 1),
        "{cmd:?}: status {status}"
    );
    usage.ru_maxrss as f64 / 1024.0
}

fn replay_cmd(
    bin: &str,
    allowlist: &std::path::Path,
    jobs: usize,
    dir: &std::path::Path,
) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(["replay", "--format", "json", "--as-of", "2026-06-01"])
        .arg(format!("--jobs={jobs}"))
        .arg("--allowlist")
        .arg(allowlist)
        .arg(dir);
    cmd
}

/// The sparse archive uploaded to a fresh moto server; its environment for the CLI.
fn in_s3(dir: &std::path::Path, files: &[PathBuf]) -> (Moto, Vec<(String, String)>) {
    let moto = Moto::start().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let estate = Estate::bare(moto.sdk().await);
        estate.create_bucket("bench-trail").await.unwrap();
        for f in files {
            let key = f.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            estate
                .s3
                .put_object()
                .bucket("bench-trail")
                .key(key)
                .body(std::fs::read(f).unwrap().into())
                .send()
                .await
                .unwrap();
        }
    });
    let env = moto.cli_env();
    (moto, env)
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
        b.iter(|| run(Command::new("zcat").args(&files)));
    });
    for jobs in [1, 2] {
        g.bench_function(format!("replay-json-jobs{jobs}"), |b| {
            b.iter(|| run(&mut replay_cmd(bin, &allowlist, jobs, &dir)));
        });
    }
    g.finish();

    // S3 against local disk: the same files, the same workers (twice the cores, as reads
    // from S3 wait on the network), moto on this machine serving them.
    let (_moto, env) = in_s3(&dir, &files);
    let jobs = 4;
    let mut g = c.benchmark_group("replay-s3");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.bench_function("local-disk", |b| {
        b.iter(|| run(&mut replay_cmd(bin, &allowlist, jobs, &dir)));
    });
    g.bench_function("s3", |b| {
        b.iter(|| {
            let mut cmd = replay_cmd(bin, &allowlist, jobs, Path::new("s3://bench-trail/"));
            run(cmd.env_remove("AWS_PROFILE").envs(env.iter().cloned()));
        });
    });
    g.finish();
    let local = peak_rss_mib(&mut replay_cmd(bin, &allowlist, jobs, &dir));
    let mut cmd = replay_cmd(bin, &allowlist, jobs, Path::new("s3://bench-trail/"));
    let remote = peak_rss_mib(cmd.env_remove("AWS_PROFILE").envs(env.iter().cloned()));
    eprintln!(
        "peak RSS, --jobs {jobs}: local disk {local:.1} MiB; s3 {remote:.1} MiB; s3/local {:.2}x",
        remote / local
    );

    let (dense_dir, dense_files, dense_bytes) = generated("target/bench-archive-dense", DENSE);
    let mut g = c.benchmark_group("replay-dense");
    g.throughput(Throughput::Bytes(dense_bytes));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("zcat", |b| {
        b.iter(|| run(Command::new("zcat").args(&dense_files)));
    });
    g.bench_function("replay-json-jobs1", |b| {
        b.iter(|| run(&mut replay_cmd(bin, &allowlist, 1, &dense_dir)));
    });
    g.finish();

    // Peak memory, one run each: flat means the dense file costs no more than the sparse
    // archive, though it holds 100 times the decisions of any sparse file.
    for jobs in [1, 2] {
        let sparse = peak_rss_mib(&mut replay_cmd(bin, &allowlist, jobs, &dir));
        let dense = peak_rss_mib(&mut replay_cmd(bin, &allowlist, jobs, &dense_dir));
        eprintln!(
            "peak RSS, --jobs {jobs}: sparse archive ({} MB) {sparse:.1} MiB; dense file ({} MB, {} decisions) {dense:.1} MiB; dense/sparse {:.2}x",
            bytes / 1_000_000,
            dense_bytes / 1_000_000,
            DENSE.records_per_file,
            dense / sparse
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
