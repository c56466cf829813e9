"""The JSON API of standing questions and their Atom feeds (plain Starlette routes).

* ``GET /api/alerts``: the caller's standing questions with unread counts;
  ``POST /api/alerts`` (JSON ``{"name", "q", "outlet", "since", "until", "source",
  "webhook"}``) follows one and answers 201 with its feed URL (secret included) and webhook
  secret, shown this once; ``GET``/``DELETE /api/alerts/<id>``.
* ``GET /api/alerts/<id>/answers[?unread=1]``, ``POST /api/alerts/<id>/read`` (JSON
  ``{"answers": [ids]}``, or nothing: all), ``POST /api/alerts/<id>/feed-key`` (a new feed
  secret; the old URL stops at once).
* ``GET /feeds/<id>.atom``: with ``?key=<feed secret>`` (what a feed reader is given), or the
  owner's ``Authorization: Bearer`` token, or on a server without accounts.

Who calls comes from the access gate (:data:`~diploqa.auth.middleware.PRINCIPAL`): behind
``--users`` the signed-in user, each seeing only their own questions (another's id answers
404, as a missing one does); without accounts the local user; with ``--public`` nobody (the
API answers 403: following needs accounts). Bodies must be JSON (``Content-Type:
application/json``), which a form on another site cannot send.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..auth.middleware import PRINCIPAL, Access
from ..errors import DiploqaError, QueryError
from ..query import Query
from .feeds import MEDIA_TYPE, atom_feed
from .model import LOCAL_USER, NotFound
from .store import AlertStore, Forbidden

log = logging.getLogger(__name__)

_MAX_BODY = 16_384


@dataclass(frozen=True)
class Caller:
    user: str
    role: str


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def alert_routes(
    store: AlertStore,
    current: Callable[[], Mapping[str, str] | None],
    access: Access | None,
    on_change: Callable[[], object] | None = None,
) -> list[Route]:
    """The routes on ``store``. ``current``: the live index's article hashes (what a new
    question does not count as new); ``access``: the server's (None: no accounts, the local
    user; ``Access.public()``: nobody may follow)."""

    def caller(request: Request) -> Caller:
        if access is None:
            return Caller(LOCAL_USER, "editor")
        if access.users is None:
            raise _Refused(403, "following questions needs accounts: serve with --users")
        principal = request.scope.get(PRINCIPAL)
        if principal is None:  # the gate lets no one through unidentified; be sure
            raise _Refused(401, "sign in required")
        return Caller(principal.user, principal.role)

    async def list_or_add(request: Request) -> Response:
        who = caller(request)
        if request.method == "GET":
            found = await run_in_threadpool(store.questions, who.user)
            return JSONResponse({"alerts": [q.record() for q in found]})
        data = await _json(request)
        params = {k: data.get(k) for k in ("q", "outlet", "since", "until", "source")}
        params = {k: v for k, v in params.items() if v not in (None, "", [])}
        query = Query.from_params(params)
        followed = await run_in_threadpool(
            store.add, data.get("name") or query.question, query, who.user,
            data.get("webhook") or None, who.role, current(),
        )  # fmt: skip
        if on_change is not None:
            on_change()
        body = {"alert": followed.question.record(), "feed_url": followed.feed_url}
        if followed.webhook_secret:
            body["webhook_secret"] = followed.webhook_secret
        return JSONResponse(body, status_code=201)

    async def one(request: Request) -> Response:
        who, question_id = caller(request), request.path_params["id"]
        if request.method == "DELETE":
            await run_in_threadpool(store.remove, question_id, who.user)
            return JSONResponse({"removed": question_id})
        found = await run_in_threadpool(store.question, question_id, who.user)
        return JSONResponse(found.record())

    async def answers(request: Request) -> Response:
        who, question_id = caller(request), request.path_params["id"]
        unread = request.query_params.get("unread", "") in ("1", "true", "yes")
        found = await run_in_threadpool(store.answers, question_id, who.user, unread)
        return JSONResponse({"answers": [a.record() for a in found]})

    async def mark_read(request: Request) -> Response:
        who, question_id = caller(request), request.path_params["id"]
        data = await _json(request)
        ids = data.get("answers")
        if ids is not None and not (
            isinstance(ids, list) and all(isinstance(i, int) and not isinstance(i, bool)
                                          for i in ids)
        ):  # fmt: skip
            raise _Refused(400, "answers must be a list of answer ids (whole numbers)")
        marked = await run_in_threadpool(store.mark_read, question_id, who.user, ids)
        return JSONResponse({"marked": marked})

    async def feed_key(request: Request) -> Response:
        who, question_id = caller(request), request.path_params["id"]
        await _json(request)
        key = await run_in_threadpool(store.new_feed_key, question_id, who.user)
        return JSONResponse({"feed_url": f"/feeds/{question_id}.atom?key={key}"})

    async def feed(request: Request) -> Response:
        question_id = request.path_params["id"]
        key = request.query_params.get("key", "")
        principal = request.scope.get(PRINCIPAL)
        if key:
            question = await run_in_threadpool(store.feed_question, question_id, key)
        elif access is None or principal is not None:
            user = LOCAL_USER if access is None else principal.user
            question = await run_in_threadpool(store.question, question_id, user)
        else:
            raise _Refused(401, "this feed needs its key (?key=…) or a token")
        if question is None:
            raise NotFound(f"no feed {question_id!r}, or its key is wrong or revoked")
        if access is not None and access.users is not None:  # a removed user's feed stops
            users = access.users.current()
            if users is None or users.role_of(question.user) is None:
                raise NotFound(f"no feed {question_id!r}, or its key is wrong or revoked")
        found = await run_in_threadpool(store.answers, question.id, None)
        body = atom_feed(question, found, str(request.url))
        return Response(body, media_type=MEDIA_TYPE, headers={"Cache-Control": "no-store"})

    def guarded(handler):
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except _Refused as err:
                return _error(err.status, str(err))
            except NotFound as err:
                return _error(404, str(err))
            except Forbidden as err:
                return _error(403, str(err))
            except (QueryError, DiploqaError) as err:
                return _error(400, str(err))
            except Exception:
                log.exception("alerts: %s %s failed", request.method, request.url.path)
                return _error(500, "unexpected error: see the server log")

        return run

    return [
        Route("/api/alerts", guarded(list_or_add), methods=["GET", "POST"]),
        Route("/api/alerts/{id}", guarded(one), methods=["GET", "DELETE"]),
        Route("/api/alerts/{id}/answers", guarded(answers), methods=["GET"]),
        Route("/api/alerts/{id}/read", guarded(mark_read), methods=["POST"]),
        Route("/api/alerts/{id}/feed-key", guarded(feed_key), methods=["POST"]),
        Route("/feeds/{id}.atom", guarded(feed), methods=["GET"]),
    ]


async def _json(request: Request) -> dict:
    """The JSON object of a POST (an empty body: ``{}``); any other content type is refused,
    so no form on another site can make the call."""
    if "application/json" not in request.headers.get("content-type", ""):
        raise _Refused(415, "send JSON (Content-Type: application/json)")
    body = await request.body()
    if len(body) > _MAX_BODY:
        raise _Refused(413, "the request body is too large")
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _Refused(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _Refused(400, "the body must be a JSON object")
    return data


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
