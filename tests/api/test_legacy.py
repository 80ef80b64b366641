"""Users of the original FastAPI application, copied over with their names
and passlib hashes, log in and use every endpoint (issue #9).

The original app accepted any string as a username, so its databases hold
names gatehouse's registration rules refuse (spaces, non-ASCII letters, one
or two characters). The tests insert such users straight into a SQLite file
the way an import does (the key lower-cases ASCII letters only, as
username_key_any does) and then talk to the server over HTTP only. They
always run on a SQLite file of their own; tests/api/test_postgres.py holds
the same check on PostgreSQL.
"""
import urllib.parse

import pytest
from passlib.hash import argon2 as passlib_argon2
from passlib.hash import bcrypt as passlib_bcrypt

from gh_helpers import bearer, insert_user, stored_hash_by_id

OLD_PASSWORD = "old app password"
NAMES = ["Bob Smith", "Bob+Smith", "Zoë", "ab", "x", "O'Brien & Sons", "50% off", "李小龍",
         " padded "]


def bcrypt_hash(password, ident="2b", rounds=4):
    return passlib_bcrypt.using(rounds=rounds, ident=ident).hash(password)


@pytest.fixture(scope="module")
def legacy(make_module_server):
    """A server on a SQLite file of its own, whatever the suite's database."""
    return make_module_server()


# Each name with one of passlib's three bcrypt idents, in turn.
CASES = [(name, ("2a", "2b", "2y")[i % 3]) for i, name in enumerate(NAMES)]


@pytest.mark.parametrize("name,ident", CASES)
def test_legacy_name_logs_in(legacy, name, ident):
    uid = insert_user(legacy.db_path, name, bcrypt_hash(OLD_PASSWORD, ident))

    r = legacy.login(name, OLD_PASSWORD)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = legacy.me(token)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == uid and me.json()["username"] == name
    # /users/me, the FastAPI tutorial's path, answers the same.
    alias = legacy.get("/users/me", headers=bearer(token))
    assert alias.status_code == 200 and alias.json() == me.json()

    # /token (OAuth 2.0 form) takes the same name.
    r = legacy.post("/token", data={"grant_type": "password", "username": name,
                                    "password": OLD_PASSWORD})
    assert r.status_code == 200, r.text

    # /verify: the name percent-encoded as UTF-8 where it is not plain
    # visible ASCII; URL-decoding gives it back.
    v = legacy.verify(token)
    assert v.status_code == 204, v.text
    assert v.headers["X-Auth-User-Id"] == str(uid)
    sent = v.headers["X-Auth-Username"]
    assert all("!" <= c <= "~" for c in sent), sent
    assert urllib.parse.unquote(sent, errors="strict") == name
    # Form decoding too: a '+' is sent encoded, never read as a space.
    assert urllib.parse.unquote_plus(sent, errors="strict") == name
    if all("!" <= c <= "~" and c not in "%+" for c in name):
        assert sent == name

    # A wrong password is 401, like any.
    assert legacy.login(name, OLD_PASSWORD + "x").status_code == 401


def test_a_plus_and_a_space_are_told_apart_in_x_auth_username(legacy):
    sent = {}
    for name in ("Ann+Lee", "Ann Lee"):
        insert_user(legacy.db_path, name, bcrypt_hash(OLD_PASSWORD))
        r = legacy.login(name, OLD_PASSWORD)
        assert r.status_code == 200, r.text
        sent[name] = legacy.verify(r.json()["access_token"]).headers["X-Auth-Username"]
    assert sent == {"Ann+Lee": "Ann%2BLee", "Ann Lee": "Ann%20Lee"}
    decoded = {urllib.parse.unquote_plus(v) for v in sent.values()}
    assert decoded == {"Ann+Lee", "Ann Lee"}


