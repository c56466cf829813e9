"""A question with everything that shapes its answer, checked once (:class:`Query`).

Every surface asks through this one value: Python (:meth:`diploqa.Index.search`), the CLI
(``diploqa search``), the JSON API (``/api/search``), the web page, its Gradio API and MCP. So
every surface takes every parameter, and the rules (what a valid ``k`` is, how a question is
cleaned, what an empty filter means) are written here only. :meth:`Query.from_params` and
:meth:`Query.to_params` translate to and from URL parameters, so the JSON API and links to a
search share one parser.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .errors import QueryError
from .filters import SearchFilter

#: Questions longer than this are cut; the model reads at most 512 tokens anyway.
MAX_QUERY_CHARS = 2000
#: Passages returned when a caller names no number.
DEFAULT_K = 5
#: The orders a search can return: by relevance, or by date (newest first, undated last;
#: the ranks stay relevance ranks).
SORTS = ("relevance", "date")

Sort = Literal["relevance", "date"]


def clean_query(query: object) -> str:
    """Validate and normalise a question; raise :class:`QueryError` with a readable reason."""
    if not isinstance(query, str):
        raise QueryError(f"the question must be text, not {type(query).__name__}")
    # Controls, format characters, line/paragraph separators and lone surrogates (which no
    # encoder can take: the tokenizer raised TypeError on them) become spaces.
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch for ch in query
    )
    text = " ".join(text.split())[:MAX_QUERY_CHARS]
    if not text:
        raise QueryError("the question is empty: type a question")
    return text


def check_k(k: object, name: str = "k") -> int:
    """``k`` must be a whole number ≥ 1 (very large values are capped by the index size)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        if isinstance(k, float) and k.is_integer():
            k = int(k)
        else:
            raise QueryError(f"{name} must be a whole number ≥ 1, not {k!r}")
    if k < 1:
        raise QueryError(f"{name} must be a whole number ≥ 1, not {k}")
    return int(k)


def per_article_limit(value: object, default: int | None) -> object:
    """A web surface's per-article limit: absent (None or empty) is the server's ``default``,
    0 is no limit, anything else the limit (checked by :class:`Query`)."""
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise QueryError(
                f"per_article must be a whole number ≥ 1 (0: no limit), not {value!r}"
            ) from None
    if not isinstance(value, bool) and isinstance(value, (int, float, np.integer)) and value == 0:
        return None
    return value


def _text_or_none(value: object) -> object:
    """Blank text means "not given"; other values are left for the filter to check."""
    if isinstance(value, str):
        return value.strip() or None
    return value


def _date_or_none(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _text_or_none(value)


def _names(value: object) -> object:
    """An outlet or outlets as a list (read once: a generator may be given), else as given
    for the filter to reject."""
    if value is None or isinstance(value, str):
        return [value] if value else []
    return list(value) if isinstance(value, Iterable) else value


@dataclass(frozen=True)
class Query:
    """What to search for and how: the question and every parameter of a search.

    Made with the constructor, which checks and normalises every field (raising
    :class:`~diploqa.errors.QueryError` with a readable reason), so a ``Query`` that exists is
    valid. Equal queries give equal answers on the same index.

    Attributes:
        question: the question, German or English (controls removed, spaces collapsed, cut
            at :data:`MAX_QUERY_CHARS`).
        k: how many passages (capped by what the index holds).
        outlet: only these outlets (case-insensitive, whole words; empty: all). A name or a
            list of names may be given.
        since, until: only articles dated in this range (inclusive; ISO dates of any
            precision such as ``"2016"`` or ``"2016-10-14"``, or ``datetime.date``, kept as
            ISO text); articles without a date are left out by either.
        source: only article ids (``Hit.source``) matching this glob, e.g. ``"sz/*"``.
        per_article: at most this many passages of one article (None: no limit).
        sort: ``"relevance"``, or ``"date"``: newest first, undated last; the ranks stay
            relevance ranks.
    """

    question: str
    k: int = DEFAULT_K
    outlet: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    source: str | None = None
    per_article: int | None = None
    sort: Sort = "relevance"
    #: The checked filter (None: every article), made once here for the index to apply.
    filter: SearchFilter | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "question", clean_query(self.question))
        put(self, "k", check_k(self.k))
        if self.per_article is not None:
            put(self, "per_article", check_k(self.per_article, "per_article"))
        since, until = _date_or_none(self.since), _date_or_none(self.until)
        source, outlets = _text_or_none(self.source), _names(self.outlet)
        put(self, "filter", SearchFilter.make(outlets, since, until, source))
        put(self, "outlet", tuple(name.strip() for name in outlets if name.strip()))
        put(self, "since", since)
        put(self, "until", until)
        put(self, "source", source)
        if self.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}")

    @classmethod
    def of(cls, query: Query | str, k: object = DEFAULT_K, **fields: Any) -> Query:
        """``query`` itself if it is a Query (then nothing else may be given), else the Query
        of these arguments: the two ways every search function may be called."""
        if isinstance(query, Query):
            if fields or not (k is DEFAULT_K or k == DEFAULT_K):
                raise TypeError("give k and the other parameters inside the Query, not beside it")
            return query
        return cls(query, k, **fields)  # type: ignore[arg-type]

    @classmethod
    def from_params(
        cls,
        params: Mapping[str, Any],
        *,
        per_article: int | None = None,
        max_k: int | None = None,
    ) -> Query:
        """The Query of URL parameters: ``q``, ``k``, ``outlet`` (repeatable), ``since``,
        ``until``, ``source``, ``per_article`` and ``sort``. ``params`` is a mapping of text
        (a list for a repeated one, or Starlette's ``QueryParams``).

        Args:
            per_article: the limit when the parameter is absent (a server's default);
                ``per_article=0`` asks for no limit.
            max_k: the most passages a caller may ask for (a server's limit).

        Raises:
            QueryError: a parameter is missing or invalid, as the constructor checks them.
        """
        values = {name: _last(params, name) for name in _PARAMS}
        k: object = values["k"]
        if k is None:
            k = DEFAULT_K
        elif isinstance(k, str):
            try:
                k = int(k)
            except ValueError:
                raise QueryError(f"k must be a whole number ≥ 1, not {k!r}") from None
        if max_k is not None and isinstance(k, int) and k > max_k:
            raise QueryError(f"k must be at most {max_k}, not {k}")
        return cls(
            values["q"] if values["q"] is not None else "",
            k,
            outlet=_all(params, "outlet"),
            since=values["since"],
            until=values["until"],
            source=values["source"],
            per_article=per_article_limit(values["per_article"], per_article),  # type: ignore[arg-type]
            sort=values["sort"] or "relevance",
        )

    def to_params(self) -> dict[str, str | list[str]]:
        """This query as URL parameters (:meth:`from_params` reads them back to an equal
        Query whatever its default limit: ``per_article`` is always given, 0 for none)."""
        params: dict[str, str | list[str]] = {"q": self.question, "k": str(self.k)}
        if self.outlet:
            params["outlet"] = list(self.outlet)
        for name in ("since", "until", "source"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        params["per_article"] = str(self.per_article or 0)
        params["sort"] = self.sort
        return params


#: URL parameter names, in the order of the fields they fill.
_PARAMS = ("q", "k", "outlet", "since", "until", "source", "per_article", "sort")


def _all(params: Mapping[str, Any], name: str) -> list[Any]:
    if hasattr(params, "getlist"):
        return list(params.getlist(name))
    value = params.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]


def _last(params: Mapping[str, Any], name: str) -> Any:
    found = _all(params, name)
    return found[-1] if found else None
