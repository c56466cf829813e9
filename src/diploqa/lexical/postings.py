"""The keyword index's store: term postings that an update changes instead of rebuilding.

bm25s (the keyword store until format 3) folds each term's IDF and the mean passage length
into every stored score, so one new passage changes every score and each update rebuilt the
whole matrix: ten minutes for a million passages (docs/benchmarks.md; bm25s cannot add
documents, its issue #98). Here, as in Lucene, the stored values are raw counts (how often a
term occurs in a passage, how long each passage is) and BM25 is computed from them when a
question is asked. An update adds one small :class:`Segment` for its new passages and marks
the removed ones; segments of similar size are merged as they pile up (a logarithmic policy),
so an update costs what it changed, plus now and then a merge.

A segment is immutable and keeps its passages in local numbers; :class:`Postings` maps them to
the rows of one index generation (``-1``: removed), the only part rewritten per generation.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Mapping, Sequence, Set
from pathlib import Path

import numpy as np

from ..files import fsync_path, sha256_file

#: A segment is merged into the one before it once that one holds at most this many times its
#: live passages; each passage is rewritten O(log n) times over the index's life.
MERGE_FACTOR = 4
#: A segment with fewer live passages than this share of its own is rewritten without them.
MIN_LIVE_SHARE = 0.5
_COUNT_MAX = np.iinfo(np.uint16).max
#: Passages a :class:`SegmentBuilder` reduces to triples at once.
BUILD_BLOCK = 8192
_SEGMENT_NAME = re.compile(r"seg-[0-9a-f]{12}")


def segment_file(name: str) -> str:
    """The file (and Milvus key) of segment ``name``."""
    return f"keywords.{name}.npz"


def is_segment_file(file_name: str) -> bool:
    """Whether ``file_name`` is a segment's file (shared by generations), not one of a
    generation's own keyword files."""
    return file_name.startswith("keywords.seg-")


def _rows_file(role: str) -> str:
    return f"keywords.{role}.rows.npy"


