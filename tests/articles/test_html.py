"""Tests for diploqa.articles.html: saved news pages → articles, without the page around them.

The pages in tests/articles/pages/ are written for these tests (made-up outlets) after the
structure of real German news pages; expected.json marks their main text and boilerplate.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from diploqa.articles import HtmlReader, SkippedFile, load_articles, read_article
from diploqa.articles import html as html_module
from diploqa.articles.html import decode_html, extract_page
from diploqa.config import ReadLimits
from diploqa.errors import ArticlesError

PAGES = Path(__file__).parent / "pages"
EXPECTED = {
    name: value
    for name, value in json.loads((PAGES / "expected.json").read_text(encoding="utf-8")).items()
    if not name.startswith("_")
}


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p]


def leaks(text: str, boilerplate: list[str]) -> list[str]:
    """Boilerplate that reached the text: as a paragraph of its own, or (30 characters and
    more, too long to occur by chance) anywhere in it."""
    paragraphs = set(_paragraphs(text))
    return [b for b in boilerplate if b in paragraphs or (len(b) >= 30 and b in text)]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_page_main_text_and_metadata(name: str) -> None:
    expected = EXPECTED[name]
    (article,) = HtmlReader().read((PAGES / name).read_bytes(), name)
    assert article.title == expected["title"]
    assert article.date == expected["date"]
    assert article.date_text == expected["date_text"]
    assert article.outlet == expected["outlet"]
    assert article.url == expected["url"]
    paragraphs = _paragraphs(article.text)
    assert paragraphs == expected["main"]  # every paragraph, in order, the title first
    assert leaks(article.text, expected["boilerplate"]) == []


def test_pages_load_from_a_folder_with_their_hashes(tmp_path: Path) -> None:
    for name in EXPECTED:
        shutil.copy(PAGES / name, tmp_path / name)
    articles, skipped = load_articles(tmp_path)
    assert skipped == []
    assert [a.id for a in articles] == sorted(EXPECTED)
    assert all(a.source_hash for a in articles)
    assert read_article(tmp_path / "tribuene_minsk.htm", tmp_path) == articles[2]


def test_cp1252_page_with_meta_charset_keeps_umlauts() -> None:
    data = (PAGES / "tribuene_minsk.htm").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = decode_html(data)
    assert "Neue Presse Tribüne" in text and "François Hollande" in text


@pytest.mark.parametrize(
    ("declared", "encoding"),
    [
        ("iso-8859-1", "cp1252"),
        ("utf-8", "cp1252"),
        ("windows-1252", "cp1252"),
        ("x-nope", "cp1252"),
    ],
)
def test_decode_html_declared_or_mislabelled(declared: str, encoding: str) -> None:
    body = "<p>Gespräch über Außenpolitik kostet 5 € – „Zitat“.</p>"
    data = f'<html><head><meta charset="{declared}"></head><body>{body}</body></html>'.encode(
        encoding
    )
    assert body in decode_html(data)
    assert decode_html(data.decode(encoding).encode("utf-8")) == data.decode(encoding)


def _page(body: str, head: str = "") -> bytes:
    return f"<html><head>{head}</head><body>{body}</body></html>".encode()


ARTICLE_BODY = "".join(
    f"<p>Absatz {i}: Lawrow und Kerry verhandelten in Genf lange über eine Waffenruhe in Syrien, "
    "ohne sich auf einen gemeinsamen Text zu einigen.</p>"
    for i in range(4)
)


def test_site_name_from_title_and_url_domain() -> None:
    page = extract_page(
        _page(
            f"<h1>Lawrow trifft Kerry</h1><article>{ARTICLE_BODY}</article>",
            "<title>Lawrow trifft Kerry | Westfalen-Kurier</title>"
            '<link rel="canonical" href="https://www.sueddeutsche.de/politik/x-1.123">',
        ).decode()
    )
    assert page is not None
    assert (page.title, page.outlet) == ("Lawrow trifft Kerry", "Westfalen-Kurier")
    (article,) = HtmlReader().read(
        _page(
            f"<article><h1>Lawrow trifft Kerry</h1>{ARTICLE_BODY}</article>",
            '<link rel="canonical" href="https://www.sueddeutsche.de/politik/x-1.123">',
        ),
        "a.html",
    )
    assert article.outlet == "Süddeutsche Zeitung"  # the URL's domain, by name
    assert article.url == "https://www.sueddeutsche.de/politik/x-1.123"
    assert article.date is None and article.date_text is None


def test_lead_outside_the_body_is_kept_once() -> None:
    lead = (
        "Neun Außenminister, viereinhalb Stunden, kein Ergebnis: Das Treffen endet ohne "
        "Einigung, beide wollen weiter reden."
    )
    body = (
        f'<article><h1>Ohne Durchbruch</h1><p class="article-lead">{lead}</p>'
        f'<div class="article-body">{ARTICLE_BODY}</div></article>'
        '<aside class="intro">Unser Newsletter: <a href="/n">jetzt bestellen und mehr erfahren '
        "über alles, was passiert</a></aside>"
    )
    (article,) = HtmlReader().read(_page(body), "a.html")
    paragraphs = _paragraphs(article.text)
    assert paragraphs[:2] == ["Ohne Durchbruch", lead]
    assert article.text.count(lead) == 1
    assert "Newsletter" not in article.text  # outside the article, and mostly a link


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no article text"),
        (_page("<nav><a href='/'>Startseite</a> <a href='/p'>Politik</a></nav>"), "no article"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "binary"),
        (b"<html>\x00\x00\x00</html>", "binary"),
    ],
)
def test_pages_without_an_article_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ArticlesError, match=rf"^x\.html: .*{reason}"):
        HtmlReader().read(data, "x.html")


def test_hostile_markup_is_refused_or_read_never_crashes() -> None:
    deep = "<div>" * 5000 + ARTICLE_BODY + "</div>" * 5000
    for markup in (deep, "<<<>>>" * 1000, "<html><body><p>" + "ä" * 100_000 + "</p>"):
        try:
            HtmlReader().read(markup.encode(), "x.html")
        except ArticlesError as err:
            assert str(err).startswith("x.html: ")


def test_big_page_is_skipped_without_being_read(tmp_path: Path) -> None:
    limits = ReadLimits(max_article_bytes=1000)
    (tmp_path / "big.html").write_bytes(_page(ARTICLE_BODY * 10))
    skipped = load_articles(tmp_path, limits=limits)[1]
    assert skipped == [SkippedFile("big.html", skipped[0].reason)]
    assert skipped[0].reason.startswith("too large")


def test_unchanged_page_is_not_extracted_again(
    tmp_path: Path, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    shutil.copy(PAGES / "rundschau_lausanne.html", tmp_path / "a.html")
    first, _ = load_articles(tmp_path)
    calls: list[str] = []
    real = html_module.extract_page
    monkeypatch.setattr(html_module, "extract_page", lambda m: calls.append(m) or real(m))
    again, _ = load_articles(tmp_path, {a.id: a for a in first})
    assert again == first and calls == []
    (tmp_path / "a.html").write_bytes((tmp_path / "a.html").read_bytes() + b"\n")
    with caplog.at_level(logging.WARNING):
        changed, _ = load_articles(tmp_path, {a.id: a for a in first})
    assert len(calls) == 1 and changed[0].content_hash == first[0].content_hash


def test_lead_of_a_teaser_card_is_not_taken() -> None:
    teaser_lead = (
        "Ein ganz anderes Thema: Der Herbststurm fegte am Wochenende mit großer Wucht über das "
        "Rheinland hinweg."
    )
    body = (
        f'<article class="card"><h2>Herbststurm</h2><p class="lead">{teaser_lead}</p></article>'
        f'<article><h1>Ohne Durchbruch</h1><div class="article-body">{ARTICLE_BODY}</div>'
        "</article>"
    )
    (article,) = HtmlReader().read(_page(body), "a.html")
    assert "Herbststurm" not in article.text
    assert _paragraphs(article.text)[0] == "Ohne Durchbruch"
