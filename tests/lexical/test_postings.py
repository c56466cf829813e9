"""The keyword index's postings: an update must give what a build from nothing gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diploqa.files import sha256_file
from diploqa.lexical import postings
from diploqa.lexical.postings import Postings, Segment

WORDS = ["kerry", "lawrow", "genf", "syri", "waffenruh", "sanktion", "moskau", "gesprach"]


def _table(p: Postings) -> dict[tuple[str, int], tuple[int, int]]:
    """(term, row) → (count, row length), over every term of every segment."""
    out = {}
    terms = {t for s in p.segments for t in s.terms}
    for term in terms:
        rows, counts, lengths = p.hits(term)
        assert len(set(rows.tolist())) == len(rows)  # a row is a passage of one segment
        for r, c, n in zip(rows.tolist(), counts.tolist(), lengths.tolist(), strict=True):
            out[term, r] = (c, n)
    return out


def _postings(docs) -> Postings:
    """The postings of ``docs`` (each passage's terms), built from nothing."""
    return Postings.build(Segment.from_tokens(docs))


def _same(a: Postings, b: Postings) -> None:
    assert a.size == b.size and a.total_length == b.total_length
    assert _table(a) == _table(b)
    np.testing.assert_array_equal(a.lengths(), b.lengths())


def test_a_segment_counts_each_term_per_passage():
    seg = Segment.from_tokens([["genf", "kerry", "genf"], [], ["kerry"]])
    docs, counts = seg.postings("genf")
    assert docs.tolist() == [0] and counts.tolist() == [2]
    docs, counts = seg.postings("kerry")
    assert docs.tolist() == [0, 2] and counts.tolist() == [1, 1]
    assert seg.postings("moskau") is None
    assert seg.lengths.tolist() == [3, 0, 1]


@settings(max_examples=40, deadline=None)
@given(
    docs=st.lists(st.lists(st.sampled_from(WORDS), max_size=6), max_size=25),
    block=st.integers(1, 7),
)
def test_a_segment_built_block_by_block_is_the_one_pass_segment(docs, block):
    """A build reduces each block of passages to its triples (a million passages' words
    would not fit in memory as strings); the segment must not depend on the block size."""
    original = postings.BUILD_BLOCK
    try:
        postings.BUILD_BLOCK = block
        seg = Segment.from_tokens(iter(docs))  # passages given one at a time
    finally:
        postings.BUILD_BLOCK = original
    assert seg.lengths.tolist() == [len(d) for d in docs] and seg.lengths.dtype == np.int32
    assert seg.terms == list(dict.fromkeys(t for d in docs for t in d))  # first-seen order
    for term in seg.terms:
        found, counts = seg.postings(term)
        expected = [(i, d.count(term)) for i, d in enumerate(docs) if term in d]
        assert list(zip(found.tolist(), counts.tolist(), strict=True)) == expected
    assert seg.docs.dtype == np.int32 and seg.counts.dtype == np.uint16
    assert seg.indptr[-1] == len(seg.docs) == sum(len(set(d)) for d in docs)


def test_an_update_adds_a_segment_and_drops_removed_rows():
    docs = [["kerry", "genf"], ["lawrow"], ["syri", "syri"]]
    old = _postings(docs)
    # row 0 removed, row 2 → 0, a new passage → 1, row 1 → 2
    new = old.updated(np.array([2, -1, 1]), Segment.from_tokens([["moskau", "kerry"]]))
    _same(new, _postings([docs[2], ["moskau", "kerry"], docs[1]]))
    assert len(new.segments) == 1  # the small new segment was merged: 2 ≤ 4 × 1 live


def test_a_large_segment_is_not_rewritten_for_a_small_update():
    docs = [[WORDS[i % 8], WORDS[(i * 3) % 8]] for i in range(100)]
    old = _postings(docs)
    new = old.updated(np.r_[np.arange(100), -1], Segment.from_tokens([["kerry"]]))
    assert new.segments[0] is old.segments[0] and len(new.segments) == 2
    _same(new, _postings([*docs, ["kerry"]]))


def test_a_mostly_removed_segment_is_rewritten_without_its_dead_passages():
    docs = [[WORDS[i % 8]] for i in range(40)]
    old = _postings(docs)
    new = old.updated(np.arange(10), Segment.from_tokens([]))
    assert len(new.segments) == 1 and len(new.segments[0]) == 10
    _same(new, _postings(docs[:10]))


def test_each_row_without_origin_needs_one_fresh_passage():
    with pytest.raises(ValueError, match="one fresh passage"):
        _postings([["kerry"]]).updated(np.array([0, -1]), Segment.from_tokens([]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(WORDS), max_size=6), max_size=12),
    st.lists(
        st.tuples(
            st.lists(st.booleans(), max_size=30),
            st.lists(st.lists(st.sampled_from(WORDS), max_size=6), max_size=8),
            st.randoms(use_true_random=False),
        ),
        max_size=6,
    ),
)
def test_any_sequence_of_updates_equals_a_build_from_nothing(first, steps):
    docs, index = list(first), _postings(first)
    for keep, added, rng in steps:
        kept = [i for i, k in zip(range(len(docs)), keep, strict=False) if k]
        order = [(i, docs[i]) for i in kept] + [(-1, d) for d in added]
        rng.shuffle(order)
        origin = np.array([i for i, _ in order], np.int64)
        fresh = [d for i, d in order if i < 0]
        index = index.updated(origin, Segment.from_tokens(fresh))
        docs = [d for _, d in order]
        _same(index, _postings(docs))
        assert len(index.segments) <= 1 + np.log2(max(len(docs), 1)) * 2


