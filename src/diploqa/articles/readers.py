"""Turn a file into :class:`~diploqa.articles.article.Article` records: the reader interface,
decoding, header lines and the plain-text reader.

Every file kind has an :class:`ArticleReader`: this module's :class:`TextReader` (.txt, .md),
:class:`~diploqa.articles.html.HtmlReader` (.html, .htm) and the record readers of
:mod:`diploqa.articles.json_records` (.jsonl, .json) and :mod:`diploqa.articles.csv_records`
(.csv). :mod:`diploqa.articles.formats` lists them (``READERS``) and says which takes a file;
:mod:`diploqa.articles.folder` opens files and calls :meth:`ArticleReader.read_stream`.

**The reader interface** is one method, ``read_stream(stream, file_id, known, limits)``, that yields
articles *and* skipped records in file order from an open binary file, so that a file of
records is never held in memory whole and one bad record skips only itself. Readers of files
that are one article each derive from :class:`DocumentReader` and only implement
``read(data, article_id)``; the base class reads the bytes (at most the article limit), hashes
them and takes an unchanged file's article from ``known`` without cleaning it again. A record
reader hashes each record instead (:func:`~diploqa.articles.article.record_source_hash`).
:func:`make_article` is the one place that turns found fields into an Article (cleaning, title,
date, outlet), whatever the file kind.

Choices and why:

* **Headers** are only read at the very top (blank lines and a ``---`` front-matter fence are
  allowed between them). ``date``/``url`` need no colon because their values are
  recognisable (a date token, an http(s) URL); a colon-less ``title``/``source`` must be
  spelled in lower case so a sentence starting with "Title"/"Source" is not eaten. In the
  colon-less date form the rest of the line is article text (seed 000 glues its first
  paragraph onto ``date 2016-10``); a ``date:`` line with a colon is a pure header line and
  takes every form :func:`~diploqa.articles.dates.normalise_date` reads ("14. Oktober 2016");
  the value as written is kept as ``date_text``, one that is not a date only there.
* **Outlet** priority: ``source:`` header (or the outlet a reader found, e.g. a page's site
  name), then a rule that identifies the outlet (page chrome is specific to one site), then
  the ``url`` domain.
* **Encodings**: UTF-8 (BOM stripped), UTF-16 with BOM, cp1252, latin-1. Before accepting
  anything, known binary signatures (PNG, JPEG, GIF, PDF, ZIP, ELF, gzip), NUL bytes and a
  control-character share above 10 % reject the file as binary, because latin-1 accepts any
  byte sequence.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import BinaryIO, Protocol

from diploqa.config import ReadLimits
from diploqa.errors import ArticlesError

from .article import Article, SkippedFile, content_hash, source_hash
from .cleaning import _clean, _derive_title, _normalise_chars, _normalise_line, _outlet_from_url
from .dates import normalise_date

BINARY_CONTROL_SHARE = 0.10


# --- bytes to text -------------------------------------------------------------------------
_BINARY_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"%PDF-",
    b"PK\x03\x04",
    b"\x7fELF",
    b"\x1f\x8b",
)
_BINARY_ERROR = "not valid text (binary data)"
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _looks_binary(text: str) -> bool:
    """True if control characters other than tab/newline/CR/form feed exceed 10 %."""
    return len(_BINARY_CONTROL.findall(text)) > BINARY_CONTROL_SHARE * len(text)


def decode_8bit(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``: UTF-8 (BOM stripped), else cp1252, else latin-1 (which accepts any
    byte). ``encoding`` is ``"utf-8"``, ``"cp1252"`` or ``"latin-1"``."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def check_not_binary(data: bytes) -> None:
    """Raise :class:`ArticlesError` ``"not valid text (binary data)"`` if ``data`` starts with a
    known binary signature, or holds a NUL byte without a UTF-16 byte order mark."""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if data.startswith(_BINARY_MAGIC) or (not utf16 and b"\x00" in data):
        raise ArticlesError(_BINARY_ERROR)


def decode_named(data: bytes) -> tuple[str, str]:
    """Like :func:`decode_bytes`, and which encoding it took: ``"utf-8"``, ``"utf-16"``,
    ``"cp1252"`` or ``"latin-1"``."""
    check_not_binary(data)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as err:
            raise ArticlesError(f"not valid text (broken UTF-16: {err.reason})") from err
    else:
        text, encoding = decode_8bit(data)
    if _looks_binary(text):
        raise ArticlesError(_BINARY_ERROR)
    return text, encoding


def decode_bytes(data: bytes) -> str:
    """Decode file bytes: UTF-8 (BOM stripped), UTF-16 with BOM, cp1252, else latin-1.

    Args:
        data: Raw file content.

    Returns:
        The decoded text (not yet cleaned).

    Raises:
        ArticlesError: If the data looks binary or a UTF-16 file is malformed.
    """
    return decode_named(data)[0]


# --- headers -----------------------------------------------------------------------------
_HEADER = re.compile(
    r"\s*(?P<key>date|title|source|url)(?P<sep>\s*:|\s+|$)\s*(?P<value>.*)", re.IGNORECASE
)
_DATE = re.compile(
    r"(?:(?P<iso>\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?)"
    r"|(?P<d>0?[1-9]|[12]\d|3[01])\.(?P<m>0?[1-9]|1[0-2])\.(?P<y>\d{4}))"
    r"(?:T\d[\d:.]*(?:Z|[+-]\d\d:?\d\d)?)?(?![\w.:-])"
)
_URL_START = re.compile(r"https?://", re.IGNORECASE)


def _date_token(value: str) -> tuple[str, str] | None:
    """Split ``value`` into (the date token as written, rest) if it starts with one."""
    match = _DATE.match(value)
    if match is None:
        return None
    return match[0], value[match.end() :].strip()


def _parse_header(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Read header lines at the top; return the fields and the remaining body lines."""
    fields: dict[str, str] = {}
    for i, line in enumerate(lines):
        if line.strip() in ("", "---"):
            continue
        match = _HEADER.fullmatch(line)
        if match is None:
            return fields, lines[i:]
        key, value = match["key"].lower(), _normalise_line(match["value"])
        has_colon = ":" in match["sep"]
        if key == "date":
            token = _date_token(value)
            if has_colon:
                if value:  # the whole value if it is a date, else a date token it starts with
                    whole = token is None or normalise_date(value) is not None
                    fields.setdefault("date", value if whole else token[0])
            elif token is not None:
                fields.setdefault("date", token[0])
                if token[1]:
                    return fields, [token[1], *lines[i + 1 :]]
            else:
                return fields, lines[i:]
        elif key == "url":
            if not (has_colon or _URL_START.match(value)):
                return fields, lines[i:]
            if value:
                fields.setdefault("url", value.split()[0])
        elif has_colon or (match["key"].islower() and value):
            if value:
                fields.setdefault(key, value)
        else:
            return fields, lines[i:]
    return fields, []


