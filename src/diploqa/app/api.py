"""A plain JSON HTTP endpoint for programs that do not speak Gradio (curl, JavaScript, other
services): ``GET /api/search?q=…&k=…&outlet=…&since=…&until=…&source=…&sort=…``.

It answers with ``{"question": …, "hits": [...]}``, each hit with the fields of the Gradio
``search_json`` endpoint; a bad request gets HTTP 400 and ``{"error": "…"}``, a server without
an index, or whose Milvus does not answer, 503 (try again later). Searches run in the web
server's thread pool, beside the page's queue.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from .. import config
from ..errors import DiploqaError, QueryError, StoreUnavailableError
from .handlers import DEFAULT_K, MAX_K, NoIndexError, search_records
from .state import IndexHolder

log = logging.getLogger(__name__)


def json_api(holder: IndexHolder) -> APIRouter:
    """The routes, answering from ``holder``'s live index."""
    router = APIRouter()

    @router.get("/api/search")
    def api_search(
        request: Request,
        q: str = Query("", description="the question, German or English"),
        k: str = Query(str(DEFAULT_K), description=f"how many passages (1–{MAX_K})"),
        outlet: list[str] = Query([], description="only these outlets (repeatable)"),  # noqa: B008
        since: str = Query("", description="only articles dated from (2016, 2016-10, …)"),
        until: str = Query("", description="only articles dated until (inclusive)"),
        source: str = Query("", description="only article ids matching this glob"),
        sort: str = Query("relevance", description="relevance or date"),
    ) -> JSONResponse:
        try:
            number = int(k)
        except ValueError:
            return _error(400, f"k must be a whole number ≥ 1, not {k!r}")
        if number > MAX_K:
            return _error(400, f"k must be at most {MAX_K}, not {number}")
        try:
            hits = search_records(
                holder, q, number, outlet=outlet, since=since, until=until, source=source,
                sort=sort, per_article=config.passages_per_article(),
            )  # fmt: skip
        except QueryError as err:
            return _error(400, str(err))
        except (NoIndexError, StoreUnavailableError) as err:  # try again later
            return _error(503, str(err))
        except DiploqaError as err:
            return _error(400, str(err))
        except Exception:
            log.exception("search failed: %s", request.url.path)
            return _error(500, "unexpected error: see the server log")
        return JSONResponse({"question": " ".join(q.split()), "hits": hits})

    return router


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
