"""Saved web pages (``.html``, ``.htm``): the article in the page, without the page around it.

A saved news page is mostly not the article: navigation, cookie banners, teaser boxes for
other articles, "Lesen Sie mehr" links, newsletter boxes, comments and the footer. Any of it
that reached the index would be chunked, embedded and shown as an answer. trafilatura finds
the main text and the metadata (title, publication date via htmldate, site name, canonical
URL); the text then goes through the same :func:`~diploqa.articles.clean_text` rules as every
other article.

Choices and why:

* **trafilatura with** ``favor_precision=True, include_comments=False``: on the saved pages in
  ``tests/articles/pages/`` (and on 70 hand-marked German news pages, ``NOTES.md``) it lets far
  less boilerplate through than the default settings for a small loss of main text; a missed
  sentence costs one answer, a leaked teaser costs wrong answers to many questions. The
  numbers are in ``docs/formats.md`` (``benchmarks/html_extraction.py``).
* **The lead paragraph** ("Vorspann") of many German sites sits in the article's header, outside
  the element trafilatura takes as the body, and is lost although it is the article's most
  informative paragraph. An element inside the headline's ``<article>`` (else ``<main>``) whose
  class names a lead (``lead``, ``intro``, ``standfirst``, ``abstract`` as a class word) and holds
  at least a sentence of mostly unlinked text is put back in front of the text, unless the text
  already has it.
* **A page without an article** (a saved front page): trafilatura's fallback then returns the
  navigation's link texts; text made only of the page's link texts counts as none.
* **The title** is trafilatura's (a single ``<h1>``, ``og:title``, JSON-LD ``headline``, the
  ``<title>``). When it took one part of a ``<title>`` such as "Site - Headline" and a heading
  on the page equals another part, that heading is the title and the remaining part names the
  outlet.
* **The text starts with the title line**, as a text file's does, so every kind of article
  looks alike to the chunker and to BM25.
* **Outlet**: ``og:site_name`` or JSON-LD ``publisher.name`` (trafilatura's site name), else
  the outlet part of the ``<title>``, else the URL's domain (known domains by name).
* **Date**: htmldate's publication date (``article:published_time``, JSON-LD
  ``datePublished``, ``<time>``, then the visible text); ``date_text`` is the value as written
  where it was found.
* **Encoding**: UTF-8 if the bytes are valid UTF-8, else the page's ``<meta charset>``
  (ISO-8859-1 read as windows-1252, as browsers do), else the rules of
  :func:`~diploqa.articles.decode_bytes`. trafilatura's own guessing (charset_normalizer) is
  not used: it is slow and guesses wrong on short German pages.
* trafilatura is imported on first use: it takes ~0.4 s, which a search-only process should
  not pay.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from diploqa.errors import ArticlesError

from .article import Article
from .cleaning import _normalise_chars, _normalise_line
from .dates import find_dates, normalise_date
from .readers import DocumentReader, check_not_binary, decode_named, make_article

if TYPE_CHECKING:
    from lxml.html import HtmlElement

#: Keyword arguments for ``trafilatura.bare_extraction`` (see the module docstring).
EXTRACTION: dict[str, Any] = {
    "favor_precision": True,
    "include_comments": False,
    "include_tables": True,
    "deduplicate": False,  # a cache shared across pages would make results order-dependent
    "with_metadata": True,
}
#: A lead paragraph is put back only if it is at least this long and mostly not links.
LEAD_MIN_CHARS = 60
LEAD_MAX_LINK_SHARE = 0.5
#: An outlet taken from the ``<title>`` is at most this long.
SITE_MAX_CHARS = 60

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_LEAD_CLASS = re.compile(r"(?:^|[-_])(?:lead|intro|standfirst|abstract)(?:$|[-_])", re.I)
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|–—·-]|::)\s+")
_DOMAIN_LIKE = re.compile(r"(?:www\.)?[\w-]+(?:\.[\w-]+)+", re.I)
_DATE_META = frozenset(
    (
        "article:published_time",
        "og:article:published_time",
        "datepublished",
        "date",
        "pubdate",
        "publishdate",
        "publish-date",
        "dc.date",
        "dc.date.issued",
        "dcterms.date",
        "dcterms.created",
        "parsely-pub-date",
        "sailthru.date",
        "article.published",
    )
)


def decode_html(data: bytes) -> str:
    """A page's text: UTF-8 if valid, else its declared ``<meta charset>``, else the rules of
    :func:`~diploqa.articles.decode_bytes`.

    Raises:
        ArticlesError: If the bytes are binary.
    """
    check_not_binary(data)
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        declared = _META_CHARSET.search(data[:4096])
        if declared is not None:
            try:
                codec = codecs.lookup(declared[1].decode("ascii")).name
                if codec in ("latin-1", "iso8859-1", "ascii"):
                    codec = "cp1252"  # what browsers read for these labels
                return data.decode(codec)
            except (LookupError, UnicodeDecodeError):
                pass
    return decode_named(data)[0]


@dataclass(frozen=True)
class Page:
    """What :func:`extract_page` found in a web page (text not yet cleaned)."""

    text: str
    title: str | None
    date_text: str | None
    outlet: str | None
    url: str | None


def _text(element: HtmlElement) -> str:
    return _normalise_line(_normalise_chars(element.text_content()))


def _comparable(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def _title_parts(tree: HtmlElement) -> list[str]:
    element = tree.find(".//head//title")
    if element is None:
        return []
    return [part for part in _TITLE_SEPARATOR.split(_text(element)) if part]


def _headline_and_site(tree: HtmlElement, title: str | None) -> tuple[str | None, str | None]:
    """The title, corrected where trafilatura took the site's part of a "Site - Headline"
    ``<title>``, and the outlet named in the ``<title>`` (None if it names none)."""
    parts = _title_parts(tree)
    if len(parts) < 2:
        return title, None
    headings = {_text(h) for h in tree.xpath("//h1|//h2")[:20]}
    headline = next((part for part in parts if part in headings), None)
    if headline is None:
        return title, None
    if title in parts or not title:
        title = headline
    site = parts[-1] if parts[0] == headline else parts[0] if parts[-1] == headline else None
    if site is not None and len(site) > SITE_MAX_CHARS:
        site = None
    return title, site


def _leads(tree: HtmlElement) -> list[str]:
    """Lead paragraphs inside the article (see the module docstring), in page order."""
    # the <article> around the headline (pages also use <article> for teaser cards), else
    # the first <article>, else <main>, else the page
    around = tree.xpath("(//h1)[1]/ancestor::article[1]")
    scope = next(iter(around or tree.xpath("//article") or tree.xpath("//main") or [tree]))
    found: list[str] = []
    for element in scope.iter("p", "div", "section"):
        classes = (element.get("class") or "").split()
        if not any(_LEAD_CLASS.search(name) for name in classes):
            continue
        text = _text(element)
        links = sum(len(_text(a)) for a in element.iter("a"))
        if len(text) < LEAD_MIN_CHARS or links > LEAD_MAX_LINK_SHARE * len(text):
            continue
        if not any(text in other or other in text for other in found):
            found.append(text)
    return found


def _only_links(tree: HtmlElement, lines: list[str]) -> bool:
    """True if every line is made of the page's link texts: what trafilatura's fallback
    returns for a page without an article (a saved front page, a navigation)."""
    links = sorted({t for t in (_text(a) for a in tree.iter("a")) if t}, key=len, reverse=True)
    for line in lines:
        rest = _normalise_line(_normalise_chars(line))
        for link in links:
            rest = rest.replace(link, " ")
        if any(ch.isalnum() for ch in rest):
            return False
    return True


def _json_ld_dates(tree: HtmlElement) -> Iterator[str]:
    """``datePublished`` values of the page's JSON-LD, in order."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            stack: list[Any] = [json.loads(script.text_content())]
        except ValueError:
            continue
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                value = item.get("datePublished")
                if isinstance(value, str):
                    yield value
                stack.extend(v for v in item.values() if isinstance(v, (list, dict)))


