# gatehouse: one plain Makefile over pkg-config and Debian 12 packages.
#   make          build build/gatehouse
#   make run      install what building and serving need when it is missing
#                 (scripts/install-deps.sh run), build, serve on 127.0.0.1:8000 (SQLite)
#   make test     install the test toolchain too (install-deps.sh test), then
#                 unit + API tests on the release build and under ASan/UBSan,
#                 the API tests on SQLite and on a throwaway PostgreSQL 15,
#                 the clang build, the banned-function check, the browser test,
#                 examples/nginx under Debian's nginx, examples/caddy under
#                 Debian's Caddy (make proxy-test), make install into a DESTDIR,
#                 socket activation and restarts under load (make socket-test),
#                 the Debian package in a debootstrapped Debian 12 root (make deb-test)
#                 and the OpenID Connect relying parties (make oidc-rp)
#   make install  the binary, man page, systemd units and env file (PREFIX, DESTDIR)
#   make deb      the Debian package build/deb/gatehouse_VERSION_amd64.deb (debian/)
#   make asan     build build-asan/gatehouse with AddressSanitizer + UBSan
#   make clang    build the server and the unit tests with clang too, run the tests
#   make banned   refuse banned C library functions (scripts/check-banned.py)
#   make format   reformat the C sources; make format-check verifies them
#   make fuzz     each libFuzzer target of fuzz/ for FUZZ_SECONDS (fuzz/README.md)
#   make valgrind the API tests with the server under valgrind memcheck

CC      ?= cc
CLANG   ?= clang
PKGS    := libmicrohttpd gnutls jansson libsodium sqlite3 libxcrypt liboath libqrencode libcbor libsystemd
# libpq is loaded at run time (src/store/pq.h): only its headers are needed here.
PQFLAGS  = $(shell pkg-config --cflags libpq)
PYTHON  := /usr/bin/python3

WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
           -Wformat=2 -Wvla -Wpointer-arith
BASE    := -std=c11 -D_GNU_SOURCE -Isrc $(WARN) -pthread
# The version is the one line of VERSION; gatehouse --version prints it.
VERSION := $(shell cat VERSION)
BASE    += -DGATEHOUSE_VERSION='"$(VERSION)"'
HARDEN  := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
SANFL   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDHARD  := -pie -Wl,-z,relro,-z,now

SRC     := $(shell find src -name '*.c' | sort)
ASM     := src/core/pwlist_data.S
# The documentation built into the binary: web/embed.mjs generates a table
# and the .incbin of its bytes from web/ and web/node_modules. The templates
# of the pages and mails (templates/) likewise, by scripts/embed-templates.mjs.
DOCS_EMBED := build/gen/docs_assets.c build/gen/docs_assets.S
TMPL_EMBED := build/gen/templates.c build/gen/templates.S
EMBED   := $(DOCS_EMBED) $(TMPL_EMBED)
WEB_STAMP := web/node_modules/.installed
LIBSRC  := $(filter-out src/main.c,$(SRC))
UNITSRC := $(shell find tests/unit -name '*.c' 2>/dev/null | sort)
DATA    := data/common-passwords.txt
# The unit tests find their data files from the source tree, wherever they
# are run from (tests/unit/test.h, TEST_SOURCE_DIR).
UNITFL  := -Itests/unit -DTEST_SOURCE_DIR='"$(CURDIR)"'

# Two sets of Debian packages (scripts/install-deps.sh): what building and
# serving need, and the test toolchain on top of it; a stamp for each.
DEPS_STAMP := build/.deps-run-ok
TEST_DEPS_STAMP := build/.deps-test-ok

.PHONY: all run test asan unit unit-asan api api-asan format format-check deps test-deps clean bench install
.PHONY: clang banned bench-rules
.PHONY: web openapi-lint browser
.PHONY: api-pg api-pg-asan
.PHONY: nginx-test proxy-test install-test socket-test oidc-rp
.PHONY: deb deb-test
.PHONY: fuzz fuzz-smoke fuzz-build valgrind

all: build/gatehouse

