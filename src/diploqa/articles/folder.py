"""Find the article files below a folder and read them, skipping what cannot be used.

The one place that decides which files of a folder are articles (:func:`article_files`), so
that indexing and every other caller see the same set, and the one place that touches the
file system, so that hostile input (huge files, FIFOs, broken links) is handled once.

Choices and why:

* **Hostile input**: single-article files (text, web pages) over the article limit
  (:class:`~diploqa.config.ReadLimits`, 2 MB, ``DIPLOQA_MAX_ARTICLE_BYTES``) are skipped as
  "too large" without being read; files of records (JSON Lines, JSON, CSV) may be of any size, the
  limit applies to each record (:mod:`diploqa.articles.records`). FIFOs and devices are
  skipped as "not a regular file".
* File ids keep the file system's spelling; suffixes (those of
  :data:`~diploqa.articles.formats.READERS`) are matched case-insensitively; hidden files
  and folders (leading ".") are ignored; symlinked folders are not followed (no cycles).
* A file or record that cannot be used is a :class:`SkippedFile` (a record's path is
  ``<file>#<record>``) and a warning; a file's other records are still indexed.
* An article with the same title, date and cleaned text as an earlier one (by id) is skipped
  as a copy: a copy would show every answer twice.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from diploqa.config import ReadLimits
from diploqa.errors import ArticlesError

from . import formats, readers
from .article import Article, SkippedFile
from .csv_columns import CsvColumns

_log = logging.getLogger(__name__)


def relative_id(path: Path, root: Path) -> str:
    """The article id of ``path``: relative to ``root``, POSIX separators."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def article_files(root: Path) -> list[Path]:
    """All non-hidden files below ``root`` that a reader takes, sorted by id.

    Hidden files and folders (leading ".") are skipped, symlinked folders are not followed.
    """
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found.extend(
            Path(dirpath, name)
            for name in filenames
            if not name.startswith(".") and formats.reader_for(name) is not None
        )
    return sorted(found, key=lambda p: relative_id(p, root))


def check_articles_dir(folder: str | Path) -> list[Path]:
    """The article files of ``folder``, sorted by id (nothing is read yet).

    Raises:
        ArticlesError: If ``folder`` is missing, not a folder, or holds no article file.
    """
    root = Path(folder)
    if not root.exists():
        raise ArticlesError(f"Articles folder not found: {root} (check the path)")
    if not root.is_dir():
        raise ArticlesError(f"Articles path is not a folder: {root}")
    paths = article_files(root)
    if not paths:
        kinds = ", ".join(formats.ARTICLE_SUFFIXES)
        raise ArticlesError(f"No article files ({kinds}) found in {root}")
    return paths


def read_file(
    path: Path,
    root: Path,
    known: Mapping[str, Article] | None = None,
    csv_columns: CsvColumns | None = None,
    limits: ReadLimits | None = None,
) -> Iterator[Article | SkippedFile]:
    """The articles of one file, and the records of it that cannot be used.

    Args:
        path: The file; the reader is chosen by its name (a name no reader takes is read as
            text).
        root: The articles folder; ids are relative to it.
        known: Articles read before, by id: unchanged ones (by
            :attr:`~Article.source_hash`) are yielded as they are, without cleaning again.
        csv_columns: Which columns of a CSV file are which field (``--csv-columns``); None:
            by the names in its header.
        limits: How much is read (default :class:`~diploqa.config.ReadLimits`).

    Yields:
        Articles and skipped records (see
        :meth:`~diploqa.articles.readers.ArticleReader.read_stream`), in file order.

    Raises:
        ArticlesError: ``"<id>: <why>"`` if the file cannot be used at all: unreadable, not a
            regular file, a single-article file over the article limit, or what
            its reader refuses.
    """
    file_id = relative_id(path, root)
    reader = formats.reader_for(path, csv_columns) or readers.TextReader()
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise ArticlesError(f"{file_id}: not a regular file")
        limits = limits or ReadLimits()
        limit = limits.max_article_bytes
        if not reader.holds_records and info.st_size > limit:
            raise ArticlesError(f"{file_id}: {readers.too_large(info.st_size, limit)}")
        with path.open("rb") as stream:
            yield from reader.read_stream(stream, file_id, known, limits)
    except OSError as err:
        raise ArticlesError(f"{file_id}: cannot read file ({err.strerror or err})") from err


def read_article(
    path: Path,
    root: Path,
    known: Mapping[str, Article] | None = None,
    limits: ReadLimits | None = None,
) -> Article:
    """Read, decode and parse one single-article file (text, web page).

    Args:
        path: The file.
        root: The articles folder; the id is ``path`` relative to it.
        known: Articles read before, by id: one whose :attr:`~Article.source_hash` matches
            the file's bytes is returned as it is, without decoding and cleaning again.
        limits: How much is read (default :class:`~diploqa.config.ReadLimits`).

    Returns:
        The article.

    Raises:
        ArticlesError: ``"<id>: <why>"`` if the file cannot be read, decoded or is empty, is
            not a regular file, is larger than the article limit, or is a file of
            records (JSON Lines, JSON, CSV: use :func:`read_file`).
    """
    reader = formats.reader_for(path)
    if reader is not None and reader.holds_records:
        raise ArticlesError(f"{relative_id(path, root)}: a file of records, not one article")
    # a single-article reader yields one or raises
    (article,) = read_file(path, root, known, limits=limits)
    assert isinstance(article, Article)
    return article


def load_articles(
    folder: str | Path,
    known: Mapping[str, Article] | None = None,
    csv_columns: CsvColumns | None = None,
    limits: ReadLimits | None = None,
) -> tuple[list[Article], list[SkippedFile]]:
    """Load every article below ``folder``.

    Args:
        folder: The articles folder.
        known: Articles read before (the index's), by id: unchanged files and records are
            taken from here instead of being cleaned again.
        csv_columns: Which columns of the CSV files are which field (``--csv-columns``);
            None: by the names in their header.
        limits: How much of each file and record is read (``DIPLOQA_MAX_ARTICLE_BYTES``,
            ``DIPLOQA_MAX_JSON_BYTES``; default :class:`~diploqa.config.ReadLimits`).

    Returns:
        ``(articles, skipped)``, in file order (files sorted by id, records in file order).
        Skipped files and records are also logged as warnings (logger
        ``diploqa.articles.folder``). An article with the same title, date and cleaned text as
        an earlier one is skipped as a copy of it. If everything is skipped, ``articles`` is
        empty and the caller decides.

    Raises:
        ArticlesError: If ``folder`` is missing, not a folder, or holds no article file.
    """
    root = Path(folder)
    paths = check_articles_dir(root)
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    first_with: dict[str, str] = {}  # content hash → id of the first article with that text

    def skip(item: SkippedFile) -> None:
        skipped.append(item)
        _log.warning("Skipping %s: %s", item.path, item.reason)

    for path in paths:
        file_id = relative_id(path, root)
        try:
            for item in read_file(path, root, known, csv_columns, limits):
                if isinstance(item, SkippedFile):
                    skip(item)
                    continue
                first = first_with.setdefault(item.content_hash, item.id)
                if first != item.id:  # a copy would show every answer twice
                    skip(SkippedFile(item.id, f"same title, date and text as {first}"))
                else:
                    articles.append(item)
        except ArticlesError as err:
            skip(SkippedFile(file_id, str(err).removeprefix(f"{file_id}: ")))
    return articles, skipped
