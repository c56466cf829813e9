"""The overview beside the answers (issue #25, 1–4), rendered from hand-made timelines: one
button per bar that names its period, the highest marked, the undated apart, outlet chips,
the clearing buttons, export and link controls, and everything escaped."""

from __future__ import annotations

import re

from diploqa.app.chart import MIN_BAR_PERCENT, render_overview, render_timeline
from diploqa.hits import Answer
from diploqa.query import Query
from diploqa.timeline import Period, Timeline

OCTOBER = Period("2016-10-01", "2016-10-31", "2016-10", 12)
NOVEMBER = Period("2016-11-01", "2016-11-30", "2016-11", 0)
DECEMBER = Period("2016-12-01", "2016-12-31", "2016-12", 1)
TIMELINE = Timeline("month", (OCTOBER, NOVEMBER, DECEMBER), undated=12, imprecise=2)


def bars(html: str) -> list[dict[str, str]]:
    found = re.findall(r'<button type="button" class="dq-period[^"]*"[^>]*>', html)
    return [dict(re.findall(r'(data-[a-z]+|class|style)="([^"]*)"', b)) for b in found]


def test_one_button_per_period_the_highest_marked_the_undated_apart():
    html = render_timeline(TIMELINE)
    shown = bars(html)
    assert [(b["data-since"], b["data-until"], b["data-label"]) for b in shown] == [
        ("2016-10-01", "2016-10-31", "2016-10"),
        ("2016-11-01", "2016-11-30", "2016-11"),
        ("2016-12-01", "2016-12-31", "2016-12"),
    ]
    assert [b["class"] for b in shown] == ["dq-period dq-peak", "dq-period", "dq-period"]
    assert [b["style"] for b in shown] == ["--h:100%", "--h:0%", "--h:8%"]  # 1 of 12
    assert 'aria-label="2016-10: 12 Artikel / articles"' in html
    assert "ohne Datum / undated: 12" in html and "dated less precisely: 2" in html
    assert "Artikel pro Monat / articles per month" in html
    assert "Höchster / peak: 2016-10 (12)" in html


def test_no_bars_without_dated_matches_but_the_undated_count():
    html = render_timeline(Timeline("year", (), undated=4))
    assert bars(html) == [] and 'class="dq-chart"' not in html and "undated: 4" in html


def test_a_bar_of_one_among_hundreds_still_shows():
    few = Period("2017-01-01", "2017-12-31", "2017", 1)
    many = Timeline("year", (Period("2016-01-01", "2016-12-31", "2016", 400), few))
    assert [b["style"] for b in bars(render_timeline(many))] == [
        "--h:100%",
        f"--h:{MIN_BAR_PERCENT}%",
    ]


def test_the_overview_says_what_matches_and_offers_every_control():
    query = Query("Kerry", outlet=["ZEIT ONLINE"], since="2016-10-01", until="2016-10-31")
    answer = Answer([], TIMELINE, {"ZEIT ONLINE": 9, "Süddeutsche Zeitung": 5})
    html = render_overview(answer, query, "auto", "?q=Kerry&since=2016-10-01")
    assert "27 passende Artikel / matching articles" in html  # 13 in bars, 12 undated, 2
    assert 'data-link="?q=Kerry&amp;since=2016-10-01"' in html
    assert re.search(r'data-interval="auto" aria-pressed="true"', html)
    assert re.search(r'data-interval="week" aria-pressed="false"', html)
    chips = re.findall(r'data-outlet="([^"]*)">([^<]*)<span class="dq-chip-count">(\d+)', html)
    assert chips == [("ZEIT ONLINE", "ZEIT ONLINE ", "9"),
                     ("Süddeutsche Zeitung", "Süddeutsche Zeitung ", "5")]  # fmt: skip
    assert 'data-outlet="">× alle Medien / all outlets' in html  # an outlet is set
    assert 'data-since="" data-until="">× alle Daten / all dates' in html  # dates are set
    assert 'data-export="csv"' in html and 'data-export="jsonl"' in html
    assert "data-copy" in html and "Link kopieren / Copy link" in html
    plain = render_overview(answer, Query("Kerry"), "month", "?q=Kerry")
    assert "alle Medien" not in plain and "alle Daten" not in plain
    capped = Answer([], Timeline("month", (OCTOBER,), capped=True), {})
    assert "mindestens 12 passende Artikel / at least 12 matching articles" in render_overview(
        capped, Query("Kerry"), "auto", "?q=Kerry"
    )


def test_every_text_is_escaped():
    evil = '<img src=x onerror="alert(1)">'
    answer = Answer([], Timeline("month", (OCTOBER,)), {evil: 3})
    html = render_overview(answer, Query("Kerry", outlet=[evil]), "auto", '?q="><script>')
    assert "<img" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert 'data-link="?q=&quot;&gt;&lt;script&gt;"' in html
