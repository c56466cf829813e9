"""The access middleware in-process, on a stand-in app: sign-in, cookies, back-off with
logging, roles and ``--public``."""

from __future__ import annotations

import logging

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from diploqa.auth import Backoff, SessionStore, Users, UsersSource, save_users
from diploqa.auth.middleware import PRINCIPAL, Access, AccessGate

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = {"lena": "lese-geheim", "ed": "edit-geheim"}


def stand_in() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    def root():
        return {"app": "search"}

    @app.get("/api/search")
    def search():
        return {"hits": ["Kerry"]}

    @app.get("/edit/")
    def edit():
        return {"app": "edit"}

    @app.post("/gradio_api/upload")
    def upload():
        return {"stored": True}

    @app.get("/api/whoami")
    def whoami(request: Request):
        principal = request.scope.get(PRINCIPAL)
        return {"user": principal.user if principal else None}

    @app.get("/feeds/{name}")
    def feed(name: str, request: Request):
        principal = request.scope.get(PRINCIPAL)
        return {"feed": name, "user": principal.user if principal else None}

    return app


@pytest.fixture
def access(tmp_path) -> Access:
    users = Users().with_user("lena", "reader", PASSWORD["lena"], FAST)
    users = users.with_user("ed", "editor", PASSWORD["ed"], FAST)
    save_users(tmp_path / "users.json", users)
    return Access(UsersSource(tmp_path / "users.json"), SessionStore(3600),
                  Backoff(free=2, base=30, cap=60), FAST)  # fmt: skip


def client(access: Access) -> TestClient:
    app = stand_in()
    app.add_middleware(AccessGate, access=access)
    return TestClient(app, follow_redirects=False)


def login(http: TestClient, user: str, password: str, **extra):
    return http.post("/login", data={"username": user, "password": password, **extra})


def test_sign_in_sets_a_private_cookie_and_roles_apply(access):
    http = client(access)
    assert http.get("/api/search").status_code == 401
    answer = login(http, "lena", PASSWORD["lena"], next="/")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=3600" in cookie
    assert http.get("/api/search").json() == {"hits": ["Kerry"]}
    assert http.get("/edit/").status_code == 403
    assert http.post("/gradio_api/upload").status_code == 403
    editor = client(access)
    login(editor, "ed", PASSWORD["ed"])
    assert editor.get("/edit/").json() == {"app": "edit"}
    assert editor.post("/gradio_api/upload").json() == {"stored": True}
    page = editor.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/edit/"


def test_no_open_redirect_after_sign_in(access):
    http = client(access)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        answer = login(http, "lena", PASSWORD["lena"], next=target)
        assert answer.headers["location"] == "/"


def test_failures_back_off_per_address_and_user_and_are_logged(access, caplog):
    http = client(access)
    caplog.set_level(logging.INFO, logger="diploqa.access")
    for _ in range(3):  # two free, the third starts a 30 s wait
        assert login(http, "lena", "falsch-1").status_code == 401
    refused = login(http, "lena", PASSWORD["lena"])  # even the right password waits
    assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
    assert "diploqa_session" not in refused.headers.get("set-cookie", "")
    assert "failed sign-in for user 'lena' from testclient" in caplog.text
    assert "falsch-1" not in caplog.text and PASSWORD["lena"] not in caplog.text
    # the user name is slowed from any address: a guesser cannot just switch addresses
    assert access.backoff.wait("addr:10.0.0.9", "user:lena") > 0
    assert access.backoff.wait("addr:10.0.0.9", "user:ed") == 0


def test_sign_out_and_expiry_end_the_session(access):
    http = client(access)
    login(http, "lena", PASSWORD["lena"])
    assert http.get("/api/search").status_code == 200
    out = http.get("/logout")
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    assert http.get("/api/search").status_code == 401
    now = [0.0]
    access.sessions = SessionStore(60, clock=lambda: now[0])
    login(http, "lena", PASSWORD["lena"])
    assert http.get("/api/search").status_code == 200
    now[0] += 61
    assert http.get("/api/search").status_code == 401


def test_a_removed_user_loses_access_at_once(access, tmp_path):
    http = client(access)
    login(http, "lena", PASSWORD["lena"])
    users = access.users.current().without_user("lena")
    save_users(tmp_path / "users.json", users)
    access.users._checked -= 2  # as if a second had passed
    assert http.get("/api/search").status_code == 401


def test_public_has_no_sign_in_and_no_editing():
    app = stand_in()
    app.add_middleware(AccessGate, access=Access.public())
    http = TestClient(app)
    assert http.get("/api/search").json() == {"hits": ["Kerry"]}
    assert http.post("/gradio_api/upload").status_code == 403
    assert http.get("/edit/").status_code == 403


def test_the_app_is_told_who_calls_and_feeds_pass_unidentified(access):
    """Routes learn the signed-in user from the scope; a feed is passed on without one (it
    checks its own secret), a bad token is refused there too; a feed is never a page."""
    http = client(access)
    assert http.get("/api/whoami").status_code == 401
    login(http, "lena", PASSWORD["lena"])
    assert http.get("/api/whoami").json() == {"user": "lena"}
    anonymous = client(access)
    assert anonymous.get("/feeds/a.atom?key=x").json() == {"feed": "a.atom", "user": None}
    page = anonymous.get("/feeds/a.atom", headers={"Accept": "text/html"})
    assert page.status_code == 200  # not sent to the sign-in form: a feed reader reads it
    assert http.get("/feeds/a.atom").json() == {"feed": "a.atom", "user": "lena"}
    bad = anonymous.get("/feeds/a.atom", headers={"Authorization": "Bearer dq_nope"})
    assert bad.status_code == 401
    assert anonymous.get("/feedsx").status_code == 401  # only the prefix with its slash
    public = stand_in()
    public.add_middleware(AccessGate, access=Access.public())
    assert TestClient(public).get("/api/whoami").json() == {"user": None}
