"""The one interface ranking and the store use to turn text into vectors.

Two encoders implement it: :class:`~diploqa.encoders.sentence_transformer.Embedder` (one
sentence-transformer, e.g. multilingual-e5-small on OpenVINO int8) and
:class:`~diploqa.encoders.ensemble.EnsembleEncoder` (that model paired with the Universal
Sentence Encoder). Each owns what differs between them: how a question's vector is weighted for
the search, and whether sentences can be compared by meaning cheaply.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..errors import ModelError

log = logging.getLogger(__name__)

#: The prompts multilingual-e5 models were trained with.
E5_PROMPTS = {"query": "query: ", "document": "passage: "}


class Encoder(Protocol):
    """Questions and passages → normalised float32 vectors.

    Attributes:
        model_id: recorded in the index manifest, e.g.
            ``multilingual-e5-small+use-multilingual-v3``.
        backend: the runtime and precision, e.g. ``openvino-int8`` or ``torch-fp32`` (recorded in
            the manifest: vectors of different runtimes share an index only where measured
            interchangeable, :data:`~diploqa.store.manifest.INTERCHANGEABLE_BACKENDS`).
        dim: dimension of the vectors.
        max_tokens: the model's window in tokens.
        batch_size: passages per model call (a build hands it at least four batches at once).
        passages_encoded: running count of encoded passages (tests use it to prove that
            unchanged articles are not re-embedded).
    """

    model_id: str
    backend: str
    dim: int
    max_tokens: int
    batch_size: int
    passages_encoded: int

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` (without special tokens or prompt)."""
        ...

    def encode_queries(self, queries: Sequence[str], partner: bool = True) -> np.ndarray:
        """Query vectors, shape ``(len(queries), dim)``. ``partner=False``: an ensemble leaves
        its partner model's part at zero, unencoded (for a question that weights it zero and
        compares no sentence by meaning: :meth:`query_vector` then gives the same vector)."""
        ...

    def encode_passages(self, passages: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Passage vectors, shape ``(len(passages), dim)``."""
        ...

    def query_vector(self, raw: np.ndarray, partner_weight: float) -> np.ndarray:
        """The search vector, shape ``(1, dim)``, for one row ``raw`` of :meth:`encode_queries`:
        an ensemble weights its partner model's part by ``partner_weight``; a single model
        ignores it."""
        ...

    def sentence_similarity(self, raw: np.ndarray, sentences: Sequence[str]) -> np.ndarray | None:
        """Similarity by meaning of each sentence to the question ``raw`` (a row of
        :meth:`encode_queries`), or None where the encoder has no cheap model for it."""
        ...


class RuntimeRejected(ModelError):
    """A runtime failed the self-check on this CPU (:mod:`~diploqa.encoders.selfcheck`)."""


def last_line(err: BaseException) -> str:
    """The last non-empty line of ``err``'s message (OpenVINO's errors start with the C++ file
    and line they came from; the reason is at the end), or its repr where it has none."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else repr(err)


def ensure_finite(vectors: np.ndarray, backend: str, what: str) -> np.ndarray:
    """``vectors`` unchanged where every value is finite; a vector with NaN or Inf must never
    reach an index or a ranking.

    Raises:
        ModelError: some vector holds NaN or Inf (the runtime is broken on this CPU).
    """
    bad = ~np.isfinite(vectors).all(axis=1) if vectors.ndim == 2 else ~np.isfinite(vectors)
    if np.any(bad):
        message = (
            f"the {backend} runtime gave NaN or Inf vectors for {int(np.sum(bad))} of "
            f"{len(vectors)} {what} on this CPU; nothing was stored. Set DIPLOQA_BACKEND="
            "openvino-f32 (or torch) and try again"
        )
        log.error("%s", message)
        raise ModelError(message)
    return vectors
