"""In a real Chromium, on an archive that is not the seeds: the page says what this archive
holds (texts from a ``page.toml`` beside the index, from ``--examples`` and from the archive),
shows hostile texts as text, and puts the first answer in view without scrolling, on a
laptop (1280×800) and on a phone (390×844). Screenshots go to ``tests/artifacts/``."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from browser import ARTIFACTS, Server, open_page, serving, skip_without_browser, submit
from conftest import server_env, stop_process

pytestmark = pytest.mark.slow

#: (file, outlet, date, title, text): eight short articles of three outlets, 2012 to 2021.
ARTICLES = [
    ("wimbledon.txt", "Sportblatt", "2021-07-11", "Djokovic gewinnt das Finale in Wimbledon",
     "Novak Djokovic hat das Finale von Wimbledon gewonnen. Der Serbe besiegte den Italiener "
     "Matteo Berrettini in vier Sätzen und holte damit seinen sechsten Titel in London."),
    ("champions.txt", "Sportblatt", "2020-08-23", "Bayern gewinnt die Champions League",
     "Der FC Bayern München hat das Finale der Champions League in Lissabon gegen Paris "
     "Saint-Germain mit 1:0 gewonnen. Das Tor schoss Kingsley Coman per Kopfball."),
    ("rom.txt", "Tagesbote", "2019-09-05", "Neue Regierung in Rom vereidigt",
     "In Rom ist die neue Regierung aus Fünf-Sterne-Bewegung und Sozialdemokraten vereidigt "
     "worden. Ministerpräsident bleibt Giuseppe Conte."),
    ("weizen.txt", "Wissenschaft heute", "2018-08-17", "Forscher entschlüsseln das Weizengenom",
     "Ein internationales Konsortium hat das Erbgut des Brotweizens vollständig entschlüsselt. "
     "Das Genom ist fünfmal so groß wie das des Menschen."),
    ("mars.txt", "Wissenschaft heute", "2015-09-28", "Spuren von flüssigem Wasser auf dem Mars",
     "Die NASA hat an Berghängen des Mars Spuren von flüssigem Salzwasser gefunden. Die "
     "dunklen Streifen entstehen im Sommer und verschwinden im Winter."),
    ("rosetta.txt", "Wissenschaft heute", "2014-11-12", "Landung auf einem Kometen",
     "Das Landegerät Philae der Raumsonde Rosetta ist auf dem Kometen Tschurjumow-"
     "Gerassimenko aufgesetzt. Es ist die erste Landung auf einem Kometen."),
    ("mindestlohn.txt", "Tagesbote", "2014-07-03", "Bundestag beschließt den Mindestlohn",
     "Der Bundestag hat einen gesetzlichen Mindestlohn von 8,50 Euro pro Stunde beschlossen. "
     "Er gilt vom 1. Januar 2015 an."),
    ("london.txt", "Sportblatt", "2012-07-27", "Olympische Spiele in London eröffnet",
     "Mit einer Feier im Olympiastadion sind die Olympischen Sommerspiele in London eröffnet "
     "worden. Die Queen erklärte die Spiele für eröffnet."),
]  # fmt: skip
QUESTION = "Wer gewann das Finale in Wimbledon?"
HOSTILE_TITLE = "Archiv <script>alert(1)</script> <img src=x onerror=alert(1)>"
HOSTILE_EXAMPLE = "<img src=x onerror=alert(2)>"
ABOUT = (
    "Fragen auf Deutsch oder Englisch an 8 Artikel aus Sportblatt, Tagesbote und Wissenschaft "
    "heute, 2012 – 2021."
)
STATUS = "8 Artikel / articles · {passages} · 3 Medien / outlets · 2012-07-27 – 2021-07-11"
SIZES = {"laptop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """``diploqa serve`` on eight articles, with a ``page.toml`` beside the index (a hostile
    title) and ``--examples`` (a hostile one among them); the description is the archive's."""
    skip_without_browser()
    root = tmp_path_factory.mktemp("page")
    articles, index = root / "articles", root / "index"
    articles.mkdir()
    for name, outlet, date, title, text in ARTICLES:
        head = f"title: {title}\ndate: {date}\nsource: {outlet}\n\n"
        (articles / name).write_text(head + text + "\n", encoding="utf-8")
    cli = [sys.executable, "-m", "diploqa.cli"]
    subprocess.run([*cli, "index", "--articles", str(articles), "--index", str(index)],
                   check=True, env=server_env(), capture_output=True, timeout=600)  # fmt: skip
    (index / "page.toml").write_text(f"title = '{HOSTILE_TITLE}'\n", encoding="utf-8")
    examples = root / "examples.txt"
    examples.write_text(f"# hostile first\n{HOSTILE_EXAMPLE}\n{QUESTION}\n", encoding="utf-8")
    argv = ["--index", str(index), "--articles", str(articles), "--examples", str(examples)]
    with serving(root, *argv, stop=stop_process) as srv:
        yield srv


