"""The 16-bit first pass of a flat search (:mod:`diploqa.store.faiss.scan`): the same rows and
scores (within float32 rounding) as the float32 flat index, whether the bound is cleared or
the search falls back."""

from __future__ import annotations

import threading

import faiss
import numpy as np
import pytest
from deterministic_encoder import unit_vectors

from diploqa.store.faiss import FaissStore, scan
from diploqa.store.faiss.scan import SCAN_MIN_ROWS, rounding_bound

SPLIT = 8192  # SCAN_SPLIT_ROWS in the tests of the halves: a small index is enough

HALF = 48  # vectors made as diploqa's are: two unit halves, the second weighted per question


def pairs(n: int, seed: int) -> np.ndarray:
    return np.hstack([unit_vectors(n, HALF, seed), unit_vectors(n, HALF, seed + 1)])


def question(seed: int, weight: float) -> np.ndarray:
    return np.hstack([unit_vectors(1, HALF, seed), weight * unit_vectors(1, HALF, seed + 7)])


def same_scores(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal but for the last bit (FAISS's kernel for a few rows rounds as it will)."""
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def flat_of(vectors: np.ndarray) -> faiss.IndexFlatIP:
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    return flat


@pytest.mark.parametrize("k", [1, 5, 100, 300])
def test_the_scan_gives_the_flat_searchs_rows_and_scores(k):
    vectors = pairs(6000, seed=1)
    store, flat = FaissStore.from_vectors(vectors, 2 * HALF), flat_of(vectors)
    for seed in range(40):
        q = question(100 + seed, weight=(0.0, 0.05, 0.15)[seed % 3])
        scores, rows = store.search(q, k)
        expected_scores, expected_rows = flat.search(q, k)
        assert np.array_equal(rows, expected_rows)
        same_scores(scores, expected_scores)
    assert store._scan._parts is not None and store._scan.fallbacks == 0  # the copy answered


def test_near_equal_scores_fall_back_to_the_exact_search():
    """300 rows within the rounding bound of each other around the question: the copy cannot
    tell which 100 are the best, so the exact search answers, and answers right."""
    rng = np.random.default_rng(3)
    base = pairs(5000, seed=2)
    centre = question(9, 0.15)[0]
    close = centre + rng.standard_normal((300, 2 * HALF)).astype(np.float32) * 1e-6
    vectors = np.vstack([base, close]).astype(np.float32)
    store, flat = FaissStore.from_vectors(vectors, 2 * HALF), flat_of(vectors)
    scores, rows = store.search(centre[None, :], 100)
    assert store._scan.fallbacks == 1
    expected_scores, expected_rows = flat.search(centre[None, :], 100)
    assert np.array_equal(rows, expected_rows)
    same_scores(scores, expected_scores)


def test_rows_added_after_the_first_search_are_found():
    vectors = pairs(5000, seed=4)
    store = FaissStore.from_vectors(vectors, 2 * HALF)
    store.search(question(1, 0.1), 5)  # makes the copy
    extra = pairs(50, seed=40)
    store.add(extra)
    flat = flat_of(np.vstack([vectors, extra]))
    for row in (0, 25, 49):
        q = extra[row : row + 1]
        scores, rows = store.search(q, 10)
        assert rows[0, 0] == 5000 + row
        expected_scores, expected_rows = flat.search(q, 10)
        assert np.array_equal(rows, expected_rows)
        same_scores(scores, expected_scores)


def test_a_small_index_is_searched_flat_without_a_copy():
    store = FaissStore.from_vectors(pairs(SCAN_MIN_ROWS - 1, seed=5), 2 * HALF)
    store.search(question(2, 0.1), 5)
    assert store._scan._parts is None


@pytest.mark.parametrize("scale", [1e-3, 1.0, 30.0])
def test_the_bound_covers_every_16_bit_score(scale):
    """Vectors and questions of any norm, numbers down to float16's subnormal range."""
    rng = np.random.default_rng(6)
    vectors = (rng.standard_normal((3000, 96)) * rng.uniform(1e-3, 1, (3000, 1))).astype(np.float32)
    vectors[:, :8] *= 1e-4  # some numbers float16 holds only as subnormals
    copy = faiss.IndexScalarQuantizer(96, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    copy.add(vectors)
    largest = float(np.linalg.norm(vectors.astype(np.float64), axis=1).max())
    for seed in range(20):
        q = (np.random.default_rng(seed).standard_normal((1, 96)) * scale).astype(np.float32)
        approx, rows = copy.search(q, len(vectors))
        exact = vectors.astype(np.float64)[rows[0]] @ q[0].astype(np.float64)
        bound = rounding_bound(float(np.linalg.norm(q.astype(np.float64))), largest, 96)
        assert np.abs(approx[0] - exact).max() <= bound


def test_the_copy_is_read_by_one_openmp_thread_and_the_callers_setting_is_kept():
    """FAISS's team for one question would leave a spinning thread on the other core."""
    store = FaissStore.from_vectors(pairs(5000, seed=7), 2 * HALF)
    seen = []
    [(_, copy)] = store._scan._ensure_copy()  # below SCAN_SPLIT_ROWS: one part
    search = copy.search

    def recording(*args, **kwargs):
        seen.append(faiss.omp_get_max_threads())
        return search(*args, **kwargs)

    copy.search = recording
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        store.search(question(3, 0.1), 5)
        assert seen == [1] and faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(before)


def test_a_warmed_index_has_its_copy_before_the_first_question(tmp_path):
    """``Index.warm`` (what a server runs before answering) makes the copy, so the first
    question does not wait for it."""
    store = FaissStore.from_vectors(pairs(5000, seed=8), 2 * HALF)
    assert store._scan._parts is None
    store.warm()
    assert store._scan._parts is not None
    small = FaissStore.from_vectors(pairs(10, seed=9), 2 * HALF)
    small.warm()
    assert small._scan._parts is None  # searched flat: no copy to make


def test_searches_at_once_make_one_copy_and_each_gets_the_flat_answer():
    """A server's first questions arrive together: the copy is made once, under its lock,
    and every search answers as the flat index does."""
    from concurrent.futures import ThreadPoolExecutor

    vectors = pairs(6000, seed=13)
    store, flat = FaissStore.from_vectors(vectors, 2 * HALF), flat_of(vectors)
    made = []
    ensure = store._scan._ensure_copy

    def counting():
        copy = ensure()
        made.append(id(copy))
        return copy

    store._scan._ensure_copy = counting
    questions = [question(300 + seed, 0.1) for seed in range(32)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda q: store.search(q, 10), questions))
    assert len(set(made)) == 1
    for q, (scores, rows) in zip(questions, answers, strict=True):
        expected_scores, expected_rows = flat.search(q, 10)
        assert np.array_equal(rows, expected_rows)
        same_scores(scores, expected_scores)


@pytest.fixture
def split_at(monkeypatch) -> None:
    monkeypatch.setattr(scan, "SCAN_SPLIT_ROWS", SPLIT)


def _reads_recorded(monkeypatch) -> list[tuple[int, str]]:
    """(first row of the part, thread name) of every read of the copy."""
    reads, real = [], scan._read

    def recording(part, queries, fetch):
        reads.append((part[0], threading.current_thread().name))
        return real(part, queries, fetch)

    monkeypatch.setattr(scan, "_read", recording)
    return reads


def test_a_large_copy_is_read_in_two_halves_on_two_threads_with_the_flat_answer(
    split_at, monkeypatch
):
    vectors = pairs(SPLIT + 1000, seed=21)
    store, flat = FaissStore.from_vectors(vectors, 2 * HALF), flat_of(vectors)
    reads = _reads_recorded(monkeypatch)
    for seed, k in enumerate([1, 5, 10, 100, 300]):
        q = question(500 + seed, weight=0.1)
        scores, rows = store.search(q, k)
        expected_scores, expected_rows = flat.search(q, k)
        assert np.array_equal(rows, expected_rows)
        same_scores(scores, expected_scores)
    half = len(vectors) // 2
    assert [first for first, _ in store._scan._parts] == [0, half]
    caller = threading.current_thread().name
    assert {name for first, name in reads if first == 0} == {caller}
    helpers = {name for first, name in reads if first == half}
    assert len(helpers) == 1 and helpers.pop().startswith("diploqa-scan")
    assert len(reads) == 10  # each of the five questions read both halves


def test_with_the_helper_busy_both_halves_are_read_here_with_the_same_answer(split_at, monkeypatch):
    vectors = pairs(SPLIT + 1000, seed=22)
    store, flat = FaissStore.from_vectors(vectors, 2 * HALF), flat_of(vectors)
    store.warm()
    reads = _reads_recorded(monkeypatch)
    q = question(600, weight=0.1)
    with store._scan._helper_free:  # another search holds the helper
        scores, rows = store.search(q, 10)
    assert {name for _, name in reads} == {threading.current_thread().name} and len(reads) == 2
    expected_scores, expected_rows = flat.search(q, 10)
    assert np.array_equal(rows, expected_rows)
    same_scores(scores, expected_scores)


@pytest.mark.parametrize(
    ("start", "added", "parts"),
    [
        (SPLIT + 1000, 50, [0, (SPLIT + 1000) // 2]),  # to the last half
        (SPLIT + 1000, SPLIT, [0, SPLIT + 500]),  # made again
        (SPLIT - 100, 200, [0, (SPLIT + 100) // 2]),  # one part to two
    ],
)
def test_rows_added_to_the_copy_are_found_and_the_halves_kept_in_balance(
    split_at, start, added, parts
):
    vectors = pairs(start, seed=23)
    store = FaissStore.from_vectors(vectors, 2 * HALF)
    store.warm()
    extra = pairs(added, seed=24)
    store.add(extra)
    everything = np.vstack([vectors, extra])
    flat = flat_of(everything)
    assert [first for first, _ in store._scan._parts] == parts
    assert sum(int(copy.ntotal) for _, copy in store._scan._parts) == len(everything)
    for row in (0, added // 2, added - 1):
        q = extra[row : row + 1]
        scores, rows = store.search(q, 10)
        assert rows[0, 0] == start + row
        expected_scores, expected_rows = flat.search(q, 10)
        assert np.array_equal(rows, expected_rows)
        same_scores(scores, expected_scores)


def test_an_archive_below_the_threshold_keeps_one_part_read_on_the_callers_thread(monkeypatch):
    store = FaissStore.from_vectors(pairs(SCAN_MIN_ROWS + 1000, seed=25), 2 * HALF)
    reads = _reads_recorded(monkeypatch)
    store.search(question(700, 0.1), 5)
    assert len(store._scan._parts) == 1 and store._scan.split_rows == scan.SCAN_SPLIT_ROWS
    assert reads == [(0, threading.current_thread().name)] and store._scan._helper is None
