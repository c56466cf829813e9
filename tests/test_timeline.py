"""Counting matching articles per period and per outlet (diploqa.timeline), on article columns
made from hand-dated articles: the labels, the bounds a click sets, empty periods, the undated
and the coarsely dated, and the text histogram."""

from __future__ import annotations

import numpy as np
import pytest

from diploqa.articles import Article
from diploqa.errors import QueryError
from diploqa.filters import ArticleColumns
from diploqa.timeline import (
    MAX_PERIODS,
    Period,
    Timeline,
    check_interval,
    count_outlets,
    count_periods,
    histogram,
)


def columns(*dates: str | None, outlets: list[str | None] | None = None) -> ArticleColumns:
    outlets = outlets or [None] * len(dates)
    return ArticleColumns([
        Article(id=f"a{i}", title="", text="", date=d, outlet=o, url=None, content_hash="")
        for i, (d, o) in enumerate(zip(dates, outlets, strict=True))
    ])  # fmt: skip


def every(cols: ArticleColumns) -> np.ndarray:
    return np.arange(len(cols.ids))


def test_months_with_the_empty_ones_between_and_the_undated_apart():
    cols = columns("2016-10-03", "2016-10-31", "2016-12-24", None, "2016-10-14", None)
    timeline = count_periods(cols, every(cols), "month")
    assert [(p.label, p.start, p.end, p.articles) for p in timeline] == [
        ("2016-10", "2016-10-01", "2016-10-31", 3),
        ("2016-11", "2016-11-01", "2016-11-30", 0),
        ("2016-12", "2016-12-01", "2016-12-31", 1),
    ]
    assert timeline.undated == 2 and timeline.imprecise == 0 and timeline.articles == 6
    assert timeline.interval == "month" and not timeline.capped
    assert timeline.peak() == timeline[0]
    assert list(timeline) == list(timeline.periods) and len(timeline) == 3


def test_only_the_given_positions_are_counted():
    cols = columns("2016-10-03", "2017-01-01", None, "2016-10-04")
    timeline = count_periods(cols, np.array([3, 0]), "month")
    assert [(p.label, p.articles) for p in timeline] == [("2016-10", 2)]
    assert timeline.undated == 0


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ("day", [("2016-02-28", "2016-02-28", "2016-02-28", 1),
                 ("2016-02-29", "2016-02-29", "2016-02-29", 1),
                 ("2016-03-01", "2016-03-01", "2016-03-01", 1)]),
        # ISO weeks start on Monday: 2016-02-28 is a Sunday (week 8), 02-29 a Monday (week 9)
        ("week", [("2016-W08", "2016-02-22", "2016-02-28", 1),
                  ("2016-W09", "2016-02-29", "2016-03-06", 2)]),
        ("month", [("2016-02", "2016-02-01", "2016-02-29", 2),
                   ("2016-03", "2016-03-01", "2016-03-31", 1)]),
        ("year", [("2016", "2016-01-01", "2016-12-31", 3)]),
    ],
)  # fmt: skip
def test_each_interval_labels_and_bounds_its_periods(interval, expected):
    cols = columns("2016-02-28", "2016-02-29", "2016-03-01")
    timeline = count_periods(cols, every(cols), interval)
    assert [(p.label, p.start, p.end, p.articles) for p in timeline] == expected


def test_an_iso_week_that_belongs_to_the_previous_year():
    cols = columns("2021-01-01", "2021-01-04")  # a Friday of 2020-W53, a Monday of 2021-W01
    timeline = count_periods(cols, every(cols), "week")
    assert [(p.label, p.start) for p in timeline] == [
        ("2020-W53", "2020-12-28"),
        ("2021-W01", "2021-01-04"),
    ]


def test_dates_coarser_than_the_interval_are_counted_apart_not_guessed():
    cols = columns("2016", "2016-10", "2016-10-14", "2016-10-15")
    by_day = count_periods(cols, every(cols), "day")
    assert [(p.label, p.articles) for p in by_day] == [("2016-10-14", 1), ("2016-10-15", 1)]
    assert by_day.imprecise == 2 and by_day.articles == 4
    by_month = count_periods(cols, every(cols), "month")
    assert [(p.label, p.articles) for p in by_month] == [("2016-10", 3)]
    assert by_month.imprecise == 1
    assert count_periods(cols, every(cols), "year").imprecise == 0


def test_dates_before_1970_and_in_year_one():
    cols = columns("0001-01-01", "1969-12-31", "1970-01-01")
    timeline = count_periods(cols, every(cols), "year")  # 1,970 years: only the filled ones
    assert [(p.label, p.articles) for p in timeline] == [("0001", 1), ("1969", 1), ("1970", 1)]
    months = count_periods(columns("1969-12-31", "1970-01-01"), np.arange(2), "month")
    assert [(p.label, p.start, p.end) for p in months] == [
        ("1969-12", "1969-12-01", "1969-12-31"),
        ("1970-01", "1970-01-01", "1970-01-31"),
    ]


