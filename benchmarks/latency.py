"""Query latency on the seeds, side by side: ``Index.search`` against the naive baseline.

The naive baseline is plain sentence-transformers on PyTorch fp32 with the materialised default
model (``encode_query``) plus an exact FAISS search over the same passages. Both run
interleaved, question by question, so that load on a shared machine hits both alike. A quick
check beside ``benchmarks/speed.py``, which also measures the 2,000-article news index.

Usage: ``python benchmarks/latency.py [--reps 5]``
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import diploqa  # noqa: E402
from diploqa.encoders import materialize_e5_small  # noqa: E402


def percentiles(seconds: list[float]) -> str:
    p50, p95 = np.percentile(seconds, [50, 95]) * 1000
    return f"{p50:.1f} / {p95:.1f} ms"


def main() -> None:
    from sentence_transformers import SentenceTransformer
    from test_search import SEED_QUESTIONS_DE, SEED_QUESTIONS_EN

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        index = diploqa.build_index(REPO / "seeds", Path(tmp) / "index")
        naive = SentenceTransformer(str(materialize_e5_small()), device="cpu", backend="torch")
        passages = [c.text for c in index.stored.chunks if c.kind == "passage"]
        flat = faiss.IndexFlatIP(index.encoder.primary.dim)
        flat.add(naive.encode_document(passages, normalize_embeddings=True))
        print("| questions | Index.search p50 / p95 | naive encode_query | naive + FAISS | ratio |")
        print("|---|---|---|---|---|")
        for name, questions in (("German", SEED_QUESTIONS_DE), ("English", SEED_QUESTIONS_EN)):
            texts = [q for q, _ in questions]
            for q in texts[:3]:  # warm-up
                index.search(q)
                naive.encode_query([q])
            ours, encode, total = [], [], []
            for _ in range(args.reps):
                for q in texts:
                    start = time.perf_counter()
                    index.search(q, k=5)
                    ours.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    vector = naive.encode_query([q], normalize_embeddings=True)
                    encode.append(time.perf_counter() - start)
                    flat.search(vector, 5)
                    total.append(time.perf_counter() - start)
            ratio = np.median(ours) / np.median(encode)
            print(
                f"| {name} | {percentiles(ours)} | {percentiles(encode)} | "
                f"{percentiles(total)} | {ratio:.2f} |"
            )


if __name__ == "__main__":
    main()
