"""Standing questions on the real server: ``diploqa serve --users --watch`` in a subprocess
(one for the module), the real model, a webhook receiver on loopback and a real Chromium.

A matching and an unrelated article dropped into the watched folder: the inbox, the Atom feed
(read with the standard XML parser, by its secret alone) and the webhook (signature checked)
each get the matching one only. Users see only their own questions, readers set no webhooks,
a revoked token or feed secret stops within seconds. In the browser a reader follows a
question and sees its new answer appear in the "Neu / New" tab.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from browser import open_page, sign_in, submit
from conftest import (
    GENEVA_QUESTION,
    NEW_ARTICLE,
    XSS_ARTICLE,
    free_port,
    server_env,
    stop_process,
    wait_until_serving,
)
from webhook_receiver import Receiver

from diploqa.alerts import AlertStore
from diploqa.alerts.webhooks import verify
from diploqa.auth import Users, save_users

pytestmark = pytest.mark.slow

ATOM = "{http://www.w3.org/2005/Atom}"
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
UNRELATED = """title: Pokalsieg in Musterstadt
date: 2022-01-22
source: Sportblatt

Der FC Musterstadt hat das Pokalfinale mit 3:1 gegen den SV Beispielhausen gewonnen. Zwei
Tore fielen in der Nachspielzeit; der Trainer lobte die Geduld seiner jungen Mannschaft.
"""
#: The browser test's question, answered by XSS_ARTICLE (its markup must stay text).
LIGHTHOUSES = "Was wurde beim Zitronenfalter-Gipfel in Reykjavík über Leuchttürme vereinbart?"
ANSWER_TIMEOUT = 240


@dataclass
class AlertServer:
    url: str
    process: subprocess.Popen
    log: Path
    articles: Path
    users_file: Path
    passwords: dict[str, str]
    tokens: dict[str, str]
    receiver: Receiver
    secrets: list[str]  # everything that must never be logged
    alerts: Path  # the server's alerts file

    def checked(self, question_id: str, source: str) -> bool:
        """Whether a check has matched the question against ``source``'s arrival (its mark
        moved past it: what it found then is recorded, and it is never matched again)."""
        store = AlertStore(self.alerts)
        with store.db.read() as db:
            row = db.execute("SELECT seq FROM arrivals WHERE article_id = ?", (source,)).fetchone()
        return row is not None and store.question(question_id).mark >= row[0]

    def batches(self, question_id: str) -> list[bool]:
        """Whether each webhook batch of the question is delivered, in the outbox's order."""
        with AlertStore(self.alerts).db.read() as db:
            rows = db.execute("SELECT delivered IS NOT NULL FROM outbox WHERE question_id = ? "
                              "ORDER BY created", (question_id,))  # fmt: skip
            return [bool(r[0]) for r in rows]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def client(self, user: str | None = None, token: str | None = None) -> httpx.Client:
        token = token or (self.tokens[user] if user else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, trust_env=False, timeout=60, headers=headers)


@pytest.fixture(scope="module")
def served(tmp_path_factory, seed_copy, seed_index) -> Iterator[AlertServer]:
    root = tmp_path_factory.mktemp("alerts-server")
    articles = shutil.copytree(seed_copy, root / "articles")
    index = shutil.copytree(seed_index.path, root / "index")
    passwords = {"lena": "Lese-Passwort 1", "ed": "Edit-Passwort 2"}
    users = Users().with_user("lena", "reader", passwords["lena"], FAST)
    users = users.with_user("ed", "editor", passwords["ed"], FAST)
    tokens = {}
    for label, user in [("lena", "lena"), ("ed", "ed"), ("revoked", "lena")]:
        users, tokens[label] = users.with_token(user, label)
    save_users(root / "users.json", users)
    port, log = free_port(), root / "serve.log"
    argv = [sys.executable, "-m", "diploqa.cli", "serve", "--index", str(index), "--articles",
            str(articles), "--port", str(port), "--users", str(root / "users.json"), "--watch",
            "--alerts", str(root / "alerts.sqlite3"), "--allow-private-webhooks"]  # fmt: skip
    env = {**server_env(), "DIPLOQA_WATCH_SETTLE": "0.3", "DIPLOQA_WATCH_DEBOUNCE_MS": "300"}
    with Receiver() as receiver:
        with log.open("wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        server = AlertServer(f"http://127.0.0.1:{port}", process, log, articles,
                             root / "users.json", passwords, tokens, receiver,
                             [*passwords.values(), *tokens.values()],
                             root / "alerts.sqlite3")  # fmt: skip
        try:
            headers = {"Authorization": f"Bearer {tokens['ed']}"}
            wait_until_serving(process, server.url + "/api/alerts", server.log_text,
                               headers=headers)  # fmt: skip
            yield server
        finally:
            stop_process(process)
    text = server.log_text()
    leaked = [secret[:6] + "…" for secret in server.secrets if secret and secret in text]
    assert not leaked, f"secrets in the server log: {leaked}"


