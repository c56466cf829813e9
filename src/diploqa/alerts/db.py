"""The alerts file: one SQLite database (the standard library's), private to its owner.

Standing questions, their "last seen" marks, the answers found and the webhook batches not yet
delivered live in one file so that one transaction can move all of them at once: the answers of
a check and its new mark commit together or not at all, whatever kills the process (SIGKILL
included), so no answer is lost and none is recorded twice. WAL lets readers (the page, the
feed) go on while a check writes; ``synchronous=FULL`` makes a commit survive a power cut too,
so a webhook batch that was sent is never rolled back and found again under another id.

The file is created 0600 and refused when group or others may read it: it holds the webhooks'
secrets. Its layout is versioned (``PRAGMA user_version``); an older file is brought up to
date when opened, and a file written by a newer layout is refused instead of misread.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .model import AlertsError

if TYPE_CHECKING:
    from ..config import Settings

#: The file's name beside the index folder, when neither ``--alerts`` nor ``DIPLOQA_ALERTS``
#: names one.
FILE_NAME = "alerts.sqlite3"
SCHEMA_VERSION = 2
#: Seconds a writer waits for another (a check in another process) before giving up.
BUSY_SECONDS = 30.0

#: What the matcher knows of each question (:mod:`.state`); added by layout 2.
_STATE = """
CREATE TABLE question_state (
    question_id TEXT PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    vector BLOB NOT NULL,
    dtype TEXT NOT NULL,
    shape TEXT NOT NULL,
    bar REAL,
    top TEXT
);
"""

_SCHEMA = (
    """
CREATE TABLE questions (
    id TEXT PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    user TEXT NOT NULL,
    name TEXT NOT NULL,
    params TEXT NOT NULL,
    created TEXT NOT NULL,
    mark INTEGER NOT NULL,
    feed_key TEXT NOT NULL,
    webhook_url TEXT,
    webhook_secret TEXT
);
CREATE INDEX questions_by_user ON questions (user);
CREATE TABLE arrivals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    content_hash TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL,
    seen TEXT NOT NULL
);
CREATE TABLE answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    question_id TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    article_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    signature TEXT NOT NULL,
    score REAL NOT NULL,
    hit TEXT NOT NULL,
    also_in TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    read INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX answers_by_question ON answers (question_id, id);
CREATE TABLE answer_articles (
    question_id TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    article_id TEXT NOT NULL,
    answer_id INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    PRIMARY KEY (question_id, article_id, answer_id)
);
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    question_id TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    body BLOB NOT NULL,
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL,
    delivered TEXT,
    failed TEXT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (delivered, failed, next_try);
"""
    + _STATE
)


def alerts_path(settings: Settings) -> Path:
    """The alerts file of these settings: ``--alerts``/``DIPLOQA_ALERTS``, else
    :data:`FILE_NAME` beside the index folder (the same for the CLI and the server)."""
    return settings.server.alerts_file or settings.paths.index.parent / FILE_NAME


class Database:
    """The alerts file at ``path``, created (0600, WAL, this schema) when missing.

    Every use opens its own connection (:meth:`read`, :meth:`write`), so threads and
    processes share the file through SQLite's locks only.

    Raises:
        AlertsError: the file cannot be created or opened, others may read it, it is no
            SQLite database, or a newer diploqa wrote it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            raise AlertsError(f"cannot open the alerts file {self.path}: {err.strerror}") from None
        try:
            mode = os.fstat(fd).st_mode
        finally:
            os.close(fd)
        if mode & 0o077:
            raise AlertsError(
                f"the alerts file {self.path} may be read by other users (mode "
                f"{stat.S_IMODE(mode):04o}): chmod 600 {self.path}"
            )
        try:
            self._migrate()
        except sqlite3.DatabaseError as err:
            raise AlertsError(f"the alerts file {self.path} is damaged: {err}") from None

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = FULL")
        return connection

    def _migrate(self) -> None:
        with self.write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise AlertsError(
                    f"the alerts file {self.path} was written by a newer diploqa (layout "
                    f"{version}, this one reads {SCHEMA_VERSION}): update diploqa"
                )
            if version < SCHEMA_VERSION:  # new, or layout 1: without the matcher's state
                for statement in (_SCHEMA if version == 0 else _STATE).split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        with self.read() as db:
            db.execute("PRAGMA journal_mode = WAL")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (each statement sees one committed state)."""
        connection = self._connect()
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one write transaction: committed when the block ends, rolled
        back when it raises (and by SQLite itself when the process dies inside it)."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            if connection.in_transaction:
                connection.execute("COMMIT")
        except sqlite3.OperationalError as err:
            raise AlertsError(f"the alerts file {self.path} cannot be written: {err}") from None
        finally:
            connection.close()
