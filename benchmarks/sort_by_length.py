"""Side by side: ``build.embed_passages`` (passages sorted by length) against plain slices of 64.

Reads German Wikinews articles from ``../shared/data/news_de`` (by path, never copied), chunks
them, shuffles 384 passages and embeds them both ways with the default encoder, interleaved.

Usage: ``python benchmarks/sort_by_length.py [--data ../shared/data/news_de] [--reps 2]``
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from pathlib import Path

import numpy as np

from diploqa.articles import parse_article
from diploqa.build import embed_passages
from diploqa.chunking import PASSAGE, chunk_articles
from diploqa.config import ChunkingConfig
from diploqa.encoders import get_encoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/news_de"))
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    lines = (args.data / "dewikinews_quotes" / "articles.jsonl").read_text(encoding="utf-8")
    texts = [json.loads(line)["text"] for line in lines.splitlines()[:200]]
    articles = [parse_article(t, f"{i}.txt") for i, t in enumerate(texts) if t.strip()]
    encoder = get_encoder()
    chunks = chunk_articles(articles, encoder.count_tokens, ChunkingConfig())
    passages = [c.text for c in chunks if c.kind == PASSAGE]
    random.Random(0).shuffle(passages)
    passages = passages[:384]
    encoder.encode_passages(passages[:16])  # warm-up

    def plain() -> np.ndarray:
        return np.vstack(
            [encoder.encode_passages(passages[s : s + 64]) for s in range(0, len(passages), 64)]
        )

    unsorted_rates, sorted_rates = [], []
    for _ in range(args.reps):
        start = time.perf_counter()
        a = plain()
        unsorted_rates.append(len(passages) / (time.perf_counter() - start))
        start = time.perf_counter()
        b = embed_passages(encoder, passages, None)
        sorted_rates.append(len(passages) / (time.perf_counter() - start))
    print(
        f"{len(passages)} passages: slices of 64 {np.median(unsorted_rates):.1f}/s, sorted by "
        f"length {np.median(sorted_rates):.1f}/s "
        f"({np.median(sorted_rates) / np.median(unsorted_rates):.2f}×); "
        f"largest vector difference {float(np.abs(a - b).max()):.4f}"
    )


if __name__ == "__main__":
    main()
