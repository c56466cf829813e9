"""A plain JSON HTTP endpoint for programs that do not speak Gradio (curl, JavaScript, other
services): ``GET /api/search?q=…&k=…&outlet=…&since=…&until=…&source=…&per_article=…&sort=…``.

It answers with ``{"question": …, "hits": [...]}``, each hit with the fields of the Gradio
``search_json`` endpoint; a bad request gets HTTP 400 and ``{"error": "…"}``, a server without
an index, or whose Milvus does not answer, 503 (try again later). Searches run in the web
server's thread pool, beside the page's queue.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..config import ServerSettings
from ..errors import DiploqaError, QueryError, StoreUnavailableError
from ..query import Query
from .handlers import MAX_K, NoIndexError, search_records
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
    """
    per_article = (server or holder.settings.server).passages_per_article

    def api_search(request: Request) -> JSONResponse:  # run in the thread pool (not async)
        try:
            query = Query.from_params(request.query_params, per_article=per_article, max_k=MAX_K)
            hits = search_records(holder, query)
        except QueryError as err:
            return _error(400, str(err))
        except (NoIndexError, StoreUnavailableError) as err:  # try again later
            return _error(503, str(err))
        except DiploqaError as err:
            return _error(400, str(err))
        except Exception:
            log.exception("search failed: %s", request.url.path)
            return _error(500, "unexpected error: see the server log")
        return JSONResponse({"question": query.question, "hits": hits})

    return [Route("/api/search", api_search, methods=["GET"])]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
