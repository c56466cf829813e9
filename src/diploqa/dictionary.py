"""English ↔ German word translations from a Ding-format dictionary (Debian's ``trans-de-en``).

English questions over German articles share few words with them, so BM25 barely helps them.
Looking up each English question word in a bilingual dictionary gives German words BM25 can
match ("sanctions" → "Sanktionen", "ceasefire" → "Waffenruhe"); :mod:`diploqa.lexical` scores
them. The same entries read the other way give English words for a German question's words
(by their stem: "Menschen" → "mensch" → people, human), for the English articles of a mixed
archive.

The dictionary (25 MB of text, GPL-2+) is read from the system at run time, never shipped.
Parsing it takes seconds and 100 MB, so it is parsed once into a small SQLite file in the cache
folder (named after the source file's path, size and mtime and :data:`PARSER_VERSION`); a
search then looks up only its own words there (tens of microseconds). Without the dictionary,
or when the cache cannot be written, there are simply no translations.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from .config import DictionarySettings
from .files import one_at_a_time, replacing

log = logging.getLogger(__name__)

#: Bump when :func:`parse_ding` changes what it extracts (or the table what it holds); cached
#: tables are then rebuilt.
PARSER_VERSION = 2

_ANNOTATION = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|<[^>]*>")
_PLACEHOLDERS = ("sb./sth.", "sth.", "sb.")
_SEPARATOR = "\t"


def _clean(text: str) -> str:
    """Without ``{f}``, ``[pol.]``, ``(zwischen jdm.)``, ``<abbreviations>``; spaces collapsed."""
    return " ".join(_ANNOTATION.sub(" ", text).split())


def parse_ding(lines: Iterable[str]) -> dict[str, set[str]]:
    """English single words → German words or two-word phrases, from Ding-format lines.

    A line is ``German :: English``; each side has ``|``-separated sub-entries (the headword,
    its plural or inflections, then phrases) that correspond one to one, and ``;``-separated
    synonyms within a sub-entry. Lines whose sub-entries do not pair up only use their first.
    Longer German phrases and English phrases are left out: a question word maps to words.
    """
    table: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        if line.startswith("#") or "::" not in line:
            continue
        german, english = line.rstrip("\n").split("::", 1)
        german_parts, english_parts = german.split("|"), english.split("|")
        if len(german_parts) != len(english_parts):
            german_parts, english_parts = german_parts[:1], english_parts[:1]
        for german_part, english_part in zip(german_parts, english_parts, strict=True):
            terms = [_clean(t) for t in german_part.split(";")]
            terms = [t for t in terms if t and len(t.split()) <= 2]
            if not terms:
                continue
            for word in english_part.split(";"):
                word = _clean(word).lower().removeprefix("to ")
                for placeholder in _PLACEHOLDERS:
                    word = word.replace(placeholder, "")
                word = word.strip()
                if word and len(word.split()) == 1:
                    table[word].update(terms)
    return dict(table)


def reverse_table(table: dict[str, set[str]]) -> dict[str, set[str]]:
    """German stems → the English words of the entries whose German side is that one word.
    The key is the word's German Snowball stem, lower-cased: the term the keyword index makes
    of it, which a question's word is looked up by ("Menschen" and "Mensch" alike)."""
    import Stemmer

    stemmer = Stemmer.Stemmer("german")
    reverse: dict[str, set[str]] = defaultdict(set)
    for english, germans in table.items():
        for german in germans:
            if german.isalpha():
                reverse[stemmer.stemWord(german.lower())].add(english)
    return dict(reverse)


