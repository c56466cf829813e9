"""Near-duplicate articles: one agency story printed by several outlets.

A dpa, Reuters or AFP story reaches the archive several times, each outlet with small edits (its
own headline, a paragraph cut or added, some words changed, a byline). Results should show such
a story once. Embeddings cannot tell: two different reports on the same summit are as close in
meaning as two copies of one report. Shared *wording* can: copies keep most of their 3-word
sequences (shingles), different reports keep almost none. MinHash turns the shingle set into a
fixed-size signature (computed once per article, stored with it), MinHashLSH finds candidate
pairs without comparing all pairs, and the estimated Jaccard similarity of the signatures
decides. Groups are closed transitively (A~B, B~C: one group).

This module knows nothing about the index: it takes texts and ids and returns groups."""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import gc
import itertools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # datasketch (and scipy behind it) is imported when first used: a server
    from datasketch import MinHash  # that only answers questions never needs it

# Words per shingle: longer shingles break too often where an outlet changed a word
# (docs/quality.md, "Near-duplicate stories").
SHINGLE_WORDS = 3
NUM_PERM = 128  # MinHash values per signature
SEED = 1  # fixes the permutations: signatures are comparable across runs and machines
# Estimated Jaccard similarity of the shingle sets from which two articles are the same story;
# chosen by measurement, favouring precision (docs/quality.md, "Near-duplicate stories").
THRESHOLD = 0.45
# Names everything that changes signature values; store it with the signatures and recompute
# them all when it differs.
SIGNATURE_KIND = f"minhash-affine32-sha1-w{SHINGLE_WORDS}-p{NUM_PERM}-s{SEED}"

_SCHEME = "affine32"  # datasketch >= 2: uint32 values, collision-free permutations
_MAX = np.uint32(0xFFFFFFFF)  # a value no shingle has reached: the empty signature
_WORD = re.compile(r"\w+")
# Candidate recall of the LSH stage at exactly the threshold; pairs above it are found more often.
_LSH_RECALL = 0.98
_BANDS_PER_PASS = 16  # bounds the memory of the LSH tables (see _candidates)


@functools.cache
def _template() -> MinHash:
    from datasketch import MinHash
    from datasketch.hashfunc import sha1_hash32

    return MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=sha1_hash32, scheme=_SCHEME)


def _shingles(text: str) -> list[bytes]:
    words = _WORD.findall(unicodedata.normalize("NFC", text).casefold())
    if len(words) <= SHINGLE_WORDS:
        return [" ".join(words).encode()] if words else []
    return [
        " ".join(words[i : i + SHINGLE_WORDS]).encode()
        for i in range(len(words) - SHINGLE_WORDS + 1)
    ]


def signature(text: str) -> np.ndarray:
    """MinHash signature (``NUM_PERM`` uint32 values) of the text's word shingles.

    Words are lower-cased (casefolded) runs of letters and digits, so punctuation, quotes and
    line breaks do not matter. A text shorter than one shingle is one shingle of all its words;
    a text without words gets the empty signature, which is never grouped.
    """
    minhash = _template().copy()
    minhash.update_batch(_shingles(text))
    return minhash.digest()


def _checked(sig: np.ndarray) -> np.ndarray:
    arr = np.asarray(sig)
    if arr.shape != (NUM_PERM,) or arr.dtype.kind not in "iu":
        raise ValueError(
            f"a signature is {NUM_PERM} unsigned integers, got shape {arr.shape} of {arr.dtype}"
        )
    if arr.dtype != np.uint32 and (int(arr.min()) < 0 or int(arr.max()) > int(_MAX)):
        raise ValueError("signature values must fit in 32 bits")
    return arr.astype(np.uint32, copy=False)


def encode_signature(sig: np.ndarray) -> str:
    """The signature as base64 text (684 characters for 128 values), for JSON metadata."""
    return base64.b64encode(_checked(sig).astype("<u4").tobytes()).decode("ascii")


