"""Tests of what ships beside the binary: examples/nginx/ run by Debian's
nginx (test_nginx.py), `make install` into a DESTDIR (test_install.py), the
Debian package in a debootstrapped root (test_deb.py, as root), and the unit
test runner's summary (test_unit_runner.py).

    GATEHOUSE_BIN=$PWD/build/gatehouse /usr/bin/python3 -m pytest -q tests/deploy
"""
import sys

sys.dont_write_bytecode = True