class Dictionary:
    """Read-only lookups in a translation table built by :func:`build_table`; thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        uri = f"{path.resolve().as_uri()}?mode=ro"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._failed = False
        self._db.execute("SELECT english, german FROM translations LIMIT 1").fetchall()

    def translations(self, words: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """German terms for each of ``words`` (lower-case English) that the dictionary knows."""
        return self._lookup("SELECT english, german FROM translations WHERE english", words)

    def english(self, stems: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """English words for each of ``stems`` (German words' stems, see
        :func:`reverse_table`) that the dictionary knows."""
        return self._lookup("SELECT stem, english FROM german WHERE stem", stems)

    def _lookup(self, select: str, keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
        unique = sorted(set(keys))
        if not unique:
            return {}
        marks = ",".join("?" * len(unique))
        with self._lock:
            if self._failed:
                return {}
            try:
                rows = self._db.execute(f"{select} IN ({marks})", unique).fetchall()
            except sqlite3.Error as exc:  # the file was damaged after opening: carry on without
                log.warning("Dictionary table %s not readable (%s)", self.path, exc)
                self._failed = True
                return {}
        return {key: tuple(value.split(_SEPARATOR)) for key, value in rows}

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _table_name(source: Path) -> str:
    """Cache file name: changes with the source's path, size, mtime and the parser version.

    The version leads the name, so a table replaces only older tables of its own version
    (of a dictionary file that changed): two installed versions sharing a cache folder each
    keep theirs instead of rebuilding it in turn. A version 1 table (``ding-<path>-<hash>``)
    is left in place."""
    stat = source.stat()
    where = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    what = f"{stat.st_size}:{stat.st_mtime_ns}:{PARSER_VERSION}"
    return f"ding-v{PARSER_VERSION}-{where}-{hashlib.sha256(what.encode()).hexdigest()[:12]}.sqlite"


def _read_lines(source: Path) -> Iterator[str]:
    with source.open(encoding="utf-8", errors="replace") as lines:
        yield from lines


def build_table(source: Path, cache: Path) -> Path:
    """The translation table of ``source`` in ``cache``, built first if not there yet.

    Written under a temporary name and renamed into place, so concurrent processes never see
    half a table, by one process at a time (the others wait, then read it); older tables of
    the same source are removed.

    Raises:
        OSError: ``source`` cannot be read or ``cache`` cannot be written.
    """
    target = cache / _table_name(source)
    if target.is_file():
        return target
    with one_at_a_time(target):  # fails fast if cache cannot be written, before the parsing
        if not target.is_file():
            _write_table(source, target)
    for stale in cache.glob(target.name.rsplit("-", 1)[0] + "-*.sqlite"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


def _write_table(source: Path, target: Path) -> None:
    # A cache, rebuilt when lost: renamed in without syncing to disk.
    with replacing(target, fsync=False) as scratch:
        log.info("Indexing the dictionary %s once (a few seconds) into %s", source, target)
        table = parse_ding(_read_lines(source))
        with sqlite3.connect(scratch) as db:
            db.execute("CREATE TABLE translations (english TEXT PRIMARY KEY, german TEXT) "
                       "WITHOUT ROWID")  # fmt: skip
            db.executemany(
                "INSERT INTO translations VALUES (?, ?)",
                ((en, _SEPARATOR.join(sorted(de))) for en, de in sorted(table.items())),
            )
            db.execute("CREATE TABLE german (stem TEXT PRIMARY KEY, english TEXT) WITHOUT ROWID")
            reverse = reverse_table(table)
            db.executemany(
                "INSERT INTO german VALUES (?, ?)",
                ((de, _SEPARATOR.join(sorted(en))) for de, en in sorted(reverse.items())),
            )
        db.close()


def open_dictionary(source: Path | None, cache: Path) -> Dictionary | None:
    """The dictionary at ``source`` (``None``: switched off), or ``None`` if there is none.

    Never raises: a missing dictionary is logged at info level, one that cannot be read or
    cached with a warning; either way search just runs without translations.
    """
    if source is None:
        return None
    if not source.is_file():
        log.info("No dictionary at %s: English questions are not translated for BM25", source)
        return None
    try:
        return Dictionary(build_table(source, cache))
    except (OSError, sqlite3.Error, UnicodeError) as exc:
        log.warning("Dictionary %s not usable (%s): English questions are not translated for "
                    "BM25", source, exc)  # fmt: skip
        return None


_opened: dict[DictionarySettings, Dictionary | None] = {}
_opening = threading.Lock()


def shared_dictionary(settings: DictionarySettings) -> Dictionary | None:
    """The dictionary ``settings`` name (``DIPLOQA_DICTIONARY``, its table in the cache
    folder), opened once per process for each file and cache folder."""
    with _opening:
        if settings not in _opened:
            _opened[settings] = open_dictionary(settings.path, settings.cache)
        return _opened[settings]
