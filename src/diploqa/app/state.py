"""What the server holds: the one live index shared by every session, and how it is swapped.

:class:`IndexHolder` keeps the :class:`~diploqa.search.Index` all sessions search. An update
builds a complete new index and swaps the reference under a lock; a search that already picked
up the old index finishes with it. An index committed by another process (``diploqa index`` on
the same folder) is picked up by the next search: each access stats ``manifest.json`` (one
system call) and reloads when it was replaced.

An update runs either from a button (in the request) or in the background
(:meth:`IndexHolder.start_background`: the first build of ``diploqa serve`` on a folder
without an index or with changed articles, and ``--watch``); :attr:`IndexHolder.build` says
how far it got, for the status area, and why the last one failed.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..articles import CsvColumns, load_articles
from ..build import BuildReport, Progress
from ..encoders import get_encoder
from ..errors import ArticlesError, DiploqaError
from ..search import Index, build_index, load_index
from ..store.location import open_location

log = logging.getLogger(__name__)

NO_INDEX_TEXT = (
    "Noch kein Index – im Tab „Artikel / Articles“ aufbauen oder `diploqa index` ausführen. "
    "/ No index yet – build it in the Articles tab or with `diploqa index`."
)
BUILDING_TEXT = (
    "Noch kein Index – er wird gerade aufgebaut; Fragen werden beantwortet, sobald er fertig "
    "ist. / No index yet – it is being built; questions are answered as soon as it is done."
)
UNEXPECTED_BUILD_TEXT = (
    "Unerwarteter Fehler – Details im Server-Log / unexpected error – see the server log"
)


class UpdateCancelled(DiploqaError):
    """An update stopped by :meth:`IndexHolder.close`; the index was left as it was."""


def _de(number: int) -> str:
    return f"{number:,}".replace(",", ".")


@dataclass(frozen=True)
class BuildState:
    """How far the running update got, or how the last one ended (replaced, never edited)."""

    running: bool = False
    done: int = 0  # passages embedded so far
    total: int = 0  # passages to embed; 0 until the articles are read (or nothing to embed)
    error: str | None = None  # why the last update failed; cleared by the next one

    def describe(self) -> str | None:
        """One line for the status area: progress, or the last failure; None when idle."""
        if self.running:
            if not self.total:
                return "Index wird aufgebaut … / building the index …"
            de = f"{_de(self.done)} von {_de(self.total)} Passagen eingebettet"
            en = f"{self.done:,} of {self.total:,} passages embedded"
            if self.done >= self.total:
                de, en = f"{de}, wird gespeichert", f"{en}, saving"
            return f"Index wird aufgebaut: {de} / building: {en}"
        if self.error:
            return f"Indexaktualisierung fehlgeschlagen / index update failed: {self.error}"
        return None


class IndexHolder:
    """The live index shared by every session, and how to replace it.

    Reading :attr:`index` is cheap and never blocks on an update: an update builds a complete
    new :class:`Index` first and only then swaps the reference, so a search sees either the
    old or the new index, never a half-built one. Updates are serialised by their own lock
    (and across processes by the store's build lock).
    """

    def __init__(
        self,
        index_dir: str | Path,
        articles_dir: str | Path,
        store: str | None = None,
        csv_columns: CsvColumns | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.articles_dir = Path(articles_dir)
        #: Which columns of the CSV files are which field (``--csv-columns``), for every build.
        self.csv_columns = csv_columns
        #: Where the index lives: the folder, or a Milvus store (``--store``).
        self.location = open_location(self.index_dir, store)
        self.store = store
        self._index: Index | None = None
        self._problem: str | None = NO_INDEX_TEXT
        self._pending: str | None = None
        self._last_report: BuildReport | None = None
        self._stale = False  # articles on disk differ from the loaded index
        self._unchecked: Index | None = None  # loaded, not yet compared with the articles
        self._build = BuildState()
        self._closing = threading.Event()  # set by close(): updates stop at their next step
        self._background: threading.Thread | None = None
        self._stop_background: threading.Event | None = None
        self._signature: object = None  # of the manifest we serve
        self._swap_lock = threading.Lock()
        self._update_lock = threading.Lock()

    @property
    def index(self) -> Index | None:
        """The current index, or None while there is none (see :attr:`problem`).

        First picks up an index another process committed meanwhile (see :meth:`refresh`).
        """
        self.refresh()
        with self._swap_lock:
            return self._index

    def _manifest_signature(self) -> object:
        """Identity of the manifest on disk: a build replaces it (new inode), never edits it
        (for Milvus: the collection the alias names). None: no index, or the store does not
        answer (the current index keeps answering)."""
        try:
            return self.location.signature()
        except DiploqaError as err:
            log.warning("cannot check the index for updates: %s", err)
            return None

    def _adopt(self, index: Index, signature: object) -> None:
        """Serve ``index``. ``signature`` (taken before it was loaded) is remembered only if
        it is still that index's manifest; otherwise the next access reloads (harmless).
        The index is warmed first, so that no question waits for its keyword index."""
        index.warm()
        if signature is not None and signature == self._manifest_signature():
            try:
                current = self.location.read_manifest().generation
            except DiploqaError:
                current = None
            if current != index.manifest.generation:
                signature = None
        with self._swap_lock:
            self._index, self._problem, self._signature = index, None, signature

    def refresh(self) -> bool:
        """Reload if another process committed a new index since this one was loaded.

        Costs one ``stat`` when nothing changed. The request that notices a change reloads;
        requests arriving meanwhile, and any while an update runs here, keep answering from
        the current index (never a mix: each search holds one :class:`Index`). An unreadable
        new index is logged and the current one kept. Returns True if a new index was loaded.
        """
        signature = self._manifest_signature()
        if signature is None or signature == self._signature:
            return False
        if not self._update_lock.acquire(blocking=False):
            return False
        try:
            signature = self._manifest_signature()
            if signature is None or signature == self._signature:
                return False
            try:
                index = load_index(self.index_dir, store=self.store)
            except DiploqaError as err:
                log.warning("the index on disk changed but cannot be loaded: %s", err)
                if self._index is None:
                    self._problem = f"Index nicht lesbar / Index unreadable: {err}"
                self._signature = signature  # retried when the manifest changes again
                return False
            self._adopt(index, signature)
            log.info("loaded the index another process committed in %s", index.path)
        finally:
            self._update_lock.release()
        threading.Thread(target=self._note_pending, args=(index,), daemon=True).start()
        return True

    def _note_pending(self, index: Index) -> None:
        self._pending = describe_pending(self.articles_dir, index, self.csv_columns)

    @property
    def problem(self) -> str | None:
        """Why there is no usable index (missing or unreadable, being built, or its build
        failed), else None."""
        problem = self._problem
        if problem is not None:
            if self._build.running:
                return BUILDING_TEXT
            if self._build.error:
                return (
                    "Der Index konnte nicht aufgebaut werden / The index could not be built: "
                    f"{self._build.error}"
                )
        return problem

    @property
    def build(self) -> BuildState:
        """The running update's progress, or how the last one ended."""
        return self._build

    def needs_update(self) -> bool:
        """True if there is no usable index, or articles changed since it was built (as
        :meth:`load` found them)."""
        return self._index is None or self._stale

    def status_record(self) -> dict[str, Any]:
        """The state of the index and of its updates as a JSON-ready dict (the ``status``
        API endpoint)."""
        index = self.index
        build = self._build
        return {
            "ready": index is not None,
            "articles": len(index.articles) if index is not None else 0,
            "passages": len(index) if index is not None else 0,
            "generation": index.manifest.generation if index is not None else None,
            "building": build.running,
            "done": build.done,
            "total": build.total,
            "error": build.error,
            "message": build.describe() or self.problem,
            "pending": self.pending,
            "last_update": self._last_report.summary() if self._last_report else None,
        }

    @property
    def pending(self) -> str | None:
        """Article changes on disk the index does not have yet, as one readable line."""
        return self._pending

    @property
    def last_report(self) -> BuildReport | None:
        """What the last update in this process did."""
        return self._last_report

    def load(self, model: bool = True, check_articles: bool = True) -> None:
        """Load the index once at start-up; never build (see :meth:`start_background`).

        A missing or unreadable index is not an error here: the UI starts and says how to
        build one. With ``model`` the model is loaded anyway, so that the first build does not
        wait for it (``diploqa serve`` leaves that to the build it starts in the background).
        Without ``check_articles`` the articles folder is compared with the index by
        :meth:`start_background` instead (``diploqa serve``: reading 2,000 article files took
        0.3 s before the first answer, more the larger the archive).
        """
        signature = self._manifest_signature()
        if signature is None:
            self._problem = NO_INDEX_TEXT
            if model:
                get_encoder()
            return
        try:
            index = load_index(self.index_dir, store=self.store)
        except DiploqaError as err:
            self._problem = f"Index nicht lesbar / Index unreadable: {err}"
            self._signature = signature
            log.warning("cannot load the index: %s", err)
            if model:
                get_encoder()
            return
        self._adopt(index, signature)
        if check_articles:
            self._check_articles(index)
        else:
            self._unchecked = index

    def _check_articles(self, index: Index) -> None:
        """Compare the articles folder with ``index``: what :attr:`pending` says and whether
        :meth:`needs_update`."""
        try:
            counts = _pending_counts(self.articles_dir, index, self.csv_columns)
        except ArticlesError as err:
            self._pending, self._stale = _folder_problem(err), False
        else:
            self._pending, self._stale = _pending_text(*counts), any(counts)

    def update(self, rebuild: bool = False, progress: Progress | None = None) -> BuildReport:
        """Bring the index up to date with the articles folder and swap it in.

        Raises:
            DiploqaError: the articles folder holds no readable article or the index folder
                cannot be written; the current index stays live.
        """
        with self._update_lock:
            self._build = BuildState(running=True)

            def track(done: int, total: int) -> None:
                if self._closing.is_set():
                    raise UpdateCancelled("the server is stopping; the index was left as it was")
                self._build = dataclasses.replace(self._build, done=done, total=total)
                if progress is not None:
                    progress(done, total)

            try:
                index = build_index(
                    self.articles_dir,
                    self.index_dir,
                    rebuild=rebuild,
                    progress=track,
                    store=self.store,
                    csv_columns=self.csv_columns,
                )
            except BaseException as err:
                reason = str(err) if isinstance(err, DiploqaError) else UNEXPECTED_BUILD_TEXT
                self._build = BuildState(error=reason)
                raise
            report = index.build_report
            current = self._index
            if report.changed or current is None or _generation(current) != _generation(index):
                self._adopt(index, self._manifest_signature())
            # else: the same generation is live already; keep it (and its warm caches)
            self._last_report = report
            self._pending, self._stale = None, False
            self._build = BuildState()
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

        Without ``watch``: one update if :meth:`needs_update` (no index yet, or articles
        changed since it was built). With ``watch``: one update at start, then one per settled
        change of the articles folder (:class:`~diploqa.watch.FolderWatcher`) until ``stop`` is
        set. Searches go on meanwhile, answered by the old index if there is one. Errors end up
        in :attr:`build`; ``on_report`` gets each successful update's report.
        """
        stop = stop or threading.Event()
        self._stop_background = stop

        def run() -> None:
            unchecked, self._unchecked = self._unchecked, None
            if unchecked is not None and unchecked is self._index:
                self._check_articles(unchecked)
            if not watch:
                if self.needs_update():
                    self.try_update(on_report)
                return
            from ..watch import FolderWatcher

            watcher = FolderWatcher(
                self.articles_dir, lambda _: self.try_update(on_report), stop_event=stop
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


def describe_pending(
    articles_dir: Path, index: Index, csv_columns: CsvColumns | None = None
) -> str | None:
    """Compare the articles on disk with the index; None when the index is current.

    Reads the files but cleans only those whose bytes differ from the indexed ones (no
    embedding), so it is cheap enough for start-up (docs/benchmarks.md).
    """
    try:
        return _pending_text(*_pending_counts(articles_dir, index, csv_columns))
    except ArticlesError as err:
        return _folder_problem(err)


def _pending_counts(
    articles_dir: Path, index: Index, csv_columns: CsvColumns | None = None
) -> tuple[int, int]:
    """(new or changed, removed) articles on disk compared with the index.

    Raises:
        ArticlesError: the folder is missing or holds no article file.
    """
    articles, _ = load_articles(articles_dir, index.stored.articles, csv_columns)
    indexed = index.manifest.articles
    on_disk = {a.id: a.content_hash for a in articles}
    new_or_changed = sum(1 for aid, h in on_disk.items() if indexed.get(aid) != h)
    removed = sum(1 for aid in indexed if aid not in on_disk)
    return new_or_changed, removed


def _folder_problem(err: ArticlesError) -> str:
    return f"Artikelordner / Articles folder: {err}"


def _pending_text(new_or_changed: int, removed: int) -> str | None:
    if not (new_or_changed or removed):
        return None
    return (
        f"{new_or_changed} neue oder geänderte und {removed} entfernte Artikel sind noch nicht "
        f"im Index – „Index aktualisieren“ klicken. / {new_or_changed} new or changed and "
        f"{removed} removed articles are not indexed yet – click “Update index”."
    )
