"""Watch an articles folder: file events become "the folder changed, and has settled" calls.

:class:`FolderWatcher` turns the file system's events (through ``watchfiles``) into calls of
``on_change(changes)``, one per settled batch, with the article files added, changed and
removed since the last call. It knows nothing about indexes; ``diploqa index --watch`` and
``diploqa serve --watch`` pass a callback that brings the index up to date.

Choices and why:

* **What counts**: the files :func:`~diploqa.articles.article_files` lists (article suffixes,
  any case; nothing hidden). Events are only a trigger: what changed is decided by comparing
  two :func:`folder_snapshot` results (name → size, modification time, inode), so an ignored
  file never triggers a call, a save that changes nothing is no change, and an event the
  operating system dropped is caught by the next comparison (one runs every
  :data:`RESCAN_SECONDS` even without events). A folder moved in or out counts through the
  snapshot, although no event names the files inside it.
* **Settling**: a file being copied or written in chunks must not be read half-way. After an
  event the folder is compared again every ``settle`` seconds until two snapshots agree;
  only then is ``on_change`` called. After the call the folder is compared once more, so a
  change made while the callback ran (a build takes seconds to minutes) is handed over next.
* **No loss on a kill**: the watcher keeps no state on disk. A callback that is killed
  half-way (the build is atomic) leaves the old index, and the next start compares the
  folder with the index afresh.
* **Errors in the callback** are logged and watching goes on: the next change retries.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath

from watchfiles import Change, watch

from .articles import ARTICLE_SUFFIXES, article_files
from .config import WatchSettings

log = logging.getLogger(__name__)

#: The folder is compared even without events this often (seconds): a safety net for events
#: the operating system dropped (inotify queue overflow) or never sends (some network mounts;
#: ``WATCHFILES_FORCE_POLLING=1`` makes watchfiles poll there instead).
RESCAN_SECONDS = 30.0
#: How often the watcher wakes without events (seconds). The first wake compares the folder
#: once more: a file written between the start's comparison and the moment the operating
#: system's watch was in place has no event, and would otherwise wait for the rescan.
WAKE_SECONDS = 1.0
#: How long the folder must be quiet before watchfiles hands over a group of events (ms).
STEP_MS = 50

#: Article id (path below the folder, POSIX separators) → (size, mtime in ns, inode).
Snapshot = Mapping[str, tuple[int, int, int]]


@dataclass(frozen=True)
class FolderChanges:
    """Article files added, changed and removed since the last call, by id, sorted."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    initial: bool = False  # the first call of a watcher that was given no earlier snapshot

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.initial)

    @classmethod
    def between(cls, before: Snapshot | None, after: Snapshot) -> FolderChanges:
        if before is None:
            return cls(added=tuple(sorted(after)), initial=True)
        return cls(
            added=tuple(sorted(set(after) - set(before))),
            changed=tuple(sorted(k for k in after if k in before and after[k] != before[k])),
            removed=tuple(sorted(set(before) - set(after))),
        )


def folder_snapshot(root: str | Path) -> dict[str, tuple[int, int, int]]:
    """Size, modification time and inode of every article file below ``root``.

    A missing folder is an empty snapshot; a file that vanishes while it is listed is left
    out.
    """
    root = Path(root)
    snapshot: dict[str, tuple[int, int, int]] = {}
    for path in article_files(root):
        try:
            info = path.stat()
        except OSError:
            continue
        snapshot[path.relative_to(root).as_posix()] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return snapshot


