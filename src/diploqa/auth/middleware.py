"""One ASGI middleware in front of everything the server answers: the page, its assets and
file routes, the Gradio API and MCP server, and ``/api/search``.

Sitting below the routing means a route added later (by us or by a Gradio upgrade) is
protected too, instead of each route having to remember a check. Who a request comes from:
an ``Authorization: Bearer`` token, else the session cookie set by ``POST /login``. Without
either, an API call gets 401 with a JSON message and a browser asking for a page is sent to
the sign-in form; no data is served either way.

Roles do not rely on hiding controls: readers reach only the search app (mounted at ``/``),
which has no upload, update or rebuild function at all; the editing app is mounted at
:data:`EDITOR_PATH`, and the middleware refuses that prefix (and Gradio's file-upload route)
to anyone but an editor.

Routes fall in four classes: sign-in and sign-out (answered here); editing (editors only);
feeds under :data:`FEED_PREFIX`, which a feed reader fetches with the feed's own secret in the
URL instead of credentials (passed on unidentified; the route checks the secret, and refuses
without one); everything else (any signed-in user). Whoever is identified is handed to the app
in the request's scope under :data:`PRINCIPAL`, so a route serves that user's data only.
"""

from __future__ import annotations

import html
import json
import logging
import math
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, quote

import anyio.to_thread
from argon2 import PasswordHasher

from .limiter import Backoff
from .sessions import COOKIE, SessionStore
from .users import UsersSource, password_hasher

log = logging.getLogger("diploqa.access")

#: Where the editing app is mounted (the reading app is at ``/``).
EDITOR_PATH = "/edit"
_LOGIN = {"/login", "/login/", f"{EDITOR_PATH}/login", f"{EDITOR_PATH}/login/"}
_LOGOUT = {"/logout", "/logout/", f"{EDITOR_PATH}/logout", f"{EDITOR_PATH}/logout/"}
#: Gradio's upload route stores files for an editing event; readers have no use for it.
_UPLOAD = "/gradio_api/upload"
#: Feeds (``/feeds/<id>.atom``): a feed reader brings the feed's secret, not an account.
FEED_PREFIX = "/feeds/"
#: Where the identified :class:`Principal` of a request is put in its ASGI scope.
PRINCIPAL = "diploqa.principal"
#: Paths answered to programs (JSON), never redirected to the sign-in page.
_API_PREFIXES = ("/api/", "/gradio_api", "/config", "/file=", f"{EDITOR_PATH}/gradio_api",
                 FEED_PREFIX)  # fmt: skip
_MAX_FORM_BYTES = 16_384


@dataclass(frozen=True)
class Principal:
    user: str
    role: str


@dataclass
class Access:
    """What the middleware checks against. ``users`` None: ``--public``, no accounts, everyone
    is an anonymous reader."""

    users: UsersSource | None
    sessions: SessionStore
    backoff: Backoff
    hasher: PasswordHasher

    @classmethod
    def from_file(cls, path: Path, session_seconds: float, **backoff) -> Access:
        """Load (and validate) the users file; raises UsersFileError."""
        return cls(UsersSource(path), SessionStore(session_seconds), Backoff(**backoff),
                   password_hasher())  # fmt: skip

    @classmethod
    def public(cls) -> Access:
        return cls(None, SessionStore(1), Backoff(), password_hasher())


