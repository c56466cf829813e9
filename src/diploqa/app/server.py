"""``diploqa serve``: bind, check who may connect, and serve in two stages.

Importing Gradio and building the page take most of a cold start (about 3 s of a quiet
machine's 5–6 s; docs/benchmarks.md), and the JSON endpoint needs neither. So the server
answers ``GET /api/search`` as soon as the index is loaded, while Gradio is imported and the
page built on a thread; until then every other route answers 503 ("starting", with
``Retry-After``), and a browser gets a page that reloads itself. Then the full app (the page,
the Gradio API and MCP, the JSON endpoint) takes over every route, its startup events run as
they would have at launch. The access gate sits in front of both stages.

Nothing here imports Gradio, so ``diploqa.app.serve`` is importable without the ``ui`` extra
until the page is built. Nothing here prints either: :func:`serve` raises what stops a start
(:class:`ServeError`), returns how the server ended (:class:`Stopped`) and hands every line
for the user to its callers (``diploqa serve`` prints them and picks the exit status).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from ..alerts import AlertService
from ..articles.csv_columns import CsvColumns, parse_csv_columns
from ..auth.middleware import Access, AccessGate
from ..config import FREE_LOGIN_FAILURES, LOGIN_BACKOFF_SECONDS, Settings
from ..errors import DiploqaError
from ..preload import Preload
from . import messages
from .api import json_routes
from .live import IndexHolder
from .page_texts import PageTexts, page_texts
from .staged import StagedApp
from .updater import Updater

log = logging.getLogger(__name__)

#: Hosts that are not reachable from the network.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Seconds a stopping server waits for a running index update to reach its next step.
STOP_GRACE_SECONDS = 15


class ServeError(DiploqaError):
    """The server cannot start (the address is taken, or the access settings do not allow
    it); nothing was loaded or served."""


@dataclass(frozen=True)
class Stopped:
    """How a server that ran ended.

    Attributes:
        failure: why building the page failed (the server then stopped at once), else None.
        cut_short: an index update was still running after :data:`STOP_GRACE_SECONDS`
            (loading the model, say); the index is as it was. A process should end at once
            (``os._exit``): a thread still inside OpenVINO at interpreter shutdown crashes it.
    """

    failure: BaseException | None = None
    cut_short: bool = False

    @property
    def problem(self) -> str | None:
        """The failure as one line for the user, else None."""
        if self.failure is None:
            return None
        if isinstance(self.failure, ImportError):
            return messages.ui_missing(self.failure.name or str(self.failure))
        return f"building the page failed: {self.failure}"


def _bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host:port`` (IPv6 when the host has a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without, a keep-alive client waited ~40 ms per
        # answer (a response in two segments, the second held until the delayed ACK).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, stopped gracefully by Ctrl-C or SIGTERM; afterwards it returns
    instead of raising the signal again (uvicorn's default), so :func:`serve` can stop a
    running index update and exit cleanly."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def _run(app, sock: socket.socket) -> None:
    """Serve ``app`` on an already bound socket until stopped (Ctrl-C, SIGTERM, or a failed
    page build, which sets ``should_exit``)."""
    # Open streams (a page's event source, an MCP session) would hold a graceful stop forever.
    settings = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3)
    server = _Server(settings)
    if isinstance(app, _Serving):
        app.bind_server(server)
    server.run(sockets=[sock])


def _page_builder(
    updater: Updater, access: Access | None, texts: PageTexts, alerts: AlertService | None
) -> Callable[[], Starlette]:
    """What the second stage runs: import Gradio, build the page(s) and the full app."""

    def build() -> Starlette:
        started = time.perf_counter()
        ui = importlib.import_module(".ui", __package__)
        signed = access is not None and access.users is not None
        demo = ui.create_app(
            updater, editing=access is None, sign_out=signed, texts=texts, alerts=alerts
        )
        editor = (
            ui.create_app(updater, sign_out=True, texts=texts, alerts=alerts) if signed else None
        )
        routes = alerts.routes(access) if alerts is not None else ()  # the standing questions'
        full = ui.server_app(demo, updater.holder, editor, routes)
        log.info("page ready after %.1f s", time.perf_counter() - started)
        return full

    return build


class _Serving:
    """The staged app with the access gate in front, and the way a failed build stops it."""

    def __init__(
        self,
        updater: Updater,
        access: Access | None,
        on_ready: Callable[[], None] | None = None,
        preload: Preload | None = None,
        texts: PageTexts | None = None,
        alerts: AlertService | None = None,
    ) -> None:
        early = Starlette(routes=json_routes(updater.holder))  # FastAPI comes with Gradio
        self.failure: BaseException | None = None
        self._server: _Server | None = None
        page = _page_builder(updater, access, texts or PageTexts(), alerts)
        preload = preload or Preload()

        def build() -> Starlette:
            preload.wait()  # the models first: they decide when the first answer comes
            return page()

        self.staged = StagedApp(early, build, self._failed, on_ready)
        self.app = self.staged if access is None else AccessGate(self.staged, access=access)

    def bind_server(self, server: _Server) -> None:
        self._server = server

    def _failed(self, err: BaseException) -> None:
        self.failure = err
        if self._server is not None:
            self._server.should_exit = True

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


def serve(
    index_dir: str | Path | None = None,
    articles_dir: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    watch: bool = False,
    users_file: str | Path | None = None,
    public: bool = False,
    allow_private_webhooks: bool = False,
    store: str | None = None,
    csv_columns: str | CsvColumns | None = None,
    notify: Callable[[str], object] | None = None,
    on_update: Callable[[str], object] | None = None,
    preload: Preload | None = None,
    settings: Settings | None = None,
    texts: PageTexts | None = None,
    page_file: str | Path | None = None,
) -> Stopped:
    """Start the web UI and block until it is stopped; returns how it ended.

    The address is bound first, so a taken port fails at once. The index (if there is one) is
    loaded before the server answers; ``/api/search`` answers from then on, the page a few
    seconds later (see :class:`StagedApp`). Without an index, or when articles changed since
    it was built, the server opens at once and builds in the background; the page shows the
    progress and the new index is swapped in when it is done (updates start once the page is
    built). ``watch``: also update the index whenever article files below ``articles_dir``
    change. ``store``: where the index lives (``--store``, see
    :func:`diploqa.index.load_index`).

    When the server stops, a running update stops at its next step (the index is left as it
    was); see :attr:`Stopped.cut_short`. ``csv_columns``: which columns of the CSV files are
    which field, for every build (``--csv-columns``).

    Access: with ``users_file`` everyone signs in (readers search, editors also change the
    archive; see :mod:`diploqa.auth`). Without it the server is open, so it binds loopback
    only, unless ``public``: then searching is open to all and editing is switched off.
    Standing questions (:mod:`diploqa.alerts`) are matched after every update; their webhooks
    reach private addresses only with ``allow_private_webhooks``.

    Lines for the user go to ``notify`` (notes and warnings: where it serves, what it
    watches, how exposed it is) and ``on_update`` (what each index update did); by default
    to the log.

    The page's title, description and examples: ``texts`` (``--title``, ``--about``,
    ``--examples``) over those of ``page_file`` (``--page-config``; default the
    :data:`~diploqa.app.page_texts.PAGE_FILE` in the index folder, if there is one); what
    neither sets, the archive gives (:mod:`diploqa.app.archive`).

    ``preload``: the model loads :func:`~diploqa.preload.start_preload` began; the page is
    built once they are done. ``settings``: what the folders, the store and everything the
    server, its builds and its watcher take default to (default :meth:`Settings.from_env()
    <diploqa.config.Settings.from_env>`).

    Raises:
        ServeError: the access settings refuse this address, or it cannot be bound.
        SettingsError: ``store`` or a ``DIPLOQA_*`` variable has a value it cannot take, or
            the page texts file cannot be read or holds what it may not.
    """
    notify = notify or log.info
    on_update = on_update or log.info
    settings = (settings or Settings.from_env()).overridden(
        index=index_dir, articles=articles_dir, store=store
    )
    index_dir, articles_dir = settings.paths.index, settings.paths.articles
    access = _access(host, users_file, public, notify, settings.server.session_minutes)
    texts = page_texts(index_dir, texts, page_file)
    csv_columns = parse_csv_columns(csv_columns)
    try:
        sock = _bind(host, port)
    except OSError as err:
        raise ServeError(f"cannot serve on {host}:{port}: {err.strerror or err}") from None
    holder = IndexHolder(index_dir, settings=settings)
    # a background build loads the model itself, and compares the articles with the index
    holder.load(model=False)
    updater = Updater(holder, articles_dir, csv_columns=csv_columns)
    alerts = AlertService.serving(settings, holder, allow_private_webhooks)

    def report(done) -> None:
        on_update(f"{holder.location.path}: {done.summary()}")

    stop = threading.Event()
    failure: BaseException | None = None
    try:
        with sock:

            def start_background() -> None:  # once the page is built (see StagedApp)
                updater.start_background(watch=watch, stop=stop, on_report=report)
                alerts.start()
                if watch:
                    notify(f"watching {articles_dir} for changes")

            serving = _Serving(updater, access, start_background, preload, texts, alerts)
            notify(f"diploqa: serving on http://{_url_host(host)}:{port}/")
            _run(serving, sock)
            failure = serving.failure
            if failure is not None:
                log.debug("building the page failed", exc_info=failure)
    finally:
        stop.set()
        alerts.close()
        finished = updater.close(timeout=STOP_GRACE_SECONDS)
    return Stopped(failure, cut_short=not finished)


def _access(
    host: str,
    users_file: str | Path | None,
    public: bool,
    notify: Callable[[str], object],
    session_minutes: int,
) -> Access | None:
    """Who may do what: accounts from ``users_file`` (a sign-in lasting ``session_minutes``),
    everyone a reader (``public``), or no checks at all (None), which is allowed on loopback
    only."""
    exposed = host not in LOCAL_HOSTS
    if users_file is not None and public:
        raise ServeError("--public and --users exclude each other: choose one")
    if users_file is not None:
        path = Path(users_file)
        access = Access.from_file(
            path, session_minutes * 60, free=FREE_LOGIN_FAILURES,
            base=LOGIN_BACKOFF_SECONDS[0], cap=LOGIN_BACKOFF_SECONDS[1],
        )  # fmt: skip
        if not access.users.current().accounts:
            raise ServeError(
                f"the users file {path} has no users: add one with "
                f"diploqa users add NAME --role editor --users {path}"
            )
        if exposed:
            notify(
                f"note: listening on {host} over plain HTTP: put a TLS reverse proxy in front "
                "so that passwords, tokens and session cookies do not cross the network in "
                "clear text (README, 'Serving a team')"
            )
        return access
    if public:
        if exposed:
            notify(
                f"warning: listening on {host} with --public: anyone who can reach it can "
                "search the archive (editing is switched off)"
            )
        return Access.public()
    if exposed:
        raise ServeError(
            f"refusing to serve on {host} without accounts: anyone who could reach it could "
            "upload articles and rebuild the index. Add a user with "
            "'diploqa users add NAME --role editor --users FILE' and start with --users FILE, "
            "or pass --public for a search-only server open to all"
        )
    return None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