# --- parsing -------------------------------------------------------------------------------
def make_article(
    article_id: str,
    raw_text: str,
    *,
    title: str | None = None,
    date_text: str | None = None,
    outlet: str | None = None,
    url: str | None = None,
) -> Article:
    """Clean ``raw_text`` and build an :class:`Article` from the fields a reader found.

    Args:
        article_id: The article id.
        raw_text: The article's text, not yet cleaned (no header lines: those are fields).
        title: The title, if the file names one; else the first meaningful line of the text.
        date_text: The date as written; :attr:`Article.date` is its ISO form (None if it is
            not a date :func:`~diploqa.articles.dates.normalise_date` reads).
        outlet: The outlet, if the file names one; else a rule's or the URL's domain.
        url: The article's URL.

    Raises:
        ArticlesError: ``"<article_id>: empty after cleaning"`` if no text is left.
    """
    text, rule_outlet = _clean(raw_text)
    if not text:
        raise ArticlesError(f"{article_id}: empty after cleaning")
    title = _normalise_line(_normalise_chars(title or "")) or _derive_title(text)
    date_text = _normalise_line(_normalise_chars(date_text or "")) or None
    date = normalise_date(date_text)
    outlet = _normalise_line(_normalise_chars(outlet or "")) or None
    url = (url or "").strip() or None
    outlet = outlet or rule_outlet or (_outlet_from_url(url) if url else None)
    return Article(
        article_id,
        title,
        text,
        date,
        outlet,
        url,
        content_hash(title, date, text),
        date_text=date_text,
    )


def parse_article(raw: str, article_id: str) -> Article:
    """Parse header lines, clean the body and build an :class:`Article`.

    Args:
        raw: Decoded file content.
        article_id: Relative POSIX path used as the article id.

    Returns:
        The article.

    Raises:
        ArticlesError: ``"<id>: empty after cleaning"`` if no text is left.
    """
    fields, body = _parse_header(_normalise_chars(raw).split("\n"))
    return make_article(
        article_id,
        "\n".join(body),
        title=fields.get("title"),
        date_text=fields.get("date"),
        outlet=fields.get("source"),
        url=fields.get("url"),
    )


