#!/usr/bin/env bash
# bench/rules.sh: instructions per rules_decide with 100 rules, for each
# scenario of bench/rules.c: two callgrind runs (N and 2N decisions), the
# difference of their totals divided by N. Start-up and parsing cancel out.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${RULES_BENCH_N:-2000}
total() {
    local out
    out=$(mktemp /tmp/gatehouse-rules-cg.XXXXXX)
    valgrind --tool=callgrind --callgrind-out-file="$out" build/bench-rules "$1" "$2" >/dev/null 2>&1
    callgrind_annotate "$out" | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
    rm -f "$out"
}
for s in hosts paths globs; do
    a=$(total "$s" "$n")
    b=$(total "$s" $((2 * n)))
    echo "rules_decide, 100 rules, $s: $(((b - a) / n)) instructions per decision"
done
