"""Load: 20 concurrent API clients × 25 questions against a running ``diploqa serve`` while
``diploqa index`` adds articles to the same index folder in another process.

Zero errors; every answer is exactly what the old or the new index gives for that question
(never a mix); once the update is committed the server answers from the new index. Latency
(p50/p95) and throughput are printed and written to ``tests/artifacts/load.json``
(docs/benchmarks.md, "Load test"). Loopback only, bounded, stops by itself.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time

import pytest
from conftest import (
    GENEVA_QUESTION,
    NEW_ARTICLE,
    REPO,
    end_process,
    free_port,
    server_env,
    wait_until_serving,
)
from test_reliability import GAS_ARTICLE, GAS_QUESTION

import diploqa
from diploqa.app.handlers import answer_html, hit_record, search_records
from diploqa.app.live import IndexHolder
from diploqa.config import Settings

CLIENTS = 20
QUESTIONS_PER_CLIENT = 25
K = 3
QUESTIONS = [
    GENEVA_QUESTION,
    "Who did Kerry meet in Sochi?",
    GAS_QUESTION,
    "Worüber telefonierten Obama und Putin?",
    "Wer schätzte die Chance auf eine Waffenruhe auf 49 Prozent?",
    "Why did the US stop the talks about a ceasefire?",
    "What did Tillerson say about Assad?",
    "Worum ging es bei den Gesprächen in Lausanne?",
]
START_TIMEOUT = 240
ARTIFACTS = REPO / "tests" / "artifacts"


def _answer(records: list[dict]) -> tuple[tuple[str, str], ...]:
    return tuple((r["source"], r["text"]) for r in records)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --------------------------------------------------------------------------------------------
# The reload path, in process (fast)
# --------------------------------------------------------------------------------------------


def test_holder_picks_up_an_index_committed_by_another_process(built):
    articles, index_dir = built
    holder = IndexHolder(index_dir)
    holder.load()
    old = holder.index
    assert holder.latest() is old  # nothing changed: no reload
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    diploqa.build_index(articles, index_dir)  # as `diploqa index` in another process would
    assert holder.index is old  # reading the live index looks at nothing
    assert search_records(holder, GENEVA_QUESTION, 1)[0]["source"] == "005_genf.txt"
    new = holder.index  # the search picked it up
    assert new is not old and len(new.articles) == 6
    assert holder.latest() is new  # loaded once
    assert old.search(GENEVA_QUESTION, 1)[0].source != "005_genf.txt"  # old still usable


def test_holder_keeps_serving_when_the_new_index_is_broken(built):
    _, index_dir = built
    holder = IndexHolder(index_dir)
    holder.load()
    old = holder.index
    (index_dir / "manifest.json").write_text("{ broken", encoding="utf-8")
    assert holder.latest() is old
    assert answer_html(holder, "Who did Kerry meet in Sochi?", 1).count('class="dq-card"') == 1


def test_holder_without_index_picks_up_a_first_build(tmp_path, seed_copy):
    holder = IndexHolder(tmp_path / "index")
    holder.load()
    assert holder.index is None
    diploqa.build_index(seed_copy, tmp_path / "index")
    assert "dq-card" in answer_html(holder, "Kerry", 1) and holder.index is not None


# --------------------------------------------------------------------------------------------
# The load test
# --------------------------------------------------------------------------------------------


@pytest.fixture
def server(built, tmp_path):
    articles, index = built
    port = free_port()
    log = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "diploqa.cli", "serve", "--index", str(index)]
    cmd += ["--articles", str(articles), "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=server_env())
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(process, url, lambda: log.read_text()[-3000:], START_TIMEOUT)
        yield url, process, articles, index
    finally:
        end_process(process)


def _listening_addresses(pid: int) -> set[str]:
    import psutil

    return {
        c.laddr.ip
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }


@pytest.mark.slow
def test_load_with_an_index_update_in_another_process(server, monkeypatch):
    from gradio_client import Client

    url, process, articles, index = server
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    assert _listening_addresses(process.pid) <= {"127.0.0.1", "::1"}  # loopback only

    old_index = diploqa.load_index(index)
    per_article = Settings.from_env().server.passages_per_article  # what the server shows
    low = old_index.ranking.low_score_threshold
    old = {q: _answer([hit_record(h, low) for h in old_index.search(q, K, per_article=per_article)])
           for q in QUESTIONS}  # fmt: skip

    results: list[dict] = []
    errors: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(CLIENTS + 1)

    def client_thread(number: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as err:  # counted as an error, and the barrier still released
            with lock:
                errors.append(f"client {number}: {type(err).__name__}: {err}")
            ready.wait(timeout=120)
            return
        ready.wait(timeout=120)
        for i in range(QUESTIONS_PER_CLIENT):
            question = QUESTIONS[(number + i) % len(QUESTIONS)]
            started = time.monotonic()
            try:
                records = client.predict(question, K, api_name="/search_json")
            except Exception as err:
                with lock:
                    errors.append(f"client {number}: {type(err).__name__}: {err}")
                continue
            ended = time.monotonic()
            with lock:
                results.append(
                    {"q": question, "answer": _answer(records), "start": started, "end": ended}
                )

    threads = [threading.Thread(target=client_thread, args=(n,), daemon=True) for n in range(20)]
    for thread in threads:
        thread.start()
    ready.wait(timeout=180)  # every client connected; the load starts now
    load_start = time.monotonic()

    # The update: two new articles, indexed by a separate `diploqa index` process.
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (articles / "006_gas.txt").write_text(GAS_ARTICLE, encoding="utf-8")
    update_start = time.monotonic()
    update = subprocess.Popen(
        [sys.executable, "-m", "diploqa.cli", "index", "--articles", str(articles),
         "--index", str(index)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=server_env(),
    )  # fmt: skip
    out, err = update.communicate(timeout=300)
    update_end = time.monotonic()
    assert update.returncode == 0, err
    assert "2 added" in out

    for thread in threads:
        thread.join(timeout=300)
    load_end = time.monotonic()
    assert not any(thread.is_alive() for thread in threads)

    new_index = diploqa.load_index(index)
    new = {q: _answer([hit_record(h, low) for h in new_index.search(q, K, per_article=per_article)])
           for q in QUESTIONS}  # fmt: skip
    assert new[GENEVA_QUESTION][0][0] == "005_genf.txt" != old[GENEVA_QUESTION][0][0]

    assert errors == []
    assert len(results) == CLIENTS * QUESTIONS_PER_CLIENT
    mixed = [r for r in results if r["answer"] not in (old[r["q"]], new[r["q"]])]
    assert mixed == []  # every answer comes from one consistent index
    changed = [q for q in QUESTIONS if old[q] != new[q]]
    n_old = sum(1 for r in results if r["q"] in changed and r["answer"] == old[r["q"]])
    n_new = sum(1 for r in results if r["q"] in changed and r["answer"] == new[r["q"]])
    late_old = [
        r
        for r in results
        if r["q"] in changed and r["start"] > update_end + 1 and r["answer"] == old[r["q"]]
    ]
    assert late_old == []  # after the commit, the server answers from the new index
    # And now, after the load, it certainly does.
    client = Client(url, verbose=False)
    assert (
        _answer(client.predict(GENEVA_QUESTION, K, api_name="/search_json"))
        == (new[GENEVA_QUESTION])
    )

    latencies = [r["end"] - r["start"] for r in results]
    report = {
        "clients": CLIENTS,
        "questions_per_client": QUESTIONS_PER_CLIENT,
        "k": K,
        "requests": len(results),
        "errors": len(errors),
        "mixed_answers": len(mixed),
        "answers_from_old_index": n_old,
        "answers_from_new_index": n_new,
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * _percentile(latencies, 0.95), 1),
        "max_ms": round(1000 * max(latencies), 1),
        "throughput_per_s": round(len(results) / (load_end - load_start), 1),
        "load_seconds": round(load_end - load_start, 1),
        "update_seconds": round(update_end - update_start, 1),
        "update_committed_at_s": round(update_end - load_start, 1),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\nload test:", json.dumps(report))