class ArticleEventFilter:
    """watchfiles filter: events that may concern an article file below ``root``.

    Hidden files and anything in hidden folders are ignored, and so are files whose suffix is
    not an article suffix. Folders pass (one moved in brings articles without an event per
    file), and so does the deletion of a suffix-less name (it may have been a folder).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = os.path.abspath(root)

    def __call__(self, change: Change, path: str) -> bool:
        relative = os.path.relpath(os.path.abspath(path), self.root)
        if relative == ".":
            return True  # the folder itself (deleted, moved, replaced)
        parts = PurePath(relative).parts
        if parts[0] == ".." or any(part.startswith(".") for part in parts):
            return False
        name = parts[-1]
        if name.lower().endswith(ARTICLE_SUFFIXES):
            return True
        if os.path.isdir(path):
            return True
        return change == Change.deleted and not PurePath(name).suffix


class FolderWatcher:
    """Calls ``on_change`` once per settled batch of article file changes below ``root``.

    Args:
        root: The articles folder (must exist when :meth:`run` starts).
        on_change: Called in the thread that runs :meth:`run`, with what changed since the
            previous call; never twice at once.
        settings: How long the folder must settle and events are grouped
            (``DIPLOQA_WATCH_SETTLE``, ``DIPLOQA_WATCH_DEBOUNCE_MS``; default
            :class:`~diploqa.config.WatchSettings`).
        settle: Seconds the article files must stay unchanged before ``on_change`` is called
            (default the settings').
        debounce_ms: Longest time events are grouped (default the settings').
        stop_event: Set it (from any thread) to end :meth:`run` within about 50 ms, or
            after the running callback returns; :meth:`stop` does the same.
    """

    def __init__(
        self,
        root: str | Path,
        on_change: Callable[[FolderChanges], object],
        *,
        settings: WatchSettings | None = None,
        settle: float | None = None,
        debounce_ms: int | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.root = Path(root).absolute()
        self.on_change = on_change
        settings = settings or WatchSettings()
        self.settle = settings.settle_seconds if settle is None else settle
        self.debounce_ms = settings.debounce_ms if debounce_ms is None else debounce_ms
        self.stop_event = stop_event or threading.Event()
        self.calls = 0

    def stop(self) -> None:
        self.stop_event.set()

    def run(self, since: Snapshot | None = None) -> None:
        """Watch until stopped; blocks.

        Args:
            since: What the caller last saw of the folder (:func:`folder_snapshot`, taken
                *before* it read the folder, e.g. before an initial build). Changes since are
                handed over at once. None: call ``on_change`` once at start in any case (with
                ``initial=True``), after the folder settled.

        Raises:
            KeyboardInterrupt: Ctrl-C while watching in the main thread.
            FileNotFoundError: ``root`` does not exist.
        """
        if not self.root.is_dir():
            raise FileNotFoundError(f"articles folder not found: {self.root}")
        baseline = self._catch_up(since, force=since is None)
        if baseline is None:
            return
        events = watch(
            self.root,
            watch_filter=ArticleEventFilter(self.root),
            debounce=self.debounce_ms,
            step=STEP_MS,
            stop_event=self.stop_event,
            rust_timeout=int(WAKE_SECONDS * 1000),
            yield_on_timeout=True,  # an empty batch on each wake: compare when it is time
            raise_interrupt=True,
        )
        compared = None  # not yet since the operating system's watch is in place
        for changes in events:
            if self.stop_event.is_set() or baseline is None:
                return
            if changes:
                log.debug("file events: %s", sorted(path for _, path in changes))
            elif compared is not None and time.monotonic() - compared < RESCAN_SECONDS:
                continue
            baseline = self._catch_up(baseline)
            compared = time.monotonic()

    def _catch_up(self, baseline: Snapshot | None, force: bool = False) -> Snapshot | None:
        """Hand over what changed since ``baseline`` once the folder settled, and again
        until nothing changed during a call. Returns the new baseline (None: stopped)."""
        current = folder_snapshot(self.root)
        while force or current != baseline:
            settled = self._settled(current)
            if settled is None:
                return None
            changes = FolderChanges.between(None if force else baseline, settled)
            force = False
            if changes:
                self._call(changes)
            baseline = settled
            if self.stop_event.is_set():
                return None
            current = folder_snapshot(self.root)  # anything that changed during the call
        return baseline

    def _settled(self, current: Snapshot) -> Snapshot | None:
        """Wait until two snapshots ``settle`` seconds apart agree; None if stopped."""
        while True:
            if self.stop_event.wait(self.settle):
                return None
            again = folder_snapshot(self.root)
            if again == current:
                return current
            current = again

    def _call(self, changes: FolderChanges) -> None:
        self.calls += 1
        log.info(
            "articles changed: %d added, %d changed, %d removed",
            len(changes.added),
            len(changes.changed),
            len(changes.removed),
        )
        try:
            self.on_change(changes)
        except Exception:
            log.exception("handling a change of %s failed; watching goes on", self.root)
