"""GET /openapi.json, /docs (Swagger UI), /redoc (ReDoc) and their assets:
embedded in the binary, served same-origin with the right content types,
caching headers, ETags and a Content-Security-Policy that allows nothing
from another origin."""
import json
import re
from html.parser import HTMLParser

import pytest

from gh_helpers import REPO, allow_set, assert_common_headers, assert_problem, media_type

PINNED = json.loads((REPO / "web" / "package.json").read_text())["dependencies"]
SOURCE = json.loads((REPO / "web" / "openapi.json").read_text())
YEAR = 31536000
# The OAuth endpoints answer the errors of their requests in the RFC 6749
# §5.2 form (JSON), a failed client authentication's 401 too.
OAUTH_PATHS = ("/token", "/oauth/revoke", "/oauth/introspect")
OAUTH_ERRORS = {(p, s) for p in OAUTH_PATHS for s in ("400", "401")}


class Refs(HTMLParser):
    """The scripts, stylesheets and icons a page loads, and any inline script."""

    def __init__(self):
        super().__init__()
        self.urls, self.inline, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self._in_script = True
            if a.get("src"):
                self.urls.append(a["src"])
        elif tag == "link" and a.get("href"):
            self.urls.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.urls.append(a["src"])
        for name in a:
            if name.startswith("on"):
                self.inline.append(f"{tag} {name}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(data.strip()[:80])


def page_refs(resp):
    p = Refs()
    p.feed(resp.text)
    return p


def csp(resp):
    value = resp.headers.get("Content-Security-Policy")
    assert value, "no Content-Security-Policy"
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def cache_control(resp):
    return {p.strip().lower() for p in (resp.headers.get("Cache-Control") or "").split(",") if p.strip()}


# ------------------------------------------------------------- /openapi.json
def test_openapi_json(server):
    r = server.get("/openapi.json")
    assert r.status_code == 200
    assert media_type(r) == "application/json"
    assert_common_headers(r)
    doc = r.json()
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"]), doc["openapi"]
    # The binary serves the repository's document (made compact).
    assert doc == SOURCE
    assert cache_control(r) == {"no-cache"}
    assert re.fullmatch(r'"[A-Za-z0-9_-]+"', r.headers["ETag"])


def test_openapi_security_schemes(server):
    schemes = server.get("/openapi.json").json()["components"]["securitySchemes"]
    bearer = [s for s in schemes.values() if s["type"] == "http"]
    assert bearer and bearer[0]["scheme"].lower() == "bearer"
    oauth = [s for s in schemes.values() if s["type"] == "oauth2"]
    assert oauth and oauth[0]["flows"]["password"]["tokenUrl"] == "/token"


def test_openapi_documents_what_is_served(server):
    """Every documented operation is routed (the C unit test checks the
    converse: every route is documented). The OpenID Connect provider's
    answer 404 here, where it is off (no PUBLIC_URL), as a problem of their
    own (test_oidc_token.py::test_oidc_operations_are_served checks them
    with the provider on)."""
    doc = server.get("/openapi.json").json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            r = server.request(method.upper(), path)
            if "oidc" in op.get("tags", []) and r.status_code == 404:
                assert_problem(r, 404)
                continue
            assert r.status_code not in (404, 405), f"{method.upper()} {path}: {r.status_code}"


def test_openapi_responses_are_complete(server):
    """Each response says its headers and content: X-Request-Id everywhere,
    problem+json for errors (but the OAuth errors of /token, its 403
    mfa_required too, and the HTML pages' own errors, pages too), WWW-Authenticate
    on 401, Retry-After on 503, no-store on tokens."""
    doc = server.get("/openapi.json").json()

    def resolve(obj):
        while "$ref" in obj:
            node = doc
            for part in obj["$ref"].lstrip("#/").split("/"):
                node = node[part]
            obj = node
        return obj

    for path, item in doc["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            assert op.get("operationId") and op.get("summary") and op.get("tags"), where
            for status, resp in op["responses"].items():
                resp = resolve(resp)
                headers = resp.get("headers", {})
                assert "X-Request-Id" in headers, f"{where} {status}"
                types = set(resp.get("content", {}))
                if status.startswith(("4", "5")):
                    # The pages answer errors as pages, in HTML; so do the
                    # operations that a page's form posts to, for the form.
                    # A 413 or 415 is the HTTP layer's, before any route's
                    # handler: a problem whatever the route. The OpenID
                    # Connect provider's pages answer 404 as the provider's
                    # other endpoints do while it is off: a problem.
                    provider_off = status == "404" and "oidc" in op["tags"]
                    want = "application/json" if (path, status) in OAUTH_ERRORS \
                        else "text/html; charset=utf-8" if "pages" in op["tags"] and \
                        status not in ("413", "415") and not provider_off \
                        else "application/problem+json"
                    html = "text/html; charset=utf-8"
                    form = path not in OAUTH_PATHS and "application/x-www-form-urlencoded" in \
                        op.get("requestBody", {}).get("content", {})
                    if (path, status) == ("/token", "403"):
                        # mfa_required is an OAuth error body (API.md,
                        # "Second factors"); a cross-site sign-in, a problem.
                        assert types == {"application/json", want}, f"{where} {status}: {types}"
                    elif form and html in types:
                        assert types in ({html}, {want, html}), f"{where} {status}: {types}"
                    else:
                        assert types == {want}, f"{where} {status}: {types}"
                if status == "401":
                    assert "WWW-Authenticate" in headers, where
                if status == "503":
                    assert "Retry-After" in headers, where
            if path in ("/login", "/token", "/userinfo", "/oauth/introspect"):
                ok = resolve(op["responses"]["200"])
                assert {"Cache-Control", "Pragma"} <= set(ok["headers"]), where
    assert "errors" in json.dumps(doc["components"]["schemas"]["ValidationProblem"])


def test_openapi_conditional_get(server):
    etag = server.get("/openapi.json").headers["ETag"]
    r = server.get("/openapi.json", headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["ETag"] == etag
    assert_common_headers(r)
    for value in (f"W/{etag}", f'"nope", {etag}', "*"):
        assert server.get("/openapi.json", headers={"If-None-Match": value}).status_code == 304
    assert server.get("/openapi.json", headers={"If-None-Match": '"nope"'}).status_code == 200


def test_openapi_head(server):
    get = server.get("/openapi.json")
    r = server.head("/openapi.json")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["Content-Length"]) == len(get.content)


# ------------------------------------------------------------ /docs, /redoc
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_page(server, page):
    r = server.get(page)
    assert r.status_code == 200
    assert r.headers["Content-Type"].lower() == "text/html; charset=utf-8"
    assert_common_headers(r)
    assert cache_control(r) == {"no-cache"}
    assert r.headers.get("ETag")
    assert r.headers.get("Referrer-Policy") == "no-referrer"
    refs = page_refs(r)
    assert refs.inline == [], f"inline script on {page}: {refs.inline}"
    assert refs.urls, page


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_page_csp(server, page):
    policy = csp(server.get(page))
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    for directive, sources in policy.items():
        for s in sources:
            # Nothing from another origin, no eval.
            assert s in ("'self'", "'none'", "'unsafe-inline'", "data:", "blob:"), \
                f"{page}: {directive} {s}"
        if directive != "style-src":
            assert "'unsafe-inline'" not in sources, f"{page}: {directive}"
    # Only ReDoc needs a worker (its search index, from a blob: URL).
    assert ("worker-src" in policy) == (page == "/redoc")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_page_assets(server, page):
    r = server.get(page)
    urls = page_refs(r).urls
    for url in urls:
        assert not re.match(r"^[a-z]+:|^//", url), f"{page} loads {url} from elsewhere"
        a = server.get("/" + url.lstrip("/"))
        assert a.status_code == 200, f"{url}: {a.status_code}"
        assert_common_headers(a)
        want = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
                "png": "image/png"}[url.rsplit(".", 1)[1]]
        assert a.headers["Content-Type"].lower() == want, url
        assert cache_control(a) == {"public", f"max-age={YEAR}", "immutable"}, url
        assert a.headers.get("ETag"), url
        assert int(a.headers["Content-Length"]) == len(a.content) > 0
    joined = " ".join(urls)
    if page == "/docs":
        v = PINNED["swagger-ui-dist"]
        assert f"docs/assets/swagger-ui-dist@{v}/swagger-ui-bundle.js" in joined
        assert f"docs/assets/swagger-ui-dist@{v}/swagger-ui.css" in joined
    else:
        assert f"docs/assets/redoc@{PINNED['redoc']}/redoc.standalone.js" in joined


def test_assets_are_the_npm_packages(server):
    """The bundles are the pinned npm packages' files, byte for byte (ReDoc's
    has its CDN logo removed; see web/embed.mjs)."""
    nm = REPO / "web" / "node_modules"
    if not nm.is_dir():
        pytest.skip("web/node_modules is not installed")
    v = PINNED["swagger-ui-dist"]
    for f in ("swagger-ui-bundle.js", "swagger-ui.css"):
        r = server.get(f"/docs/assets/swagger-ui-dist@{v}/{f}")
        assert r.content == (nm / "swagger-ui-dist" / f).read_bytes(), f
    r = server.get(f"/docs/assets/redoc@{PINNED['redoc']}/redoc.standalone.js")
    original = (nm / "redoc" / "bundles" / "redoc.standalone.js").read_bytes()
    assert r.content == original.replace(b'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"',
                                         b'src:""')
    assert b"cdn.redoc.ly" not in r.content


def test_asset_conditional_get(server):
    url = f"/docs/assets/swagger-ui-dist@{PINNED['swagger-ui-dist']}/swagger-ui.css"
    etag = server.get(url).headers["ETag"]
    r = server.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert "immutable" in cache_control(r)


def test_asset_head(server):
    url = f"/docs/assets/redoc@{PINNED['redoc']}/redoc.standalone.js"
    r = server.head(url)
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["Content-Length"]) > 100000


@pytest.mark.parametrize("path", [
    "/docs/assets/",
    "/docs/assets/nope.js",
    f"/docs/assets/swagger-ui-dist@{PINNED['swagger-ui-dist']}/index.html",
    f"/docs/assets/swagger-ui-dist@{PINNED['swagger-ui-dist']}/swagger-ui-bundle.js.map",
    "/docs/assets/swagger-ui-dist@0.0.1/swagger-ui.css",
    "/docs/assets/../openapi.json",
    "/docs/index.html",
])
def test_unknown_asset(server, path):
    assert_problem(server.get(path), 404)


@pytest.mark.parametrize("path", ["/docs/", "/redoc/", "/openapi.json/"])
def test_trailing_slash_redirects_to_the_page(server, path):
    # As FastAPI answered (redirect_slashes): the page's relative asset
    # paths then resolve as they should.
    r = server.get(path, allow_redirects=False)
    assert r.status_code == 307 and r.headers["Location"] == path.rstrip("/")


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/docs/assets/x.js"])
def test_docs_methods(server, path):
    r = server.post(path, data=b"")
    assert_problem(r, 405)
    assert allow_set(r) == {"GET", "HEAD"}
