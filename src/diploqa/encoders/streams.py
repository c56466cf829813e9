"""Passage batches on parallel streams: how a build keeps every core busy with its encoders.

OpenVINO's latency model runs one batch on every core, and its threads meet after each layer:
whatever else runs on a core (USE beside e5, the pooling of the last batch) makes the other
core wait at that meeting. A model compiled for throughput instead runs one batch per stream,
one stream per core, each on one thread with nothing to wait for. A build then hands each
worker a batch: e5 on a stream, then USE for the same batch on the same core, while the other
worker does the same with the next batch (docs/benchmarks.md, "Passage batches on streams").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: What the passage model is compiled with on top of the question model's properties: one
#: stream per core, one thread each, threads not pinned (pinned, two models' threads were put
#: on the same core while the other idled).
PASSAGE_PROPERTIES = {"PERFORMANCE_HINT": "THROUGHPUT", "ENABLE_CPU_PINNING": False}
#: Calls with fewer batches than this stay on the question model: a short call (a few new
#: passages, the timeline's background) is faster on all cores at once, and a server that
#: never builds does not compile the passage model.
MIN_BATCHES = 4


def length_batches(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Rows of ``texts`` in batches of ``batch_size``, longest first, so that each batch
    holds texts of similar length and little padding is computed."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    step = max(1, batch_size)
    return [order[start : start + step] for start in range(0, len(texts), step)]


def run_batches(
    batches: Sequence[np.ndarray], work: Callable[[np.ndarray], None], streams: int
) -> None:
    """``work(rows)`` for every batch, ``streams`` at a time (on the caller's thread where
    ``streams`` is 1). The first error is raised once the batches running at that moment
    have finished; the others are not started."""
    if streams <= 1 or len(batches) <= 1:
        for rows in batches:
            work(rows)
        return
    pool = ThreadPoolExecutor(streams, thread_name_prefix="diploqa-stream")
    try:
        for future in [pool.submit(work, rows) for rows in batches]:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
