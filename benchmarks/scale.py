"""Scale: the FAISS store (exact, HNSW with float32, float16 and 8-bit vectors) and the Milvus
store (a Milvus server) side by side, on vectors that look like real ones; plus the real news
build end to end on FAISS and Milvus Lite.

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
   are made in blocks of 100,000 and added as they come (never all in memory; the exact top
   10 of every question is computed block by block). Measured: FAISS exact; FAISS HNSW with
   its vectors as float32, float16 (the default from the HNSW threshold on) and 8-bit
   (``--storage``): build time, resident memory, index file size, p50/p99 latency of one query
   (k = 10), recall@10 against exact search and the mean top-10 score as a share of the
   exact top-10's, at several efSearch values, and a filtered search (one outlet of eight,
   five years of ten); with float16, an update of 1,000 articles (every vector read back,
   theirs replaced, the index rebuilt and written, as a build does). Then, at the sizes up to
   ``--milvus-max``, the same vectors in the Milvus standalone server of the ``milvus``
   package (tests/milvus_standalone.py) through diploqa's store, with and without the filter
   (pushed into the server as an expression).

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
import resource
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
from diploqa.filters import SearchFilter
from diploqa.store import open_location, parse_store
from diploqa.store.faiss import FaissStore
from diploqa.store.milvus import MilvusConnection, MilvusStore
from diploqa.store.milvus.expressions import outlet_words

BLOCK = 100_000
K = 10
#: An update changes this many articles; the shared news has 9,814 passage and section
#: vectors in 2,026 articles, about five an article.
UPDATE_ARTICLES, PASSAGES_PER_ARTICLE = 1_000, 5
TABLE = (
    "| passages | index | ef | build s | resident MB (peak) | disk MB | p50 / p99 ms | "
    "recall@10 | score ratio | queries | load (1 min) |\n" + "|---" * 11 + "|"
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

#: Fields of synthetic row ``r`` for the filtered searches: an outlet of eight, a day of ten
#: years; the filter (one outlet, the last five years) allows about one row in sixteen.
OUTLETS = ("Die Zeit", "FAZ", "Süddeutsche Zeitung", "Der Spiegel", "taz", "Die Welt",
           "Handelsblatt", "Tagesspiegel")  # fmt: skip
FIRST_DAY = 730_120  # 2000-01-01
WHERE = SearchFilter.make("Zeit", "2005-01-01")


def row_outlet(rows: np.ndarray) -> np.ndarray:
    return rows % len(OUTLETS)


def row_day(rows: np.ndarray) -> np.ndarray:
    return FIRST_DAY + (rows * 7919) % 3653


def allowed_rows(start: int, n: int) -> np.ndarray:
    """The rows of ``start … start + n`` that :data:`WHERE` allows."""
    rows = np.arange(start, start + n, dtype=np.int64)
    keep = (row_outlet(rows) == 0) & (row_day(rows) >= WHERE.since.toordinal())
    return rows[keep]


def timed_search(search, queries: np.ndarray):
    times, scores, found = [], [], []
    for q in queries:
        started = time.perf_counter()
        s, rows = search(q[None, :])
        times.append(time.perf_counter() - started)
        scores.append(np.asarray(s[0]))
        found.append(np.asarray(rows[0]))
    return times, scores, found


class TopK:
    """The exact top ``K`` of each query over blocks of rows, merged as they come."""

    def __init__(self, queries: int) -> None:
        self.scores = np.full((queries, K), -np.inf, dtype=np.float32)
        self.rows = np.full((queries, K), -1, dtype=np.int64)

    def add(self, scores: np.ndarray, rows: np.ndarray) -> None:
        if scores.shape[1] == 0:
            return
        both = np.hstack([self.scores, scores])
        ids = np.hstack([self.rows, np.broadcast_to(rows, scores.shape)])
        best = np.argsort(-both, axis=1, kind="stable")[:, :K]
        self.scores = np.take_along_axis(both, best, axis=1)
        self.rows = np.take_along_axis(ids, best, axis=1)


def exact(gen: Generator, n: int, queries: np.ndarray) -> tuple[TopK, TopK, np.ndarray]:
    """The exact top 10 of every query, unfiltered and with :data:`WHERE`, computed block by
    block (never the whole set in memory), and the allowed rows."""
    plain, filtered = TopK(len(queries)), TopK(len(queries))
    allowed = []
    for number, block in enumerate(gen.blocks(n, seed=1)):
        start = number * BLOCK
        scores = queries @ block.T
        top = np.argpartition(-scores, K, axis=1)[:, :K]
        plain.add(np.take_along_axis(scores, top, axis=1), top + start)
        rows = allowed_rows(start, len(block))
        allowed.append(rows)
        filtered.add(scores[:, rows - start], rows)
    return plain, filtered, np.concatenate(allowed)


def recall(found: list[np.ndarray], truth: TopK) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth.rows, strict=False)])
    )


def ratio(scores: list[np.ndarray], truth: TopK) -> float:
    return float(np.mean([s.mean() / e.mean() for s, e in zip(scores, truth.scores, strict=False)]))


def row(n, name, ef, build, memory, disk, times, scores, found, truth) -> str:
    text = (
        f"| {n:,} | {name} | {ef} | {build} | {memory} | {disk} | {pct(times, 50):.1f} / "
        f"{pct(times, 99):.1f} | {recall(found, truth):.3f} | {ratio(scores, truth):.4f} | "
        f"{len(times)} | {os.getloadavg()[0]:.1f} |"
    )
    log(text)
    print(text, flush=True)
    return text


def add_blocks(add, gen: Generator, n: int) -> tuple[float, Peak]:
    """Insert time counts the ``add`` calls only, not making the vectors."""
    seconds = 0.0
    with Peak() as peak:
        for i, block in enumerate(gen.blocks(n, seed=1), 1):
            started = time.perf_counter()
            add(block, (i - 1) * BLOCK)
            seconds += time.perf_counter() - started
            log(f"added {min(i * BLOCK, n):,} of {n:,}: {seconds:.0f} s inserting", load())
    return seconds, peak


def file_mb(store: FaissStore, folder: Path) -> float:
    """Size of the store's index file (what a generation keeps on disk for its vectors)."""
    folder.mkdir(parents=True, exist_ok=True)
    store.save(folder)
    size = sum(f.stat().st_size for f in folder.iterdir()) / 2**20
    shutil.rmtree(folder)
    return size


