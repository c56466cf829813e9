"""Links that reopen a search: the page's address carries the question and every filter.

The parameters are those of :meth:`Query.to_params <diploqa.query.Query.to_params>` and
:meth:`~diploqa.query.Query.from_params` (the JSON API's too), so a link and an API call read
the same; ``timeline`` adds the interval the chart was counted by. A link leaves out what is
at its default (``k``, the server's per-article limit, relevance order, the automatic
interval), so it stays short and readable: ``?q=…&since=2016&outlet=ZEIT+ONLINE&sort=date``.
It is relative (a query string only), so it holds wherever the page is mounted (``/`` or the
editors' ``/edit/``) and behind whatever host serves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ..errors import QueryError
from ..query import DEFAULT_K, Query
from ..timeline import check_interval

#: The parameter that carries the chart's interval (the JSON API's name for it).
INTERVAL_PARAM = "timeline"
#: The interval of a link that names none.
DEFAULT_INTERVAL = "auto"


def page_link(
    query: Query, interval: str = DEFAULT_INTERVAL, per_article: int | None = None
) -> str:
    """The query string (``?q=…``) that reopens ``query`` with the chart by ``interval``, on
    a server whose per-article limit is ``per_article`` (None: none)."""
    params: dict[str, Any] = query.to_params()
    if query.k == DEFAULT_K:
        del params["k"]
    if query.per_article == per_article:
        del params["per_article"]
    if query.sort == "relevance":
        del params["sort"]
    if interval != DEFAULT_INTERVAL:
        params[INTERVAL_PARAM] = interval
    return "?" + urlencode(params, doseq=True)


@dataclass(frozen=True)
class OpenedLink:
    """A page address read back.

    Attributes:
        query: the search it asks for, None where a parameter is invalid.
        interval: the chart's interval (:data:`DEFAULT_INTERVAL` where it names none or an
            invalid one).
        error: why the link cannot be asked as it is (None: it can).
        question, since, until, source: the texts as the link has them, for the page's
            fields where the link is invalid (nothing the user sent is lost).
    """

    query: Query | None
    interval: str = DEFAULT_INTERVAL
    error: str | None = None
    question: str = ""
    since: str = ""
    until: str = ""
    source: str = ""


def open_link(
    params: Mapping[str, Any], per_article: int | None = None, max_k: int | None = None
) -> OpenedLink | None:
    """The search a page address asks for (None: it asks none, there is no ``q``).
    ``per_article``: the server's limit where the link names none; ``max_k``: the most
    passages a link may ask for."""
    question = _text(params, "q")
    if not question.strip():
        return None
    texts = {name: _text(params, name) for name in ("since", "until", "source")}
    try:
        query = Query.from_params(params, per_article=per_article, max_k=max_k)
    except QueryError as err:
        return OpenedLink(None, DEFAULT_INTERVAL, str(err), question, **texts)
    return OpenedLink(query, _interval(_text(params, INTERVAL_PARAM)), None, query.question,
                      **texts)  # fmt: skip


def _interval(text: str) -> str:
    """The chart's interval a link names; the default where it names none or an unknown one
    (the chart's buttons change it; the search itself is not at fault)."""
    try:
        return check_interval(text or DEFAULT_INTERVAL)
    except QueryError:
        return DEFAULT_INTERVAL


def _text(params: Mapping[str, Any], name: str) -> str:
    """The last value of parameter ``name`` as text ("" where absent)."""
    if hasattr(params, "getlist"):
        found = params.getlist(name)
        return str(found[-1]) if found else ""
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return "" if value is None else str(value)