def answers(client: httpx.Client, alert_id: str, count: int = 1) -> list[dict]:
    """The question's answers once there are ``count`` (polled, with a deadline)."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while True:
        found = client.get(f"/api/alerts/{alert_id}/answers").json()["answers"]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"no answer after {ANSWER_TIMEOUT} s"
        time.sleep(0.5)


def test_a_matching_article_reaches_inbox_feed_and_webhook_and_an_unrelated_one_does_not(
    served,
):
    ed, lena = served.client("ed"), served.client("lena")
    made = ed.post("/api/alerts", json={"name": "Genf", "q": GENEVA_QUESTION,
                                        "webhook": served.receiver.url})  # fmt: skip
    assert made.status_code == 201, made.text
    mine = made.json()
    lenas = lena.post("/api/alerts", json={"name": "Genf", "q": GENEVA_QUESTION}).json()
    served.secrets += [mine["webhook_secret"], mine["feed_url"].split("key=")[1],
                       lenas["feed_url"].split("key=")[1]]  # fmt: skip
    (served.articles / "pokal.txt").write_text(UNRELATED, encoding="utf-8")
    (served.articles / "genf-2022.txt").write_text(NEW_ARTICLE, encoding="utf-8")

    found = answers(ed, mine["alert"]["id"])
    assert [a["source"] for a in found] == ["genf-2022.txt"]
    assert "Genf" in found[0]["answer_sentence"] and found[0]["outlet"] == "Testzeitung"
    assert [a["source"] for a in answers(lena, lenas["alert"]["id"])] == ["genf-2022.txt"]
    # the unrelated article was indexed too (it arrived, and did not alert)
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while (
        ed.get("/api/search", params={"q": "Wer gewann das Pokalfinale?", "k": 1}).json()["hits"][
            0
        ]["source"]
        != "pokal.txt"
    ):
        assert time.monotonic() < deadline, "the unrelated article was never indexed"
        time.sleep(0.5)
    while not served.checked(mine["alert"]["id"], "pokal.txt"):  # matched against it
        assert time.monotonic() < deadline, "the unrelated article was never checked"
        time.sleep(0.2)
    assert [a["source"] for a in ed.get(f"/api/alerts/{mine['alert']['id']}/answers").json()[
        "answers"]] == ["genf-2022.txt"]  # fmt: skip

    feed = ET.fromstring(httpx.get(served.url + mine["feed_url"], trust_env=False).content)
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Lawrow und Blinken in Genf "
                                                             "(Testzeitung)"]  # fmt: skip
    assert feed.findtext(f"{ATOM}subtitle") == GENEVA_QUESTION

    [delivery] = served.receiver.wait(1, timeout=60)
    batch = delivery.batch
    assert verify(mine["webhook_secret"], delivery.body, delivery.headers["x-diploqa-signature"])
    assert batch["id"] == delivery.headers["x-diploqa-batch"]
    assert batch["question"]["id"] == mine["alert"]["id"]
    assert [a["source"] for a in batch["answers"]] == ["genf-2022.txt"]
    assert not verify("another secret", delivery.body, delivery.headers["x-diploqa-signature"])
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while served.batches(mine["alert"]["id"]) != [True]:  # one batch, marked delivered
        assert time.monotonic() < deadline, served.batches(mine["alert"]["id"])
        time.sleep(0.1)
    assert len(served.receiver.deliveries) == 1  # one batch, not one per check


def test_users_see_only_their_own_and_readers_set_no_webhooks(served):
    ed, lena = served.client("ed"), served.client("lena")
    refused = lena.post("/api/alerts", json={"name": "x", "q": "Wer?",
                                             "webhook": served.receiver.url})  # fmt: skip
    assert refused.status_code == 403
    lena_ids = {a["id"] for a in lena.get("/api/alerts").json()["alerts"]}
    ed_ids = {a["id"] for a in ed.get("/api/alerts").json()["alerts"]}
    assert lena_ids and ed_ids and not lena_ids & ed_ids
    for alert_id in lena_ids:
        assert ed.get(f"/api/alerts/{alert_id}/answers").status_code == 404
        assert ed.delete(f"/api/alerts/{alert_id}").status_code == 404
        assert ed.get(f"/feeds/{alert_id}.atom").status_code == 404
        assert lena.get(f"/feeds/{alert_id}.atom").status_code == 200  # by the owner's token
    nobody = httpx.Client(base_url=served.url, trust_env=False)
    assert nobody.get("/api/alerts").status_code == 401
    assert nobody.get(f"/feeds/{next(iter(lena_ids))}.atom").status_code == 401


def test_a_revoked_token_or_feed_secret_stops_within_seconds(served):
    revoked = served.client(token=served.tokens["revoked"])
    made = revoked.post("/api/alerts", json={"name": "Sotschi", "q": "Wen traf Kerry?"}).json()
    feed = served.url + made["feed_url"]
    served.secrets.append(made["feed_url"].split("key=")[1])
    assert httpx.get(feed, trust_env=False).status_code == 200
    rotated = revoked.post(f"/api/alerts/{made['alert']['id']}/feed-key", json={}).json()
    assert httpx.get(feed, trust_env=False).status_code == 404  # the old secret: at once
    assert httpx.get(served.url + rotated["feed_url"], trust_env=False).status_code == 200
    token_id = served.tokens["revoked"].split("_")[1]
    done = subprocess.run([sys.executable, "-m", "diploqa.cli", "tokens", "revoke", token_id,
                           "--users", str(served.users_file)], capture_output=True, text=True,
                          env=server_env(), timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    revoked_at = time.monotonic()
    while revoked.get("/api/alerts").status_code != 401:
        assert time.monotonic() - revoked_at < 5, "a revoked token still works after 5 s"
        time.sleep(0.1)
    assert served.client("lena").get("/api/alerts").status_code == 200  # lena's other token


def test_in_chromium_a_reader_follows_a_question_and_sees_its_new_answer(served, chromium):
    page = open_page(chromium, served.url + "/", ready=None, timeout_ms=60_000)
    sign_in(page, "lena", served.passwords["lena"])
    page.locator("#question textarea").wait_for(timeout=120_000)
    submit(page, LIGHTHOUSES)
    page.locator("#follow").click()
    followed = page.locator("#follow-status #followed")
    followed.wait_for(timeout=60_000)
    assert "Zitronenfalter" in followed.inner_text()
    (served.articles / "leuchttuerme.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    page.get_by_role("tab", name="Neu / New").click()
    card = page.locator('#inbox .dq-answer .dq-card[data-source="leuchttuerme.txt"]')
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while card.count() == 0:
        assert time.monotonic() < deadline, page.locator("#inbox").inner_text()
        page.locator("#inbox-refresh").click()
        page.wait_for_timeout(1000)
    answer = card.first.locator("xpath=..")
    assert answer.get_attribute("data-state") == "unread"  # marked read once shown
    assert "<script>alert(1)</script>" in card.first.inner_text()  # markup as text
    assert card.first.locator("mark").count() == 1
    page.locator("#inbox-refresh").click()
    page.wait_for_function(
        """() => { const a = document.querySelector(
               '#inbox .dq-card[data-source="leuchttuerme.txt"]');
               return a && a.parentElement.dataset.state === 'read'; }""",
        timeout=30_000,
    )
