"""ACCESS_RULES_FILE and DEFAULT_POLICY (core/rules.h): the file checked at
start with line-precise errors (exit 2), its rules counted in the log, read
again on SIGHUP (a bad new file keeps the current rules and the log says
why), and the rules in force deciding /verify."""
import json
import os
import signal

import pytest

from gh_helpers import TEST_DATABASE_URL


def write_rules(path, text, mode=0o644):
    path.write_text(text)
    os.chmod(path, mode)
    return path


def start(make_server, rules_path, **env):
    env = {"ACCESS_RULES_FILE": str(rules_path), **env}
    if TEST_DATABASE_URL:
        return make_server(env=env, database_url=TEST_DATABASE_URL)
    return make_server(env=env)


def refused(run_gatehouse, env, *words):
    res = run_gatehouse(env=env)
    assert res.returncode == 2, f"exit {res.returncode}; stderr:\n{res.stderr}"
    for w in words:
        assert w in res.stderr, (w, res.stderr)
    return res


BAD_POLICY = """[
  {"paths": ["/api/"], "policy": "public"},
  {"paths": ["/ops/"],
   "policy": "admins-only"}
]
"""


def test_bad_file_refused_at_start_with_its_line(run_gatehouse, tmp_path):
    f = write_rules(tmp_path / "rules.json", BAD_POLICY)
    res = refused(run_gatehouse, {"ACCESS_RULES_FILE": str(f)}, "ACCESS_RULES_FILE",
                  f"{f}:4: rule 2: \"policy\" must be")
    assert "listening" not in res.stderr


@pytest.mark.parametrize("text, line, words", [
    ('[\n {"paths": ["/a/"],\n  "policy": "deny",\n  "method": ["GET"]}]', 4,
     'unknown key "method"'),
    ('[\n {"policy": "authenticated",\n  "roles": ["ops",\n   "Ops"]}]', 4, "bad role name"),
    ('[\n {"policy": "public",\n  "roles": ["ops"]}]', 3, 'with policy "public"'),
    ('[\n {"policy": "deny",\n  "paths": []}]', 3, '"paths" is empty'),
    ('[\n {"policy": "deny",\n  "paths": ["/a/***"]}]', 3, "bad glob"),
    ('[\n {"policy": "deny",\n  "hosts": ["a.example.com:443"]}]', 3, "no port"),
    ('[\n {"policy": "deny"},\n {"policy": "deny"\n', 4, ""),
])
def test_each_error_names_its_line(run_gatehouse, tmp_path, text, line, words):
    f = write_rules(tmp_path / "rules.json", text)
    refused(run_gatehouse, {"ACCESS_RULES_FILE": str(f)}, f"{f}:{line}: ", words)


def test_flag_and_other_refusals(run_gatehouse, tmp_path):
    f = write_rules(tmp_path / "rules.json", BAD_POLICY)
    res = run_gatehouse(args=["serve", f"--access-rules-file={f}"])
    assert res.returncode == 2 and f"{f}:4:" in res.stderr, res.stderr
    # Absent, writable by others (it decides who gets in), too large.
    refused(run_gatehouse, {"ACCESS_RULES_FILE": str(tmp_path / "none.json")},
            str(tmp_path / "none.json"))
    w = write_rules(tmp_path / "open.json", "[]", mode=0o666)
    refused(run_gatehouse, {"ACCESS_RULES_FILE": str(w)}, str(w))
    big = write_rules(tmp_path / "big.json", "[" + " " * (1024 * 1024) + "]")
    refused(run_gatehouse, {"ACCESS_RULES_FILE": str(big)}, str(big), "larger")
    refused(run_gatehouse, {"DEFAULT_POLICY": "allow"}, "DEFAULT_POLICY", "allow")
    refused(run_gatehouse, {"DEFAULT_POLICY": "Deny"}, "DEFAULT_POLICY")


def test_help_lists_the_settings(run_gatehouse):
    res = run_gatehouse(args=["serve", "--help"], defaults=False)
    assert res.returncode == 0
    for s in ("ACCESS_RULES_FILE", "--access-rules-file", "DEFAULT_POLICY", "--default-policy"):
        assert s in res.stdout, s


def rules_doc(*rules):
    return json.dumps(list(rules), indent=1)


def test_sighup_reloads_and_a_bad_file_keeps_the_rules(make_server, tmp_path):
    f = write_rules(tmp_path / "rules.json",
                    rules_doc({"paths": ["/verify"], "policy": "public"},
                              {"paths": ["/x/"], "policy": "deny"}))
    srv = start(make_server, f)
    assert srv.stderr_shows(f"access rules: 2 loaded from {f}")
    # The /verify request itself (no trusted proxy) is judged: public.
    assert srv.get("/verify").status_code == 204

    write_rules(f, rules_doc({"paths": ["/verify"], "policy": "deny"},
                             {"policy": "public"}, {"policy": "deny"}))
    srv.proc.send_signal(signal.SIGHUP)
    assert srv.stderr_shows(f"SIGHUP: access rules: 3 loaded from {f}")
    assert srv.get("/verify").status_code == 403
    u = srv.new_user("rules")
    assert srv.verify(srv.token(u["username"])).status_code == 403

    # A bad new file: the current rules stay, the log gives FILE:LINE.
    write_rules(f, '[\n {"paths": ["/verify"],\n  "policy": "public",\n  "roles": ["x"]}]')
    srv.proc.send_signal(signal.SIGHUP)
    assert srv.stderr_shows(f"access rules not reloaded, the current ones stay: {f}:4:")
    assert srv.running()
    assert srv.get("/verify").status_code == 403
    os.unlink(f)
    srv.proc.send_signal(signal.SIGHUP)
    assert srv.stderr_shows(f"access rules not reloaded, the current ones stay: {f}")
    assert srv.get("/verify").status_code == 403

    write_rules(f, "[]")
    srv.proc.send_signal(signal.SIGHUP)
    assert srv.stderr_shows(f"SIGHUP: access rules: 0 loaded from {f}")
    # No rules: DEFAULT_POLICY (authenticated) decides again.
    assert srv.get("/verify").status_code == 401
    assert srv.verify(srv.token(u["username"])).status_code == 204


def test_default_policy_decides_without_rules(make_server, tmp_path):
    f = write_rules(tmp_path / "rules.json", "[]")
    srv = start(make_server, f, DEFAULT_POLICY="public")
    assert srv.stderr_shows(f"access rules: 0 loaded from {f} (default policy public)")
    assert srv.get("/verify").status_code == 204
    env = {"DEFAULT_POLICY": "deny"}
    srv2 = make_server(env=env, database_url=TEST_DATABASE_URL) if TEST_DATABASE_URL \
        else make_server(env=env)
    u = srv2.new_user("deny")
    assert srv2.verify(srv2.token(u["username"])).status_code == 403
    assert srv2.get("/verify").status_code == 403
