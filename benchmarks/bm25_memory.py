"""Memory of the in-process keyword index (BM25), which the Milvus store keeps beside the engine.

Real German news passages (``--data``: the shared ``news_de`` folder, every article cut into
600-character pieces); the index is built for a quarter, a half and all of them, and the
memory it holds (and the peak while building) is measured with ``tracemalloc``, which also
slows the build down: the build times are upper bounds. The per-passage cost is the slope
between the half and the whole.

With ``--sizes`` (e.g. ``100000 1000000``) it measures instead how long an update takes at
that size: passages of 3–6 real news sentences drawn at random (real words and lengths, almost
all distinct), the index built once (every passage split and stemmed), then built again after
an update that replaced 1 % of them (what diploqa does on every update: the passages seen
before reuse their words). Resident memory of the process after each step; no tracemalloc.

Usage: ``python benchmarks/bm25_memory.py --data ../shared/data/news_de [--sizes 100000 …]``
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import re
import time
import tracemalloc
from pathlib import Path

import numpy as np
import psutil

from diploqa.lexical import Bm25Index


def passages(data: Path) -> list[str]:
    texts = []
    csv.field_size_limit(1 << 24)
    with open(data / "10kgnad" / "test.csv", encoding="utf-8", newline="") as fh:
        texts += [row[1] for row in csv.reader(fh, delimiter=";", quotechar="'") if len(row) >= 2]
    with open(data / "dewikinews_quotes" / "articles.jsonl", encoding="utf-8") as fh:
        texts += [json.loads(line).get("text", "") for line in fh]
    return [t[i : i + 600] for t in texts for i in range(0, len(t), 600)]


def made_up(sentences: list[str], n: int, seed: int) -> list[str]:
    """``n`` passages of 3–6 sentences drawn at random from ``sentences``."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(3, 7, n)
    picks = rng.integers(0, len(sentences), int(counts.sum()))
    out, at = [], 0
    for c in counts:
        out.append(" ".join(sentences[i] for i in picks[at : at + c]))
        at += c
    return out


def rebuilds(corpus: list[str], sizes: list[int]) -> None:
    sentences = [s for p in corpus for s in re.split(r"(?<=[.!?])\s+", p) if len(s) > 20]
    print(f"{len(sentences):,} real sentences; {os.getloadavg()[0]:.1f} load average")
    for n in sizes:
        texts = made_up(sentences, n, seed=n)
        gc.collect()
        base = psutil.Process().memory_info().rss / 2**20
        started = time.perf_counter()
        index = Bm25Index(texts, dictionary=None)
        first = time.perf_counter() - started
        held = psutil.Process().memory_info().rss / 2**20 - base
        texts[: n // 100] = made_up(sentences, n // 100, seed=n + 1)  # an update: 1 % new
        started = time.perf_counter()
        index = Bm25Index(texts, dictionary=None)
        again = time.perf_counter() - started
        del index
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"{n:,} passages (mean {np.mean([len(t) for t in texts]):.0f} characters): first "
            f"build {first:.0f} s, rebuild after 1 % changed {again:.0f} s; resident memory "
            f"+{held:,.0f} MB after the first build; load average {load}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    args = parser.parse_args()
    corpus = passages(args.data)
    if args.sizes:
        rebuilds(corpus, args.sizes)
        return
    held = {}
    for n in (len(corpus) // 4, len(corpus) // 2, len(corpus)):
        gc.collect()
        tracemalloc.start()
        started = time.perf_counter()
        index = Bm25Index(corpus[:n], dictionary=None)
        seconds = time.perf_counter() - started
        held[n], peak = (x / 2**20 for x in tracemalloc.get_traced_memory())
        tracemalloc.stop()
        print(
            f"{n:,} passages: holds {held[n]:.1f} MB, peak {peak:.1f} MB, built in {seconds:.1f} s"
        )
        del index
    half, whole = len(corpus) // 2, len(corpus)
    per = (held[whole] - held[half]) / (whole - half) * 2**20
    print(f"about {per / 1024:.2f} kB per passage: {per * 1e6 / 2**30:.2f} GB per million passages")


if __name__ == "__main__":
    main()
