"""Are the GPU path's passage vectors interchangeable with the CPU runtime's? (issue #13)

XQuAD (240 German paragraphs, 1,190 questions in German and in English, loaded as in
``benchmarks/quality.py``) is indexed twice or more:

* ``cpu``: the default build, passages embedded by the CPU runtime (OpenVINO int8);
* ``bf16`` / ``fp16``: passages embedded by the PyTorch reduced-precision path that
  ``diploqa index --device cuda`` runs, on ``--device`` (``cuda`` where PyTorch sees a GPU,
  else ``cpu``).

Every index is then loaded as ``diploqa search`` loads it, so questions are always encoded by
the CPU runtime, and ranked both by the default ranking and by the dense e5 score alone (which
shows the vectors' difference undiluted by BM25 and USE). Also reported: the cosine between
the two runtimes' e5 vectors of the same passage, and the passages per second of each path's
e5 encoding (the USE half of the default ensemble is computed on the CPU in every build).

On the CPU, the run reproduces the GPU path's *dtype* (the same PyTorch code with bf16/fp16
weights and activations), not the GPU's kernels; the ``gpu``-marked test in
``tests/encoders/test_device.py`` checks the real GPU's vectors where one is at hand.

Usage::

    python benchmarks/device_vectors.py --xquad ../shared/data/xquad --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import logging
import platform
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import quality  # benchmarks/quality.py: the XQuAD loader, metrics and ranking variants
import report as bench_report

import diploqa
from diploqa.build import build
from diploqa.encoders import get_encoder

#: The dense-only ranking of quality.py (e5 passages alone: no BM25, no USE, no sections).
DENSE = next(v for k, v in quality.VARIANTS.items() if k.startswith("diploqa, dense e5 only"))


def timed(encoder) -> dict[str, float]:
    """Count the seconds and passages of ``encoder.primary``'s passage encoding (the e5 half)."""
    clock = {"seconds": 0.0, "passages": 0}
    primary = encoder.primary
    inner = primary.encode_passages

    def encode_passages(passages, show_progress=False):
        started = time.perf_counter()
        out = inner(passages, show_progress)
        clock["seconds"] += time.perf_counter() - started
        clock["passages"] += len(passages)
        return out

    primary.encode_passages = encode_passages
    return clock


def measure(index: diploqa.Index, dataset: quality.Dataset) -> dict[tuple[str, str], dict]:
    """(ranking, language) → metrics, questions encoded by the index's (CPU) encoder."""
    out = {}
    dense = index.with_ranking(replace(index.ranking, **DENSE))
    for lang, questions in dataset.questions.items():
        for name, variant in (("default", index), ("dense e5 only", dense)):
            out[name, lang] = quality.diploqa_metrics(variant, quality.grouped(questions, lang))
            logging.info("%s %s %s", name, lang, out[name, lang])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--xquad", type=Path, required=True, help="folder with xquad.*.json")
    parser.add_argument("--dtypes", default="bf16,fp16", help="reduced precisions to measure")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if seen)")
    parser.add_argument("--out", type=Path, default=None, help="write the section here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("sentence_transformers", "transformers", "diploqa", "bm25s", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    where = torch.cuda.get_device_name() if device == "cuda" else bench_report.cpu()
    dataset = quality.load_xquad(args.xquad)
    started = time.perf_counter()
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        quality.write_articles(dataset, work / "articles")
        cpu_encoder = get_encoder()
        clocks = {"cpu": timed(cpu_encoder)}
        build(work / "articles", work / "cpu", encoder=cpu_encoder)
        reference = diploqa.load_index(work / "cpu")
        backends = {"cpu": reference.stored.manifest.backend}
        primary_dim = reference.encoder.primary.dim
        ref_vectors = reference.stored.all_vectors()[:, :primary_dim]
        rows["cpu"] = {"metrics": measure(reference, dataset)}
        cpu_clock = clocks["cpu"]
        logging.info("cpu: %.2f e5 passages/s", cpu_clock["passages"] / cpu_clock["seconds"])
        for dtype in args.dtypes.split(","):
            encoder = get_encoder(device=device, dtype=dtype)
            clocks[dtype] = timed(encoder)
            build(work / "articles", work / dtype, encoder=encoder)
            index = diploqa.load_index(work / dtype)  # searched as `diploqa search` would
            assert index.encoder.backend == reference.encoder.backend
            assert index.stored.chunks == reference.stored.chunks
            backends[dtype] = index.stored.manifest.backend
            vectors = index.stored.all_vectors()[:, :primary_dim]
            cosines = (vectors * ref_vectors).sum(axis=1)
            rows[dtype] = {"metrics": measure(index, dataset), "cosine": cosines}
            logging.info("%s: cosine mean %.5f min %.5f", dtype, cosines.mean(), cosines.min())
            clock = clocks[dtype]
            logging.info("%s: %.2f e5 passages/s", dtype, clock["passages"] / clock["seconds"])
            # written after every precision: the CPU emulation is slow, a partial result counts
            write(args, rows, clocks, backends, device, where, started, reference)


def write(args, rows, clocks, backends, device, where, started, reference) -> None:
    """Print the section and write it to ``args.out``."""
    import torch

    minutes = (time.perf_counter() - started) / 60
    measured = [name for name in rows if name != "cpu"]
    lines = [
        "| passages embedded by | questions | ranking | R@1 | MRR@10 | ΔMRR@10 vs CPU | "
        "e5 cosine to CPU (mean / min) | e5 passages/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = rows["cpu"]["metrics"]
    for name, row in rows.items():
        clock = clocks[name]
        speed = clock["passages"] / clock["seconds"]
        cos = row.get("cosine")
        cos_text = f"{cos.mean():.4f} / {cos.min():.4f}" if cos is not None else "1 (itself)"
        for (ranking, lang), m in row["metrics"].items():
            delta = m["MRR@10"] - base[ranking, lang]["MRR@10"]
            lines.append(
                f"| {backends[name]} | {lang} | {ranking} | {m['R@1']:.3f} | {m['MRR@10']:.3f} | "
                f"{delta:+.3f} | {cos_text} | {speed:.1f} |"
            )
    worst = max(
        abs(m["MRR@10"] - base[key]["MRR@10"])
        for name, row in rows.items()
        if name != "cpu"
        for key, m in row["metrics"].items()
    )
    emulated = (
        f"on the GPU ({where})"
        if device == "cuda"
        else f"on the CPU ({where}): the GPU path's PyTorch code and dtype, not the GPU's kernels"
    )
    body = (
        f"Measured {date.today().isoformat()}, commit `{bench_report.commit()}`, "
        f"Python {platform.python_version()}, torch {torch.__version__}; {minutes:.1f} min.\n\n"
        "Command: `python benchmarks/device_vectors.py --xquad ../shared/data/xquad "
        f"--dtypes {args.dtypes}{' --device ' + args.device if args.device else ''} "
        "--out docs/benchmarks.md`\n\n"
        f"XQuAD indexed by the CPU runtime and by the PyTorch {'/'.join(measured)} "
        f"path {emulated}; every index searched with the CPU runtime's question vectors "
        f"({reference.encoder.backend}). Largest |ΔMRR@10|: {worst:.4f} (the issue's bound: "
        "0.005). Passages/s: the e5 half only, on a machine shared with other jobs.\n\n"
        + "\n".join(lines)
    )
    print(body)
    if args.out:
        bench_report.write_section(
            args.out, "device-vectors", "Issue #13: GPU-path vectors searched on the CPU", body
        )


if __name__ == "__main__":
    main()
