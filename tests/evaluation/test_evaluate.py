"""``evaluate`` and ``diploqa eval`` on the seeds with the real model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from diploqa.cli import main
from diploqa.evaluation import (
    COLUMNS,
    EvalQuestion,
    EvalReport,
    QuestionsError,
    ask,
    evaluate,
    rank_metrics,
)
from diploqa.evaluation.runner import _is_relevant
from diploqa.hits import Copy

REPO = Path(__file__).resolve().parents[2]
SEED_QUESTIONS = REPO / "examples" / "seed-questions.jsonl"
SOCHI = "001_50e04ee83bc37b66.txt"
ZEIT = "002_be091d36af22014c.txt"


@pytest.fixture(scope="module")
def seed_report(seed_index) -> EvalReport:
    return evaluate(seed_index, SEED_QUESTIONS)


def test_report_on_the_seed_questions(seed_report, seed_index):
    report = seed_report
    assert report.overall.n == 22 and set(report.by_lang) == {"de", "en"}
    assert report.by_lang["de"].n == report.by_lang["en"].n == 11
    # tests/test_search.py: every seed question finds its article among the first three
    assert all(r.rank is not None and r.rank <= 3 for r in report.results)
    for column in COLUMNS:
        e = report.overall.metrics[column]
        assert 0 <= e.low <= e.value <= e.high <= 1
    # the overall mean is the mean of the questions' values
    mrr = [r.metrics["MRR@10"] for r in report.results]
    assert report.overall.metrics["MRR@10"].value == pytest.approx(np.mean(mrr))
    assert report.overall.metrics["R@5"].value == 1
    assert report.overall.metrics["answer sentence"].n == 22
    # the same ranking, the same numbers: seeded intervals included
    assert evaluate(seed_index, SEED_QUESTIONS) == report


def test_each_result_is_what_a_search_shows(seed_index, seed_report):
    result = seed_report.results[0]
    assert result.question.question == "Wer traf Lawrow in Sotschi?"
    hits = seed_index.search(result.question.question, k=10, per_article=1)
    assert [h.source for h in result.hits] == [h.source for h in hits]
    assert len({h.source for h in result.hits}) == len(result.hits) == 5  # one per article
    relevant = [h.source == SOCHI for h in hits]
    assert result.relevant == tuple(relevant)
    assert result.metrics == rank_metrics(relevant, 1, [h.score for h in hits])
    first = result.first_relevant
    assert first is not None and first.source == SOCHI
    assert result.answered == ("kerry" in first.highlighted_sentence.lower())


def test_answer_sentence_is_checked_on_the_first_relevant_hit(seed_index):
    question = EvalQuestion.make("Wer traf Lawrow in Sotschi?", [ZEIT], answer="Lawrow")
    result = ask(seed_index, question)
    assert result.rank is not None and result.rank > 1  # another article came first
    assert result.first_relevant.source == ZEIT
    expected = "lawrow" in result.first_relevant.highlighted_sentence.lower()
    assert result.answered is expected
    missing = replace(question, answer="ein Satz, den kein Artikel enthält")
    assert ask(seed_index, missing).answered is False
    assert ask(seed_index, replace(question, answer=None)).answered is None


def test_a_duplicate_of_the_relevant_article_counts(seed_index):
    """A hit counts when its story's other printing is the relevant one (the search shows one
    printing of a story; the others are in ``Hit.duplicates``)."""
    hit = seed_index.search("Wer traf Lawrow in Sotschi?", k=1)[0]
    assert hit.source == SOCHI
    copy = replace(hit, source="elsewhere.txt", duplicates=(Copy(SOCHI, "t", None, None, None),))
    assert _is_relevant(copy, frozenset({SOCHI}))
    assert not _is_relevant(copy, frozenset({ZEIT}))


def test_questions_about_articles_the_index_lacks(seed_index, tmp_path):
    with pytest.raises(QuestionsError, match="question 2: unknown article id 'nope'"):
        evaluate(seed_index, [EvalQuestion.make("Wer?", SOCHI), EvalQuestion.make("Wo?", "nope")])
    with pytest.raises(QuestionsError, match="no questions"):
        evaluate(seed_index, [])


def test_cli_prints_tables_and_writes_json(built, capsys, tmp_path):
    _, index_dir = built
    out = tmp_path / "eval.json"
    args = ["eval", str(SEED_QUESTIONS), "--index", str(index_dir), "--json", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "22 questions, 10 articles per question" in text
    for header in ("R@1", "R@5", "MRR@10", "nDCG@10", "answer sentence"):
        assert header in text
    assert "\noverall       22 " in text and "\nde            11 " in text
    assert "Worst questions" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data["overall"]) >= {"R@1", "R@5", "MRR@10", "nDCG@10", "n"}
    assert data["overall"]["n"] == 22 and set(data["by_lang"]) == {"de", "en"}
    assert data["overall"]["R@5"] == 1.0
    low, high = data["overall"]["intervals"]["MRR@10"]
    assert low <= data["overall"]["MRR@10"] <= high
    assert data["proxy"] is False and len(data["worst"]) <= 5
    assert data["overall"]["n_answers"] == 22 and 0 <= data["overall"]["answer_sentence"] <= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a questions file or --from-archive"),
        (["--from-archive", "q.jsonl"], "give a questions file or --from-archive"),
        (["missing.jsonl"], "missing.jsonl: no such questions file"),
        (["--sample", "3", "q.jsonl"], "--sample works with --from-archive only"),
        (["--from-archive", "--compare", "use_weight"], "--compare takes KEY=V1,V2"),
        (["--from-archive", "--compare", "colour=red"], "'colour' is no setting"),
        (["--from-archive", "--json", "no/such/dir/x.json"], "--json: no folder"),
    ],
)
def test_cli_errors_are_one_line(built, capsys, tmp_path, monkeypatch, args, message):
    _, index_dir = built
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.jsonl").write_text('{"question": "Wer?", "relevant": ["x"]}\n')
    assert main(["eval", *args, "--index", str(index_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_cli_bad_questions_file_names_the_line(built, capsys, tmp_path):
    _, index_dir = built
    path = tmp_path / "q.jsonl"
    path.write_text(
        f'{{"question": "Wer traf Lawrow?", "relevant": ["{SOCHI}"]}}\n'
        '{"question": "Wo?", "relevant": ["sochi.txt"]}\n',
        encoding="utf-8",
    )
    assert main(["eval", str(path), "--index", str(index_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path} line 2: unknown article id 'sochi.txt'")
    assert err.count("\n") == 1
