"""Searches in flight on the live index, and the gate that background work yields at.

A check of the standing questions (:mod:`diploqa.alerts.check`) runs on a thread of its own
at the lowest CPU priority, but no CPU priority takes Python's interpreter lock from it:
between its numpy and FAISS calls it competes with searches for that lock, and searches
answered meanwhile take longer (docs/benchmarks.md, "Standing questions: what matching
costs"). So every search of the server counts itself in flight here
(:meth:`SearchActivity.searching`), and the check waits between its steps (one question's
ranking, one call that encodes questions, one slice of bounds) until none is
(:meth:`SearchActivity.pause`).

A step taken the moment a search ends still runs into the next search when searches come
every few tens of milliseconds (a step is about as long as a search), so the check also waits
for :data:`QUIET_SECONDS` without a search before each step. The wait is bounded by
:data:`YIELD_LIMIT_SECONDS`: under a stream of searches that never pauses, the check still
takes one step per bound, so it is slowed (its answers come later), never starved.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

#: The longest a background step waits for the searches in flight to end; then it runs
#: beside them (one step, then it waits again).
YIELD_LIMIT_SECONDS = 1.0
#: How long no search must have been answered before a background step starts: longer than
#: one step (one question's ranking), so a step begun in a gap between searches ends in it.
QUIET_SECONDS = 0.1


class SearchActivity:
    """How many searches are being answered now, owned by the server's
    :class:`~.live.IndexHolder` (:attr:`~.live.IndexHolder.searches`); ``limit``: the bound
    of one :meth:`pause` (default :data:`YIELD_LIMIT_SECONDS`)."""

    def __init__(self, limit: float = YIELD_LIMIT_SECONDS, quiet: float = QUIET_SECONDS) -> None:
        if not limit >= 0:
            raise ValueError(f"the yield limit must be 0 or more seconds, not {limit!r}")
        if not quiet >= 0:
            raise ValueError(f"the quiet time must be 0 or more seconds, not {quiet!r}")
        self.limit, self.quiet = limit, quiet
        self._changed = threading.Condition()
        self._in_flight = 0
        self._last_end = float("-inf")  # when the last search ended (time.monotonic)
        #: Pauses so far, and those that ran out of time (a search was still in flight).
        self.pauses = 0
        self.overruns = 0

    @property
    def in_flight(self) -> int:
        """Searches being answered now."""
        return self._in_flight

    @contextlib.contextmanager
    def searching(self) -> Iterator[None]:
        """Held while one search is answered (from picking up the index to the last byte of
        its answer): background work waits meanwhile."""
        with self._changed:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= 1
                self._last_end = time.monotonic()
                if not self._in_flight:
                    self._changed.notify_all()

    def wait_quiet(self, timeout: float | None = None) -> bool:
        """Wait until no search is in flight and none ended in the last :attr:`quiet`
        seconds, at most ``timeout`` seconds (None: as long as it takes); False if it is
        not quiet by then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                now = time.monotonic()
                wait = None if self._in_flight else self._last_end + self.quiet - now
                if wait is not None and wait <= 0:
                    return True
                if deadline is not None:
                    if now >= deadline:
                        return False
                    wait = deadline - now if wait is None else min(wait, deadline - now)
                self._changed.wait(wait)

    def pause(self) -> float:
        """Between two steps of background work: wait until no search is in flight or ended
        in the last :attr:`quiet` seconds, at most :attr:`limit` seconds. Returns the seconds
        waited."""
        started = time.monotonic()
        quiet = self.wait_quiet(self.limit)
        with self._changed:
            self.pauses += 1
            self.overruns += not quiet
        return time.monotonic() - started
