"""Filters as Milvus expressions, evaluated inside the search, and the scalar fields of each
row they test (one module, so that both sides compare the same way).

Milvus 2.3 servers know ``like`` for a prefix only (``"ab%"``, with ``_`` a plain character),
later ones and Milvus Lite any pattern. So what works on both is said without ``like``: a
prefix as a range of strings (:func:`prefix_expression`), the outlets as the list of the
index's outlets that match (``outlet in [...]``). A source glob that is not a prefix becomes a
``like`` where the engine knows general patterns (``full_like``); otherwise, and for a glob
with character classes, which ``like`` cannot express, :func:`filter_expression` gives None
and the caller sends the list of allowed rows instead (also inside the search).
"""

from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np

from ...articles import Article
from ...filters import SearchFilter, date_range

#: Date ordinals of articles without a date (dates are ordinals 1 … 3,652,059).
NO_DATE_START, NO_DATE_END = 10**9, -1
#: The fields of a row that belongs to no article (a store filled by the contract tests).
NO_FIELDS = {"article_id": "", "outlet": "", "date_start": NO_DATE_START, "date_end": NO_DATE_END}
_WORDS = re.compile(r"\w+")


def string_literal(text: str) -> str:
    """``text`` as a quoted Milvus string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def prefix_expression(field: str, prefix: str) -> str | None:
    """The values of ``field`` that start with ``prefix``, as a range of strings (Milvus
    compares strings byte by byte, in code point order); None where no range says it."""
    if not prefix:
        return f"{field} >= {string_literal('')}"
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last < 0xE000 or last > 0x10FFFF:
        return None
    after = prefix[:-1] + chr(last)
    return f"{field} >= {string_literal(prefix)} and {field} < {string_literal(after)}"


def like_literal(text: str) -> str:
    """``text`` inside a ``like "…"`` pattern, matching itself only."""
    out = []
    for ch in text:
        if ch in "%_":
            out.append("\\\\" + ch)
        elif ch in '"\\':
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _glob_expression(pattern: str, full_like: bool) -> str | None:
    """The expression of an ``fnmatch`` glob on ``article_id``: a name or a prefix without
    ``like``; another pattern as ``like`` where ``full_like``; None when it has a character
    class or the engine knows no such ``like``."""
    if "[" in pattern:
        return None
    wild = [i for i, ch in enumerate(pattern) if ch in "*?"]
    if not wild:
        return f"article_id == {string_literal(pattern)}"
    if wild == [len(pattern) - 1] and pattern.endswith("*"):
        found = prefix_expression("article_id", pattern[:-1])
        if found is not None:
            return f"({found})"
    if not full_like:
        return None
    like = "".join("%" if ch == "*" else "_" if ch == "?" else like_literal(ch) for ch in pattern)
    return f'article_id like "{like}"'


def outlet_words(outlet: str | None) -> str:
    """The outlet as the filter compares it: casefolded words between spaces."""
    words = _WORDS.findall(outlet.casefold()) if outlet else []
    return f" {' '.join(words)} " if words else ""


def date_fields(date: str | None) -> tuple[int, int]:
    """``(first, last)`` day ordinals of an article's date, or the no-date sentinels."""
    found = date_range(date) if date else None
    if found is None:
        return NO_DATE_START, NO_DATE_END
    return found[0].toordinal(), found[1].toordinal()


def row_fields(article: Article) -> dict:
    """The scalar fields of a row of ``article`` that :func:`filter_expression` tests."""
    start, end = date_fields(article.date)
    return {
        "article_id": article.id,
        "outlet": outlet_words(article.outlet),
        "date_start": start,
        "date_end": end,
    }


def _outlets_expression(
    wanted: tuple[tuple[str, ...], ...], outlets: Collection[str] | None, full_like: bool
) -> str | None:
    """``wanted`` outlet names: the index's ``outlets`` (their :func:`outlet_words`) that
    contain one, or (``outlets`` unknown) a ``like`` per name where ``full_like``."""
    names = [n for n in wanted if n]
    if outlets is not None:
        found = sorted(o for o in outlets if any(f" {' '.join(n)} " in o for n in names))
        return f"outlet in [{', '.join(map(string_literal, found))}]" if found else "row < 0"
    if not full_like:
        return None
    likes = [f'outlet like "% {like_literal(" ".join(n))} %"' for n in names]
    return "(" + " or ".join(likes) + ")" if likes else "row < 0"


def filter_expression(
    wanted: SearchFilter, outlets: Collection[str] | None = None, full_like: bool = True
) -> str | None:
    """The Milvus expression equal to ``wanted`` (same semantics as
    :meth:`SearchFilter.matches`), or None where it has none (see the module docstring).

    ``outlets``: the :func:`outlet_words` of every article's outlet in the index, when known;
    ``full_like``: whether the engine knows ``like`` patterns other than a prefix."""
    parts: list[str] = []
    if wanted.outlets is not None:
        found = _outlets_expression(wanted.outlets, outlets, full_like)
        if found is None:
            return None
        parts.append(found)
    if wanted.since is not None:
        parts.append(f"date_end >= {wanted.since.toordinal()}")
    if wanted.until is not None:
        parts.append(f"date_start <= {wanted.until.toordinal()}")
    if wanted.since is not None or wanted.until is not None:
        parts.append(f"date_end >= 0 and date_start < {NO_DATE_START}")
    if wanted.source is not None:
        found = _glob_expression(wanted.source, full_like)
        if found is None:
            return None
        parts.append(found)
    return " and ".join(parts) if parts else None


def rows_expression(rows: np.ndarray) -> str:
    """The expression allowing exactly ``rows``."""
    return f"row in [{','.join(map(str, rows.tolist()))}]"
