"""Standing questions in a running server: matched after every index that goes live, their
webhooks delivered, both on threads of their own.

:class:`AlertService` listens to the server's :class:`~diploqa.app.live.IndexHolder`: every
index it installs (an update here: ``--watch``, an upload, the buttons) or reloads (a build by
another process, a Milvus generation another server wrote) wakes the check thread; the holder
is also asked every :data:`RELOAD_POLL_SECONDS` for an index committed elsewhere, so a
``diploqa index`` from a cron job is matched without any request arriving. The listener only
sets an event, so an update never waits for matching; the check thread runs at the lowest CPU
priority (Linux: per thread), so searches keep their cores while it matches, and before each
of its steps it waits while a search is being answered (the holder's
:class:`~diploqa.app.activity.SearchActivity`, for a bounded time), so that it holds Python's
interpreter lock against them less. At start it checks once: what a killed server had not
finished is matched then, with the questions' encodings and last rankings the alerts file
kept (:mod:`.state`), so that first check ranks only what the new articles may change.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import TYPE_CHECKING

from ..errors import DiploqaError
from .db import alerts_path
from .matching import Matcher
from .outbox import Outbox, Sender
from .routes import alert_routes
from .store import AlertStore

if TYPE_CHECKING:
    from ..app.live import IndexHolder
    from ..auth.middleware import Access
    from ..config import Settings
    from ..index import Index

log = logging.getLogger(__name__)

#: Seconds between looks for an index another process committed.
RELOAD_POLL_SECONDS = 5.0


class AlertService:
    """Matching and delivery for the standing questions of ``store``, on ``holder``'s live
    index. :meth:`start` once the server answers; :meth:`close` when it stops."""

    def __init__(
        self,
        store: AlertStore,
        holder: IndexHolder,
        matcher: Matcher | None = None,
        outbox: Outbox | None = None,
        poll: float = RELOAD_POLL_SECONDS,
    ) -> None:
        self.store = store
        self.holder = holder
        self.matcher = matcher or Matcher()
        if self.matcher.pause is None:  # yield to the searches between the check's steps
            self.matcher.pause = holder.searches.pause
        self.outbox = outbox or Outbox(store)
        self.sender = Sender(self.outbox)
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._checked: Index | None = None
        #: Called with each check's report (the server logs it).
        self.on_report = None
        holder.on_live(self.notify)

    @classmethod
    def serving(
        cls, settings: Settings, holder: IndexHolder, allow_private_webhooks: bool = False
    ) -> AlertService:
        """The service of ``diploqa serve``: on the alerts file of ``settings``
        (:func:`~.db.alerts_path`), its webhook batches held as long as they say."""
        store = AlertStore(alerts_path(settings), allow_private_webhooks)
        return cls(store, holder, outbox=Outbox(store, hold=settings.server.webhook_hold_seconds))

    def routes(self, access: Access | None) -> list:
        """The JSON API and the feeds (:mod:`.routes`) behind ``access`` (None: open)."""
        return alert_routes(self.store, self.current, access)

    def notify(self, index: Index | None = None) -> None:
        """An index went live (or a question was added): check soon. Returns at once."""
        self._wake.set()

    def current(self):
        """The live index's article hashes (what a question added now does not count as
        new), else None."""
        index = self.holder.index
        return index.manifest.articles if index is not None else None

    def start(self) -> None:
        self.sender.start()
        self._thread = threading.Thread(target=self._run, name="diploqa-alerts", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> bool:
        """Stop both threads (a check stops after the question it is writing); False if the
        check thread still runs after ``timeout`` seconds."""
        self._stop.set()
        self._wake.set()
        self.sender.close()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def check_now(self) -> None:
        """One check of the live index, if it was not checked yet (the thread's step)."""
        index = self.holder.index
        if index is None or index is self._checked:
            return
        report = self.store.check(index, self.matcher)
        self._checked = index
        if report.batches:
            self.sender.wake()
        if report.answers or report.joined:
            log.info("standing questions: %s", report.summary())
        if self.on_report is not None:
            self.on_report(report)

    def _run(self) -> None:
        _lowest_priority()
        while not self._stop.is_set():
            try:
                self.holder.refresh()  # an index another process committed (wakes us)
                self._wake.clear()
                self.check_now()
            except DiploqaError as err:
                log.warning("standing questions not checked: %s", err)
            except Exception:
                log.exception("standing questions not checked")
            self._wake.wait(self.poll)


def _lowest_priority() -> None:
    """Nice the calling thread to 19 where the system allows one thread's priority (Linux):
    matching takes the CPU only when searches leave it."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
