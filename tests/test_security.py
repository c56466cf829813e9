"""Security: loopback by default, safe uploads, no pickle, defensive parsing, escaping,
no network at run time, and questions that try to break the CLI or the UI."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import math
import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, loaded_updater
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diploqa
from diploqa.app import handlers, render, uploads
from diploqa.app.live import IndexHolder
from diploqa.app.messages import UNEXPECTED_TEXT
from diploqa.build import BuildReport
from diploqa.cli import main
from diploqa.config import ReadLimits
from diploqa.errors import DiploqaError, IndexCorruptError, QueryError
from diploqa.query import MAX_QUERY_CHARS, check_k, clean_query

SRC = REPO / "src" / "diploqa"
GOOD = b"Kerry traf Lawrow in Genf. Sie sprachen lange ueber Syrien und die Waffenruhe.\n"
ODD_QUESTIONS = [
    "x" * 100_000,
    "Wer traf\x00 Lawrow\x07 in\x1b[31m Sotschi?\u202e",
    "Was sagt Putin? 🤔🇷🇺👍🏽",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "'; DROP TABLE articles; --",
    '" OR 1=1 --',
    "{{7*7}} ${7*7} %s %n",
    "\ud800 lone surrogate",
    "Ω" * 3000,
]


# --------------------------------------------------------------------------------------------
# Binding
# --------------------------------------------------------------------------------------------


@pytest.fixture
def fake_launch(monkeypatch):
    """Serve without serving: record the address asked for (a loopback socket stands in, so
    a LAN address of another machine can be tested here) and what would run."""
    from diploqa.app import server

    seen: dict = {}
    real_bind = server._bind

    def bind(host: str, port: int):
        seen.update(server_name=host, server_port=port)
        return real_bind("127.0.0.1", 0)

    monkeypatch.setattr(server, "_bind", bind)
    monkeypatch.setattr(server, "_run", lambda app, sock: seen.update(served=True))
    return seen


def test_serve_binds_loopback_by_default(fake_launch, seed_index, seed_copy, capsys):
    assert main(["serve", "--index", str(seed_index.path), "--articles", str(seed_copy)]) == 0
    assert fake_launch["server_name"] == "127.0.0.1" and fake_launch["served"]
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10"])
def test_exposing_the_server_needs_accounts_or_public(
    fake_launch, seed_index, seed_copy, capsys, host, tmp_path, monkeypatch
):
    monkeypatch.delenv("DIPLOQA_USERS", raising=False)
    argv = ["serve", "--index", str(seed_index.path), "--articles", str(seed_copy), "--host", host]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"refusing to serve on {host} without accounts" in err
    assert "diploqa users add NAME --role editor" in err and "--public" in err
    assert "served" not in fake_launch and "server_name" not in fake_launch  # nothing bound

    assert main([*argv, "--public"]) == 0
    assert fake_launch["server_name"] == host and fake_launch["served"]
    assert "anyone who can reach it can search" in capsys.readouterr().err

    users = tmp_path / "users.json"
    monkeypatch.setattr("sys.stdin", io.StringIO("geheim\n"))
    main(["users", "add", "ed", "--role", "editor", "--password-stdin", "--users", str(users)])
    assert main([*argv, "--users", str(users)]) == 0
    assert "TLS reverse proxy" in capsys.readouterr().err
    assert main([*argv, "--users", str(users), "--public"]) == 1
    assert "exclude each other" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/etc/cron.d/evil.txt", "evil.txt"),
        ("C:\\Windows\\System32\\evil.txt", "evil.txt"),
        ("..\\..\\..\\evil.txt", "evil.txt"),
        ("../../.bashrc.txt", "bashrc.txt"),
        ("a\x00b.txt", "a_b.txt"),
        ("a\nb\rc.txt", "a_b_c.txt"),
        ("\u202etxt.exe.md", "txt.exe.md"),
        ("  ...hidden.txt", "hidden.txt"),
        ("-rf.txt", "rf.txt"),
        ("Lawrow <b>&amp; Kerry.md", "Lawrow _b_amp_ Kerry.md"),
    ],
)
def test_hostile_upload_names_are_sanitised(name, expected):
    assert uploads.sanitize_filename(name) == expected


@pytest.mark.parametrize("name", ["x.txt\x00.png", "evil.txt/", "../", "\x00", "a.txt.", "CON"])
def test_hostile_upload_names_are_rejected(name):
    with pytest.raises(ValueError):
        uploads.sanitize_filename(name)


@pytest.mark.parametrize("stem", ["a" * 5000, "ä" * 300, "語" * 300, "Ω🙂" * 300])
def test_very_long_upload_names_fit_the_file_system(tmp_path, stem):
    out = uploads.save_upload(tmp_path, f"{stem}.txt", GOOD)
    assert out.saved_as is not None, out.message
    assert len(out.saved_as.encode("utf-8")) <= 255
    assert (tmp_path / out.saved_as).read_bytes() == GOOD
    again = uploads.save_upload(tmp_path, f"{stem}.txt", GOOD + b"Anders.\n")
    assert again.saved_as.endswith("-2.txt") and len(again.saved_as.encode()) <= 255


@pytest.mark.parametrize(
    "name", ["/tmp/x.txt", "../x.txt", "..\\x.txt", "x\x00.txt", "sub/dir/x.txt", ".x.txt"]
)
def test_uploads_land_only_inside_the_articles_folder(tmp_path, name):
    articles = tmp_path / "deep" / "articles"
    out = uploads.save_upload(articles, name, GOOD)
    assert out.saved_as is not None, out.message
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == [articles / out.saved_as]
    assert not out.saved_as.startswith(".") and "/" not in out.saved_as


def test_upload_size_limit_follows_the_article_limit(tmp_path, monkeypatch):
    out = uploads.save_upload(tmp_path, "a.txt", GOOD + GOOD, ReadLimits(max_article_bytes=100))
    assert out.kind == "rejected" and "too large" in out.message  # else skipped at indexing


def test_upload_report_and_tables_escape_names_and_titles(app_holder_security):
    outcomes = [
        uploads.UploadOutcome(
            "<img src=x onerror=alert(1)>.txt",
            "rejected",
            None,
            "<img src=x onerror=alert(1)>.txt: nur .txt",
        ),
        uploads.UploadOutcome("<b>.txt", "renamed", "_b_.txt", "<b>.txt: saved as _b_.txt"),
    ]
    report = BuildReport(added=["_b_.txt"])
    from diploqa.articles import SkippedFile

    report.skipped = [SkippedFile("<script>alert(1)</script>.txt", "empty <i>after</i>")]
    page = render.render_upload_report(outcomes, report)
    assert "<img" not in page and "<script" not in page and "<i>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in page
    error = render.render_upload_report(outcomes, None, "<script>alert(2)</script>")
    assert "<script" not in error and "&lt;script&gt;alert(2)" in error

    updater = app_holder_security
    holder = updater.holder
    table = render.render_articles_table(holder.index)
    status = render.render_status(holder.index, holder.problem, updater.pending)
    page = handlers.answer_html(holder, "Geheimtreffen Zitronenfalter Leuchtturm", 3)
    for html in (table, status, page):
        assert "<script" not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;script&gt;.txt" in table
    assert 'data-source="&lt;img src=x onerror=alert(1)&gt; &amp; &lt;script&gt;.txt"' in page


@pytest.fixture(scope="module")
def app_holder_security(tmp_path_factory, seed_copy, embedder):
    """An index with an article whose *file name* and title are markup (placed on disk
    directly, as an admin could, not through the sanitising upload)."""
    root = tmp_path_factory.mktemp("xss")
    articles = shutil.copytree(seed_copy, root / "articles")
    (articles / "<img src=x onerror=alert(1)> & <script>.txt").write_text(
        "title: Geheimtreffen <script>alert(1)</script>\n\nDer Zitronenfalter-Gipfel endete "
        "mit einer Einigung über Leuchttürme <img src=x onerror=alert(1)>.\n",
        encoding="utf-8",
    )
    diploqa.build_index(articles, root / "index")
    (articles / "<svg onload=alert(3)>.txt").write_text("Neu: Kerry traf Lawrow.\n", "utf-8")
    return loaded_updater(IndexHolder(root / "index"), articles)


# --------------------------------------------------------------------------------------------
# Nothing is unpickled; index files are parsed defensively
# --------------------------------------------------------------------------------------------

UNSAFE_MODULES = {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal", "cloudpickle"}


def test_no_pickle_or_eval_anywhere_in_the_package():
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import):
                problems += [where for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] in UNSAFE_MODULES:
                    problems.append(where)
            elif isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
                if isinstance(func, ast.Name) and name in {"eval", "exec"}:  # not model.eval()
                    problems.append(f"{where} {name}()")
                # numpy's load may read .npy/.npz files only with allow_pickle=False, said
                # explicitly (the keyword index and USE's cached weights); the others never.
                no_pickle = any(
                    kw.arg == "allow_pickle"
                    and isinstance(kw.value, ast.Constant)
                    and kw.value.value is False
                    for kw in node.keywords
                )
                if name == "load" and owner in {"torch", "pickle", "joblib"}:
                    problems.append(f"{where} {owner}.load()")
                if name == "load" and owner in {"np", "numpy"} and not no_pickle:
                    problems.append(f"{where} {owner}.load()")
                if name == "read_pickle" or any(
                    kw.arg == "allow_pickle"
                    and not (isinstance(kw.value, ast.Constant) and kw.value.value is False)
                    for kw in node.keywords
                ):
                    problems.append(f"{where} pickle")
                if name in {"unsafe_load", "full_load"} or (name == "load" and owner == "yaml"):
                    problems.append(f"{where} yaml")
    assert problems == []


def test_model_folder_holds_no_pickled_weights(embedder):
    from diploqa.config import Settings

    pickled = []
    for path in Settings.from_env().encoder.cache.rglob("*"):
        pickle_suffix = path.suffix in {".pt", ".pth", ".pkl", ".pickle", ".ckpt"}
        if path.is_file() and (pickle_suffix or path.name == "pytorch_model.bin"):
            pickled.append(path)
    assert pickled == []


def test_crafted_metadata_is_refused_not_executed(built, tmp_path):
    """A metadata.json written by an attacker who also fixed the checksum: keys that would
    reach constructors, a giant offset, a path as article id. Refused with a clear error."""
    _, index_dir = built
    manifest = json.loads((index_dir / "manifest.json").read_text())
    gen = index_dir / manifest["generation"]
    marker = tmp_path / "pwned"
    meta = {
        "articles": [
            {"id": "../../etc/passwd", "title": "x", "text": "x", "date": None,
             "outlet": None, "url": None, "content_hash": "0",
             "__reduce__": ["os.system", [f"touch {marker}"]]},
        ],
        "chunks": [{"article_id": "../../etc/passwd", "index": 0, "start": 0,
                    "end": 10**18, "text": "x"}],
    }  # fmt: skip
    data = json.dumps(meta).encode()
    (gen / "metadata.json").write_bytes(data)
    manifest["files"]["metadata.json"] = hashlib.sha256(data).hexdigest()
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match=r"cannot be parsed.*--rebuild"):
        diploqa.load_index(index_dir)
    assert not marker.exists()


# --------------------------------------------------------------------------------------------
# Hostile questions and k in the CLI and the UI handlers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ODD_QUESTIONS)
def test_cli_answers_odd_questions_without_traceback(built, capsys, question):
    _, index_dir = built
    argv = ["search", question, "--index", str(index_dir), "-k", "2", "--json"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert len(json.loads(out)) == 2 and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["search", "\x00\x01\x02"], 1, "question is empty"),
        (["search", "\u200b\u200b"], 1, "question is empty"),
        (["search", "Kerry", "-k", "1000000"], 0, ""),
        (["search", "Kerry", "-k", "1e3"], 2, "whole number"),
        (["search", "Kerry", "-k", "NaN"], 2, "whole number"),
        (["search", "Kerry", "-k", "99999999999999999999999"], 0, ""),
    ],
)
def test_cli_k_and_empty_questions(built, capsys, argv, code, message):
    _, index_dir = built
    argv = [*argv, "--index", str(index_dir)]
    if code == 2:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    else:
        assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.fixture(scope="module")
def ui_holder(seed_index, seed_copy):
    holder = IndexHolder(seed_index.path)
    holder.load()
    return holder


@pytest.mark.parametrize("question", [*ODD_QUESTIONS, "", "   ", "\x00", None, 42, ["a"]])
@pytest.mark.parametrize("k", [0, -1, 10**6, 2.5, "abc", None, math.nan, math.inf, 3])
def test_ui_handlers_never_show_a_traceback(ui_holder, question, k):
    page = handlers.answer_html(ui_holder, question, k)
    assert "Traceback" not in page and UNEXPECTED_TEXT not in page
    assert ("dq-error" in page) != ("dq-card" in page)
    try:
        records = handlers.search_records(ui_holder, question, k)
    except DiploqaError as err:
        assert "Traceback" not in str(err)
    else:
        assert 1 <= len(records) <= max(1, min(int(k), len(ui_holder.index)))


# --------------------------------------------------------------------------------------------
# Property-based: query handling
# --------------------------------------------------------------------------------------------


#: Any text, plus what st.text() leaves out: lone surrogates (which crashed the tokenizer).
ANY_TEXT = st.lists(
    st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr)), max_size=300
).map("".join)


@given(st.one_of(st.text(max_size=3000), ANY_TEXT))
def test_clean_query_is_total_and_idempotent(raw):
    try:
        text = clean_query(raw)
    except QueryError:
        assert not "".join(ch for ch in raw if ch.isprintable() and not ch.isspace())
        return
    assert text and len(text) <= MAX_QUERY_CHARS and text == text.strip()
    assert clean_query(text) == text
    assert not any(ch in text for ch in "\x00\n\t\r\u200b\u2028")
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)
    text.encode("utf-8")  # what the tokenizer needs


@given(
    st.one_of(
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=5),
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
    )
)
def test_check_k_accepts_whole_numbers_only(k):
    try:
        value = check_k(k)
    except QueryError:
        return
    assert isinstance(value, int) and value >= 1 and value == k and not isinstance(k, bool)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(question=st.one_of(st.text(max_size=400), ANY_TEXT), k=st.integers(-3, 60))
def test_index_search_over_arbitrary_text(seed_index, question, k):
    try:
        hits = seed_index.search(question, k=k)
    except QueryError:
        return
    assert 1 <= len(hits) <= k
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    for hit in hits:
        assert seed_index.article(hit.source).text[hit.start : hit.end] == hit.text


# --------------------------------------------------------------------------------------------
# No network at run time
# --------------------------------------------------------------------------------------------


def _no_network_reason() -> str | None:
    if not shutil.which("unshare"):
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create a network namespace here: {probe.stderr.strip()}"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_no_network_reason() is not None, reason=str(_no_network_reason()))
def test_search_works_without_any_network(built):
    """`diploqa search` in a network namespace with no interface up (not even loopback):
    the default model and the index are all local. HF_* offline variables are *not* set by
    the test: the code sets them itself for the default model."""
    _, index_dir = built
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    probe = subprocess.run(
        ["unshare", "-n", sys.executable, "-c",
         "import socket; socket.create_connection(('1.1.1.1', 443), timeout=3)"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert probe.returncode != 0  # really offline
    result = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "diploqa.cli", "search",
         "Who did Kerry meet in Sochi?", "--index", str(index_dir), "-k", "1", "--json"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["source"] == "001_50e04ee83bc37b66.txt"
