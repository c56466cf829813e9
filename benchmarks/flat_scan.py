"""The 16-bit first pass of a flat search (``store/faiss/scan.py``) against the plain float32
flat search, in one process, question by question in turns (so that the machine's load and
its caches hit both alike).

For each of ``--queries`` distinct XQuAD questions (German and English in turn), two in a row
with the copy, two without: the whole ``Index.search`` (k = 5), the encoder pair's part of it,
and the rest; then the vector search alone on the same question vectors (the ranking's 100
candidates, and a timeline's 1,000), with every list of rows and scores compared between the
two, and the number of searches where the bound was not cleared and the flat search answered.

Usage: ``python benchmarks/flat_scan.py --index DIR [--data ../shared/data] [--queries 1200]``;
``--synthetic 99999`` instead: the vector search alone at that size (timing only);
``--after-encoding 9814 32768 100000``: the copy read in two halves against one part, each
search right after a real question was encoded (as in a search: the encoder's threads have
just run), in turns, at each size of synthetic vectors.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
from cpu_runtimes import choice_line  # benchmarks/cpu_runtimes.py: the CPU, its flags, auto
from query_profile import load_questions

REPO = Path(__file__).resolve().parents[1]


def compare_vector_search(store, vectors: list[np.ndarray]) -> None:
    """The store's search (with its copy, read in two halves where it is large enough)
    against the same copy read as one part and the flat index's own search, on ``vectors``:
    k = 100 (the ranking's candidates) and 1,000 (a timeline's)."""
    from diploqa.store.faiss.scan import HalfScan

    scan = store._scan
    whole = HalfScan(store.index, split_rows=len(store) + 1)
    whole.warm()
    for k in (100, 1000):
        same = ordered = 0
        largest, times = 0.0, {"copy": [], "one part": [], "flat": []}
        fallbacks = scan.fallbacks
        for vector in vectors:
            t = time.perf_counter()
            got = store.search(vector, k)
            times["copy"].append(time.perf_counter() - t)
            t = time.perf_counter()
            whole.search(vector, k)
            times["one part"].append(time.perf_counter() - t)
            t = time.perf_counter()
            want = store.index.search(vector, k)
            times["flat"].append(time.perf_counter() - t)
            time.sleep(0.01)  # FAISS's OpenMP team of this flat search spins for a while
            same += bool(np.array_equal(np.sort(got[1]), np.sort(want[1])))
            ordered += bool(np.array_equal(got[1], want[1]))
            largest = max(largest, float(np.abs(got[0] - want[0]).max()))
        p50 = {mode: float(np.median(t)) * 1000 for mode, t in times.items()}
        print(
            f"k={k}: the same rows for {same} of {len(vectors)} questions ({ordered} in the same "
            f"order), scores at most {largest:.1e} apart; {scan.fallbacks - fallbacks} answered "
            "flat after the bound; "
            f"vector search p50 {p50['copy']:.2f} ms ({len(scan._parts or ())} part(s)), "
            f"{p50['one part']:.2f} ms read as one part, {p50['flat']:.2f} ms flat"
        )


def synthetic(n: int) -> None:
    """Timing at a size the shared data does not reach: ``n`` vectors shaped like diploqa's
    (two unit halves, clustered around 50 centres so that top scores lie close together);
    synthetic vectors say nothing about recall (docs/benchmarks.md, "Scale")."""
    from diploqa.store.faiss import FaissStore

    rng = np.random.default_rng(0)

    def halves(m: int) -> np.ndarray:
        parts = [rng.standard_normal((m, d)).astype(np.float32) for d in (384, 512)]
        return np.hstack([p / np.linalg.norm(p, axis=1, keepdims=True) for p in parts])

    centres = halves(50)
    vectors = 0.3 * halves(n) + 0.95 * centres[np.arange(n) % 50]
    for part in (slice(0, 384), slice(384, None)):
        vectors[:, part] /= np.linalg.norm(vectors[:, part], axis=1, keepdims=True)
    store = FaissStore.from_vectors(vectors, 896)
    questions = vectors[rng.integers(0, n, 200)] + 0.05
    questions[:, 384:] *= 0.15
    print(choice_line())
    print(f"{n} synthetic vectors of 896 ({store.index_type}), load {os.getloadavg()[0]:.2f}")
    compare_vector_search(store, [q[None, :].astype(np.float32) for q in questions])


def after_encoding(sizes: list[int], data: Path, n_questions: int = 200) -> None:
    """Two halves against one part, each search right after encoding a real question."""
    import faiss

    from diploqa.encoders import get_encoder
    from diploqa.store.faiss.scan import HalfScan

    encoder = get_encoder()
    questions = iter(load_questions(data, 2 * n_questions * len(sizes)))
    print(choice_line())
    rng = np.random.default_rng(1)
    for n in sizes:
        vectors = rng.standard_normal((n, 896)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        flat = faiss.IndexFlatIP(896)
        flat.add(vectors)
        halves, whole = HalfScan(flat), HalfScan(flat, split_rows=n + 1)
        halves.warm()
        whole.warm()
        times: dict[str, list[float]] = {"two halves": [], "one part": []}
        for i in range(n_questions):
            order = ["two halves", "one part"] if i % 2 == 0 else ["one part", "two halves"]
            for mode in order:
                raw = encoder.encode_queries([next(questions)])[0]
                vector = encoder.query_vector(raw, 0.1).astype(np.float32)
                scan = halves if mode == "two halves" else whole
                t = time.perf_counter()
                scan.search(vector, 100)
                times[mode].append(time.perf_counter() - t)
        p50 = {mode: float(np.median(t)) * 1000 for mode, t in times.items()}
        print(
            f"{n} vectors, k=100, right after encoding a question: two halves p50 "
            f"{p50['two halves']:.2f} ms ({len(halves._parts)} part(s)), one part "
            f"{p50['one part']:.2f} ms; load {os.getloadavg()[0]:.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path)
    parser.add_argument("--synthetic", type=int, default=0, help="vectors (no index, no model)")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--queries", type=int, default=1200)
    parser.add_argument("--after-encoding", type=int, nargs="*", default=None, metavar="N")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if args.after_encoding:
        after_encoding(args.after_encoding, args.data)
        return 0
    if args.synthetic:
        synthetic(args.synthetic)
        return 0
    if args.index is None:
        parser.error("--index or --synthetic is needed")
    import diploqa

    index = diploqa.load_index(args.index).warm()
    store = index.stored.vectors
    scan = store._scan
    if scan is None:
        raise SystemExit(f"{args.index} is not a flat index ({store.index_type})")
    encoder, encode, last = index.encoder, index.encoder.encode_queries, []

    def timed(*a, **kw):
        t = time.perf_counter()
        try:
            return encode(*a, **kw)
        finally:
            last.append(time.perf_counter() - t)

    encoder.encode_queries = timed
    questions = load_questions(args.data, args.queries + 10)
    for q in questions[:10]:
        index.search(q, 5)
    search = {"copy": [], "flat": []}
    encoded = {"copy": [], "flat": []}
    for i, q in enumerate(questions[10:]):
        mode = "copy" if (i // 2) % 2 == 0 else "flat"
        store._scan = scan if mode == "copy" else None
        t = time.perf_counter()
        index.search(q, 5)
        search[mode].append(time.perf_counter() - t)
        encoded[mode].append(last[-1])
    store._scan = scan

    def ms(values, q=50):
        return float(np.percentile(values, q)) * 1000

    print(choice_line())
    print(f"{args.index}: {len(store)} vectors of {store.dimension}, load {os.getloadavg()[0]:.2f}")
    for mode in search:
        rest = np.array(search[mode]) - np.array(encoded[mode])
        print(
            f"search with {mode:4s}: p50 {ms(search[mode]):.2f} / p90 {ms(search[mode], 90):.2f}"
            f" ms; encoder pair p50 {ms(encoded[mode]):.2f} ms; the rest p50 {ms(rest):.2f} ms"
            f" ({len(search[mode])} questions)"
        )
    vectors = [
        encoder.query_vector(encoder.encode_queries([q])[0], 0.15 * (i % 2))
        for i, q in enumerate(questions[10:310])
    ]
    compare_vector_search(store, vectors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
