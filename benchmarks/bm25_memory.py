"""Memory of the in-process keyword index (BM25), which the Milvus store keeps beside the engine.

Real German news passages (``--data``: the shared ``news_de`` folder, every article cut into
600-character pieces); the index is built for a quarter, a half and all of them, and the
memory it holds (and the peak while building) is measured with ``tracemalloc``, which also
slows the build down: the build times are upper bounds. The per-passage cost is the slope
between the half and the whole.

With ``--sizes`` (e.g. ``100000 1000000``) it measures instead how long an update takes at
that size: passages of 3–6 real news sentences drawn at random (real words and lengths, almost
all distinct), the index built once (every passage split and stemmed), then updated after 1 %
of them, and after one article's 5 passages, changed (:meth:`Bm25Index.updated`, which keeps
the counts of the unchanged passages) beside a build from nothing of the same passages; saving
and loading; and the keyword scoring of 200 German XQuAD questions beside bm25s's stored
scores. Resident memory of the process after the first build; no tracemalloc.

Usage: ``python benchmarks/bm25_memory.py --data ../shared/data/news_de [--sizes 100000 …]
[--xquad ../shared/data/xquad]``
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

from diploqa.lexical import Bm25Index, Lookup


def passages(data: Path) -> list[str]:
    texts = []
    csv.field_size_limit(1 << 24)
    with open(data / "10kgnad" / "test.csv", encoding="utf-8", newline="") as fh:
        texts += [row[1] for row in csv.reader(fh, delimiter=";", quotechar="'") if len(row) >= 2]
    with open(data / "dewikinews_quotes" / "articles.jsonl", encoding="utf-8") as fh:
        texts += [json.loads(line).get("text", "") for line in fh]
    return [t[i : i + 600] for t in texts for i in range(0, len(t), 600)]


def questions(xquad: Path, n: int = 200) -> list[str]:
    """The first ``n`` German XQuAD questions (real question words, most not in the news)."""
    data = json.loads((xquad / "xquad.de.json").read_text(encoding="utf-8"))["data"]
    found = [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
    return found[:n]


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


def _ms(fn, repeat: int) -> float:
    """Median milliseconds of ``fn()`` over ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def _question_times(
    index: Bm25Index, texts: list[str], questions: list[str]
) -> tuple[float, float, float, int]:
    """Per question, ms: :meth:`Bm25Index.score`; its BM25 from counts; bm25s's stored
    scores for the same words (the store before format 3); and how many questions."""
    import bm25s

    reference = bm25s.BM25()
    reference.index([index.tokenize(t) for t in texts], show_progress=False)
    terms = [[t for t in index.query_terms(q) if t in reference.vocab_dict] for q in questions]
    terms = [t for t in terms if t]
    ours = _ms(lambda: [index.score(q) for q in questions], 3) / len(questions)
    counts = _ms(lambda: [Lookup(index.corpus).bm25(t) for t in terms], 3) / len(terms)
    stored = _ms(lambda: [reference.get_scores(t) for t in terms], 3) / len(terms)
    return ours, counts, stored, len(terms)


def milvus_round_trip(index: Bm25Index, n: int, folder: Path) -> tuple[float, float]:
    """Seconds to store ``index`` in a Milvus Lite file as a build does, and to read it back
    as a server's start does (fetch, check, load)."""
    from types import SimpleNamespace

    from diploqa.store import parse_store
    from diploqa.store.milvus import MilvusConnection, texts
    from diploqa.store.milvus.keywords import KeywordCollection

    address = parse_store(f"milvus-lite:{folder / 'keywords.db'}")
    connection = MilvusConnection(address)
    keywords = KeywordCollection(connection, address.collection)
    started = time.perf_counter()
    other, files = keywords.store(index)
    texts.write_texts(connection, "bench__meta", other)
    stored = time.perf_counter() - started
    started = time.perf_counter()
    loaded = keywords.read("bench__meta", SimpleNamespace(files=files), n)
    read = time.perf_counter() - started
    assert loaded is not None
    connection.close()
    return stored, read


