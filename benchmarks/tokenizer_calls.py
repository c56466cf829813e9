"""e5's tokenizer, sentencepiece, called with the whole list of texts (one call; the library
starts a pool of threads and lets go of the GIL) against one call per text (what
``encoders/xlmr_tokenizer.py`` does), in one process, in turns.

Two parts:

* the tokenizer alone, for one question, eight questions and sixteen passages (the sizes a
  search, a batch of concurrent questions and a build give it), the ids compared;
* ``Index.search`` (k = 5) on ``--queries`` distinct XQuAD questions (German and English in
  turn), each block of 50 asked with one way and then the other, alternating which goes first:
  p50, p90 and the CPU per search (USE's thread included).

Usage: ``python benchmarks/tokenizer_calls.py --index DIR [--data ../shared/data]
[--queries 600]``
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
sys.path.insert(0, str(REPO / "src"))
BLOCK = 50


def one_call(tokenizer, texts):
    """The list in one sentencepiece call (the code before)."""
    return tokenizer._pieces.encode([tokenizer._spaced(text) for text in texts])


def tokenizer_alone(tokenizer, questions: list[str], passages: list[str]) -> None:
    per_text = type(tokenizer)._segment_ids
    for name, texts, reps in (
        ("1 question", questions[:1], 4000),
        ("8 questions", questions[:8], 1000),
        ("16 passages", passages[:16], 200),
    ):
        assert one_call(tokenizer, texts) == per_text(tokenizer, texts), name
        times = {"one call": [], "per text": []}
        for _ in range(reps):
            for way, fn in (("one call", one_call), ("per text", per_text)):
                t = time.perf_counter()
                fn(tokenizer, texts)
                times[way].append(time.perf_counter() - t)
        print(
            f"tokenizer alone, {name:11s}: "
            + "; ".join(f"{w} p50 {np.median(v) * 1e6:.0f} µs" for w, v in times.items())
            + " (the same ids)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--queries", type=int, default=600)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import diploqa
    from diploqa.encoders.xlmr_tokenizer import SentencePieceTokenizer

    index = diploqa.load_index(args.index).warm()
    questions = load_questions(args.data, args.queries + 20)
    passages = [c.text for c in index.stored.chunks[:64]]
    e5 = getattr(index.encoder, "primary", index.encoder)  # e5 beside USE, or alone
    tokenizer = getattr(e5, "tokenizer", None)
    if not isinstance(tokenizer, SentencePieceTokenizer):
        raise SystemExit(f"this index's e5 ({e5.backend}) does not tokenize with sentencepiece")
    print(choice_line())
    print(f"{args.index}: {len(index)} passages, load {os.getloadavg()[0]:.2f}")
    tokenizer_alone(tokenizer, questions, passages)

    per_text = SentencePieceTokenizer._segment_ids
    ways = {"one call": one_call, "per text": per_text}
    for q in questions[:20]:
        index.search(q, 5)
    times: dict[str, list[float]] = {w: [] for w in ways}
    cpu = dict.fromkeys(ways, 0.0)
    rest = questions[20:]
    try:
        for b in range(0, len(rest) - BLOCK + 1, BLOCK):
            order = list(ways) if (b // BLOCK) % 2 == 0 else list(ways)[::-1]
            for way in order:
                SentencePieceTokenizer._segment_ids = ways[way]
                c = time.process_time()
                for q in rest[b : b + BLOCK]:
                    t = time.perf_counter()
                    index.search(q, 5)
                    times[way].append(time.perf_counter() - t)
                cpu[way] += time.process_time() - c
    finally:
        SentencePieceTokenizer._segment_ids = per_text
    for way, values in times.items():
        ms = np.array(values) * 1000
        print(
            f"Index.search, {way:8s}: p50 {np.median(ms):.2f} / p90 {np.percentile(ms, 90):.2f}"
            f" ms, CPU {cpu[way] / len(values) * 1000:.1f} core-ms per search"
            f" ({len(values)} searches)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
