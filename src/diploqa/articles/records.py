"""Files of records (``.jsonl``, ``.json``, ``.csv``): one article per record.

A news export is one file of thousands of articles, not thousands of files. Each record
becomes an article with the id ``<file>#<record>``; a record that cannot be used is skipped
on its own, with a reason naming its line, and the others are indexed.

Choices and why:

* **Field names** (:data:`FIELD_NAMES`) are matched case-insensitively; the first name in the
  list that a record has, with a non-empty value, wins. A record without text is skipped.
  A list of strings as text is a list of paragraphs; an object as a value (JSON-LD's
  ``"publisher": {"name": …}``) counts by its ``name``; other fields are ignored.
* **Ids**: ``<file>#<id field>``, else ``<file>#<record number>`` (the line of a JSON Lines
  file, the row after the header of a CSV file, the position in a JSON array, from 1). Without
  an id field, deleting a record renumbers the ones after it, which are then embedded again:
  exports should carry ids. A second record with an id already seen in the file is skipped.
* **Streaming**: JSON Lines and CSV files are read one line at a time and never whole; no line
  or record longer than ``config.max_article_bytes()`` is ever held (its bytes are read past
  and the record skipped as too large), so memory does not grow with the file. A ``.json``
  file has no record boundaries to stream by: it is parsed whole up to
  ``config.max_json_bytes()`` (200 MB) and refused above it, with a hint to convert it to JSON
  Lines.
* **Unchanged records are not cleaned again**: each record's ``source_hash`` is the hash of its
  fields as read (:func:`~diploqa.articles.article.record_source_hash`), so an update re-reads
  the file but cleans and embeds only the records that changed.
* **Encodings**: each line is decoded on its own, UTF-8 first, else cp1252, else latin-1
  (:func:`~diploqa.articles.readers.decode_8bit`), with one warning per file and fallback that
  names the encoding used; UTF-16 needs its byte order mark. A file that starts like a binary
  file is refused; a line that looks binary is skipped.
* **CSV**: the first non-blank line is the header; its separator is the one of ``,`` ``;`` and
  tab it holds most often (a header line is only names, so this does not guess wrong like a
  sniffer on quoted text). Fields are quoted with ``"`` (RFC 4180), and may span lines. A row
  with more or fewer fields than the header is skipped.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from diploqa import config
from diploqa.errors import ArticlesError

from .article import Article, SkippedFile, record_source_hash
from .readers import _looks_binary, check_not_binary, decode_8bit, decode_named, make_article
from .readers import too_large as _too_large

_log = logging.getLogger(__name__)

#: The field names accepted for each part of an article, in order of preference; matched
#: case-insensitively.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "text": ("text", "body", "content", "article"),
    "title": ("title", "headline"),
    "date": ("date", "published", "published_at", "datetime"),
    "outlet": ("outlet", "source", "publisher", "site"),
    "url": ("url", "link"),
    "id": ("id",),
}
#: Keys of a JSON object under which its list of records may be (else its only list).
LIST_KEYS = ("articles", "data", "items", "records", "documents", "entries")
#: Bytes looked at to refuse a binary file before reading it line by line.
HEAD_BYTES = 8192

_NO_TEXT = "no text (no non-empty field named " + ", ".join(FIELD_NAMES["text"]) + ")"


@dataclass(frozen=True)
class Record:
    """One record as read, before it becomes an article.

    Attributes:
        number: Its number in the file, from 1 (line, row after the header, or position).
        where: Where it is, for messages: ``"line 12"`` or ``"record 3"``.
        values: Its fields as read, names as spelled in the file.
        size: Its size in bytes, checked against the article limit.
    """

    number: int
    where: str
    values: Mapping[str, object]
    size: int


def _as_text(value: object) -> str | None:
    """A field's value as text: strings, numbers, lists of strings (paragraphs), an object's
    ``name``; None for anything else, and for empty values."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float):
        value = str(value)
    elif isinstance(value, dict):
        return _as_text(value.get("name"))
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        value = "\n\n".join(value)
    if not isinstance(value, str) or not value.strip():
        return None
    return value


def record_fields(values: Mapping[str, object]) -> dict[str, str | None]:
    """The article fields of a record (``text``, ``title``, ``date``, ``outlet``, ``url``,
    ``id``) by :data:`FIELD_NAMES`; None where it has none."""
    lower: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(key, str):
            lower.setdefault(key.strip().lower(), value)
    fields: dict[str, str | None] = {}
    for field, names in FIELD_NAMES.items():
        found = (_as_text(lower[name]) for name in names if name in lower)
        fields[field] = next((value for value in found if value is not None), None)
    return fields


