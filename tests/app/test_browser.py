"""End to end: ``diploqa serve`` in a subprocess, driven by a real headless Chromium
(tests/browser.py: skipped with the reason where Chromium or playwright is missing)."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator

import pytest
from browser import (
    ANSWER_TIMEOUT_MS,
    ARTIFACTS,
    Server,
    card_sources,
    open_page,
    serving,
    skip_without_browser,
    submit,
    upload,
)
from conftest import SEEDS

pytestmark = pytest.mark.slow

GERMAN = ("Worüber telefonierten Obama und Putin?", "004_6afb54f85d6e1e90.txt")
ENGLISH = ("Who did Kerry meet in Sochi?", "001_50e04ee83bc37b66.txt")
XSS_FILE = "reykjavik-leuchttuerme.txt"
XSS_ARTICLE = (
    "title: Geheimtreffen <script>alert(1)</script> in Genf\n"
    "date: 2017-05-02\n\n"
    "Der Zitronenfalter-Gipfel von Reykjavík endete mit einer Einigung über Leuchttürme.\n\n"
    "Ein Sprecher schrieb <script>alert(1)</script> in sein Protokoll und fügte "
    "<img src=x onerror=alert(1)> hinzu. Die Delegationen vereinbarten, dass jeder "
    "Leuchtturm am Nordkap künftig von beiden Seiten gemeinsam gewartet wird.\n"
)
XSS_QUESTION = "Was wurde beim Zitronenfalter-Gipfel in Reykjavík über Leuchttürme vereinbart?"


@pytest.fixture(scope="module")
def server(tmp_path_factory, seed_index) -> Iterator[Server]:
    """``diploqa serve`` on fresh copies of the seeds and of their index; killed at the end."""
    skip_without_browser()
    root = tmp_path_factory.mktemp("e2e")
    articles = shutil.copytree(SEEDS, root / "articles")
    index = shutil.copytree(seed_index.path, root / "index")
    with serving(root, "--index", str(index), "--articles", str(articles)) as srv:
        yield srv


@pytest.fixture(scope="module")
def page(chromium, server):
    """A Chromium page on the app that records every JavaScript dialog (there must be none)."""
    return open_page(chromium, server.url)


def ask(page, question: str) -> str:
    """Ask ``question``; return the first card's file name."""
    submit(page, question)
    return card_sources(page)[0]


def test_ask_upload_and_escape_in_a_real_browser(server, page):
    assert ask(page, GERMAN[0]) == GERMAN[1]
    seconds = time.monotonic() - server.started
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "serve_to_first_answer.txt").write_text(f"{seconds:.1f}\n")
    print(f"\nseconds from `diploqa serve` to the first answered question: {seconds:.1f}")

    first = page.locator("#results .dq-card").first
    assert first.locator("mark").count() == 1
    first.locator("summary").click()
    assert first.locator(".dq-context-passage").is_visible()
    page.screenshot(path=str(ARTIFACTS / "answer.png"), full_page=True)

    assert ask(page, ENGLISH[0]) == ENGLISH[1]

    # Upload an article full of markup through the Articles tab.
    article = ARTIFACTS / "upload" / XSS_FILE
    article.parent.mkdir(parents=True, exist_ok=True)
    article.write_text(XSS_ARTICLE, encoding="utf-8")
    report = upload(page, article)
    assert report.get_attribute("data-state") == "done", report.inner_text()
    assert f"{XSS_FILE}: gespeichert / saved" in report.inner_text()
    assert "1 added" in report.inner_text()
    assert page.locator(f'#articles-table tr[data-source="{XSS_FILE}"]').count() == 1

    # The new article is searchable at once, and its markup shows as text.
    page.get_by_role("tab", name="Fragen / Ask").click()
    assert ask(page, XSS_QUESTION) == XSS_FILE
    card = page.locator(f'#results .dq-card[data-source="{XSS_FILE}"]').first
    text = card.inner_text()
    assert "<script>alert(1)</script>" in text
    assert "<img src=x onerror=alert(1)>" in text
    assert page.locator("#results script, #results img").count() == 0
    assert page.locator("#articles-table script, #articles-table img").count() == 0
    page.wait_for_timeout(500)  # give an injected handler a moment to fire
    assert page.dialogs == []
    assert server.process.poll() is None, server.log_tail()


def choose_outlet(page, name: str) -> None:
    """Pick ``name`` in the outlet multiselect, as a user does: type, Enter."""
    box = page.locator("#outlet input")
    box.click()
    box.fill(name)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def summary(page) -> str:
    return page.locator("#results .dq-summary").inner_text()


def open_filters(page) -> None:
    """Unfold the filters and the order (folded, so that the answers come right under the
    question; tests/app/test_browser_page.py)."""
    page.locator("#filters .label-wrap").first.click()
    page.locator("#sort").wait_for(state="visible")


def test_filters_in_a_real_browser(server, page):
    page.get_by_role("tab", name="Fragen / Ask").click()
    open_filters(page)
    since = page.locator("#since input, #since textarea").first
    choose_outlet(page, "ZEIT ONLINE")
    ask(page, "Was sagte Kerry über Syrien?")
    sources = page.locator("#results .dq-source").all_inner_texts()
    assert sources and all("ZEIT ONLINE" in s for s in sources), sources
    assert "(ZEIT ONLINE)" in summary(page)

    # The ZEIT article has no date: a date filter leaves it out.
    since.fill("2016")
    page.locator("#ask").click()
    page.get_by_text("No passage matches the filters").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator("#results .dq-card").count() == 0

    page.locator("#outlet").get_by_role("button").first.click()  # clear the outlet choice
    ask(page, "Worum ging es bei den Gesprächen in Lausanne?")
    sources = page.locator("#results .dq-source").all_inner_texts()
    assert sources and all(re.search(r"20(16|17)-", s) for s in sources), sources
    assert "(2016 – …)" in summary(page)
    page.locator("#results .dq-card").first.locator("summary").click()
    page.screenshot(path=str(ARTIFACTS / "screenshot.png"), full_page=False)

    # A date that is not one: the error says how to write it.
    since.fill("gestern")
    page.locator("#ask").click()
    page.get_by_text("since must be a date like 2016").wait_for(timeout=ANSWER_TIMEOUT_MS)

    # Sorted by date: newest first (the uploaded 2017 article leads when it matches).
    since.fill("")
    page.get_by_label("Datum / Date").check()
    ask(page, XSS_QUESTION)
    found = (re.search(r"\d{4}-\d{2}(-\d{2})?", t) for t in page.locator(
        "#results .dq-source").all_inner_texts())  # fmt: skip
    dates = [m.group(0) if m else "" for m in found]
    assert dates == sorted(dates, reverse=True), dates
    assert page.dialogs == []
    assert server.process.poll() is None, server.log_tail()
