#!/usr/bin/env bash
# make fuzz: each target under AFL++ (coverage guided, through cargo-afl on the stable
# toolchain) for FUZZ_SECONDS, one after the other, then executions and crashes per
# target. Exits 1 if any target crashed (its inputs are in fuzz/out/TARGET/default/crashes).
#   FUZZ_SECONDS=60   seconds per target
#   FUZZ_TARGETS="policy event allowlist"
#   FUZZ_RESUME=1     go on from the last run's queue in fuzz/out instead of the seed corpus
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-policy event allowlist logfile}
AFL_VERSION=0.18.2
NICE="nice -n ${FUZZ_NICE:-19}"

# cargo-afl (pinned to the afl crate in Cargo.toml); its install builds AFL++ from the
# source it ships, and `config --build` covers a toolchain that changed since.
if ! cargo afl --version 2>/dev/null | grep -q "$AFL_VERSION"; then
    $NICE cargo install cargo-afl --version "$AFL_VERSION" --locked
fi
if ! out=$($NICE cargo afl config --build 2>&1); then
    grep -q "already built" <<<"$out" || { echo "$out" >&2; exit 2; }
fi
$NICE cargo afl build --quiet --release --features afl --bin afl_target

export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
mkdir -p out
summary=()
failed=0
for t in $TARGETS; do
    o=out/$t
    if [ "${FUZZ_RESUME:-0}" = 1 ] && [ -d "$o/default/queue" ]; then
        input=-
        resume=(AFL_AUTORESUME=1)
    else
        rm -rf "$o"
        input=corpus/$t
        resume=()
    fi
    echo "== fuzz $t: ${SECONDS_EACH}s (log: fuzz/$o.log)"
    env "${resume[@]}" CROSSGUARD_FUZZ_TARGET="$t" $NICE cargo afl fuzz -V "$SECONDS_EACH" -t 2000 \
        -i "$input" -o "$o" -x "dict/$t.dict" target/release/afl_target >"$o.log" 2>&1 || {
        echo "afl-fuzz failed for $t:" >&2
        tail -20 "$o.log" >&2
        exit 2
    }
    stats=$o/default/fuzzer_stats
    get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
    execs=$(get execs_done) crashes=$(get saved_crashes) hangs=$(get saved_hangs)
    paths=$(get corpus_count) cov=$(get bitmap_cvg)
    summary+=("$(printf '%-10s %12s execs  %3s crashes  %3s hangs  corpus %5s  coverage %s' \
        "$t" "$execs" "$crashes" "$hangs" "$paths" "$cov")")
    if [ "${crashes:-0}" != 0 ]; then
        failed=1
        for f in "$o"/default/crashes/id:*; do echo "   crash: fuzz/$f"; done
    fi
done
echo
echo "== fuzz summary (${SECONDS_EACH}s per target)"
printf '%s\n' "${summary[@]}"
if [ "$failed" = 1 ]; then
    echo "crashes found: reproduce with" \
        "(cd fuzz && cargo run --release --bin replay -- TARGET out/TARGET/default/crashes)" >&2
    exit 1
fi
