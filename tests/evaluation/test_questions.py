"""Questions files: what a line may hold, and one-line errors naming the line for what it may
not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diploqa.evaluation import EvalQuestion, QuestionsError, read_questions

REPO = Path(__file__).resolve().parents[2]
KNOWN = {"a.txt", "b.txt", "sz/c.txt"}


def _file(tmp_path: Path, *lines: str, name: str = "q.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_questions_with_their_optional_fields(tmp_path):
    path = _file(
        tmp_path,
        json.dumps({"question": "Wer traf  Lawrow?", "relevant": ["a.txt", "b.txt", "a.txt"]}),
        "",
        json.dumps({"question": "Who met Lavrov?", "relevant": "sz/c.txt", "answer": " Kerry "}),
        json.dumps({"question": "Putin?", "relevant": ["a.txt"], "lang": "ru", "id": 7}),
    )
    questions = read_questions(path, KNOWN)
    assert questions == [
        EvalQuestion("Wer traf Lawrow?", ("a.txt", "b.txt"), None, "de", 1),
        EvalQuestion("Who met Lavrov?", ("sz/c.txt",), "Kerry", "en", 3),
        EvalQuestion("Putin?", ("a.txt",), None, "ru", 4),  # its own lang; other keys ignored
    ]
    one_name = json.dumps({"question": "Putin?", "relevant": ["a.txt"]})
    assert read_questions(_file(tmp_path, one_name), KNOWN)[0].lang == "other"  # no clue


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"relevant": ["a.txt"]}', 'line 2: no "question" field'),
        ('{"question": "Wer?"}', 'line 2: no "relevant" field'),
        ('{"question": "Wer?", "relevant": []}', 'line 2: "relevant" must be a non-empty list'),
        ('{"question": "Wer?", "relevant": [3]}', 'line 2: "relevant" must be a non-empty list'),
        ('{"question": "  ", "relevant": ["a.txt"]}', 'line 2: "question" must be non-empty'),
        ('{"question": 5, "relevant": ["a.txt"]}', 'line 2: "question" must be non-empty text'),
        ('{"question": "Wer?", "relevant": ["a.txt"], "answer": ""}', 'line 2: "answer" must'),
        ('{"question": "Wer?", "relevant": ["x.txt"]}', "line 2: unknown article id 'x.txt'"),
        ('{"question": "Wer?", "relevant": ["a.txt"]', "line 2: not JSON"),
        ('["Wer?", "a.txt"]', "line 2: not a JSON object"),
        ('{"question": "\\u0000", "relevant": ["a.txt"]}', "line 2: the question is empty"),
    ],
)
def test_a_bad_line_is_one_line_naming_it(tmp_path, line, message):
    good = json.dumps({"question": "Wer traf Lawrow?", "relevant": ["a.txt"]})
    path = _file(tmp_path, good, line, good)
    with pytest.raises(QuestionsError) as caught:
        read_questions(path, KNOWN)
    text = str(caught.value)
    assert text.startswith(f"{path} line 2: ") and message in text, text
    assert "\n" not in text


def test_unknown_id_names_what_ids_look_like(tmp_path):
    path = _file(tmp_path, json.dumps({"question": "Wer?", "relevant": ["a"]}))
    with pytest.raises(QuestionsError, match=r"relative to the articles folder, e\.g\. 'a\.txt'"):
        read_questions(path, KNOWN)
    assert read_questions(path)[0].relevant == ("a",)  # without an index nothing is checked


@pytest.mark.parametrize("content", ["", "\n  \n", "\ufeff"])
def test_an_empty_file_says_what_a_line_holds(tmp_path, content):
    path = tmp_path / "empty.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(QuestionsError, match=r"empty\.jsonl: no questions \(one JSON object a"):
        read_questions(path, KNOWN)


def test_unreadable_files(tmp_path):
    with pytest.raises(QuestionsError, match="cannot read the questions file"):
        read_questions(tmp_path / "missing.jsonl")
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes('{"question": "Gespräche?", "relevant": ["a.txt"]}'.encode("latin-1"))
    with pytest.raises(QuestionsError, match="not UTF-8"):
        read_questions(latin)


def test_the_shipped_seed_questions_are_the_tests_seed_questions():
    """examples/seed-questions.jsonl (the README's example) asks what tests/test_search.py
    asks, with an answer for each."""
    from test_search import SEED_QUESTIONS_DE, SEED_QUESTIONS_EN

    questions = read_questions(REPO / "examples" / "seed-questions.jsonl")
    expected = [(q, (a,), "de") for q, a in SEED_QUESTIONS_DE]
    expected += [(q, (a,), "en") for q, a in SEED_QUESTIONS_EN]
    assert [(q.question, q.relevant, q.lang) for q in questions] == expected
    assert all(q.answer for q in questions)
