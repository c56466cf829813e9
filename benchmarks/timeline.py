"""What a timeline costs per question, beside the search, at 2,000 and 100,000 passages.

The archive: the German Wikinews sample (``--index``: its FAISS index, built with the default
model, e.g. by ``benchmarks/timeline_quality.py``). At 2,000 passages: its first articles, as
they are. At 100,000: every article copied until there are that many passages, each copy a
story another outlet carried ("Outlet 1", "Outlet 2", …; title numbered, same date), its
vectors the original's plus noise (cosine about 0.95 to it, its norm kept), so that a question
matches many articles at once, as in a large archive with agency copies. The vector store is
what diploqa makes for that many passages (exact below ``ANN_THRESHOLD``, HNSW from there),
the keyword index is built from the copies' texts. Model and encoder: the real ones.

Questions: the 38 subject questions (German and English) and 8 control questions of
``benchmarks/timeline_quality.py``. Per question, in turns, ``--rounds`` times:

* ``search``: ``Index.search(q, k=10)``, what the page and the API do today;
* ``timeline``: ``Index.timeline(q)`` alone (it encodes the question itself);
* ``search + timeline + facets``: ``Index.ask(q, k=10, timeline="month", facets=True)``, what
  ``/api/search?…&timeline=month&facets=outlet`` runs; its excess over ``search`` is what
  counting adds to a search;
* ``counting``: that excess measured directly, on a question already read (encoded and
  keyword-scored, as ``ask`` shares it): the wider candidate search, each article's best
  chunk, the threshold, the periods and the outlets (the index's private steps, timed alone
  because on a shared machine the difference of two noisy timings is noisier still).

Usage::

    python benchmarks/timeline.py --index /tmp/wikinews-index --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import report as bench_report  # benchmarks/report.py
from timeline_quality import CONTROLS, SUBJECTS

import diploqa
from diploqa.config import VectorSettings
from diploqa.lexical import Bm25Index, shared_titles
from diploqa.store import StoredIndex
from diploqa.store.faiss import FaissStore
from diploqa.timeline import count_outlets, count_periods

NOISE_COSINE = 0.95


def log(*args) -> None:
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def resized(index: diploqa.Index, passages: int, seed: int = 0) -> diploqa.Index:
    """``index``'s first articles up to ``passages`` passages, or its articles copied (see
    the module's docstring) until it has that many."""
    stored = index.stored
    by_article: dict[str, list[int]] = {}
    for row, chunk in enumerate(stored.chunks):
        by_article.setdefault(chunk.article_id, []).append(row)
    originals = list(stored.articles.values())
    rng = np.random.default_rng(seed)
    sigma = np.sqrt((1 / NOISE_COSINE**2 - 1) / stored.dimension)
    articles, chunks, blocks, shown, copy = {}, [], [], 0, 0
    while shown < passages:
        for article in originals:
            if shown >= passages:
                break
            new = article if copy == 0 else replace(
                article, id=f"{article.id}@{copy}", title=f"{article.title} ({copy})",
                outlet=f"Outlet {copy}",
            )  # fmt: skip
            rows = by_article.get(article.id, [])
            articles[new.id] = new
            chunks += [replace(stored.chunks[r], article_id=new.id) for r in rows]
            vectors = stored.vectors.reconstruct(np.asarray(rows, np.int64))
            if copy:  # noise in proportion to the norm (the ensemble's is √2), kept
                norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                noisy = vectors + rng.normal(0, sigma, vectors.shape).astype(np.float32) * norms
                vectors = noisy * (norms / np.linalg.norm(noisy, axis=1, keepdims=True))
            blocks.append(vectors)
            shown += sum(stored.chunks[r].kind == "passage" for r in rows)
        copy += 1
    log(f"{shown} passages, {len(chunks)} chunks, {len(articles)} articles: vectors")
    store = FaissStore.from_vectors(np.vstack(blocks), stored.dimension, VectorSettings())
    log(f"{store.index_type}: keyword index")
    made = StoredIndex(stored.path, stored.manifest, store, articles, chunks)
    keywords = Bm25Index.build(made.passages(), None, shared_titles=shared_titles(articles, chunks))
    made = StoredIndex(stored.path, stored.manifest, store, articles, chunks, keywords=keywords)
    return diploqa.Index(made, index.encoder, index.ranking, index.dictionary).warm()


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def measure(index: diploqa.Index, questions: list[str], rounds: int) -> dict:
    for question in questions[:3]:  # first use: the mean vector, the centroids
        index.ask(question, 10, timeline="month", facets=True)
    times: dict[str, list[float]] = {"search": [], "timeline": [], "both": [], "counting": []}
    matched, capped = [], []
    for _ in range(rounds):
        for question in questions:
            times["search"].append(timed(lambda q=question: index.search(q, k=10))[0])
            times["timeline"].append(timed(lambda q=question: index.timeline(q))[0])
            seconds, answer = timed(
                lambda q=question: index.ask(q, 10, timeline="month", facets=True)
            )
            times["both"].append(seconds)
            matched.append(len(answer.matches))
            capped.append(answer.matches.capped)
            query = diploqa.Query(question)
            read = index._read(query)
            times["counting"].append(timed(lambda q=query, r=read: counting(index, q, r))[0])
    return {"times": times, "matched": matched, "capped": capped}


