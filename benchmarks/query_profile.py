"""Where a question's milliseconds go, and ``Index.search`` against the naive baseline.

Side by side in one process, question by question (so that load on a shared machine hits
both alike): ``Index.search(q, k=5)`` on an existing index, and the naive baseline, plain
sentence-transformers on PyTorch fp32 (``encode_query``) plus an exact FAISS search over the
same passages. Spans of the search are timed by wrapping its parts: the encoder pair (e5 and
USE; since the fast path USE runs beside e5, so the pair's wall time is less than the sum),
e5 alone, USE calls (question and highlight sentences), BM25, the ranking (with the FAISS
search) and the highlights. Runs against whichever ``diploqa`` is on ``PYTHONPATH``, so the
same script profiles the code before and after a change.

Usage: ``python benchmarks/query_profile.py --index DIR [--data ../shared/data] [--reps 3]``
(``--reps`` rounds of ``--queries`` distinct questions: no question is asked twice).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
from cpu_runtimes import choice_line  # benchmarks/cpu_runtimes.py: the CPU, its flags, auto

REPO = Path(__file__).resolve().parents[1]


def load_questions(data: Path, n: int) -> list[str]:
    """``n`` XQuAD questions, German and English alternating (what speed.py asks)."""
    de = json.loads((data / "xquad" / "xquad.de.json").read_text(encoding="utf-8"))
    en = json.loads((data / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))

    def qs(doc):
        return [qa["question"] for a in doc["data"] for p in a["paragraphs"] for qa in p["qas"]]

    return [q for pair in zip(qs(de), qs(en), strict=False) for q in pair][:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import faiss
    from sentence_transformers import SentenceTransformer

    import diploqa
    from diploqa.encoders import materialize_e5_small

    index_module = importlib.import_module("diploqa.index")
    index = diploqa.load_index(args.index)
    index.warm()
    naive = SentenceTransformer(str(materialize_e5_small()), device="cpu")
    # The naive side searches the index's own e5 vectors (same count and dimension as naive
    # passage vectors: the same FAISS cost) instead of re-embedding 8,811 passages on PyTorch.
    dim = int(naive.get_embedding_dimension())
    rows = np.arange(len(index.stored.chunks), dtype=np.int64)
    flat = faiss.IndexFlatIP(dim)
    flat.add(np.ascontiguousarray(index.stored.vectors.reconstruct(rows)[:, :dim]))
    # Every question is asked once (warm-up included): nothing of one question's work, not even
    # the highlight sentences of the passages it finds, is reused for the same question.
    questions = load_questions(args.data, args.queries * args.reps + 5)

    spans: dict[str, list[float]] = {}

    def wrap(owner, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return inner(*a, **kw)
            finally:
                spans.setdefault(label, []).append(time.perf_counter() - t)

        setattr(owner, name, timed)

    encoder = index.encoder
    primary = getattr(encoder, "primary", encoder)
    # the chosen runtime's own time for a question (what cpu_runtimes.py measures), unwrapped
    e5_alone = getattr(primary.model, "encode_one_query", None) or (
        lambda q: primary.encode_queries([q])
    )
    wrap(encoder, "encode_queries", "encoder pair (e5 + USE) per question")
    wrap(encoder.primary, "encode_queries", "e5 per question")
    if hasattr(encoder, "secondary"):
        wrap(encoder.secondary, "encode", "USE calls (question, highlight sentences)")
    wrap(index.lexical, "score", "BM25")
    wrap(index.ranker, "rank", "ranking (with the FAISS search)")
    wrap(index_module, "highlights", "highlights (with their USE call)")

    def naive_search(q: str) -> None:
        vector = naive.encode_query([q], normalize_embeddings=True, convert_to_numpy=True)
        flat.search(vector, 5)

    for q in questions[:5]:  # warm-up
        index.search(q, 5)
        naive_search(q)
    for q in questions[:5]:
        e5_alone(q)
    spans.clear()
    ours, base, alone = [], [], []
    steps = [
        (lambda q: index.search(q, 5), ours),
        (naive_search, base),
        (e5_alone, alone),
    ]
    shuffle = random.Random(0).shuffle
    for rep in range(args.reps):
        for q in questions[5 + rep * args.queries : 5 + (rep + 1) * args.queries]:
            shuffle(steps)  # in turn, in a new order each time: load and caches hit all alike
            for run, times in steps:
                t = time.perf_counter()
                run(q)
                times.append(time.perf_counter() - t)

    def ms(values, q):
        return float(np.percentile(values, q)) * 1000

    n = len(ours)
    R = {
        "index": str(args.index),
        "passages": len(index),
        "diploqa": str(Path(diploqa.__file__).parents[2]),
        "load": os.getloadavg(),
        "search_ms": {"p50": ms(ours, 50), "p95": ms(ours, 95), "p99": ms(ours, 99)},
        "naive_ms": {"p50": ms(base, 50), "p95": ms(base, 95), "p99": ms(base, 99)},
        "e5_alone_ms": {"p50": ms(alone, 50), "p95": ms(alone, 95)},
        "cpu": choice_line(),
        "ratio_p50": ms(ours, 50) / ms(base, 50),
        "p99_over_p50": ms(ours, 99) / ms(ours, 50),
        "spans": {
            label: {
                "calls_per_search": len(v) / n,
                "p50_ms": ms(v, 50),
                "ms_per_search": 1000 * sum(v) / n,
            }
            for label, v in spans.items()
        },
    }
    print(R["cpu"])
    print(f"{R['diploqa']}: {R['passages']} passages, load {R['load'][0]:.2f}")
    print(
        f"search p50 {R['search_ms']['p50']:.1f} / p95 {R['search_ms']['p95']:.1f} / p99 "
        f"{R['search_ms']['p99']:.1f} ms; naive p50 {R['naive_ms']['p50']:.1f} ms; ratio "
        f"{R['ratio_p50']:.2f}; p99/p50 {R['p99_over_p50']:.2f}"
    )
    e5 = R["e5_alone_ms"]["p50"]
    print(
        f"e5 alone (the chosen runtime, encode_one_query) p50 {e5:.1f} ms: search p50 is e5 "
        f"+ {R['search_ms']['p50'] - e5:.1f} ms (target: + 3 ms)"
    )
    for label, s in R["spans"].items():
        print(
            f"  {label:45s} {s['calls_per_search']:.2f} calls, p50 {s['p50_ms']:.2f} ms, "
            f"{s['ms_per_search']:.2f} ms per search"
        )
    if args.json:
        args.json.write_text(json.dumps(R, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
