"""Uploads: one file from the browser becomes an article file, safely or not at all.

The name is sanitised (no path, no hidden file, only the article file kinds of
:data:`~diploqa.articles.ARTICLE_SUFFIXES`, short enough for any file system), the size is the
indexer's article limit (a stored upload is never skipped later), the bytes must give at least
one article read by the reader for its kind (the indexer's), identical bytes already present
are reported instead of stored twice, and an existing file is never overwritten. Nothing here
needs Gradio.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..articles import ARTICLE_SUFFIXES, Article, SkippedFile, article_files, reader_for
from ..articles.csv_columns import CsvColumns
from ..config import MAX_ARTICLE_BYTES, ReadLimits
from ..errors import ArticlesError, DiploqaError
from . import messages

#: Largest accepted upload, passed to Gradio's ``max_file_size``; uploads are checked
#: against the server's article limit (:class:`~diploqa.config.ReadLimits`, this value unless
#: ``DIPLOQA_MAX_ARTICLE_BYTES`` says otherwise).
MAX_UPLOAD_BYTES = MAX_ARTICLE_BYTES
#: Longest file-name stem kept for an upload, in characters and in UTF-8 bytes (file systems
#: allow 255 bytes; room is left for "-999" and the suffix).
MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 200

_UNSAFE_CHARS = re.compile(r"[^\w\-. ()]+")
_DOTS = re.compile(r"\.{2,}")

UploadKind = Literal["saved", "renamed", "duplicate", "rejected"]

_ONLY_SUFFIXES = messages.only_suffixes(ARTICLE_SUFFIXES)


@dataclass(frozen=True)
class UploadOutcome:
    """What happened to one uploaded file.

    Attributes:
        name: the name the file was uploaded with.
        kind: ``saved``, ``renamed`` (saved under another name), ``duplicate`` (identical
            content already there, nothing written) or ``rejected``.
        saved_as: the file name written in the articles folder, else None.
        message: one bilingual line for the user.
    """

    name: str
    kind: UploadKind
    saved_as: str | None
    message: str


def sanitize_filename(name: str) -> str:
    """A safe file name for the articles folder, or ValueError with a readable reason.

    Only the last path component is kept (so ``../x.txt`` becomes ``x.txt``); characters
    other than letters (umlauts included), digits, space, ``-_.()`` become ``_``; runs of
    dots collapse; leading dots, spaces and dashes go (no hidden files); the suffix must be
    one of :data:`~diploqa.articles.ARTICLE_SUFFIXES`; the stem is cut to
    ``MAX_NAME_CHARS`` characters and ``MAX_NAME_BYTES`` UTF-8 bytes. NUL and control
    characters become ``_``.
    """
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    base = _DOTS.sub(".", _UNSAFE_CHARS.sub("_", base))
    base = " ".join(base.split()).lstrip(". -_")
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in ARTICLE_SUFFIXES:
        raise ValueError(_ONLY_SUFFIXES)
    stem = stem[:MAX_NAME_CHARS]
    while len(stem.encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.strip(" .")
    if not stem:
        raise ValueError(messages.INVALID_NAME_TEXT)
    return f"{stem}.{suffix.lower()}"


def find_identical(folder: Path, data: bytes) -> str | None:
    """The id of an article file with exactly these bytes, if there is one."""
    digest = hashlib.sha256(data).digest()
    for path in article_files(folder):
        try:
            if path.stat().st_size == len(data) and (
                hashlib.sha256(path.read_bytes()).digest() == digest
            ):
                return path.relative_to(folder).as_posix()
        except OSError:
            continue
    return None


def _write_new(folder: Path, name: str, data: bytes) -> str:
    """Write ``data`` under ``name`` or, if taken, ``name-2``, ``name-3`` …; never overwrite.

    The file appears complete or not at all: it is written under a hidden temporary name
    (ignored by the article loader) and then hard-linked, which fails if the name exists.
    """
    stem, suffix = name.rsplit(".", 1)
    tmp = folder / f".upload-{os.getpid()}-{threading.get_ident()}.tmp"
    tmp.write_bytes(data)
    try:
        for n in range(1, 1000):
            candidate = name if n == 1 else f"{stem}-{n}.{suffix}"
            if Path(candidate).name != candidate:  # sanitize_filename guarantees this
                raise DiploqaError(f"refusing to write outside the articles folder: {candidate}")
            try:
                os.link(tmp, folder / candidate)  # fails on any existing entry, symlinks too
            except FileExistsError:
                continue
            return candidate
        raise DiploqaError(f"too many files named like {name}")
    finally:
        tmp.unlink(missing_ok=True)


def _shown_name(name: str | Path) -> str:
    """The name as uploaded, for messages (escaped when rendered)."""
    return str(name)


def _check_name_and_size(name: str | Path, size: int, limits: ReadLimits) -> str | UploadOutcome:
    """The safe file name, or the rejection if the name or the size is not acceptable."""
    shown = _shown_name(name)
    try:
        safe = sanitize_filename(str(name))
    except ValueError as err:
        return UploadOutcome(shown, "rejected", None, f"{shown}: {err}")
    max_bytes = limits.max_article_bytes  # the indexer's limit: else skipped there
    if size > max_bytes:
        limit = max_bytes / (1024 * 1024)
        return UploadOutcome(shown, "rejected", None, messages.too_large(shown, size, limit))
    return safe


def _check_readable(
    safe: str, data: bytes, limits: ReadLimits, csv_columns: CsvColumns | None
) -> None:
    """Raise :class:`ArticlesError` ``"<why>"`` unless the reader for the file's kind (the
    indexer's, with the CSV columns the index is built with) finds at least one article in
    ``data``; a file of records may also hold records that cannot be used (the indexer skips
    those with a warning)."""
    reader = reader_for(safe, csv_columns)
    if reader is None:  # sanitize_filename only lets article suffixes through
        raise ArticlesError(_ONLY_SUFFIXES)
    try:
        items = list(reader.read_stream(io.BytesIO(data), safe, limits=limits))
    except ArticlesError as err:
        raise ArticlesError(str(err).removeprefix(f"{safe}: ")) from err
    if not any(isinstance(item, Article) for item in items):
        skipped = [item for item in items if isinstance(item, SkippedFile)]
        more = f", and {len(skipped) - 1} more" if len(skipped) > 1 else ""
        raise ArticlesError(f"{skipped[0].reason}{more}" if skipped else "no article")


def _store(
    articles_dir: Path,
    shown: str,
    safe: str,
    data: bytes,
    limits: ReadLimits,
    csv_columns: CsvColumns | None,
) -> UploadOutcome:
    """Store checked bytes unless they are not an article or are already there."""
    try:
        _check_readable(safe, data, limits, csv_columns)
    except ArticlesError as err:
        return UploadOutcome(shown, "rejected", None, messages.not_an_article(shown, err))
    existing = find_identical(articles_dir, data) if articles_dir.is_dir() else None
    if existing is not None:
        message = messages.already_there(shown, existing)
        return UploadOutcome(shown, "duplicate", None, message)
    try:
        articles_dir.mkdir(parents=True, exist_ok=True)
        saved = _write_new(articles_dir, safe, data)
    except (OSError, DiploqaError) as err:
        reason = getattr(err, "strerror", None) or err
        return UploadOutcome(shown, "rejected", None, messages.not_saved(shown, reason))
    kind: UploadKind = "saved" if saved == shown else "renamed"
    return UploadOutcome(shown, kind, saved, messages.saved(shown, saved))


def save_upload(
    articles_dir: Path,
    name: str,
    data: bytes,
    limits: ReadLimits | None = None,
    csv_columns: CsvColumns | None = None,
) -> UploadOutcome:
    """Validate one uploaded file and store it in the articles folder.

    Checks, in order: the name (suffix, sanitising), the size, that it reads as an article
    (the same reader and ``limits`` as the index build, so a stored upload is never skipped
    later; a file of records needs one usable record), and that the same bytes are not already
    there. Never overwrites an existing file. ``csv_columns``: the columns the index reads
    CSV files with (``--csv-columns``, or those its manifest recorded).
    """
    limits = limits or ReadLimits()
    checked = _check_name_and_size(name, len(data), limits)
    if isinstance(checked, UploadOutcome):
        return checked
    return _store(Path(articles_dir), _shown_name(name), checked, data, limits, csv_columns)


def save_uploaded_path(
    articles_dir: Path,
    path: str | Path,
    limits: ReadLimits | None = None,
    csv_columns: CsvColumns | None = None,
) -> UploadOutcome:
    """Like :func:`save_upload` for a file Gradio stored; its base name is the upload's name.

    Name and size are checked before the file is read, so a huge upload is never loaded.
    """
    path = Path(path)
    limits = limits or ReadLimits()
    try:
        checked = _check_name_and_size(path.name, path.stat().st_size, limits)
        if isinstance(checked, UploadOutcome):
            return checked
        data = path.read_bytes()
    except OSError as err:
        message = messages.unreadable_upload(path.name, err.strerror or err)
        return UploadOutcome(path.name, "rejected", None, message)
    return _store(Path(articles_dir), path.name, checked, data, limits, csv_columns)
