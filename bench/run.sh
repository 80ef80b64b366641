#!/bin/sh
# make bench -> bench/run.sh [run.py options]: one full benchmark run (see bench/README.md).
set -eu
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }
    else
        echo "bench/run.sh: wrk is not installed; as root: apt-get install -y wrk" >&2
        exit 1
    fi
fi
exec /usr/bin/python3 bench/run.py --json /tmp/gh-bench.json --markdown /tmp/gh-bench.md "$@"