class AccessGate:
    """The ASGI middleware (``server.add_middleware(AccessGate, access=…)``)."""

    def __init__(self, app, access: Access) -> None:
        self.app = app
        self.access = access
        self._broken: str | None = None  # the users file error last logged

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        path: str = scope["path"]
        if self.access.users is None:  # public: search only
            if _is_editing(path):
                await _reply(scope, send, 403, {"error": "editing is switched off on this server"})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and path in _LOGIN:
            await self._login(scope, receive, send)
            return
        if scope["type"] == "http" and path in _LOGOUT:
            await self._logout(scope, send)
            return
        principal, refusal = await self._identify(scope)
        if refusal is not None:
            status, message, headers = refusal
            await _reply(scope, send, status, {"error": message}, headers)
            return
        if principal is None:
            if scope["type"] == "http" and path.startswith(FEED_PREFIX):
                await self.app(scope, receive, send)  # the feed checks its own secret
                return
            if _wants_page(scope):
                target = "/login?next=" + quote(path, safe="/")
                await _redirect(send, target)
            else:
                await _reply(scope, send, 401, {"error": "sign in required"},
                             [(b"www-authenticate", b'Bearer realm="diploqa"')])  # fmt: skip
            return
        if principal.role != "editor" and _is_editing(path):
            await _reply(scope, send, 403, {"error": "editors only: you are signed in as a reader"})
            return
        if principal.role == "editor" and path in ("/", EDITOR_PATH) and _wants_page(scope):
            await _redirect(send, f"{EDITOR_PATH}/")
            return
        scope[PRINCIPAL] = principal
        await self.app(scope, receive, send)

    async def _identify(self, scope) -> tuple[Principal | None, tuple | None]:
        """The principal of a request, or a refusal ``(status, message, headers)``."""
        users = self.access.users.current()
        if users is None:
            if self._broken != self.access.users.error:
                self._broken = self.access.users.error
                log.error("refusing every request: %s", self._broken)
            return None, (503, "the server's users file is broken: see the server log", [])
        headers = _headers(scope)
        authorization = headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            address = _address(scope)
            wait = self.access.backoff.wait(f"addr:{address}")
            if wait > 0:
                return None, _too_many(wait)
            record, token_id = users.check_token(authorization[7:].strip())
            if record is None:
                known = users.tokens.get(token_id)
                owner = known.user if known else None
                shown = token_id or "malformed"
                log.warning("bad token for user %r (id %r) from %s", owner, shown, address)
                self.access.backoff.failed(f"addr:{address}")
                return None, (401, "invalid or revoked token", [])
            return Principal(record.user, record.role), None
        session_id = _cookie(headers.get("cookie", ""))
        session = self.access.sessions.get(session_id) if session_id else None
        role = users.role_of(session.user) if session else None
        return (Principal(session.user, role) if role else None), None

    async def _login(self, scope, receive, send) -> None:
        if scope["method"] == "GET":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            await _page(send, 200, _login_page(_safe_next(query.get("next", ["/"])[0])))
            return
        if scope["method"] != "POST":
            await _reply(scope, send, 405, {"error": "use GET or POST"})
            return
        body = await _read_body(receive)
        form = parse_qs(body.decode("utf-8", "replace")) if body is not None else {}
        name = form.get("username", [""])[0][:64]
        password = form.get("password", [""])[0]
        browser = "next" in form
        target = _safe_next(form.get("next", ["/"])[0])
        address = _address(scope)
        keys = (f"addr:{address}", f"user:{name}")
        wait = self.access.backoff.wait(*keys)
        if wait > 0:
            log.warning("sign-in for user %r from %s refused: too many failures", name, address)
            status, message, headers = _too_many(wait)
            if browser:
                await _page(send, status, _login_page(target, message), headers)
            else:
                await _reply(scope, send, status, {"error": message}, headers)
            return
        users = self.access.users.current()
        account = None
        if users is not None and name and password:
            account = await anyio.to_thread.run_sync(
                users.check_password, name, password, self.access.hasher
            )
        if account is None:
            log.warning("failed sign-in for user %r from %s", name, address)
            self.access.backoff.failed(*keys)
            message = "wrong user name or password"
            if browser:
                await _page(send, 401, _login_page(target, message))
            else:
                await _reply(scope, send, 401, {"error": message})
            return
        self.access.backoff.succeeded(*keys)
        log.info("signed in: user %r (%s) from %s", name, account.role, address)
        session_id = self.access.sessions.create(name)
        cookie = (
            f"{COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax; "
            f"Max-Age={int(self.access.sessions.lifetime)}"
        )
        if scope.get("scheme") == "https":
            cookie += "; Secure"
        if not browser:  # gradio_client's Client(auth=...) expects 200
            await _reply(scope, send, 200, {"success": True}, [(b"set-cookie", cookie.encode())])
            return
        await _redirect(send, target, [(b"set-cookie", cookie.encode())])

    async def _logout(self, scope, send) -> None:
        session_id = _cookie(_headers(scope).get("cookie", ""))
        if session_id:
            self.access.sessions.delete(session_id)
        gone = f"{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0".encode()
        await _redirect(send, "/login", [(b"set-cookie", gone)])


def _is_editing(path: str) -> bool:
    return path == EDITOR_PATH or path.startswith(f"{EDITOR_PATH}/") or path.startswith(_UPLOAD)


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _address(scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _cookie(header: str) -> str | None:
    try:
        morsel = SimpleCookie(header).get(COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel else None


def _wants_page(scope) -> bool:
    """A browser asking for a page (sent to the sign-in form), not a program (401 JSON)."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    if scope["path"].startswith(_API_PREFIXES):
        return False
    return "text/html" in _headers(scope).get("accept", "")


def _safe_next(target: str) -> str:
    """Only a path on this server (no ``//host`` or scheme): no open redirect."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _too_many(wait: float) -> tuple[int, str, list]:
    seconds = max(1, math.ceil(wait))
    message = f"too many failed attempts: try again in {seconds} s"
    return 429, message, [(b"retry-after", str(seconds).encode())]


async def _read_body(receive) -> bytes | None:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > _MAX_FORM_BYTES:
            return None
        if not message.get("more_body"):
            return body


async def _send(send, status: int, body: bytes, content_type: str, headers=()) -> None:
    head = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


async def _reply(scope, send, status: int, data: dict, headers=()) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps(data).encode()
    await _send(send, status, body, "application/json", headers)


async def _page(send, status: int, text: str, headers=()) -> None:
    await _send(send, status, text.encode("utf-8"), "text/html; charset=utf-8", headers)


async def _redirect(send, target: str, headers=()) -> None:
    await _send(send, 303, b"", "text/plain", [(b"location", target.encode()), *headers])


def _login_page(target: str, message: str = "") -> str:
    error = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    return f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>diploqa – Anmelden / Sign in</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 22em; margin: 4em auto; }}
label {{ display: block; margin: .8em 0 .2em; }}
input {{ width: 100%; padding: .4em; box-sizing: border-box; }}
button {{ margin-top: 1em; padding: .5em 1.2em; }}
.error {{ color: #b52a25; }}
</style></head>
<body><h1>diploqa</h1>
<form method="post" action="/login">
{error}
<input type="hidden" name="next" value="{html.escape(target)}">
<label for="username">Benutzer / User</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Passwort / Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="sign-in">Anmelden / Sign in</button>
</form></body></html>
"""
