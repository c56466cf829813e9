"""A question end to end at a million passages (issue #29), with the real model.

Embedding a million real passages takes hours on two cores, so the index is the one
``update_memory.py prepare --passages 1000000`` builds: synthetic articles (sentences of the
seeds' words) whose vectors are grown from the real news vectors (``scale.Generator``). The
question side is real: the default encoder (e5 + USE) embeds real XQuAD questions, BM25 scores
them over the synthetic texts, the ranking, the filters and the highlights run as in a server.
Vectors only resemble real ones, and the texts draw on a vocabulary of about two thousand seed
words, so a question word occurs in far more passages than in real news: the keyword part is
an upper bound. Prints the CPU and its flags, the memory of the loaded process (the index with
its keyword index and the models) and the times::

    PYTHONPATH=src:benchmarks python benchmarks/million_search.py --index /tmp/um1m/index \\
        --data ../shared/data --queries 100
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import time
from pathlib import Path

import numpy as np
from cpu_runtimes import choice_line  # benchmarks/cpu_runtimes.py: the CPU, its flags, auto
from query_profile import load_questions

REPO = Path(__file__).resolve().parents[1]


def memory() -> dict[str, int]:
    """VmRSS and VmHWM of this process in MB."""
    text = Path("/proc/self/status").read_text()
    return {k: int(re.search(rf"^{k}:\s+(\d+) kB", text, re.M).group(1)) // 1024
            for k in ("VmRSS", "VmHWM")}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    from diploqa.config import Settings
    from diploqa.encoders import get_encoder
    from diploqa.index import Index
    from diploqa.store import open_location

    print(choice_line())
    settings = Settings.from_env()
    started = time.perf_counter()
    stored = open_location(args.index).load()  # the synthetic model's name is not checked
    stored.saved_keywords()  # as a server holds it
    loaded_index = time.perf_counter() - started
    index_only = memory()
    encoder = get_encoder(None, settings=settings.encoder)
    index = Index(stored, encoder, dictionary=settings.dictionary)
    index.warm()
    loaded = memory()
    questions = load_questions(args.data, 2 * args.queries + 5)
    primary = getattr(encoder, "primary", encoder)
    e5_alone = getattr(primary.model, "encode_one_query", None) or (
        lambda q: primary.encode_queries([q])
    )
    filtered = {"outlet": "Zeitung 3", "since": "2010"}  # one article in 8, 15 of 25 years
    for q in questions[:5]:  # warm-up
        index.search(q, 10)
        index.search(q, 10, **filtered)
        e5_alone(q)
    times: dict[str, list[float]] = {"search": [], "search, filtered": [], "e5 alone": []}
    hits = 0
    for i, q in enumerate(questions[5 : 5 + args.queries]):
        steps = [
            ("search", lambda q=q: index.search(q, 10)),
            ("search, filtered", lambda q=q: index.search(q, 10, **filtered)),
            ("e5 alone", lambda q=q: e5_alone(q)),
        ]
        for name, run in steps[i % 3 :] + steps[: i % 3]:  # in turn, the order rotating
            t = time.perf_counter()
            found = run()
            times[name].append(time.perf_counter() - t)
            if name == "search, filtered":
                hits += all(h.outlet == "Zeitung 3" and h.date >= "2010" for h in found)
    result = {
        "passages": len(index),
        "index load s": round(loaded_index, 1),
        "resident MB, index with keywords": index_only["VmRSS"],
        "resident MB, with the models (a server)": loaded["VmRSS"],
        "peak MB while loading": loaded["VmHWM"],
        "questions": args.queries,
        "filtered answers all inside the filter": f"{hits}/{args.queries}",
        "load average": round(os.getloadavg()[0], 1),
    }
    for name, values in times.items():
        p = np.percentile(np.array(values) * 1000, [50, 95, 99])
        result[f"{name} p50/p95/p99 ms"] = [round(float(x), 1) for x in p]
    p50 = float(np.median(times["search"]))
    result["questions per second, one at a time"] = round(1 / p50, 1)
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
