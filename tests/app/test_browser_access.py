"""In a real Chromium: a reader and an editor sign in to ``diploqa serve --users``; the
reader sees no editing control, the editor uploads an article and finds it; a link to a search
survives the sign-in and the chart beside its answers narrows the dates (issue #25)."""

from __future__ import annotations

import csv
import re

import pytest
from browser import (
    ARTIFACTS,
    card_sources,
    open_page,
    sign_in,
    submit,
    upload,
)
from conftest import GENEVA_QUESTION, NEW_ARTICLE

from diploqa.app import messages

pytestmark = pytest.mark.slow

UPLOAD = "genf-2022.txt"


def signed_in(browser, server, user: str):
    """A page in a fresh browser context (its own cookies) signed in as ``user`` through the
    form."""
    page = open_page(browser, server.url + "/", ready=None, timeout_ms=60_000)
    assert "/login" in page.url
    sign_in(page, user, server.passwords[user])
    page.locator("#question textarea").wait_for(timeout=120_000)
    return page


def ask(page, question: str) -> list[str]:
    """Ask ``question``; return every card's file name."""
    submit(page, question, timeout_ms=60_000)
    return card_sources(page)


def test_wrong_password_stays_on_the_sign_in_page(chromium, auth_server):
    page = open_page(chromium, auth_server.url + "/login", ready=None, timeout_ms=60_000)
    auth_server.secrets.append("falsch-falsch")
    sign_in(page, "lena", "falsch-falsch")
    page.get_by_text("wrong user name or password").wait_for(timeout=10_000)
    assert page.locator("#question").count() == 0
    page.context.close()


def test_reader_searches_and_sees_no_editing_control(chromium, auth_server):
    page = signed_in(chromium, auth_server, "lena")
    assert page.url.rstrip("/") == auth_server.url
    assert ask(page, "Wer traf Lawrow in Sotschi?")
    page.get_by_role("tab", name="Artikel / Articles").click()
    page.locator("#articles-table").wait_for()
    for control in ("#upload", "#update", "#rebuild", "input[type=file]"):
        assert page.locator(control).count() == 0, control
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reader.png"))
    page.locator("#sign-out").click()
    page.locator("#password").wait_for(timeout=10_000)
    page.goto(auth_server.url + "/", timeout=60_000)
    assert "/login" in page.url  # signed out: the page asks again
    page.context.close()


def test_editor_uploads_an_article_and_finds_it(chromium, auth_server, tmp_path):
    page = signed_in(chromium, auth_server, "ed")
    assert page.url.startswith(auth_server.url + "/edit/")
    article = tmp_path / UPLOAD
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    report = upload(page, article)
    assert report.get_attribute("data-state") == "done", report.inner_text()
    assert (auth_server.articles / UPLOAD).exists()
    page.get_by_role("tab", name="Fragen / Ask").click()
    assert UPLOAD in ask(page, GENEVA_QUESTION)[:2]
    page.context.close()


KERRY_SYRIA = "Was sagte Kerry über Syrien?"
#: A link to a search (issue #25, 5), as the page's address carries it.
SEARCH_LINK = "/?q=Was+sagte+Kerry+%C3%BCber+Syrien%3F&k=4&sort=date"


def open_link(browser, server, **context_options):
    """``SEARCH_LINK`` signed out, 1280×900, in a fresh context that may use the clipboard."""
    return open_page(browser, server.url + SEARCH_LINK, size=(1280, 900), ready=None,
                     timeout_ms=60_000, permissions=["clipboard-read", "clipboard-write"],
                     **context_options)  # fmt: skip


def card_dates(page) -> list[str]:
    texts = page.locator("#results .dq-card .dq-source").all_inner_texts()
    found = (re.search(r"\d{4}(-\d{2}){0,2}", t) for t in texts)
    return [m.group(0) if m else "" for m in found]


def label_says(page, *parts: str) -> None:
    """Wait until the folded filters' label names every one of ``parts``."""
    page.wait_for_function(
        "(parts) => parts.every(p => document.querySelector('#filters').innerText.includes(p))",
        arg=list(parts),
        timeout=30_000,
    )