class RecordReader:
    """Base of the readers of files of records.

    Subclasses set ``suffixes`` and implement :meth:`records`; :meth:`read_stream` turns each
    record into an article (ids, duplicate ids, size limit, missing text, unchanged records from
    ``known``, cleaning).
    """

    suffixes: tuple[str, ...] = ()
    holds_records = True

    def records(self, stream: BinaryIO, file_id: str) -> Iterator[Record | SkippedFile]:
        """The file's records in order, and a :class:`SkippedFile` for each one that cannot be
        parsed (path ``<file_id>#<number>``, reason naming the line or record).

        Raises:
            ArticlesError: ``"<file_id>: <why>"`` if the file cannot be read at all.
        """
        raise NotImplementedError

    def read_stream(
        self, stream: BinaryIO, file_id: str, known: Mapping[str, Article] | None = None
    ) -> Iterator[Article | SkippedFile]:
        """See :meth:`~diploqa.articles.readers.ArticleReader.read_stream`."""
        first_seen: dict[str, str] = {}  # article id → where its first record is
        empty = True
        for item in self.records(stream, file_id):
            empty = False
            if isinstance(item, SkippedFile):
                yield item
            else:
                yield self._article(item, file_id, known, first_seen)
        if empty:
            raise ArticlesError(f"{file_id}: no records")

    def _article(
        self,
        record: Record,
        file_id: str,
        known: Mapping[str, Article] | None,
        first_seen: dict[str, str],
    ) -> Article | SkippedFile:
        fields = record_fields(record.values)
        key = " ".join((fields["id"] or str(record.number)).split())
        article_id = f"{file_id}#{key}"
        if article_id in first_seen:
            first = first_seen[article_id]
            reason = f"{record.where}: id {key!r} again (the record at {first} is kept)"
            return SkippedFile(article_id, reason)
        first_seen[article_id] = record.where
        limit = config.max_article_bytes()
        if record.size > limit:
            return SkippedFile(
                article_id, f"{record.where}: {_too_large(record.size, limit, 'records')}"
            )
        if fields["text"] is None:
            return SkippedFile(article_id, f"{record.where}: {_NO_TEXT}")
        digest = record_source_hash(fields)
        previous = known.get(article_id) if known else None
        if previous is not None and previous.source_hash == digest:
            return previous
        try:
            article = make_article(
                article_id,
                fields["text"],
                title=fields["title"],
                date_text=fields["date"],
                outlet=fields["outlet"],
                url=fields["url"],
            )
        except ArticlesError as err:
            return SkippedFile(
                article_id, f"{record.where}: {str(err).removeprefix(article_id + ': ')}"
            )
        return dataclasses.replace(article, source_hash=digest)


# --- lines ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Line:
    """One line of a file. ``text`` is None if the line cannot be used (``problem`` says why);
    its bytes were then read past, not held. ``quotes`` counts its ``"`` characters."""

    number: int
    text: str | None
    size: int
    quotes: int
    problem: str | None = None


class _Lines:
    """The lines of a binary file, decoded one at a time, none longer than ``limit`` held."""

    def __init__(self, stream: BinaryIO, file_id: str, limit: int) -> None:
        head = stream.read(HEAD_BYTES)
        stream.seek(-len(head), io.SEEK_CUR)
        try:
            check_not_binary(head)
        except ArticlesError as err:
            raise ArticlesError(f"{file_id}: {err}") from err
        self._utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        self._stream: BinaryIO | io.TextIOWrapper = (
            io.TextIOWrapper(stream, encoding="utf-16", newline="") if self._utf16 else stream
        )
        self._file_id, self._limit = file_id, limit
        self._warned: set[str] = set()
        self.number = 0

    def __iter__(self) -> _Lines:
        return self

    def _readline(self, size: int) -> str | bytes:
        try:
            return self._stream.readline(size)
        except UnicodeDecodeError as err:
            raise ArticlesError(f"{self._file_id}: broken UTF-16 ({err.reason})") from err

    def __next__(self) -> _Line:
        raw = self._readline(self._limit + 1)
        if not raw:
            raise StopIteration
        self.number += 1
        newline = "\n" if self._utf16 else b"\n"
        quote = '"' if self._utf16 else b'"'
        if len(raw) > self._limit and not raw.endswith(newline):
            size, quotes = len(raw), raw.count(quote)
            while raw and not raw.endswith(newline):  # read past the rest, holding none of it
                raw = self._readline(1 << 20)
                size, quotes = size + len(raw), quotes + raw.count(quote)
            return _Line(self.number, None, size, quotes, _too_large(size, self._limit, "records"))
        text = raw if isinstance(raw, str) else self._decode(raw)
        if "\x00" in text or _looks_binary(text):
            return _Line(self.number, None, len(raw), text.count('"'), "not text (binary data)")
        return _Line(self.number, text, len(raw), text.count('"'))

    def _decode(self, raw: bytes) -> str:
        text, encoding = decode_8bit(raw)
        if encoding != "utf-8" and encoding not in self._warned:
            self._warned.add(encoding)
            _log.warning(
                "%s: line %d is not valid UTF-8, read as %s (and so is every later such line)",
                self._file_id,
                self.number,
                encoding,
            )
        return text


