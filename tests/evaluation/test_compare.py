"""``--compare KEY=V1,V2``: settings parsed, run on one loaded index, differences with
paired intervals."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from diploqa.cli import main
from diploqa.config import ChunkingConfig, RankingConfig
from diploqa.evaluation import (
    QuestionsError,
    VariantError,
    compare,
    compare_indexes,
    evaluate,
    parse_variants,
)
from diploqa.evaluation.command import _labels

REPO = Path(__file__).resolve().parents[2]
SEED_QUESTIONS = REPO / "examples" / "seed-questions.jsonl"


def test_parse_settings():
    key, variants = parse_variants("dictionary=on,off")
    assert key == "dictionary"
    assert [v.label for v in variants] == ["dictionary=on", "dictionary=off"]
    assert [v.ranking.dictionary for v in variants] == [True, False]
    key, variants = parse_variants("ranking.use_weight=0", RankingConfig(candidates=50))
    assert [v.label for v in variants] == [
        "ranking.use_weight=0.15 (current)",
        "ranking.use_weight=0",
    ]
    assert variants[0].ranking == RankingConfig(candidates=50)
    assert variants[1].ranking == RankingConfig(candidates=50, use_weight=0.0)
    _, variants = parse_variants("candidates=50,200")
    assert [v.ranking.candidates for v in variants] == [50, 200]
    _, variants = parse_variants("ranking.sections=false,true")
    assert [v.ranking.sections for v in variants] == [False, True]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("dictionary", "takes KEY=V1,V2"),
        ("=1,2", "takes KEY=V1,V2"),
        ("colour=1,2", "'colour' is no setting; use dictionary=on,off or ranking.FIELD"),
        ("dictionary=maybe", "dictionary takes on or off, not 'maybe'"),
        ("ranking.candidates=1.5", "takes a whole number, not '1.5'"),
        ("ranking.hybrid_weight=heavy", "takes a number, not 'heavy'"),
        ("dictionary=on", "dictionary is on already; give two values"),
        ("dictionary=on,true", "a value of dictionary is given twice"),
    ],
)
def test_bad_settings(spec, message):
    with pytest.raises(VariantError) as caught:
        parse_variants(spec)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.fixture(scope="module")
def dictionary_comparison(seed_index):
    return compare(seed_index, SEED_QUESTIONS, "dictionary=on,off")


def test_compare_runs_each_setting_on_the_one_index(seed_index, dictionary_comparison):
    result = dictionary_comparison
    assert list(result.reports) == ["dictionary=on", "dictionary=off"]
    off = result.reports["dictionary=off"]
    assert off.ranking.dictionary is False
    # each side is what evaluate gives for that ranking alone
    alone = evaluate(
        seed_index, SEED_QUESTIONS, ranking=replace(seed_index.ranking, dictionary=False)
    )
    assert alone == off
    assert result.reports["dictionary=on"] == evaluate(seed_index, SEED_QUESTIONS)
    # the difference is the mean of the per-question differences, per group
    for group, rows in (("overall", slice(None)), ("en", slice(11, None))):
        d = result.differences["dictionary=off"][group]["MRR@10"]
        on = np.array([r.metrics["MRR@10"] for r in result.reports["dictionary=on"].results])
        offs = np.array([r.metrics["MRR@10"] for r in off.results])
        assert d.value == pytest.approx((offs[rows] - on[rows]).mean())
        assert d.low <= d.value <= d.high
    # German questions are not translated: the dictionary changes nothing for them
    german = result.differences["dictionary=off"]["de"]
    assert all(e.value == 0 and not e.excludes_zero for e in german.values())


def test_cli_compare_side_by_side(built, capsys, tmp_path):
    _, index_dir = built
    out = tmp_path / "compare.json"
    assert main(["eval", str(SEED_QUESTIONS), "--index", str(index_dir), "--compare",
                 "ranking.use_weight=0", "--json", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "Compared: ranking.use_weight=0.15 (current), ranking.use_weight=0" in text
    assert "ranking.use_weight=0 − ranking.use_weight=0.15 (current)" in text
    for group in ("overall (22)", "de (11)", "en (11)"):
        assert group in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["compare"] == "ranking.use_weight"
    assert data["baseline"] == "ranking.use_weight=0.15 (current)"
    assert set(data["variants"]) == {"ranking.use_weight=0.15 (current)", "ranking.use_weight=0"}
    diff = data["differences"]["ranking.use_weight=0"]["overall"]["MRR@10"]
    assert set(diff) == {"value", "low", "high", "n", "outside_interval"}
    variants = data["variants"]
    expected = variants["ranking.use_weight=0"]["overall"]["MRR@10"]
    expected -= variants["ranking.use_weight=0.15 (current)"]["overall"]["MRR@10"]
    assert diff["value"] == pytest.approx(expected, abs=1e-5)


@pytest.fixture(scope="module")
def short_index(seed_copy, tmp_path_factory, embedder):
    """The seeds cut into passages of 96 tokens: a build-time setting to compare."""
    import diploqa

    folder = tmp_path_factory.mktemp("short") / "index"
    return diploqa.build_index(seed_copy, folder, chunking=ChunkingConfig(96, 24))


def test_compare_indexes_puts_two_builds_side_by_side(seed_index, short_index):
    result = compare_indexes({"160": seed_index, "96": short_index}, SEED_QUESTIONS)
    assert list(result.reports) == ["160", "96"]
    assert result.reports["160"] == evaluate(seed_index, SEED_QUESTIONS)
    assert result.reports["96"] == evaluate(short_index, SEED_QUESTIONS)
    base = np.array([r.metrics["MRR@10"] for r in result.reports["160"].results])
    other = np.array([r.metrics["MRR@10"] for r in result.reports["96"].results])
    d = result.differences["96"]["overall"]["MRR@10"]
    assert d.value == pytest.approx((other - base).mean())
    assert d.low <= d.value <= d.high
    with pytest.raises(ValueError, match="two indexes or more"):
        compare_indexes({"160": seed_index}, SEED_QUESTIONS)


def test_compare_indexes_needs_the_articles_in_every_index(seed_index, tmp_path):
    import diploqa

    articles = tmp_path / "articles"
    articles.mkdir()
    seeds = sorted((REPO / "seeds").glob("*.txt"))
    for path in seeds[1:]:  # the first seed article is left out
        (articles / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    fewer = diploqa.build_index(articles, tmp_path / "index")
    with pytest.raises(QuestionsError, match=f"unknown article id '{seeds[0].name}'"):
        compare_indexes({"all": seed_index, "fewer": fewer}, SEED_QUESTIONS)


def test_cli_against_another_index(built, short_index, capsys):
    _, index_dir = built
    argv = ["eval", str(SEED_QUESTIONS), "--index", str(index_dir)]
    assert main([*argv, "--against", str(short_index.path), "--worst", "0"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # the intro is wrapped
    # both folders are called "index": the table names them by their paths
    assert f"Compared: {index_dir}, {short_index.path} ({index_dir} is the baseline)" in text
    assert f"{short_index.path} − {index_dir}" in text and "overall (22)" in text


def test_indexes_are_named_by_their_folders_where_those_differ():
    assert _labels("/a/index", "/b/index-96") == ["index", "index-96"]
    assert _labels("/a/index", "/b/index") == ["/a/index", "/b/index"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--compare", "dictionary=on,off"], "--against takes a questions file and no --compare"),
        (["--against-self"], "--against names the index itself"),
        (["--against-missing"], "no index at"),
        (["--store", "milvus-lite:{tmp}/m.db"], "--against compares index folders"),
    ],
)
def test_cli_against_errors_are_one_line(built, extra, message, capsys, tmp_path):
    _, index_dir = built
    against = {"--against-self": str(index_dir), "--against-missing": str(tmp_path / "none")}
    argv = ["eval", str(SEED_QUESTIONS), "--index", str(index_dir)]
    if extra[0] in against:
        argv += ["--against", against[extra[0]]]
    else:
        extra = [a.replace("{tmp}", str(tmp_path)) for a in extra]
        argv += ["--against", str(index_dir), *extra]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_cli_against_takes_no_proxy_questions(built, capsys):
    _, index_dir = built
    argv = ["eval", "--from-archive", "--index", str(index_dir), "--against", str(index_dir)]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "--against takes a questions file and no --from-archive" in err
    assert len(err.splitlines()) == 1
