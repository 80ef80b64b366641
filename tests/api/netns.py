"""Network namespaces for tests that need more of the network than the
host's loopback gives: several IPv6 addresses of one /64, or small TCP
buffers. Needs root and `ip` (iproute2); a test without them is skipped
with the reason.

    with namespace() as ns:          # a fresh namespace, loopback up
        ns.ip("addr", "add", ...)    # `ip -n <ns> ...`
        ns.sysctl("net.ipv4.tcp_wmem", "4096 4096 4096")
        with ns.inside():            # this thread's sockets and children
            ...                      # (gatehouse started here) live in it
"""
import contextlib
import ctypes
import os
import secrets
import shutil
import subprocess

import pytest

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class Namespace:
    def __init__(self, name):
        self.name = name

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.name, *args], check=True, capture_output=True, text=True)

    def sysctl(self, key, value):
        subprocess.run(["ip", "netns", "exec", self.name, "sysctl", "-q", "-w", f"{key}={value}"],
                       check=True, capture_output=True, text=True)

    @contextlib.contextmanager
    def inside(self):
        """Runs the block with this thread in the namespace (setns(2) acts
        on the calling thread only); a process started in it starts there."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            if _libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into the test namespace")
            yield
        finally:
            back = _libc.setns(own, CLONE_NEWNET)
            os.close(own)
            os.close(target)
            if back != 0:
                raise OSError(ctypes.get_errno(), "setns back")


@contextlib.contextmanager
def namespace():
    """A fresh network namespace with its loopback up, deleted after."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None:
        pytest.skip("no ip command (iproute2)")
    name = f"gh-test-{secrets.token_hex(4)}"
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        pytest.skip(f"cannot create a network namespace: {e.stderr.strip()}")
    try:
        ns = Namespace(name)
        ns.ip("link", "set", "lo", "up")
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
