"""A failed login takes a password hash's time whatever made it fail, so that
the time does not tell which names exist: an unknown name, a name no account
could have (badly formed, too long), a stored hash weaker than the current
setting, a stored hash of a format gatehouse cannot read, a password past
the argon2id limit.

Each case compares the median of a few logins with the median of wrong
passwords for an existing user, sent in turn with them (so that both see the
same load on a busy machine), at a cost where a hash takes tens of
milliseconds, with a generous bound (each at least half the other): a path
that skips the hash takes about a millisecond and fails it by far.
"""
import sqlite3
import statistics
import time

import pytest

from gh_helpers import PASSWORD, unique_username

ROUNDS = "10"  # bcrypt cost 10: about 60 ms here
SAMPLES = 7


def timed(srv, username, password):
    start = time.monotonic()
    r = srv.login(username, password)
    elapsed = time.monotonic() - start
    assert r.status_code == 401, r.text
    return elapsed


def assert_alike(what, srv, case, reference):
    """case and reference: (username, password) pairs, each failing with 401;
    their logins alternate, and their medians must be within a factor 2."""
    a, b = [], []
    for _ in range(SAMPLES):
        a.append(timed(srv, *case))
        b.append(timed(srv, *reference))
    t, ref = statistics.median(a), statistics.median(b)
    assert t >= ref / 2 and ref >= t / 2, \
        f"{what}: {t * 1000:.1f} ms against {ref * 1000:.1f} ms for a wrong password"


@pytest.fixture(scope="module")
def costly(make_module_server):
    srv = make_module_server(env={"BCRYPT_ROUNDS": ROUNDS})
    user = srv.new_user()
    srv.reference = (user["username"], "not-the-password-1")
    return srv


def test_unknown_well_formed_name_costs_a_hash(costly):
    # (c): the dummy hash of an unknown user, checked directly.
    assert_alike("unknown user", costly, (unique_username("ghost"), "whatever-pw-1"),
                 costly.reference)


@pytest.mark.parametrize("name", ["a", "bad name!", "x" * 65, "y" * 300, "\u00e9" * 200],
                         ids=["one-char", "space-and-bang", "65-chars", "300-bytes",
                              "400-bytes-utf8"])
def test_badly_formed_name_costs_a_hash(costly, name):
    # (b): names the rules of a new name refuse, and names longer than any
    # stored one, still cost a full hash.
    assert_alike(f"name {name[:12]!r}", costly, (name, "whatever-pw-1"), costly.reference)


def test_weaker_stored_hash_costs_the_configured_hash(make_server, tmp_path):
    # Users registered at cost 4, the server restarted at cost 10: a wrong
    # password for them used to take the 1 ms of cost 4, an unknown name
    # the 60 ms of cost 10.
    db = tmp_path / "weak.db"
    first = make_server(db_path=db)  # BCRYPT_ROUNDS=4
    user = first.new_user()
    first.stop()
    srv = make_server(db_path=db, env={"BCRYPT_ROUNDS": ROUNDS})
    assert_alike("unknown name", srv, (unique_username("ghost"), "not-the-password-1"),
                 (user["username"], "not-the-password-1"))
    # The right password logs in and upgrades the hash to cost 10.
    assert srv.login(user["username"], PASSWORD).status_code == 200
    assert srv.stored_hash(user["username"]).startswith("$2b$10$")


@pytest.mark.parametrize("stored", ["plaintext-password", "$5$rounds=5000$salt$hash",
                                    "$2b$99$" + "a" * 53, "$argon2id$garbage"])
def test_unknown_hash_format_costs_a_hash(costly, stored):
    user = costly.new_user()
    conn = sqlite3.connect(str(costly.db_path), timeout=10)
    try:
        with conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (stored, user["id"]))
    finally:
        conn.close()
    assert_alike(f"hash {stored[:10]!r}", costly, (user["username"], PASSWORD), costly.reference)


def test_argon2id_password_over_the_limit_costs_a_hash(make_server):
    srv = make_server(env={"PASSWORD_HASH": "argon2id"})
    user = srv.new_user()
    assert srv.stored_hash(user["username"]).startswith("$argon2id$")
    assert_alike("argon2id password of 2 KB", srv, (user["username"], PASSWORD + "x" * 2000),
                 (user["username"], "not-the-password-1"))
    # Cut to the limit, it still never matches the password it starts with.
    assert srv.login(user["username"], "p" * 1024 + "tail").status_code == 401


def test_hashes_of_either_scheme_cost_what_an_unknown_name_costs(make_server, tmp_path):
    # Users registered with bcrypt (cost 12, 240 ms), the server restarted
    # with PASSWORD_HASH=argon2id (25 ms): the bcrypt users still log in
    # until their next login rehashes them, so an unknown name must cost
    # both dummies, and so must a wrong password for either kind of user.
    db = tmp_path / "switch.db"
    first = make_server(db_path=db, env={"BCRYPT_ROUNDS": "12"})
    old = first.new_user()
    first.stop()
    srv = make_server(db_path=db, env={"BCRYPT_ROUNDS": "12", "PASSWORD_HASH": "argon2id"})
    new = srv.new_user()
    assert srv.stored_hash(new["username"]).startswith("$argon2id$")
    wrong_old = (old["username"], "not-the-password-1")
    assert_alike("unknown name", srv, (unique_username("ghost"), "not-the-password-1"), wrong_old)
    assert_alike("argon2id user", srv, (new["username"], "not-the-password-1"), wrong_old)
