#!/usr/bin/env bash
# fuzz/run.sh SECONDS JOBS TARGET...: runs build-fuzz/fuzz_TARGET on
# fuzz/corpus/TARGET for SECONDS each, JOBS at a time. New inputs go to a
# temporary directory (printed), never into the repository; a crash leaves
# its input there too and makes the script fail. SECONDS 0 means no time
# limit; FUZZ_FLAGS adds libFuzzer flags (the long run: -runs=10000000).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=$1 jobs=$2
shift 2
out=$(mktemp -d /tmp/gatehouse-fuzz.XXXXXX)
echo "fuzz: ${secs}s per target, $jobs at a time; new inputs and logs in $out"

run_one() {
    local t=$1 secs=$2 out=$3
    mkdir -p "$out/$t/new"
    # shellcheck disable=SC2086
    if build-fuzz/fuzz_"$t" -max_total_time="$secs" -print_final_stats=1 -max_len=8192 ${FUZZ_FLAGS:-} \
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/$t/" \
        "$out/$t/new" "fuzz/corpus/$t" >"$out/$t/log" 2>&1; then
        local execs cov ft
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t/log")
        cov=$(grep -o 'cov: [0-9]*' "$out/$t/log" | tail -1)
        ft=$(grep -o 'ft: [0-9]*' "$out/$t/log" | tail -1)
        echo "fuzz: $t ok: $execs executions, $cov, $ft"
    else
        echo "fuzz: $t FAILED; see $out/$t/log:" >&2
        grep -m5 -E 'ERROR|invariant|SUMMARY|Test unit written' "$out/$t/log" >&2 || true
        return 1
    fi
}
export -f run_one

printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$secs" "$out"
