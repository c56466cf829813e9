"""An exact flat search that reads half the bytes: a 16-bit copy finds the candidates, the
float32 vectors score them.

A flat search over 896-dimensional float32 vectors is bound by memory: every question reads
every vector (35 MB for the news sample, 358 MB at 100,000 passages). A float16 copy halves
what is read; its scores differ from the float32 ones by at most a bound computed from the
question's norm (:func:`rounding_bound`), so after the float32 vectors rescore the copy's
``2k + SCAN_MARGIN`` best, the top ``k`` is provably the exact search's whenever the ``k``-th
rescored score clears the copy's last score by that bound. Where it does not (a flat stretch
of near-equal scores), the search is done the exact way. Either way the rows are the float32
index's and so are the scores: the rescoring is FAISS's flat search restricted to the
candidates (its kernel for a few rows may round the last bit differently from its kernel for
all of them: scores agree within float32 rounding).

From :data:`SCAN_SPLIT_ROWS` vectors on, the copy is kept in two halves, and a question reads
the second on a helper thread while its own thread reads the first: FAISS reads one question's
vectors on one thread, and the second core is idle once the question is encoded. Where the
helper is busy with another search, both halves are read on the caller's thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import faiss
import numpy as np

#: Candidates beyond ``2k`` read from the 16-bit copy before rescoring.
SCAN_MARGIN = 16
#: Below this many vectors the plain flat search is as fast (everything fits in cache).
SCAN_MIN_ROWS = 4096
#: The copy is read only when it is to return at most 1/SCAN_SHARE of the rows: keeping more
#: candidates in order costs more than the bytes it saves (a timeline's 1,000 of 10,000).
SCAN_SHARE = 8
#: From this many vectors the copy is read in two halves on two threads (below it, handing a
#: half to the other thread saved nothing measurable: docs/benchmarks.md).
SCAN_SPLIT_ROWS = 65_536
#: float16's unit roundoff (10 stored mantissa bits, round to nearest).
_HALF_ROUNDOFF = 2.0**-11
#: float32's unit roundoff (the accumulation of both searches' sums).
_SINGLE_ROUNDOFF = 2.0**-24


def rounding_bound(query_norm: float, largest_norm: float, dimension: int) -> float:
    """How far a float16 copy's inner product may be from the float32 one: the rounding of
    each stored number (relative ``2⁻¹¹``, Cauchy–Schwarz over the vector), both float32
    sums' accumulation (``d · 2⁻²⁴`` each) and float16's subnormal range (absolute ``2⁻²⁵``
    per number)."""
    relative = _HALF_ROUNDOFF + 2 * dimension * _SINGLE_ROUNDOFF
    subnormal = np.sqrt(dimension) * query_norm * 2.0**-25
    return query_norm * largest_norm * relative + subnormal


@contextlib.contextmanager
def _one_openmp_thread() -> Iterator[None]:
    """FAISS's scalar-quantizer search opens an OpenMP team of every core even for one
    question, and the idle member then spins for milliseconds: a core taken from the encoder
    (docs/benchmarks.md). One thread here (the setting is the calling thread's own in
    libgomp, so concurrent searches and builds keep theirs)."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


Part = tuple[int, faiss.IndexScalarQuantizer]  # (its first row, the copy of its rows)


def _read(part: Part, queries: np.ndarray, fetch: int) -> tuple[np.ndarray, np.ndarray]:
    """The copy's ``fetch`` best rows of ``part`` (rows of the whole index), on one OpenMP
    thread of the calling thread."""
    first, copy = part
    with _one_openmp_thread():
        approx, found = copy.search(queries, fetch)
    return approx, np.where(found >= 0, found + first, -1)


