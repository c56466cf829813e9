"""What a question costs e5 alone and in a batch, and searches from many threads at once.

Two measurements on an existing index, in one process:

1. e5's cost per question when ``n`` questions share one call (``n`` = 1, 2, 4, 8, 16;
   distinct XQuAD questions of a similar length, the latency-compiled model, as the search
   runs it), wall time and CPU: why concurrent questions are batched
   (:mod:`diploqa.encoders.batching`).
2. ``Index.search`` one question after another on one thread, then from 4 and 16 threads
   (distinct questions throughout), with the sizes of the e5 batches that formed.

Usage: ``python benchmarks/question_batches.py --index DIR [--xquad ../shared/data/xquad]``;
with ``PYTHONPATH=<another tree>/src`` it measures that tree (before the batching: the search
rates alone).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cpu_runtimes import choice_line  # benchmarks/cpu_runtimes.py: the CPU, its flags, auto

REPO = Path(__file__).resolve().parents[1]


def xquad_questions(folder: Path) -> list[str]:
    out = []
    for lang in ("de", "en"):
        data = json.loads((folder / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
        out += [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
    random.Random(7).shuffle(out)
    return out


def batch_costs(model, questions: list[str], rounds: int) -> None:
    """e5 per question at each batch size: ``rounds`` calls each, after five to warm up."""
    at = 0
    for n in (1, 2, 4, 8, 16):
        calls, cpu = [], 0.0
        for i in range(5 + rounds):
            texts, at = questions[at : at + n], at + n
            t0, c0 = time.perf_counter(), time.process_time()
            model._encode_questions(texts)
            if i >= 5:
                calls.append(time.perf_counter() - t0)
                cpu += time.process_time() - c0
        call = statistics.median(calls) * 1e3
        print(
            f"e5, {n:2d} question(s) per call: call p50 {call:6.2f} ms, "
            f"{call / n:5.2f} ms and {cpu / (rounds * n) * 1e3:5.2f} core-ms per question"
        )


def search_rate(index, questions: list[str], workers: int) -> tuple[float, float]:
    """Searches per second and core-ms of CPU per search, ``questions`` asked from
    ``workers`` threads at once (1: one after another on this thread)."""
    t0, c0 = time.perf_counter(), time.process_time()
    if workers == 1:
        for q in questions:
            index.search(q, 5)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda q: index.search(q, 5), questions))
    wall = time.perf_counter() - t0
    return len(questions) / wall, (time.process_time() - c0) / len(questions) * 1e3


def search_rates(index, questions: list[str]) -> None:
    at = [0]

    def rate(n: int, workers: int) -> tuple[float, float]:
        batch, at[0] = questions[at[0] : at[0] + n], at[0] + n
        return search_rate(index, batch, workers)

    batcher = getattr(index.encoder.primary.model, "questions", None)  # None: code before it
    rate(100, 16)  # warm-up: every padded length of a batch compiled once
    for _ in range(2):  # 560 questions each
        if batcher is not None:
            batcher.sizes.clear()
        one = rate(80, 1)
        four, sixteen = rate(160, 4), rate(320, 16)
        print(
            f"one thread {one[0]:.1f}/s ({one[1]:.1f} core-ms per search); 4 threads "
            f"{four[0]:.1f}/s ({four[1]:.1f}); 16 threads {sixteen[0]:.1f}/s "
            f"({sixteen[1]:.1f}), {sixteen[0] / one[0]:.2f}× one thread; "
            f"load {os.getloadavg()[0]:.1f}"
        )
        if batcher is not None:
            sizes = Counter(batcher.sizes)
            print("  e5 calls by questions in them:", dict(sorted(sizes.items())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--xquad", type=Path, default=REPO.parent / "shared/data/xquad")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import diploqa

    print(choice_line())
    index = diploqa.load_index(args.index)
    index.warm()
    model = index.encoder.primary.model
    questions = xquad_questions(args.xquad)
    used = 31 * (5 + args.rounds)  # batch sizes 1 + 2 + 4 + 8 + 16 per round
    if hasattr(model, "_encode_questions"):
        batch_costs(model, questions[:used], args.rounds)
    else:  # another tree's code from before the batching: the rates alone
        print(f"{index.encoder.backend}: no batched question path; search rates only")
    search_rates(index, questions[used:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
