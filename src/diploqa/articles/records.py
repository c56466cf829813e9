"""Files of records (``.jsonl``, ``.json``, ``.csv``): one article per record.

A news export is one file of thousands of articles, not thousands of files. Each record
becomes an article with the id ``<file>#<record>``; a record that cannot be used is skipped
on its own, with a reason naming its line, and the others are indexed. This module has what
every file kind shares (the record, field names, turning a record into an article); the kinds
are in :mod:`.json_records` (JSON Lines, JSON) and :mod:`.csv_records` (CSV), which read their
files line by line through :mod:`.lines`.

Choices and why:

* **Field names** (:data:`FIELD_NAMES`) are matched case-insensitively; the first name in the
  list that a record has, with a non-empty value, wins. A record without text is skipped.
  A list of strings as text is a list of paragraphs; an object as a value (JSON-LD's
  ``"publisher": {"name": …}``) counts by its ``name``; other fields are ignored. A CSV file
  without such names says its columns through ``--csv-columns``
  (:class:`~.csv_columns.CsvColumns`).
* **Ids**: ``<file>#<id field>``, else ``<file>#<record number>`` (the line of a JSON Lines
  file, the row of a CSV file after its header if it has one, the position in a JSON array,
  from 1). Without an id field, deleting a record renumbers the ones after it, which are then
  embedded again: exports should carry ids. A second record with an id already seen in the
  file is skipped.
* **Streaming**: JSON Lines and CSV files are read one line at a time and never whole; no line
  or record longer than the article limit (:class:`~diploqa.config.ReadLimits`) is ever held
  (its bytes are read past and the record skipped as too large), so memory does not grow with
  the file. A ``.json`` file is parsed whole, up to the JSON limit.
* **Unchanged records are not cleaned again**: each record's ``source_hash`` is the hash of its
  fields as read (:func:`~diploqa.articles.article.record_source_hash`), so an update re-reads
  the file but cleans and embeds only the records that changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from diploqa.config import ReadLimits
from diploqa.errors import ArticlesError

from .article import Article, SkippedFile, record_source_hash
from .readers import make_article
from .readers import too_large as _too_large

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
_NO_TEXT = "no text (no non-empty field named " + ", ".join(FIELD_NAMES["text"]) + ")"


@dataclass(frozen=True)
class Record:
    """One record as read, before it becomes an article.

    Attributes:
        number: Its number in the file, from 1 (line, CSV row, or position).
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

    def records(
        self, stream: BinaryIO, file_id: str, limits: ReadLimits
    ) -> Iterator[Record | SkippedFile]:
        """The file's records in order, and a :class:`SkippedFile` for each one that cannot be
        parsed (path ``<file_id>#<number>``, reason naming the line or record); no line or
        file held beyond ``limits``.

        Raises:
            ArticlesError: ``"<file_id>: <why>"`` if the file cannot be read at all.
        """
        raise NotImplementedError

    def no_text(self) -> str:
        """Why a record without text is skipped (a reader that knows its text column says
        which)."""
        return _NO_TEXT

    def read_stream(
        self,
        stream: BinaryIO,
        file_id: str,
        known: Mapping[str, Article] | None = None,
        limits: ReadLimits | None = None,
    ) -> Iterator[Article | SkippedFile]:
        """See :meth:`~diploqa.articles.readers.ArticleReader.read_stream`."""
        limits = limits or ReadLimits()
        first_seen: dict[str, str] = {}  # article id → where its first record is
        empty = True
        for item in self.records(stream, file_id, limits):
            empty = False
            if isinstance(item, SkippedFile):
                yield item
            else:
                yield self._article(item, file_id, known, first_seen, limits.max_article_bytes)
        if empty:
            raise ArticlesError(f"{file_id}: no records")

    def _article(
        self,
        record: Record,
        file_id: str,
        known: Mapping[str, Article] | None,
        first_seen: dict[str, str],
        limit: int,
    ) -> Article | SkippedFile:
        fields = record_fields(record.values)
        key = " ".join((fields["id"] or str(record.number)).split())
        article_id = f"{file_id}#{key}"
        if article_id in first_seen:
            first = first_seen[article_id]
            reason = f"{record.where}: id {key!r} again (the record at {first} is kept)"
            return SkippedFile(article_id, reason)
        first_seen[article_id] = record.where
        if record.size > limit:
            return SkippedFile(
                article_id, f"{record.where}: {_too_large(record.size, limit, 'records')}"
            )
        if fields["text"] is None:
            return SkippedFile(article_id, f"{record.where}: {self.no_text()}")
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
