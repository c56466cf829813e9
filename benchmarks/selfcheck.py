"""Issue #23 on this CPU: does a text get one vector alone and batched on every runtime, what the
self-check and the compiled-model cache cost at a start.

    python benchmarks/selfcheck.py --ntrex ../shared/data/ntrex [--out docs/benchmarks.md]

For each OpenVINO runtime: a start with an empty compiled-model cache (compile, self-check,
store), a start from the cache (import, self-check), the self-check alone, its probes' worst
cosines, and on 200 real news sentences (NTREX German, each alone, in batches of 32 padded to
the longest, and the same in another order) the worst cosine batched vs alone. Prints the CPU.

On a CPU with AMX diploqa caps every OpenVINO model of the process below AMX (issue #23), so
this measures the capped kernels; to see what AMX itself does, run it a second time with
``ONEDNN_MAX_CPU_ISA=ALL`` (the user's own setting wins over the cap), each in its own process.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from report import cpu, write_section

from diploqa.encoders import export_openvino, materialize_e5_small, quantize_openvino, selfcheck
from diploqa.encoders.compiled import CompiledCache
from diploqa.encoders.openvino import OPENVINO_SHAPE_CACHE, OpenVINOEncoder


def _properties(backend: str) -> dict:
    properties = {"PERFORMANCE_HINT": "LATENCY", "CPU_RUNTIME_CACHE_CAPACITY": OPENVINO_SHAPE_CACHE}
    if backend == "openvino-f32":
        properties["INFERENCE_PRECISION_HINT"] = "f32"
    return properties


def _probe_cosines(model: OpenVINOEncoder) -> tuple[float, float]:
    """Worst cosine batched vs alone, and vs the PyTorch reference, over the probes."""
    reference = selfcheck._reference(model._model_name)
    worst_batch, worst_reference = 1.0, 1.0
    for kind, texts in (("query", selfcheck.QUERIES), ("document", selfcheck.PASSAGES)):
        batched = model._encode(texts, model.prompts[kind], len(texts))
        alone = np.vstack([model._encode([t], model.prompts[kind], 1) for t in texts])
        worst_batch = min(worst_batch, float((batched * alone).sum(1).min()))
        if reference is not None:
            worst_reference = min(worst_reference, float((alone * reference[kind]).sum(1).min()))
    return worst_batch, worst_reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ntrex", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sentences = (args.ntrex / "newstest2019-ref.deu.txt").read_text(encoding="utf-8")
    sentences = [s for s in sentences.splitlines() if s.strip()][:200]
    folder = materialize_e5_small()
    print(cpu())
    rows = []
    for backend in ("openvino", "openvino-bf16", "openvino-f32"):
        ir = quantize_openvino(folder) if backend == "openvino" else export_openvino(folder)
        quantized, properties = backend == "openvino", _properties(backend)
        cold, warm, checks = [], [], []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as scratch:
                cache = CompiledCache(Path(scratch))
                started = time.perf_counter()
                model = OpenVINOEncoder(folder, ir, properties, quantized, cache)
                cold.append(time.perf_counter() - started)
                started = time.perf_counter()
                model = OpenVINOEncoder(folder, ir, properties, quantized, cache)
                warm.append(time.perf_counter() - started)
                started = time.perf_counter()
                assert model._check(model.compiled).ok
                checks.append(time.perf_counter() - started)
        probe_batch, probe_reference = _probe_cosines(model)
        prompt = model.prompts["document"]
        alone = np.vstack([model._encode([s], prompt, 1) for s in sentences])
        batched = model._encode(sentences, prompt, 32)
        shuffled = np.random.default_rng(0).permutation(len(sentences))
        other = np.empty_like(batched)
        other[shuffled] = model._encode([sentences[i] for i in shuffled], prompt, 32)
        news = float(min((batched * alone).sum(1).min(), (other * alone).sum(1).min()))
        row = (
            f"| {backend} ({model.precision}) | {statistics.median(cold):.2f} s "
            f"| {statistics.median(warm):.2f} s | {1000 * statistics.median(checks):.0f} ms "
            f"| {probe_batch:.5f} | {probe_reference:.5f} | {news:.5f} |"
        )
        print(row, flush=True)
        rows.append(row)
    header = (
        "| runtime | start, empty cache (compile + check + store) | start from the cache "
        "(import + check) | self-check alone | probes batched vs alone (worst) | probes vs "
        "PyTorch fp32 (worst) | 200 news sentences batched vs alone (worst) |\n"
        "|---|---|---|---|---|---|---|"
    )
    body = (
        f"`python benchmarks/selfcheck.py --ntrex ../shared/data/ntrex`, median of "
        f"{args.rounds}; {cpu()}. The start times include reading the tokenizer (about 0.6 s)."
        f"\n\n{header}\n" + "\n".join(rows)
    )
    print(body)
    if args.out:
        write_section(args.out, "selfcheck", "One vector per text on every runtime (issue #23)",
                      body)  # fmt: skip


if __name__ == "__main__":
    main()
