#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 cluster (scripts/pg-test.sh)
# and GATEHOUSE_TEST_DATABASE_URL pointing at it; the cluster is removed when
# the command ends, fails or is interrupted. The exit status is the command's.
#
#   scripts/with-pg.sh /usr/bin/python3 -m pytest tests/api
set -euo pipefail

[ $# -ge 1 ] || {
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-pg.XXXXXX")
# shellcheck disable=SC2317 # called by the trap
cleanup() { "$here/pg-test.sh" destroy "$dir" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

url=$("$here/pg-test.sh" start "$dir" | sed -n 's/^DATABASE_URL=//p')
[ -n "$url" ] || {
    echo "with-pg: the test cluster did not start" >&2
    exit 1
}
set +e
GATEHOUSE_TEST_DATABASE_URL=$url "$@"
status=$?
set -e
exit "$status"
