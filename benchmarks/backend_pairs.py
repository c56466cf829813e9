"""May an index mix OpenVINO int8 and OpenVINO f32 vectors? (the CPU issue of docs/benchmarks.md)

On a CPU without VNNI the f32 graph of the default model answers a question in three quarters
of the int8 model's time (``benchmarks/cpu_runtimes.py``). Choosing it there would change the
runtime of servers whose indexes were built with int8 (and the reverse when an index moves to
a VNNI machine), so it may only be chosen where the two runtimes' vectors search each other
as well as their own: this benchmark measures that.

XQuAD (240 German paragraphs, 1,190 questions in German and in English, loaded as in
``benchmarks/quality.py``) is indexed with passages embedded by each runtime, and every index
is searched with question vectors of each runtime (USE's half is the same in all), by the
default ranking and by the dense e5 score alone (the vectors' difference undiluted). The
bound is the one the GPU pairing met (``store.manifest.INTERCHANGEABLE_BACKENDS``):
|ΔMRR@10| ≤ 0.005 against int8 passages searched by int8 questions.

Usage::

    python benchmarks/backend_pairs.py --xquad ../shared/data/xquad
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import quality  # benchmarks/quality.py: the XQuAD loader, metrics and ranking variants
import report as bench_report
from device_vectors import measure  # (ranking, language) → metrics for an index

import diploqa
from diploqa.build import build
from diploqa.encoders import EnsembleEncoder, get_embedder, get_use
from diploqa.store import open_location

RUNTIMES = {"openvino-int8": "openvino", "openvino-f32": "openvino-f32"}
BOUND = 0.005


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", type=Path, required=True, help="folder with xquad.*.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("sentence_transformers", "transformers", "diploqa", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    started = time.perf_counter()
    dataset = quality.load_xquad(args.xquad)
    encoders = {
        name: EnsembleEncoder(get_embedder(backend=backend), get_use())
        for name, backend in RUNTIMES.items()
    }
    results: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        quality.write_articles(dataset, work / "articles")
        for passages, encoder in encoders.items():
            build(work / "articles", work / passages, encoder=encoder)
            stored = open_location(work / passages).load()
            for questions, query_encoder in encoders.items():
                index = diploqa.Index(stored, query_encoder)
                results[passages, questions] = measure(index, dataset)
                logging.info("%s passages, %s questions: done", passages, questions)
    base = results["openvino-int8", "openvino-int8"]
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} UTC, commit `{bench_report.commit()}`, on "
        f"{bench_report.cpu()}; {(time.perf_counter() - started) / 60:.0f} min. Command: "
        "`python benchmarks/backend_pairs.py --xquad ../shared/data/xquad`.",
        "",
        "| passages by | questions by | ranking | language | R@1 | MRR@10 | ΔMRR@10 vs int8/int8 |",
        "|---|---|---|---|---|---|---|",
    ]
    worst, largest = 0.0, 0.0
    for (passages, questions), metrics in results.items():
        for (ranking, lang), m in metrics.items():
            delta = m["MRR@10"] - base[ranking, lang]["MRR@10"]
            worst, largest = min(worst, delta), max(largest, abs(delta))
            lines.append(
                f"| {passages} | {questions} | {ranking} | {lang} | {m['R@1']:.3f} | "
                f"{m['MRR@10']:.4f} | {delta:+.4f} |"
            )
    verdict = "within" if -worst <= BOUND else "outside"
    lines.append(
        f"\nLargest loss of MRR@10: {-worst:.4f} ({verdict} the bound {BOUND}); largest change "
        f"either way: {largest:.4f}."
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
