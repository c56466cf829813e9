"""A second, cheap multilingual encoder that the default model is paired with.

Universal Sentence Encoder multilingual v3 (:mod:`~diploqa.encoders.use`) was trained
differently from multilingual-e5-small and errs on different questions; on XQuAD the pair finds
the right paragraph for clearly more English questions than e5 alone (docs/quality.md), at a
small cost per question and per passage (docs/benchmarks.md).

The pair is stored as one vector per passage, ``[e5 ; USE]`` (384 + 512 dimensions), so a
single FAISS search computes ``e5·q₁ + w·USE·q₂`` when the question vector's USE half is scaled
by ``w`` (:meth:`EnsembleEncoder.query_vector`); the ranking picks ``w`` per question. Nothing
else in the store changes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .base import ensure_finite
from .sentence_transformer import Embedder
from .streams import MIN_BATCHES, length_batches, run_batches
from .use import USE_DIM, USE_NAME, UseEncoder

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _query_pool() -> ThreadPoolExecutor:
    """The threads that encode questions with USE beside the primary model (two: the second
    lets the next question's call start without waiting for a thread)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="diploqa-use-query")
        return _pool


class EnsembleEncoder:
    """The primary sentence-transformer plus USE, an :class:`~diploqa.encoders.base.Encoder`.

    Vectors are ``[primary ; USE]``; ``primary_dim`` tells where the halves meet.
    """

    def __init__(self, primary: Embedder, secondary: UseEncoder, use_threads: int = 1) -> None:
        self.primary = primary
        self.secondary = secondary
        self.use_threads = use_threads  # for passages (EncoderSettings.threads_for)
        self.model_id = f"{primary.model_id}+{USE_NAME}"
        self.primary_dim = primary.dim
        self.dim = primary.dim + USE_DIM
        self.max_tokens = primary.max_tokens
        self.batch_size = primary.batch_size
        self.count_tokens = primary.count_tokens
        self.backend = primary.backend

    @property
    def passages_encoded(self) -> int:
        return self.primary.passages_encoded

    def encode_passages(self, passages: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Both halves. Where the primary model runs passage batches on parallel streams
        (OpenVINO), a build's slice goes to one worker per stream, each encoding a batch with
        e5 and then with USE (:mod:`.streams`). Elsewhere (PyTorch, the GPU, a few passages)
        USE runs on a thread beside the primary model (docs/benchmarks.md)."""
        if not passages:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches = length_batches(passages, self.batch_size)
        if len(batches) >= MIN_BATCHES:  # the rule OpenVINOEncoder._encode follows for e5
            streams = self.primary.passage_streams()
            if streams > 1:
                return self._on_streams(passages, batches, streams)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="diploqa-use") as pool:
            secondary = pool.submit(self.secondary.encode, passages, self.use_threads)
            primary = self.primary.encode_passages(passages, show_progress)
            use = ensure_finite(secondary.result(), USE_NAME, "passages")
            return np.hstack([primary, use])

    def _on_streams(
        self, passages: Sequence[str], batches: list[np.ndarray], streams: int
    ) -> np.ndarray:
        out = np.empty((len(passages), self.dim), dtype=np.float32)
        split = self.primary_dim

        def work(rows: np.ndarray) -> None:
            texts = [passages[i] for i in rows]
            out[rows, :split] = self.primary.encode_passage_batch(texts)
            out[rows, split:] = ensure_finite(self.secondary.encode(texts), USE_NAME, "passages")

        run_batches(batches, work, streams)
        return out

    def encode_queries(self, queries: Sequence[str], partner: bool = True) -> np.ndarray:
        """Both halves at once: USE on a helper thread while the primary model runs (its
        inference releases the GIL), so a question waits for the slower of the two, not
        their sum. ``partner=False``: the USE half is zeros, and USE is not run."""
        if not partner:
            primary = self.primary.encode_queries(queries)
            return np.hstack([primary, np.zeros((len(primary), USE_DIM), np.float32)])
        secondary = _query_pool().submit(self.secondary.encode, queries)
        primary = self.primary.encode_queries(queries)
        return np.hstack([primary, ensure_finite(secondary.result(), USE_NAME, "questions")])

    def query_vector(self, raw: np.ndarray, partner_weight: float) -> np.ndarray:
        """The search vector for a query vector ``raw``, shape ``(1, dim)``: its USE half scaled
        by ``w = partner_weight`` and the whole divided by ``1 + w``, so that one inner product
        with a stored ``[e5 ; USE]`` vector gives ``(e5 + w·USE) / (1 + w)``."""
        vector = raw.copy()
        vector[self.primary_dim :] *= partner_weight
        vector /= 1.0 + partner_weight
        return vector[None, :]

    def sentence_similarity(self, raw: np.ndarray, sentences: Sequence[str]) -> np.ndarray:
        """Cosine similarity by USE of each sentence to the question ``raw`` (a row of
        :meth:`encode_queries`), shape ``(len(sentences),)``."""
        return self.secondary.encode_sentences(sentences) @ raw[self.primary_dim :]
