"""What an article is once read: the :class:`Article` record and its two hashes.

Kept apart from reading and cleaning so that every other module (chunking, the index, search,
the web app) can depend on the record without pulling in the cleaning rules, and so that the
hashes that decide "is this the same article?" are defined in exactly one place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

#: Bump when a change to the cleaning or header rules changes what a file becomes: articles
#: kept from an index (see :attr:`Article.source_hash`) are then cleaned again.
#: 2: dates normalised to ISO (:mod:`diploqa.articles.dates`), ``date_text``; HTML and records.
CLEANING_VERSION = 2


@dataclass(frozen=True)
class Article:
    """One cleaned article.

    Attributes:
        id: The article id: the path relative to the articles folder, POSIX separators; for
            a record of a JSONL, JSON or CSV file the path, ``#`` and the record's id field or
            number (``news.jsonl#42``). The same string is
            :attr:`Chunk.article_id <diploqa.chunking.Chunk.article_id>` and
            :attr:`Hit.source <diploqa.hits.Hit.source>`, so a chunk or a hit leads back to
            its article by this id.
        title: Header title or the first meaningful line (shortened if long).
        text: Cleaned full text including the headline line; chunk offsets index into it.
        date: The publication date in ISO form (``"2016"``, ``"2016-10"`` or
            ``"2016-10-14"``, :func:`~diploqa.articles.dates.normalise_date`) from a ``date``
            header, the page's metadata or a record's date field; None if there is none or it
            could not be read (then only :attr:`date_text` has it).
        outlet: Publisher from a ``source`` header, the page's site name, a record's outlet
            field, a debris rule or the URL domain.
        url: URL from a ``url`` header, the page's canonical URL or a record's url field.
        content_hash: sha256 hex of ``title + "\\n" + (date or "") + "\\n" + text``
            (:func:`content_hash`).
        source_hash: sha256 hex of the file's bytes and :data:`CLEANING_VERSION`, so that an
            update can take an unchanged file's article from the index instead of cleaning
            it again (cleaning is most of an incremental update's time); for a record, the
            hash of its fields (:func:`record_source_hash`); empty if unknown.
        date_text: The date as written where it was found ("14. Oktober 2016"), for display;
            None if there was none. Indexes written before it existed load with None.
    """

    id: str
    title: str
    text: str
    date: str | None
    outlet: str | None
    url: str | None
    content_hash: str
    source_hash: str = ""
    date_text: str | None = None


@dataclass(frozen=True)
class SkippedFile:
    """A file :func:`~diploqa.articles.load_articles` could not use.

    Attributes:
        path: Path relative to the articles folder, POSIX separators.
        reason: Human-readable reason, e.g. ``"not valid text (binary data)"``.
    """

    path: str
    reason: str


def content_hash(title: str, date: str | None, text: str) -> str:
    """:attr:`Article.content_hash`: two files with the same title, date and cleaned text are
    one article (the second is skipped as a copy)."""
    payload = f"{title}\n{date or ''}\n{text}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def source_hash(data: bytes) -> str:
    """:attr:`Article.source_hash` of a file's bytes."""
    return hashlib.sha256(f"diploqa-cleaning-{CLEANING_VERSION}\0".encode() + data).hexdigest()


def record_source_hash(fields: Mapping[str, str | None]) -> str:
    """:attr:`Article.source_hash` of one record of a JSONL, JSON or CSV file: its fields as
    read (before cleaning), so that an unchanged record is not cleaned again, whatever else
    changed in its file."""
    payload = json.dumps(sorted(fields.items()), ensure_ascii=False)
    return source_hash(b"record\0" + payload.encode("utf-8"))
