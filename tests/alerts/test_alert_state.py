"""What the matcher knows of each question, kept in the alerts file: a restarted checker encodes
nothing it encoded before and finds the same answers; a row of another model, ranking or
version, or one that cannot be read, is ignored and written again, and its question loses
nothing."""

from __future__ import annotations

import dataclasses
import sqlite3

import numpy as np
import pytest
from alerts_archive import ENCODER, OTHER, STORY, Archive, WordMatcher, article
from deterministic_encoder import DeterministicEncoder

from diploqa.alerts import AlertStore, Matcher
from diploqa.alerts import db as alerts_db
from diploqa.alerts.state import STATE_VERSION, load, model_key
from diploqa.index import Index


@pytest.fixture
def archive(tmp_path) -> Archive:
    return Archive(tmp_path)


@pytest.fixture
def encoded(monkeypatch) -> list[str]:
    """The questions any deterministic encoder is asked to encode, in order."""
    asked: list[str] = []
    original = DeterministicEncoder.encode_queries

    def counting(self, queries, **kw):
        asked.extend(queries)
        return original(self, queries, **kw)

    monkeypatch.setattr(DeterministicEncoder, "encode_queries", counting)
    return asked


def rows(store: AlertStore) -> dict[str, sqlite3.Row]:
    with store.db.read() as db:
        return {r["question_id"]: r for r in db.execute("SELECT * FROM question_state")}


def key(index: Index) -> str:
    return model_key(index.encoder.model_id, index.encoder.backend, index.ranking)


def kept(store: AlertStore, index: Index, question_id: str):
    with store.db.read() as db:
        return load(db, key(index), [question_id]).get(question_id)


def sources(store: AlertStore, question_id: str) -> list[str]:
    return sorted(a.hit.source for a in store.answers(question_id))


def started(archive: Archive, tmp_path, question: str = "Was geschah in Genf?"):
    """A store following ``question``, checked once (Genf arrived): its state is kept."""
    index = archive.index()
    store = AlertStore(tmp_path / "alerts.sqlite3")
    followed = store.add("Genf", question, current=index.manifest.articles).question
    archive.write("genf.txt", article("Genf", STORY))
    index = archive.index()
    assert store.check(index, WordMatcher()).answers == 1
    return store, followed.id, index


def test_a_restarted_checker_encodes_nothing_again_and_finds_each_answer_once(
    archive, tmp_path, encoded
):
    store, question_id, index = started(archive, tmp_path)
    assert encoded == ["Was geschah in Genf?"]
    row = kept(store, index, question_id)
    assert np.array_equal(row.vector, ENCODER.encode_queries(["Was geschah in Genf?"])[0])
    encoded.clear()  # (and the line above)
    archive.write("genf-2.txt", article("Wieder Genf", "In Genf wurde am Samstag gewählt."))
    archive.write("other.txt", article("Leuchttürme", OTHER))
    report = store.check(archive.index(), WordMatcher())  # a new process: a new matcher
    assert encoded == [] and report.answers == 1
    assert sources(store, question_id) == ["genf-2.txt", "genf.txt"]
    store.remove(question_id)
    assert rows(store) == {}  # the state goes with its question


def test_a_ranked_question_keeps_its_last_ranking_across_a_restart(archive, tmp_path):
    index = archive.index()
    store = AlertStore(tmp_path / "alerts.sqlite3")
    question = store.add("Genf", "Was geschah in Genf?", current=index.manifest.articles)
    archive.write("genf.txt", article("Genf", STORY))
    index = archive.index()
    first = Matcher(floor=-10.0, margin=0.0)  # ranks every question (scores mean nothing)
    store.check(index, first)
    now = first.state(index, question.question.query)
    assert now.bar is not None and now.top  # a bar and the first article under it
    assert kept(store, index, question.question.id).same(now)  # round trip, exactly
    restarted = Matcher(floor=-10.0, margin=0.0)
    assert restarted.restore(
        index, question.question.query, kept(store, index, question.question.id)
    )
    assert restarted.state(index, question.question.query).same(now)


@pytest.mark.parametrize(
    "change",
    ["model", "ranking", "version", "bytes", "dtype", "shape", "dimension", "top"],
)
def test_a_row_of_another_model_ranking_or_version_or_unreadable_is_ignored_and_replaced(
    archive, tmp_path, encoded, change
):
    store, question_id, index = started(archive, tmp_path)
    if change == "model":
        index = Index(index.stored, DeterministicEncoder(16, "another-model"), index.ranking)
    elif change == "ranking":
        index = index.with_ranking(dataclasses.replace(index.ranking, hybrid_weight=0.5))
    else:
        column, value = {
            "version": ("version", STATE_VERSION - 1),
            "bytes": ("vector", b"\x00\x01\x02"),
            "dtype": ("dtype", "no type"),
            "shape": ("shape", "[3, 5]"),
            "dimension": ("vector", np.ones(8, np.float32).tobytes()),
            "top": ("top", "{not json"),
        }[change]
        if change == "dimension":
            with store.db.write() as db:
                db.execute("UPDATE question_state SET shape = '[8]'")
        if change == "top":
            with store.db.write() as db:
                db.execute("UPDATE question_state SET bar = 0.5")
        with store.db.write() as db:
            db.execute(f"UPDATE question_state SET {column} = ?", (value,))
    encoded.clear()
    archive.write("genf-2.txt", article("Wieder Genf", "In Genf wurde am Samstag gewählt."))
    grown = archive.index()
    if change in ("model", "ranking"):
        grown = Index(grown.stored, index.encoder, index.ranking)
    report = store.check(grown, WordMatcher())
    assert report.answers == 1 and encoded == ["Was geschah in Genf?"]  # encoded again
    assert sources(store, question_id) == ["genf-2.txt", "genf.txt"]  # the question lost nothing
    row = rows(store)[question_id]
    assert (row["model"], row["version"]) == (key(grown), STATE_VERSION)  # written again
    assert kept(store, grown, question_id) is not None


def test_a_file_of_layout_1_gets_the_state_table_and_keeps_its_questions(tmp_path):
    path = tmp_path / "alerts.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(alerts_db._SCHEMA.replace(alerts_db._STATE, ""))
    old.execute("INSERT INTO questions VALUES ('q1', 'u1', 'local', 'Genf', "
                "'{\"q\": \"Wer?\"}', 'now', 0, 'k', NULL, NULL)")  # fmt: skip
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    path.chmod(0o600)
    store = AlertStore(path)
    assert [q.id for q in store.questions()] == ["q1"] and rows(store) == {}
    with store.db.read() as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == alerts_db.SCHEMA_VERSION