def test_a_search_link_through_sign_in_then_the_chart_the_export_and_the_link(
    chromium, auth_server
):
    """Issue #25 in real Chromium: a link to a search, opened signed out, comes back after the
    sign-in with its answers at once; the highest bar of the chart narrows the dates and asks
    again; the CSV export reads back with its umlauts; "copy link" gives the address; on a
    phone the overview fits, below the answers. An editor's link opens the editors' page."""
    page = open_link(chromium, auth_server, accept_downloads=True)
    assert "/login?next=" in page.url
    sign_in(page, "lena", auth_server.passwords["lena"])
    answered = "#results .dq-results[data-question='Was sagte Kerry über Syrien?'] .dq-card"
    page.locator(answered).first.wait_for(timeout=120_000)  # asked by the link, no click
    assert page.url == auth_server.url + SEARCH_LINK
    assert page.locator("#question textarea").input_value() == KERRY_SYRIA
    # the folded row says what the link set (its label follows the fields' change events)
    label_says(page, messages.BY_DATE_TEXT, messages.passages_wanted(4))
    assert page.locator("#results .dq-card").count() <= 4

    overview = page.locator("#overview .dq-overview")
    overview.wait_for(timeout=10_000)
    assert "passende Artikel / matching articles" in overview.inner_text()
    assert "ohne Datum / undated:" in overview.inner_text()  # most seeds have no date
    first_card = page.locator("#results .dq-card").first.bounding_box()
    assert first_card["y"] + 40 < 900  # the overview is beside the answers, not above them
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chart.png"))

    peak = overview.locator(".dq-period.dq-peak")
    since, until = peak.get_attribute("data-since"), peak.get_attribute("data-until")
    peak.click()
    page.wait_for_function(  # the answers within that period, the filters describe it
        """(dates) => {
            const r = document.querySelector('#results .dq-results');
            return r && r.querySelector('.dq-card') && r.textContent.includes(dates);
        }""",
        arg=f"({since} – {until}",
        timeout=60_000,
    )
    dates = card_dates(page)
    assert dates and all(since[: len(d)] <= d <= until[: len(d)] for d in dates), dates
    label_says(page, f"{since} – {until}")  # the folded row's label
    page.wait_for_function("(s) => window.location.search.includes('since=' + s)", arg=since)
    assert f"until={until}" in page.url

    with page.expect_download(timeout=60_000) as download:
        overview.locator("[data-export=csv]").click()
    path = download.value.path()
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    shown = page.locator("#results .dq-card").evaluate_all("cs => cs.map(c => c.dataset.source)")
    assert [r["source"] for r in rows] == shown
    assert [r["rank"] for r in rows] == [c.split()[0] for c in page.locator(
        "#results .dq-card").evaluate_all("cs => cs.map(c => c.dataset.rank)")]  # fmt: skip
    assert any(ch in "".join(r["passage"] for r in rows) for ch in "äöüß")  # umlauts intact

    copy = overview.locator("[data-copy]")
    copy.click()
    page.wait_for_function("() => document.querySelector('#overview [data-copy]')"
                           ".textContent.includes('Copied')")  # fmt: skip
    assert page.evaluate("navigator.clipboard.readText()") == page.url

    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390 and overview.bounding_box()["width"] <= 390
    card = page.locator("#results .dq-card").first.bounding_box()
    assert overview.bounding_box()["y"] > card["y"] + card["height"]  # below, not squeezed beside
    page.context.close()

    # An editor's link goes on to the editors' page, search and all; the link it copies is the
    # readers' address (a reader may not open /edit/).
    page = open_link(chromium, auth_server)
    sign_in(page, "ed", auth_server.passwords["ed"])
    page.locator(answered).first.wait_for(timeout=120_000)
    assert page.url == auth_server.url + "/edit/" + SEARCH_LINK[1:]
    page.locator("#overview [data-copy]").click()
    page.wait_for_function("() => document.querySelector('#overview [data-copy]')"
                           ".textContent.includes('Copied')")  # fmt: skip
    assert page.evaluate("navigator.clipboard.readText()") == auth_server.url + SEARCH_LINK
    page.context.close()
