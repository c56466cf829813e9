"""How the articles matching a question spread over time and over outlets.

:func:`count_periods` turns the matching articles (:class:`~diploqa.matching.Matches`) into a
:class:`Timeline`: articles per day, week, month or year, with those that have no date, or a
date coarser than the period (an article dated "2016" on a month chart), counted apart rather
than guessed into a bar. :func:`count_outlets` counts the same articles by outlet. Both read
the per-article columns the filters use (:class:`~diploqa.filters.ArticleColumns`) at the
matching articles' positions only, so they cost what the matches number, never the archive.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np

from .errors import QueryError
from .filters import NO_DATE, ArticleColumns

#: The periods a timeline can count by, finest first.
INTERVALS = ("day", "week", "month", "year")
#: What a caller may ask for: a period, or ``auto`` (chosen from the matches' span).
INTERVAL_CHOICES = ("auto", *INTERVALS)
#: A timeline with more periods than this from its first to its last lists only the periods
#: that have articles (an archive with one article dated 1950 would otherwise list 900
#: empty months).
MAX_PERIODS = 1000
#: ``auto``: the longest span, in days, counted by day, by week and by month; beyond, by year.
AUTO_SPANS = {"day": 62, "week": 26 * 7, "month": 10 * 366}

Interval = Literal["day", "week", "month", "year"]

_EPOCH = dt.date(1970, 1, 1).toordinal()
_UNIT = {"day": "D", "week": "D", "month": "M", "year": "Y"}


def check_interval(value: object) -> str:
    """``value`` as one of :data:`INTERVAL_CHOICES` (case and spaces ignored).

    Raises:
        QueryError: it is none of them.
    """
    name = value.strip().lower() if isinstance(value, str) else value
    if name not in INTERVAL_CHOICES:
        raise QueryError(f"interval must be one of {', '.join(INTERVAL_CHOICES)}, not {value!r}")
    return name


@dataclass(frozen=True)
class Period:
    """One bar of a timeline.

    Attributes:
        start: the period's first day (ISO), what a click sets ``since`` to.
        end: its last day (ISO), what a click sets ``until`` to.
        label: ``2016-10-14`` (day), ``2016-W41`` (ISO week), ``2016-10`` (month), ``2016``.
        articles: matching articles dated inside it.
    """

    start: str
    end: str
    label: str
    articles: int


@dataclass(frozen=True)
class Timeline(Sequence[Period]):
    """The matching articles of a question per period: a sequence of :class:`Period`, oldest
    first, from the first period with an article to the last, empty periods included (unless
    there would be more than :data:`MAX_PERIODS`: then only those with articles).

    Attributes:
        interval: what a period is (``auto`` already resolved).
        periods: the bars.
        undated: matching articles without a date.
        imprecise: matching articles whose date is coarser than the interval (a month or a
            year on a day chart), in no bar.
        capped: even the weakest of the question's candidates matched, so more articles than
            counted may match (a question as broad as the archive; see
            :mod:`diploqa.matching`).
    """

    interval: Interval
    periods: tuple[Period, ...] = ()
    undated: int = 0
    imprecise: int = 0
    capped: bool = False

    @property
    def articles(self) -> int:
        """Every matching article: in a bar, undated or imprecise."""
        return sum(p.articles for p in self.periods) + self.undated + self.imprecise

    @overload
    def __getitem__(self, i: int) -> Period: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Period, ...]: ...
    def __getitem__(self, i):
        return self.periods[i]

    def __len__(self) -> int:
        return len(self.periods)

    def __iter__(self) -> Iterator[Period]:
        return iter(self.periods)

    def fields(self) -> dict[str, Any]:
        """As JSON fields (the JSON API's, the MCP tool's, ``diploqa search --json``'s):
        ``interval``, ``timeline`` (``period``: the label, ``start``, ``end``, ``articles``),
        ``undated``, ``imprecise``."""
        return {
            "interval": self.interval,
            "timeline": [
                {"period": p.label, "start": p.start, "end": p.end, "articles": p.articles}
                for p in self.periods
            ],
            "undated": self.undated,
            "imprecise": self.imprecise,
        }

    def peak(self) -> Period | None:
        """The period with the most articles (the earliest of equals), None if no bar."""
        return max(self.periods, key=lambda p: p.articles, default=None)


def count_periods(
    columns: ArticleColumns, positions: np.ndarray, interval: str = "month", capped: bool = False
) -> Timeline:
    """The timeline of the articles at ``positions`` (indices into ``columns``).

    Raises:
        QueryError: ``interval`` is not one of :data:`INTERVAL_CHOICES`.
    """
    interval = check_interval(interval)
    positions = np.asarray(positions, dtype=np.int64)
    starts, ends = columns.starts[positions], columns.ends[positions]
    dated = starts != NO_DATE[0]
    undated = int(len(positions) - dated.sum())
    starts, ends = starts[dated] - _EPOCH, ends[dated] - _EPOCH
    if interval == "auto":
        interval = _auto_interval(starts, ends)
    first, last = _period_of(starts, interval), _period_of(ends, interval)
    precise = first == last
    periods = _periods(first[precise], interval)
    imprecise = int(len(first) - precise.sum())
    return Timeline(interval, periods, undated, imprecise, capped)  # type: ignore[arg-type]


def count_outlets(columns: ArticleColumns, positions: np.ndarray) -> dict[str, int]:
    """Articles at ``positions`` per outlet, most first (then by name); articles without an
    outlet are not counted (there is no filter value to set for them)."""
    counts = Counter(columns.outlets[i] for i in np.asarray(positions, dtype=np.int64).tolist())
    counts.pop(None, None)
    counts.pop("", None)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold(), item[0])))


def _period_of(days: np.ndarray, interval: str) -> np.ndarray:
    """The first day of the period each of ``days`` (days since 1970-01-01) falls in, in the
    interval's numpy unit (days, months or years since 1970)."""
    if interval == "week":  # 1970-01-01 was a Thursday: Monday is 3 days before
        return days - (days + 3) % 7
    if interval == "day":
        return days
    return days.astype("datetime64[D]").astype(f"datetime64[{_UNIT[interval]}]").astype(np.int64)


def _auto_interval(starts: np.ndarray, ends: np.ndarray) -> str:
    """The finest interval whose periods are few enough for the span of the dated matches, and
    at which most of them are precise (archives dated by month get no day chart)."""
    if len(starts) == 0:
        return "month"
    span = int(ends.max() - starts.min()) + 1
    chosen = next((name for name, most in AUTO_SPANS.items() if span <= most), "year")
    for name in INTERVALS[INTERVALS.index(chosen) :]:
        precise = int((_period_of(starts, name) == _period_of(ends, name)).sum())
        if 2 * precise > len(starts):
            return name
    return "year"


def _periods(keys: np.ndarray, interval: str) -> tuple[Period, ...]:
    """A period for each key from the first to the last (only the non-empty beyond
    :data:`MAX_PERIODS`), with the number of ``keys`` in each."""
    if len(keys) == 0:
        return ()
    found, counts = np.unique(keys, return_counts=True)
    step = 7 if interval == "week" else 1
    n = (int(found[-1]) - int(found[0])) // step + 1
    if n <= MAX_PERIODS:
        every = np.arange(int(found[0]), int(found[-1]) + 1, step, dtype=np.int64)
        full = np.zeros(len(every), dtype=np.int64)
        full[(found - found[0]) // step] = counts
        found, counts = every, full
    return tuple(_period(int(k), int(c), interval) for k, c in zip(found, counts, strict=True))


def _period(key: int, count: int, interval: str) -> Period:
    unit = _UNIT[interval]
    start = np.datetime64(key, unit).astype("datetime64[D]").item()
    if interval == "day":
        end, label = start, start.isoformat()
    elif interval == "week":
        end = start + dt.timedelta(days=6)
        year, week, _ = start.isocalendar()
        label = f"{year}-W{week:02d}"
    else:
        end = (np.datetime64(key + 1, unit).astype("datetime64[D]") - 1).item()
        label = start.isoformat()[: 7 if interval == "month" else 4]
    return Period(start.isoformat(), end.isoformat(), label, count)


def histogram(timeline: Timeline, width: int = 40) -> str:
    """The timeline as text, one line per period: its label, a bar of block characters
    (eighths for the remainder) as long as its share of the highest, and its count; then
    the undated and imprecise counts where there are any."""
    top = max((p.articles for p in timeline), default=0)
    label_width = max((len(p.label) for p in timeline), default=0)
    lines = []
    for period in timeline:
        eighths = round(period.articles / top * width * 8) if top else 0
        if period.articles and not eighths:
            eighths = 1  # a bar with an article is never blank
        bar = "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]
        lines.append(f"{period.label:<{label_width}}  {bar:<{width}}  {period.articles}")
    if timeline.undated:
        lines.append(f"undated: {timeline.undated}")
    if timeline.imprecise:
        lines.append(f"dated only by a longer period than a {timeline.interval}: "
                     f"{timeline.imprecise}")  # fmt: skip
    more = " (or more: the question is broader than the candidates counted)"
    lines.append(
        f"{timeline.articles} matching article{'s' if timeline.articles != 1 else ''}"
        + (more if timeline.capped else "")
    )
    return "\n".join(lines)
