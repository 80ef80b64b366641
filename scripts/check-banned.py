#!/usr/bin/env python3
"""Refuses banned C library functions in gatehouse's C sources.

    scripts/check-banned.py DIR_OR_FILE...   scan *.c and *.h; exit 1 on a hit
    scripts/check-banned.py --self-test      check the scanner itself

Each hit is printed as file:line:column, the name and the reason, like a
compiler diagnostic. make test runs both forms over src/ and tests/unit/.

A name counts wherever it appears as a whole identifier in code, called or
not, so "(strcpy)(d, s)" and "fp = strcpy" are caught too. Comments, string
and character literals are blanked out first; a longer identifier that
contains a banned name (snprintf, gmtime_r, my_strcpy) is a different
identifier; a struct member (s.ctime, p->index) is not the library function.
The price: one of these names cannot be reused for a variable or field.

The list follows curl's checksrc and git's banned.h, plus the functions an
authentication service has further reason to avoid. strtok_r is banned with
strtok: its state is no longer hidden, but it still writes into its input
and swallows empty fields, which a strict parser must see.
"""

import os
import re
import sys

# One place for the list: name -> why, and what to use instead.
BANNED = {
    # Copies and concatenation without a bound.
    "strcpy": "no bound on the destination; memcpy with a checked length, or snprintf",
    "stpcpy": "no bound on the destination; memcpy with a checked length",
    "strcat": "no bound on the destination; snprintf into the whole buffer",
    "strncpy": "no NUL when the source is too long, NUL padding when short; memcpy + NUL",
    "strncat": "its bound is the room left, not the buffer size (off-by-one bait); snprintf",
    "sprintf": "no bound on the destination; snprintf",
    "vsprintf": "no bound on the destination; vsnprintf",
    "gets": "no bound at all, removed in C11; fgets",
    # Tokenizers.
    "strtok": "hidden static state (not reentrant, not thread-safe); memchr/strcspn on a length",
    "strtok_r": "writes NULs into its input and drops empty fields; memchr/strcspn on a length",
    # Number parsing without error reporting.
    "atoi": "no error report, undefined on overflow; strtol with an end pointer and errno",
    "atol": "no error report, undefined on overflow; strtol with an end pointer and errno",
    "atoll": "no error report, undefined on overflow; strtoll with an end pointer and errno",
    "atof": "no error report; strtod with an end pointer and errno",
    "scanf": "%s without a width overflows, numeric overflow is undefined; fgets + strtol",
    "fscanf": "%s without a width overflows, numeric overflow is undefined; strtol & co",
    "sscanf": "%s without a width overflows, numeric overflow is undefined; strtol & co",
    "vscanf": "%s without a width overflows, numeric overflow is undefined; strtol & co",
    "vfscanf": "%s without a width overflows, numeric overflow is undefined; strtol & co",
    "vsscanf": "%s without a width overflows, numeric overflow is undefined; strtol & co",
    # Temporary files by name.
    "tmpnam": "the name can be taken before it is opened (a race); mkstemp or mkdtemp",
    "tempnam": "the name can be taken before it is opened (a race); mkstemp or mkdtemp",
    "mktemp": "the name can be taken before it is opened (a race); mkstemp or mkdtemp",
    # Time conversion through static buffers.
    "gmtime": "returns static storage shared by every thread; gmtime_r",
    "localtime": "returns static storage shared by every thread; localtime_r",
    "ctime": "static buffer shared by every thread; strftime",
    "asctime": "static buffer shared by every thread; strftime",
    "ctime_r": "buffer of unstated size (26 bytes, overrun after year 9999); strftime",
    "asctime_r": "buffer of unstated size (26 bytes, overrun after year 9999); strftime",
    # Predictable random numbers: secrets come from libsodium.
    "rand": "predictable; randombytes_buf or randombytes_uniform (libsodium)",
    "rand_r": "predictable; randombytes_buf or randombytes_uniform (libsodium)",
    "srand": "seeds a predictable generator; randombytes_buf (libsodium)",
    "random": "predictable; randombytes_buf or randombytes_uniform (libsodium)",
    "srandom": "seeds a predictable generator; randombytes_buf (libsodium)",
    "drand48": "predictable; randombytes_buf or randombytes_uniform (libsodium)",
    "lrand48": "predictable; randombytes_buf or randombytes_uniform (libsodium)",
    "mrand48": "predictable; randombytes_buf or randombytes_uniform (libsodium)",
    "srand48": "seeds a predictable generator; randombytes_buf (libsodium)",
    # Others.
    "alloca": "unbounded stack allocation that cannot report failure; malloc",
    "inet_ntoa": "static buffer shared by every thread, IPv4 only; inet_ntop",
    "gethostbyname": "static result shared by every thread, IPv4 only; getaddrinfo",
    "gethostbyaddr": "static result shared by every thread, IPv4 only; getnameinfo",
}

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def blank_comments_and_literals(text):
    """Returns text with comments and string/character literals replaced by
    spaces, newlines kept, so that offsets still give lines and columns."""
    out = []
    i, n = 0, len(text)

    def blank(s):
        return re.sub(r"[^\n]", " ", s)

    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(blank(text[i:end]))
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(blank(text[i:end]))
            i = end
        elif c in "\"'":
            # Up to the closing quote; a literal cannot span a line.
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j, n)
            out.append(c + blank(text[i + 1:j]))
            if j < n and text[j] == c:
                out.append(c)
                j += 1
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def scan_text(text):
    """Yields (line, column, name) for each banned identifier in C text."""
    code = blank_comments_and_literals(text)
    for m in IDENT.finditer(code):
        name = m.group(0)
        if name not in BANNED:
            continue
        before = code[:m.start()].rstrip(" \t\n\\")
        if before.endswith(".") or before.endswith("->"):
            continue  # a struct member, not the library function
        line = code.count("\n", 0, m.start()) + 1
        col = m.start() - (code.rfind("\n", 0, m.start()) + 1) + 1
        yield line, col, name


