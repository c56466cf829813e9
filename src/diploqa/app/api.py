"""A plain JSON HTTP endpoint for programs that do not speak Gradio (curl, JavaScript, other
services): ``GET /api/search?q=…&k=…&outlet=…&since=…&until=…&source=…&per_article=…&sort=…``,
optionally ``&timeline=month&facets=outlet`` or ``&format=csv``.

It answers with ``{"question": …, "hits": [...]}``, each hit with the fields of the Gradio
``search_json`` endpoint; a bad request gets HTTP 400 and ``{"error": "…"}``, a server without
an index, or whose Milvus does not answer, 503 (try again later). Searches run in the web
server's thread pool, beside the page's queue.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..config import ServerSettings
from ..errors import DiploqaError, QueryError, StoreUnavailableError
from ..query import Query
from .handlers import MAX_K, NoIndexError, answer_record, export_results
from .live import IndexHolder

log = logging.getLogger(__name__)


def json_routes(holder: IndexHolder, server: ServerSettings | None = None) -> list[Route]:
    """The routes, answering from ``holder``'s live index with the ``server`` settings (default
    the holder's); add them to a Starlette or FastAPI app (``app.router.routes.extend(...)``).
    Plain Starlette, so that a starting server answers before FastAPI (half a second to import)
    is needed for the page.

    Parameters (:meth:`Query.from_params <diploqa.query.Query.from_params>`): ``q`` the
    question, German or English; ``k`` how many passages (1–20); ``outlet`` only these outlets
    (repeatable); ``since``/``until`` only articles dated from / until (inclusive; 2016,
    2016-10, …); ``source`` only article ids matching this glob; ``per_article`` at most this
    many passages of one article (absent: the server's default,
    ``DIPLOQA_PASSAGES_PER_ARTICLE``; 0: no limit); ``sort`` relevance or date.

    Beside the hits: ``timeline`` (``day``, ``week``, ``month``, ``year`` or ``auto``) adds
    the articles matching the question per period (``"timeline": [{"period", "start",
    "end", "articles"}]``, ``"interval"``, ``"undated"``, ``"imprecise"``); ``facets=outlet``
    adds them per outlet (``"facets": {"outlet": {name: count}}``); either adds ``"matched"``
    and ``"capped"`` (:func:`~.handlers.answer_record`). ``format`` ``csv`` or ``jsonl``
    answers with the hits as a file instead (:mod:`diploqa.export`); ``json`` is the default.
    """
    per_article = (server or holder.settings.server).passages_per_article

    def api_search(request: Request) -> Response:  # run in the thread pool (not async)
        params = request.query_params
        try:
            query = Query.from_params(params, per_article=per_article, max_k=MAX_K)
            fmt = (params.get("format") or "json").strip().lower()
            if fmt != "json":
                found = export_results(holder, query, fmt)
                disposition = f'attachment; filename="{found.name}"'
                headers = {"Content-Disposition": disposition}
                return Response(found.data, media_type=found.media_type, headers=headers)
            body = answer_record(holder, query, params.get("timeline"), params.getlist("facets"))
        except QueryError as err:
            return _error(400, str(err))
        except (NoIndexError, StoreUnavailableError) as err:  # try again later
            return _error(503, str(err))
        except DiploqaError as err:
            return _error(400, str(err))
        except Exception:
            log.exception("search failed: %s", request.url.path)
            return _error(500, "unexpected error: see the server log")
        return JSONResponse(body)

    return [Route("/api/search", api_search, methods=["GET"])]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
