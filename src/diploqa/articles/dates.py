"""Publication dates as ISO strings: ``2016``, ``2016-10`` or ``2016-10-14``.

Every reader (header lines, HTML metadata, JSON and CSV fields) hands the date it found, as
written, to :func:`normalise_date`; :attr:`Article.date <diploqa.articles.Article.date>` is the
result and :attr:`Article.date_text <diploqa.articles.Article.date_text>` keeps what was
written, for display. Filters compare ``Article.date`` as a string, so it must only ever be one
of the three ISO forms.

Choices and why:

* **Precision is kept, never invented**: "Okt. 2016" is ``2016-10``, not ``2016-10-01``.
* **The date as written wins over time zones**: "2016-10-14T23:30:00-05:00" is
  ``2016-10-14``, the day the outlet printed, not the UTC day.
* **Forms**: ISO (also with ``/`` and with a time), ``14.10.2016`` (two-digit years: 00–68 are
  20xx, 69–99 19xx, as POSIX ``strptime``), "14. Oktober 2016", "14. Okt. 2016", "Okt. 2016",
  "October 14, 2016", "14 Oct 2016", RFC 2822 ("Fri, 14 Oct 2016 08:00:00 +0200"), compact
  ``20161014`` and Unix timestamps (10 digits seconds, 13 digits milliseconds, UTC). A weekday
  in front ("Freitag, 14. Oktober 2016"), a label ("Stand:", "veröffentlicht am", "published")
  and a time behind ("08:00 Uhr", "| 08:00 MESZ") are allowed. US numeric dates
  ("10/14/2016") are not read: "03/04/2016" is ambiguous.
* **Validity**: the day must exist (no 31 April), the year is 1800–2199; anything else is
  None, and the reader keeps the string only as ``date_text``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

YEAR_MIN, YEAR_MAX = 1800, 2199

_MONTHS = {
    # German (with Austrian "Jänner") and English names; abbreviations with or without dot.
    "januar": 1, "jänner": 1, "january": 1, "jan": 1, "jän": 1,
    "februar": 2, "feber": 2, "february": 2, "feb": 2,
    "märz": 3, "maerz": 3, "march": 3, "mär": 3, "mrz": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}  # fmt: skip
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")(?![a-zäöü])\.?"
_WEEKDAY = (
    r"(?:(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|mo|di|mi|do|fr|sa|so)\.?,?\s+)"
)
_LABEL = (
    r"(?:(?:stand|datum|date|veröffentlicht|erschienen|published|erstellt|vom|am|on)"
    r"(?:\s+(?:am|on|vom))?\s*:?\s*)"
)
_TIME = (
    r"(?:(?:\s*[,|–-]\s*|\s+|T)(?:um\s+|at\s+)?\d{1,2}(?:[:.]\d{2}){1,2}(?:\.\d+)?"
    r"(?:\s*(?:uhr|h|am|pm))?)?"
    r"(?:\s*(?:z|utc|gmt|mez|mesz|cet|cest|[+-]\d{2}:?\d{2}))?"
)

_FORMS = (
    # 2016, 2016-10, 2016-10-14, 2016/10/14
    r"(?P<iy>\d{4})(?:(?P<isep>[-/])(?P<im>\d{1,2})(?:(?P=isep)(?P<id>\d{1,2}))?)?",
    # 14.10.2016, 14.10.16
    r"(?P<nd>\d{1,2})\.\s?(?P<nm>\d{1,2})\.\s?(?P<ny>\d{4}|\d{2})(?!\d)",
    # 14. Oktober 2016, 14 Oct 2016, 14. Okt. 2016
    rf"(?P<dd>\d{{1,2}})\.?\s*(?P<dm>{_MONTH}),?\s*(?P<dy>\d{{4}})",
    # October 14, 2016; Oct. 14th 2016
    rf"(?P<mm>{_MONTH})\s*(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<my>\d{{4}})",
    # Okt. 2016, Oktober 2016
    rf"(?P<om>{_MONTH})\s*(?P<oy>\d{{4}})",
)
_DATE = "(?:" + "|".join(f"(?:{form})" for form in _FORMS) + ")"
_FULL = re.compile(rf"\s*{_LABEL}?{_WEEKDAY}?{_DATE}{_TIME}\s*\.?\s*", re.IGNORECASE)
#: In running text: named months or full numeric dates only (a bare "2016" or "10" in a
#: sentence is not a publication date).
_IN_TEXT = re.compile(
    rf"(?<![\w.]){_WEEKDAY}?(?:(?:{_FORMS[1]})|(?:{_FORMS[2]})|(?:{_FORMS[3]})|(?:{_FORMS[4]})"
    r"|(?:(?P<ty>\d{4})-(?P<tm>\d{2})-(?P<td>\d{2})))(?![\w])",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\s*(\d{8}|\d{10}|\d{13})\s*")


def _iso(year: int, month: int | None = None, day: int | None = None) -> str | None:
    """``YYYY[-MM[-DD]]`` if that date exists and the year is plausible, else None."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        return None
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _month(name: str) -> int:
    return _MONTHS[name.rstrip(".").lower()]


