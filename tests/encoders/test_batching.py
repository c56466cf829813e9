"""Concurrent questions joined into one model call (:mod:`diploqa.encoders.batching`)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import wait_until_queued

from diploqa.encoders.batching import Batcher


class Gated:
    """A batch function that records its batches and holds the first one until the test has
    the others waiting."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail_on = fail_on

    def __call__(self, items: list[str]) -> list[str]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.entered.set()
            assert self.release.wait(30)
        if self.fail_on in items:
            raise ValueError(f"cannot encode {self.fail_on}")
        return [item.upper() for item in items]


def test_a_lone_call_runs_at_once_on_the_callers_thread():
    threads = []

    def run(items):
        threads.append(threading.current_thread())
        return [item * 2 for item in items]

    batcher = Batcher(run)
    assert batcher(3) == 6 and batcher(4) == 8
    assert threads == [threading.current_thread()] * 2 and list(batcher.sizes) == [1, 1]


def test_callers_that_arrive_during_a_call_share_the_next_one_each_with_its_own_result():
    run = Gated()
    batcher = Batcher(run, max_batch=3)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(batcher, "a")
        assert run.entered.wait(30)
        rest = {item: pool.submit(batcher, item) for item in "bcdefg"}
        wait_until_queued(batcher, 6)
        run.release.set()
        assert first.result(30) == "A"
        assert {item: f.result(30) for item, f in rest.items()} == {i: i.upper() for i in "bcdefg"}
    # the first alone, then the six waiting in arrival order, three at a time
    assert run.batches[0] == ["a"] and [len(b) for b in run.batches[1:]] == [3, 3]
    assert sorted(run.batches[1] + run.batches[2]) == list("bcdefg")
    assert list(batcher.sizes) == [1, 3, 3]


def test_a_question_that_fails_fails_only_its_own_caller_and_the_next_call_works():
    """One reader's question that the model cannot encode must not fail the others asked at
    the same moment: the failed batch is run again one by one."""
    run = Gated(fail_on="c")
    batcher = Batcher(run, max_batch=8)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher, "a")
        assert run.entered.wait(30)
        b, c = pool.submit(batcher, "b"), pool.submit(batcher, "c")
        wait_until_queued(batcher, 2)
        run.release.set()
        assert first.result(30) == "A" and b.result(30) == "B"
        with pytest.raises(ValueError, match="cannot encode c"):
            c.result(30)
    assert sorted(run.batches[1]) == ["b", "c"] and sorted(run.batches[2:]) == [["b"], ["c"]]
    assert batcher("d") == "D" and not batcher._busy


def test_an_interrupt_in_the_model_reaches_every_caller_of_the_batch_without_a_second_try():
    calls = []

    def run(items):
        calls.append(list(items))
        raise KeyboardInterrupt

    batcher = Batcher(run)
    with pytest.raises(KeyboardInterrupt):
        batcher("a")
    assert calls == [["a"]] and not batcher._busy


def test_a_batch_function_that_loses_results_is_an_error_not_a_wrong_answer():
    batcher = Batcher(lambda items: items[:-1])
    with pytest.raises(RuntimeError, match="a batch of 1 gave 0 results"):
        batcher("a")
    with pytest.raises(ValueError, match="max_batch must be at least 1"):
        Batcher(lambda items: items, max_batch=0)


@pytest.mark.parametrize("when", ["queued", "chosen to run the next batch"])
def test_a_caller_interrupted_while_waiting_leaves_the_others_answered(when, monkeypatch):
    """Ctrl-C reaches a thread waiting for its batch: it raises there, and every other
    caller still gets its answer, also when the interrupted one was to run their batch."""
    from diploqa.encoders import batching

    run = Gated()
    batcher = Batcher(run, max_batch=8)
    real_slot = batching._Slot

    class Interrupted(real_slot):
        def __init__(self, item):
            super().__init__(item)
            if item == "b":
                wait = self.ready.wait

                def interrupted(timeout=None):
                    if when == "chosen to run the next batch":
                        wait()  # woken as the next batch's runner
                    raise KeyboardInterrupt

                self.ready.wait = interrupted

    monkeypatch.setattr(batching, "_Slot", Interrupted)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher, "a")
        assert run.entered.wait(30)
        b = pool.submit(batcher, "b")
        if when == "queued":
            with pytest.raises(KeyboardInterrupt):
                b.result(30)
        else:
            wait_until_queued(
                batcher, 1
            )  # b first in the queue: it will be chosen to run the batch
        c, d = pool.submit(batcher, "c"), pool.submit(batcher, "d")
        wait_until_queued(batcher, 2)
        run.release.set()
        assert [first.result(30), c.result(30), d.result(30)] == ["A", "C", "D"]
        with pytest.raises(KeyboardInterrupt):
            b.result(30)
    assert run.batches[1] == ["c", "d"]  # b's part was never run
    assert batcher("e") == "E" and not batcher._busy and not batcher._waiting
