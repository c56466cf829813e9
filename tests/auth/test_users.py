"""The users file: Argon2id passwords, hashed tokens, strict loading, 0600 writes."""

from __future__ import annotations

import json
import os
import stat

import pytest
from argon2 import PasswordHasher

from diploqa.auth import Users, UsersFileError, UsersSource, load_users, save_users

#: Small Argon2 parameters for speed, in tests only (the defaults stay as they are).
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def users() -> Users:
    users = Users().with_user("lena", "reader", "lese-geheim", FAST)
    return users.with_user("ed", "editor", "edit-geheim", FAST)


def test_passwords_are_argon2id_hashes_and_check(users):
    assert users.accounts["lena"].password.startswith("$argon2id$")
    assert "lese-geheim" not in users.to_json()
    assert users.check_password("lena", "lese-geheim", FAST).role == "reader"
    assert users.check_password("lena", "edit-geheim", FAST) is None
    assert users.check_password("nobody", "lese-geheim", FAST) is None
    assert users.check_password("lena", "", FAST) is None


def test_default_hasher_is_memory_hard():
    from diploqa.auth import password_hasher

    hasher = password_hasher()
    assert hasher.memory_cost >= 19 * 1024 and hasher.time_cost >= 2


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("lena", "reader", "x", "exists already"),
        ("neu", "admin", "x", "bad role"),
        ("neu", "reader", "", "password is empty"),
        ("../evil", "reader", "x", "bad user name"),
        ("", "reader", "x", "bad user name"),
    ],
)
def test_bad_accounts_are_refused(users, name, role, password, message):
    with pytest.raises(UsersFileError, match=message):
        users.with_user(name, role, password, FAST)


def test_tokens_are_stored_hashed_and_carry_the_role(users):
    users, token = users.with_token("lena", "notebook")
    assert token.startswith("dq_")
    _, token_id, secret = token.split("_", 2)
    text = users.to_json()
    assert secret not in text and token not in text and token_id in text
    record, found = users.check_token(token)
    assert record.user == "lena" and record.role == "reader" and found == token_id
    assert users.check_token(token[:-1] + ("A" if token[-1] != "A" else "B")) == (None, token_id)
    assert users.check_token("dq_nonsense") == (None, "")
    assert users.check_token("") == (None, "")
    with pytest.raises(UsersFileError, match="no user"):
        users.with_token("nobody")


def test_revoke_by_id_or_user_and_removing_a_user_drops_its_tokens(users):
    users, first = users.with_token("ed")
    users, second = users.with_token("ed")
    users, third = users.with_token("lena")
    first_id = first.split("_")[1]
    revoked, gone = users.without_tokens(first_id)
    assert gone == [first_id] and revoked.check_token(first)[0] is None
    assert revoked.check_token(second)[0] is not None
    revoked, gone = users.without_tokens("ed")
    assert len(gone) == 2 and revoked.check_token(second)[0] is None
    assert revoked.check_token(third)[0] is not None
    without = users.without_user("lena")
    assert without.check_token(third)[0] is None and "lena" not in without.accounts
    with pytest.raises(UsersFileError, match="no token"):
        users.without_tokens("nobody")
    with pytest.raises(UsersFileError, match="no user"):
        users.without_user("nobody")


def test_a_token_never_has_more_rights_than_its_user(users, tmp_path):
    users, token = users.with_token("ed")
    demoted = users.without_user("ed").with_user("ed", "reader", "neu", FAST)
    demoted = Users(demoted.accounts, users.tokens)
    assert demoted.check_token(token)[0].role == "reader"


def test_file_is_written_0600_and_read_back(users, tmp_path):
    path = tmp_path / "users.json"
    os.umask(0o022)
    save_users(path, users)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_users(path)
    assert again == users
    assert not list(tmp_path.glob(".users.json.*"))


def test_group_or_world_readable_file_is_refused(users, tmp_path):
    path = tmp_path / "users.json"
    save_users(path, users)
    path.chmod(0o644)
    with pytest.raises(UsersFileError, match=r"may be read by other users.*chmod 600"):
        load_users(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "damaged"),
        ('{"version": 1}', "damaged"),
        ('{"version": 1, "users": [{"name": "x", "role": "god", "password": "$argon2id$"}], '
         '"tokens": []}', "bad role"),
        ('{"version": 1, "users": [{"name": "x", "role": "reader", "password": "geheim"}], '
         '"tokens": []}', "no Argon2 password hash"),
        ('{"version": 1, "users": [], "tokens": [{"id": "x", "user": "a", "role": "reader", '
         '"hash": "sha256:00"}]}', "malformed"),
    ],
)  # fmt: skip
def test_damaged_files_give_one_clear_error(tmp_path, text, message):
    path = tmp_path / "users.json"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(UsersFileError, match=message) as err:
        load_users(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_file_says_how_to_add_a_user(tmp_path):
    with pytest.raises(UsersFileError, match="diploqa users add NAME --role editor"):
        load_users(tmp_path / "users.json")
    assert load_users(tmp_path / "users.json", missing_ok=True) == Users()


def test_source_rereads_a_changed_file_and_fails_closed(users, tmp_path):
    path = tmp_path / "users.json"
    save_users(path, users)
    now = [0.0]
    source = UsersSource(path, clock=lambda: now[0])
    assert "lena" in source.current().accounts
    save_users(path, users.without_user("lena"))
    assert "lena" in source.current().accounts  # checked at most once a second
    now[0] += 1.0
    assert "lena" not in source.current().accounts
    path.write_text("{")
    now[0] += 1.0
    assert source.current() is None and "not valid JSON" in source.error
    save_users(path, users)
    now[0] += 1.0
    assert "lena" in source.current().accounts and source.error is None
    assert json.loads(path.read_text())["version"] == 1


def test_locked_edits_lose_no_addition(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from diploqa.auth.users import users_lock

    path = tmp_path / "users.json"

    def add(name: str) -> None:
        with users_lock(path):
            save_users(path, load_users(path, missing_ok=True).with_user(name, "reader", "x", FAST))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, [f"user{i}" for i in range(16)]))
    assert len(load_users(path).accounts) == 16
