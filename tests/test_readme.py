"""The README's examples work as written: its Python, its `diploqa` commands and its curl call
are run here against a copy of the seeds and their index (the model is the session's)."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

from diploqa import cli

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def _commands(prefix: str) -> list[list[str]]:
    """Every command line of the README's bash blocks that starts with ``prefix``
    (continuation lines joined, comments dropped)."""
    found = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == prefix:
                found.append(words)
    return found


@pytest.fixture
def in_a_copy(tmp_path, seed_copy, seed_index):
    """A folder holding ``seeds/`` and its built ``index/``, as the README's examples expect,
    made the working directory."""
    shutil.copytree(seed_copy, tmp_path / "seeds")
    shutil.copytree(seed_index.path, tmp_path / "index")
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def test_the_python_example_runs(in_a_copy, capsys):
    (example,) = [b for b in _blocks("python") if "import diploqa" in b]
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "Sotschi" in printed or "Sochi" in printed  # the answer's title or sentence
    assert re.search(r"^1 0\.\d\d ", printed, flags=re.M)  # rank 1 with its score


def test_the_diploqa_commands_run(in_a_copy):
    commands = _commands("diploqa")
    assert {c[1] for c in commands} >= {"index", "search", "serve"}
    for words in commands:
        if words[1] == "serve":  # it would not return: its flags must parse
            cli._parser().parse_args(words[1:])
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(words[1:])
        assert code == 0, (words, out.getvalue())
        printed = out.getvalue()
        if words[1] == "search" and "--timeline" in words:
            assert re.search(r"^2016\b.*\d", printed, flags=re.M), (words, printed)
        elif words[1] == "search" and "--json" not in words:
            assert printed.startswith("1. ["), (words, printed)
        elif words[1:3] == ["alerts", "add"]:
            assert re.search(r"^/feeds/\w+\.atom\?key=", printed, flags=re.M), printed
        elif words[1] == "eval":
            assert re.search(r"MRR@10", printed) and "dictionary" in printed, printed
        elif words[1:3] == ["alerts", "list"]:
            assert "Wo trafen sich Lawrow und Kerry?" in printed, printed


def test_the_curl_example_answers(app_holder):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from diploqa.app.api import json_routes

    (words,) = _commands("curl")
    url = next(w for w in words if w.startswith("http"))
    params = [
        tuple(value.split("=", 1))
        for flag, value in itertools.pairwise(words)
        if flag in ("-d", "--data-urlencode")
    ]
    server = FastAPI()
    server.router.routes.extend(json_routes(app_holder))
    response = TestClient(server).get(url.split("7860", 1)[1], params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["hits"] and set(body["hits"][0]) >= {"rank", "score", "answer_sentence"}
