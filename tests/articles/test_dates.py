"""Tests for diploqa.articles.dates: dates as written → ISO."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diploqa.articles.dates import find_date, find_dates, normalise_date


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        # ISO, with and without time and zone
        ("2016", "2016"),
        ("2016-10", "2016-10"),
        ("2016-10-14", "2016-10-14"),
        ("2016-10-14T08:00:00+02:00", "2016-10-14"),
        ("2016-10-14T08:00:00.123Z", "2016-10-14"),
        ("2016-10-14T23:30:00-05:00", "2016-10-14"),  # the day as printed, not UTC
        ("2016-10-14 08:00", "2016-10-14"),
        ("2016/10/14", "2016-10-14"),
        ("  2016-10-14  ", "2016-10-14"),
        # German numeric
        ("14.10.2016", "2016-10-14"),
        ("1.2.2017", "2017-02-01"),
        ("14.10.16", "2016-10-14"),
        ("14.10.98", "1998-10-14"),
        ("14. 10. 2016", "2016-10-14"),
        ("14.10.2016, 08:15 Uhr", "2016-10-14"),
        ("Stand: 14.10.2016 | 08:00 MESZ", "2016-10-14"),
        # German month names
        ("14. Oktober 2016", "2016-10-14"),
        ("14 Oktober 2016", "2016-10-14"),
        ("14. Okt. 2016", "2016-10-14"),
        ("1. März 2017", "2017-03-01"),
        ("Okt. 2016", "2016-10"),
        ("Oktober 2016", "2016-10"),
        ("Jänner 2017", "2017-01"),
        ("Mai 2016", "2016-05"),
        ("Freitag, 14. Oktober 2016", "2016-10-14"),
        ("Fr., 14. Oktober 2016, 08:00 Uhr", "2016-10-14"),
        ("veröffentlicht am 14. Oktober 2016", "2016-10-14"),
        # English
        ("October 14, 2016", "2016-10-14"),
        ("Oct. 14th 2016", "2016-10-14"),
        ("14 October 2016", "2016-10-14"),
        ("October 2016", "2016-10"),
        ("Friday, October 14, 2016", "2016-10-14"),
        ("Fri, 14 Oct 2016 08:00:00 +0200", "2016-10-14"),  # RFC 2822, as in RSS
        # compact and timestamps (UTC)
        ("20161014", "2016-10-14"),
        ("1476424800", "2016-10-14"),
        ("1476424800000", "2016-10-14"),
    ],
)
def test_normalise_date(written: str, iso: str) -> None:
    assert normalise_date(written) == iso


@pytest.mark.parametrize(
    "written",
    [
        None,
        "",
        "   ",
        "irgendwann im Herbst",
        "Oktober",  # no year
        "14. Oktober",  # no year
        "31.04.2016",  # no such day
        "29.02.2017",
        "2016-13",
        "2016-10-32",
        "10/14/2016",  # US order: ambiguous in general
        "0001-01-01",  # out of range
        "12:00",
        "2016-10-14 und mehr Text danach",
        "Kerry traf Lawrow am 14. Oktober 2016.",  # a sentence is not a date
        "x" * 500,
    ],
)
def test_normalise_date_rejects(written: str | None) -> None:
    assert normalise_date(written) is None


def test_leap_day() -> None:
    assert normalise_date("29.02.2016") == "2016-02-29"


def test_find_date_in_running_text() -> None:
    text = "Berlin, Freitag, 14. Oktober 2016 – Lawrow sagte am 12.10.2016 etwas."
    assert find_date(text) == ("2016-10-14", "Freitag, 14. Oktober 2016")
    assert [iso for iso, _ in find_dates(text)] == ["2016-10-14", "2016-10-12"]
    assert find_date("Im Jahr 2016 gab es 12 Treffen, Version 1.2.2017x.") is None
    assert find_date("Stand 2016-10-14 08:00") == ("2016-10-14", "2016-10-14")
    assert find_date("Ende Okt. 2016 reiste er") == ("2016-10", "Okt. 2016")
    assert find_date("am 31.04.2016 und am 1.5.2016") == ("2016-05-01", "1.5.2016")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_normalise_date_is_iso_or_none(text: str) -> None:
    iso = normalise_date(text)
    assert iso is None or normalise_date(iso) == iso
    assert iso is None or len(iso) in (4, 7, 10)


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2199, 12, 31)))
def test_every_real_day_round_trips(day: dt.date) -> None:
    assert normalise_date(day.isoformat()) == day.isoformat()
    assert normalise_date(f"{day.day}.{day.month}.{day.year}") == day.isoformat()
