"""Why a build cannot run at e5's own speed, and whether the search scales over threads.

* **rates**: ``--sample`` random passages of an index, per round, encoded by e5 alone, by USE
  alone (one thread) and by the pair a build runs (USE on a thread beside e5), in turn; the
  medians over ``--rounds``. Two cores give the pair at most ``2 / (cpu_e5 + cpu_use)``
  passages per second, printed beside them.
* **threads**: ``Index.search`` on 1, 2, 4 and 16 threads (distinct XQuAD questions), answers
  per second against one after the other: what the search alone allows a server.

It prints the CPU, its flags and the runtime ``auto`` picks first.

Usage: ``python benchmarks/encoder_bound.py --index <index> --xquad ../shared/data/xquad``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from cpu_runtimes import choice_line  # benchmarks/cpu_runtimes.py
from question_batches import search_rate  # benchmarks/question_batches.py


def rates(index, sample: int, rounds: int) -> None:
    encoder = index.encoder
    chunks = [c.text for c in index.stored.chunks if c.kind == "passage"]
    steps = {
        "e5 alone": encoder.primary.encode_passages,
        "USE alone (one thread)": encoder.secondary.encode,
        "e5 + USE (a build's encoder)": encoder.encode_passages,
    }
    encoder.encode_passages(chunks[:32])
    rng = np.random.default_rng(1)
    per_s: dict[str, list[float]] = {name: [] for name in steps}
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        texts = [chunks[i] for i in rng.choice(len(chunks), sample, replace=False)]
        for name, encode in steps.items():
            wall, used = time.perf_counter(), time.process_time()
            encode(texts)
            per_s[name].append(sample / (time.perf_counter() - wall))
            cpu[name].append(1000 * (time.process_time() - used) / sample)
    for name in steps:
        print(f"{name:30s} {np.median(per_s[name]):6.1f} passages/s, "
              f"{np.median(cpu[name]):5.1f} core-ms each")  # fmt: skip
    both = np.median(cpu["e5 alone"]) + np.median(cpu["USE alone (one thread)"])
    cores = os.cpu_count() or 1
    print(f"bound for the pair on {cores} cores: {1000 * cores / both:.1f} passages/s")


def threads(index, xquad: Path) -> None:
    questions = []
    for lang in ("de", "en"):
        data = json.loads((xquad / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
        questions += [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
    for q in questions[:30]:
        index.search(q, 5)
    at = [30]

    def rate(n: int, workers: int) -> float:
        batch, at[0] = questions[at[0] : at[0] + n], at[0] + n
        return search_rate(index, batch, workers)[0]

    rate(80, 16)  # warm-up: every padded length of a batch compiled once
    for _ in range(2):
        one = rate(60, 1)
        line = ", ".join(f"{w} threads {rate(160, w):.1f}/s" for w in (2, 4, 16))
        print(f"one after the other {one:.1f}/s; {line}; load {os.getloadavg()[0]:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--xquad", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=192)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import diploqa

    print(choice_line())
    index = diploqa.load_index(args.index)
    index.warm()
    rates(index, args.sample, args.rounds)
    threads(index, args.xquad)
    return 0


if __name__ == "__main__":
    sys.exit(main())
