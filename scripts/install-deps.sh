#!/usr/bin/env bash
# Installs the Debian 12 packages gatehouse needs to build, run and test,
# when any is missing. Run as root (make run / make test call it).
set -euo pipefail

pkgs=(
    # build (clang too: make test builds everything with both compilers)
    gcc clang make pkg-config libc6-dev
    libmicrohttpd-dev libjansson-dev libsodium-dev libsqlite3-dev libcrypt-dev libpq-dev
    libunistring-dev
    # tests: sanitizers come with gcc; the unit tests forge tokens with OpenSSL;
    # the API tests use Debian's python3
    libssl-dev clang-format python3 python3-pytest python3-requests python3-jwt python3-passlib
    python3-bcrypt
    # make fuzz (libFuzzer's runtime for clang 14) and make valgrind
    libclang-rt-14-dev valgrind
    # the API tests' throwaway PostgreSQL 15 cluster (scripts/pg-test.sh)
    postgresql-15 postgresql-client-15
    # the browser test of /docs and /redoc (tests/browser/, playwright-core drives it)
    chromium fonts-liberation
)
# web/'s npm packages (documentation assets, OpenAPI validator, browser test):
# Debian's Node.js and npm, unless a Node.js is already on PATH.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: not root; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