def _merged(
    reads: list[tuple[np.ndarray, np.ndarray]], fetch: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``fetch`` best of the parts' reads, best first (a tie: the lower part first)."""
    if len(reads) == 1:
        return reads[0]
    approx = np.hstack([a for a, _ in reads])
    found = np.hstack([f for _, f in reads])
    order = np.argsort(-approx, axis=1, kind="stable")[:, :fetch]
    return np.take_along_axis(approx, order, axis=1), np.take_along_axis(found, order, axis=1)


class HalfScan:
    """The 16-bit copy of a flat inner-product index, kept beside it by its owner
    (:class:`~diploqa.store.faiss.vectors.FaissStore`), made on first use."""

    def __init__(self, exact: faiss.IndexFlatIP, split_rows: int | None = None) -> None:
        """``split_rows``: from how many rows the copy is read in two halves (default
        :data:`SCAN_SPLIT_ROWS`; benchmarks compare it with one part)."""
        self.exact = exact
        self.split_rows = SCAN_SPLIT_ROWS if split_rows is None else split_rows
        self._parts: list[Part] | None = None
        self._largest_norm = 0.0
        self._lock = threading.Lock()
        self._helper: ThreadPoolExecutor | None = None
        self._helper_free = threading.Lock()
        #: Searches answered the exact way because the bound was not cleared (for tests
        #: and benchmarks).
        self.fallbacks = 0

    def warm(self) -> None:
        """Make the copy now if the searches will read it."""
        if self.exact.ntotal >= SCAN_MIN_ROWS:
            self._ensure_copy()

    def _ensure_copy(self) -> list[Part]:
        with self._lock:
            if self._parts is None:
                self._parts = self._made()
            return self._parts

    def _made(self) -> list[Part]:
        """The copy of every row: in two halves from :data:`SCAN_SPLIT_ROWS` rows on."""
        n = int(self.exact.ntotal)
        starts = [0, n // 2] if n >= self.split_rows else [0]
        parts = []
        for first, stop in zip(starts, [*starts[1:], n], strict=True):
            copy = faiss.IndexScalarQuantizer(
                self.exact.d, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
            )
            self._append(copy, self._stored(first, stop))
            parts.append((first, copy))
        return parts

    def _stored(self, start: int, stop: int) -> np.ndarray:
        """A view of the flat index's own float32 rows (no copy)."""
        d = self.exact.d
        every = faiss.rev_swig_ptr(self.exact.get_xb(), self.exact.ntotal * d)
        return every.reshape(-1, d)[start:stop]

    def _append(self, copy: faiss.IndexScalarQuantizer, vectors: np.ndarray) -> None:
        for start in range(0, len(vectors), 65_536):  # a bounded float64 temporary
            block = vectors[start : start + 65_536]
            norms = np.linalg.norm(block.astype(np.float64), axis=1)
            self._largest_norm = max(self._largest_norm, float(norms.max(initial=0.0)))
            copy.add(np.ascontiguousarray(block))

    def added(self, before: int) -> None:
        """Bring the copy up to the flat index, which held ``before`` rows until just now:
        the new rows go to the last part, and the parts are made again where that leaves
        them out of balance (the last more than twice the first, or one part past
        ``split_rows``)."""
        with self._lock:
            if self._parts is None:
                return
            sizes = [int(copy.ntotal) for _, copy in self._parts]
            total = int(self.exact.ntotal)
            last = sizes[-1] + total - before
            if (len(sizes) > 1 and last > 2 * sizes[0]) or (
                len(sizes) == 1 and total >= self.split_rows
            ):
                self._parts = self._made()
            else:
                self._append(self._parts[-1][1], self._stored(before, total))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The flat index's ``search(queries, k)``: the same rows, the same scores within
        float32 rounding."""
        n = int(self.exact.ntotal)
        fetch = 2 * k + SCAN_MARGIN
        if n < SCAN_MIN_ROWS or fetch * SCAN_SHARE > n:
            return self.exact.search(queries, k)
        approx, found = _merged(self._read_parts(self._ensure_copy(), queries, fetch), fetch)
        scores = np.empty((len(queries), k), dtype=np.float32)
        rows = np.empty((len(queries), k), dtype=np.int64)
        for i, query in enumerate(queries):
            exact, best = self._rescore(query, found[i][found[i] >= 0], k)
            norm = float(np.linalg.norm(query.astype(np.float64)))
            bound = rounding_bound(norm, self._largest_norm, self.exact.d)
            # a row the copy left out scores at most its last score plus the bound
            if not float(exact[0, -1]) > float(approx[i, -1]) + bound:
                self.fallbacks += 1
                with _one_openmp_thread():
                    exact, best = self.exact.search(query[None, :], k)
            scores[i], rows[i] = exact[0], best[0]
        return scores, rows

    def _read_parts(
        self, parts: list[Part], queries: np.ndarray, fetch: int
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each part's best rows: the last ones on the helper thread where it is free."""
        if len(parts) == 1 or not self._helper_free.acquire(blocking=False):
            return [_read(part, queries, fetch) for part in parts]
        try:
            if self._helper is None:
                self._helper = ThreadPoolExecutor(1, thread_name_prefix="diploqa-scan")
            try:
                later = self._helper.submit(_read, parts[1], queries, fetch)
            except RuntimeError:  # the interpreter is shutting down: no new threads
                return [_read(part, queries, fetch) for part in parts]
            first = _read(parts[0], queries, fetch)
            return [first, later.result()]
        finally:
            self._helper_free.release()

    def _rescore(self, query: np.ndarray, candidates: np.ndarray, k: int):
        """The flat index's own search (its kernel and scores) among ``candidates``, picked
        by a bitmap: the cheapest membership test to build."""
        member = np.zeros(int(self.exact.ntotal), dtype=bool)
        member[candidates] = True
        bitmap = np.packbits(member, bitorder="little")  # bit i of byte j: row 8j + i
        # points into bitmap, which lives until the search below returns
        within = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
        with _one_openmp_thread():  # no team left spinning on the core a half is read on
            return self.exact.search(query[None, :], k, params=faiss.SearchParameters(sel=within))