class Segment:
    """Term-major postings of a batch of passages: for each term, the (local) passages it
    occurs in and how often (CSC layout), and each passage's length in terms."""

    __slots__ = (
        "_path",
        "checksum",
        "column",
        "counts",
        "docs",
        "indptr",
        "lengths",
        "name",
        "terms",
    )

    def __init__(
        self,
        terms: list[str],
        indptr: np.ndarray,
        docs: np.ndarray,
        counts: np.ndarray,
        lengths: np.ndarray,
        name: str | None = None,
    ) -> None:
        self.name = name or f"seg-{secrets.token_hex(6)}"
        self.terms = terms
        self.column = {t: i for i, t in enumerate(terms)}
        self.indptr, self.docs, self.counts, self.lengths = indptr, docs, counts, lengths
        #: Its file and that file's SHA-256, once saved or loaded: a later generation links
        #: the file, or (a receiver that has it) is given the checksum alone.
        self._path: Path | None = None
        self.checksum: str | None = None

    def __len__(self) -> int:
        return len(self.lengths)

    @classmethod
    def from_tokens(cls, docs: Iterable[Sequence[str]]) -> Segment:
        """The segment of ``docs`` (each passage's terms, in order)."""
        builder = SegmentBuilder()
        for doc in docs:
            builder.add(doc)
        return builder.finish()

    @classmethod
    def _from_pairs(
        cls,
        terms: list[str],
        term_ids: np.ndarray,
        doc_ids: np.ndarray,
        counts: np.ndarray,
        lengths: np.ndarray,
    ) -> Segment:
        """The segment of (term, passage, count) triples; equal pairs are added up, terms
        without a posting are left out."""
        n = max(len(lengths), 1)
        keys, inverse = np.unique(term_ids * n + doc_ids, return_inverse=True)
        summed = np.bincount(inverse.ravel(), weights=counts, minlength=len(keys))
        term_of, docs = np.divmod(keys, n)
        used, term_of = np.unique(term_of, return_inverse=True)
        indptr = np.searchsorted(term_of, np.arange(len(used) + 1)).astype(np.int64)
        return cls(
            [terms[i] for i in used.tolist()],
            indptr,
            docs.astype(np.int32),
            np.minimum(summed, _COUNT_MAX).astype(np.uint16),
            np.asarray(lengths, np.int32),
        )

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(local passages, counts) of ``term``, None where it does not occur here."""
        column = self.column.get(term)
        if column is None:
            return None
        start, end = self.indptr[column], self.indptr[column + 1]
        return self.docs[start:end], self.counts[start:end]

    def triples(self, live: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(term, new local passage, count) of the postings of the ``live`` passages, the
        passages renumbered in order (for a merge)."""
        renumber = np.cumsum(live) - 1
        term_of = np.repeat(np.arange(len(self.terms), dtype=np.int64), np.diff(self.indptr))
        keep = live[self.docs]
        return term_of[keep], renumber[self.docs[keep]].astype(np.int64), self.counts[keep]

    def save(self, folder: Path, skip: Set[str] = frozenset()) -> tuple[str, str]:
        """Write (or hard-link, where an earlier generation has it) this segment into
        ``folder``; returns (file name, SHA-256). A file named in ``skip`` (the receiver
        has it) is not written where its checksum is known."""
        file_name = segment_file(self.name)
        if file_name in skip and self.checksum is not None:
            return file_name, self.checksum
        target = folder / file_name
        if self._path is not None and self._path.is_file() and self._path != target:
            target.unlink(missing_ok=True)
            try:
                os.link(self._path, target)
            except OSError:  # another file system, or no hard links: copy
                shutil.copyfile(self._path, target)
            checksum = self.checksum
        else:
            blob = np.frombuffer("\n".join(self.terms).encode("utf-8"), np.uint8)
            target.unlink(missing_ok=True)  # never write through a link another folder shares
            with open(target, "wb") as fh:
                np.savez(
                    fh,
                    terms=blob,
                    indptr=self.indptr,
                    docs=self.docs,
                    counts=self.counts,
                    lengths=self.lengths,
                )
            checksum = sha256_file(target)
        fsync_path(target)
        self._path, self.checksum = target, checksum
        return file_name, checksum

    @classmethod
    def load(cls, folder: Path, name: str, passages: int, checksum: str) -> Segment:
        """The segment ``name`` saved in ``folder`` (already checked against ``checksum``),
        with ``passages`` passages. Raises ValueError where its arrays do not fit together:
        a file crafted to match its checksum fails here, not at a question."""
        path = folder / segment_file(name)
        with np.load(path, allow_pickle=False) as saved:
            blob, indptr, docs, counts, lengths = (
                saved[k] for k in ("terms", "indptr", "docs", "counts", "lengths")
            )
        text = blob.astype(np.uint8).tobytes().decode("utf-8")
        terms = text.split("\n") if len(blob) else []
        if (
            indptr.dtype != np.int64
            or docs.dtype != np.int32
            or counts.dtype != np.uint16
            or lengths.dtype != np.int32
        ):
            raise ValueError(f"{path.name}: arrays of the wrong type")
        ok = (
            len(indptr) == len(terms) + 1
            and len(set(terms)) == len(terms)
            and len(lengths) == passages
            and indptr[0] == 0
            and indptr[-1] == len(docs) == len(counts)
            and np.all(np.diff(indptr) > 0)
            and (not len(docs) or (docs.min() >= 0 and docs.max() < passages))
            and np.all(counts > 0)
            and np.array_equal(np.bincount(docs, counts, passages), lengths)
        )
        if not ok:
            raise ValueError(f"{path.name}: postings do not fit together")
        segment = cls(terms, indptr, docs, counts, lengths, name=name)
        segment._path, segment.checksum = path, checksum
        return segment


