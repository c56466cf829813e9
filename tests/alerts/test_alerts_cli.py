"""``diploqa alerts``: add, list, remove, feed-key and check, as an operator runs them, and
the one-line errors; ``check`` with the real model, as a cron job runs it."""

from __future__ import annotations

import shutil

import pytest
from argon2 import PasswordHasher
from conftest import GENEVA_QUESTION, NEW_ARTICLE

import diploqa
from diploqa.alerts import AlertStore
from diploqa.auth import Users, save_users
from diploqa.cli import main

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def files(tmp_path, seed_index):
    index = shutil.copytree(seed_index.path, tmp_path / "index")
    return index, tmp_path / "alerts.sqlite3"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_feed_key_and_remove(files, capsys):
    index, alerts = files
    code, out, err = run(capsys, "alerts", "add", "Genf", GENEVA_QUESTION, "--outlet",
                         "Testzeitung", "--since", "2022", "--index", str(index),
                         "--alerts", str(alerts))  # fmt: skip
    assert code == 0, err
    question_id, feed = out.splitlines()
    assert feed.startswith(f"/feeds/{question_id}.atom?key=")
    store = AlertStore(alerts)
    [question] = store.questions()
    assert (question.id, question.user, question.query.outlet) == (question_id, "local",
                                                                   ("Testzeitung",))  # fmt: skip
    assert question.mark == len(diploqa.load_index(index).manifest.articles)  # the seeds: old
    code, out, _ = run(capsys, "alerts", "list", "--alerts", str(alerts))
    assert out.startswith(f"{question_id}\tlocal\t0 unread / 0\tGenf\t")
    code, out, _ = run(capsys, "alerts", "feed-key", question_id, "--alerts", str(alerts))
    assert out.strip() != feed and store.feed_question(question_id, out.split("key=")[1].strip())
    assert run(capsys, "alerts", "remove", question_id, "--alerts", str(alerts))[0] == 0
    assert store.questions() == []


def test_users_roles_and_bad_input_are_one_line_each(files, capsys, tmp_path):
    index, alerts = files
    users = Users().with_user("lena", "reader", "pw", FAST).with_user("ed", "editor", "pw", FAST)
    save_users(tmp_path / "users.json", users)
    base = ["alerts", "add", "Genf", GENEVA_QUESTION, "--index", str(index), "--alerts",
            str(alerts), "--users", str(tmp_path / "users.json")]  # fmt: skip
    for extra, message in [
        ([], "give --user NAME"),
        (["--user", "nobody"], "no user 'nobody'"),
        (["--user", "lena", "--webhook", "https://8.8.8.8/h"], "readers cannot set webhooks"),
        (["--user", "ed", "--webhook", "http://127.0.0.1:9/h"], "allow-private-webhooks"),
        (["--user", "ed", "--since", "gestern"], "since"),
    ]:
        code, out, err = run(capsys, *base, *extra)
        assert (code, out) == (1, "") and err.startswith("error: ") and err.count("\n") == 1
        assert message in err
    code, out, err = run(capsys, *base, "--user", "ed", "--webhook", "http://127.0.0.1:9/h",
                         "--allow-private-webhooks")  # fmt: skip
    assert code == 0 and len(out.splitlines()) == 3  # id, feed, webhook secret
    code, _, err = run(capsys, "alerts", "remove", "nope", "--alerts", str(alerts))
    assert code == 1 and "no standing question 'nope'" in err
    code, _, err = run(capsys, "alerts", "check", "--index", str(tmp_path / "none"),
                       "--alerts", str(alerts))  # fmt: skip
    assert code == 1 and "no index in" in err and "diploqa index" in err


def test_check_finds_the_new_article_once_with_the_real_model(tmp_path, seed_copy, seed_index,
                                                              capsys):  # fmt: skip
    """The cron path: follow, an article arrives by ``diploqa index``, ``alerts check``."""
    articles = shutil.copytree(seed_copy, tmp_path / "articles")
    index = shutil.copytree(seed_index.path, tmp_path / "index")
    alerts = tmp_path / "alerts.sqlite3"
    flags = ["--index", str(index), "--alerts", str(alerts)]
    run(capsys, "alerts", "add", "Genf", GENEVA_QUESTION, *flags)
    run(capsys, "alerts", "add", "Reykjavík", "Wie werden die Leuchttürme in Reykjavík "
        "betrieben?", *flags)  # fmt: skip
    (articles / "genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    diploqa.build_index(articles, index)
    code, out, err = run(capsys, "alerts", "check", *flags)
    assert code == 0, err
    assert "2 standing question(s) checked against 1 new or changed article(s): 1 new" in out
    store = AlertStore(alerts)
    geneva, reykjavik = sorted(store.questions(), key=lambda q: q.name)
    [answer] = store.answers(geneva.id)
    assert answer.hit.source == "genf.txt" and "Genf" in answer.hit.highlighted_sentence
    assert store.answers(reykjavik.id) == []
    assert "0 new answer(s)" in run(capsys, "alerts", "check", *flags)[1]