def c_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if f.endswith((".c", ".h")):
                        yield os.path.join(root, f)
        else:
            yield p


def check(paths):
    hits = 0
    for path in c_files(paths):
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        for line, col, name in scan_text(text):
            print(f"{path}:{line}:{col}: banned function {name}: {BANNED[name]}")
            hits += 1
    if hits:
        print(f"check-banned: {hits} use(s) of banned functions (list: {sys.argv[0]})",
              file=sys.stderr)
    return 1 if hits else 0


# Snippets the scanner must flag (with the line of the hit) and snippets it
# must leave alone.
MUST_FLAG = [
    ("strcpy(d, s);", 1, "strcpy"),
    ("x = strcpy (d, s);", 1, "strcpy"),
    ("x = strcpy\n    (d, s);", 1, "strcpy"),
    ("(strcpy)(d, s);", 1, "strcpy"),
    ("fn = &sprintf;", 1, "sprintf"),
    ("/* a\n * comment\n */\nn = atoi(s);", 4, "atoi"),
    ("char *s = \"x\"; gets(b);", 1, "gets"),
    ("c = '\"'; strtok(s, \",\");", 1, "strtok"),
    ("p = strtok_r(s, \",\", &save);", 1, "strtok_r"),
    ("tm = gmtime(&t);", 1, "gmtime"),
    ("r = rand() % 6;", 1, "rand"),
    ("s = \"a\\\"b\"; strcat(d, s);", 1, "strcat"),
]
MUST_PASS = [
    "vsnprintf(b, n, fmt, ap); snprintf(b, n, \"%d\", 1);",
    "gmtime_r(&t, &tm); localtime_r(&t, &tm); strtoll(s, &e, 10);",
    "my_strcpy(d, s); strcpy_checked(d, s); xgets(b);",
    "randombytes_buf(b, n); operand(x); grand = 1; srand_like();",
    "s.ctime = 0; p->gets(b); p -> random = 1; q.\n  rand = 2;",
    "/* strcpy(d, s) would overflow */ x = 1;",
    "// sprintf(b, \"%s\", s)\nx = 1;",
    "puts(\"call strcpy(d, s) or atoi(s)\");",
    "c = 'a'; d = '\\''; e = \"it's strcat\";",
    "#include <strings.h>\nstrtol(s, &e, 10);",
]


def self_test():
    failures = 0
    for snippet, line, name in MUST_FLAG:
        hits = list(scan_text(snippet))
        if [(h[0], h[2]) for h in hits] != [(line, name)]:
            print(f"self-test: expected {name} on line {line} in {snippet!r}, got {hits}")
            failures += 1
    for snippet in MUST_PASS:
        hits = list(scan_text(snippet))
        if hits:
            print(f"self-test: expected nothing in {snippet!r}, got {hits}")
            failures += 1
    total = len(MUST_FLAG) + len(MUST_PASS)
    print(f"check-banned self-test: {total - failures} passed, {failures} failed")
    return 1 if failures else 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if not argv or any(a.startswith("-") for a in argv):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    return check(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
