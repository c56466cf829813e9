"""The questions an evaluation asks (:class:`EvalQuestion`), read from a JSON Lines file.

One question per line: ``{"question": "…", "relevant": ["<article id>", …]}``, optionally
``"answer"`` (text the highlighted sentence should contain) and ``"lang"`` (the table it is
counted in; detected from its function words when absent). Article ids are what a search
returns as ``Hit.source``: the article's path relative to the articles folder. A bad line stops
the reading with one line naming the file and the line, so a typo never silently shrinks the
question set.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DiploqaError, QueryError
from ..lexical import language_of
from ..query import clean_query

#: The group of a question whose language neither its file nor its words tell.
UNKNOWN_LANGUAGE = "other"
#: Question words that tell a short question's language where its function words do not
#: ("Who met Lavrov?" has none of :func:`~diploqa.lexical.language_of`'s).
QUESTION_WORDS = {
    "en": frozenset({"who", "whom", "whose", "what", "when", "where", "why", "how", "which"}),
    "de": frozenset({"wer", "wen", "wem", "wessen", "was", "wann", "wo", "wohin", "woher",
                     "warum", "wieso", "weshalb", "wie", "welche", "welcher", "welches",
                     "welchen", "welchem"}),
}  # fmt: skip
#: What a line looks like, for the error messages.
LINE_FORMAT = '{"question": "…", "relevant": ["<article id>", …]}'


class QuestionsError(DiploqaError, ValueError):
    """A questions file cannot be read, or one of its lines is not a question (the message
    names the file and the line)."""


@dataclass(frozen=True)
class EvalQuestion:
    """One question and the articles that answer it.

    Attributes:
        question: the question, as a user would type it.
        relevant: ids of the articles that answer it (``Hit.source``); a hit counts as
            relevant when its article or one of its other printings (``Hit.duplicates``) is.
        answer: text the highlighted sentence of the first relevant hit should contain
            (None: no sentence check).
        lang: the group the question is counted in (``de``, ``en``, …).
        line: where it came from (its line in the file; 0 for questions made in code).
        left_out: chunk rows the search may not return or rank by (a proxy question's own
            passage, :mod:`.proxy`); empty for real questions.
        proxy: made from the archive itself, not asked by a person.
    """

    question: str
    relevant: tuple[str, ...]
    answer: str | None = None
    lang: str = UNKNOWN_LANGUAGE
    line: int = 0
    left_out: frozenset[int] = frozenset()
    proxy: bool = False

    @classmethod
    def make(
        cls,
        question: str,
        relevant: str | Iterable[str],
        answer: str | None = None,
        lang: str | None = None,
        **fields,
    ) -> EvalQuestion:
        """A question with its language detected where ``lang`` is not given."""
        relevant = (relevant,) if isinstance(relevant, str) else tuple(relevant)
        return cls(question, relevant, answer, lang or language_of_question(question), **fields)


def language_of_question(question: str) -> str:
    """``en``, ``de`` or :data:`UNKNOWN_LANGUAGE`: by function words, else by the first
    question word."""
    found = language_of(question)
    if found:
        return found
    first = next(iter(question.lower().split()), "")
    return next((lang for lang, words in QUESTION_WORDS.items() if first in words),
                UNKNOWN_LANGUAGE)  # fmt: skip


def read_questions(path: str | Path, known: Collection[str] | None = None) -> list[EvalQuestion]:
    """The questions of a JSON Lines file; with ``known`` (the index's article ids) every
    relevant id must be one of them.

    Raises:
        QuestionsError: the file cannot be read, holds no question, or a line is not a
            question (not JSON, a field missing or of the wrong kind, an unknown article id).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise QuestionsError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise QuestionsError(f"{path}: cannot read the questions file ({err.strerror})") from None
    questions = [
        parse_line(line, f"{path} line {number}", number, known)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not questions:
        raise QuestionsError(f"{path}: no questions (one JSON object a line: {LINE_FORMAT})")
    return questions


def parse_line(
    line: str, where: str, number: int = 0, known: Collection[str] | None = None
) -> EvalQuestion:
    """One line of a questions file; ``where`` starts every error message."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise QuestionsError(f"{where}: not JSON ({err.msg}); expected {LINE_FORMAT}") from None
    if not isinstance(record, dict):
        raise QuestionsError(f"{where}: not a JSON object; expected {LINE_FORMAT}")
    question = _text(record, "question", where, required=True)
    try:
        question = clean_query(question)
    except QueryError as err:
        raise QuestionsError(f"{where}: {err}") from None
    relevant = _relevant(record, where)
    if known is not None:
        unknown = [r for r in relevant if r not in known]
        if unknown:
            example = next(iter(sorted(known)), None)
            hint = f", e.g. {example!r}" if example else ""
            raise QuestionsError(
                f"{where}: unknown article id {unknown[0]!r}: not in the index (ids are the "
                f"article paths relative to the articles folder{hint})"
            )
    answer = _text(record, "answer", where)
    lang = _text(record, "lang", where)
    return EvalQuestion.make(question, relevant, answer, lang, line=number)


def _text(record: dict, name: str, where: str, required: bool = False) -> str | None:
    value = record.get(name)
    if value is None:
        if required:
            raise QuestionsError(f'{where}: no "{name}" field; expected {LINE_FORMAT}')
        return None
    if not isinstance(value, str) or not value.strip():
        raise QuestionsError(f'{where}: "{name}" must be non-empty text, not {value!r}')
    return value.strip()


def _relevant(record: dict, where: str) -> tuple[str, ...]:
    value = record.get("relevant")
    if value is None:
        raise QuestionsError(f'{where}: no "relevant" field (the ids of the answering articles)')
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise QuestionsError(
            f'{where}: "relevant" must be a non-empty list of article ids, not {value!r}'
        )
    return tuple(dict.fromkeys(v.strip() for v in value))
