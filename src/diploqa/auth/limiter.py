"""Back-off for failed sign-ins and bad tokens, per client address and per user name.

The first few failures cost nothing (people mistype); each one after that doubles the wait
before the next attempt is even looked at, up to a cap. Counting per address slows one
guesser; counting per user name slows many addresses guessing one account (at the price
that they can make that user wait too, at most the cap). A success clears its keys;
failures older than the window are forgotten.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Keys tracked at most; the oldest are dropped beyond this (memory stays bounded).
MAX_KEYS = 100_000


@dataclass
class _Record:
    failures: int
    last: float
    blocked_until: float


class Backoff:
    def __init__(
        self,
        free: int = 5,
        base: float = 1.0,
        cap: float = 300.0,
        window: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.base, self.cap, self.window = free, base, cap, window
        self._clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def wait(self, *keys: str) -> float:
        """Seconds before another attempt for these keys is allowed (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [r.blocked_until - now for k in keys if (r := self._records.get(k))]
        return max([0.0, *waits])

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                record = self._records.pop(key, None)
                if record is None or now - record.last > self.window:
                    record = _Record(0, now, now)
                record.failures += 1
                record.last = now
                over = record.failures - self.free
                if over > 0:
                    record.blocked_until = now + min(self.cap, self.base * 2 ** (over - 1))
                self._records[key] = record  # re-inserted: dict order is least recent first
            while len(self._records) > MAX_KEYS:
                del self._records[next(iter(self._records))]

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._records.pop(key, None)