# --- readers -------------------------------------------------------------------------------
class ArticleReader(Protocol):
    """Reads one kind of article file.

    Attributes:
        suffixes: The file name endings it takes, lower case, e.g. ``(".txt", ".md")``;
            matched case-insensitively.
        holds_records: False if a file is one article: the article size limit
            (:attr:`~diploqa.config.ReadLimits.max_article_bytes`) applies to the file. True
            if a file holds records, read one at a time: the limit applies to each record, and
            the file may be of any size.
    """

    suffixes: tuple[str, ...]
    holds_records: bool

    def read_stream(
        self,
        stream: BinaryIO,
        file_id: str,
        known: Mapping[str, Article] | None = None,
        limits: ReadLimits | None = None,
    ) -> Iterator[Article | SkippedFile]:
        """The articles of one open file, in file order, with ``source_hash`` set.

        Args:
            stream: The file, opened for reading bytes; read from where it stands.
            file_id: The file's id (its path relative to the articles folder); the id of an
                article is ``file_id`` itself, or ``file_id#<record>`` for a record.
            known: Articles read before, by id: one whose ``source_hash`` matches is yielded
                as it is, without being cleaned again.
            limits: How much is read (default :class:`~diploqa.config.ReadLimits`).

        Yields:
            Articles, and a :class:`SkippedFile` (``path`` the record's would-be id, ``reason``
            naming the line or record) for each record that cannot be used.

        Raises:
            ArticlesError: ``"<file_id>: <why>"`` if the file as a whole cannot be used (also
                after some articles were yielded, e.g. a file that is cut short).
        """
        ...


def _megabytes(size: int) -> str:
    mb = 1024 * 1024
    return f"{size / mb:.1f} MB" if size >= mb // 10 else f"{size / 1024:.1f} kB"


def too_large(size: int, limit: int, what: str = "articles") -> str:
    """The reason given for an article (or a record) over the article size limit."""
    return (
        f"too large ({_megabytes(size)}; {what} over {_megabytes(limit)} are skipped, "
        "see DIPLOQA_MAX_ARTICLE_BYTES)"
    )


class DocumentReader:
    """Base of the readers of files that are one article each (text, web pages).

    Subclasses set ``suffixes`` and implement :meth:`read`; :meth:`read_stream` reads at most
    the article limit's bytes, takes an unchanged file's article from ``known`` (by
    :func:`~diploqa.articles.article.source_hash` of the bytes) and otherwise calls
    :meth:`read`.
    """

    suffixes: tuple[str, ...] = ()
    holds_records = False

    def read(self, data: bytes, article_id: str) -> list[Article]:
        """``[article]`` from a file's bytes (``source_hash`` not yet set).

        Raises:
            ArticlesError: ``"<article_id>: <why>"`` if the bytes hold no usable article.
        """
        raise NotImplementedError

    def read_stream(
        self,
        stream: BinaryIO,
        file_id: str,
        known: Mapping[str, Article] | None = None,
        limits: ReadLimits | None = None,
    ) -> Iterator[Article | SkippedFile]:
        """See :meth:`ArticleReader.read_stream`; yields exactly one article or raises."""
        limit = (limits or ReadLimits()).max_article_bytes
        data = stream.read(limit + 1)  # never more, even if the file grows meanwhile
        if len(data) > limit:
            raise ArticlesError(f"{file_id}: {too_large(len(data), limit)}")
        digest = source_hash(data)
        previous = known.get(file_id) if known else None
        if previous is not None and previous.source_hash == digest:
            yield previous
            return
        for article in self.read(data, file_id):
            yield dataclasses.replace(article, source_hash=digest)


class TextReader(DocumentReader):
    """Plain text and Markdown: one file is one article (:func:`decode_bytes`, then
    :func:`parse_article`)."""

    suffixes: tuple[str, ...] = (".txt", ".md")

    def read(self, data: bytes, article_id: str) -> list[Article]:
        """``[article]``; raises :class:`ArticlesError` ``"<article_id>: <why>"``."""
        try:
            raw = decode_bytes(data)
        except ArticlesError as err:
            raise ArticlesError(f"{article_id}: {err}") from err
        return [parse_article(raw, article_id)]
