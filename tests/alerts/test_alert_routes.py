"""The JSON API and the feeds behind the real access gate, in-process: each user sees only
their own questions, readers set no webhooks, revoked tokens and feed secrets stop at once,
``--public`` follows nothing, and bodies must be JSON."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest
from alerts_archive import STORY, Archive, WordMatcher, article
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.testclient import TestClient

from diploqa.alerts import AlertStore
from diploqa.alerts.routes import alert_routes
from diploqa.auth import Backoff, SessionStore, Users, UsersSource, save_users
from diploqa.auth.middleware import Access, AccessGate

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
ATOM = "{http://www.w3.org/2005/Atom}"


class Server:
    def __init__(self, tmp_path, access: Access | None) -> None:
        self.archive = Archive(tmp_path)
        self.index = self.archive.index()
        self.store = AlertStore(tmp_path / "alerts.sqlite3", allow_private_webhooks=True)
        app = Starlette(routes=alert_routes(self.store, lambda: self.index.manifest.articles,
                                            access))  # fmt: skip
        self.app = app if access is None else AccessGate(app, access=access)

    def client(self, token: str | None = None) -> TestClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return TestClient(self.app, headers=headers)

    def arrive(self) -> None:
        """A matching article arrives and is checked."""
        self.archive.write("genf.txt", article("Treffen in Genf", STORY))
        self.index = self.archive.index()
        self.store.check(self.index, WordMatcher())


@pytest.fixture
def accounts(tmp_path):
    users = Users().with_user("lena", "reader", "pw-lena", FAST)
    users = users.with_user("ed", "editor", "pw-ed", FAST)
    users, lena = users.with_token("lena")
    users, ed = users.with_token("ed")
    save_users(tmp_path / "users.json", users)
    access = Access(UsersSource(tmp_path / "users.json"), SessionStore(3600), Backoff(), FAST)
    return Server(tmp_path, access), {"lena": lena, "ed": ed}, tmp_path / "users.json"


def follow(http: TestClient, question: str = "Was geschah in Genf?", **extra):
    return http.post("/api/alerts", json={"name": "Genf", "q": question, **extra})


def test_without_accounts_the_local_user_follows_reads_and_subscribes(tmp_path):
    server = Server(tmp_path, None)
    http = server.client()
    made = follow(http, outlet=["Testzeitung"], since="2020")
    assert made.status_code == 201, made.text
    alert = made.json()["alert"]
    assert (alert["user"], alert["outlet"], alert["since"]) == ("local", ["Testzeitung"], "2020")
    assert made.json()["feed_url"].startswith(f"/feeds/{alert['id']}.atom?key=")
    server.arrive()
    [listed] = http.get("/api/alerts").json()["alerts"]
    assert (listed["unread"], listed["answers"]) == (1, 1)
    [answer] = http.get(f"/api/alerts/{alert['id']}/answers?unread=1").json()["answers"]
    assert answer["source"] == "genf.txt" and answer["answer_sentence"]
    feed = ET.fromstring(http.get(f"/feeds/{alert['id']}.atom").content)  # no key needed
    assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == [
        "Treffen in Genf (Testzeitung)"]  # fmt: skip
    read = http.post(f"/api/alerts/{alert['id']}/read", json={"answers": [answer["id"]]})
    assert read.json() == {"marked": 1}
    assert http.get(f"/api/alerts/{alert['id']}/answers?unread=1").json() == {"answers": []}
    assert http.delete(f"/api/alerts/{alert['id']}").json() == {"removed": alert["id"]}
    assert http.get("/api/alerts").json() == {"alerts": []}


def test_bad_requests_are_one_clear_line_and_change_nothing(tmp_path):
    http = Server(tmp_path, None).client()
    form = http.post("/api/alerts", data={"name": "Genf", "q": "Wer?"})
    assert form.status_code == 415  # a form from another site cannot follow anything
    assert http.post("/api/alerts", content=b"{", headers={"content-type":
                     "application/json"}).status_code == 400  # fmt: skip
    assert follow(http, question=" ").json() == {"error": "the question is empty: type a question"}
    assert follow(http, since="gestern").status_code == 400
    assert follow(http, webhook="ftp://example.org/").status_code == 400
    assert http.get("/api/alerts/nope").status_code == 404
    assert http.post("/api/alerts/nope/read", json={"answers": ["x"]}).status_code == 400
    assert http.post("/api/alerts/nope/feed-key").status_code == 415
    assert http.get("/api/alerts").json() == {"alerts": []}


def test_each_user_sees_only_their_own_and_readers_set_no_webhooks(accounts):
    server, tokens, _ = accounts
    lena, ed = server.client(tokens["lena"]), server.client(tokens["ed"])
    assert server.client().get("/api/alerts").status_code == 401
    refused = follow(lena, webhook="http://127.0.0.1:9/hook")
    assert refused.status_code == 403 and "readers cannot set webhooks" in refused.text
    mine = follow(lena).json()
    theirs = follow(ed, webhook="http://127.0.0.1:9/hook").json()
    assert theirs["webhook_secret"] and "webhook_secret" not in mine
    server.arrive()
    lena_id, ed_id = mine["alert"]["id"], theirs["alert"]["id"]
    assert [a["id"] for a in lena.get("/api/alerts").json()["alerts"]] == [lena_id]
    assert [a["id"] for a in ed.get("/api/alerts").json()["alerts"]] == [ed_id]
    for call in (
        lambda: ed.get(f"/api/alerts/{lena_id}"),
        lambda: ed.get(f"/api/alerts/{lena_id}/answers"),
        lambda: ed.post(f"/api/alerts/{lena_id}/read", json={}),
        lambda: ed.post(f"/api/alerts/{lena_id}/feed-key", json={}),
        lambda: ed.delete(f"/api/alerts/{lena_id}"),
        lambda: ed.get(f"/feeds/{lena_id}.atom"),
    ):
        assert call().status_code == 404
    assert lena.get(f"/api/alerts/{lena_id}/answers").json()["answers"][0]["read"] is False
    assert len(ET.fromstring(lena.get(f"/feeds/{lena_id}.atom").content)) > 0  # by token


def test_feed_secrets_and_tokens_stop_within_seconds(accounts):
    server, tokens, users_file = accounts
    lena = server.client(tokens["lena"])
    made = follow(lena).json()
    server.arrive()
    anonymous = server.client()
    feed_url = made["feed_url"]
    assert anonymous.get(feed_url).status_code == 200  # a feed reader: the secret alone
    assert anonymous.get(feed_url.split("?")[0]).status_code == 401
    assert anonymous.get(feed_url[:-3] + "xyz").status_code == 404
    new = lena.post(f"/api/alerts/{made['alert']['id']}/feed-key", json={}).json()["feed_url"]
    assert anonymous.get(feed_url).status_code == 404  # the old secret: at once
    assert anonymous.get(new).status_code == 200
    current = server.app.access.users.current()
    save_users(users_file, current.without_tokens("lena")[0])
    deadline = time.monotonic() + 5
    while lena.get("/api/alerts").status_code != 401:  # the users file is re-read each second
        assert time.monotonic() < deadline, "a revoked token still works after 5 s"
        time.sleep(0.1)
    assert anonymous.get(new).status_code == 200  # the feed secret is not the token
    save_users(users_file, server.app.access.users.current().without_user("lena"))
    deadline = time.monotonic() + 5
    while anonymous.get(new).status_code != 404:  # a removed user's feeds stop too
        assert time.monotonic() < deadline, "a removed user's feed still answers after 5 s"
        time.sleep(0.1)


def test_public_servers_follow_nothing(tmp_path):
    server = Server(tmp_path, Access.public())
    answer = follow(server.client())
    assert answer.status_code == 403 and "needs accounts" in answer.text
    followed = server.store.add("Genf", "Was geschah in Genf?")  # by the operator, CLI
    assert server.client().get(followed.feed_url).status_code == 200
    assert server.client().get(followed.question.feed_path).status_code == 401
