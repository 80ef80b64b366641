"""Operations endpoints: /healthz, /readyz, /.well-known/jwks.json, and signals."""
import signal

import pytest

from gh_helpers import allow_set, assert_common_headers, assert_problem, media_type


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_ok(server, path):
    r = server.get(path)
    assert r.status_code == 200, r.text
    assert media_type(r) == "application/json"
    assert r.json() == {"status": "ok"}
    assert_common_headers(r)


def test_jwks_empty_for_hs256(server):
    r = server.get("/.well-known/jwks.json")
    assert r.status_code == 200, r.text
    # RFC 7517 registers application/jwk-set+json; plain JSON is what most servers send.
    assert media_type(r) in ("application/json", "application/jwk-set+json")
    assert r.json() == {"keys": []}
    assert_common_headers(r)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/.well-known/jwks.json"])
def test_head_on_get_routes(server, path):
    r = server.head(path)
    assert r.status_code == 200
    assert r.content == b""
    assert_common_headers(r)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/.well-known/jwks.json"])
def test_wrong_method_on_get_routes(server, path, method):
    r = server.request(method, path, json={})
    assert_problem(r, 405)
    allowed = allow_set(r)
    assert {"GET", "HEAD"} <= allowed, allowed
    assert method not in allowed


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero(make_server, sig):
    srv = make_server()
    assert srv.get("/healthz").status_code == 200
    assert srv.stop(sig=sig) == 0