def test_a_short_span_lists_every_period_a_long_one_only_the_filled():
    cols = columns("2016-01-01", "2016-12-31")
    assert len(count_periods(cols, every(cols), "day")) == 366
    far = columns("1950-01-01", "2016-12-31")
    by_day = count_periods(far, every(far), "day")
    assert [p.label for p in by_day] == ["1950-01-01", "2016-12-31"]
    assert len(count_periods(far, every(far), "month")) == 67 * 12 <= MAX_PERIODS


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["2016-10-01", "2016-10-20"], "day"),
        (["2016-10-01", "2016-12-20"], "week"),
        (["2014-10-01", "2016-12-20"], "month"),
        (["2004-12-03", "2022-03-06"], "year"),
        (["2016-10", "2016-10-14"], "month"),  # half of them dated by month: no day chart
        (["2016", "2017"], "year"),
        ([None], "month"),
    ],
)
def test_auto_picks_the_interval_from_the_span_and_the_precision(dates, expected):
    cols = columns(*dates)
    assert count_periods(cols, every(cols), "auto").interval == expected


def test_no_matches_is_an_empty_timeline():
    cols = columns("2016-10-01")
    timeline = count_periods(cols, np.zeros(0, dtype=np.int64), "auto")
    assert list(timeline) == [] and timeline.articles == 0 and timeline.peak() is None
    assert histogram(timeline) == "0 matching articles"


@pytest.mark.parametrize("bad", ["monthly", "", None, 3, "days"])
def test_an_unknown_interval_is_a_query_error(bad):
    with pytest.raises(QueryError, match="interval must be one of auto, day, week, month, year"):
        check_interval(bad)
    cols = columns("2016-10-01")
    with pytest.raises(QueryError, match="interval must be one of"):
        count_periods(cols, every(cols), bad)


def test_interval_names_are_read_leniently():
    assert check_interval(" Week ") == "week"


def test_outlets_most_first_then_by_name_without_the_unknown():
    cols = columns(*["2016"] * 6, outlets=["taz", "ZEIT ONLINE", None, "zeit online", "taz", ""])
    assert count_outlets(cols, every(cols)) == {"taz": 2, "zeit online": 1, "ZEIT ONLINE": 1}
    assert list(count_outlets(cols, every(cols))) == ["taz", "ZEIT ONLINE", "zeit online"]
    assert count_outlets(cols, np.array([2, 5])) == {}


def test_fields_are_the_json_form():
    timeline = Timeline("month", (Period("2016-10-01", "2016-10-31", "2016-10", 7),), 12, 1)
    assert timeline.fields() == {
        "interval": "month",
        "timeline": [{"period": "2016-10", "start": "2016-10-01", "end": "2016-10-31",
                      "articles": 7}],
        "undated": 12,
        "imprecise": 1,
    }  # fmt: skip


def test_histogram_one_line_per_period_with_bars_and_counts():
    timeline = Timeline(
        "month",
        (
            Period("2016-09-01", "2016-09-30", "2016-09", 8),
            Period("2016-10-01", "2016-10-31", "2016-10", 0),
            Period("2016-11-01", "2016-11-30", "2016-11", 3),
            Period("2016-12-01", "2016-12-31", "2016-12", 1),
        ),
        undated=12,
        imprecise=2,
        capped=True,
    )
    lines = histogram(timeline, width=16).splitlines()
    assert lines[0] == "2016-09  " + "█" * 16 + "  8"
    assert lines[1] == "2016-10  " + " " * 16 + "  0"
    assert lines[2] == "2016-11  " + "██████" + " " * 10 + "  3"
    assert lines[3] == "2016-12  ██" + " " * 14 + "  1"
    assert lines[4] == "undated: 12"
    assert lines[5] == "dated only by a longer period than a month: 2"
    assert lines[6].startswith("26 matching articles (or more")


def test_histogram_eighths_and_a_never_blank_bar():
    timeline = Timeline(
        "day",
        (
            Period("2016-10-01", "2016-10-01", "2016-10-01", 1000),
            Period("2016-10-02", "2016-10-02", "2016-10-02", 1),
            Period("2016-10-03", "2016-10-03", "2016-10-03", 531),
        ),
    )
    lines = histogram(timeline, width=10).splitlines()
    assert lines[1].split("  ")[1].strip() == "▏"  # 1 of 1000: too short to show, shown
    assert lines[2].split("  ")[1].strip() == "█████▎"  # 5.31 of 10 blocks: 5 and 2/8
    assert lines[-1] == "1532 matching articles"
