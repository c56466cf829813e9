"""The results area's events without a browser, on the real seed index (issue #25, 1–5):
opening a link fills the fields and answers at once, a bar, a chip or an interval sets its
filter and asks again, the export downloads the search last answered."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from starlette.datastructures import QueryParams

from diploqa.app import events
from diploqa.app.layout import gr
from diploqa.app.updater import Updater
from diploqa.query import DEFAULT_K, Query

SKIP = gr.skip()
KERRY_SYRIA = "Was sagte Kerry über Syrien?"


@pytest.fixture(scope="module")
def results(app_holder, seed_copy):
    return events.Events(Updater(app_holder, seed_copy), per_article=2).results


def visit(address: str, session: str = "visitor") -> SimpleNamespace:
    return SimpleNamespace(query_params=QueryParams(address), session_hash=session)


def cards(html: str) -> list[str]:
    return re.findall(r'class="dq-card" data-source="([^"]*)"', html)


def test_a_link_fills_every_field_and_answers_at_once(results):
    address = "q=Was+sagte+Kerry+%C3%BCber+Syrien%3F&k=4&outlet=zeit+online&source=00*&sort=date"
    shown = results.on_open(visit(address))
    question, k, outlet, since, until, source, per_article, sort, interval = shown[:9]
    assert (question, k, outlet, since, until, source) == (
        KERRY_SYRIA,
        4,
        ["ZEIT ONLINE"],
        "",
        "",
        "00*",
    )  # the outlet as the field's choices spell it
    assert (per_article, sort, interval) == (2, "date", "auto")  # the server's limit
    overview, asked, page, label = shown[9:]
    # the folded filters' label says what the link set (not left to the fields' change events)
    assert "ZEIT ONLINE" in label.label and "00*" in label.label
    assert asked == Query(KERRY_SYRIA, 4, outlet=["ZEIT ONLINE"], source="00*",
                          per_article=2, sort="date")  # fmt: skip
    assert cards(page) and set(cards(page)) == {"002_be091d36af22014c.txt"}  # ZEIT's only
    assert overview.visible and 'class="dq-overview"' in overview.value
    assert 'data-link="?q=Was+sagte+Kerry+%C3%BCber+Syrien%3F&amp;k=4' in overview.value


def test_an_address_without_a_search_changes_nothing(results):
    assert results.on_open(visit("")) == (SKIP,) * 13
    assert results.on_open(visit("__theme=dark")) == (SKIP,) * 13


def test_a_bad_link_keeps_its_texts_and_shows_why(results):
    shown = results.on_open(visit("q=Kerry&since=gestern&source=00*"))
    assert shown[0] == "Kerry" and shown[3] == "gestern" and shown[5] == "00*"
    overview, asked, page, label = shown[9:]
    assert asked is None and not overview.visible and label == SKIP
    assert "since must be a date like 2016" in page and "Traceback" not in page


def test_the_filters_label_keeps_the_newest_read_of_the_fields(app_holder, seed_copy):
    """A link's change events can read a field it is still setting, and their answers can
    arrive in any order: a request read before the label on the page is dropped."""
    page = events.Events(Updater(app_holder, seed_copy), per_article=2)
    fields = {"k": 4, "outlet": [], "since": "", "until": "", "source": "", "per_article": 2,
              "sort": "date"}  # fmt: skip
    label, shown = page.on_choices(*fields.values(), 3, None)  # read third, arrived first
    assert shown == 3 and "4 Passagen" in label.label and "nach Datum" in label.label
    stale = {**fields, "sort": "relevance"}  # read first, before the link set the order
    assert page.on_choices(*stale.values(), 1, shown) == (SKIP, SKIP)
    assert page.on_choices(*fields.values(), 3, shown) == (SKIP, SKIP)  # the same read again
    assert page.on_choices(*fields.values(), None, shown) == (SKIP, SKIP)  # not numbered
    label, shown = page.on_choices(*{**fields, "k": DEFAULT_K}.values(), 4, shown)  # newer
    assert shown == 4 and "Passagen" not in label.label and "nach Datum" in label.label


def pick(results, data: dict, **fields):
    asked = {"question": KERRY_SYRIA, "k": 5, "outlet": [], "since": "", "until": "",
             "source": "", "per_article": None, "sort": "relevance",
             "interval": "auto"}  # fmt: skip
    asked.update(fields)
    return results.on_pick(*asked.values(), gr.EventData(None, data))


def test_a_bar_sets_the_dates_and_asks_again(results, seed_index):
    peak = seed_index.timeline(KERRY_SYRIA, "auto").peak()
    outlet, since, until, interval, overview, asked, page, label = pick(
        results, {"since": peak.start, "until": peak.end}
    )
    assert f"{peak.start} – {peak.end}" in label.label  # the folded filters' label says so
    assert (outlet, since, until, interval) == (SKIP, peak.start, peak.end, SKIP)
    assert asked.since == peak.start and asked.until == peak.end
    dated = {a.id for a in seed_index.articles if a.date and a.date.startswith(peak.label)}
    assert cards(page) and set(cards(page)) <= dated
    assert "× alle Daten / all dates" in overview.value
    cleared = pick(results, {"since": "", "until": ""}, since=peak.start, until=peak.end)
    assert cleared[1:3] == ("", "") and cleared[5].since is None


def test_a_chip_sets_the_outlet_and_an_interval_recounts(results, seed_index):
    outlet = next(iter(seed_index.facets(KERRY_SYRIA)))
    shown = pick(results, {"outlet": outlet})
    assert shown[0] == [outlet] and shown[5].outlet == (outlet,)
    assert "× alle Medien / all outlets" in shown[4].value
    assert pick(results, {"outlet": ""}, outlet=[outlet])[0] == []
    yearly = pick(results, {"interval": "year"})
    assert yearly[3] == "year" and 'data-interval="year" aria-pressed="true"' in yearly[4].value
    assert "Artikel pro Jahr / articles per year" in yearly[4].value
    assert pick(results, {"interval": "fortnight"}) == (SKIP,) * 8
    assert pick(results, {"nothing": 1}) == (SKIP,) * 8


def test_the_export_downloads_the_search_last_answered(results):
    asked = Query("Wer traf Lawrow in Sotschi?", 3, source="00[0-3]_*")
    path = results.on_export(asked, gr.EventData(None, {"export": "csv"}))
    with Path(path).open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert all(re.match(r"00[0-3]_", r["source"]) for r in rows)
    text = "".join(r["passage"] for r in rows)
    assert any(ch in text for ch in "äöüß")  # umlauts intact
    lines = Path(results.on_export(asked, gr.EventData(None, {"export": "jsonl"}))).read_text()
    assert len(lines.splitlines()) == 3
    with pytest.raises(gr.Error, match="Ask first"):
        results.on_export(None, gr.EventData(None, {"export": "csv"}))
