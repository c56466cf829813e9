"""Standing questions and their inboxes, in the alerts file (:mod:`.db`): the Python API.

Every method that reads or changes a question takes the user it acts for and finds only that
user's questions (another user's id is :class:`~.model.NotFound`, as a missing one is), so
the JSON API and the page cannot cross users by guessing ids; ``user=None`` is the operator
(the CLI on the server's machine) and sees all.

What is new to a question is counted in *arrivals*: every article version (content hash) the
alerts file has seen in an index gets the next number once. A question's mark is the last
arrival checked against it; one followed now starts at the arrivals of the index it was
followed on, so only articles that come later are its new answers (a rebuild re-embeds but
changes no hash, so it brings nothing new).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..query import Query
from .db import Database
from .model import (
    LOCAL_USER,
    AlertsError,
    Answer,
    CheckReport,
    Followed,
    NotFound,
    StandingQuestion,
    copies_from_json,
    hit_from_json,
)
from .webhooks import check_webhook_url

if TYPE_CHECKING:
    from ..index import Index
    from .matching import Matcher

#: Characters of a standing question's name kept.
MAX_NAME_CHARS = 100
#: Answers one listing or feed returns at most, newest first.
MAX_ANSWERS = 100


class Forbidden(AlertsError):
    """The user's role does not allow this (a reader setting a webhook)."""


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def clean_name(name: object) -> str:
    if not isinstance(name, str) or not " ".join(name.split()):
        raise AlertsError("a standing question needs a name: a few words to recognise it by")
    return " ".join(name.split())[:MAX_NAME_CHARS]


class AlertStore:
    """The standing questions of one alerts file (created 0600 when missing).

    ``allow_private_webhooks``: accept webhook URLs on loopback, link-local or private
    addresses (``serve --allow-private-webhooks``; tests and intranets).
    """

    def __init__(self, path: str | Path, allow_private_webhooks: bool = False) -> None:
        self.db = Database(path)
        self.path = self.db.path
        self.allow_private_webhooks = allow_private_webhooks

    # -- following ------------------------------------------------------------------------

    def add(
        self,
        name: str,
        query: Query | str,
        user: str = LOCAL_USER,
        webhook: str | None = None,
        role: str = "editor",
        current: Mapping[str, str] | None = None,
    ) -> Followed:
        """Follow ``query`` (a :class:`~diploqa.query.Query` or a question) as ``user``.

        ``current``: the article ids and content hashes of the index as it is now
        (``index.manifest.articles``); they are not new to this question. ``webhook``: where
        each batch of new answers is POSTed (editors only). Returns the question with its
        feed secret and webhook secret, shown this once.

        Raises:
            AlertsError: the name is empty, or the webhook URL is not allowed.
            Forbidden: a reader asked for a webhook.
            QueryError: the question or a filter is invalid.
        """
        query = Query.of(query)
        name = clean_name(name)
        if webhook:
            if role != "editor":
                raise Forbidden("readers cannot set webhooks: ask an editor")
            webhook = check_webhook_url(webhook, self.allow_private_webhooks)
        feed_key = secrets.token_urlsafe(32)
        webhook_secret = secrets.token_urlsafe(32) if webhook else None
        question_id, created = secrets.token_hex(6), now_text()
        with self.db.write() as db:
            top = observe(db, current or {})
            db.execute(
                "INSERT INTO questions (id, uid, user, name, params, created, mark, feed_key, "
                "webhook_url, webhook_secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (question_id, str(uuid.uuid4()), user, name, json.dumps(query.to_params()),
                 created, top, key_hash(feed_key), webhook, webhook_secret),
            )  # fmt: skip
        return Followed(self.question(question_id, user), feed_key, webhook_secret)

    def questions(self, user: str | None = None) -> list[StandingQuestion]:
        """The standing questions of ``user`` (None: everyone's), oldest first, with their
        unread and total answer counts."""
        where, args = ("WHERE q.user = ?", (user,)) if user is not None else ("", ())
        with self.db.read() as db:
            rows = db.execute(f"{_QUESTIONS} {where} ORDER BY q.created, q.id", args).fetchall()
        return [_question(row) for row in rows]

    def question(self, question_id: str, user: str | None = None) -> StandingQuestion:
        """One standing question of ``user`` (None: anyone's).

        Raises:
            NotFound: there is none with this id, or it is another user's.
        """
        with self.db.read() as db:
            row = db.execute(f"{_QUESTIONS} WHERE q.id = ?", (question_id,)).fetchone()
        if row is None or (user is not None and row["user"] != user):
            raise NotFound(f"no standing question {question_id!r}")
        return _question(row)

    def remove(self, question_id: str, user: str | None = None) -> None:
        """Stop following: the question, its answers and its undelivered batches go."""
        self.question(question_id, user)
        with self.db.write() as db:
            db.execute("DELETE FROM questions WHERE id = ?", (question_id,))

    def new_feed_key(self, question_id: str, user: str | None = None) -> str:
        """A new feed secret (returned once); the old feed URL stops working at once."""
        self.question(question_id, user)
        key = secrets.token_urlsafe(32)
        with self.db.write() as db:
            db.execute(
                "UPDATE questions SET feed_key = ? WHERE id = ?", (key_hash(key), question_id)
            )
        return key

    def feed_question(self, question_id: str, key: str) -> StandingQuestion | None:
        """The question whose feed ``key`` opens, else None (a wrong, old or missing key)."""
        with self.db.read() as db:
            row = db.execute(f"{_QUESTIONS} WHERE q.id = ?", (question_id,)).fetchone()
        if row is None or not key:
            return None
        if not hmac.compare_digest(row["feed_key"], key_hash(key)):
            return None
        return _question(row)

    def webhook_secret(self, question_id: str) -> str | None:
        with self.db.read() as db:
            row = db.execute(
                "SELECT webhook_secret FROM questions WHERE id = ?", (question_id,)
            ).fetchone()
        return row["webhook_secret"] if row else None

    # -- the inbox ------------------------------------------------------------------------

    def answers(
        self,
        question_id: str,
        user: str | None = None,
        unread: bool = False,
        limit: int = MAX_ANSWERS,
    ) -> list[Answer]:
        """The answers found for a question, newest first (``unread``: only those not yet
        marked read)."""
        self.question(question_id, user)
        filter_read = "AND read = 0" if unread else ""
        with self.db.read() as db:
            rows = db.execute(
                f"SELECT * FROM answers WHERE question_id = ? {filter_read} "
                "ORDER BY id DESC LIMIT ?",
                (question_id, max(1, min(int(limit), MAX_ANSWERS))),
            ).fetchall()
        return [answer_from_row(row) for row in rows]

    def mark_read(
        self, question_id: str, user: str | None = None, answer_ids: list[int] | None = None
    ) -> int:
        """Mark answers read (``answer_ids``, else all of the question's); returns how many
        were unread."""
        self.question(question_id, user)
        with self.db.write() as db:
            if answer_ids is None:
                done = db.execute(
                    "UPDATE answers SET read = 1 WHERE question_id = ? AND read = 0",
                    (question_id,),
                )
                return done.rowcount
            count = 0
            for answer_id in answer_ids:
                done = db.execute(
                    "UPDATE answers SET read = 1 WHERE question_id = ? AND id = ? AND read = 0",
                    (question_id, int(answer_id)),
                )
                count += done.rowcount
            return count

    # -- checking and delivering ------------------------------------------------------------

    def check(self, index: Index, matcher: Matcher | None = None) -> CheckReport:
        """Match the articles of ``index`` that are new or changed since each question was
        last checked, once (:func:`.check.check`)."""
        from .check import check
        from .matching import Matcher

        return check(self, index, matcher or Matcher())


