"""Scale: the FAISS store (exact, HNSW) and the Milvus store (Milvus Lite) side by side, in one
run, on vectors that look like real ones; plus the real news build end to end on both stores.

1. **News, end to end**: the first ``--articles`` news articles (``--data``: the shared
   ``news_de`` folder, as benchmarks/speed.py writes them) built by ``build_index`` into the
   FAISS folder and into Milvus Lite (each embeds everything itself); build time, then
   ``Index.search`` p50/p95 for article titles as questions, and whether both stores return the
   same top 5.
2. **Synthetic passages at ``--sizes``**: grown from the real vectors of that news index (every
   passage and section vector it holds) by a clustered generator: a real vector moved part of
   the way (t ~ U(0, 0.5)) toward one of its 8 nearest real neighbours, plus noise shaped by the
   real vectors' covariance (top 128 principal components), renormalised. Never uniform random
   (see /work/shared/NOTES.md, "Scale": uniform or isotropic copies crowd neighbourhoods and make
   recall meaningless). Queries are drawn the same way with another seed. Vectors are made in
   blocks of 100,000 and added as they come. For each store: insert time (Milvus: until
   flushed), resident memory added, p50/p95 latency of one query (k = 10), recall@10 against
   exact search, and the mean top-10 score as a share of the exact top-10's.

Usage::

    python benchmarks/scale.py --data ../shared/data/news_de --sizes 100000 --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import gc
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import psutil
import report as bench_report  # benchmarks/report.py
from speed import write_news  # benchmarks/speed.py

import diploqa
from diploqa import config
from diploqa.store.milvus_store import MilvusStore, forget_client

BLOCK = 100_000
K = 10


def log(*args) -> None:
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


# ---- the generator --------------------------------------------------------------------------


class Generator:
    """Clustered vectors around real ones (see the module docstring)."""

    def __init__(self, real: np.ndarray, noise: float = 0.35, components: int = 128) -> None:
        # The ensemble's stored vectors are two unit halves (e5, USE) side by side: the
        # generator works on them scaled to unit length, as every vector it makes is.
        real = np.asarray(real, dtype=np.float32)
        self.real = np.ascontiguousarray(real / np.linalg.norm(real, axis=1, keepdims=True))
        flat = faiss.IndexFlatIP(real.shape[1])
        flat.add(self.real)
        _, neighbours = flat.search(self.real, 9)
        self.neighbours = neighbours[:, 1:]
        centred = self.real - self.real.mean(axis=0)  # covariance of the real vectors
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        scale = s[:components] / np.sqrt(len(real))
        self.basis = (vt[:components] * scale[:, None]).astype(np.float32)
        self.noise = noise

    def sample(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        source = rng.integers(0, len(self.real), n)
        neighbour = self.neighbours[source, rng.integers(0, self.neighbours.shape[1], n)]
        t = rng.uniform(0.0, 0.5, (n, 1)).astype(np.float32)
        out = self.real[source] + t * (self.real[neighbour] - self.real[source])
        z = rng.standard_normal((n, self.basis.shape[0])).astype(np.float32)
        out += self.noise * (z @ self.basis)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    def blocks(self, n: int, seed: int):
        for number, start in enumerate(range(0, n, BLOCK)):
            yield self.sample(min(BLOCK, n - start), seed * 1000 + number)


# ---- 1. the news build end to end on both stores --------------------------------------------


def news_end_to_end(data: Path, n_articles: int, work: Path, lite: str) -> tuple[str, np.ndarray]:
    all_news = write_news(data, work / "all")
    articles = work / "news"
    articles.mkdir()
    for path in all_news[:n_articles]:
        shutil.copy(path, articles / path.name)
    results, indexes = [], {}
    for name, store in (("FAISS", "faiss"), ("Milvus Lite", lite)):
        before = rss_mb()
        started = time.perf_counter()
        index = diploqa.build_index(articles, work / "news-index", store=store)
        seconds = time.perf_counter() - started
        indexes[name] = index
        log(name, index.build_report.summary())
        results.append((name, index, seconds, rss_mb() - before))
    questions = [a.title for a in indexes["FAISS"].articles[::40]][:50]
    lines = [
        "| store | articles | passages (+ sections) | build s (embedding included) | "
        "search p50 / p95 ms (Index.search, k=5) |",
        "|---|---|---|---|---|",
    ]
    tops = {}
    for name, index, seconds, _ in results:
        index.warm()
        times = []
        for q in questions:
            started = time.perf_counter()
            tops.setdefault(name, []).append([(h.source, h.start) for h in index.search(q, k=5)])
            times.append(time.perf_counter() - started)
        report = index.build_report
        lines.append(
            f"| {name} | {len(index.articles):,} | {report.passages:,} "
            f"(+{report.chunks - report.passages:,}) | {seconds:.0f} | "
            f"{pct(times, 50):.0f} / {pct(times, 95):.0f} |"
        )
    same = sum(a == b for a, b in zip(tops["FAISS"], tops["Milvus Lite"], strict=True))
    lines.append(
        f"\nSame top 5 on both stores for {same} of {len(questions)} questions (article titles)."
    )
    real = indexes["FAISS"].stored.all_vectors()
    return "\n".join(lines), real


# ---- 2. synthetic passages at scale ---------------------------------------------------------


def measure(name, add, search, n: int, gen: Generator, queries, truth, exact_scores, limit: int):
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    for block in gen.blocks(n, seed=1):
        add(block)
    insert = time.perf_counter() - started
    memory = rss_mb() - before
    times, found, scores = [], [], []
    for q in queries[:limit]:
        started = time.perf_counter()
        s, rows = search(q[None, :])
        times.append(time.perf_counter() - started)
        found.append(rows[0])
        scores.append(s[0])
    if truth is None:  # this is the exact search
        recall, ratio = 1.0, 1.0
    else:
        recall = np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=False)])
        ratio = np.mean([s.mean() / e.mean() for s, e in zip(scores, exact_scores, strict=False)])
    log(name, n, f"insert {insert:.0f}s", f"recall {recall:.3f}", f"p50 {pct(times, 50):.1f}ms")
    return (
        f"| {n:,} | {name} | {insert:.0f} | {memory:,.0f} | {pct(times, 50):.1f} / "
        f"{pct(times, 95):.1f} | {recall:.3f} | {ratio:.4f} | {len(times)} |"
    )


def synthetic(gen: Generator, n: int, n_queries: int, milvus_queries: int, lite_db: Path) -> list:
    dim = gen.real.shape[1]
    queries = gen.sample(n_queries, seed=999)
    rows = []
    # exact ground truth (and the "FAISS exact" row)
    flat = faiss.IndexFlatIP(dim)
    rows.append(
        measure(
            "FAISS exact (flat-ip)",
            flat.add,
            lambda q: flat.search(q, K),
            n,
            gen,
            queries,
            None,
            None,
            n_queries,
        )
    )
    exact_scores, truth = flat.search(queries, K)
    flat.reset()
    gc.collect()

    hnsw = faiss.IndexHNSWFlat(dim, config.HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = config.HNSW_EF_CONSTRUCTION
    hnsw.hnsw.efSearch = config.hnsw_ef_search()
    label = (
        f"FAISS HNSW (M={config.HNSW_M}, efConstruction={config.HNSW_EF_CONSTRUCTION}, "
        f"efSearch={config.hnsw_ef_search()})"
    )
    rows.append(
        measure(
            label,
            hnsw.add,
            lambda q: hnsw.search(q, K),
            n,
            gen,
            queries,
            truth,
            exact_scores,
            n_queries,
        )
    )
    hnsw.reset()
    gc.collect()

    address = config.parse_store(f"milvus-lite:{lite_db}")
    store = MilvusStore.create(address, f"scale_{n}", dim, expected=max(n, config.ann_threshold()))

    def add(block: np.ndarray) -> None:
        store.add(block)

    def search(q: np.ndarray):
        return store.search(q, K)

    label = (
        f"Milvus Lite HNSW (M={config.HNSW_M}, efConstruction={config.HNSW_EF_CONSTRUCTION}, "
        f"ef={config.hnsw_ef_search()})"
    )

    def add_and_flush(block: np.ndarray, _left=[n]) -> None:  # noqa: B006 (a counter)
        add(block)
        _left[0] -= len(block)
        if _left[0] <= 0:
            store.flush()

    rows.append(
        measure(label, add_and_flush, search, n, gen, queries, truth, exact_scores, milvus_queries)
    )
    store.client.drop_collection(store.collection)
    forget_client(address)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="the shared news_de folder")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--milvus-queries", type=int, default=50, help="queries timed on Milvus Lite (slow)"
    )
    parser.add_argument("--out", type=Path, default=None, help="docs/benchmarks.md")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lite = f"milvus-lite:{work / 'news.db'}"
        news, real = news_end_to_end(args.data, args.articles, work, lite)
        forget_client(config.parse_store(lite))
        gen = Generator(real)
        check = gen.sample(2000, seed=7)
        nearest = (check @ gen.real.T).max(axis=1)
        log(f"generator: {len(real)} real vectors, cosine to the nearest real {nearest.mean():.3f}")
        rows = []
        for n in args.sizes:
            rows += synthetic(gen, n, args.queries, args.milvus_queries, work / f"scale-{n}.db")
    minutes = (time.perf_counter() - started) / 60
    body = (
        f"Measured {time.strftime('%Y-%m-%d')}, commit `{bench_report.commit()}`, on "
        f"{bench_report.cpu()}, pymilvus {_version('pymilvus')}, milvus-lite "
        f"{_version('milvus-lite')}, faiss {faiss.__version__}; the run took {minutes:.0f} min. "
        f"Command: `python benchmarks/scale.py --data ../shared/data/news_de --sizes "
        f"{' '.join(map(str, args.sizes))} --out docs/benchmarks.md`.\n\n"
        f"### The news, end to end ({args.articles:,} articles)\n\n{news}\n\n"
        f"### Synthetic passages ({real.shape[1]}-d)\n\n"
        f"Grown from the news index's {len(real):,} real vectors (generator in the script's "
        f"docstring; mean cosine of a generated vector to its nearest real one "
        f"{nearest.mean():.3f}). Memory: resident memory the process gained while inserting "
        "(Milvus Lite runs in-process). Latency: one query at a time, k = 10.\n\n"
        "| passages | store | insert s | memory MB | p50 / p95 ms | recall@10 | "
        "score ratio | queries |\n|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
    print(body)
    if args.out:
        bench_report.write_section(args.out, "scale.py", "Scale: FAISS and Milvus Lite", body)
    return 0


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    sys.exit(main())
