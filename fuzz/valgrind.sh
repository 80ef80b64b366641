#!/usr/bin/env bash
# fuzz/valgrind.sh [--pg] [pytest args]: the API tests (or the tests given)
# with every gatehouse process (servers and commands) run by valgrind
# memcheck. tests/api/test_postgres.py is left out: its servers start with a
# 1 s connect timeout and it asserts bounds of 1-3 s, which valgrind's
# slowdown breaks (fuzz/README.md). --pg runs the suite with the default
# server on a throwaway PostgreSQL cluster instead, as make api-pg does. A memcheck error, or a
# definitely lost block, makes that process exit 99, which fails its test;
# each process's report goes to build/valgrind/logs/, which the summary at the
# end counts. Suppressions (fuzz/valgrind.supp) are for library-internal
# reports only, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build/valgrind
pg=()
if [ "${1:-}" = --pg ]; then
    shift
    out=$root/build/valgrind-pg
    pg=(scripts/with-pg.sh)
    set -- "${@:-tests/api}" --ignore=tests/api/test_migration.py
fi
rm -rf "$out"
mkdir -p "$out/logs"
cat >"$out/gatehouse" <<WRAP
#!/bin/sh
exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \\
    --show-leak-kinds=definite --errors-for-leak-kinds=definite \\
    --suppressions=$root/fuzz/valgrind.supp --num-callers=30 \\
    --log-file=$out/logs/%p.log $root/build/gatehouse "\$@"
WRAP
chmod +x "$out/gatehouse"

start=$(date +%s)
set +e
GATEHOUSE_BIN=$out/gatehouse GATEHOUSE_TEST_REQUIRE_PG=1 GATEHOUSE_TEST_START_TIMEOUT=60 \
    "${pg[@]}" /usr/bin/python3 -m pytest -q -p no:cacheprovider "${@:-tests/api}" \
    --ignore=tests/api/test_postgres.py
rc=$?
set -e
secs=$(( $(date +%s) - start ))
procs=$(find "$out/logs" -name '*.log' | wc -l)
errors=$(cat "$out"/logs/*.log 2>/dev/null | sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' |
    awk '{s += $1} END {print s + 0}')
echo "valgrind: ${secs}s, $procs gatehouse processes, $errors memcheck errors (logs: $out/logs)"
grep -l 'ERROR SUMMARY: [1-9]' "$out"/logs/*.log 2>/dev/null | head -5 || true
[ "$rc" -eq 0 ] && [ "$errors" -eq 0 ]