# pkg-config runs only when a build needs it, after deps have installed it.
# The unit tests also link OpenSSL: they forge tokens with an independent HMAC.
cflags = $(shell pkg-config --cflags $(PKGS)) $(PQFLAGS)
# libunistring (password normalisation) ships no pkg-config file.
libs   = $(shell pkg-config --libs $(PKGS)) -lunistring
tcflags = $(shell pkg-config --cflags $(PKGS) libcrypto) $(PQFLAGS)
tlibs   = $(shell pkg-config --libs $(PKGS) libcrypto) -lunistring

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p build
	scripts/install-deps.sh run
	@touch $@
test-deps: $(TEST_DEPS_STAMP)
$(TEST_DEPS_STAMP): scripts/install-deps.sh | $(DEPS_STAMP)
	scripts/install-deps.sh test
	@touch $@

# web/'s npm packages exactly as web/package-lock.json pins them (Swagger UI,
# ReDoc, the OpenAPI validator, playwright-core); no install script runs.
web: $(WEB_STAMP)
$(WEB_STAMP): web/package.json web/package-lock.json | $(DEPS_STAMP)
	@mkdir -p build
	cd web && flock ../build/.npm.lock npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier
	@touch $@

$(DOCS_EMBED) &: web/embed.mjs scripts/incbin.mjs web/openapi.json $(wildcard web/pages/*) $(WEB_STAMP)
	node web/embed.mjs build/gen

$(TMPL_EMBED) &: scripts/embed-templates.mjs scripts/incbin.mjs $(shell find templates -type f) | $(DEPS_STAMP)
	node scripts/embed-templates.mjs templates build/gen

build/gatehouse: $(SRC) $(ASM) $(EMBED) $(DATA) $(shell find src -name '*.h') | $(DEPS_STAMP)
	@mkdir -p build
	$(CC) $(BASE) $(HARDEN) $(cflags) -o $@ $(SRC) $(ASM) $(EMBED) $(LDHARD) $(libs)

build-asan/gatehouse: $(SRC) $(ASM) $(EMBED) $(DATA) $(shell find src -name '*.h') | $(TEST_DEPS_STAMP)
	@mkdir -p build-asan
	$(CC) $(BASE) $(SANFL) $(cflags) -o $@ $(SRC) $(ASM) $(EMBED) $(libs)

build/unit-tests: $(LIBSRC) $(ASM) $(EMBED) $(UNITSRC) $(DATA) $(shell find src tests/unit -name '*.h') | $(TEST_DEPS_STAMP)
	$(CC) $(BASE) $(UNITFL) $(HARDEN) $(tcflags) -o $@ $(LIBSRC) $(ASM) $(EMBED) $(UNITSRC) $(tlibs)

build-asan/unit-tests: $(LIBSRC) $(ASM) $(EMBED) $(UNITSRC) $(DATA) $(shell find src tests/unit -name '*.h') | $(TEST_DEPS_STAMP)
	@mkdir -p build-asan
	$(CC) $(BASE) $(UNITFL) $(SANFL) $(tcflags) -o $@ $(LIBSRC) $(ASM) $(EMBED) $(UNITSRC) $(tlibs)

# The same sources and flags with clang, whose warnings differ from gcc's
# (-Wformat-nonliteral on va_list helpers, -Wstring-plus-int, ...): the code
# has to build warning-free with both.
build-clang/gatehouse: $(SRC) $(ASM) $(EMBED) $(DATA) $(shell find src -name '*.h') | $(TEST_DEPS_STAMP)
	@mkdir -p build-clang
	$(CLANG) $(BASE) $(HARDEN) $(cflags) -o $@ $(SRC) $(ASM) $(EMBED) $(LDHARD) $(libs)

build-clang/unit-tests: $(LIBSRC) $(ASM) $(EMBED) $(UNITSRC) $(DATA) $(shell find src tests/unit -name '*.h') | $(TEST_DEPS_STAMP)
	@mkdir -p build-clang
	$(CLANG) $(BASE) $(UNITFL) $(HARDEN) $(tcflags) -o $@ $(LIBSRC) $(ASM) $(EMBED) $(UNITSRC) $(tlibs)

# A new VERSION rebuilds every binary that prints it.
build/gatehouse build-asan/gatehouse build/unit-tests build-asan/unit-tests \
    build-clang/gatehouse build-clang/unit-tests: VERSION

asan: build-asan/gatehouse build-asan/unit-tests

clang: build-clang/gatehouse build-clang/unit-tests
	./build-clang/unit-tests

# Banned C library functions in src/ and tests/unit/: the list, with the
# reason for each, is in the script. Its self-test runs first, so that a
# scanner that no longer finds anything cannot pass for a clean tree.
banned: | $(TEST_DEPS_STAMP)
	$(PYTHON) scripts/check-banned.py --self-test
	$(PYTHON) scripts/check-banned.py src tests/unit

run: build/gatehouse
	./build/gatehouse

# The unit tests run beside a throwaway PostgreSQL 15 cluster, so that the
# store's cases run on both backends (tests/unit/store/test_store.c); then
# the runner's own test: skips counted, data found from any directory.
unit: build/unit-tests
	GATEHOUSE_TEST_REQUIRE_PG=1 scripts/with-pg.sh ./build/unit-tests
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/deploy/test_unit_runner.py

unit-asan: build-asan/unit-tests
	GATEHOUSE_TEST_REQUIRE_PG=1 ASAN_OPTIONS=detect_leaks=1 scripts/with-pg.sh \
	    ./build-asan/unit-tests

# tests/api/test_postgres.py starts a PostgreSQL cluster of its own (and fails
# rather than skips here when PostgreSQL is missing).
api: build/gatehouse | $(TEST_DEPS_STAMP)
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse GATEHOUSE_TEST_REQUIRE_PG=1 \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/api

api-asan: build-asan/gatehouse
	GATEHOUSE_BIN=$(CURDIR)/build-asan/gatehouse GATEHOUSE_ASAN=1 GATEHOUSE_TEST_REQUIRE_PG=1 \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/api

# The tests of the HTTP layer alone (connection limits and deadlines, request
# framing, TLS), which never reach the store, run on SQLite only.
PG_SKIP := --ignore=tests/api/test_limits.py --ignore=tests/api/test_desync.py \
           --ignore=tests/api/test_tls.py

# The whole API suite again with the default server on a throwaway PostgreSQL
# 15 cluster, which scripts/with-pg.sh starts and always removes.
api-pg: build/gatehouse | $(TEST_DEPS_STAMP)
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse scripts/with-pg.sh \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/api --ignore=tests/api/test_postgres.py --ignore=tests/api/test_migration.py \
	    $(PG_SKIP)

api-pg-asan: build-asan/gatehouse
	GATEHOUSE_BIN=$(CURDIR)/build-asan/gatehouse GATEHOUSE_ASAN=1 \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    scripts/with-pg.sh \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/api --ignore=tests/api/test_postgres.py --ignore=tests/api/test_migration.py \
	    $(PG_SKIP)

# make test runs its suites TEST_JOBS at a time (a make -j of its own), the
# longest first: an API suite spends most of its time waiting on the servers
# it starts (pytest and its servers use about 40% of one core), so two of
# them share the two cores of a CI machine well. Each suite's output comes
# out whole when it ends (--output-sync). The test toolchain is installed
# first, once.
TEST_SUITES := api-asan api api-pg-asan api-pg deb-test unit-asan unit clang browser nginx-test \
               proxy-test oidc-rp install-test socket-test fuzz-smoke format-check banned \
               openapi-lint
TEST_JOBS ?= 2
test: | $(TEST_DEPS_STAMP)
	$(MAKE) -j$(TEST_JOBS) --output-sync=target $(TEST_SUITES)
	@echo "make test: all suites passed"

# The OpenAPI document against the OpenAPI 3.1 schema (swagger-parser).
openapi-lint: $(WEB_STAMP) | $(TEST_DEPS_STAMP)
	node web/validate.mjs web/openapi.json

# /docs and /redoc in headless Chromium (Debian's), driven by playwright-core,
# the pages of mailed links with real mail (tests/api/mailsink.py as a
# spool), and passkeys from the sign-in and account pages with Chromium's
# virtual authenticator; screenshots in tests/output/browser/.
browser: build/gatehouse $(WEB_STAMP) | $(TEST_DEPS_STAMP)
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse node --test tests/browser/docs.test.mjs
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse node --test tests/browser/pages.test.mjs
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse node --test tests/browser/passkeys.test.mjs

# examples/nginx/gatehouse.conf run by Debian's nginx on loopback in front of
# gatehouse and an echoing application (tests/deploy/nginx_stack.py): the
# HTTP checks, then Swagger UI's Authorize and the sign-in page in Chromium.
nginx-test: build/gatehouse $(WEB_STAMP) | $(TEST_DEPS_STAMP)
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse $(PYTHON) -m pytest -q -p no:cacheprovider tests/deploy/test_nginx.py
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse node --test tests/browser/nginx.test.mjs

# examples/caddy/Caddyfile run by Debian's Caddy (forward_auth) on loopback in
# front of gatehouse with examples/access-rules.json and an echoing
# application (tests/deploy/caddy_stack.py): the rules' cases over HTTP, then
# Chromium's round trip unsigned -> sign-in page -> the original URL.
proxy-test: build/gatehouse $(WEB_STAMP) | $(TEST_DEPS_STAMP)
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse $(PYTHON) -m pytest -q -p no:cacheprovider tests/deploy/test_caddy.py
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse node --test tests/browser/caddy.test.mjs

# gatehouse as the OpenID Connect provider of relying parties nobody here
# wrote, the user played by Chromium: the openid-client npm package (code +
# PKCE, refresh, userinfo, a second application by SSO, introspection and
# revocation, RP-initiated logout, a second factor), and Debian's Apache
# with mod_auth_openidc configured by examples/apache/gatehouse-oidc.conf
# protecting a page (sign-in, consent, sign-out through /oidc/logout).
oidc-rp: build/gatehouse $(WEB_STAMP) | $(TEST_DEPS_STAMP)
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse node --test tests/browser/oidc_client.test.mjs \
	    tests/browser/apache.test.mjs

format: | $(TEST_DEPS_STAMP)
	clang-format -i $(SRC) $(shell find src tests/unit fuzz -name '*.[ch]')

format-check: | $(TEST_DEPS_STAMP)
	clang-format --dry-run --Werror $(shell find src tests/unit fuzz -name '*.[ch]')

# bench/bare.c: a bare libmicrohttpd server with gatehouse's daemon settings,
# the ceiling the fast path is measured against (bench/README.md).
build/bench-bare: bench/bare.c | $(DEPS_STAMP)
	@mkdir -p build
	$(CC) $(BASE) $(HARDEN) $(shell pkg-config --cflags libmicrohttpd) -o $@ bench/bare.c \
	    $(LDHARD) $(shell pkg-config --libs libmicrohttpd)

# bench/bare_h2o.c: the same bare hello on libh2o-evloop 2.2.5 (issue 13), for
# bench/fastpath.py --h2o. A bench-only dependency, not installed by
# scripts/install-deps.sh: apt-get install libh2o-evloop-dev.
build/bench-bare-h2o: bench/bare_h2o.c
	@pkg-config --exists libh2o-evloop || { echo 'build/bench-bare-h2o needs libh2o-evloop: apt-get install libh2o-evloop-dev' >&2; exit 1; }
	@mkdir -p build
	$(CC) $(BASE) $(HARDEN) $(shell pkg-config --cflags libh2o-evloop 2>/dev/null) -o $@ bench/bare_h2o.c \
	    $(LDHARD) $(shell pkg-config --libs libh2o-evloop 2>/dev/null)

# bench/webauthn.c: microseconds per webauthn_verify_assertion (a passkey
# sign-in's check) for ES256, EdDSA and RS256, on the unit tests' vectors.
WEBAUTHN_BENCH_SRC := src/core/webauthn.c src/core/ossl.c src/util/b64.c src/util/dlib.c
build/bench-webauthn: bench/webauthn.c $(WEBAUTHN_BENCH_SRC) tests/unit/core/webauthn_vectors.h tests/unit/core/webauthn_cases.h $(shell find src -name '*.h') | $(DEPS_STAMP)
	@mkdir -p build
	$(CC) $(BASE) $(HARDEN) -Itests/unit/core $(cflags) -o $@ bench/webauthn.c $(WEBAUTHN_BENCH_SRC) \
	    $(LDHARD) $(libs)

# bench/rules.c: instructions per rules_decide (core/rules.h) with 100 rules,
# counted by callgrind (bench/rules.sh).
RULES_BENCH_SRC := src/core/rules.c src/util/keyfile.c src/util/log.c src/util/utf8.c
build/bench-rules: bench/rules.c $(RULES_BENCH_SRC) src/core/rules.h | $(DEPS_STAMP)
	@mkdir -p build
	$(CC) $(BASE) $(HARDEN) $(cflags) -o $@ bench/rules.c $(RULES_BENCH_SRC) $(LDHARD) $(libs)

bench-rules: build/bench-rules
	bench/rules.sh

bench: build/gatehouse build/bench-bare
	bench/run.sh

# The man page, generated from --help and --version (help2man) with the
# sections of dist/gatehouse.h2m.
build/gatehouse.1: build/gatehouse dist/gatehouse.h2m | $(DEPS_STAMP)
	help2man --no-info --section=1 --include=dist/gatehouse.h2m \
	    --name='authentication service: users, logins and JWT access tokens' \
	    --output=$@.tmp ./build/gatehouse
	sed -e '/^\.SS /s/("\(.*\)" describes/(\\(lq\1\\(rq describes/' $@.tmp >$@ && rm -f $@.tmp

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, its man page, the
# systemd units (the service's paths set to these; gatehouse.socket as it is),
# the nginx, Apache and Caddy examples, the access rules example and the
# README; the environment file only when there is none, so a second install
# keeps yours.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/gatehouse
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
install: build/gatehouse build/gatehouse.1
	install -D -m 0755 build/gatehouse $(DESTDIR)$(BINDIR)/gatehouse
	install -D -m 0644 build/gatehouse.1 $(DESTDIR)$(MANDIR)/man1/gatehouse.1
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed -e 's|/usr/local/bin/gatehouse|$(BINDIR)/gatehouse|' \
	    -e 's|/etc/gatehouse/|$(SYSCONFDIR)/gatehouse/|' \
	    dist/systemd/gatehouse.service >$(DESTDIR)$(UNITDIR)/gatehouse.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/gatehouse.service
	install -m 0644 dist/systemd/gatehouse.socket $(DESTDIR)$(UNITDIR)/gatehouse.socket
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -D -m 0644 examples/nginx/gatehouse.conf $(DESTDIR)$(DOCDIR)/examples/nginx/gatehouse.conf
	install -D -m 0644 examples/nginx/signin.html $(DESTDIR)$(DOCDIR)/examples/nginx/signin.html
	install -D -m 0644 examples/apache/gatehouse-oidc.conf $(DESTDIR)$(DOCDIR)/examples/apache/gatehouse-oidc.conf
	install -D -m 0644 examples/caddy/Caddyfile $(DESTDIR)$(DOCDIR)/examples/caddy/Caddyfile
	install -D -m 0644 examples/access-rules.json $(DESTDIR)$(DOCDIR)/examples/access-rules.json
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/gatehouse
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.env ]; then \
	    echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.env"; \
	else \
	    echo "install -m 0600 dist/gatehouse.env $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.env"; \
	    install -m 0600 dist/gatehouse.env $(DESTDIR)$(SYSCONFDIR)/gatehouse/gatehouse.env; \
	fi

# make install into a scratch DESTDIR: the files, their modes, the unit
# accepted by systemd-analyze verify, its security score (tests/deploy/).
install-test: build/gatehouse build/gatehouse.1 | $(TEST_DEPS_STAMP)
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse $(PYTHON) -m pytest -q -p no:cacheprovider tests/deploy/test_install.py

# Socket activation under systemd-socket-activate and a holder that plays
# systemd (tests/deploy/holder.py), and 5 restarts under a load of /verify,
# /login and /refresh with every answer counted (README "Upgrading without
# downtime").
socket-test: build/gatehouse | $(TEST_DEPS_STAMP)
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse $(PYTHON) -m pytest -q -p no:cacheprovider \
	    tests/deploy/test_socket.py tests/deploy/test_restart.py

# make deb: build/deb/gatehouse_$(VERSION)_ARCH.deb (amd64 here) by debhelper from
# debian/, which reuses make install (debian/rules). No network: the tree
# must hold web/node_modules already, which building the binary installs.
# debian/changelog's newest entry must name VERSION: a new version needs an
# entry there too (dch -v VERSION), and the package is refused until then.
DEB_ARCH = $(shell dpkg --print-architecture)
DEB     = build/deb/gatehouse_$(VERSION)_$(DEB_ARCH).deb
DEB_SRC := debian/changelog debian/control debian/copyright debian/rules debian/source/format \
           $(filter-out %.substvars %.debhelper %.log,$(wildcard debian/gatehouse.*)) debian/service-user.conf \
           $(wildcard dist/* dist/systemd/*) README.md data/LICENSES.md \
           $(shell find examples -type f)
deb: $(DEB)
$(DEB): build/gatehouse build/gatehouse.1 $(DEB_SRC) VERSION | $(TEST_DEPS_STAMP)
	@v=$$(dpkg-parsechangelog -S Version); [ "$$v" = "$(VERSION)" ] || { \
	    echo "make deb: VERSION is $(VERSION) but debian/changelog's newest entry is $$v: add an entry (dch -v $(VERSION))" >&2; \
	    exit 1; }
	dpkg-checkbuilddeps
	rm -f build/deb/gatehouse_*.deb build/deb/gatehouse-dbgsym_*
	debian/rules binary DEB_DIR=build/deb

# The package in a freshly bootstrapped Debian 12 root (cached under
# build/debroot): installed with apt, --version, systemd-analyze verify of
# its units, a request served as its user, then remove and purge.
deb-test: $(DEB) | $(TEST_DEPS_STAMP)
	GATEHOUSE_DEB=$(CURDIR)/$(DEB) $(PYTHON) -m pytest -q -p no:cacheprovider tests/deploy/test_deb.py

# libFuzzer targets, one per parser (fuzz/README.md): clang with ASan and
# UBSan. The library is an archive, so each target links only what it
# reaches. New inputs a run finds go to a temporary directory, never into
# fuzz/corpus/ (merge them by hand when they are worth keeping).
FUZZ_TARGETS := json form jws auth pgurl csv config jwk forwarded email tmpl mail webauthn clientdata \
                clientauth authz rules fwdreq
FUZZ_SECONDS ?= 300
FUZZ_JOBS    ?= 2
FUZZFL  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZOBJ := $(patsubst src/%.c,build-fuzz/obj/%.o,$(LIBSRC)) build-fuzz/obj/pwlist_data.o \
           build-fuzz/obj/gen/templates.o build-fuzz/obj/gen/templates_data.o
FUZZBIN := $(addprefix build-fuzz/fuzz_,$(FUZZ_TARGETS))

build-fuzz/obj/%.o: src/%.c $(shell find src -name '*.h') | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CLANG) $(BASE) $(FUZZFL) -fsanitize=fuzzer-no-link $(cflags) -c -o $@ $<

build-fuzz/obj/pwlist_data.o: $(ASM) $(DATA)
	@mkdir -p $(dir $@)
	$(CLANG) -c -o $@ $(ASM)

# The embedded templates (core/templates.h), which core/i18n.c reads.
build-fuzz/obj/gen/templates.o: build/gen/templates.c src/core/templates.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BASE) $(FUZZFL) -fsanitize=fuzzer-no-link -c -o $@ build/gen/templates.c

build-fuzz/obj/gen/templates_data.o: build/gen/templates.S
	@mkdir -p $(dir $@)
	$(CLANG) -c -o $@ build/gen/templates.S

build-fuzz/libgatehouse.a: $(FUZZOBJ)
	rm -f $@
	ar rcs $@ $(FUZZOBJ)

build-fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h build-fuzz/libgatehouse.a
	$(CLANG) $(BASE) -I. $(FUZZFL) -fsanitize=fuzzer $(cflags) -o $@ $< \
	    build-fuzz/libgatehouse.a $(libs)

fuzz-build: $(FUZZBIN)

fuzz: $(FUZZBIN)
	fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

# make test's share: every target for 30 s on its corpus, two at a time.
fuzz-smoke: $(FUZZBIN)
	fuzz/run.sh 30 2 $(FUZZ_TARGETS)

# The API tests with the server run by valgrind memcheck (fuzz/README.md):
# any memcheck error makes the server exit 99, which the tests' teardown
# reports as a failure.
valgrind: build/gatehouse
	fuzz/valgrind.sh

clean:
	rm -rf build build-asan build-clang build-fuzz
