# gatehouse: one plain Makefile over pkg-config and Debian 12 packages.
#   make          build build/gatehouse
#   make run      install what is missing, build, serve on 127.0.0.1:8000 (SQLite)
#   make test     unit + API tests on the release build and under ASan/UBSan
#   make asan     build build-asan/gatehouse with AddressSanitizer + UBSan
#   make format   reformat the C sources; make format-check verifies them

CC      ?= cc
PKGS    := libmicrohttpd jansson libsodium libcrypto sqlite3 libxcrypt
PYTHON  := /usr/bin/python3

WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
           -Wformat=2 -Wvla -Wpointer-arith
BASE    := -std=c11 -D_GNU_SOURCE -Isrc $(WARN) -pthread
HARDEN  := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
SANFL   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDHARD  := -pie -Wl,-z,relro,-z,now

SRC     := $(shell find src -name '*.c' | sort)
ASM     := src/core/pwlist_data.S
LIBSRC  := $(filter-out src/main.c,$(SRC))
UNITSRC := $(shell find tests/unit -name '*.c' 2>/dev/null | sort)
DATA    := data/common-passwords.txt

DEPS_STAMP := build/.deps-ok

.PHONY: all run test asan unit unit-asan api api-asan format format-check deps clean bench install

all: build/gatehouse

# pkg-config runs only when a build needs it, after deps have installed it.
cflags = $(shell pkg-config --cflags $(PKGS))
libs   = $(shell pkg-config --libs $(PKGS))

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p build
	scripts/install-deps.sh build
	@touch $@

build/gatehouse: $(SRC) $(ASM) $(DATA) $(shell find src -name '*.h') | $(DEPS_STAMP)
	@mkdir -p build
	$(CC) $(BASE) $(HARDEN) $(cflags) -o $@ $(SRC) $(ASM) $(LDHARD) $(libs)

build-asan/gatehouse: $(SRC) $(ASM) $(DATA) $(shell find src -name '*.h') | $(DEPS_STAMP)
	@mkdir -p build-asan
	$(CC) $(BASE) $(SANFL) $(cflags) -o $@ $(SRC) $(ASM) $(libs)

build/unit-tests: $(LIBSRC) $(ASM) $(UNITSRC) $(shell find src tests/unit -name '*.h') | $(DEPS_STAMP)
	$(CC) $(BASE) -Itests/unit $(HARDEN) $(cflags) -o $@ $(LIBSRC) $(ASM) $(UNITSRC) $(libs)

build-asan/unit-tests: $(LIBSRC) $(ASM) $(UNITSRC) $(shell find src tests/unit -name '*.h') | $(DEPS_STAMP)
	@mkdir -p build-asan
	$(CC) $(BASE) -Itests/unit $(SANFL) $(cflags) -o $@ $(LIBSRC) $(ASM) $(UNITSRC) $(libs)

asan: build-asan/gatehouse build-asan/unit-tests

run: build/gatehouse
	./build/gatehouse

unit: build/unit-tests
	./build/unit-tests

unit-asan: build-asan/unit-tests
	ASAN_OPTIONS=detect_leaks=1 ./build-asan/unit-tests

api: build/gatehouse
	GATEHOUSE_BIN=$(CURDIR)/build/gatehouse $(PYTHON) -m pytest -q -p no:cacheprovider tests/api

api-asan: build-asan/gatehouse
	GATEHOUSE_BIN=$(CURDIR)/build-asan/gatehouse GATEHOUSE_ASAN=1 \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/api

test: format-check unit unit-asan api api-asan
	@echo "make test: all suites passed"

format:
	clang-format -i $(SRC) $(shell find src tests/unit -name '*.[ch]')

format-check: | $(DEPS_STAMP)
	clang-format --dry-run --Werror $(shell find src tests/unit -name '*.[ch]')

bench: build/gatehouse
	bench/run.sh

install: build/gatehouse
	install -D -m 0755 build/gatehouse $(DESTDIR)/usr/local/bin/gatehouse

clean:
	rm -rf build build-asan