# --- JSON Lines ----------------------------------------------------------------------------
def _json_problem(err: ValueError | RecursionError) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON ({err.msg}, column {err.colno})"
    return "not valid JSON (nested too deeply)"


class JsonLinesReader(RecordReader):
    """JSON Lines: one JSON object per line; blank lines are ignored."""

    suffixes: tuple[str, ...] = (".jsonl",)

    def records(self, stream: BinaryIO, file_id: str) -> Iterator[Record | SkippedFile]:
        """See :meth:`RecordReader.records`."""
        for line in _Lines(stream, file_id, config.max_article_bytes()):
            where = f"line {line.number}"
            if line.text is None:
                yield SkippedFile(f"{file_id}#{line.number}", f"{where}: {line.problem}")
                continue
            if not line.text.strip():
                continue
            try:
                value = json.loads(line.text)
            except (ValueError, RecursionError) as err:
                yield SkippedFile(f"{file_id}#{line.number}", f"{where}: {_json_problem(err)}")
                continue
            if not isinstance(value, dict):
                yield SkippedFile(f"{file_id}#{line.number}", f"{where}: not a JSON object")
                continue
            yield Record(line.number, where, value, line.size)


# --- JSON ----------------------------------------------------------------------------------
def _remaining_size(stream: BinaryIO) -> int | None:
    """Bytes left in a file, if the stream is a file."""
    try:
        return os.fstat(stream.fileno()).st_size - stream.tell()
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None


def _record_list(value: object) -> list | None:
    """The list of records in a parsed JSON file (see :class:`JsonReader`), or None."""
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        return None
    lower = {k.lower(): v for k, v in value.items() if isinstance(k, str)}
    for key in LIST_KEYS:
        if isinstance(lower.get(key), list):
            return lower[key]
    if any(name in lower for name in FIELD_NAMES["text"]):
        return [value]  # one article
    lists = [v for v in value.values() if isinstance(v, list)]
    return lists[0] if len(lists) == 1 else None


def _value_bytes(values: Mapping[str, object]) -> int:
    """About what a JSON record takes in a file: its text values' UTF-8 bytes."""
    return sum(len(v.encode("utf-8")) for v in values.values() if isinstance(v, str))


class JsonReader(RecordReader):
    """A JSON file: an array of objects; or an object with the array under one of
    :data:`LIST_KEYS` (or as its only array); or one object that is an article. Parsed whole,
    so at most ``config.max_json_bytes()``."""

    suffixes: tuple[str, ...] = (".json",)

    def records(self, stream: BinaryIO, file_id: str) -> Iterator[Record | SkippedFile]:
        """See :meth:`RecordReader.records`."""
        limit = config.max_json_bytes()
        size = _remaining_size(stream)
        data = b"" if size is not None and size > limit else stream.read(limit + 1)
        if (size is not None and size > limit) or len(data) > limit:
            mb = 1024 * 1024
            raise ArticlesError(
                f"{file_id}: too large for a JSON file ({max(size or 0, len(data)) / mb:.1f} "
                f"MB; a .json file is read whole, up to {limit / mb:.0f} MB, see "
                "DIPLOQA_MAX_JSON_BYTES): convert it to JSON Lines, one article per line, "
                "which is read one record at a time, e.g. jq -c '.[]' file.json > file.jsonl"
            )
        if not data.strip():
            raise ArticlesError(f"{file_id}: empty file")
        try:
            text, encoding = decode_named(data)
        except ArticlesError as err:
            raise ArticlesError(f"{file_id}: {err}") from err
        del data
        if encoding in ("cp1252", "latin-1"):
            _log.warning("%s: not valid UTF-8, read as %s", file_id, encoding)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise ArticlesError(
                f"{file_id}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
            ) from err
        except RecursionError as err:
            raise ArticlesError(f"{file_id}: not valid JSON (nested too deeply)") from err
        del text
        items = _record_list(value)
        if items is None:
            raise ArticlesError(
                f"{file_id}: no list of articles (expected a JSON array of objects, or an "
                f"object with one under {', '.join(repr(k) for k in LIST_KEYS[:3])})"
            )
        for number, item in enumerate(items, 1):
            where = f"record {number}"
            if isinstance(item, dict):
                yield Record(number, where, item, _value_bytes(item))
            else:
                yield SkippedFile(f"{file_id}#{number}", f"{where}: not a JSON object")


