"""Load German news articles from a folder and clean away scraping debris.

Pipeline per file: bytes -> :func:`decode_bytes` -> :func:`parse_article` (header lines at
the top, then :func:`clean_text`) -> :class:`Article`. :func:`load_articles` walks a folder
and turns files it cannot use into :class:`SkippedFile` entries plus a warning.

Choices and why:

* **Debris is data-driven** (:data:`RULES`). A "line" rule must match the *whole* stripped
  line, an "inline" rule removes a narrow fragment such as ``(Foto: AFP)``. Anchoring keeps
  real sentences: "Mehr zum Thema Sanktionen sagte Lawrow nichts." or "Das Foto zeigt
  Kerry." never fullmatch a label or credit pattern. Losing a real sentence is worse than
  keeping a stray label, so every rule is narrow and tested with look-alike sentences.
* **Section labels** such as "Das Wichtigste in Kürze" and "Mehr zum Thema" are removed:
  they are page furniture that carries no content. Real sub-headings ("Man will in
  Kontakt bleiben") stay because no rule names them.
* **Bylines stay** ("Von Julian Hans, Moskau"): they are true statements about the article
  and a user may ask who wrote it. Agency credit lines ("anr/Reuters/dpa"), photo credits
  and author boxes are removed; they are not prose. Agency credits do not set the outlet
  (Reuters is not the publisher).
* **Repeated captions**: a line of at most 300 characters that equals an earlier kept line,
  or (if it is at least 30 characters long) appears word-aligned inside an earlier kept
  line, is dropped and the first occurrence kept. The length floor protects short
  sub-headings that happen to occur inside a paragraph.
* **Lines without any letter or digit** ("***", "---", a lone bullet) are dropped.
* **Bullets** "•", "▪", "●", "◦", "·" and "* " at line start become "- ": one marker for
  the chunker, sentence text untouched.
* **Title**: a ``title:`` header wins; otherwise the first line with a letter or digit
  (Markdown ``#``/``>``/``-`` markers and ``*``/``_`` emphasis stripped). Lines over 120
  characters are usually a whole lead paragraph glued to the top, so the first sentence is
  used, cut at a word boundary with "…" if it is still too long.
* **Headers** are only read at the very top (blank lines and a ``---`` front-matter fence are
  allowed between them). ``date``/``url`` need no colon because their values are
  recognisable (a date token, an http(s) URL); a colon-less ``title``/``source`` must be
  spelled in lower case so a sentence starting with "Title"/"Source" is not eaten. In the
  colon-less date form the rest of the line is article text (seed 000 glues its first
  paragraph onto ``date 2016-10``); a ``date:`` line with a colon is a pure header line.
  ``DD.MM.YYYY`` is normalised to ``YYYY-MM-DD``.
* **Outlet** priority: ``source:`` header, then a rule that identifies the outlet (page
  chrome is specific to one site), then the ``url`` domain.
* **Encodings**: UTF-8 (BOM stripped), UTF-16 with BOM, cp1252, latin-1. Before accepting
  anything, known binary signatures (PNG, JPEG, GIF, PDF, ZIP, ELF, gzip), NUL bytes and a
  control-character share above 10 % reject the file as binary, because latin-1 accepts any
  byte sequence.
* **Cleaning repeats until nothing changes** (at most a few passes), because a removal can
  expose a new match (a caption becomes a duplicate once its inline credit is gone). This
  makes :func:`clean_text` idempotent by construction.
* **Hostile input**: files over ``config.max_article_bytes()`` (2 MB, ``DIPLOQA_MAX_ARTICLE_BYTES``)
  are skipped as "too large" without being read; FIFOs and devices are skipped as "not a
  regular file". Cleaning is linear in the file size (the repeated-caption check uses an index,
  the title search looks at the first 1000 characters), so a 2 MB file cleans in about a second.
* File ids keep the file system's spelling; suffixes ``.txt``/``.md`` are matched case-
  insensitively; hidden files and folders (leading ".") are ignored; symlinked folders are
  not followed (no cycles).
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from diploqa import config
from diploqa.errors import ArticlesError

__all__ = [
    "RULES",
    "Article",
    "Rule",
    "SkippedFile",
    "check_articles_dir",
    "clean_text",
    "decode_bytes",
    "load_articles",
    "parse_article",
    "read_article",
    "source_hash",
]

_log = logging.getLogger("diploqa")

ARTICLE_SUFFIXES = (".txt", ".md")
#: Bump when a change to the cleaning or header rules changes what a file becomes: articles
#: kept from an index (see :attr:`Article.source_hash`) are then cleaned again.
CLEANING_VERSION = 1
TITLE_MAX_CHARS = 120
DUPLICATE_MAX_CHARS = 300
CONTAINED_MIN_CHARS = 30
BINARY_CONTROL_SHARE = 0.10


@dataclass(frozen=True)
class Article:
    """One cleaned article.

    Attributes:
        id: Path relative to the articles folder, POSIX separators.
        title: Header title or the first meaningful line (shortened if long).
        text: Cleaned full text including the headline line; chunk offsets index into it.
        date: Date from a ``date`` header, e.g. ``"2016-10"``.
        outlet: Publisher from a ``source`` header, a debris rule or the URL domain.
        url: URL from a ``url`` header.
        content_hash: sha256 hex of ``title + "\\n" + (date or "") + "\\n" + text``.
        source_hash: sha256 hex of the file's bytes and :data:`CLEANING_VERSION`, so that an
            update can take an unchanged file's article from the index instead of cleaning
            it again (cleaning is most of an incremental update's time); empty if unknown.
    """

    id: str
    title: str
    text: str
    date: str | None
    outlet: str | None
    url: str | None
    content_hash: str
    source_hash: str = ""


@dataclass(frozen=True)
class SkippedFile:
    """A file :func:`load_articles` could not use.

    Attributes:
        path: Path relative to the articles folder, POSIX separators.
        reason: Human-readable reason, e.g. ``"not valid text (binary data)"``.
    """

    path: str
    reason: str


@dataclass(frozen=True)
class Rule:
    """One debris pattern.

    Attributes:
        name: Short identifier used in tests and docs.
        pattern: Compiled regex. Scope "line": the whole stripped line must fullmatch and
            is removed. Scope "inline": every match is deleted from the line.
        scope: ``"line"`` or ``"inline"``.
        outlet: Outlet implied by a match (site-specific page chrome), if any.
    """

    name: str
    pattern: re.Pattern[str]
    scope: Literal["line", "inline"]
    outlet: str | None = None


def _line(name: str, regex: str, outlet: str | None = None) -> Rule:
    return Rule(name, re.compile(regex, re.IGNORECASE), "line", outlet)


def _inline(name: str, regex: str) -> Rule:
    return Rule(name, re.compile(regex, re.IGNORECASE), "inline")


_CREDIT_WORD = r"(?:fotos?|bild(?:er)?|grafik|video|quelle)"
_AGENCY = r"(?:dpa|afp|ap|reuters|rtr|kna|epd|sid|apa|sda|ddp|dapd)"

RULES: tuple[Rule, ...] = (
    _line("skip_link", r"(?:direkt )?zum inhalt(?: springen)?|zur navigation(?: springen)?"),
    _line("sz_home_link", r"zur sz-startseite", outlet="Süddeutsche Zeitung"),
    _line("zeit_author_box", r"©\s*zeit online\b.*", outlet="ZEIT ONLINE"),
    _line("author_box", r".{0,300}\bzur autorenseite"),
    _line(
        "related_links",
        r"(?:lesen sie )?mehr zum thema:?|lesen sie (?:auch|mehr):?|meistgelesene?(?: artikel)?"
        r"|das könnte sie auch interessieren|weitere artikel|(?:zurück )?zur startseite",
    ),
    _line("section_label", r"das wichtigste in kürze|auf einen blick"),
    _line(
        "promo",
        r"jetzt (?:entdecken|lesen|testen|abonnieren)|gutscheine:?|anzeige|werbung"
        r"|newsletter(?: jetzt)? abonnieren|abonnieren|weiterlesen|mehr lesen",
    ),
    _line(
        "social",
        r"(?:artikel )?teilen|twittern|facebook|twitter|whatsapp|e-mail|drucken|merken"
        r"|kommentieren|feedback|kommentare?(?: \(\d+\))?|\d+ kommentare?",
    ),
    _line("photo_credit", _CREDIT_WORD + r"\s*:\s*[^.!?]{1,80}\.?"),
    _line("copyright_credit", r"©\s*[^.!?]{1,80}"),
    _line(
        "agency_credit",
        r"(?:[a-zäöü]{1,6}\s*/\s*)*" + _AGENCY + r"(?:\s*/\s*[a-zäöü]{1,10})*"
        r"|mit material (?:von|der) [^.!?]{1,80}",
    ),
    _line("reading_time", r"lesezeit:?\s*(?:ca\.\s*)?\d+\s*(?:min\.?|minuten)"),
    _line("symbols_only", r"[\W_]*"),
    _inline("photo_credit_parens", r"\s*\(" + _CREDIT_WORD + r"\s*:\s*[^()]{1,80}\)"),
    _inline("trailing_photo_credit", r"(?<=[.!?\"“”»])\s+(?:foto|bild)\s*:\s*[^.!?]{1,80}$"),
)
_LINE_RULES = tuple(rule for rule in RULES if rule.scope == "line")
_INLINE_RULES = tuple(rule for rule in RULES if rule.scope == "inline")

# --- character normalisation -------------------------------------------------------------
_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad\ud800-\udfff]")
_NBSP = re.compile(r"[\u00a0\u2007\u202f]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[^\S\n]+")
_BULLET = re.compile(r"^(?:[•▪●◦·]\s*|\*\s+)")
_BLANK_RUNS = re.compile(r"\n{3,}")
_NOT_ALNUM = re.compile(r"[\W_]")  # exactly the characters for which str.isalnum() is False
_MAX_PASSES = 5
_MAX_CANDIDATES = 64
#: Only this many characters of a long first line are searched for its first sentence end
#: (the title is cut to ``TITLE_MAX_CHARS`` anyway; a search over a whole 2 MB line without
#: a sentence end is quadratic).
_TITLE_SCAN_CHARS = 1000


def _normalise_chars(raw: str) -> str:
    """Line endings, invisible/control characters, odd spaces, tabs, NFC."""
    text = _LINE_BREAKS.sub("\n", raw)
    text = _INVISIBLE.sub("", text)
    text = _NBSP.sub(" ", text.replace("\t", " "))
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))


def _normalise_line(line: str) -> str:
    return _SPACES.sub(" ", line).strip()


def _contains_words(big: str, small: str) -> bool:
    """True if ``small`` occurs in ``big`` with word boundaries on both sides."""
    start = big.find(small)
    while start != -1:
        end = start + len(small)
        before_ok = start == 0 or not big[start - 1].isalnum()
        after_ok = end == len(big) or not big[end].isalnum()
        if before_ok and after_ok:
            return True
        start = big.find(small, start + 1)
    return False


class _Kept:
    """The lines kept so far in a cleaning pass, with an index for :meth:`is_repeat`.

    Comparing every line with every earlier line is quadratic: a hostile 2 MB file of short
    distinct lines took minutes. Instead, each kept line longer than ``CONTAINED_MIN_CHARS``
    is indexed by the first ``CONTAINED_MIN_CHARS`` characters at each of its word starts
    (position 0 and every position after a non-alphanumeric character, exactly where
    :func:`_contains_words` accepts a match). A line can only occur word-aligned in a kept
    line that is indexed under its own first ``CONTAINED_MIN_CHARS`` characters, so only
    those candidates are checked, at most ``_MAX_CANDIDATES`` of them (the earliest): a real
    caption is repeated a few times, never hundreds. Both passes of :func:`_clean` see the same
    candidates in the same order, so cleaning stays idempotent.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._seen: set[str] = set()
        self._starts: dict[int, list[int]] = {}

    def append(self, line: str) -> None:
        self.lines.append(line)
        if not line or line in self._seen:
            return
        self._seen.add(line)
        if len(line) <= CONTAINED_MIN_CHARS:
            return
        number = len(self.lines) - 1
        last = len(line) - CONTAINED_MIN_CHARS
        for start in (0, *(m.end() for m in _NOT_ALNUM.finditer(line, 0, last))):
            found = self._starts.setdefault(hash(line[start : start + CONTAINED_MIN_CHARS]), [])
            if len(found) < _MAX_CANDIDATES and (not found or found[-1] != number):
                found.append(number)

    def is_repeat(self, line: str) -> bool:
        """The line equals a kept line, or (≥ 30 characters) occurs word-aligned in one."""
        if len(line) > DUPLICATE_MAX_CHARS:
            return False
        if line in self._seen:
            return True
        if len(line) < CONTAINED_MIN_CHARS:
            return False
        for number in self._starts.get(hash(line[:CONTAINED_MIN_CHARS]), ()):
            kept = self.lines[number]
            if len(kept) > len(line) and _contains_words(kept, line):
                return True
        return False


def _clean_once(raw: str) -> tuple[str, str | None]:
    """One cleaning pass; returns the text and the outlet implied by matched rules."""
    outlet: str | None = None
    kept = _Kept()
    for raw_line in _normalise_chars(raw).split("\n"):
        line = _BULLET.sub("- ", _normalise_line(raw_line))
        for rule in _INLINE_RULES:
            line = _normalise_line(rule.pattern.sub("", line))
        if not line:
            kept.append("")
            continue
        matched = next((r for r in _LINE_RULES if r.pattern.fullmatch(line)), None)
        if matched is not None:
            outlet = outlet or matched.outlet
        elif not kept.is_repeat(line):
            kept.append(line)
    return _BLANK_RUNS.sub("\n\n", "\n".join(kept.lines)).strip("\n"), outlet


def _clean(raw: str) -> tuple[str, str | None]:
    """Run :func:`_clean_once` until the text stops changing."""
    text, outlet = _clean_once(raw)
    for _ in range(_MAX_PASSES):
        again, more = _clean_once(text)
        outlet = outlet or more
        if again == text:
            break
        text = again
    return text, outlet


def clean_text(raw: str) -> str:
    """Remove debris and normalise whitespace and characters (no header parsing).

    Args:
        raw: Decoded article text.

    Returns:
        Cleaned text: stripped lines, paragraphs separated by exactly one blank line, no
        ``\\r``, no zero-width or control characters, NFC. Empty if nothing is left.
    """
    return _clean(raw)[0]


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
    """Split ``value`` into (ISO date, rest) if it starts with a date token."""
    match = _DATE.match(value)
    if match is None:
        return None
    if match["iso"]:
        date = match["iso"]
    else:
        date = f"{match['y']}-{int(match['m']):02d}-{int(match['d']):02d}"
    return date, value[match.end() :].strip()


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
            if token is not None:
                fields.setdefault("date", token[0])
                if token[1] and not has_colon:
                    return fields, [token[1], *lines[i + 1 :]]
            elif has_colon:
                if value:
                    fields.setdefault("date", value)
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


# --- titles and outlets ------------------------------------------------------------------
_MARKDOWN_PREFIX = re.compile(r"^(?:#{1,6}|>|-)\s*")
_SENTENCE_END = re.compile(r"(\S+?)[.!?][\"'»«“”)]*\s+(?=[\"'„»«“(]?[A-ZÄÖÜ0-9])")
_ABBREVIATIONS = frozenset({"Dr", "Prof", "Nr", "St", "bzw", "ca", "vgl", "z.B", "u.a", "etc"})
_OUTLET_DOMAINS = {
    "sueddeutsche.de": "Süddeutsche Zeitung",
    "zeit.de": "ZEIT ONLINE",
    "spiegel.de": "DER SPIEGEL",
    "faz.net": "Frankfurter Allgemeine Zeitung",
    "welt.de": "WELT",
    "tagesschau.de": "tagesschau.de",
    "srf.ch": "SRF",
    "nzz.ch": "Neue Zürcher Zeitung",
    "dw.com": "Deutsche Welle",
}


def _first_sentence(line: str) -> str:
    for match in _SENTENCE_END.finditer(line):
        word = match.group(1)
        if not (word.isdigit() or len(word) == 1 or word in _ABBREVIATIONS):
            return line[: match.end()].strip()
    return line


def _shorten(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–") + "…"


def _derive_title(text: str) -> str:
    """First line with a letter or digit, shortened to a headline."""
    for line in text.split("\n"):
        candidate = _MARKDOWN_PREFIX.sub("", line).strip("*_ ")
        if any(ch.isalnum() for ch in candidate):
            if len(candidate) > TITLE_MAX_CHARS:
                candidate = _shorten(_first_sentence(candidate[:_TITLE_SCAN_CHARS]))
            return candidate
    return ""


def _outlet_from_url(url: str) -> str | None:
    host = urlsplit(url if "://" in url else "//" + url).hostname
    if not host:
        return None
    host = host.removeprefix("www.")
    for domain, name in _OUTLET_DOMAINS.items():
        if host == domain or host.endswith("." + domain):
            return name
    return host


# --- public API --------------------------------------------------------------------------
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
    text, rule_outlet = _clean("\n".join(body))
    if not text:
        raise ArticlesError(f"{article_id}: empty after cleaning")
    title = fields.get("title") or _derive_title(text)
    date = fields.get("date")
    url = fields.get("url")
    outlet = fields.get("source") or rule_outlet or (_outlet_from_url(url) if url else None)
    payload = f"{title}\n{date or ''}\n{text}"
    content_hash = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return Article(article_id, title, text, date, outlet, url, content_hash)


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


def _decode_8bit(data: bytes) -> str:
    """UTF-8 (BOM stripped), else cp1252, else latin-1 (which accepts any byte)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_bytes(data: bytes) -> str:
    """Decode file bytes: UTF-8 (BOM stripped), UTF-16 with BOM, cp1252, else latin-1.

    Args:
        data: Raw file content.

    Returns:
        The decoded text (not yet cleaned).

    Raises:
        ArticlesError: If the data looks binary or a UTF-16 file is malformed.
    """
    if data.startswith(_BINARY_MAGIC):
        raise ArticlesError(_BINARY_ERROR)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise ArticlesError(f"not valid text (broken UTF-16: {err.reason})") from err
    elif b"\x00" in data:
        raise ArticlesError(_BINARY_ERROR)
    else:
        text = _decode_8bit(data)
    if _looks_binary(text):
        raise ArticlesError(_BINARY_ERROR)
    return text


def _relative_id(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _too_large(size: int, limit: int) -> str:
    mb = 1024 * 1024
    return (
        f"too large ({size / mb:.1f} MB; articles over {limit / mb:.1f} MB are skipped, "
        "see DIPLOQA_MAX_ARTICLE_BYTES)"
    )


def source_hash(data: bytes) -> str:
    """:attr:`Article.source_hash` of a file's bytes."""
    return hashlib.sha256(f"diploqa-cleaning-{CLEANING_VERSION}\0".encode() + data).hexdigest()


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
    article_id = _relative_id(path, root)
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
    try:
        raw = decode_bytes(data)
    except ArticlesError as err:
        raise ArticlesError(f"{article_id}: {err}") from err
    return dataclasses.replace(parse_article(raw, article_id), source_hash=digest)


def _article_paths(root: Path) -> list[Path]:
    """All non-hidden ``*.txt``/``*.md`` files below ``root``, sorted by id."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found.extend(
            Path(dirpath, name)
            for name in filenames
            if not name.startswith(".") and name.lower().endswith(ARTICLE_SUFFIXES)
        )
    return sorted(found, key=lambda p: _relative_id(p, root))


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
    paths = _article_paths(root)
    if not paths:
        raise ArticlesError(f"No .txt or .md article files found in {root}")
    return paths


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
        warnings on the ``"diploqa"`` logger. A file with the same title, date and cleaned
        text as an earlier one (by id) is skipped as a copy of it. If every file is skipped,
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
        article_id = _relative_id(path, root)
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
