"""A check's bookkeeping: what is new to a question, exactly once (also across SIGKILL and two
checkers at once), near-duplicates joining an earlier answer, filters, webhook batches."""

from __future__ import annotations

import json
import subprocess
import threading

import pytest
from alerts_archive import (
    COPY,
    OTHER,
    STORY,
    Archive,
    WordMatcher,
    article,
    check_command,
    subprocess_env,
)

from diploqa.alerts import AlertStore
from diploqa.app.activity import SearchActivity
from diploqa.query import Query

GENEVA_MUSEUM = (
    "In Genf ist am Montag ein neues Museum für Uhrmacherkunst eröffnet worden. Es zeigt "
    "mehr als zweitausend Uhren aus fünf Jahrhunderten und soll jährlich hunderttausend "
    "Besucher anziehen."
)


@pytest.fixture
def archive(tmp_path) -> Archive:
    return Archive(tmp_path)


def follow(store: AlertStore, index, question: str = "Was geschah in Genf?", **kw):
    return store.add("Genf", question, current=index.manifest.articles, **kw).question


def sources(store: AlertStore, question) -> list[str]:
    return [a.hit.source for a in store.answers(question.id)]


def test_only_articles_after_following_are_new_and_each_is_reported_once(archive, tmp_path):
    archive.write("early.txt", article("Genf früher", STORY))
    index = archive.index()
    store = AlertStore(tmp_path / "alerts.sqlite3")
    question = follow(store, index)
    matcher = WordMatcher()
    assert store.check(index, matcher).answers == 0  # early.txt was there: not new
    archive.write("genf.txt", article("Genf", GENEVA_MUSEUM))
    archive.write("other.txt", article("Leuchttürme", OTHER))
    archive.write("kopie.txt", article("Genf", COPY))  # another printing of early.txt
    index = archive.index()
    report = store.check(index, matcher)
    assert (report.questions, report.articles, report.answers) == (1, 3, 1)
    assert sources(store, question) == ["genf.txt"]  # a copy of an old story is no news
    answer = store.answers(question.id)[0]
    assert "Genf" in answer.hit.highlighted_sentence and answer.hit.outlet == "Testzeitung"
    assert store.check(index, matcher).answers == 0  # checked again: nothing new
    assert store.check(archive.index(), matcher).answers == 0  # an update without changes
    archive.remove("genf.txt")
    archive.index()
    archive.write("genf.txt", article("Genf", GENEVA_MUSEUM))
    assert store.check(archive.index(), matcher).answers == 0  # same text back: not new
    assert store.questions()[0].unread == 1