_QUESTIONS = (
    "SELECT q.*, "
    "(SELECT COUNT(*) FROM answers a WHERE a.question_id = q.id AND a.read = 0) AS unread, "
    "(SELECT COUNT(*) FROM answers a WHERE a.question_id = q.id) AS total "
    "FROM questions q"
)


def observe(db: sqlite3.Connection, articles: Mapping[str, str]) -> int:
    """Give every article version (content hash) of ``articles`` not seen before the next
    arrival number, inside the caller's transaction; returns the last arrival number."""
    known = {row[0] for row in db.execute("SELECT content_hash FROM arrivals")}
    seen = now_text()
    fresh = [(h, aid, seen) for aid, h in sorted(articles.items()) if h not in known]
    db.executemany(
        "INSERT OR IGNORE INTO arrivals (content_hash, article_id, seen) VALUES (?, ?, ?)", fresh
    )
    return db.execute("SELECT COALESCE(MAX(seq), 0) FROM arrivals").fetchone()[0]


def _question(row: sqlite3.Row) -> StandingQuestion:
    return StandingQuestion(
        id=row["id"],
        uid=row["uid"],
        user=row["user"],
        name=row["name"],
        query=Query.from_params(json.loads(row["params"])),
        created=row["created"],
        webhook=row["webhook_url"],
        mark=row["mark"],
        unread=row["unread"],
        answers=row["total"],
    )


def answer_from_row(row: sqlite3.Row) -> Answer:
    return Answer(
        id=row["id"],
        uid=row["uid"],
        question_id=row["question_id"],
        hit=hit_from_json(row["hit"]),
        created=row["created"],
        updated=row["updated"],
        read=bool(row["read"]),
        also_in=copies_from_json(row["also_in"]),
    )
