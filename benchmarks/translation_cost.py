"""What the German→English dictionary lookup (``RankingConfig.german_to_english``) costs a
search, side by side with the search without it, on one index in one process.

The index is NTREX with every third article left in English (``quality.load_ntrex_mixed``);
the questions are its German headlines and sentences. Both settings are timed in alternation,
question by question (each first for half of the questions: the second search of a question
finds cached sentence vectors), so a shared machine's load falls on both alike; the load
average is printed with the numbers. Usage::

    python benchmarks/translation_cost.py --ntrex ../shared/data/ntrex [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import quality  # benchmarks/quality.py: the NTREX loader

import diploqa


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ntrex", type=Path, required=True, help="NTREX folder")
    parser.add_argument("--rounds", type=int, default=3, help="times each question is asked")
    args = parser.parse_args()
    dataset = quality.load_ntrex_mixed(args.ntrex, "mixed")
    questions = [q.question for key, qs in dataset.questions.items() if key.startswith("de-")
                 for q in qs]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        quality.write_articles(dataset, work / "articles")
        on = diploqa.build_index(work / "articles", work / "index")
        off = on.with_ranking(replace(on.ranking, german_to_english=False))
        for index in (on, off):  # warm: keyword index, dictionary table, compiled shapes
            index.search(questions[0])
        times: dict[str, dict[str, list[float]]] = {
            name: {"keywords": [], "search": []} for name in ("on", "off")
        }
        load = os.getloadavg()[0]
        for _ in range(args.rounds):
            for n, question in enumerate(questions):
                # the second search of a question finds its sentences' USE vectors cached:
                # each setting goes first for half of the questions
                pair = (("on", on), ("off", off))
                for name, index in pair if n % 2 else pair[::-1]:
                    started = time.perf_counter()
                    index.lexical.score(question)
                    times[name]["keywords"].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    index.search(question)
                    times[name]["search"].append(time.perf_counter() - started)
        load = (load + os.getloadavg()[0]) / 2
    print(f"{len(questions)} German questions × {args.rounds} rounds over {len(on)} passages; "
          f"load average {load:.1f} on {os.cpu_count()} cores")  # fmt: skip
    for part in ("keywords", "search"):
        p50 = {name: statistics.median(times[name][part]) * 1000 for name in times}
        print(f"{part}: p50 {p50['on']:.2f} ms with the lookup, {p50['off']:.2f} ms without "
              f"(+{p50['on'] - p50['off']:.2f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
