"""Filters as Milvus expressions, evaluated inside the search, and the scalar fields of each
row they test (one module, so that both sides compare the same way).

An article-id glob with character classes, which ``like`` cannot express, is not compiled
(:func:`filter_expression` gives None): the caller sends the list of allowed rows instead
(also inside the search).
"""

from __future__ import annotations

import re

import numpy as np

from ...articles import Article
from ...filters import SearchFilter, date_range

#: Date ordinals of articles without a date (dates are ordinals 1 … 3,652,059).
NO_DATE_START, NO_DATE_END = 10**9, -1
#: The fields of a row that belongs to no article (a store filled by the contract tests).
NO_FIELDS = {"article_id": "", "outlet": "", "date_start": NO_DATE_START, "date_end": NO_DATE_END}
_WORDS = re.compile(r"\w+")


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


def _glob_to_like(pattern: str) -> str | None:
    """The ``like`` pattern of an ``fnmatch`` glob, None when it has a character class."""
    if "[" in pattern:
        return None
    return "".join("%" if ch == "*" else "_" if ch == "?" else like_literal(ch) for ch in pattern)


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


def filter_expression(wanted: SearchFilter) -> str | None:
    """The Milvus expression equal to ``wanted`` (same semantics as
    :meth:`SearchFilter.matches`), or None when the source glob has a character class."""
    parts: list[str] = []
    if wanted.outlets is not None:
        names = [f'outlet like "% {like_literal(" ".join(n))} %"' for n in wanted.outlets if n]
        parts.append("(" + " or ".join(names) + ")" if names else "row < 0")
    if wanted.since is not None:
        parts.append(f"date_end >= {wanted.since.toordinal()}")
    if wanted.until is not None:
        parts.append(f"date_start <= {wanted.until.toordinal()}")
    if wanted.since is not None or wanted.until is not None:
        parts.append(f"date_end >= 0 and date_start < {NO_DATE_START}")
    if wanted.source is not None:
        like = _glob_to_like(wanted.source)
        if like is None:
            return None
        parts.append(f'article_id like "{like}"')
    return " and ".join(parts) if parts else None


def rows_expression(rows: np.ndarray) -> str:
    """The expression allowing exactly ``rows``."""
    return f"row in [{','.join(map(str, rows.tolist()))}]"
