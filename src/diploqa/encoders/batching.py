"""Questions asked at the same time, encoded in one model call.

A model call for one short question is mostly fixed cost (each layer's weights read, each
operation dispatched), so a server answering many people at once spends most of its CPU on
that cost, once per question. :class:`Batcher` lets concurrent callers share it: a caller that
finds the model idle runs its own question at once, exactly as if it were alone; callers that
arrive while a call runs wait, and the next of them runs all the waiting questions in one
batch. Nobody waits for a batch to fill, so a lone question costs what it did.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Slot(Generic[Item, Result]):
    """One caller's question, and what came of it."""

    __slots__ = ("batch", "error", "item", "ready", "result")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.ready = threading.Event()
        self.batch: list[_Slot] | None = None  # set when this caller is to run the next batch
        self.result: Result | None = None
        self.error: BaseException | None = None


class Batcher(Generic[Item, Result]):
    """``batcher(item)`` is ``run([item])[0]``, with concurrent calls joined into one ``run``.

    One ``run`` at a time; at most ``max_batch`` items in it. The caller that starts a batch
    runs it on its own thread (no hand-over to a worker when alone). Where ``run`` raises
    for a batch, its items are run one by one, and each caller gets its own result or error.
    """

    def __init__(self, run: Callable[[list[Item]], Sequence[Result]], max_batch: int = 8) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        self._run = run
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: deque[_Slot] = deque()
        self._busy = False
        #: How many items each ``run`` got (the last 1,000), for benchmarks and tests.
        self.sizes: deque[int] = deque(maxlen=1000)

    def __call__(self, item: Item) -> Result:
        slot: _Slot = _Slot(item)
        with self._lock:
            if self._busy:
                self._waiting.append(slot)
                batch = None
            else:
                self._busy = True
                batch = [slot]
        if batch is None:
            try:
                slot.ready.wait()
            except BaseException:  # Ctrl-C in a waiting thread: the others must go on
                self._abandon(slot)
                raise
            batch = slot.batch
        if batch is not None:
            self._run_batch(batch)
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _abandon(self, slot: _Slot) -> None:
        """Take back a waiting caller that will not run its part: out of the queue, or, if
        it was to run the next batch, that batch handed to the next of its callers (or, if
        it had no others, the batch after it)."""
        with self._lock:
            if slot in self._waiting:
                self._waiting.remove(slot)
                return
            batch, slot.batch = slot.batch, None
            if batch is None:
                return  # in a batch another caller runs: its result is left unread
            runner = self._hand_on([other for other in batch if other is not slot])
        if runner is not None:
            runner.ready.set()

    def _hand_on(self, following: list[_Slot]) -> _Slot | None:
        """With the lock held: the caller who is to run ``following`` next, or, where it is
        empty, the callers waiting longest (at most ``max_batch``); None when no one waits,
        and the model is then idle. The caller returned must be woken (``ready``)."""
        if not following:
            size = min(self.max_batch, len(self._waiting))
            following = [self._waiting.popleft() for _ in range(size)]
        if not following:
            self._busy = False
            return None
        following[0].batch = following
        return following[0]

    def _settle(self, batch: list[_Slot]) -> None:
        """Each caller's result or error. Where a batch fails, its items are run again one
        by one, so that a question the model cannot encode fails only its own search."""
        try:
            results = self._run([slot.item for slot in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} gave {len(results)} results")
        except Exception as err:
            if len(batch) == 1:
                batch[0].error = err
            else:
                for slot in batch:
                    self._settle([slot])
            return
        except BaseException as err:  # Ctrl-C, exit: no second try, every caller learns of it
            for slot in batch:
                slot.error = err
            return
        for slot, result in zip(batch, results, strict=True):
            slot.result = result

    def _run_batch(self, batch: list[_Slot]) -> None:
        """Run ``batch``, give each caller its result, and hand the next batch to one of
        the callers waiting (or mark the model idle)."""
        self.sizes.append(len(batch))
        try:
            self._settle(batch)
        finally:
            with self._lock:
                runner = self._hand_on([])
            for slot in batch[1:]:
                slot.ready.set()
            if runner is not None:
                runner.ready.set()