def faiss_hnsw(
    gen, n, storage, queries, efs, truth, filtered, allowed, work, updating=True
) -> list[str]:
    """FAISS HNSW storing its vectors as ``storage`` (flat = float32, fp16, sq8)."""
    rows = []
    settings = Settings.from_env().vectors
    store = FaissStore.hnsw(gen.real.shape[1], settings, storage)
    seconds, peak = add_blocks(lambda block, _start: store.add(block), gen, n)
    held = rss_mb() - peak.start
    disk = file_mb(store, work / f"hnsw-{storage}")
    name = f"FAISS HNSW, {storage} vectors"
    for i, ef in enumerate(efs):
        store.index.hnsw.efSearch = ef
        times, scores, found = timed_search(lambda q: store.search(q, K), queries)
        first = (f"{seconds:.0f}", f"{held:,.0f} ({peak.mb:,.0f})", f"{disk:,.0f}")
        rows.append(row(n, name, ef, *(first if i == 0 else ("″",) * 3), times, scores, found,
                        truth))  # fmt: skip
    store.index.hnsw.efSearch = efs[-1]
    m = min(len(queries), 50)
    times, scores, found = timed_search(lambda q: store.search(q, K, rows=allowed), queries[:m])
    sub = TopK(m)
    sub.scores, sub.rows = filtered.scores[:m], filtered.rows[:m]
    rows.append(row(n, f"{name}, filtered", efs[-1], "″", "″", "″", times, scores, found, sub))
    if storage == "fp16" and updating:
        rows.append(update(store, gen, n, work))
    store.index.reset()
    gc.collect()
    return rows


def update(store: FaissStore, gen: Generator, n: int, work: Path) -> str:
    """What a build that changes :data:`UPDATE_ARTICLES` articles does with the vectors: read
    every stored vector back, replace those articles' passages by new vectors, build the
    next generation's index from all of them (the default kind for the size) and write it."""
    changed = UPDATE_ARTICLES * PASSAGES_PER_ARTICLE
    with Peak() as peak:
        started = time.perf_counter()
        vectors = store.all_vectors()
        vectors[:changed] = gen.sample(changed, seed=99)
        settings = Settings.from_env().vectors
        fresh = FaissStore.from_vectors(vectors, vectors.shape[1], settings)
        del vectors
        mb = file_mb(fresh, work / "update")
        seconds = time.perf_counter() - started
    text = (
        f"Update of {UPDATE_ARTICLES:,} articles ({changed:,} passages) at {n:,}: {seconds:.0f} s "
        f"(read back, rebuild the {fresh.index_type} index, write {mb:,.0f} MB), peak "
        f"{peak.mb:,.0f} MB above the index it started from; {load()}."
    )
    log(text)
    return text