def _date_text(tree: HtmlElement, iso: str) -> str:
    """The date as written where the page gives it (meta tag, JSON-LD, ``<time>``, visible
    text), the first that means the day ``iso``; ``iso`` itself if none does."""

    def candidates() -> Iterator[str]:
        for meta in tree.iter("meta"):
            key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
            if key.lower() in _DATE_META and meta.get("content"):
                yield meta.get("content")
        yield from _json_ld_dates(tree)
        for time in tree.iter("time"):
            yield from (time.get("datetime") or "", _text(time))
        body = tree.find(".//body")
        if body is not None:
            yield from (written for _, written in find_dates(_text(body)))

    return next((c.strip() for c in candidates() if normalise_date(c) == iso), iso)


def extract_page(markup: str) -> Page | None:
    """The article in a page's markup, or None if trafilatura finds no main text."""
    import trafilatura  # slow to import (see the module docstring)

    try:
        tree = trafilatura.load_html(markup)
        document = trafilatura.bare_extraction(tree, **EXTRACTION) if tree is not None else None
    except Exception as err:  # a third-party parser on hostile input: never end a build
        raise ArticlesError(f"not a readable web page ({type(err).__name__})") from err
    if document is None or not (document.text or "").strip():
        return None
    lines = [line for line in document.text.split("\n") if line.strip()]
    if _only_links(tree, lines):
        return None
    title, site = _headline_and_site(tree, document.title)
    have = _comparable(" ".join(lines))
    leads = [lead for lead in _leads(tree) if _comparable(lead) not in have]
    head: list[str] = []
    if title and _comparable(title):
        if _comparable(lines[0]).startswith(_comparable(title)):
            head, lines = lines[:1], lines[1:]
        else:
            head = [title]
    url = (
        document.url if document.url and document.url.startswith(("http://", "https://")) else None
    )
    sitename = document.sitename
    if sitename and _DOMAIN_LIKE.fullmatch(sitename):
        sitename = None if (site or url) else sitename  # a domain: the URL names it better
    date_text = _date_text(tree, document.date) if document.date else None
    text = "\n\n".join([*head, *leads, *lines])
    return Page(text, title, date_text, sitename or site, url)


class HtmlReader(DocumentReader):
    """Saved web pages: one page is one article (:func:`extract_page`, then the cleaning of
    every article)."""

    suffixes: tuple[str, ...] = (".html", ".htm")

    def read(self, data: bytes, article_id: str) -> list[Article]:
        """``[article]``; raises :class:`ArticlesError` ``"<article_id>: <why>"``."""
        try:
            page = extract_page(decode_html(data))
        except ArticlesError as err:
            raise ArticlesError(f"{article_id}: {err}") from err
        if page is None:
            raise ArticlesError(f"{article_id}: no article text found in the web page")
        return [
            make_article(
                article_id,
                page.text,
                title=page.title,
                date_text=page.date_text,
                outlet=page.outlet,
                url=page.url,
            )
        ]