# --- CSV -----------------------------------------------------------------------------------
class _BadRow(Exception):
    """A CSV row that was read past instead of parsed (too large or binary)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line, self.problem = line, problem


class _RowFeed:
    """Feeds lines to ``csv.reader`` one row at a time and counts each row's bytes.

    A row that grows over the article limit (or holds a binary line) is not handed on: its
    remaining lines are read past until its quotes balance (RFC 4180: an odd number of ``"``
    so far means a quoted field is still open) and :class:`_BadRow` is raised, so that the
    reader, which starts afresh on its next row, is not fed the rest of it as rows of its own.
    """

    def __init__(self, lines: _Lines, limit: int) -> None:
        self._lines, self._limit = lines, limit
        self.first_line = 0
        self.size = 0
        self._quotes = 0

    def start_row(self) -> None:
        self.first_line, self.size, self._quotes = 0, 0, 0

    def __iter__(self) -> _RowFeed:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.first_line = self.first_line or line.number
        self.size += line.size
        self._quotes += line.quotes
        if line.text is not None and self.size <= self._limit:
            return line.text
        problem = line.problem
        while self._quotes % 2:
            more = next(self._lines, None)
            if more is None:
                break
            self.size += more.size
            self._quotes += more.quotes
        if problem is None:
            problem = _too_large(self.size, self._limit, "records")
        raise _BadRow(self.first_line, problem)


def _allow_long_fields(limit: int) -> None:
    """Let ``csv`` read fields up to the article limit (its default stops at 128 kB); the
    setting is process-wide, and only ever raised."""
    if csv.field_size_limit() < limit + 1:
        csv.field_size_limit(limit + 1)


class CsvReader(RecordReader):
    """CSV with a header row; separator ``,``, ``;`` or tab, the one the header holds most."""

    suffixes: tuple[str, ...] = (".csv",)

    def records(self, stream: BinaryIO, file_id: str) -> Iterator[Record | SkippedFile]:
        """See :meth:`RecordReader.records`."""
        limit = config.max_article_bytes()
        _allow_long_fields(limit)
        lines = _Lines(stream, file_id, limit)
        header = next((line for line in lines if line.text is None or line.text.strip()), None)
        if header is None:
            raise ArticlesError(f"{file_id}: empty file")
        if header.text is None:
            raise ArticlesError(f"{file_id}: line {header.number}: header {header.problem}")
        delimiter = max((",", ";", "\t"), key=header.text.count)
        names = [name.strip() for name in next(csv.reader([header.text], delimiter=delimiter))]
        if not any(name.lower() in FIELD_NAMES["text"] for name in names):
            raise ArticlesError(
                f"{file_id}: no text column (the header, line {header.number}, names none of "
                f"{', '.join(FIELD_NAMES['text'])})"
            )
        feed = _RowFeed(lines, limit)
        rows = csv.reader(feed, delimiter=delimiter)
        number = 0
        while True:
            feed.start_row()
            try:
                row = next(rows)
            except StopIteration:
                break
            except _BadRow as bad:
                number += 1
                yield SkippedFile(f"{file_id}#{number}", f"line {bad.line}: {bad.problem}")
                continue
            except csv.Error as err:
                number += 1
                where = f"line {feed.first_line}"
                yield SkippedFile(f"{file_id}#{number}", f"{where}: not a valid CSV row ({err})")
                continue
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            number += 1
            where = f"line {feed.first_line}"
            if len(row) != len(names):
                reason = f"{where}: {len(row)} fields, the header has {len(names)}"
                yield SkippedFile(f"{file_id}#{number}", reason)
                continue
            values: dict[str, str] = {}
            for name, cell in zip(names, row, strict=True):
                values.setdefault(name, cell)
            yield Record(number, where, values, feed.size)
