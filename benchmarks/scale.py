"""Scale: the FAISS store (exact, HNSW) and the Milvus store (Milvus Lite) side by side, in one
run, on vectors that look like real ones; plus the real news build end to end on both stores.

1. **News, end to end** (unless ``--no-news``): the whole shared news set (``--data``: the
   ``news_de`` folder) as an archive of records, the 10kGNAD CSV (rewritten with a header row
   and ``"`` quotes: the original has neither) and the Wikinews JSON Lines file, built by
   ``build_index`` into the FAISS folder and into Milvus Lite; build time and peak memory, then
   ``Index.search`` p50/p95 (k = 10) for real questions, and whether both stores return the same
   top 10. With ``--source-index`` (a FAISS index of the same news built with the same model)
   passage vectors found there (same text) are taken from it instead of being embedded again,
   so the build times are what the stores cost, not the encoder; the report says how many.
2. **Synthetic passages at ``--sizes``**: grown from every real passage and section vector of
   the news (the FAISS build's, else ``--source-index``'s) by a clustered generator: a real
   vector moved part of the way (t ~ U(0, 0.5)) toward one of its 8 nearest real neighbours,
   plus noise shaped by the real vectors' covariance (top 128 principal components),
   renormalised. Never uniform random (see /work/shared/NOTES.md, "Scale"). The queries are
   real: Wikinews headlines and XQuAD German questions (``--xquad``) encoded with the query
   encoder, as the search sends them (USE half weighted as with no keyword match). Vectors
   are made in blocks of 100,000 and added as they come. For each store: insert time (Milvus:
   until flushed and indexed), peak resident memory added (process and its children), p50/p95
   latency of one query (k = 10), recall@10 against exact search, and the mean top-10 score as
   a share of the exact top-10's; HNSW at several efSearch (Milvus: ``ef``) values.

Usage::

    python benchmarks/scale.py --data ../shared/data/news_de --xquad ../shared/data/xquad \
        --source-index /tmp/news-faiss --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import psutil
import report as bench_report  # benchmarks/report.py

import diploqa
from diploqa import config
from diploqa.config import Settings
from diploqa.encoders import get_encoder
from diploqa.encoders.ensemble import EnsembleEncoder
from diploqa.store import open_location, parse_store
from diploqa.store.milvus import MilvusConnection, MilvusStore

BLOCK = 100_000
K = 10
TABLE = (
    "| passages | store | ef | insert s | peak MB | p50 / p95 ms | recall@10 | score ratio | "
    "queries |\n|---|---|---|---|---|---|---|---|---|"
)


def log(*args) -> None:
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def rss_mb() -> float:
    """Resident memory of this process and its children (Milvus Lite's server is one)."""
    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        with suppress(psutil.Error):
            total += child.memory_info().rss
    return total / 2**20


class Peak:
    """The highest resident memory seen (every 0.2 s) while a block runs, minus where it
    started: ``with Peak() as peak: …; peak.mb``."""

    def __enter__(self) -> Peak:
        gc.collect()
        self.start = self.high = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            self.high = max(self.high, rss_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.high = max(self.high, rss_mb())
        self.mb = self.high - self.start


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


# ---- real texts ----------------------------------------------------------------------------


def write_archive(data: Path, dest: Path) -> Path:
    """The shared news as an archive folder: ``gnad.csv`` (10kGNAD's rows, a header added,
    standard quotes) and ``wikinews.jsonl`` (as shipped)."""
    dest.mkdir(parents=True)
    csv.field_size_limit(1 << 24)
    with (
        open(data / "10kgnad" / "test.csv", encoding="utf-8", newline="") as fh,
        open(dest / "gnad.csv", "w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["category", "text"])
        for row in csv.reader(fh, delimiter=";", quotechar="'"):
            if len(row) >= 2 and row[1].strip():
                writer.writerow([row[0], row[1].strip()])
    shutil.copy(data / "dewikinews_quotes" / "articles.jsonl", dest / "wikinews.jsonl")
    return dest


def real_questions(data: Path, xquad: Path | None) -> list[str]:
    """Wikinews headlines and (with ``xquad``) XQuAD's German questions, taken in turn."""
    with open(data / "dewikinews_quotes" / "articles.jsonl", encoding="utf-8") as fh:
        titles = [t for line in fh if (t := json.loads(line).get("title", "").strip())]
    asked: list[str] = []
    if xquad:
        de = json.loads((xquad / "xquad.de.json").read_text(encoding="utf-8"))
        asked = [qa["question"] for a in de["data"] for p in a["paragraphs"] for qa in p["qas"]]
    rng = np.random.default_rng(0)
    titles = [titles[i] for i in rng.permutation(len(titles))]
    asked = [asked[i] for i in rng.permutation(len(asked))]
    mixed = [q for pair in zip(titles, asked, strict=False) for q in pair]
    return mixed + titles[len(asked) :] if len(titles) > len(asked) else mixed


@contextmanager
def cached_passages(source: Path | None):
    """Passage vectors of ``source`` (a FAISS index) are looked up by their text instead of
    being embedded again; yields a dict counting ``reused`` and ``embedded`` passages."""
    counts = {"reused": 0, "embedded": 0}
    if source is None:
        yield counts
        return
    stored = open_location(source).load()
    known = dict(zip(stored.passages(), stored.all_vectors(), strict=True))
    original = EnsembleEncoder.encode_passages

    def encode_passages(self, passages, show_progress=False):
        missing = [p for p in passages if p not in known]
        if missing:
            known.update(zip(missing, original(self, missing, show_progress), strict=True))
        counts["embedded"] += len(missing)
        counts["reused"] += len(passages) - len(missing)
        return np.array([known[p] for p in passages], dtype=np.float32).reshape(len(passages), -1)

    EnsembleEncoder.encode_passages = encode_passages
    try:
        yield counts
    finally:
        EnsembleEncoder.encode_passages = original


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


def query_vectors(questions: list[str]) -> np.ndarray:
    """The questions as the search sends them to the vector index (no keyword match), unit
    length."""
    encoder = get_encoder()
    raw = encoder.encode_queries(questions)
    weight = config.RankingConfig().use_weight
    out = np.vstack([encoder.query_vector(r, weight) for r in raw])
    return np.ascontiguousarray(out / np.linalg.norm(out, axis=1, keepdims=True), np.float32)


# ---- 1. the news build end to end on both stores --------------------------------------------


def news_end_to_end(folder: Path, work: Path, lite: str, questions: list[str], source):
    rows, tops, indexes = [], {}, {}
    for name, store in (("FAISS", "faiss"), ("Milvus Lite", lite)):
        with cached_passages(source) as counts, Peak() as peak:
            started = time.perf_counter()
            index = diploqa.build_index(folder, work / f"news-{store[:5]}", store=store)
            seconds = time.perf_counter() - started
        if source is None:  # nothing looked up: the build embedded what it reports
            counts["embedded"] = index.build_report.embedded
        log(name, index.build_report.summary(), counts, load())
        indexes[name] = index
        index.warm()
        times = []
        for q in questions:
            started = time.perf_counter()
            tops.setdefault(name, []).append([(h.source, h.start) for h in index.search(q, k=K)])
            times.append(time.perf_counter() - started)
        report = index.build_report
        rows.append(
            f"| {name} | {len(index.articles):,} | {report.passages:,} "
            f"(+{report.chunks - report.passages:,}) | {counts['embedded']:,} | {seconds:.0f} | "
            f"{peak.mb:,.0f} | {pct(times, 50):.0f} / {pct(times, 95):.0f} | {load()} |"
        )
        log(rows[-1])
    same = sum(a == b for a, b in zip(tops["FAISS"], tops["Milvus Lite"], strict=True))
    text = (
        "| store | articles | passages (+ sections) | embedded (rest reused) | build s | "
        "peak MB | search p50 / p95 ms (Index.search, k=10) | load |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Same top 10 (article, offset) on both stores for {same} of {len(questions)} "
        "questions (Wikinews headlines and XQuAD German questions)."
    )
    vectors = indexes["FAISS"].stored.all_vectors()
    indexes["Milvus Lite"].stored.close()  # the Lite file's engine stops: its memory back
    return text, vectors


# ---- 2. synthetic passages at scale ---------------------------------------------------------


def timed_search(search, queries: np.ndarray):
    times, scores, found = [], [], []
    for q in queries:
        started = time.perf_counter()
        s, rows = search(q[None, :])
        times.append(time.perf_counter() - started)
        scores.append(np.asarray(s[0]))
        found.append(np.asarray(rows[0]))
    return times, scores, found


def row(n, name, ef, insert, peak, times, scores, found, truth, exact_scores) -> str:
    recall = np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=False)])
    ratio = np.mean([s.mean() / e.mean() for s, e in zip(scores, exact_scores, strict=False)])
    text = (
        f"| {n:,} | {name} | {ef} | {insert} | {peak} | {pct(times, 50):.1f} / "
        f"{pct(times, 95):.1f} | {recall:.3f} | {ratio:.4f} | {len(times)} |"
    )
    log(text, load())
    print(text, flush=True)
    return text


def add_blocks(add, gen: Generator, n: int) -> tuple[float, Peak]:
    """Insert time counts the ``add`` calls only, not making the vectors."""
    seconds = 0.0
    with Peak() as peak:
        for i, block in enumerate(gen.blocks(n, seed=1), 1):
            started = time.perf_counter()
            add(block)
            seconds += time.perf_counter() - started
            log(f"added {min(i * BLOCK, n):,} of {n:,}: {seconds:.0f} s inserting", load())
    return seconds, peak


def synthetic(gen, n, queries, milvus_queries, efs, milvus_efs, lite_db: Path) -> list[str]:
    dim = gen.real.shape[1]
    rows = []
    flat = faiss.IndexFlatIP(dim)
    insert, peak = add_blocks(flat.add, gen, n)
    times, exact_scores, truth = timed_search(lambda q: flat.search(q, K), queries)
    built = (f"{insert:.0f}", f"{peak.mb:,.0f}")
    exact = (times, exact_scores, truth, truth, exact_scores)
    rows.append(row(n, "FAISS exact (flat-ip)", "–", *built, *exact))
    flat.reset()
    gc.collect()

    hnsw = faiss.IndexHNSWFlat(dim, config.HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = config.HNSW_EF_CONSTRUCTION
    insert, peak = add_blocks(hnsw.add, gen, n)
    name = f"FAISS HNSW (M={config.HNSW_M}, efConstruction={config.HNSW_EF_CONSTRUCTION})"
    for i, ef in enumerate(efs):
        hnsw.hnsw.efSearch = ef
        times, scores, found = timed_search(lambda q: hnsw.search(q, K), queries)
        built = (f"{insert:.0f}", f"{peak.mb:,.0f}") if i == 0 else ("″", "″")
        rows.append(row(n, name, ef, *built, times, scores, found, truth, exact_scores))
    hnsw.reset()
    gc.collect()
    if not milvus_efs:
        return rows

    connection = MilvusConnection(parse_store(f"milvus-lite:{lite_db}"))
    vectors = Settings.from_env().vectors
    expected = max(n, vectors.ann_threshold)
    store = MilvusStore.create(connection, f"scale_{n}", dim, expected, vectors)

    def add_then_flush(block: np.ndarray, left=[n]) -> None:  # noqa: B006 (a counter)
        store.add(block)
        left[0] -= len(block)
        if left[0] <= 0:
            store.flush()

    insert, peak = add_blocks(add_then_flush, gen, n)
    name = f"Milvus Lite HNSW (M={config.HNSW_M}, efConstruction={config.HNSW_EF_CONSTRUCTION})"
    for i, ef in enumerate(milvus_efs):
        store.settings = replace(vectors, ef_search=ef)
        m = milvus_queries
        times, scores, found = timed_search(lambda q: store.search(q, K), queries[:m])
        built = (f"{insert:.0f}", f"{peak.mb:,.0f}") if i == 0 else ("″", "″")
        rows.append(row(n, name, ef, *built, times, scores, found, truth[:m], exact_scores[:m]))
    store.client.drop_collection(store.collection)
    connection.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="the shared news_de folder")
    parser.add_argument("--xquad", type=Path, default=None, help="XQuAD folder (questions)")
    parser.add_argument(
        "--source-index", type=Path, default=None, help="a FAISS index of the same news"
    )
    parser.add_argument("--no-news", action="store_true", help="skip the end-to-end builds")
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--news-queries", type=int, default=60)
    parser.add_argument("--ef", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    parser.add_argument(
        "--milvus-ef", type=int, nargs="*", default=[256, 1024], help="none: skip Milvus Lite"
    )
    parser.add_argument(
        "--milvus-queries", type=int, default=50, help="queries timed on Milvus Lite (slow)"
    )
    parser.add_argument("--out", type=Path, default=None, help="docs/benchmarks.md")
    args = parser.parse_args()
    if args.no_news and not args.source_index:
        parser.error("--no-news needs --source-index (the real vectors)")
    logging.disable(logging.WARNING)
    started = time.perf_counter()
    questions = real_questions(args.data, args.xquad)
    parts = [
        f"Measured {time.strftime('%Y-%m-%d')}, commit `{bench_report.commit()}`, on "
        f"{bench_report.cpu()}, pymilvus {_version('pymilvus')}, milvus-lite "
        f"{_version('milvus-lite')}, faiss {faiss.__version__}. Command: "
        f"`python benchmarks/scale.py {' '.join(sys.argv[1:])}`."
    ]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.no_news:
            real = open_location(args.source_index).load().all_vectors()
        else:
            folder = write_archive(args.data, work / "archive")
            lite = f"milvus-lite:{work / 'news.db'}"
            news, real = news_end_to_end(
                folder, work, lite, questions[: args.news_queries], args.source_index
            )
            parts.append(f"### The news, end to end (the whole shared set)\n\n{news}")
            print(parts[-1], flush=True)
        gen = Generator(real)
        nearest = (gen.sample(2000, seed=7) @ gen.real.T).max(axis=1).mean()
        queries = query_vectors(questions[: args.queries])
        near_q = (queries @ gen.real.T).max(axis=1).mean()
        log(f"generator: {len(real)} real vectors, cosine to the nearest real {nearest:.3f}")
        rows = []
        for n in args.sizes:
            rows += synthetic(
                gen, n, queries, args.milvus_queries, args.ef, args.milvus_ef, work / f"{n}.db"
            )
    if rows:
        parts.append(
            f"### Synthetic passages ({real.shape[1]}-d)\n\n"
            f"Grown from {len(real):,} real news passage and section vectors (generator in the "
            f"script's docstring; mean cosine of a generated vector to its nearest real one "
            f"{nearest:.3f}); {len(queries)} real questions as queries (mean cosine to the "
            f"nearest real passage {near_q:.3f}). Peak MB: resident memory (process and its "
            "children) gained while inserting. Latency: one query at a time, k = 10. "
            "″: the same build as the row above.\n\n" + TABLE + "\n" + "\n".join(rows)
        )
    minutes = (time.perf_counter() - started) / 60
    parts[0] += f" The run took {minutes:.0f} min; {load()} at its end."
    body = "\n\n".join(parts)
    print(body)
    if args.out:
        bench_report.write_section(args.out, "scale.py", "Scale: FAISS and Milvus Lite", body)
    return 0


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    sys.exit(main())