def milvus_server(gen, n, queries, efs, truth, filtered, work) -> list[str]:
    """The same vectors in a collection of the Milvus standalone server of the ``milvus``
    package (tests/milvus_standalone.py), with the scalar fields the filters test."""
    sys.path.insert(0, str(bench_report.REPO / "tests"))
    from milvus_standalone import MilvusStandalone, server_version, unpack_binary

    server = MilvusStandalone(unpack_binary(work / "milvus-binary"), work / "milvus-server")
    server.start()
    rows = []
    try:
        proc = psutil.Process(server.process.pid)
        before = proc.memory_info().rss / 2**20
        connection = MilvusConnection(parse_store(server.address("scale"), token=server.token))
        settings = Settings.from_env().vectors
        expected = max(n, settings.ann_threshold)  # HNSW
        store = MilvusStore.create(connection, "scale", gen.real.shape[1], expected, settings)
        store.outlets = frozenset(outlet_words(o) for o in OUTLETS)

        def add(block: np.ndarray, start: int) -> None:
            ids = np.arange(start, start + len(block))
            fields = [
                {"article_id": f"a{r // PASSAGES_PER_ARTICLE:07d}.txt",
                 "outlet": outlet_words(OUTLETS[o]), "date_start": int(d), "date_end": int(d)}
                for r, o, d in zip(ids, row_outlet(ids), row_day(ids), strict=True)
            ]  # fmt: skip
            store.add(block, fields)
            if start + len(block) >= n:
                store.flush()  # sealed: the server builds the index of every segment

        seconds, _ = add_blocks(add, gen, n)
        started = time.perf_counter()
        _wait_indexed(connection, "scale")
        seconds += time.perf_counter() - started
        held = proc.memory_info().rss / 2**20 - before
        disk = sum(f.stat().st_size for f in (work / "milvus-server").rglob("*") if f.is_file())
        name = f"Milvus {server_version()} server HNSW, float32 vectors"
        m = min(len(queries), 50)
        sub = TopK(m)
        sub.scores, sub.rows = truth.scores[:m], truth.rows[:m]
        fsub = TopK(m)
        fsub.scores, fsub.rows = filtered.scores[:m], filtered.rows[:m]
        for i, ef in enumerate(efs):
            store.settings = replace(settings, ef_search=ef)
            times, scores, found = timed_search(lambda q: store.search(q, K), queries[:m])
            first = (f"{seconds:.0f}", f"{held:,.0f} (server)", f"{disk / 2**20:,.0f}")
            rows.append(row(n, name, ef, *(first if i == 0 else ("″",) * 3), times, scores,
                            found, sub))  # fmt: skip
            times, scores, found = timed_search(
                lambda q: store.search(q, K, where=WHERE), queries[:m]
            )
            rows.append(row(n, f"{name}, filtered", ef, "″", "″", "″", times, scores, found,
                            fsub))  # fmt: skip
        # What diploqa's "Strong" reads cost: the same search with "Bounded" consistency
        # (the server answers from what it had a few seconds ago, without waiting for the
        # next time tick); not what diploqa does, measured for comparison.
        times, scores, found = timed_search(lambda q: _bounded(store, q), queries[:m])
        rows.append(row(n, f"{name}, Bounded consistency (not diploqa's)", efs[-1], "″", "″",
                        "″", times, scores, found, sub))  # fmt: skip
        connection.close()
    finally:
        server.kill()
    return rows


