"""The live index: the one :class:`~diploqa.index.Index` every session searches, and how it is
swapped.

:class:`IndexHolder` keeps it. Whoever replaces it (an update here, :mod:`.updater`; a build
by another process) makes a complete new index first and swaps the reference under a lock; a
search that already picked up the old index finishes with it.

Reading :attr:`IndexHolder.index` costs nothing. An index committed by another process
(``diploqa index`` on the same folder) is picked up where a request asks for it explicitly:
:meth:`IndexHolder.latest` stats the manifest (one system call) and reloads when it was
replaced, so the next search answers from the new index.

It also counts the searches being answered (:attr:`IndexHolder.searches`), so that work in
the background (a check of the standing questions) can yield to them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..encoders import get_encoder
from ..errors import DiploqaError
from ..index import Index, load_index
from ..store import StoreAddress, location_of
from . import messages
from .activity import SearchActivity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildState:
    """How far the running update got, or how the last one ended (replaced, never edited)."""

    running: bool = False
    done: int = 0  # passages embedded so far
    total: int = 0  # passages to embed; 0 until the articles are read (or nothing to embed)
    error: str | None = None  # why the last update failed; cleared by the next one

    def describe(self) -> str | None:
        """One line for the status area: progress, or the last failure; None when idle."""
        return messages.describe_build(self)


class IndexHolder:
    """The live index shared by every session, and how to replace it.

    Reading :attr:`index` is free and never blocks on an update: a replacement is complete
    before the reference is swapped, so a search sees either the old or the new index, never
    a half-built one. Replacements are serialised by :meth:`replacing` (and across processes
    by the store's build lock).

    ``settings``: what every index it loads or builds is made with, and what the server around
    it takes (:attr:`settings`); default :meth:`Settings.from_env()
    <diploqa.config.Settings.from_env>`. ``store``: as ``--store`` (default the settings').
    """

    def __init__(
        self,
        index_dir: str | Path,
        store: str | StoreAddress | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        #: The settings, resolved once: the server's parts read what they need from here.
        self.settings = (settings or Settings.from_env()).overridden(index=index_dir, store=store)
        #: Where the index lives: the folder, or a Milvus store (``--store``); every index this
        #: holder loads or builds shares it (and its Milvus client).
        self.location = location_of(self.settings)
        self.store = store
        self._index: Index | None = None
        self._problem: str | None = messages.NO_INDEX_TEXT
        self._build = BuildState()
        self._signature: object = None  # of the manifest we serve
        self._on_reload: list[Callable[[Index], object]] = []
        self._on_live: list[Callable[[Index], object]] = []
        self._swap_lock = threading.Lock()
        self._replace_lock = threading.Lock()
        #: The searches being answered from this holder's index: every search of the server
        #: enters it (:mod:`.handlers`); background work waits at its
        #: :meth:`~.activity.SearchActivity.pause`.
        self.searches = SearchActivity()

    @property
    def index(self) -> Index | None:
        """The current index, or None while there is none (see :attr:`problem`). No I/O:
        a request that should see another process's commit calls :meth:`latest`."""
        return self._index

    def latest(self) -> Index | None:
        """:attr:`index`, after picking up an index another process committed meanwhile
        (:meth:`refresh`): what a search or a status request starts from."""
        self.refresh()
        return self._index

    @property
    def problem(self) -> str | None:
        """Why there is no usable index (missing or unreadable, being built, or its build
        failed), else None."""
        problem = self._problem
        if problem is not None:
            if self._build.running:
                return messages.BUILDING_TEXT
            if self._build.error:
                return messages.build_failed(self._build.error)
        return problem

    @property
    def build(self) -> BuildState:
        """The running update's progress, or how the last one ended."""
        return self._build

    def report_build(self, state: BuildState) -> None:
        """What the update replacing this index is doing (:class:`~.updater.Updater`)."""
        self._build = state

    def on_reload(self, listener: Callable[[Index], object]) -> None:
        """Call ``listener`` (on a thread of its own) with each index another process
        committed, once it is live."""
        self._on_reload.append(listener)

    def on_live(self, listener: Callable[[Index], object]) -> None:
        """Call ``listener`` with every index that goes live, built here or by another
        process, right after the swap (on the thread that swapped it: it must return at once,
        e.g. by waking a thread of its own)."""
        self._on_live.append(listener)

    @contextlib.contextmanager
    def replacing(self) -> Iterator[None]:
        """Held while an index replacing this one is made: a reload of another process's
        index waits for the next request meanwhile (searches go on with the current one)."""
        with self._replace_lock:
            yield

    def _manifest_signature(self) -> object:
        """Identity of the manifest on disk: a build replaces it (new inode), never edits it
        (for Milvus: the collection the alias names). None: no index, or the store does not
        answer (the current index keeps answering)."""
        try:
            return self.location.signature()
        except DiploqaError as err:
            log.warning("cannot check the index for updates: %s", err)
            return None

    def install(self, index: Index) -> None:
        """Serve ``index``, just built by this process."""
        self._adopt(index, self._manifest_signature())

    def _adopt(self, index: Index, signature: object) -> None:
        """Serve ``index``. ``signature`` (taken before it was loaded) is remembered only if
        it is still that index's manifest; otherwise the next check reloads (harmless).
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
        for listener in self._on_live:
            listener(index)

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
        if not self._replace_lock.acquire(blocking=False):
            return False
        try:
            signature = self._manifest_signature()
            if signature is None or signature == self._signature:
                return False
            current = self._index
            try:
                index = load_index(
                    self.index_dir,
                    store=self.location,
                    previous=current.stored if current is not None else None,
                    settings=self.settings,
                )
            except DiploqaError as err:
                log.warning("the index on disk changed but cannot be loaded: %s", err)
                if self._index is None:
                    self._problem = messages.unreadable_index(err)
                self._signature = signature  # retried when the manifest changes again
                return False
            self._adopt(index, signature)
            log.info("loaded the index another process committed in %s", index.path)
        finally:
            self._replace_lock.release()
        for listener in self._on_reload:
            threading.Thread(target=listener, args=(index,), daemon=True).start()
        return True

    def load(self, model: bool = True) -> None:
        """Load the index once at start-up; never build (that is :mod:`.updater`'s).

        A missing or unreadable index is not an error here: the UI starts and says how to
        build one. With ``model`` the model is loaded anyway, so that the first build does not
        wait for it (``diploqa serve`` leaves that to the build it starts in the background).
        """
        try:  # a store that does not answer (down, token refused) says why, not "no index"
            signature = self.location.signature()
        except DiploqaError as err:
            signature, self._problem = None, messages.unreadable_index(err)
            log.warning("cannot load the index: %s", err)
        else:
            if signature is None:
                self._problem = messages.NO_INDEX_TEXT
        if signature is None:
            if model:
                get_encoder(settings=self.settings.encoder)
            return
        try:
            index = load_index(self.index_dir, store=self.location, settings=self.settings)
        except DiploqaError as err:
            self._problem = messages.unreadable_index(err)
            self._signature = signature
            log.warning("cannot load the index: %s", err)
            if model:
                get_encoder(settings=self.settings.encoder)
            return
        self._adopt(index, signature)
