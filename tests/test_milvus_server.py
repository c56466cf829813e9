"""Against a real Milvus server (the standalone server of the ``milvus`` package, authorization
on; tests/milvus_standalone.py): an outage and a restart under a running diploqa, two builders
on one server, and its token (refused with one line, never shown)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import (
    GENEVA_QUESTION,
    NEW_ARTICLE,
    assert_no_traceback,
    close_stores,
    copy_seeds,
    run_cli,
    store_location,
)

import diploqa
from diploqa.cli import main
from diploqa.errors import StoreUnavailableError
from diploqa.store import open_location

QUESTION = "Wen traf Kerry in Sotschi?"


def _sources(hits) -> list[tuple[str, int]]:
    return [(h.source, h.start) for h in hits]


@pytest.mark.slow
def test_server_outage_is_one_line_everywhere_and_diploqa_recovers_when_milvus_is_back(
    milvus_server, tmp_path, embedder, capsys
):
    pytest.importorskip("gradio", reason="the web UI needs the 'ui' extra")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from diploqa.app.api import json_routes
    from diploqa.app.handlers import answer_html
    from diploqa.app.live import IndexHolder

    store = milvus_server.address()
    articles = copy_seeds(tmp_path / "articles")
    held = []
    try:
        held.append(diploqa.build_index(articles, tmp_path / "unused", store=store))
        holder = IndexHolder(tmp_path / "unused", store=store)
        held.append(holder)
        holder.load()
        server = FastAPI()
        server.router.routes.extend(json_routes(holder))
        api = TestClient(server)
        before = api.get("/api/search", params={"q": QUESTION, "k": 3})
        assert before.status_code == 200 and before.json()["hits"]
        index = diploqa.load_index(store=store)  # the library, beside the server's holder
        held.append(index)
        expected = _sources(index.search(QUESTION, k=3))

        milvus_server.kill()
        down = api.get("/api/search", params={"q": QUESTION, "k": 3})
        assert down.status_code == 503, down.text
        error = down.json()["error"]
        assert re.match(f"cannot (reach|connect to) Milvus at {re.escape(store)} ", error)
        assert "\n" not in error and "Traceback" not in error
        page = answer_html(holder, QUESTION)
        assert re.search("cannot (reach|connect to) Milvus at", page)
        assert_no_traceback(page)
        with pytest.raises(StoreUnavailableError, match=r"cannot (reach|connect to) Milvus at"):
            index.search(QUESTION, k=3)
        capsys.readouterr()  # the CLI in this process (its own process: test_stores)
        assert main(["search", QUESTION, "--store", store]) == 1
        cli = capsys.readouterr().err
        assert cli.startswith(f"error: cannot connect to Milvus at {store}")
        assert cli.count("\n") == 1 and "Traceback" not in cli, cli

        milvus_server.start()  # same port, same data; diploqa is not restarted
        after = api.get("/api/search", params={"q": QUESTION, "k": 3})
        assert after.status_code == 200, after.text
        assert after.json()["hits"] == before.json()["hits"]
        assert _sources(index.search(QUESTION, k=3)) == expected
        assert "dq-card" in answer_html(holder, QUESTION)
    finally:
        close_stores(*held)


def location_name(store: str) -> str:
    return open_location(None, store).address.collection


def _collections(store: str) -> tuple[list[str], list[str]]:
    """(collections, aliases) of the index ``store`` names on its server."""
    location = store_location(store)
    try:
        prefix = location.address.collection + "__"
        names = sorted(n for n in location.client.list_collections() if n.startswith(prefix))
        name = location.address.collection  # the server may hold other tests' indexes
        aliases = sorted(
            a
            for a in location.client.list_aliases().get("aliases", [])
            if a == name or a.startswith(prefix)
        )
    finally:
        location.close()
    return names, aliases


@pytest.mark.slow
def test_two_builders_on_one_server_never_mix_and_the_loser_is_told(
    shared_milvus_server, tmp_path, embedder, capsys, monkeypatch
):
    from diploqa.store.milvus.lease import BuildLease

    monkeypatch.setenv("DIPLOQA_MILVUS_TOKEN", shared_milvus_server.token)
    store = shared_milvus_server.address("two_builders")  # its own index on the shared server
    seeds = copy_seeds(tmp_path / "seeds")
    mine, theirs = copy_seeds(tmp_path / "mine"), copy_seeds(tmp_path / "theirs")
    (mine / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (theirs / "001_50e04ee83bc37b66.txt").unlink()
    location = store_location(store)
    try:
        first = diploqa.build_index(seeds, tmp_path / "unused", store=store)
        # A: holds the lease and has written its generation, paused before the alias switch.
        gate = tmp_path / "gate"
        a = subprocess.Popen(
            [sys.executable, "-m", "diploqa.cli", "index", "--articles", str(mine), "--store",
             store],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "DIPLOQA_FAULT": "pause:before-swap",
                 "DIPLOQA_FAULT_GATE": str(gate)},
        )  # fmt: skip
        deadline = time.monotonic() + 300
        while not Path(f"{gate}.reached").exists():
            assert a.poll() is None, a.communicate()
            assert time.monotonic() < deadline, "builder A never reached before-swap"
            time.sleep(0.1)

        # B, while A builds (this process): fails at once, one line naming A.
        capsys.readouterr()
        assert main(["index", "--articles", str(theirs), "--store", store]) == 1
        b = capsys.readouterr().err
        assert b.startswith(f"error: another build (host {socket.gethostname()}, "
                            f"pid {a.pid}, since ")  # fmt: skip
        assert b.endswith(f"is running on {store}; wait for it to finish\n") and b.count("\n") == 1

        # A's lease lost (say it stalled past the expiry): a build here takes the lease and
        # commits; A, let go, must notice before its switch and change nothing.
        location.client.drop_alias(BuildLease(location.connection).alias)
        second = diploqa.build_index(theirs, tmp_path / "unused", store=store)
        assert second.build_report.changed
        gate.touch()
        out, err = a.communicate(timeout=300)
        assert a.returncode == 1, out + err
        last = err.splitlines()[-1]  # after the progress bar
        assert last.startswith(f"error: another build committed {second.stored.vectors.collection}")
        assert "this build changed nothing: run it again" in last and "Traceback" not in err

        # C is killed holding the lease: on this host the next build sees it died; elsewhere
        # it waits for the lease to expire, then takes it over.
        c = run_cli("index", "--articles", str(mine), "--store", store,
                    env={"DIPLOQA_FAULT": "before-write"})  # fmt: skip
        assert c.returncode == -signal.SIGKILL, c.stderr
        held_by, record = BuildLease(location.connection).holder()
        assert record["host"] == socket.gethostname() and record["pid"] != os.getpid()
        for changes in ({"host": "elsewhere"}, {"host": "elsewhere", "expires": time.time() - 1}):
            row = {"key": "lease#000000", "data": json.dumps({**record, **changes})}
            location.client.upsert(held_by, [{**row, "unused": [0.0, 0.0]}])
            if "expires" not in changes:
                with pytest.raises(StoreUnavailableError, match=r"another build \(host elsewhere"):
                    diploqa.build_index(mine, tmp_path / "unused", store=store)
        last = diploqa.build_index(mine, tmp_path / "unused", store=store)

        loaded = diploqa.load_index(store=store)
        assert loaded.manifest.generation == last.manifest.generation
        assert sorted(a.id for a in loaded.articles) == sorted(p.name for p in mine.glob("*.txt"))
        assert loaded.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"
        names, aliases = _collections(store)
        live, previous = last.stored.vectors.collection, second.stored.vectors.collection
        keywords = f"{location_name(store)}__keywords"  # the keyword segments of all of them
        assert names == sorted([live, f"{live}__meta", previous, f"{previous}__meta", keywords])
        assert aliases == ["two_builders"] and first.stored.vectors.collection not in names
    finally:
        close_stores(location)


def test_a_held_lease_is_renewed_and_released(shared_milvus_server, monkeypatch):
    """A long build keeps its lease: the record's expiry moves on while it runs (here with a
    lease of 1.5 s instead of a minute), and leaving drops the alias and the record."""
    from diploqa.store.milvus import lease as leases
    from diploqa.store.milvus.lease import BuildLease

    monkeypatch.setattr(leases, "LEASE_SECONDS", 1.5)
    monkeypatch.setenv("DIPLOQA_MILVUS_TOKEN", shared_milvus_server.token)
    store = shared_milvus_server.address("held_lease")
    location = store_location(store)
    connection = location.connection
    try:
        with BuildLease(connection) as lease:
            first = lease.holder()[1]["expires"]
            deadline = time.monotonic() + 30  # renewed every 0.5 s; polled, whatever the load
            while (record := BuildLease(connection).holder()[1])["expires"] <= first:
                assert time.monotonic() < deadline, "the lease was never renewed"
                time.sleep(0.05)
            held_by, record = BuildLease(connection).holder()
            assert held_by == lease.name and record["expires"] > first
            with pytest.raises(StoreUnavailableError, match=f"pid {os.getpid()}, since "):
                BuildLease(connection).__enter__()
        names, aliases = _collections(store)
        assert names == [] and aliases == []
    finally:
        location.close()


def test_a_wrong_or_missing_token_is_one_line_naming_the_variable_and_never_shown(
    shared_milvus_server, tmp_path, embedder, monkeypatch, caplog, capsys
):
    """Authorization on: the CLI, the library and the JSON API refuse a wrong or missing
    token with one line naming DIPLOQA_MILVUS_TOKEN; neither the wrong token nor the right
    one appears in any answer or log line."""
    pytest.importorskip("gradio", reason="the web UI needs the 'ui' extra")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from diploqa.app.api import json_routes
    from diploqa.app.live import IndexHolder

    milvus_server = shared_milvus_server  # its own collection
    store, right = milvus_server.address("token_refused"), milvus_server.token
    monkeypatch.setenv("DIPLOQA_MILVUS_TOKEN", right)
    wrong = "root:wrong-" + right.split(":", 1)[1][::-1]
    secrets = (right.split(":", 1)[1], wrong.split(":", 1)[1])
    diploqa.build_index(copy_seeds(tmp_path / "articles"), tmp_path / "unused", store=store)
    expected = {
        "": f"Milvus at {store} wants a token and none is set in DIPLOQA_MILVUS_TOKEN",
        wrong: f"Milvus at {store} refused the token in DIPLOQA_MILVUS_TOKEN",
    }
    commands = [["search", QUESTION, "--store", store],
                ["index", "--articles", str(tmp_path / "articles"), "--store", store]]  # fmt: skip
    # a process of its own once (what reaches its stderr, gRPC's own lines included) ...
    done = run_cli(*commands[0], env={"DIPLOQA_MILVUS_TOKEN": wrong})
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"error: {expected[wrong]}: set it to user:password")
    assert done.stderr.count("\n") == 1, done.stderr
    assert not any(s in done.stderr + done.stdout for s in secrets)
    for token, refusal in expected.items():
        monkeypatch.setenv("DIPLOQA_MILVUS_TOKEN", token)
        for args in commands:  # ... and each command and token in this process
            assert main(args) == 1
            out, err = capsys.readouterr()
            assert err.startswith(f"error: {refusal}: set it to user:password"), err
            assert err.count("\n") == 1, err
            assert not any(s in err + out for s in secrets)

        with caplog.at_level("DEBUG"):
            with pytest.raises(StoreUnavailableError, match=re.escape(refusal)) as raised:
                diploqa.load_index(store=store)
            assert not any(s in str(raised.value) for s in secrets)
            holder = IndexHolder(tmp_path / "unused", store=store)
            try:
                holder.load(model=False)
                server = FastAPI()
                server.router.routes.extend(json_routes(holder))
                answer = TestClient(server).get("/api/search", params={"q": QUESTION})
            finally:
                close_stores(holder)
        assert answer.status_code == 503 and refusal in answer.json()["error"], answer.text
        assert not any(s in answer.text for s in secrets)

    monkeypatch.setenv("DIPLOQA_MILVUS_TOKEN", right)  # answered: nor in a served answer
    holder = IndexHolder(tmp_path / "unused", store=store)
    try:
        with caplog.at_level("DEBUG"):
            holder.load(model=False)
            server = FastAPI()
            server.router.routes.extend(json_routes(holder))
            params = {"q": QUESTION, "timeline": "year", "facets": "outlet"}
            answer = TestClient(server).get("/api/search", params=params)
    finally:
        close_stores(holder)
    assert answer.status_code == 200 and answer.json()["hits"], answer.text
    assert not any(s in answer.text for s in secrets)
    assert not any(s in caplog.text for s in secrets)
    assert not any(s in milvus_server.log_text() for s in secrets)  # nor in the server's log


def test_the_server_tests_skip_only_where_the_binary_cannot_run(tmp_path, monkeypatch):
    """Another platform, or a binary this system cannot execute: a skip that says why; a
    binary that runs and fails: an error (a defect the tests must show, never a skip)."""
    import platform

    import milvus_standalone
    from milvus_standalone import MilvusStandalone, ServerFailed, Unavailable

    pytest.importorskip("milvus", reason="the Milvus server tests need the 'milvus' package")
    with monkeypatch.context() as patch:
        patch.setattr(platform, "system", lambda: "Darwin")
        with pytest.raises(Unavailable, match=r"runs on Linux x86-64 only .*Darwin"):
            milvus_standalone.server_version()

    scripts = {  # all written before any is started (no file open for writing at a fork)
        "unexecutable": None,  # as on a noexec mount
        "no-libraries": "#!/bin/sh\necho 'error while loading shared libraries: libx.so' >&2\n"
        "exit 127\n",
        "fails": "#!/bin/sh\nexit 3\n",
    }
    servers = {}
    for name, script in scripts.items():
        binary = tmp_path / name / "milvus"
        binary.parent.mkdir()
        binary.write_text(script or "not a program", encoding="utf-8")
        binary.chmod(0o755 if script else 0o644)
        servers[name] = MilvusStandalone(binary, binary.parent / "data")
    with pytest.raises(Unavailable, match="cannot run here"):
        servers["unexecutable"].start(timeout=30)
    with pytest.raises(Unavailable, match=r"cannot run here.*error while loading"):
        servers["no-libraries"].start(timeout=30)
    with pytest.raises(ServerFailed, match="exited with 3"):
        servers["fails"].start(timeout=30)