def test_ascii_letters_match_without_regard_to_case(legacy):
    uid = insert_user(legacy.db_path, "Mary Ann", bcrypt_hash(OLD_PASSWORD))
    for spelling in ("mary ann", "MARY ANN", "mArY aNn"):
        r = legacy.login(spelling, OLD_PASSWORD)
        assert r.status_code == 200, (spelling, r.text)
        assert legacy.me(r.json()["access_token"]).json()["username"] == "Mary Ann"
    # Spaces count: another spacing is another name.
    assert legacy.login("Mary  Ann", OLD_PASSWORD).status_code == 401
    assert legacy.login("MaryAnn", OLD_PASSWORD).status_code == 401
    assert uid > 0


def test_other_letters_match_only_as_spelled(legacy):
    insert_user(legacy.db_path, "Ælfrida", bcrypt_hash(OLD_PASSWORD))
    assert legacy.login("Ælfrida", OLD_PASSWORD).status_code == 200
    # The ASCII letters fold; Æ and æ are different characters here.
    assert legacy.login("ÆLFRIDA", OLD_PASSWORD).status_code == 200
    assert legacy.login("ælfrida", OLD_PASSWORD).status_code == 401


@pytest.mark.parametrize("name", ["", "a\tb", "a\u0085b", "x" * 256])
def test_names_no_one_can_have_are_401(legacy, name):
    r = legacy.login(name, OLD_PASSWORD)
    assert r.status_code == 401, r.text
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_name_of_255_bytes_logs_in(legacy):
    name = "é" * 127 + "z"  # 255 bytes of UTF-8
    assert len(name.encode()) == 255
    insert_user(legacy.db_path, name, bcrypt_hash(OLD_PASSWORD))
    r = legacy.login(name, OLD_PASSWORD)
    assert r.status_code == 200, r.text
    v = legacy.verify(r.json()["access_token"])
    assert urllib.parse.unquote(v.headers["X-Auth-Username"]) == name


