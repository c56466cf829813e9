"""Filter latency on a large index: a 1-in-1,000 filter against an unfiltered search.

The store part uses synthetic vectors (normalised Gaussian, 896 dimensions like e5 + USE), so
no model is needed: 100,000 passages from 100,000 articles, an HNSW index as diploqa builds
from 100,000 passages on, and the per-article filter columns of :mod:`diploqa.filters`. For
each question it times, side by side in one run:

* ``unfiltered``: the vector search for the ranking's candidates (100);
* ``1 in 1,000``: the filter mask for an outlet that one article in a thousand has, plus the
  filtered vector search (scored exactly: the store's path for rare filters);
* ``1 in 10`` and ``date range (1 in 20)``: broader filters, searched inside the HNSW graph.

Target (the archive issue): the 1-in-1,000 p50 within 2× the unfiltered p50. Recall is
measured against exact search over the allowed rows; on isotropic synthetic vectors HNSW's
recall is far below what it reaches on real passages (``../shared/NOTES.md``, "Scale"), so
compare the filtered rows with the unfiltered one, not with 1.

Usage::

    python benchmarks/filters.py [--passages 100000] [--queries 300] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

import report as docs  # noqa: E402

from diploqa.articles import Article  # noqa: E402
from diploqa.filters import ArticleColumns, SearchFilter  # noqa: E402
from diploqa.store.faiss import FaissStore  # noqa: E402

DIM = 896
CANDIDATES = 100


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, list[Article]]:
    rng = np.random.default_rng(seed)
    vectors = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 10_000):  # in slices: bounded memory
        part = rng.standard_normal((min(10_000, n - start), DIM)).astype(np.float32)
        vectors[start : start + len(part)] = part / np.linalg.norm(part, axis=1, keepdims=True)
    articles = [
        Article(
            id=f"archiv/{i:07d}.txt",
            title="",
            text="",
            date=f"{2000 + i % 20}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            outlet="Seltene Zeitung" if i % 1000 == 7 else f"Verlag {i % 10}",
            url=None,
            content_hash="",
        )
        for i in range(n)
    ]
    return vectors, articles


def timed(fn, queries: np.ndarray) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        fn(q[None, :])
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None, help="append the table here")
    args = parser.parse_args()

    vectors, articles = synthetic(args.passages)
    started = time.perf_counter()
    store = FaissStore.from_vectors(vectors, DIM)
    build_s = time.perf_counter() - started
    columns = ArticleColumns(articles)
    queries = synthetic(args.queries, seed=1)[0]
    filters = {
        "1 in 1,000 (outlet)": SearchFilter.make(outlet="Seltene Zeitung"),
        "1 in 10 (outlet)": SearchFilter.make(outlet="Verlag 3"),
        "1 in 20 (date range)": SearchFilter.make(since="2005", until="2005"),
    }
    for q in queries[:20]:  # warm-up
        store.search(q[None, :], CANDIDATES)

    def filtered(wanted: SearchFilter):
        def run(q: np.ndarray) -> None:
            rows = np.flatnonzero(columns.mask(wanted))  # one passage per article here
            store.search(q, CANDIDATES, rows=rows)

        return run

    results = {"unfiltered": timed(lambda q: store.search(q, CANDIDATES), queries)}
    for name, wanted in filters.items():
        results[name] = timed(filtered(wanted), queries)
    recall = {}
    everything = np.arange(len(vectors))
    for name, wanted in {"unfiltered": None, **filters}.items():
        rows = everything if wanted is None else np.flatnonzero(columns.mask(wanted))
        hits = wanted_total = 0
        for q in queries[:50]:
            _, found = store.search(q[None, :], 10, rows=None if wanted is None else rows)
            exact = rows[np.argsort(-(vectors[rows] @ q))[:10]]
            hits += len(set(found[0].tolist()) & set(exact.tolist()))
            wanted_total += len(exact)
        recall[name] = hits / wanted_total

    base = statistics.median(results["unfiltered"])
    lines = [
        f"Measured {date.today().isoformat()}, commit `{docs.commit()}`, {docs.cpu()}, "
        f"Python {platform.python_version()}: "
        f"{args.passages:,} synthetic {DIM}-d passages ({store.index_type}, built in "
        f"{build_s:.0f} s), {args.queries} questions, {CANDIDATES} candidates each. "
        "Command: `python benchmarks/filters.py`.",
        "",
        "| search | p50 ms | p95 ms | p50 / unfiltered | recall@10 vs exact |",
        "|---|---|---|---|---|",
    ]
    for name, times in results.items():
        p50, p95 = statistics.median(times), float(np.percentile(times, 95))
        rec = f"{recall[name]:.3f}" if name in recall else "–"
        lines.append(f"| {name} | {p50:.2f} | {p95:.2f} | {p50 / base:.2f}× | {rec} |")
    rare = statistics.median(results["1 in 1,000 (outlet)"]) / base
    lines += ["", f"Target: 1 in 1,000 within 2× unfiltered: **{rare:.2f}×**, "
              f"{'met' if rare <= 2 else 'missed'}.", "",
              f"Recall: on isotropic synthetic vectors even unfiltered HNSW finds "
              f"{recall['unfiltered']:.2f} of the exact top 10 (real passages: 0.99, see above; "
              "why synthetic vectors mislead: `../shared/NOTES.md`, Scale). Filters of up to "
              "4,096 rows are scored exactly (recall 1); broader ones are searched inside the "
              "graph and stay near the unfiltered baseline."]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.out:
        docs.write_section(args.out, "filters", "Filter latency", text)


if __name__ == "__main__":
    main()