def decode_signature(s: str) -> np.ndarray:
    """The signature from :func:`encode_signature`'s text; ValueError if it is not one."""
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, TypeError) as exc:
        raise ValueError(f"not a base64 signature: {exc}") from None
    if len(raw) != 4 * NUM_PERM:
        raise ValueError(f"a signature has {4 * NUM_PERM} bytes, this one {len(raw)}")
    return np.frombuffer(raw, dtype="<u4").astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two shingle sets (share of equal values)."""
    return float(np.count_nonzero(_checked(a) == _checked(b))) / NUM_PERM


def _lsh_params(threshold: float) -> tuple[int, int]:
    """Bands and rows for MinHashLSH: the most rows per band (fewest candidates) at which a pair
    with similarity exactly ``threshold`` still becomes a candidate with ``_LSH_RECALL``."""
    best = (NUM_PERM, 1)
    for rows in range(1, NUM_PERM // 2 + 1):
        bands = NUM_PERM // rows
        if 1.0 - (1.0 - threshold**rows) ** bands >= _LSH_RECALL:
            best = (bands, rows)
    return best


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector: the LSH tables are millions of small objects without
    cycles, and the collections their allocation triggers cost more than building them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _lsh_pairs(sigs: np.ndarray, bands: int, rows: int) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of rows of ``sigs`` that share a band of MinHashLSH over all of its
    columns. The pairs are read from the LSH's buckets rather than by querying every signature
    again: the same pairs, in half the time."""
    from datasketch import LeanMinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=bands * rows, params=(bands, rows))
    with lsh.insertion_session() as session:
        for i, sig in enumerate(sigs):
            minhash = LeanMinHash(seed=SEED, hashvalues=sig, scheme=_SCHEME)
            session.insert(i, minhash, check_duplication=False)
    pairs: list[tuple[int, int]] = []
    for table in lsh.hashtables:
        for band, size in table.itemcounts().items():
            if size > 1:
                pairs.extend(itertools.combinations(sorted(table.get(band)), 2))
    return pairs


def _candidates(sigs: np.ndarray, threshold: float) -> np.ndarray:
    """Pairs (i, j), i < j, of rows that share at least one LSH band, as an (n, 2) array.

    The bands go through MinHashLSH a few at a time: its tables hold a Python set per bucket,
    about 350 bytes per signature and band.
    """
    bands, rows = _lsh_params(threshold)
    pairs: list[tuple[int, int]] = []
    with _gc_paused():
        for chunk in np.array_split(np.arange(bands), -(-bands // _BANDS_PER_PASS)):
            lo, hi = int(chunk[0]) * rows, (int(chunk[-1]) + 1) * rows
            pairs += _lsh_pairs(sigs[:, lo:hi], len(chunk), rows)
            gc.collect(0)  # the LSH is a reference cycle: free its tables before the next pass
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def group_duplicates(
    signatures: Mapping[str, np.ndarray], threshold: float = THRESHOLD
) -> list[list[str]]:
    """Groups of near-duplicate articles: each at least two ids, sorted; the groups sorted.

    Two articles are near-duplicates when their estimated Jaccard similarity is at least
    ``threshold``; groups are the connected components of that relation (transitive). Articles
    in no group are not listed. Empty signatures (texts without words) are never grouped.
    Deterministic: the same signatures give the same groups.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    ids, rows = [], []
    for key in sorted(signatures):
        sig = _checked(signatures[key])
        if not np.all(sig == _MAX):
            ids.append(key)
            rows.append(sig)
    if len(ids) < 2:
        return []
    sigs = np.stack(rows)
    need = int(np.ceil(threshold * NUM_PERM - 1e-9))  # equal values needed
    groups = _UnionFind(len(ids))
    # Identical signatures (the same text, or a crowd of boilerplate) join at once; only one of
    # each goes to the LSH, so a crowd does not become a quadratic number of candidate pairs.
    first: dict[bytes, int] = {}
    for i, sig in enumerate(sigs):
        groups.union(first.setdefault(sig.tobytes(), i), i)
    distinct = np.array(sorted(first.values()), dtype=np.int64)
    pairs = distinct[_candidates(sigs[distinct], threshold)]
    for start in range(0, len(pairs), 65536):  # bounded memory when buckets are crowded
        chunk = pairs[start : start + 65536]
        equal = np.count_nonzero(sigs[chunk[:, 0]] == sigs[chunk[:, 1]], axis=1)
        for i, j in chunk[equal >= need].tolist():
            groups.union(i, j)
    members: dict[int, list[str]] = {}
    for i, key in enumerate(ids):
        members.setdefault(groups.find(i), []).append(key)
    return sorted(group for group in members.values() if len(group) > 1)
