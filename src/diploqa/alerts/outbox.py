"""Webhook batches waiting to be delivered, and the sender that delivers them.

A batch enters the outbox in the same transaction as the answers it carries (:mod:`.check`),
so a batch exists exactly when its answers do. The sender marks it delivered only after the
receiver answered 2xx: a process killed in between sends it again after its restart, with the
same id and body (at least once, never lost). A failed delivery is retried with back-off
(:data:`RETRY_BASE_SECONDS`, doubling up to :data:`RETRY_CAP_SECONDS`) and given up after
:data:`MAX_ATTEMPTS` (``diploqa alerts list`` shows it). Delivering runs on its own thread
(:class:`Sender`), never inside an index update or a check.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass

from ..faults import fault_point
from .model import AlertsError
from .store import AlertStore, now_text
from .webhooks import TIMEOUT_SECONDS, post

log = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 10.0
RETRY_CAP_SECONDS = 3600.0
MAX_ATTEMPTS = 30
#: Seconds a sender holds a batch it is sending (another process's sender leaves it alone
#: meanwhile; a killed sender's batch is sent again once it passed). A POST times out after
#: half of it, so a hold never ends while its POST may still reach the receiver.
CLAIM_SECONDS = 2 * TIMEOUT_SECONDS
#: Seconds the sender sleeps at most between looks at the outbox (a batch queued by another
#: process, ``diploqa alerts check``, is sent within this time).
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Batch:
    id: str
    question_id: str
    url: str
    body: bytes
    attempts: int
    next_try: float


def enqueue(db: sqlite3.Connection, batch_id: str, question_id: str, url: str, body: bytes):
    """Put a batch in the outbox, inside the caller's transaction, due at once."""
    db.execute(
        "INSERT INTO outbox (id, question_id, url, body, created, next_try) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (batch_id, question_id, url, body, now_text(), time.time()),
    )


class Outbox:
    """The batches of one alerts file and how they are retried."""

    def __init__(
        self,
        store: AlertStore,
        retry_base: float = RETRY_BASE_SECONDS,
        retry_cap: float = RETRY_CAP_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
        hold: float = CLAIM_SECONDS,
    ) -> None:
        self.store = store
        self.retry_base, self.retry_cap, self.max_attempts = retry_base, retry_cap, max_attempts
        self.hold = hold

    def due(self, limit: int = 20) -> list[Batch]:
        with self.store.db.read() as db:
            rows = db.execute(
                "SELECT * FROM outbox WHERE delivered IS NULL AND failed IS NULL "
                "AND next_try <= ? ORDER BY next_try LIMIT ?",
                (time.time(), limit),
            ).fetchall()
        return [Batch(r["id"], r["question_id"], r["url"], bytes(r["body"]), r["attempts"],
                      r["next_try"]) for r in rows]  # fmt: skip

    def next_due(self) -> float | None:
        """When the next undelivered batch is due (a time.time() value), else None."""
        with self.store.db.read() as db:
            row = db.execute(
                "SELECT MIN(next_try) FROM outbox WHERE delivered IS NULL AND failed IS NULL"
            ).fetchone()
        return row[0]

    def claim(self, batch: Batch) -> bool:
        """Hold ``batch`` for sending; False if another sender took it meanwhile."""
        with self.store.db.write() as db:
            done = db.execute(
                "UPDATE outbox SET next_try = ? WHERE id = ? AND next_try = ? "
                "AND delivered IS NULL AND failed IS NULL",
                (time.time() + self.hold, batch.id, batch.next_try),
            )
            return done.rowcount == 1

    def delivered(self, batch: Batch) -> None:
        with self.store.db.write() as db:
            db.execute(
                "UPDATE outbox SET delivered = ?, attempts = attempts + 1, last_error = NULL "
                "WHERE id = ?",
                (now_text(), batch.id),
            )

    def retry_later(self, batch: Batch, error: str) -> None:
        attempts = batch.attempts + 1
        delay = min(self.retry_cap, self.retry_base * 2 ** (attempts - 1))
        gave_up = now_text() if attempts >= self.max_attempts else None
        with self.store.db.write() as db:
            db.execute(
                "UPDATE outbox SET attempts = ?, next_try = ?, last_error = ?, failed = ? "
                "WHERE id = ?",
                (attempts, time.time() + delay, error, gave_up, batch.id),
            )
        if gave_up:
            log.warning("webhook batch %s given up after %d attempts: %s", batch.id, attempts,
                        error)  # fmt: skip

    def pending(self) -> dict[str, tuple[int, str | None]]:
        """Question id → (batches not yet delivered, the last error), for listings."""
        with self.store.db.read() as db:
            rows = db.execute(
                "SELECT question_id, COUNT(*), MAX(last_error) FROM outbox "
                "WHERE delivered IS NULL GROUP BY question_id"
            ).fetchall()
        return {row[0]: (row[1], row[2]) for row in rows}

    def send_due(self, timeout: float | None = None) -> tuple[int, int]:
        """One pass: send every batch that is due (each POST waits ``timeout`` seconds, by
        default half the hold). Returns (delivered, failed)."""
        timeout = min(TIMEOUT_SECONDS, self.hold / 2) if timeout is None else timeout
        sent = failed = 0
        for batch in self.due():
            if not self.claim(batch):
                continue
            secret = self.store.webhook_secret(batch.question_id)
            if secret is None:  # the question was removed meanwhile
                continue
            try:
                post(batch.url, batch.body, secret, batch.id,
                     self.store.allow_private_webhooks, timeout)  # fmt: skip
            except AlertsError as err:
                log.info("webhook batch %s not delivered: %s", batch.id, err)
                self.retry_later(batch, str(err))
                failed += 1
                continue
            fault_point("webhook-after-send")
            self.delivered(batch)
            sent += 1
        return sent, failed


class Sender:
    """Delivers the outbox from a daemon thread: at once when :meth:`wake` is called (a
    check queued a batch), else when the next retry is due, at least every
    :data:`POLL_SECONDS`."""

    def __init__(self, outbox: Outbox, poll: float = POLL_SECONDS) -> None:
        self.outbox = outbox
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="diploqa-webhooks", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.outbox.send_due()
                due = self.outbox.next_due()
            except AlertsError as err:  # the file is locked or broken: try again later
                log.warning("webhooks: %s", err)
                due = None
            wait = self.poll if due is None else min(self.poll, max(0.0, due - time.time()))
            self._wake.wait(wait)
