"""What the server holds: the one live index shared by every session, and how it is swapped.

:class:`IndexHolder` keeps the :class:`~diploqa.search.Index` all sessions search. An update
builds a complete new index and swaps the reference under a lock; a search that already picked
up the old index finishes with it. An index committed by another process (``diploqa index`` on
the same folder) is picked up by the next search: each access stats ``manifest.json`` (one
system call) and reloads when it was replaced.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..articles import load_articles
from ..build import BuildReport, Progress
from ..encoders import get_encoder
from ..errors import ArticlesError, DiploqaError
from ..search import Index, build_index, load_index
from ..store import MANIFEST, read_manifest

log = logging.getLogger(__name__)

NO_INDEX_TEXT = (
    "Noch kein Index – im Tab „Artikel / Articles“ aufbauen oder `diploqa index` ausführen. "
    "/ No index yet – build it in the Articles tab or with `diploqa index`."
)


class IndexHolder:
    """The live index shared by every session, and how to replace it.

    Reading :attr:`index` is cheap and never blocks on an update: an update builds a complete
    new :class:`Index` first and only then swaps the reference, so a search sees either the
    old or the new index, never a half-built one. Updates are serialised by their own lock
    (and across processes by the store's build lock).
    """

    def __init__(self, index_dir: str | Path, articles_dir: str | Path) -> None:
        self.index_dir = Path(index_dir)
        self.articles_dir = Path(articles_dir)
        self._index: Index | None = None
        self._problem: str | None = NO_INDEX_TEXT
        self._pending: str | None = None
        self._last_report: BuildReport | None = None
        self._signature: tuple[int, int, int] | None = None  # of the manifest we serve
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

    def _manifest_signature(self) -> tuple[int, int, int] | None:
        """Identity of the manifest on disk: a build replaces it (new inode), never edits it."""
        try:
            info = (self.index_dir / MANIFEST).stat()
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _adopt(self, index: Index, signature: tuple[int, int, int] | None) -> None:
        """Serve ``index``. ``signature`` (taken before it was loaded) is remembered only if
        it is still that index's manifest; otherwise the next access reloads (harmless).
        The index is warmed first, so that no question waits for its keyword index."""
        index.warm()
        if signature is not None and signature == self._manifest_signature():
            try:
                current = read_manifest(self.index_dir).generation
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
                index = load_index(self.index_dir)
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
        self._pending = describe_pending(self.articles_dir, index)

    @property
    def problem(self) -> str | None:
        """Why there is no usable index (missing or unreadable), else None."""
        return self._problem

    @property
    def pending(self) -> str | None:
        """Article changes on disk the index does not have yet, as one readable line."""
        return self._pending

    @property
    def last_report(self) -> BuildReport | None:
        """What the last update in this process did."""
        return self._last_report

    def load(self) -> None:
        """Load index and model once at start-up; never build (a fast start matters more).

        A missing or unreadable index is not an error here: the UI starts and says how to
        build one. The model is loaded anyway so the first build does not wait for it.
        """
        signature = self._manifest_signature()
        if signature is None:
            self._problem = NO_INDEX_TEXT
            get_encoder()
            return
        try:
            index = load_index(self.index_dir)
        except DiploqaError as err:
            self._problem = f"Index nicht lesbar / Index unreadable: {err}"
            self._signature = signature
            log.warning("cannot load the index: %s", err)
            get_encoder()
            return
        self._adopt(index, signature)
        self._pending = describe_pending(self.articles_dir, index)

    def update(self, rebuild: bool = False, progress: Progress | None = None) -> BuildReport:
        """Bring the index up to date with the articles folder and swap it in.

        Raises:
            DiploqaError: the articles folder holds no readable article or the index folder
                cannot be written; the current index stays live.
        """
        with self._update_lock:
            index = build_index(
                self.articles_dir, self.index_dir, rebuild=rebuild, progress=progress
            )
            self._adopt(index, self._manifest_signature())
            self._last_report = index.build_report
            self._pending = None
        return index.build_report


def describe_pending(articles_dir: Path, index: Index) -> str | None:
    """Compare the articles on disk with the index; None when the index is current.

    Reads the files but cleans only those whose bytes differ from the indexed ones (no
    embedding), so it is cheap enough for start-up (docs/benchmarks.md).
    """
    try:
        articles, _ = load_articles(articles_dir, index.stored.articles)
    except ArticlesError as err:
        return f"Artikelordner / Articles folder: {err}"
    indexed = index.manifest.articles
    on_disk = {a.id: a.content_hash for a in articles}
    new_or_changed = sum(1 for aid, h in on_disk.items() if indexed.get(aid) != h)
    removed = sum(1 for aid in indexed if aid not in on_disk)
    if not (new_or_changed or removed):
        return None
    return (
        f"{new_or_changed} neue oder geänderte und {removed} entfernte Artikel sind noch nicht "
        f"im Index – „Index aktualisieren“ klicken. / {new_or_changed} new or changed and "
        f"{removed} removed articles are not indexed yet – click “Update index”."
    )
