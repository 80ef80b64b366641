"""Passwords are compared in Unicode NFKC (NIST SP 800-63B §5.1.1.2), invisible
characters are refused in new passwords, and hashes imported from the original
app (made of the password as typed, without normalisation) keep logging in,
and are replaced by a hash of the normalised form on the first login."""
import unicodedata

import pytest
from passlib.hash import bcrypt as passlib_bcrypt

from gh_helpers import assert_422, insert_user, stored_hash_by_id, unique_username

CAFE_NFC = "caf\u00e9-au-lait-9"
CAFE_NFD = unicodedata.normalize("NFD", CAFE_NFC)


@pytest.fixture(scope="module")
def srv(make_module_server):
    """A server on a SQLite file of its own, whatever the suite's database."""
    return make_module_server()


@pytest.mark.parametrize("password", [
    "password\u200b",             # a zero-width space appended to a common one
    "\u200b" * 8,                 # nothing visible at all
    "Zq7-k\u00adP2-vW9",          # a soft hyphen inside
    "Zq7-kP2-vW9\u2060",          # a word joiner
    "Zq7-kP2-vW9\ufe0f",          # a variation selector
], ids=["zwsp-appended", "eight-zwsp", "soft-hyphen", "word-joiner", "variation-selector"])
def test_invisible_characters_refused(srv, password):
    r = srv.register(unique_username("inv"), password)
    assert_422(r, "password", "invisible_characters")


def test_fullwidth_common_password_is_the_common_one(srv):
    # NFKC maps the full-width letters to ASCII: "password", which the list
    # of common passwords refuses.
    r = srv.register(unique_username("fw"), "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44")
    assert_422(r, "password", "too_common")


def test_fullwidth_and_ascii_are_one_password(srv):
    name = unique_username("fw")
    assert srv.register(name, "\uff3a\uff51\uff17-kP2-vW9").status_code == 200
    assert srv.login(name, "Zq7-kP2-vW9").status_code == 200
    assert srv.login(name, "Zq7-kP2-vW8").status_code == 401


@pytest.mark.parametrize("typed,later", [(CAFE_NFC, CAFE_NFD), (CAFE_NFD, CAFE_NFC)],
                         ids=["nfc-then-nfd", "nfd-then-nfc"])
def test_nfc_and_nfd_match(srv, typed, later):
    assert typed != later
    name = unique_username("cafe")
    assert srv.register(name, typed).status_code == 200
    r = srv.login(name, later)
    assert r.status_code == 200, r.text
    assert srv.login(name, typed).status_code == 200
    # Stored as the normalised form: the same hash passlib reads for NFC.
    stored = srv.stored_hash(name)
    assert passlib_bcrypt.verify(unicodedata.normalize("NFKC", typed), stored)


def test_length_counts_after_normalisation(srv):
    # U+FDFA is one code point of 3 bytes that NFKC writes as 18 code points
    # (33 bytes): three of them pass 72 bytes of bcrypt input.
    r = srv.register(unique_username("len"), "\ufdfa" * 3)
    assert_422(r, "password", "too_long")
    # Seven ligatures "ﬃ" (U+FB03) are 7 code points, 21 in NFKC: long enough.
    assert srv.register(unique_username("len"), "\ufb03" * 7).status_code == 200


@pytest.mark.parametrize("legacy_password", [
    CAFE_NFD,                            # decomposed, as macOS keyboards may send it
    "\uff41\uff42\uff43-old-secret",     # full-width letters
    "\ufb01nal-old-secret",              # a ligature, "fi" in NFKC
], ids=["nfd", "fullwidth", "ligature"])
def test_imported_hash_of_unnormalised_password_logs_in(srv, legacy_password):
    assert unicodedata.normalize("NFKC", legacy_password) != legacy_password
    name = unique_username("old")
    uid = insert_user(srv.db_path, name, passlib_bcrypt.using(rounds=4).hash(legacy_password))
    r = srv.login(name, legacy_password)
    assert r.status_code == 200, r.text
    # Rehashed to the normalised form: passlib verifies that one, and the
    # password as typed still logs in through it.
    new_hash = stored_hash_by_id(srv.db_path, uid)
    assert passlib_bcrypt.verify(unicodedata.normalize("NFKC", legacy_password), new_hash)
    assert not passlib_bcrypt.verify(legacy_password, new_hash)
    assert srv.login(name, legacy_password).status_code == 200
    assert srv.login(name, legacy_password + "x").status_code == 401


def test_imported_hash_wrong_password_changes_nothing(srv):
    name = unique_username("old")
    h = passlib_bcrypt.using(rounds=4).hash(CAFE_NFD)
    uid = insert_user(srv.db_path, name, h)
    assert srv.login(name, CAFE_NFD + "x").status_code == 401
    assert stored_hash_by_id(srv.db_path, uid) == h