class SegmentBuilder:
    """A :class:`Segment` made from passages given one at a time. Each block of
    :data:`BUILD_BLOCK` passages is reduced at once to its (term, passage, count) triples,
    ten bytes each, so a build holds neither every passage's words (Python strings, about
    ten times that) nor a sort over every word of the archive; the segment is the one a
    single pass over all the words would give (tests)."""

    def __init__(self) -> None:
        self.column: dict[str, int] = {}
        self._ids: list[int] = []  # the current block's words, as term ids
        self._lengths: list[int] = []  # its passages' lengths
        self._done = 0  # passages in earlier blocks
        #: Per block: terms, passages, counts (by term, then passage) and passage lengths.
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = [
            (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.uint16),
             np.zeros(0, np.int32))
        ]  # fmt: skip

    def add(self, words: Sequence[str]) -> None:
        """The next passage's terms, in order."""
        column = self.column
        self._ids.extend([column.setdefault(t, len(column)) for t in words])
        self._lengths.append(len(words))
        if len(self._lengths) >= BUILD_BLOCK:
            self._flush()

    def _flush(self) -> None:
        n = len(self._lengths)
        if not n:
            return
        lengths = np.array(self._lengths, np.int64)
        local = np.repeat(np.arange(n, dtype=np.int64), lengths)
        keys, counts = np.unique(np.array(self._ids, np.int64) * n + local, return_counts=True)
        terms, docs = np.divmod(keys, n)  # by term, then passage
        self._parts.append((
            terms.astype(np.int32),
            (docs + self._done).astype(np.int32),
            np.minimum(counts, _COUNT_MAX).astype(np.uint16),
            lengths.astype(np.int32),
        ))  # fmt: skip
        self._done += n
        self._ids, self._lengths = [], []

    def finish(self) -> Segment:
        """The segment of every passage added, in order."""
        self._flush()
        columns = zip(*self._parts, strict=True)
        terms, docs, counts, lengths = (np.concatenate(column) for column in columns)
        order = np.argsort(terms, kind="stable")  # each term's passages stay in order
        indptr = np.searchsorted(terms[order], np.arange(len(self.column) + 1)).astype(np.int64)
        return Segment(list(self.column), indptr, docs[order], counts[order], lengths)


