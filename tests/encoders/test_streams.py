"""Passage batches on parallel streams: which rows go together, and how they are run."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from diploqa.encoders.streams import length_batches, run_batches


def test_batches_hold_every_row_once_longest_first():
    texts = ["aa", "a", "aaaa", "aaa", "", "aaaaa", "aa"]
    batches = length_batches(texts, 3)
    assert [len(b) for b in batches] == [3, 3, 1]
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(len(texts)))
    lengths = [len(texts[i]) for i in rows]
    assert lengths == sorted(lengths, reverse=True)
    assert rows.tolist()[3:5] == [0, 6]  # equal lengths keep their order
    assert length_batches([], 16) == []
    assert [len(b) for b in length_batches(texts, 0)] == [1] * len(texts)  # at least one


def test_one_stream_runs_on_the_callers_thread():
    seen = []
    run_batches([np.array([0]), np.array([1, 2])], lambda rows: seen.append(
        (threading.current_thread(), rows.tolist())), streams=1)  # fmt: skip
    assert seen == [(threading.current_thread(), [0]), (threading.current_thread(), [1, 2])]


def test_two_streams_run_two_batches_at_once():
    """Each batch waits for another to be running: one at a time would never get past it."""
    meeting = threading.Barrier(2, timeout=10)
    done = []

    def work(rows: np.ndarray) -> None:
        meeting.wait()
        done.append(int(rows[0]))

    run_batches([np.array([i]) for i in range(6)], work, streams=2)
    assert sorted(done) == list(range(6))


def test_an_error_is_raised_and_the_batches_not_started_are_left():
    started = []

    def work(rows: np.ndarray) -> None:
        started.append(int(rows[0]))
        if rows[0] == 0:
            raise ValueError("batch 0 failed")
        threading.Event().wait(0.05)

    with pytest.raises(ValueError, match="batch 0 failed"):
        run_batches([np.array([i]) for i in range(40)], work, streams=2)
    assert len(started) < 40
