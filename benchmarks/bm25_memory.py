"""Memory of the in-process keyword index (BM25), which the Milvus store keeps beside the engine.

Real German news passages (``--data``: the shared ``news_de`` folder, every article cut into
600-character pieces); the index is built for a quarter, a half and all of them, and the
memory it holds (and the peak while building) is measured with ``tracemalloc``, which also
slows the build down: the build times are upper bounds. The per-passage cost is the slope
between the half and the whole.

Usage: ``python benchmarks/bm25_memory.py --data ../shared/data/news_de``
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import time
import tracemalloc
from pathlib import Path

from diploqa.lexical import Bm25Index


def passages(data: Path) -> list[str]:
    texts = []
    csv.field_size_limit(1 << 24)
    with open(data / "10kgnad" / "test.csv", encoding="utf-8", newline="") as fh:
        texts += [row[1] for row in csv.reader(fh, delimiter=";", quotechar="'") if len(row) >= 2]
    with open(data / "dewikinews_quotes" / "articles.jsonl", encoding="utf-8") as fh:
        texts += [json.loads(line).get("text", "") for line in fh]
    return [t[i : i + 600] for t in texts for i in range(0, len(t), 600)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    corpus = passages(args.data)
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
