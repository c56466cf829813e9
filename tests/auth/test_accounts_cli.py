"""``diploqa users`` and ``diploqa tokens``: one-line errors, no secret in any file."""

from __future__ import annotations

import io
import stat

import pytest

from diploqa.auth import load_users
from diploqa.cli import main


def add(path, name, role, password, monkeypatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["users", "add", name, "--role", role, "--password-stdin", "--users", str(path)])


def test_users_add_list_remove(tmp_path, monkeypatch, capsys):
    path = tmp_path / "users.json"
    assert add(path, "lena", "reader", "lese geheim", monkeypatch) == 0
    assert add(path, "ed", "editor", "edit-geheim", monkeypatch) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "lese geheim" not in text and "edit-geheim" not in text
    users = load_users(path)
    assert users.check_password("lena", "lese geheim", _hasher()) is not None  # spaces kept
    capsys.readouterr()
    monkeypatch.setenv("DIPLOQA_USERS", str(path))  # the variable works as --users does
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "lena\treader" in out and "ed\teditor" in out and "$argon2" not in out
    assert main(["users", "remove", "lena"]) == 0
    assert set(load_users(path).accounts) == {"ed"}


def _hasher():
    from diploqa.auth import password_hasher

    return password_hasher()


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["users", "add", "lena", "--role", "reader", "--password-stdin"], "x", "exists already"),
        (["users", "add", "neu", "--role", "admin", "--password-stdin"], "x", "bad role"),
        (["users", "add", "neu", "--role", "reader", "--password-stdin"], "", "password is empty"),
        (["users", "add", "a b", "--role", "reader", "--password-stdin"], "x", "bad user name"),
        (["users", "remove", "nobody"], "", "no user 'nobody'"),
        (["tokens", "add", "nobody"], "", "no user 'nobody'"),
        (["tokens", "revoke", "nobody"], "", "no token"),
    ],
)
def test_mistakes_are_one_line_errors(tmp_path, monkeypatch, capsys, argv, stdin, message):
    path = tmp_path / "users.json"
    assert add(path, "lena", "reader", "lese-geheim", monkeypatch) == 0
    before = path.read_bytes()
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin + "\n"))
    assert main([*argv, "--users", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("error: ")
    assert path.read_bytes() == before


def test_no_users_file_named(monkeypatch, capsys):
    monkeypatch.delenv("DIPLOQA_USERS", raising=False)
    assert main(["users", "list"]) == 1
    assert "give --users FILE or set DIPLOQA_USERS" in capsys.readouterr().err


def test_tokens_add_prints_once_list_shows_ids_revoke(tmp_path, monkeypatch, capsys):
    path = tmp_path / "users.json"
    assert add(path, "ed", "editor", "edit-geheim", monkeypatch) == 0
    capsys.readouterr()
    assert main(["tokens", "add", "ed", "--label", "nightly import", "--users", str(path)]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("dq_") and token.count("\n") == 0
    token_id = token.split("_")[1]
    assert token.split("_", 2)[2] not in path.read_text()
    assert main(["tokens", "list", "--users", str(path)]) == 0
    out = capsys.readouterr().out
    assert token_id in out and "nightly import" in out and token not in out
    assert main(["tokens", "revoke", token_id, "--users", str(path)]) == 0
    assert load_users(path).tokens == {}


def test_world_readable_file_is_refused(tmp_path, monkeypatch, capsys):
    path = tmp_path / "users.json"
    assert add(path, "ed", "editor", "edit-geheim", monkeypatch) == 0
    path.chmod(0o604)
    capsys.readouterr()
    assert main(["users", "list", "--users", str(path)]) == 1
    assert "chmod 600" in capsys.readouterr().err


def test_password_is_asked_twice_at_the_prompt(tmp_path, monkeypatch, capsys):
    path = tmp_path / "users.json"
    answers = iter(["geheim-1", "geheim-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert main(["users", "add", "anna", "--role", "editor", "--users", str(path)]) == 1
    assert "the passwords differ" in capsys.readouterr().err and not path.exists()
    answers = iter(["geheim-1", "geheim-1"])
    assert main(["users", "add", "anna", "--role", "editor", "--users", str(path)]) == 0
    assert load_users(path).accounts["anna"].role == "editor"
