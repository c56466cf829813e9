"""A tiny deterministic encoder for the mechanics of stores and manifests.

Vectors come from a hash of the text, so tests of storage, filtering and compatibility run in
milliseconds; everything a user sees is tested with the real model elsewhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class DeterministicEncoder:
    """Implements :class:`diploqa.encoders.Encoder` with hash-seeded unit vectors."""

    def __init__(self, dim: int = 16, model_id: str = "test-hash", backend: str = "numpy") -> None:
        self.model_id, self.backend, self.dim = model_id, backend, dim
        self.max_tokens = 512
        self.batch_size = 16
        self.passages_encoded = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def encode_queries(self, queries: Sequence[str], partner: bool = True) -> np.ndarray:
        return np.stack([self._vector(q) for q in queries]) if queries else self._empty()

    def encode_passages(self, passages: Sequence[str], show_progress: bool = False) -> np.ndarray:
        self.passages_encoded += len(passages)
        return np.stack([self._vector(p) for p in passages]) if passages else self._empty()

    def query_vector(self, raw: np.ndarray, partner_weight: float) -> np.ndarray:
        return raw[None, :].copy()

    def sentence_similarity(self, raw: np.ndarray, sentences: Sequence[str]) -> None:
        return None

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.dim), dtype=np.float32)


def unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """``n`` random normalised float32 vectors."""
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