def _two_digit_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 69 else 1900
    return year


def _from_match(m: re.Match[str]) -> str | None:
    groups = m.groupdict()
    if groups.get("iy"):
        month = int(m["im"]) if m["im"] else None
        day = int(m["id"]) if m["id"] else None
        return _iso(int(m["iy"]), month, day)
    if groups.get("ny"):
        return _iso(_two_digit_year(m["ny"]), int(m["nm"]), int(m["nd"]))
    if groups.get("dy"):
        return _iso(int(m["dy"]), _month(m["dm"]), int(m["dd"]))
    if groups.get("my"):
        return _iso(int(m["my"]), _month(m["mm"]), int(m["md"]))
    if groups.get("oy"):
        return _iso(int(m["oy"]), _month(m["om"]))
    if groups.get("ty"):
        return _iso(int(m["ty"]), int(m["tm"]), int(m["td"]))
    return None


def _from_digits(digits: str) -> str | None:
    """``20161014``, or a Unix timestamp in seconds (10 digits) or milliseconds (13)."""
    if len(digits) == 8:
        return _iso(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    seconds = int(digits) / (1000 if len(digits) == 13 else 1)
    try:
        day = dt.datetime.fromtimestamp(seconds, dt.UTC).date()
    except (OverflowError, OSError, ValueError):
        return None
    return _iso(day.year, day.month, day.day)


def normalise_date(text: str | None) -> str | None:
    """The ISO form (``2016``, ``2016-10`` or ``2016-10-14``) of a date as written, or None.

    The whole string must be one date (with an optional weekday, label and time); see the
    module docstring for the forms read. ``normalise_date("14. Oktober 2016")`` is
    ``"2016-10-14"``, ``normalise_date("Okt. 2016")`` is ``"2016-10"``.
    """
    if not text or len(text) > 100:
        return None
    digits = _DIGITS.fullmatch(text)
    if digits is not None:
        return _from_digits(digits[1])
    match = _FULL.fullmatch(text)
    return _from_match(match) if match else None


def find_dates(text: str) -> Iterator[tuple[str, str]]:
    """The dates in running text, in order, as ``(ISO form, the words as written)``.

    Only unambiguous forms count here: named months ("14. Oktober 2016", "Okt. 2016"),
    ``14.10.2016`` and ``2016-10-14``; a bare year does not.
    """
    for match in _IN_TEXT.finditer(text):
        iso = _from_match(match)
        if iso is not None:
            yield iso, match[0].strip()


def find_date(text: str) -> tuple[str, str] | None:
    """The first of :func:`find_dates`, or None."""
    return next(find_dates(text), None)
