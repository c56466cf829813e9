"""Which articles a question may be answered from: outlet, date range and article id.

A filter is checked once per question against per-article columns kept beside the index
(:class:`ArticleColumns`), giving the rows the vector store may return; the store applies them
inside its search (:meth:`~diploqa.store.VectorStore.search`), so a rare filter still returns
``k`` hits whenever ``k`` matching passages exist.

Semantics, chosen for archives whose dates have different precision:

* ``since``/``until`` are inclusive; a partial date means its whole period: ``since="2016"`` is
  from 2016-01-01, ``until="2016-10"`` up to 2016-10-31. An article dated only "2016-10"
  matches when its month overlaps the range. Articles without a date are excluded by any date
  filter.
* ``outlet`` is a name or a list of names, case-insensitive; a name matches an outlet equal to
  it or containing it as whole words ("zeit" matches "ZEIT ONLINE", not "Frankfurter
  Allgemeine Zeitung").
* ``source`` is a glob on the article id (``Hit.source``), e.g. ``"sz/*"`` or ``"*.jsonl#*"``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .articles import Article
from .errors import QueryError

_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_WORDS = re.compile(r"\w+")
#: Ordinals beyond any real date, for articles without one (their start and end).
NO_DATE = (np.iinfo(np.int64).max, np.iinfo(np.int64).min)


def date_range(value: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of an ISO date of any precision (``2016``, ``2016-10``,
    ``2016-10-14``, also with a time after ``T``), or None if it is not one."""
    match = _ISO.match(value.strip().split("T", 1)[0]) if isinstance(value, str) else None
    if not match:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return dt.date(year, month, 1), dt.date(year, month, last)
        return dt.date(year, month, day), dt.date(year, month, day)
    except ValueError:
        return None


def _bound(value: object, name: str, end: bool) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    found = date_range(value) if isinstance(value, str) else None
    if found is None:
        raise QueryError(f"{name} must be a date like 2016, 2016-10 or 2016-10-14, not {value!r}")
    return found[1] if end else found[0]


def _outlets(value: object) -> tuple[tuple[str, ...], ...] | None:
    if value is None or value == "" or value == []:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, Iterable) or not all(isinstance(n, str) for n in names):
        raise QueryError(f"outlet must be a name or a list of names, not {value!r}")
    words = tuple(tuple(_WORDS.findall(n.casefold())) for n in names if n.strip())
    return words or None


@dataclass(frozen=True)
class SearchFilter:
    """A checked filter; build it with :meth:`make`."""

    outlets: tuple[tuple[str, ...], ...] | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    source: str | None = None

    @classmethod
    def make(
        cls,
        outlet: str | Sequence[str] | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        source: str | None = None,
    ) -> SearchFilter | None:
        """The filter for these arguments, None when they filter nothing.

        Raises:
            QueryError: a date that is not one, ``since`` after ``until``, a non-text outlet
                or source.
        """
        start, end = _bound(since, "since", False), _bound(until, "until", True)
        if start and end and start > end:
            raise QueryError(f"since ({start}) is after until ({end})")
        if source is not None and not isinstance(source, str):
            raise QueryError(f"source must be a glob pattern, not {source!r}")
        made = cls(_outlets(outlet), start, end, source.strip() if source else None)
        return None if made == cls() else made

    def matches(self, article: Article) -> bool:
        """Whether ``article`` passes (the reference the vectorised check must agree with)."""
        if self.outlets is not None and not _outlet_matches(article.outlet, self.outlets):
            return False
        if self.since or self.until:
            found = date_range(article.date) if article.date else None
            if found is None:
                return False
            if (self.since and found[1] < self.since) or (self.until and found[0] > self.until):
                return False
        return self.source is None or fnmatch.fnmatchcase(article.id, self.source)


def _outlet_matches(outlet: str | None, wanted: tuple[tuple[str, ...], ...]) -> bool:
    if not outlet:
        return False
    words = tuple(_WORDS.findall(outlet.casefold()))
    return any(_contains(words, name) for name in wanted)


def _contains(words: tuple[str, ...], name: tuple[str, ...]) -> bool:
    n = len(name)
    return n > 0 and any(words[i : i + n] == name for i in range(len(words) - n + 1))


class ArticleColumns:
    """Per-article values as arrays, so a filter costs a few vector operations per question
    instead of a Python loop over every article."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self.ids = [a.id for a in articles]
        self._position = {aid: i for i, aid in enumerate(self.ids)}
        self.outlets = [a.outlet for a in articles]
        starts, ends = [], []
        for article in articles:
            found = date_range(article.date) if article.date else None
            first, last = (found[0].toordinal(), found[1].toordinal()) if found else NO_DATE
            starts.append(first)
            ends.append(last)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.ends = np.asarray(ends, dtype=np.int64)
        self._outlet_cache: dict[tuple, np.ndarray] = {}

    def positions(self, ids: Iterable[str]) -> np.ndarray:
        """The rows of the articles with these ids, in their order."""
        return np.fromiter((self._position[i] for i in ids), np.int64)

    def mask(self, wanted: SearchFilter) -> np.ndarray:
        """One bool per article: does it pass ``wanted``?"""
        keep = np.ones(len(self.ids), dtype=bool)
        if wanted.outlets is not None:
            keep &= self._outlet_mask(wanted.outlets)
        if wanted.since is not None:
            keep &= self.ends >= wanted.since.toordinal()
        if wanted.until is not None:
            keep &= self.starts <= wanted.until.toordinal()
        if wanted.since is not None or wanted.until is not None:
            keep &= self.starts != NO_DATE[0]
        if wanted.source is not None:
            pattern = re.compile(fnmatch.translate(wanted.source))
            keep &= np.fromiter((bool(pattern.match(i)) for i in self.ids), bool, len(self.ids))
        return keep

    def _outlet_mask(self, wanted: tuple[tuple[str, ...], ...]) -> np.ndarray:
        if wanted not in self._outlet_cache:  # few outlets, asked again and again
            if len(self._outlet_cache) >= 256:
                self._outlet_cache.clear()
            by_name = {o: _outlet_matches(o, wanted) for o in set(self.outlets)}
            self._outlet_cache[wanted] = np.fromiter(
                (by_name[o] for o in self.outlets), bool, len(self.outlets)
            )
        return self._outlet_cache[wanted]

    def outlet_names(self) -> list[str]:
        """Every outlet in the index, sorted case-insensitively (for the UI's choices)."""
        return sorted({o for o in self.outlets if o}, key=str.casefold)