def test_copies_join_the_earlier_answer_instead_of_being_reported_again(archive, tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    question = follow(store, archive.index())
    matcher = WordMatcher()
    archive.write("zeitung.txt", article("Treffen in Genf", STORY))
    store.check(archive.index(), matcher)
    archive.write("blatt.txt", article("Lawrow und Blinken", COPY, outlet="Abendblatt"))
    report = store.check(archive.index(), matcher)
    assert (report.answers, report.joined) == (0, 1)
    [answer] = store.answers(question.id)
    assert answer.hit.source == "zeitung.txt"
    assert [c.source for c in answer.copies] == ["blatt.txt"]
    assert answer.record()["also_in"][0]["outlet"] == "Abendblatt"
    # an edit of the reported article (still the same story) is not a new answer either
    archive.write("zeitung.txt", article("Treffen in Genf", STORY + " Ein Nachtrag folgt."))
    assert store.check(archive.index(), matcher).answers == 0
    # a rewrite that tells another story is
    archive.write("zeitung.txt", article("Genf", GENEVA_MUSEUM))
    assert store.check(archive.index(), matcher).answers == 1
    assert len(store.answers(question.id)) == 2


def test_copies_arriving_together_are_one_answer_and_filters_apply(archive, tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    index = archive.index()
    every = follow(store, index)
    only = store.add("Genf (Abendblatt)", Query("Was geschah in Genf?", outlet="Abendblatt"),
                     current=index.manifest.articles).question  # fmt: skip
    later = store.add("Genf ab 2023", Query("Was geschah in Genf?", since="2023"),
                      current=index.manifest.articles).question  # fmt: skip
    archive.write("zeitung.txt", article("Treffen in Genf", STORY))
    archive.write("blatt.txt", article("Lawrow und Blinken", COPY, outlet="Abendblatt"))
    report = store.check(archive.index(), WordMatcher())
    [answer] = store.answers(every.id)
    assert [answer.hit.source, *(c.source for c in answer.copies)] in (
        ["zeitung.txt", "blatt.txt"], ["blatt.txt", "zeitung.txt"])  # fmt: skip
    assert sources(store, only) == ["blatt.txt"]
    assert sources(store, later) == []
    assert report.answers == 2


def test_a_webhook_batch_is_written_with_its_answers(archive, tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3", allow_private_webhooks=True)
    index = archive.index()
    question = follow(store, index, webhook="http://127.0.0.1:9/hook")
    quiet = follow(store, index, "Was geschah in Reykjavík?", webhook="http://127.0.0.1:9/x")
    archive.write("zeitung.txt", article("Treffen in Genf", STORY))
    report = store.check(archive.index(), WordMatcher())
    assert report.batches == 1  # none for a question without new answers
    with store.db.read() as db:
        rows = db.execute("SELECT * FROM outbox").fetchall()
    [row] = rows
    body = json.loads(row["body"])
    assert row["question_id"] == question.id != quiet.id and body["id"] == row["id"]
    assert body["question"]["id"] == question.id and "unread" not in body["question"]
    assert [a["source"] for a in body["answers"]] == ["zeitung.txt"]
    assert body["answers"][0]["answer_sentence"]


def _state(store: AlertStore) -> list[tuple]:
    with store.db.read() as db:
        answers = db.execute("SELECT question_id, article_id FROM answers ORDER BY id").fetchall()
        marks = db.execute("SELECT id, mark FROM questions ORDER BY id").fetchall()
        batches = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    return [tuple(r) for r in answers], [tuple(r) for r in marks], batches


@pytest.mark.parametrize("fault", ["alerts-before-commit", "alerts-after-commit"])
def test_sigkill_during_a_check_loses_nothing_and_repeats_nothing(archive, tmp_path, fault):
    """Killed inside the transaction of the questions matched together (or right after it),
    the check is re-run by the next checker: every new answer ends up in the inbox exactly
    once, with one batch."""
    alerts = tmp_path / "alerts.sqlite3"
    store = AlertStore(alerts, allow_private_webhooks=True)
    index = archive.index()
    first = follow(store, index, webhook="http://127.0.0.1:9/hook")
    second = follow(store, index, "Was geschah beim Treffen in Genf?")
    archive.write("zeitung.txt", article("Treffen in Genf", STORY))
    archive.index()
    env = subprocess_env(DIPLOQA_FAULT=fault)
    killed = subprocess.run(check_command(alerts, archive.index_dir), capture_output=True,
                            text=True, env=env, timeout=300)  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    answers, _, batches = _state(store)
    assert len(answers) == (0 if fault == "alerts-before-commit" else 2)  # all or none
    assert batches == sum(q == first.id for q, _ in answers)  # a batch goes with its answers
    done = subprocess.run(check_command(alerts, archive.index_dir), capture_output=True,
                          text=True, env=subprocess_env(), timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    answers, marks, batches = _state(store)
    assert sorted(answers) == sorted([(first.id, "zeitung.txt"), (second.id, "zeitung.txt")])
    assert batches == 1 and len({mark for _, mark in marks}) == 1
    again = subprocess.run(check_command(alerts, archive.index_dir), capture_output=True,
                           text=True, env=subprocess_env(), timeout=300)  # fmt: skip
    assert "0 new answer(s)" in again.stdout and _state(store)[0] == answers


def test_two_checkers_at_once_record_each_answer_once(archive, tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    index = archive.index()
    questions = [follow(store, index, f"Was geschah {i} in Genf?") for i in range(6)]
    archive.write("zeitung.txt", article("Treffen in Genf", STORY))
    index = archive.index()
    other = AlertStore(tmp_path / "alerts.sqlite3")
    reports = []
    threads = [threading.Thread(target=lambda s=s: reports.append(s.check(index, WordMatcher())))
               for s in (store, other, store)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.answers for r in reports) == 6
    for question in questions:
        assert sources(store, question) == ["zeitung.txt"]


def _found(store: AlertStore) -> set[tuple[str, str]]:
    """(question, article) of every answer: comparable across alerts files."""
    return {(q.query.question, s) for q in store.questions() for s in sources(store, q)}


def test_a_check_waits_while_a_search_is_answered_and_then_finds_the_same(archive, tmp_path):
    """The server's check yields to searches (diploqa.app.activity): it writes nothing while
    one is in flight, and once it ends, exactly what a check that does not yield writes."""
    plain, yielding = (AlertStore(tmp_path / f"{name}.sqlite3") for name in ("a", "b"))
    index = archive.index()
    for store in (plain, yielding):
        follow(store, index)
        follow(store, index, "Was geschah in Reykjavík?")
    archive.write("zeitung.txt", article("Treffen in Genf", STORY))
    archive.write("leuchtturm.txt", article("Leuchttürme", OTHER))
    index = archive.index()
    expected = plain.check(index, WordMatcher())
    activity = SearchActivity(limit=60.0)
    matcher = WordMatcher()
    matcher.pause = activity.pause
    reports = []
    thread = threading.Thread(target=lambda: reports.append(yielding.check(index, matcher)))
    with activity.searching():
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and activity.pauses == 0  # waiting in its first pause
        assert _state(yielding)[0] == [] and matcher.ranked_questions == 0
    thread.join(60)
    assert not thread.is_alive()
    [report] = reports
    assert (report.questions, report.answers) == (expected.questions, expected.answers) == (2, 2)
    assert _found(yielding) == _found(plain) == {
        ("Was geschah in Genf?", "zeitung.txt"), ("Was geschah in Reykjavík?", "leuchtturm.txt")
    }  # fmt: skip
    assert activity.pauses >= 4 and activity.overruns == 0  # a group, a slice, 2 rankings


def test_a_check_beside_searches_that_never_end_still_finishes(archive, tmp_path):
    """The wait is bounded: with a search in flight all the time the check takes one step per
    limit and delivers what it would have."""
    store = AlertStore(tmp_path / "alerts.sqlite3")
    question = follow(store, archive.index())
    archive.write("zeitung.txt", article("Treffen in Genf", STORY))
    index = archive.index()
    activity = SearchActivity(limit=0.05)
    matcher = WordMatcher()
    matcher.pause = activity.pause
    with activity.searching():
        report = store.check(index, matcher)
    assert report.answers == 1 and sources(store, question) == ["zeitung.txt"]
    assert activity.pauses == activity.overruns >= 3
