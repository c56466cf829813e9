"""A runtime proves on this CPU that it gives the model's vectors before diploqa uses it.

A runtime can compute wrongly on a processor nobody tested (issue #23: int8 kernels on Intel
AMX gave a padded text another vector than alone; a damaged compiled blob gave NaN). So each
time an OpenVINO model is compiled or imported, a few fixed probe texts (questions and
passages, German and English, of lengths that pad each other in a batch) are embedded alone and
batched, and compared with each other and with reference vectors of the same model on PyTorch
fp32, shipped with the package (``data/probes.json``, written by :func:`write_reference`; a
test checks them against PyTorch on every CI machine). A runtime that fails is not used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROBES_FILE = Path(__file__).parent.parent / "data" / "probes.json"

#: Texts alone and in a batch must agree to this cosine on every runtime.
BATCH_BOUND = 0.9995
#: Cosine to the PyTorch fp32 reference each runtime must reach on every probe (int8:
#: quantised, 0.993-0.999 measured on CPUs without the fault; the AMX fault gave 0.95).
REFERENCE_BOUND = {"int8": 0.985, "bf16": 0.995, "f32": 0.9999}

#: The probes: short and long, German and English, so that a batch pads the short ones.
QUERIES = (
    "Wer traf Lawrow in Sotschi?",
    "How long do the EU sanctions against Russia last, and what do they cover besides oil?",
)
PASSAGES = (
    "Kurz.",
    "Die EU verlängert die Sanktionen gegen Russland um weitere sechs Monate – Öl, Gas, Banken.",
    "Außenminister Kerry und sein Amtskollege Lawrow trafen sich in Sotschi am Schwarzen Meer. "
    "Nach dem Treffen mit Präsident Putin sprach Kerry von „offenen“ Gesprächen über Syrien; "
    "beide Seiten wollen eine Waffenruhe, die von den Vereinten Nationen überwacht wird.",
)

#: ``encode(texts, kind, batch_size)`` → normalised vectors; kind is "query" or "document".
Encode = Callable[[Sequence[str], str, int], np.ndarray]


@dataclass(frozen=True)
class Verdict:
    """What the self-check found: ``ok``, and otherwise ``reason`` in one line."""

    ok: bool
    reason: str = ""


def _reference(model_name: str) -> dict[str, np.ndarray] | None:
    """The shipped reference vectors, if they were made with this model's weights."""
    data = json.loads(PROBES_FILE.read_text(encoding="utf-8"))
    if data.get("model") != model_name:
        return None
    if tuple(data["queries"]) != QUERIES or tuple(data["passages"]) != PASSAGES:
        return None
    return {kind: np.asarray(data["vectors"][kind], np.float32) for kind in ("query", "document")}


def check(encode: Encode, precision: str, model_name: str) -> Verdict:
    """Embed the probes alone and batched with ``encode`` and judge the runtime.

    ``precision`` (``int8``, ``bf16`` or ``f32``) sets how close to the reference it must come;
    ``model_name`` is the materialised model's folder name (the reference is used only where it
    was made with the same weights)."""
    reference = _reference(model_name)
    for kind, texts in (("query", QUERIES), ("document", PASSAGES)):
        batched = np.asarray(encode(texts, kind, len(texts)), np.float32)
        alone = np.vstack([np.asarray(encode([t], kind, 1), np.float32) for t in texts])
        if not (np.isfinite(batched).all() and np.isfinite(alone).all()):
            return Verdict(False, f"{kind} probes gave NaN or Inf")
        agree = (batched * alone).sum(axis=1)
        if agree.min() < BATCH_BOUND:
            return Verdict(
                False,
                f"a {kind} probe batched vs alone: cosine {agree.min():.4f} < {BATCH_BOUND}",
            )
        if reference is not None:
            close = np.minimum((batched * reference[kind]).sum(1), (alone * reference[kind]).sum(1))
            bound = REFERENCE_BOUND[precision]
            if close.min() < bound:
                return Verdict(
                    False,
                    f"a {kind} probe vs PyTorch fp32: cosine {close.min():.4f} < {bound}",
                )
    return Verdict(True)


def write_reference(encode: Encode, model_name: str, path: Path = PROBES_FILE) -> None:
    """Write the reference vectors (``encode`` must be the model on PyTorch fp32)."""
    vectors = {
        kind: np.round(np.asarray(encode(texts, kind, 1), np.float64), 6).tolist()
        for kind, texts in (("query", QUERIES), ("document", PASSAGES))
    }
    data = {
        "model": model_name,
        "note": "written by diploqa.encoders.selfcheck.write_reference (PyTorch fp32)",
        "queries": list(QUERIES),
        "passages": list(PASSAGES),
        "vectors": vectors,
    }
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