def counting(index: diploqa.Index, query: diploqa.Query, read: object) -> None:
    """What ``ask`` does beyond the search for a timeline and facets, given the question as
    the index read it (``Index._read``, outside the timing)."""
    matches = index._matches(query, read)
    count_periods(index.columns, matches.positions, "month", matches.capped)
    count_outlets(index.columns, matches.positions)


def ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def row(index: diploqa.Index, result: dict) -> str:
    times = result["times"]
    added = [b - s for b, s in zip(times["both"], times["search"], strict=True)]
    return (
        f"| {len(index):,} | {index.stored.vectors.index_type} | "
        f"{ms(times['search'], 50):.1f} / {ms(times['search'], 95):.1f} | "
        f"{ms(times['timeline'], 50):.1f} / {ms(times['timeline'], 95):.1f} | "
        f"{ms(times['both'], 50):.1f} / {ms(times['both'], 95):.1f} | "
        f"{statistics.median(added) * 1000:+.1f} | "
        f"{ms(times['counting'], 50):.1f} / {ms(times['counting'], 95):.1f} | "
        f"{statistics.mean(result['matched']):.0f} ({max(result['matched'])}) | "
        f"{statistics.mean(result['capped']):.2f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True, help="the Wikinews FAISS index")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 100_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="write the section here")
    args = parser.parse_args()
    base = diploqa.load_index(args.index)
    questions = [q for s in SUBJECTS for q in (s.german, s.english)] + CONTROLS
    lines = [
        "| passages | vector store | search p50 / p95 ms | timeline alone p50 / p95 ms | "
        "search + timeline + facets p50 / p95 ms | added to a search, median ms | "
        "counting alone p50 / p95 ms | matching articles, mean (max) | capped |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    loads = []
    for size in args.sizes:
        os.setpriority(os.PRIO_PROCESS, 0, 10)  # building: yield to the others on the machine
        index = resized(base, size)
        os.setpriority(os.PRIO_PROCESS, 0, 0)
        loads.append(os.getloadavg()[0])
        log(f"{len(index)} passages: timing ({bench_report.cpu()}, load {loads[-1]:.1f})")
        lines.append(row(index, measure(index, questions, args.rounds)))
        loads.append(os.getloadavg()[0])
        log(lines[-1])
        del index
    text = "\n".join(
        [
            f"Measured {date.today().isoformat()}, commit `{bench_report.commit()}`, "
            f"{bench_report.cpu()}, Python {sys.version.split()[0]}; "
            f"load average {min(loads):.1f}–{max(loads):.1f} while timing. "
            f"{len(questions)} questions × {args.rounds} rounds, k = 10, "
            f"`match_candidates` {base.ranking.match_candidates}, model "
            f"{base.manifest.model}. Command: `python benchmarks/timeline.py --index …`.",
            "",
            *lines,
            "",
            "Why counting does not grow with the archive: it scores at most "
            "`match_candidates` chunks by meaning (the vector store's search for them: HNSW "
            "from 100,000 passages on, whose cost grows far slower than the archive) and as "
            "many by keywords (a partition of the keyword scores the search computes anyway), "
            "then takes each article's best with array operations and counts the matches by "
            "period and outlet over their positions only. The question is encoded once for "
            "the hits and the counts (`Index.ask`), so asking for both costs the search plus "
            "the counting column, not two searches; `Index.timeline` alone encodes it itself "
            "and still costs less than a search, which also picks each hit's answer sentence.",
        ]
    )
    print(text)
    if args.out:
        bench_report.write_section(args.out, "timeline-cost", "Timeline: cost per question", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