def test_legacy_user_changes_password_and_deletes(legacy):
    name = "Jean Dupont"
    insert_user(legacy.db_path, name, bcrypt_hash(OLD_PASSWORD, "2a"))
    token = legacy.login(name, OLD_PASSWORD).json()["access_token"]
    h = bearer(token)
    # The equals-username rule compares with the stored name.
    r = legacy.request("PUT", "/me/password", headers=h,
                       json={"current_password": OLD_PASSWORD, "new_password": "JEAN DUPONT"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["code"] == "equals_username"
    new = "tremendous purple giraffe"
    r = legacy.request("PUT", "/me/password", headers=h,
                       json={"current_password": OLD_PASSWORD, "new_password": new})
    assert r.status_code == 204, r.text
    assert legacy.login(name, OLD_PASSWORD).status_code == 401
    assert legacy.login(name, new).status_code == 200
    r = legacy.request("DELETE", "/me", headers=h, json={"password": new})
    assert r.status_code == 204, r.text
    assert legacy.login(name, new).status_code == 401


def test_legacy_names_still_refused_at_registration(legacy):
    r = legacy.register("New Person", "correct-horse-battery-9")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "username"
    # A registered name and a legacy one share one key space.
    insert_user(legacy.db_path, "Legacy.Taken", bcrypt_hash(OLD_PASSWORD))
    assert legacy.register("legacy.TAKEN", "correct-horse-battery-9").status_code == 409


# -------------------------------------------------------------- rehash
def test_weaker_bcrypt_is_upgraded_at_login(make_server):
    srv = make_server(env={"BCRYPT_ROUNDS": "5"})
    uid = insert_user(srv.db_path, "Old Timer", bcrypt_hash(OLD_PASSWORD, "2a", rounds=4))
    first = srv.login("old timer", OLD_PASSWORD)
    assert first.status_code == 200, first.text
    new_hash = stored_hash_by_id(srv.db_path, uid)
    assert new_hash.startswith("$2b$05$"), new_hash
    assert passlib_bcrypt.verify(OLD_PASSWORD, new_hash)
    # The old password still logs in, and the session of the login that
    # upgraded the hash survives it (a rehash is not a password change).
    assert srv.login("Old Timer", OLD_PASSWORD).status_code == 200
    assert srv.me(first.json()["access_token"]).status_code == 200
    r = srv.post_json("/refresh", {"refresh_token": first.json()["refresh_token"]})
    assert r.status_code == 200, r.text
    assert stored_hash_by_id(srv.db_path, uid) == new_hash  # cost 5 now: nothing more to do


def test_stronger_bcrypt_is_kept(make_server):
    srv = make_server(env={"BCRYPT_ROUNDS": "4"})
    old = bcrypt_hash(OLD_PASSWORD, "2b", rounds=5)
    uid = insert_user(srv.db_path, "Strong One", old)
    assert srv.login("Strong One", OLD_PASSWORD).status_code == 200
    assert stored_hash_by_id(srv.db_path, uid) == old


def test_wrong_password_upgrades_nothing(make_server):
    srv = make_server(env={"BCRYPT_ROUNDS": "5"})
    old = bcrypt_hash(OLD_PASSWORD, "2b", rounds=4)
    uid = insert_user(srv.db_path, "Careful", old)
    assert srv.login("Careful", OLD_PASSWORD + "x").status_code == 401
    assert stored_hash_by_id(srv.db_path, uid) == old


def test_bcrypt_is_upgraded_to_argon2id(make_server):
    srv = make_server(env={"PASSWORD_HASH": "argon2id"})
    uid = insert_user(srv.db_path, "Zoë Argon", bcrypt_hash(OLD_PASSWORD, "2y", rounds=4))
    r = srv.login("zoë argon", OLD_PASSWORD)
    assert r.status_code == 200, r.text
    new_hash = stored_hash_by_id(srv.db_path, uid)
    assert new_hash.startswith("$argon2id$"), new_hash
    if passlib_argon2.has_backend():
        assert passlib_argon2.verify(OLD_PASSWORD, new_hash)
    assert srv.login("Zoë Argon", OLD_PASSWORD).status_code == 200
    assert srv.login("Zoë Argon", OLD_PASSWORD + "x").status_code == 401
    assert stored_hash_by_id(srv.db_path, uid) == new_hash


def test_password_over_72_bytes_logs_in_with_its_first_72(legacy):
    """passlib's bcrypt (as the old app used it) hashed the first 72 bytes of
    a longer password; those 72 bytes are what logs in here too, and the
    whole password, which gatehouse never cuts, does not."""
    long_pw = "correct horse battery staple, " * 4  # 120 bytes
    h = passlib_bcrypt.using(rounds=4).hash(long_pw)
    assert passlib_bcrypt.verify(long_pw[:72], h)  # what the old app checked
    insert_user(legacy.db_path, "longpass", h)
    assert legacy.login("longpass", long_pw[:72]).status_code == 200
    assert legacy.login("longpass", long_pw).status_code == 401
    assert legacy.login("longpass", long_pw[:71]).status_code == 401


# A cost past the bounds: bcrypt 31 would take days; argon2id 4 GiB of
# memory per login.
COSTLY_HASHES = [
    "$2b$31$" + bcrypt_hash(OLD_PASSWORD)[7:],
    "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
    "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI",
]


@pytest.mark.parametrize("costly", COSTLY_HASHES, ids=["bcrypt-31", "argon2id-4GiB"])
def test_stored_hash_past_the_cost_bounds_is_refused(legacy, costly):
    """The client gets the 401 of a wrong password (nothing about the
    account); the log says why and what to do."""
    uid = insert_user(legacy.db_path, f"costly-{costly[:4]}", costly)
    r = legacy.login(f"costly-{costly[:4]}", OLD_PASSWORD)
    assert r.status_code == 401
    assert r.json() == legacy.login("no-such-user-x", OLD_PASSWORD).json()
    log = legacy.stderr()
    assert f"user {uid}: the stored password hash is of " in log
    assert "gatehouse users reset-password" in log
