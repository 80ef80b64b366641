#!/usr/bin/env bash
# Installs the Debian 12 packages gatehouse needs, when any is missing. Run as
# root (the Makefile calls it, once per set, and keeps a stamp for each):
#   scripts/install-deps.sh run    what building, serving and `make install` need
#                                  (make, make run, make install)
#   scripts/install-deps.sh test   the run set plus the test toolchain (make test)
set -euo pipefail

set_name=${1:-}
case "$set_name" in
run | test) ;;
*)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac

pkgs=(
    # build: the compiler and the -dev packages of the libraries gatehouse links
    # (libpq-dev: its headers; serving loads libpq5, which it depends on, for
    # PostgreSQL URLs only)
    gcc make pkg-config libc6-dev
    libmicrohttpd-dev libjansson-dev libsodium-dev libsqlite3-dev libcrypt-dev libpq-dev
    # make install: the man page is generated from --help
    help2man
    # ES256/RS256: OpenSSL's headers at build (libssl-dev), libcrypto.so.3 (libssl3)
    # dlopen'ed at run time only when such a key is configured
    libssl-dev libssl3
    # passwords are NFKC-normalised with libunistring
    libunistring-dev
    # mail: libcurl's headers at build; libcurl4 is dlopen'ed at run time only
    # when SMTP_URL is set
    libcurl4-openssl-dev libcurl4
    # second factors: TOTP codes from liboath, QR codes from libqrencode, WebAuthn's
    # CBOR from libcbor
    liboath-dev libqrencode-dev libcbor-dev
    # socket activation: sd_listen_fds from libsystemd
    libsystemd-dev
    # TLS: GnuTLS's headers for libmicrohttpd's certificate callback (libgnutls30,
    # which libmicrohttpd12 links already, at run time)
    libgnutls28-dev
)
if [ "$set_name" = test ]; then
    pkgs+=(
        # make test builds everything with clang too and checks the formatting;
        # sanitizers come with gcc; the unit tests forge tokens with OpenSSL
        clang clang-format
        # make fuzz / fuzz-smoke (libFuzzer's runtime for clang 14) and make valgrind
        libclang-rt-14-dev valgrind
        # the API tests use Debian's python3; /metrics is read with prometheus_client;
        # the key tests verify with PyJWT's PyJWKClient (python3-cryptography) and
        # make keys with the openssl command
        python3 python3-pytest python3-requests python3-jwt python3-passlib python3-bcrypt
        python3-prometheus-client python3-cryptography openssl
        # the API tests' throwaway PostgreSQL 15 cluster (scripts/pg-test.sh)
        postgresql-15 postgresql-client-15
        # the browser test of /docs and /redoc (tests/browser/, playwright-core drives it)
        chromium fonts-liberation
        # the nginx test (tests/deploy/), the README test's curl, and the install
        # test's systemd-analyze (procps: /bin/kill, the unit's ExecReload)
        nginx curl systemd procps
        # the IPv6 /64 tests' network namespace (tests/api/test_ipv6_prefix.py)
        iproute2
        # the mail tests: a loopback SMTP server with STARTTLS (aiosmtpd) and a real
        # MTA (exim4), each started by the tests on ports of their own
        python3-aiosmtpd exim4-daemon-light
        # the second-factor tests: TOTP codes from independent implementations
        # (oathtool, pyotp) and a software WebAuthn authenticator (cbor2 and
        # python3-cryptography)
        oathtool python3-pyotp python3-cbor2
        # the single sign-on tests' relying parties nobody here wrote: Apache with
        # mod_auth_openidc, and Python's authlib
        apache2 libapache2-mod-auth-openidc python3-authlib
        # forward authentication with access rules behind Debian's Caddy 2.6
        caddy
        # make deb and its test: debhelper builds the package, lintian checks it,
        # debootstrap makes the fresh Debian 12 root it is installed into;
        # gnutls-bin's certtool makes the TLS tests' certificates
        debhelper dpkg-dev fakeroot lintian debootstrap gnutls-bin
    )
fi
# web/'s npm packages (documentation assets built into the binary, OpenAPI
# validator, browser test): Debian's Node.js and npm, unless a Node.js is
# already on PATH. Debian 12's nodejs is 18.19; every package web/ pins runs on it.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps ($set_name): installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: not root; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
