"""The two stages of ``diploqa serve`` as one ASGI app: the JSON endpoint at once, the page
and everything else once Gradio is imported and the page built (:class:`StagedApp`); until
then a 503 "starting" answer (:mod:`.server` puts the access gate in front).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse

from . import messages

#: Routes the first stage answers (they need no Gradio).
EARLY_PATHS = frozenset({"/api/search"})

_STARTING_PAGE = f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta http-equiv="refresh" content="1">
<title>diploqa</title></head>
<body style="font-family: system-ui, sans-serif; margin: 4em auto; max-width: 30em">
<p>{messages.STARTING_TEXT}</p></body></html>
"""


class StagedApp:
    """The ASGI app of :func:`~.server.serve`: the JSON endpoint at once, everything once built.

    ``build`` runs on a daemon thread (a shutdown does not wait for an import that is half
    done); when it returns, the full app's lifespan is entered in the server's event loop, so
    Gradio's startup events (its queue, the MCP session manager) run as they would at launch.
    If ``build`` fails, ``on_failure`` gets the error (the server then stops); once the full
    app answers, ``on_ready`` runs (``serve`` starts background index updates there: Python
    3.11 fails with "AST constructor recursion depth mismatch" when two threads build ASTs at
    once, and importing Gradio does, so nothing else starts until it is done).
    """

    def __init__(
        self,
        early: Starlette,
        build: Callable[[], Starlette],
        on_failure: Callable[[BaseException], None],
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self.early = early
        self._build = build
        self._on_failure = on_failure
        self._on_ready = on_ready
        self._full: Starlette | None = None
        self._stack = contextlib.AsyncExitStack()
        self._task: asyncio.Task | None = None

    @property
    def ready(self) -> bool:
        """Whether the full app answers every route."""
        return self._full is not None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self._full
        if app is None:
            if scope["type"] == "http" and scope["path"] in EARLY_PATHS:
                app = self.early
            elif scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1013})  # try again later
                return
            else:
                await _starting(scope)(scope, receive, send)
                return
        await app(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._task = asyncio.create_task(self._take_over())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._task is not None and not self._task.done():
                    self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._stack.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _take_over(self) -> None:
        loop = asyncio.get_running_loop()
        built: asyncio.Future = loop.create_future()

        def run() -> None:
            try:
                result = self._build()
            except BaseException as err:  # reported in the loop, below
                loop.call_soon_threadsafe(_settle, built, None, err)
            else:
                loop.call_soon_threadsafe(_settle, built, result, None)

        threading.Thread(target=run, name="diploqa-build-page", daemon=True).start()
        try:
            full = await built
            await self._stack.enter_async_context(full.router.lifespan_context(full))
        except asyncio.CancelledError:
            raise
        except BaseException as err:
            self._on_failure(err)
            return
        self._full = full
        if self._on_ready is not None:
            self._on_ready()


def _settle(future: asyncio.Future, result, error: BaseException | None) -> None:
    if future.done():  # cancelled by a shutdown meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _starting(scope) -> HTMLResponse | JSONResponse:
    """503 while the page is built: a self-reloading page for a browser, JSON otherwise."""
    headers = {"Retry-After": "1", "Cache-Control": "no-store"}
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    if scope.get("method") == "GET" and "text/html" in accept:
        return HTMLResponse(_STARTING_PAGE, status_code=503, headers=headers)
    message = "diploqa is starting: the page and the Gradio API follow in a few seconds"
    return JSONResponse({"error": message}, status_code=503, headers=headers)
