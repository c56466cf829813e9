"""The ``diploqa`` command: output, JSON, and one-line errors with non-zero exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from diploqa.cli import main


def test_index_then_search(tmp_path, seed_copy, capsys):
    index_dir = tmp_path / "index"
    assert main(["index", "--articles", str(seed_copy), "--index", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert "5 added" in out and "passages (+" in out and "in the index" in out

    assert main(["index", "--articles", str(seed_copy), "--index", str(index_dir)]) == 0
    assert "5 unchanged" in capsys.readouterr().out

    assert main(["search", "Who did Kerry meet in Sochi?", "--index", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert "1. [" in out and "001_50e04ee83bc37b66.txt" in out


def test_search_json(built, capsys):
    _, index_dir = built
    assert main(["search", "Wer", "schätzte", "die", "Chance", "auf", "49", "Prozent?",
                 "--index", str(index_dir), "-k", "2", "--json"]) == 0  # fmt: skip
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 2
    assert {"text", "score", "source", "title", "date", "start", "end"} <= set(hits[0])
    assert hits[0]["source"] == "004_6afb54f85d6e1e90.txt"
    assert "sentence_url" in hits[0] and hits[0]["url"] is None is hits[0]["sentence_url"]


def test_search_filters(built, capsys):
    _, index_dir = built
    base = ["search", "Was sagte Kerry?", "--index", str(index_dir), "-k", "10", "--json"]
    assert main([*base, "--outlet", "zeit online", "--outlet", "Süddeutsche Zeitung"]) == 0
    outlets = {h["outlet"] for h in json.loads(capsys.readouterr().out)}
    assert outlets == {"ZEIT ONLINE", "Süddeutsche Zeitung"}
    assert main([*base, "--since", "2016", "--until", "2016-10"]) == 0
    assert {h["source"] for h in json.loads(capsys.readouterr().out)} == {
        "000_2ef6d3f0dcbaccb7.txt"
    }
    assert main([*base[:-1], "--source", "00[34]_*"]) == 0
    out = capsys.readouterr().out
    assert "003_" in out and "000_" not in out and "001_" not in out
    assert main([*base[:-1], "--since", "2030"]) == 0
    assert capsys.readouterr().out.strip() == "no passage matches the filters"


def test_search_per_article_and_sort(built, capsys):
    _, index_dir = built
    base = ["search", "Was sagte Kerry?", "--index", str(index_dir), "-k", "8", "--json"]
    assert main(base) == 0
    relevant = json.loads(capsys.readouterr().out)
    assert len({h["source"] for h in relevant}) < len(relevant) == 8
    assert main([*base, "--per-article", "1"]) == 0
    one = [h["source"] for h in json.loads(capsys.readouterr().out)]
    assert len(set(one)) == len(one) > 1
    assert main([*base, "--sort", "date"]) == 0
    by_date = json.loads(capsys.readouterr().out)
    assert sorted(by_date, key=lambda h: h["rank"]) == relevant  # ranks stay relevance ranks
    dates = [h["date"] or "" for h in by_date]
    assert dates == sorted(dates, reverse=True) and by_date != relevant
    both = [*base, "--sort", "date", "--per-article", "1"]
    assert main(both) == 0
    expected = [h["rank"] for h in json.loads(capsys.readouterr().out)]
    assert sorted(expected) == list(range(1, len(one) + 1))
    assert main([a for a in both if a != "--json"]) == 0  # as text: with relevance ranks
    printed = re.findall(r"^(\d+)\. \[", capsys.readouterr().out, flags=re.MULTILINE)
    assert [int(r) for r in printed] == expected


def test_passage_sizes_are_named_once_and_kept(tmp_path, seed_copy, capsys):
    index_dir = tmp_path / "index"
    base = ["index", "--articles", str(seed_copy), "--index", str(index_dir)]
    assert main([*base, "--passages", "96/24"]) == 0
    capsys.readouterr()
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["chunking"] == {"chunk_tokens": 96, "overlap_tokens": 24, "section_tokens": 400}
    assert main(base) == 0  # an update without --passages keeps them: nothing is embedded
    assert "5 unchanged" in capsys.readouterr().out
    assert main([*base, "--passages", "160"]) == 0  # 160/32: every article again
    assert "full build (chunking parameters changed)" in capsys.readouterr().out
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["chunking"]["chunk_tokens"] == 160
    assert manifest["chunking"]["overlap_tokens"] == 32


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8", "passages must be 16 to 448 tokens long, not 8"),
        ("96/60", "passages of 96 tokens may overlap by 0 to 48, not 60"),
        ("96/-1", "may overlap by 0 to 48, not -1"),
        ("ninety", "passages are TOKENS or TOKENS/OVERLAP"),
        ("96/24/1", "passages are TOKENS or TOKENS/OVERLAP"),
    ],
)
def test_bad_passage_sizes_are_a_usage_error(value, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["index", "--index", str(tmp_path / "i"), "--passages", value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and not (tmp_path / "i").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "x", "--since", "gestern"], "since must be a date like 2016"),
        (["search", "x", "--sort", "newest"], "sort must be one of relevance, date"),
        (["search", "x", "--since", "2017", "--until", "2016"], "is after until"),
        (["search", "   "], "question is empty"),
        (["search", ""], "question is empty"),
        (["search", "x", "--index", "{missing}"], "no index at"),
        (["index", "--articles", "{missing}", "--index", "{tmp}/i"], "not found"),
        (["index", "--articles", "{empty}", "--index", "{tmp}/i"], "No article files"),
    ],
)
def test_errors_are_one_line_and_non_zero(tmp_path, capsys, argv, message):
    (tmp_path / "empty").mkdir()
    subst = {"{missing}": str(tmp_path / "missing"), "{empty}": str(tmp_path / "empty")}
    argv = [subst.get(a, a.replace("{tmp}", str(tmp_path))) for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err
    assert len(err.splitlines()) == 1


def test_corrupt_index_error_names_file_and_fix(built, capsys):
    _, index_dir = built
    (index_dir / "manifest.json").write_text("{", encoding="utf-8")
    assert main(["search", "Sotschi", "--index", str(index_dir)]) == 1
    err = capsys.readouterr().err
    assert "manifest.json" in err and "--rebuild" in err


@pytest.mark.parametrize("option", ["-k", "--per-article"])
@pytest.mark.parametrize("value", ["0", "-1", "x", "2.5"])
def test_bad_k_is_a_usage_error(option, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "Sotschi", option, value])
    assert exit_info.value.code == 2
    assert "whole number" in capsys.readouterr().err


def test_serve_without_the_ui_extra_says_how_to_install_it(tmp_path):
    # A fresh process in which `import gradio` fails as if the 'ui' extra were not installed.
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["gradio"] = None  # makes `import gradio` raise ModuleNotFoundError
        from diploqa.cli import main
        sys.exit(main(["serve", "--index", {str(tmp_path / "index")!r},
                       "--articles", {str(tmp_path / "articles")!r}]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    err = done.stderr.strip()
    assert "the web UI needs the optional 'ui' extra (Gradio)" in err
    assert "missing module: gradio" in err and "pip install 'diploqa[ui]'" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_python_dash_m_diploqa_is_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "diploqa", "search", "Kerry", "-k", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "usage: diploqa" in done.stderr


# --- search --timeline: the matching articles per period as a histogram -----------------------

TIMELINE_QUESTION = "Gespräche von Kerry und Lawrow"


def test_search_timeline_prints_one_line_per_period(built, capsys):
    from diploqa import load_index
    from diploqa.timeline import histogram

    _, index_dir = built
    base = ["search", TIMELINE_QUESTION, "--index", str(index_dir)]
    assert main([*base, "--timeline"]) == 0  # month unless another interval is named
    out = capsys.readouterr().out
    timeline = load_index(index_dir).timeline(TIMELINE_QUESTION, "month")
    assert timeline.articles > timeline.undated > 0 and len(timeline) == 1
    assert out == histogram(timeline) + "\n"
    first, *rest = out.splitlines()
    assert re.fullmatch(r"2016-10  █+ *  1", first)  # the one dated seed
    assert f"undated: {timeline.undated}" in rest
    assert rest[-1] == f"{timeline.articles} matching articles"
    assert "1. [" not in out  # the histogram instead of the passages


def test_search_timeline_json_and_filters(built, capsys):
    _, index_dir = built
    base = ["search", TIMELINE_QUESTION, "--index", str(index_dir), "--timeline", "year"]
    assert main([*base, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["interval"] == "year" and record["question"] == TIMELINE_QUESTION
    assert record["timeline"] == [
        {"period": "2016", "start": "2016-01-01", "end": "2016-12-31", "articles": 1}
    ]
    assert record["matched"] == 1 + record["undated"] and record["capped"] is False
    assert main([*base, "--since", "2017"]) == 0
    assert capsys.readouterr().out.strip() == "0 matching articles"


def test_search_links_a_hit_to_its_answer_sentence(tmp_path, capsys, embedder):
    from diploqa import build_index

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "genf.txt").write_text(
        "title: Gespräche in Genf\nurl: https://example.org/genf\n\n"
        "Lawrow und Blinken trafen sich in Genf. Sie sprachen über die Ukraine.\n",
        encoding="utf-8",
    )
    build_index(tmp_path / "a", tmp_path / "i")
    argv = ["search", "Wo trafen sich Lawrow und Blinken?", "--index", str(tmp_path / "i")]
    assert main([*argv, "-k", "1"]) == 0
    out = capsys.readouterr().out
    assert "   https://example.org/genf#:~:text=" in out
    assert main([*argv, "-k", "1", "--json"]) == 0
    hit = json.loads(capsys.readouterr().out)[0]
    assert hit["url"] == "https://example.org/genf"
    assert hit["sentence_url"].startswith("https://example.org/genf#:~:text=") and (
        hit["sentence_url"] in out
    )


def test_search_timeline_takes_only_the_intervals(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "Kerry", "--timeline", "fortnight"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fortnight'" in capsys.readouterr().err


def test_search_timeline_in_a_fresh_process(built):
    from conftest import run_cli

    _, index_dir = built
    done = run_cli("search", TIMELINE_QUESTION, "--index", str(index_dir), "--timeline", "month")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("2016-10  █") and lines[-1].endswith("matching articles")