def rebuilds(
    corpus: list[str], sizes: list[int], questions: list[str], with_milvus: bool = False
) -> None:
    """Per size: the first build; an update of 1 % and of one article (5 passages) by
    :meth:`Bm25Index.updated` beside a build from nothing of the same passages (what every
    update cost before format 3), checked to score alike; saving both generations (the
    second links the unchanged segment) and loading one; and the keyword scoring of a
    question beside bm25s's stored matrix of the same passages (the old store)."""
    import shutil
    import tempfile

    from diploqa.lexical.postings import MERGE_FACTOR

    sentences = [s for p in corpus for s in re.split(r"(?<=[.!?])\s+", p) if len(s) > 20]
    print(f"{len(sentences):,} real sentences; {os.getloadavg()[0]:.1f} load average")
    print(f"merge factor {MERGE_FACTOR}; machine: {os.cpu_count()} CPUs", flush=True)
    for n in sizes:
        texts = made_up(sentences, n, seed=n)
        gc.collect()
        base = psutil.Process().memory_info().rss / 2**20
        started = time.perf_counter()
        index = Bm25Index.build(texts, dictionary=None)
        first = time.perf_counter() - started
        held = psutil.Process().memory_info().rss / 2**20 - base
        rows = {}
        for label, changed in (("1 %", n // 100), ("one article", 5)):
            new = list(texts)
            rng = np.random.default_rng(n + changed)
            where = np.sort(rng.choice(n, changed, replace=False))
            fresh = made_up(sentences, changed, seed=n + changed)
            for i, text in zip(where.tolist(), fresh, strict=True):
                new[i] = text
            origin = np.arange(n)
            origin[where] = -1
            started = time.perf_counter()
            updated = index.updated(new, origin)
            incremental = time.perf_counter() - started
            started = time.perf_counter()
            rebuilt = Bm25Index.build(new, dictionary=None)
            full = time.perf_counter() - started
            for q in questions[:20]:
                a, b = updated.score(q).scores, rebuilt.score(q).scores
                if not np.allclose(a, b, rtol=1e-5, atol=1e-6):
                    raise SystemExit(f"the update scores otherwise than a build: {q!r}")
            rows[label] = (incremental, full, len(updated.corpus.body.segments))
            del rebuilt
        folder = Path(tempfile.mkdtemp(prefix="bm25-"))
        (folder / "a").mkdir(), (folder / "b").mkdir()
        started = time.perf_counter()
        checksums = index.save(folder / "a")
        save_first = time.perf_counter() - started
        started = time.perf_counter()
        updated.save(folder / "b")  # the one-article update: its big segment is linked
        save_next = time.perf_counter() - started
        started = time.perf_counter()
        loaded = Bm25Index.load(folder / "a", checksums, n, dictionary=None)
        load = time.perf_counter() - started
        assert loaded is not None
        size = sum(f.stat().st_size for f in (folder / "a").iterdir()) / 2**20
        milvus = milvus_round_trip(index, n, folder) if with_milvus else None
        shutil.rmtree(folder)
        ours, counts, stored, asked = _question_times(index, texts, questions)
        load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"{n:,} passages (mean {np.mean([len(t) for t in texts]):.0f} characters): first "
            f"build {first:.1f} s, resident +{held:,.0f} MB, files {size:,.0f} MB",
            flush=True,
        )
        for label, (incremental, full, segments) in rows.items():
            print(
                f"  update of {label}: {incremental * 1000:.0f} ms updated ({segments} "
                f"segments) vs {full:.1f} s built from nothing = {full / incremental:.0f}×",
                flush=True,
            )
        print(
            f"  save {save_first:.2f} s, next generation's save {save_next:.3f} s, load "
            f"{load:.2f} s; per question: score() {ours:.2f} ms, BM25 from counts "
            f"{counts:.2f} ms vs bm25s's stored scores {stored:.2f} ms "
            f"({asked} questions); load average {load_avg}",
            flush=True,
        )
        if milvus:
            print(
                f"  Milvus Lite: stored with a build in {milvus[0]:.1f} s, read at a server's "
                f"start in {milvus[1]:.1f} s (a build from the passages: {first:.1f} s)",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--xquad", type=Path, default=Path("../shared/data/xquad"))
    parser.add_argument(
        "--milvus", action="store_true", help="also store and read it in Milvus Lite"
    )
    args = parser.parse_args()
    corpus = passages(args.data)
    if args.sizes:
        rebuilds(corpus, args.sizes, questions(args.xquad), args.milvus)
        return
    held = {}
    for n in (len(corpus) // 4, len(corpus) // 2, len(corpus)):
        gc.collect()
        tracemalloc.start()
        started = time.perf_counter()
        index = Bm25Index.build(corpus[:n], dictionary=None)
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
