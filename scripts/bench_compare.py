#!/usr/bin/env python3
"""Cloud Custodian's PolicyChecker vs crossguard on the same policy files, in one run.

Run by `make bench` right after `cargo bench`: times c7n here and reads crossguard's
criterion estimates from target/criterion, then prints decisions per second and the ratio.
Both start from the policy's JSON text (c7n's check() parses it with json.loads).
"""
import json
import pathlib
import statistics
import sys
import timeit

from c7n.filters.iamaccess import PolicyChecker

ROOT = pathlib.Path(__file__).resolve().parent.parent
POLICIES = ROOT / "shared" / "benches" / "policies"
CRITERION = ROOT / "target" / "criterion"
CASES = ["trust-small", "key-medium", "bucket-5k", "bucket-20k", "bucket-20k-one"]

# The same approvals as shared/benches/allowlist.toml, in c7n's terms.
checker = PolicyChecker({
    "allowed_accounts": {"222222222222", "111111111111", "333333333333", "444444444444", "555555555555"},
    "allowed_orgid": ["o-a1b2c3d4e5"],
})


def c7n_seconds_per_check(text: str) -> float:
    timer = timeit.Timer(lambda: checker.check(text))
    number, _ = timer.autorange()
    runs = timer.repeat(repeat=7, number=number)
    return statistics.median(runs) / number


def crossguard_seconds(group: str, name: str) -> float:
    est = json.loads((CRITERION / group / name / "new" / "estimates.json").read_text())
    return est["median"]["point_estimate"] / 1e9


def main() -> int:
    rows = []
    for name in CASES:
        text = (POLICIES / f"{name}.json").read_text()
        c7n = c7n_seconds_per_check(text)
        try:
            ev = crossguard_seconds("evaluate", name)
            full = crossguard_seconds("decide", name)
        except FileNotFoundError:
            print(f"no criterion result for {name}: run `cargo bench -p crossguard-engine --bench decide` first", file=sys.stderr)
            return 2
        parse = crossguard_seconds("parse", name)
        rows.append((name, len(text), 1 / c7n, 1 / ev, c7n / ev, 1 / full, c7n / full, full / parse))
    out = [
        "| policy | bytes | c7n PolicyChecker /s | crossguard findings /s | ratio | crossguard full decision + plan /s | ratio | decision / parse time |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, size, c, e, re_, f, rf, fp in rows:
        out.append(f"| {name} | {size} | {c:,.0f} | {e:,.0f} | {re_:.2f}x | {f:,.0f} | {rf:.2f}x | {fp:.2f}x |")
    report = "\n".join(out)
    print(report)
    (ROOT / "target" / "bench-compare.md").write_text(report + "\n")
    worst = min(r[4] for r in rows)
    print(f"\nslowest findings ratio: {worst:.2f}x; slowest full decision ratio: {min(r[6] for r in rows):.2f}x (goal: at least 10x); decision at most {max(r[7] for r in rows):.2f}x its parse (goal: at most 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