class Postings:
    """The segments of one index generation, with each segment's passages mapped to rows.

    Every row ``0 … size-1`` is the live passage of exactly one segment. Immutable:
    :meth:`updated` returns the next generation's postings, sharing the segments it keeps.
    """

    def __init__(self, segments: Sequence[Segment], rows: Sequence[np.ndarray], size: int):
        self.segments, self.rows, self.size = tuple(segments), tuple(rows), size
        live = [r >= 0 for r in self.rows]
        self._all_live = tuple(bool(m.all()) for m in live)
        self.total_length = sum(
            int(seg.lengths[m].sum()) for seg, m in zip(self.segments, live, strict=True)
        )

    @classmethod
    def build(cls, segment: Segment) -> Postings:
        """The postings of one segment's passages, row ``i`` being its passage ``i``."""
        return cls([segment], [np.arange(len(segment), dtype=np.int64)], len(segment))

    def updated(self, origin: np.ndarray, fresh: Segment) -> Postings:
        """The postings of the next generation: its row ``i`` is this generation's row
        ``origin[i]`` where that is ≥ 0 (each at most once), else the next passage of the
        segment ``fresh``."""
        origin = np.asarray(origin, np.int64)
        new_rows = np.flatnonzero(origin < 0)
        if len(new_rows) != len(fresh):
            raise ValueError("one fresh passage is needed for each row without an origin")
        remap = np.full(self.size + 1, -1, np.int64)  # the extra -1 answers the removed
        kept = np.flatnonzero(origin >= 0)
        remap[origin[kept]] = kept
        segments, rows = list(self.segments), [remap[r] for r in self.rows]
        if len(fresh):
            segments.append(fresh)
            rows.append(new_rows)
        segments, rows = _merged(segments, rows)
        return Postings(segments, rows, len(origin))

    def hits(
        self, term: str, per_passage: Sequence[np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, counts, values) of the live passages ``term`` occurs in; the values are
        ``per_passage[segment][passage]`` (default: the passages' lengths)."""
        values = per_passage or [s.lengths for s in self.segments]
        parts = []
        for i, (segment, rows) in enumerate(zip(self.segments, self.rows, strict=True)):
            found = segment.postings(term)
            if found is not None:
                docs, counts = found
                if not self._all_live[i]:
                    docs, counts = docs[rows[docs] >= 0], counts[rows[docs] >= 0]
                parts.append((rows[docs], counts, values[i][docs]))
        if not parts:
            return _NO_HITS
        if len(parts) == 1:
            return parts[0]
        return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]

    def lengths(self) -> np.ndarray:
        """Each row's length in terms."""
        out = np.zeros(self.size, np.int64)
        for segment, rows in zip(self.segments, self.rows, strict=True):
            live = rows >= 0
            out[rows[live]] = segment.lengths[live]
        return out

    def save(
        self, folder: Path, role: str, skip: Set[str] = frozenset()
    ) -> tuple[dict, dict[str, str]]:
        """Write the segments (but those in ``skip``, see :meth:`Segment.save`) and the rows
        into ``folder``; returns the state to keep in the keyword file and file name →
        SHA-256."""
        files = dict(segment.save(folder, skip) for segment in self.segments)
        rows_name = _rows_file(role)
        rows = np.concatenate([np.zeros(0, np.int64), *self.rows])
        np.save(folder / rows_name, rows, allow_pickle=False)
        fsync_path(folder / rows_name)
        files[rows_name] = sha256_file(folder / rows_name)
        state = {"size": self.size, "segments": [[s.name, len(s)] for s in self.segments]}
        return state, files

    @classmethod
    def load(cls, folder: Path, role: str, state: dict, checksums: Mapping[str, str]) -> Postings:
        """The postings :meth:`save` wrote (files already checked against ``checksums``).
        Raises ValueError (or KeyError, TypeError) where they do not fit together."""
        size, listed = state["size"], state["segments"]
        if type(size) is not int or size < 0 or type(listed) is not list:
            raise ValueError(f"{role}: a bad segment list")
        segments = []
        for name, passages in listed:
            if type(name) is not str or not _SEGMENT_NAME.fullmatch(name):
                raise ValueError(f"{role}: a bad segment name")
            if type(passages) is not int or passages < 0:
                raise ValueError(f"{role}: a bad segment size")
            segments.append(Segment.load(folder, name, passages, checksums[segment_file(name)]))
        flat = np.load(folder / _rows_file(role), allow_pickle=False)
        bounds = np.cumsum([0, *map(len, segments)])
        if flat.dtype != np.int64 or len(flat) != bounds[-1]:
            raise ValueError(f"{role}: the rows do not fit the segments")
        live = flat[flat >= 0]
        if len(live) != size or (size and not np.array_equal(np.sort(live), np.arange(size))):
            raise ValueError(f"{role}: not every row is one passage")
        if np.any(flat < -1):
            raise ValueError(f"{role}: rows out of range")
        rows = [flat[a:b] for a, b in itertools.pairwise(bounds)]
        return cls(segments, rows, size)

    @staticmethod
    def saved_files(role: str, state: dict) -> list[str]:
        """The files :meth:`save` wrote for ``state`` (to check them before :meth:`load`)."""
        return [segment_file(name) for name, _ in state["segments"]] + [_rows_file(role)]


_NO_HITS = (np.zeros(0, np.int64), np.zeros(0, np.uint16), np.zeros(0, np.int32))


def _merged(
    segments: list[Segment], rows: list[np.ndarray]
) -> tuple[list[Segment], list[np.ndarray]]:
    """Merge the newest segments while the one before is at most :data:`MERGE_FACTOR` times
    larger; drop segments with no live passage; rewrite those mostly removed."""
    live = [int((r >= 0).sum()) for r in rows]
    keep = [i for i, n in enumerate(live) if n]
    segments, rows, live = (
        [segments[i] for i in keep],
        [rows[i] for i in keep],
        [live[i] for i in keep],
    )
    while len(segments) > 1 and live[-2] <= MERGE_FACTOR * live[-1]:
        merged = _merge(segments[-2:], rows[-2:])
        segments[-2:], rows[-2:], live[-2:] = [merged[0]], [merged[1]], [live[-2] + live[-1]]
    for i, segment in enumerate(segments):
        if live[i] < MIN_LIVE_SHARE * len(segment):
            segments[i], rows[i] = _merge([segment], [rows[i]])
    return segments, rows


def _merge(segments: list[Segment], rows: list[np.ndarray]) -> tuple[Segment, np.ndarray]:
    """One segment of the live passages of ``segments``, in order, and their rows."""
    column: dict[str, int] = {}
    term_parts, doc_parts, count_parts, length_parts, row_parts = [], [], [], [], []
    offset = 0
    for segment, at in zip(segments, rows, strict=True):
        live = at >= 0
        ids = np.fromiter(
            (column.setdefault(t, len(column)) for t in segment.terms),
            np.int64,
            len(segment.terms),
        )
        terms, docs, counts = segment.triples(live)
        term_parts.append(ids[terms])
        doc_parts.append(docs + offset)
        count_parts.append(counts.astype(np.int64))
        length_parts.append(segment.lengths[live])
        row_parts.append(at[live])
        offset += int(live.sum())
    merged = Segment._from_pairs(
        list(column),
        np.concatenate(term_parts),
        np.concatenate(doc_parts),
        np.concatenate(count_parts),
        np.concatenate(length_parts),
    )
    return merged, np.concatenate(row_parts)
