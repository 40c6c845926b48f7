#!/usr/bin/env python3
"""`crossguard check` over many small policy files vs Cloud Custodian's PolicyChecker on
the same documents, in one run (`make bench`).

8,400 bucket policies of the shapes real buckets carry (a partner's read, a log
delivery, CloudFront, a VPC endpoint, TLS-only denies, an organisation, a public
website) are written to target/bench-check/, then each side runs as its own process,
five times, medians reported:

- whole job: the process's wall time from start to exit (c7n: Python start, import,
  reading the files, checking them; crossguard: loading the allowlist, reading, deciding,
  writing its JSON lines to a file, as `crossguard check ... > decisions.jsonl` does);
- checking: c7n's check loop alone, timed inside its process, against crossguard's user
  CPU time (the files' reads are system time, not counted).

Usage: bench_check.py CROSSGUARD_BINARY
"""
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench-check"
DECISIONS = ROOT / "target" / "bench-check.jsonl"
ALLOWLIST = ROOT / "shared" / "benches" / "allowlist.toml"
COUNT = 8400
RUNS = 5
BUCKET = "shared-data"

C7N = """
import sys, time, pathlib
t0 = time.perf_counter()
from c7n.filters.iamaccess import PolicyChecker
checker = PolicyChecker({
    "allowed_accounts": {"222222222222", "111111111111", "333333333333", "444444444444", "555555555555"},
    "allowed_orgid": ["o-a1b2c3d4e5"],
})
t1 = time.perf_counter()
texts = [pathlib.Path(p).read_text() for p in sys.argv[1:]]
t2 = time.perf_counter()
violations = sum(1 for t in texts if checker.check(t))
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, violations)
"""


def statement(i: int) -> list:
    arn = f"arn:aws:s3:::{BUCKET}"
    acct = f"{100000000000 + i * 7919 % 899999999999:012d}"
    shapes = [
        # An approved partner reading.
        {"Sid": f"PartnerRead{i}", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
         "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [arn, f"{arn}/*"]},
        # An unknown account writing.
        {"Sid": f"Upload{i}", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{acct}:role/uploader"},
         "Action": "s3:PutObject", "Resource": f"{arn}/incoming/*"},
        # CloudFront origin access control.
        {"Sid": "AllowCloudFront", "Effect": "Allow",
         "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Action": "s3:GetObject", "Resource": f"{arn}/*",
         "Condition": {"StringEquals": {"AWS:SourceArn": f"arn:aws:cloudfront::222222222222:distribution/E{i:013d}"}}},
        # Only through a VPC endpoint.
        {"Sid": "VpceOnly", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"{arn}/*", "Condition": {"StringEquals": {"aws:SourceVpce": f"vpce-{i:017x}"}}},
        # TLS only.
        {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        # The organisation.
        {"Sid": "OrgRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"{arn}/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}},
        # Public, unconditioned.
        {"Sid": "Public", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
         "Resource": f"{arn}/public/*"},
        # Log delivery.
        {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"{arn}/logs/*",
         "Condition": {"StringEquals": {"aws:SourceAccount": "222222222222"}}},
    ]
    n = 1 + i % 3
    return [shapes[(i + k * 3) % len(shapes)] for k in range(n)]


def generate() -> list:
    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(COUNT):
        p = OUT / f"p{i:05d}.json"
        if not p.exists():
            p.write_text(json.dumps({"Version": "2012-10-17", "Statement": statement(i)}, indent=2))
        paths.append(str(p))
    return paths


def timed(cmd: list, stdout=subprocess.PIPE) -> tuple:
    """Wall seconds, user CPU seconds and the result of one run (stdout to `stdout`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, stdout=stdout, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, out


def main() -> int:
    binary = sys.argv[1]
    paths = generate()
    size = sum(os.path.getsize(p) for p in paths)
    cg_cmd = [binary, "check", "--allowlist", str(ALLOWLIST), "--owner", "222222222222",
              "--resource", f"bucket/{BUCKET}", "--region", "eu-west-1", "--format", "json", *paths]
    c7n_cmd = [sys.executable, "-c", C7N, *paths]
    cg, c7 = [], []
    for _ in range(RUNS):
        # Into a file, not a pipe this script drains: its reading is not crossguard's work.
        with open(DECISIONS, "wb") as f:
            wall, user, out = timed(cg_cmd, f)
        assert out.returncode in (0, 1), f"crossguard check exited {out.returncode}"
        lines = DECISIONS.read_bytes().count(b"\n")
        assert lines == COUNT, f"{lines} decisions for {COUNT} files"
        cg.append((wall, user))
        wall, _, out = timed(c7n_cmd)
        imp, read, check, _violations = out.stdout.split()
        c7.append((wall, float(imp), float(read), float(check)))
    med = lambda xs: statistics.median(xs)  # noqa: E731
    cg_wall, cg_user = med(w for w, _ in cg), med(u for _, u in cg)
    c7_wall, c7_imp, c7_read, c7_check = (med(r[k] for r in c7) for k in range(4))
    report = "\n".join([
        f"{COUNT} bucket policies, {size / COUNT:.0f} B on average, medians of {RUNS} runs",
        "",
        "| what | c7n | crossguard | ratio |",
        "|---|---:|---:|---:|",
        f"| whole job (process wall time) | {c7_wall:.3f} s (import {c7_imp:.2f} s, read {c7_read:.2f} s, check {c7_check:.3f} s) | {cg_wall:.3f} s | **{c7_wall / cg_wall:.1f}x** |",
        f"| checking (c7n's check loop; crossguard's user CPU) | {c7_check:.3f} s | {cg_user:.3f} s | **{c7_check / cg_user:.1f}x** |",
    ])
    print(report)
    (ROOT / "target" / "bench-check.md").write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
