"""The alerts file and the store's bookkeeping: the file's mode and layout, following, users
kept apart, feed secrets, who may set which webhook."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import stat

import pytest

from diploqa.alerts import AlertsError, AlertStore, Forbidden, NotFound, alerts_path
from diploqa.alerts.db import SCHEMA_VERSION
from diploqa.alerts.webhooks import WebhookRefused
from diploqa.config import Settings
from diploqa.errors import QueryError
from diploqa.query import Query


def test_the_file_is_private_in_wal_mode_and_versioned(tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    store.add("Genf", "Wo trafen sich Lawrow und Blinken?")
    assert stat.S_IMODE((tmp_path / "alerts.sqlite3").stat().st_mode) == 0o600
    for side in tmp_path.glob("alerts.sqlite3-*"):  # SQLite's WAL and shared-memory files
        assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0, side
    with sqlite3.connect(tmp_path / "alerts.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_file_others_may_read_a_newer_layout_or_no_database_is_one_clear_line(tmp_path):
    shared = tmp_path / "shared.sqlite3"
    shared.touch()
    os.chmod(shared, 0o644)
    with pytest.raises(AlertsError, match=r"may be read by other users .*chmod 600"):
        AlertStore(shared)
    newer = tmp_path / "newer.sqlite3"
    AlertStore(newer)
    with sqlite3.connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(AlertsError, match="written by a newer diploqa"):
        AlertStore(newer)
    garbage = tmp_path / "garbage.sqlite3"
    fd = os.open(garbage, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not a database at all" * 100)
    os.close(fd)
    with pytest.raises(AlertsError, match="is damaged") as caught:
        AlertStore(garbage)
    assert "\n" not in str(caught.value)
    with pytest.raises(AlertsError, match="cannot open the alerts file"):
        AlertStore(tmp_path / "missing-folder" / "alerts.sqlite3")


def test_the_default_file_is_beside_the_index_for_cli_and_server(tmp_path):
    assert alerts_path(Settings()) == Settings().paths.index.parent / "alerts.sqlite3"
    settings = Settings().overridden(index=tmp_path / "news" / "index")
    assert alerts_path(settings) == tmp_path / "news" / "alerts.sqlite3"
    server = dataclasses.replace(settings.server, alerts_file=tmp_path / "a.db")
    assert alerts_path(dataclasses.replace(settings, server=server)) == tmp_path / "a.db"
    assert Settings.from_env({"DIPLOQA_ALERTS": str(tmp_path / "b.db")}).server.alerts_file == (
        tmp_path / "b.db"
    )


def test_users_see_edit_and_read_only_their_own_questions(tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    lena = store.add("Genf", Query("Wo trafen sich Lawrow und Blinken?", outlet="Testzeitung"),
                     user="lena", role="reader")  # fmt: skip
    ed = store.add("Sotschi", "Wen traf Kerry in Sotschi?", user="ed")
    assert [q.id for q in store.questions("lena")] == [lena.question.id]
    assert {q.id for q in store.questions()} == {lena.question.id, ed.question.id}
    assert store.question(lena.question.id, "lena").query.outlet == ("Testzeitung",)
    for act in (
        lambda: store.question(lena.question.id, "ed"),
        lambda: store.answers(lena.question.id, "ed"),
        lambda: store.mark_read(lena.question.id, "ed"),
        lambda: store.new_feed_key(lena.question.id, "ed"),
        lambda: store.remove(lena.question.id, "ed"),
    ):
        with pytest.raises(NotFound, match="no standing question"):
            act()
    store.remove(lena.question.id, "lena")
    assert store.questions("lena") == [] and len(store.questions()) == 1


def test_feed_secrets_open_one_feed_until_replaced(tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    followed = store.add("Genf", "Wo trafen sich Lawrow und Blinken?")
    qid = followed.question.id
    assert followed.feed_url == f"/feeds/{qid}.atom?key={followed.feed_key}"
    assert store.feed_question(qid, followed.feed_key).id == qid
    other = store.add("Sotschi", "Wen traf Kerry in Sotschi?")
    assert store.feed_question(other.question.id, followed.feed_key) is None
    assert store.feed_question(qid, "") is None and store.feed_question(qid, "x" * 43) is None
    new = store.new_feed_key(qid)
    assert store.feed_question(qid, followed.feed_key) is None
    assert store.feed_question(qid, new).id == qid
    with sqlite3.connect(tmp_path / "alerts.sqlite3") as db:  # only a hash is kept
        assert new not in str(db.execute("SELECT * FROM questions").fetchall())


def test_webhooks_for_editors_on_public_addresses_only_unless_allowed(tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    with pytest.raises(Forbidden, match="readers cannot set webhooks"):
        store.add("Genf", "Wer traf Lawrow?", user="lena", webhook="https://example.org/h",
                  role="reader")  # fmt: skip
    for url in ("http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/",
                "http://169.254.169.254/latest/meta-data", "http://[::1]/",
                "http://[::ffff:127.0.0.1]/", "http://192.168.0.10/"):  # fmt: skip
        with pytest.raises(WebhookRefused, match="allow-private-webhooks"):
            store.add("Genf", "Wer traf Lawrow?", webhook=url)
    for url in ("ftp://example.org/x", "file:///etc/passwd", "javascript:alert(1)",
                "http://user:pw@example.org/", "not a url"):  # fmt: skip
        with pytest.raises(WebhookRefused):
            store.add("Genf", "Wer traf Lawrow?", webhook=url)
    assert store.questions() == []  # nothing was kept of any refused request
    allowed = AlertStore(tmp_path / "alerts.sqlite3", allow_private_webhooks=True)
    followed = allowed.add("Genf", "Wer traf Lawrow?", webhook="http://127.0.0.1:9/hook")
    assert followed.question.webhook == "http://127.0.0.1:9/hook"
    assert followed.webhook_secret and len(followed.webhook_secret) >= 40


def test_bad_names_and_questions_are_refused_and_keep_nothing(tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    with pytest.raises(AlertsError, match="needs a name"):
        store.add("  ", "Wer traf Lawrow?")
    with pytest.raises(QueryError, match="the question is empty"):
        store.add("Genf", " ")
    with pytest.raises(QueryError, match="since"):
        store.add("Genf", Query("Wer traf Lawrow?", since="gestern"))
    assert store.questions() == []
    long = store.add("x" * 500, "Wer traf Lawrow?")
    assert len(long.question.name) == 100


def test_articles_indexed_when_following_are_not_new(tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    first = store.add("A", "Wer traf Lawrow?", current={"a.txt": "h1", "b.txt": "h2"})
    second = store.add("B", "Wer traf Kerry?", current={"a.txt": "h1", "c.txt": "h3"})
    assert (first.question.mark, second.question.mark) == (2, 3)
    assert store.add("C", "Wer?", current=None).question.mark == 3
