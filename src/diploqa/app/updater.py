"""Keeping the live index current: updates from a button, in the background, or on every
change of the articles folder (``--watch``).

An :class:`Updater` builds a complete new index from the articles folder and installs it in
its :class:`~.live.IndexHolder`; while it runs, the holder's :attr:`~.live.IndexHolder.build`
says how far it got (the status area shows it), and afterwards why it failed, if it did.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ..articles import CsvColumns
from ..articles.csv_columns import columns_to_read_with
from ..build import BuildReport, Progress, build_index
from ..config import Settings
from ..errors import DiploqaError
from ..index import Index
from . import messages
from .live import BuildState, IndexHolder
from .pending import compare

log = logging.getLogger(__name__)


class UpdateCancelled(DiploqaError):
    """An update stopped by :meth:`Updater.close`; the index was left as it was."""


class Updater:
    """Brings ``holder``'s index up to date with ``articles_dir``, on request or from a
    background thread; remembers what the articles folder holds that the index does not.
    ``settings``: what it builds, reads and watches with (default the holder's)."""

    def __init__(
        self,
        holder: IndexHolder,
        articles_dir: str | Path,
        csv_columns: CsvColumns | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.holder = holder
        self.articles_dir = Path(articles_dir)
        #: What every update builds with, and what uploads and the watcher take.
        self.settings = (settings or holder.settings).overridden(articles=articles_dir)
        #: Which columns of the CSV files are which field (``--csv-columns``), for every build.
        self.csv_columns = csv_columns
        self._pending: str | None = None
        self._stale = False  # articles on disk differ from the live index
        self._compared: Index | None = None  # the index the articles were last compared with
        self._last_report: BuildReport | None = None
        self._closing = threading.Event()  # set by close(): updates stop at their next step
        self._background: threading.Thread | None = None
        self._stop_background: threading.Event | None = None
        holder.on_reload(self._note_pending)

    @property
    def build(self) -> BuildState:
        """The running update's progress, or how the last one ended."""
        return self.holder.build

    @property
    def pending(self) -> str | None:
        """Article changes on disk the index does not have yet, as one readable line."""
        return self._pending

    @property
    def last_report(self) -> BuildReport | None:
        """What the last update in this process did."""
        return self._last_report

    def upload_columns(self) -> CsvColumns | None:
        """The columns an uploaded CSV file is checked with: those the next build reads with
        (``--csv-columns``, else the live index's recorded ones), so a CSV file accepted here
        is never skipped by the update that follows."""
        index = self.holder.index
        recorded = index.manifest.csv_columns if index is not None else None
        return columns_to_read_with(self.csv_columns, recorded)

    def needs_update(self) -> bool:
        """True if there is no usable index, or articles changed since it was built (as
        :meth:`check_articles` found them)."""
        return self.holder.index is None or self._stale

    def check_articles(self) -> None:
        """Compare the articles folder with the live index now: what :attr:`pending` says and
        whether :meth:`needs_update` (``diploqa serve`` leaves it to
        :meth:`start_background`: reading a large archive would delay the first answer)."""
        index = self.holder.index
        if index is None:
            return
        found = compare(self.articles_dir, index, self.csv_columns, self.settings.limits)
        self._pending, self._stale, self._compared = found.text, found.stale, index

    def _note_pending(self, index: Index) -> None:
        found = compare(self.articles_dir, index, self.csv_columns, self.settings.limits)
        self._pending = found.text

    def update(self, rebuild: bool = False, progress: Progress | None = None) -> BuildReport:
        """Bring the index up to date with the articles folder and swap it in.

        Raises:
            DiploqaError: the articles folder holds no readable article or the index folder
                cannot be written; the current index stays live.
        """
        holder = self.holder
        with holder.replacing():
            holder.report_build(BuildState(running=True))

            def track(done: int, total: int) -> None:
                if self._closing.is_set():
                    raise UpdateCancelled("the server is stopping; the index was left as it was")
                holder.report_build(dataclasses.replace(holder.build, done=done, total=total))
                if progress is not None:
                    progress(done, total)

            served = holder.index
            try:
                index = build_index(
                    self.articles_dir,
                    holder.index_dir,
                    rebuild=rebuild,
                    progress=track,
                    store=holder.location,
                    csv_columns=self.csv_columns,
                    previous=served.stored if served is not None else None,
                    settings=self.settings,
                )
            except BaseException as err:
                reason = str(err) if isinstance(err, DiploqaError) else None
                holder.report_build(BuildState(error=reason or messages.UNEXPECTED_BUILD_TEXT))
                raise
            report = index.build_report
            current = holder.index
            if report.changed or current is None or _generation(current) != _generation(index):
                holder.install(index)
            # else: the same generation is live already; keep it (and its warm caches)
            self._last_report = report
            self._pending, self._stale, self._compared = None, False, holder.index
            holder.report_build(BuildState())
        return report

    def try_update(
        self, on_report: Callable[[BuildReport], object] | None = None
    ) -> BuildReport | None:
        """:meth:`update` for a background thread: an error is logged and kept in
        :attr:`build` (the status area shows it), never raised. Returns the report or None."""
        try:
            report = self.update()
        except UpdateCancelled as err:
            log.info("index update cancelled: %s", err)
            return None
        except DiploqaError as err:
            log.warning("index update failed: %s", err)
            return None
        except Exception:
            log.exception("index update failed")
            return None
        log.info("index updated: %s", report.summary())
        if on_report is not None:
            on_report(report)
        return report

    def start_background(
        self,
        watch: bool = False,
        stop: threading.Event | None = None,
        on_report: Callable[[BuildReport], object] | None = None,
    ) -> threading.Thread:
        """Keep the index current from a daemon thread while the server answers.

        First the articles folder is compared with the live index, unless that was done
        already. Without ``watch``: one update if :meth:`needs_update` (no index yet, or
        articles changed since it was built). With ``watch``: one update at start, then one
        per settled change of the articles folder (:class:`~diploqa.watch.FolderWatcher`)
        until ``stop`` is set. Searches go on meanwhile, answered by the old index if there is
        one. Errors end up in :attr:`build`; ``on_report`` gets each successful update's
        report.
        """
        stop = stop or threading.Event()
        self._stop_background = stop

        def run() -> None:
            if self.holder.index is not None and self.holder.index is not self._compared:
                self.check_articles()
            if not watch:
                if self.needs_update():
                    self.try_update(on_report)
                return
            from ..watch import FolderWatcher

            watcher = FolderWatcher(
                self.articles_dir,
                lambda _: self.try_update(on_report),
                settings=self.settings.watch,
                stop_event=stop,
            )
            try:
                watcher.run(since=None)  # one update at start: also catches a stale index
            except OSError as err:  # the folder is missing: say so, as a build would
                log.warning("cannot watch %s: %s", self.articles_dir, err)
                self.try_update(on_report)

        thread = threading.Thread(target=run, name="diploqa-index-updates", daemon=True)
        self._background = thread
        thread.start()
        return thread

    def close(self, timeout: float = 10.0) -> bool:
        """Stop background work: the watcher at once, a running update at its next progress
        step (the index is left as it was). Returns False if the background thread is still
        running after ``timeout`` seconds (loading the model, say), True otherwise."""
        self._closing.set()
        if self._stop_background is not None:
            self._stop_background.set()
        thread = self._background
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()


def _generation(index: Index) -> str:
    return index.manifest.generation
