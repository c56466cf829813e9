"""SIGKILL during matching and during delivery, then a restart: ``diploqa serve --watch``
three times on the same folders and alerts file, killed where ``DIPLOQA_FAULT`` says.

1. Killed inside the matching transaction: nothing of it is kept.
2. Restarted, the server matches at its start, commits, POSTs the batch and is killed before
   it marks the batch delivered.
3. Restarted again, it sends the same batch (same id, same body) again: the inbox and the feed
   hold the answer exactly once, the webhook got it at least once.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import httpx
import pytest
from conftest import (
    GENEVA_QUESTION,
    NEW_ARTICLE,
    free_port,
    run_cli,
    server_env,
    stop_process,
    wait_until_serving,
)
from webhook_receiver import Receiver

from diploqa.alerts import AlertStore
from diploqa.alerts.outbox import Outbox

pytestmark = pytest.mark.slow

#: Seconds a sender holds a batch (DIPLOQA_WEBHOOK_HOLD): the killed sender's hold passes
#: while the third server starts.
HOLD = 2


def test_killed_while_matching_or_delivering_every_answer_once_and_the_batch_again(
    tmp_path, seed_copy, seed_index
):
    articles = shutil.copytree(seed_copy, tmp_path / "articles")
    index = shutil.copytree(seed_index.path, tmp_path / "index")
    alerts = tmp_path / "alerts.sqlite3"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"

    def start(fault: str | None) -> subprocess.Popen:
        env = {**server_env(), "DIPLOQA_WATCH_SETTLE": "0.3", "DIPLOQA_WATCH_DEBOUNCE_MS": "300",
               "DIPLOQA_WEBHOOK_HOLD": str(HOLD)}  # fmt: skip
        if fault:
            env["DIPLOQA_FAULT"] = fault
        argv = [sys.executable, "-m", "diploqa.cli", "serve", "--index", str(index),
                "--articles", str(articles), "--port", str(port), "--watch", "--alerts",
                str(alerts), "--allow-private-webhooks"]  # fmt: skip
        with log.open("ab") as out:
            return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)

    def killed(process: subprocess.Popen, timeout: float = 240) -> None:
        try:
            assert process.wait(timeout) == -9, log.read_text(errors="replace")[-3000:]
        finally:
            stop_process(process)

    with Receiver() as hook:
        added = run_cli("alerts", "add", "Genf", GENEVA_QUESTION, "--webhook", hook.url,
                        "--allow-private-webhooks", "--index", str(index), "--alerts",
                        str(alerts))  # fmt: skip
        assert added.returncode == 0, added.stderr
        question_id, feed_url, secret = added.stdout.split()
        store = AlertStore(alerts)

        first = start("alerts-before-commit")
        wait_until_serving(first, f"{url}/api/alerts", lambda: log.read_text(errors="replace"))
        (articles / "genf-2022.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        killed(first)  # by the fault, inside the transaction of the match
        assert store.answers(question_id) == [] and hook.deliveries == []
        assert "genf-2022.txt" in (index / "manifest.json").read_text()  # the update was done

        second = start("webhook-after-send")  # matches at its start, sends, dies
        killed(second)
        [sent] = hook.wait(1, timeout=10)
        assert [a.hit.source for a in store.answers(question_id)] == ["genf-2022.txt"]

        third = start(None)
        try:
            wait_until_serving(third, f"{url}/api/alerts", lambda: log.read_text(errors="replace"))
            again = hook.wait(2, timeout=120)[1]  # once its claim by the killed sender expired
            assert (again.body, again.headers["x-diploqa-batch"]) == (
                sent.body, sent.headers["x-diploqa-batch"])  # fmt: skip
            assert sent.batch["id"] == sent.headers["x-diploqa-batch"]
            deadline = time.monotonic() + 60
            while Outbox(store).pending():  # marked delivered: it is not sent a third time
                assert time.monotonic() < deadline, "the batch was never marked delivered"
                time.sleep(0.1)
            with httpx.Client(base_url=url, trust_env=False, timeout=60) as client:
                found = client.get(f"/api/alerts/{question_id}/answers").json()["answers"]
                feed = ET.fromstring(client.get(feed_url).content)
        finally:
            stop_process(third)
    assert [a["source"] for a in found] == ["genf-2022.txt"]  # exactly once in the inbox
    assert len(feed.findall("{http://www.w3.org/2005/Atom}entry")) == 1  # and in the feed
    assert len(hook.deliveries) == 2 and secret  # at least once (here: twice, same batch)