def assert_first_card_in_view(page, size: str) -> None:
    """The first answer's top edge (and a few lines of it) is inside the window, unscrolled."""
    width, height = SIZES[size]
    box = page.locator("#results .dq-card").first.bounding_box()
    scrolled = page.evaluate("[window.scrollX, window.scrollY]")
    assert scrolled == [0, 0] and 0 <= box["y"] <= height - 60, (box, scrolled)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing off-side


def filters_label(page) -> str:
    return page.locator("#filters .label-wrap").first.inner_text()


def test_the_page_is_the_archives_and_its_answer_is_in_view_on_a_laptop(server, chromium):
    from playwright.sync_api import expect

    page = open_page(chromium, server.url, size=SIZES["laptop"])
    # The title from the file beside the index, as text; the description from the archive.
    assert page.locator("#intro h1").inner_text() == HOSTILE_TITLE
    assert page.title() == HOSTILE_TITLE
    assert page.locator("#intro p").inner_text().startswith(ABOUT)
    # The whole line, waited for: a progress timer may show over it while the page's first
    # events run (the passages' count depends on the chunking, the rest is the archive's).
    passages = r"\d+ Passagen / passages"
    line = re.escape("Index: " + STATUS).replace(re.escape("{passages}"), passages)
    expect(page.locator("#index-status")).to_have_text(re.compile(f"^{line}$"), use_inner_text=True)
    # The examples from --examples, the hostile one as text.
    expect(page.locator("#examples button")).to_have_count(2)  # the page's first events ran
    examples = page.locator("#examples button").all_inner_texts()
    assert [e.strip() for e in examples] == [HOSTILE_EXAMPLE, QUESTION]
    for area in ("#intro", "#examples"):
        assert page.locator(f"{area} script, {area} img").count() == 0, area
    # The filters are folded, their label says what is set.
    assert page.locator("#sort").is_hidden()
    assert filters_label(page).startswith("Filter und Sortierung / Filters and order")
    page.locator("#examples button").nth(1).click()
    expect(page.locator("#question textarea")).to_have_value(QUESTION)
    submit(page, QUESTION)
    assert page.locator("#results .dq-card").first.get_attribute("data-source") == "wimbledon.txt"
    assert_first_card_in_view(page, "laptop")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-1280x800.png"))
    print(f"\nscreenshot: {ARTIFACTS / 'page-1280x800.png'}")

    # One click opens the filters; a choice shows in the label, and folded again the
    # answers to the next question are in view as before.
    page.locator("#filters .label-wrap").first.click()
    page.get_by_label("Datum / Date").check()
    page.locator("#since input, #since textarea").first.fill("2014")
    page.wait_for_function(
        "() => document.querySelector('#filters .label-wrap').innerText.includes('2014 – …;')"
    )
    assert "2014 – …; nach Datum / by date" in filters_label(page)
    page.locator("#filters .label-wrap").first.click()
    assert page.locator("#sort").is_hidden()
    submit(page, "Welche Landungen und Funde gab es im All?")
    assert_first_card_in_view(page, "laptop")
    dates = page.locator("#results .dq-source").all_inner_texts()
    assert all("2012" not in d for d in dates) and len(dates) >= 2, dates
    assert page.dialogs == []
    assert server.process.poll() is None, server.log_tail()


def test_on_a_phone_the_page_fits_and_the_answer_is_in_view(server, chromium):
    page = open_page(chromium, server.url, size=SIZES["phone"])
    assert page.locator("#intro h1").inner_text() == HOSTILE_TITLE
    submit(page, QUESTION)
    assert page.locator("#results .dq-card").first.get_attribute("data-source") == "wimbledon.txt"
    assert_first_card_in_view(page, "phone")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-390x844.png"))
    print(f"\nscreenshot: {ARTIFACTS / 'page-390x844.png'}")
    assert page.dialogs == []