def test_saved_postings_link_the_segments_an_earlier_generation_wrote(tmp_path):
    one, two = tmp_path / "gen-1", tmp_path / "gen-2"
    one.mkdir(), two.mkdir()
    docs = [[WORDS[i % 8], WORDS[(i * 5) % 8]] for i in range(50)]
    first = _postings(docs)
    state, files = first.save(one, "body")
    loaded = Postings.load(one, "body", state, files)
    _same(loaded, first)
    second = loaded.updated(np.r_[np.arange(50), -1], Segment.from_tokens([["genf"]]))
    state, files2 = second.save(two, "body")
    big = f"keywords.{first.segments[0].name}.npz"
    assert files2[big] == files[big] == sha256_file(two / big)
    assert (two / big).stat().st_ino == (one / big).stat().st_ino  # a hard link, not a copy
    _same(Postings.load(two, "body", state, files2), _postings([*docs, ["genf"]]))


@pytest.mark.parametrize("damage", ["rows", "docs", "counts", "lengths", "name"])
def test_postings_crafted_to_match_their_checksums_fail_at_load(tmp_path, damage):
    index = _postings([["kerry", "genf"], ["lawrow"], ["syri", "syri"]])
    state, files = index.save(tmp_path, "body")
    segment = index.segments[0]
    path = tmp_path / f"keywords.{segment.name}.npz"
    arrays = dict(np.load(path))
    if damage == "rows":
        np.save(tmp_path / "keywords.body.rows.npy", np.array([0, 0, 2]))
    elif damage == "name":
        state["segments"][0][0] = "../../etc/passwd"
    else:
        arrays[damage] = arrays[damage] + np.ones_like(arrays[damage]) * 7
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
    files = {name: sha256_file(tmp_path / name) for name in files}
    with pytest.raises((ValueError, KeyError)):
        Postings.load(tmp_path, "body", state, files)


def test_merge_factor_bounds_the_segments_of_many_small_updates():
    docs = [[WORDS[i % 8]] for i in range(1000)]
    index = _postings(docs)
    for step in range(200):
        n = index.size
        fresh = Segment.from_tokens([[WORDS[step % 8], "neu"]])
        index = index.updated(np.r_[np.arange(n), -1], fresh)
    assert index.size == 1200 and len(index.segments) <= 8
    assert index.segments[0] is not None and postings.MERGE_FACTOR == 4
    rows, counts, _ = index.hits("neu")
    assert sorted(rows.tolist()) == list(range(1000, 1200)) and set(counts.tolist()) == {1}


def test_a_segment_the_receiver_has_is_not_written_again(tmp_path):
    """The Milvus store sends only new segments: those it holds are not even written."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    index = _postings([["kerry", "genf"], ["lawrow"]])
    _, files = index.save(one, "body")
    name = f"keywords.{index.segments[0].name}.npz"
    _, again = index.save(two, "body", skip={name})
    assert (
        again == files and not (two / name).exists() and (two / "keywords.body.rows.npy").exists()
    )
    fresh = _postings([["syri"]])  # never saved: no checksum to give, so it is written
    _, written = fresh.save(two, "body", skip={f"keywords.{fresh.segments[0].name}.npz"})
    assert (two / f"keywords.{fresh.segments[0].name}.npz").exists()
    assert written[f"keywords.{fresh.segments[0].name}.npz"] == sha256_file(
        two / f"keywords.{fresh.segments[0].name}.npz"
    )
