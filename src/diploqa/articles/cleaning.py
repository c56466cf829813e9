"""Clean scraping debris out of an article's text and find its title and outlet.

Scraped news pages carry page furniture (skip links, share buttons, photo credits, author
boxes, repeated captions) that would otherwise be chunked, embedded and shown as answers.
This module removes it, and nothing else: losing a real sentence is worse than keeping a
stray label.

Choices and why:

* **Debris is data-driven** (:data:`RULES`). A "line" rule must match the *whole* stripped
  line, an "inline" rule removes a narrow fragment such as ``(Foto: AFP)``. Anchoring keeps
  real sentences: "Mehr zum Thema Sanktionen sagte Lawrow nichts." or "Das Foto zeigt
  Kerry." never fullmatch a label or credit pattern. Losing a real sentence is worse than
  keeping a stray label, so every rule is narrow and tested with look-alike sentences.
* **Teaser links**: a whole line "Lesen Sie mehr: <headline>" (also "Lesen Sie auch",
  "Mehr zum Thema", "Siehe auch", with a leading "»") is a link to another article, which
  saved web pages often keep inside the article text. The headline part must not contain a
  sentence end, so "Lesen Sie mehr: Der Kreml sagte ab. Dann …" stays.
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
* **Title**: a ``title:`` header wins (see :mod:`diploqa.articles.readers`); otherwise the
  first line with a letter or digit (Markdown ``#``/``>``/``-`` markers and ``*``/``_``
  emphasis stripped). Lines over 120 characters are usually a whole lead paragraph glued to
  the top, so the first sentence is used, cut at a word boundary with "…" if it is still
  too long.
* **Cleaning repeats until nothing changes** (at most a few passes), because a removal can
  expose a new match (a caption becomes a duplicate once its inline credit is gone). This
  makes :func:`clean_text` idempotent by construction.
* **Hostile input**: cleaning is linear in the file size (the repeated-caption check uses an
  index, the title search looks at the first 1000 characters), so a 2 MB file cleans in
  about a second.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from ..sentences import first_sentence

TITLE_MAX_CHARS = 120
DUPLICATE_MAX_CHARS = 300
CONTAINED_MIN_CHARS = 30


# --- debris rules ------------------------------------------------------------------------
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
    _line(
        "teaser_link",
        r"(?:[»›>→▸]\s*)?(?:lesen sie (?:auch|mehr|hier)|mehr zum thema|mehr dazu|siehe auch"
        r"|auch interessant)\s*[:»›]\s*[^.!?]{1,150}[!?]?",
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
        r"(\()?(?:[a-zäöü]{1,6}\s*/\s*)*" + _AGENCY + r"(?:\s*/\s*[a-zäöü]{1,10})*(?(1)\))"
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


# --- titles and outlets ------------------------------------------------------------------
_MARKDOWN_PREFIX = re.compile(r"^(?:#{1,6}|>|-)\s*")
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
                candidate = _shorten(first_sentence(candidate[:_TITLE_SCAN_CHARS]))
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
