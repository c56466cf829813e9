"""Find the article files below a folder and read them, skipping what cannot be used.

The one place that decides which files of a folder are articles (:func:`article_files`), so
that indexing and every other caller see the same set, and the one place that touches the
file system, so that hostile input (huge files, FIFOs, broken links) is handled once.

Choices and why:

* **Hostile input**: files over ``config.max_article_bytes()`` (2 MB,
  ``DIPLOQA_MAX_ARTICLE_BYTES``) are skipped as "too large" without being read; FIFOs and
  devices are skipped as "not a regular file".
* File ids keep the file system's spelling; suffixes ``.txt``/``.md`` (those of
  :data:`~diploqa.articles.readers.READERS`) are matched case-insensitively; hidden files
  and folders (leading ".") are ignored; symlinked folders are not followed (no cycles).
* A file with the same title, date and cleaned text as an earlier one (by id) is skipped as
  a copy: a copy would show every answer twice.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from diploqa import config
from diploqa.errors import ArticlesError

from . import readers
from .article import Article, SkippedFile, source_hash

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
            if not name.startswith(".") and readers.reader_for(name) is not None
        )
    return sorted(found, key=lambda p: relative_id(p, root))


def check_articles_dir(folder: str | Path) -> list[Path]:
    """The article files of ``folder``, sorted by id (nothing is read yet).

    Raises:
        ArticlesError: If ``folder`` is missing, not a folder, or holds no .txt/.md file.
    """
    root = Path(folder)
    if not root.exists():
        raise ArticlesError(f"Articles folder not found: {root} (check the path)")
    if not root.is_dir():
        raise ArticlesError(f"Articles path is not a folder: {root}")
    paths = article_files(root)
    if not paths:
        raise ArticlesError(f"No .txt or .md article files found in {root}")
    return paths


def _too_large(size: int, limit: int) -> str:
    mb = 1024 * 1024
    return (
        f"too large ({size / mb:.1f} MB; articles over {limit / mb:.1f} MB are skipped, "
        "see DIPLOQA_MAX_ARTICLE_BYTES)"
    )


def read_article(path: Path, root: Path, known: Mapping[str, Article] | None = None) -> Article:
    """Read, decode and parse one file.

    Args:
        path: The file.
        root: The articles folder; the id is ``path`` relative to it.
        known: Articles read before, by id: one whose :attr:`~Article.source_hash` matches
            the file's bytes is returned as it is, without decoding and cleaning again.

    Returns:
        The article.

    Raises:
        ArticlesError: ``"<id>: <why>"`` if the file cannot be read, decoded or is empty, is
            not a regular file, or is larger than ``config.max_article_bytes()``.
    """
    article_id = relative_id(path, root)
    limit = config.max_article_bytes()
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise ArticlesError(f"{article_id}: not a regular file")
        if info.st_size > limit:
            raise ArticlesError(f"{article_id}: {_too_large(info.st_size, limit)}")
        with path.open("rb") as fh:
            data = fh.read(limit + 1)  # never more, even if the file grows meanwhile
    except OSError as err:
        raise ArticlesError(f"{article_id}: cannot read file ({err.strerror or err})") from err
    if len(data) > limit:
        raise ArticlesError(f"{article_id}: {_too_large(len(data), limit)}")
    digest = source_hash(data)
    previous = known.get(article_id) if known else None
    if previous is not None and previous.source_hash == digest:
        return previous
    # A file whose name no reader takes (read_article called directly) is read as text.
    reader = readers.reader_for(path) or readers.TextReader()
    found = reader.read(data, article_id)
    if len(found) != 1:  # not yet: readers of one-record-per-line files (JSONL, CSV)
        raise ArticlesError(f"{article_id}: holds {len(found)} articles, expected one")
    return dataclasses.replace(found[0], source_hash=digest)


def load_articles(
    folder: str | Path, known: Mapping[str, Article] | None = None
) -> tuple[list[Article], list[SkippedFile]]:
    """Load every article below ``folder``.

    Args:
        folder: The articles folder.
        known: Articles read before (the index's), by id: unchanged files are taken from
            here instead of being cleaned again.

    Returns:
        ``(articles, skipped)``, both sorted by id. Skipped files are also logged as
        warnings (logger ``diploqa.articles.folder``). A file with the same title, date and
        cleaned text as an earlier one (by id) is skipped as a copy of it. If every file is skipped,
        ``articles`` is empty and the caller decides.

    Raises:
        ArticlesError: If ``folder`` is missing, not a folder, or holds no .txt/.md file.
    """
    root = Path(folder)
    paths = check_articles_dir(root)
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    first_with: dict[str, str] = {}  # content hash → id of the first article with that text
    for path in paths:
        article_id = relative_id(path, root)
        try:
            article = read_article(path, root, known)
            first = first_with.setdefault(article.content_hash, article_id)
            if first != article_id:  # a copy would show every answer twice
                raise ArticlesError(f"{article_id}: same title, date and text as {first}")
            articles.append(article)
        except ArticlesError as err:
            reason = str(err).removeprefix(f"{article_id}: ")
            skipped.append(SkippedFile(article_id, reason))
            _log.warning("Skipping article file %s: %s", path, reason)
    return articles, skipped
