"""Access control on the real server (``diploqa serve --users`` in a subprocess): every route
needs a sign-in or a token, readers cannot edit even by hand, tokens can be revoked live."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest
from conftest import run_cli

from diploqa.cli import main

pytestmark = pytest.mark.slow

#: Words any answer, article list or tool list of the seeds would contain.
DATA = ("Kerry", "Lawrow", "Sotschi", "_6afb54f85d6e1e90", "001_", "search_json", "dq-card")
QUESTION = "Wer traf Lawrow in Sotschi?"
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def http(server, **headers) -> httpx.Client:
    return httpx.Client(base_url=server.url, trust_env=False, timeout=60, headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(server, user: str) -> httpx.Client:
    client = http(server)
    answer = client.post("/login", data={"username": user, "password": server.passwords[user]})
    assert answer.status_code == 200, answer.text
    server.secrets.append(client.cookies["diploqa_session"])
    return client


def routes(server) -> list[tuple[str, str, dict]]:
    """(method, path, request options): the JSON API, Gradio's API, queue, upload and file
    routes, MCP, config and info, of both apps."""
    article = next(server.articles.iterdir())
    join = {"json": {"data": [QUESTION, 3], "fn_index": 0, "session_hash": "x1"}}
    return [
        ("GET", f"/api/search?q={QUESTION}", {}),
        ("GET", "/api/alerts", {}),
        ("POST", "/api/alerts", {"json": {"name": "x", "q": QUESTION}}),
        ("GET", "/api/alerts/x/answers", {}),
        ("GET", "/", {}),
        ("GET", "/config", {}),
        ("GET", "/gradio_api/info", {}),
        ("GET", "/gradio_api/info?all_endpoints=true", {}),
        ("POST", "/gradio_api/queue/join", join),
        ("GET", "/gradio_api/queue/data?session_hash=x1", {}),
        ("POST", "/gradio_api/call/search_json", {"json": {"data": [QUESTION]}}),
        ("POST", "/gradio_api/run/search_json", {"json": {"data": [QUESTION]}}),
        ("POST", "/gradio_api/upload", {"files": {"files": ("a.txt", b"Kerry traf Lawrow.")}}),
        ("GET", f"/gradio_api/file={article}", {}),
        ("GET", f"/file={article}", {}),
        ("POST", "/gradio_api/mcp/", {"json": TOOLS_LIST, "headers": MCP_HEADERS}),
        ("GET", "/gradio_api/mcp/sse", {}),
        ("GET", "/gradio_api/mcp/schema", {}),
        ("GET", "/edit/", {}),
        ("GET", "/edit/config", {}),
        ("GET", "/edit/gradio_api/info", {}),
        ("POST", "/edit/gradio_api/queue/join", join),
        ("POST", "/edit/gradio_api/mcp/", {"json": TOOLS_LIST, "headers": MCP_HEADERS}),
        ("GET", "/theme.css", {}),
    ]


def assert_no_data(answer: httpx.Response) -> None:
    for word in DATA:
        assert word not in answer.text, (answer.request.url, word)


def test_every_route_needs_credentials(auth_server):
    with http(auth_server) as client:
        for method, path, options in routes(auth_server):
            answer = client.request(method, path, **options)
            assert answer.status_code == 401, (path, answer.status_code, answer.text[:200])
            assert answer.json() == {"error": "sign in required"}, path
            assert_no_data(answer)


def test_a_browser_is_sent_to_the_sign_in_page(auth_server):
    with http(auth_server, Accept="text/html") as client:
        answer = client.get("/")
        assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/"
        assert answer.content == b""
        page = client.get("/login?next=https://evil.example/")
        assert page.status_code == 200 and 'name="password"' in page.text
        assert "evil.example" not in page.text  # no open redirect


def test_reader_searches_everywhere_but_cannot_edit(auth_server):
    reader = sign_in(auth_server, "lena")
    hits = reader.get("/api/search", params={"q": QUESTION, "k": 2}).json()["hits"]
    assert hits and hits[0]["rank"] == 1
    config = reader.get("/config").json()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert "question" in ids and not ids & {"upload", "update", "rebuild"}
    for path in ("/edit/", "/edit/config", "/edit/gradio_api/info"):
        answer = reader.get(path)
        assert answer.status_code == 403 and "editors only" in answer.json()["error"]
    mcp = reader.post("/gradio_api/mcp/", json=TOOLS_LIST, headers=MCP_HEADERS)
    assert mcp.status_code == 200 and "search_json" in mcp.text


def _disk(server) -> dict[str, tuple[int, int]]:
    """Every file and folder below the articles and the index, with size and mtime."""
    files = [p for root in (server.articles, server.index) for p in Path(root).rglob("*")]
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in files}


def _fn_index(config: dict, elem_id: str) -> int:
    """The event id of the button or upload field ``elem_id`` in a Gradio config."""
    component = next(c["id"] for c in config["components"]
                     if c.get("props", {}).get("elem_id") == elem_id)  # fmt: skip
    return next(d["id"] for d in config["dependencies"]
                if any(t[0] == component for t in d["targets"]))  # fmt: skip


def test_raw_editing_calls_of_a_reader_are_refused_and_change_nothing(auth_server):
    editor = sign_in(auth_server, "ed")
    config = editor.get("/edit/config").json()
    rebuild, upload = _fn_index(config, "rebuild"), _fn_index(config, "upload")
    reader = sign_in(auth_server, "lena")
    before = _disk(auth_server)
    calls = [
        {"data": [], "fn_index": rebuild, "session_hash": "r1"},
        {"data": [[{"path": str(next(auth_server.articles.iterdir()))}]], "fn_index": upload,
         "session_hash": "r2"},
    ]  # fmt: skip
    for body in calls:
        answer = reader.post("/edit/gradio_api/queue/join", json=body)
        assert answer.status_code == 403 and "editors only" in answer.text, answer.text
    # The same ids sent to the reader's own app reach no editing function: it has none (an id
    # there is some search or status event, or none at all).
    for body in calls:
        reader.post("/gradio_api/queue/join", json=body)
    upload_answer = reader.post(
        "/gradio_api/upload", files={"files": ("neu.txt", b"Kerry traf Lawrow in Genf.")}
    )
    assert upload_answer.status_code == 403
    time.sleep(2)  # a started rebuild would have written by now
    assert _disk(auth_server) == before
    assert "neu.txt" not in os.listdir(auth_server.articles)


def test_tokens_revoked_live_wrong_and_malformed_then_back_off(auth_server):
    good = auth_server.tokens["reader"]
    with http(auth_server) as client:
        doomed = auth_server.tokens["revoked"]
        ok = client.get("/api/search", params={"q": QUESTION, "k": 1}, headers=bearer(doomed))
        assert ok.status_code == 200 and ok.json()["hits"]
        assert main(["tokens", "revoke", doomed.split("_")[1], "--users",
                     str(auth_server.users_file)]) == 0  # fmt: skip
        deadline = time.monotonic() + 5
        while client.get("/config", headers=bearer(doomed)).status_code == 200:
            assert time.monotonic() < deadline, "the revoked token still works after 5 s"
            time.sleep(0.2)
        assert client.get("/api/search", headers=bearer(doomed)).status_code == 401
        # the editor token reaches the editing app, the reader token does not
        assert client.get("/edit/config", headers=bearer(auth_server.tokens["editor"])).is_success
        assert client.get("/edit/config", headers=bearer(good)).status_code == 403
        sign_in(auth_server, "lena").close()  # a success clears this address's failures

        wrong = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
        bad = [wrong, "dq_123", "nonsense", "dq_" + "0" * 12 + "_" + "A" * 43, wrong, wrong]
        for token in bad:  # five failures are free, the sixth starts the back-off
            answer = client.get("/api/search", params={"q": QUESTION}, headers=bearer(token))
            assert answer.status_code == 401, token
            assert "hits" not in answer.text and "error" in answer.json()
        slowed = client.get("/api/search", params={"q": QUESTION}, headers=bearer(good))
        assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) >= 1
        assert "hits" not in slowed.text
    time.sleep(1.2)
    sign_in(auth_server, "lena").close()
    log = auth_server.log_text()
    assert "bad token for user None (id 'malformed') from 127.0.0.1" in log
    assert f"bad token for user 'lena' (id {wrong.split('_')[1]!r}) from 127.0.0.1" in log


def test_wrong_password_is_refused_and_logged_without_the_secret(auth_server):
    with http(auth_server) as client:
        answer = client.post("/login", data={"username": "lena", "password": "Rate-mal 123"})
        assert answer.status_code == 401 and "diploqa_session" not in client.cookies
    auth_server.secrets.append("Rate-mal 123")
    sign_in(auth_server, "lena").close()
    assert "failed sign-in for user 'lena' from 127.0.0.1" in auth_server.log_text()


def test_sign_out_ends_the_session(auth_server):
    client = sign_in(auth_server, "lena")
    assert client.get("/config").status_code == 200
    cookie = client.cookies["diploqa_session"]
    out = client.get("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    again = http(auth_server)
    again.cookies.set("diploqa_session", cookie)  # the old cookie, replayed
    assert again.get("/config").status_code == 401


def test_gradio_client_with_a_token_or_a_password(auth_server):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    kw = {"verbose": False, "download_files": False}
    with_token = Client(auth_server.url + "/", headers=bearer(auth_server.tokens["reader"]), **kw)
    assert with_token.predict(QUESTION, 2, api_name="/search_json")[0]["rank"] == 1
    with_password = Client(auth_server.url + "/", auth=("lena", auth_server.passwords["lena"]),
                           **kw)  # fmt: skip
    assert len(with_password.predict(QUESTION, 1, api_name="/search_json")) == 1
    with pytest.raises(AuthenticationError):
        Client(auth_server.url + "/", **kw)


def test_mcp_with_a_token(auth_server):
    with http(auth_server, **bearer(auth_server.tokens["reader"]), **MCP_HEADERS) as client:
        answer = client.post("/gradio_api/mcp/", json=TOOLS_LIST)
        assert answer.status_code == 200 and "search_json" in answer.text


def test_a_bad_users_file_stops_the_start_with_a_clear_error(auth_server, tmp_path, capsys):
    users = tmp_path / "users.json"
    users.write_bytes(auth_server.users_file.read_bytes())
    users.chmod(0o644)
    folders = ["--index", str(auth_server.index), "--articles", str(auth_server.articles)]
    done = run_cli("serve", *folders, "--port", "1", "--users", str(users))  # a real start
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "chmod 600" in done.stderr, done.stderr
    users.write_text('{"version": 1, "users": [')
    users.chmod(0o600)
    assert main(["serve", *folders, "--port", "1", "--users", str(users)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not valid JSON" in err and str(users) in err


def test_no_secret_in_the_server_log_so_far(auth_server):
    text = auth_server.log_text()
    assert [s[:6] for s in auth_server.secrets if s in text] == []
    json.dumps(text)  # the log is text