def _bounded(store: MilvusStore, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``store.search(query, K)`` with "Bounded" instead of "Strong" consistency."""
    ef = max(store.settings.ef_search, K)
    hits = store.client.search(
        store.collection, data=query.tolist(), limit=K, consistency_level="Bounded",
        search_params={"metric_type": "IP", "params": {"ef": ef}}, output_fields=[],
    )[0]  # fmt: skip
    rows = [h.get("row") if h.get("row") is not None else h["id"] for h in hits]
    return np.array([[h["distance"] for h in hits]]), np.array([rows])


def _wait_indexed(connection: MilvusConnection, collection: str, timeout: float = 3600) -> None:
    """Wait until the server has indexed every row of ``collection``."""
    client = connection.client
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.describe_index(collection, "vector")
        if info.get("indexed_rows", 0) >= info.get("total_rows", 0):
            return
        time.sleep(1)
    raise TimeoutError(f"{collection} not indexed in {timeout:.0f} s")


def synthetic(gen, n, queries, efs, storages, milvus_efs, work, updating=True) -> list[str]:
    rows = []
    started = time.perf_counter()
    truth, filtered, allowed = exact(gen, n, queries)
    seconds = time.perf_counter() - started
    log(f"exact top {K} at {n:,}: {seconds:.0f} s; {len(allowed):,} rows pass the filter")
    flat = FaissStore.create(gen.real.shape[1], expected=0)  # exact: its latency
    seconds, peak = add_blocks(lambda block, _start: flat.add(block), gen, n)
    m = min(len(queries), 50)
    times, scores, found = timed_search(lambda q: flat.search(q, K), queries[:m])
    sub = TopK(m)
    sub.scores, sub.rows = truth.scores[:m], truth.rows[:m]
    rows.append(row(n, "FAISS exact (flat-ip), float32", "–", f"{seconds:.0f}",
                    f"{rss_mb() - peak.start:,.0f} ({peak.mb:,.0f})", f"{n * 3584 / 2**20:,.0f}",
                    times, scores, found, sub))  # fmt: skip
    flat.index.reset()
    gc.collect()
    for storage in storages:
        rows += faiss_hnsw(gen, n, storage, queries, efs, truth, filtered, allowed, work, updating)
    if milvus_efs:
        rows += milvus_server(gen, n, queries, milvus_efs, truth, filtered, work)
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
    parser.add_argument("--ef", type=int, nargs="+", default=[256, 1024, 2048])
    parser.add_argument(
        "--storage", nargs="+", default=["flat", "fp16", "sq8"],
        help="how FAISS HNSW keeps its vectors: flat (float32), fp16, sq8",
    )  # fmt: skip
    parser.add_argument(
        "--milvus-ef", type=int, nargs="*", default=[256, 1024], help="none: skip the server"
    )
    parser.add_argument(
        "--milvus-max", type=int, default=100_000,
        help="the Milvus server is measured at the sizes up to this one",
    )  # fmt: skip
    parser.add_argument(
        "--no-update", action="store_true", help="skip the update of 1,000 articles (fp16)"
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
        f"{bench_report.cpu()}, {psutil.virtual_memory().total / 2**30:.0f} GB, pymilvus "
        f"{_version('pymilvus')}, milvus-lite {_version('milvus-lite')}, faiss "
        f"{faiss.__version__}. Command: "
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
            milvus_efs = args.milvus_ef if n <= args.milvus_max else []
            rows += synthetic(
                gen, n, queries, args.ef, args.storage, milvus_efs, work, not args.no_update
            )
    if rows:
        parts.append(
            f"### Synthetic passages ({real.shape[1]}-d)\n\n"
            f"Grown from {len(real):,} real news passage and section vectors (generator in the "
            f"script's docstring; mean cosine of a generated vector to its nearest real one "
            f"{nearest:.3f}); {len(queries)} real questions as queries (mean cosine to the "
            f"nearest real passage {near_q:.3f}). Resident MB: memory the index holds once "
            "built (peak while building: the 100,000-vector block in flight included); "
            "the Milvus row: the server process's. Disk MB: the index file (Milvus: the "
            "server's data folder). Latency: one query at a time, k = 10; exact and Milvus "
            "rows, and filtered rows, over the first 50 questions. Filtered: one outlet of "
            "eight (`outlet=Zeit`) and the last five of ten years (`since=2005-01-01`). ″: the "
            "same build as the row above.\n\n"
            + TABLE
            + "\n"
            + "\n".join(r for r in rows if r.startswith("|"))
            + "\n\n"
            + "\n".join(r for r in rows if not r.startswith("|"))
        )
    minutes = (time.perf_counter() - started) / 60
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux
    parts[0] += (
        f" The run took {minutes:.0f} min; {load()} at its end; the process's peak resident "
        f"memory over the whole run {peak:.1f} GB."
    )
    body = "\n\n".join(parts)
    print(body)
    if args.out:
        bench_report.write_section(  # the section of issue 29 (the older one is kept)
            args.out, "scale.py issue 29", "Scale: a million passages (issue #29)", body
        )
    return 0


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    sys.exit(main())
