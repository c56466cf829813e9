"""Ask every question of an evaluation through the real search and score the answers.

Each question is asked as a user's search is (:meth:`~diploqa.index.Index.search`), for ``k``
articles: one passage per article (``per_article=1``, the best one, whose highlighted sentence
is what a reader sees first), one printing per story. A proxy question's own passages are left
out of reach (:meth:`~diploqa.index.Index.search_without`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..config import RankingConfig
from ..hits import Hit
from ..index import Index
from ..query import Query
from .bootstrap import ROUNDS, SEED
from .metrics import DEPTH, METRICS, contains_answer, rank_metrics
from .questions import EvalQuestion, QuestionsError, read_questions
from .results import COLUMNS, Comparison, EvalReport, QuestionResult, Summary
from .variants import Variant, parse_variants

#: Called after each question with (questions done, questions in all).
Progress = Callable[[int, int], None]


def _stories(index: Index, articles: Sequence[str]) -> int:
    """How many distinct stories ``articles`` are: a search shows one printing of each."""
    if not index.ranking.group_duplicates:
        return len(set(articles))
    return len({index.ranker.story_of.get(a, (a,))[0] for a in articles})


def _is_relevant(hit: Hit, relevant: frozenset[str]) -> bool:
    return hit.source in relevant or any(c.source in relevant for c in hit.duplicates)


def ask(index: Index, question: EvalQuestion, k: int = DEPTH) -> QuestionResult:
    """The result of one question over ``index``."""
    query = Query(question.question, k=k, per_article=1)
    if question.left_out:
        hits = index.search_without(query, question.left_out)
    else:
        hits = index.search(query)
    wanted = frozenset(question.relevant)
    relevant = tuple(_is_relevant(h, wanted) for h in hits)
    n_relevant = max(_stories(index, question.relevant), sum(relevant))
    metrics = rank_metrics(relevant, n_relevant, [h.score for h in hits])
    answered = None
    if question.answer is not None:
        first = next((h for h, r in zip(hits, relevant, strict=True) if r), None)
        answered = first is not None and contains_answer(first.highlighted_sentence,
                                                         question.answer)  # fmt: skip
    return QuestionResult(question, tuple(hits), relevant, metrics, answered)


def _questions(index: Index, questions: Sequence[EvalQuestion] | str | Path) -> list[EvalQuestion]:
    if isinstance(questions, (str, Path)):
        return read_questions(questions, index.stored.articles)
    questions = list(questions)
    if not questions:
        raise QuestionsError("no questions to evaluate")
    for n, q in enumerate(questions, start=1):
        unknown = [a for a in q.relevant if a not in index.stored.articles]
        if unknown:
            where = f"line {q.line}" if q.line else f"question {n}"
            raise QuestionsError(f"{where}: unknown article id {unknown[0]!r}: not in the index")
    return questions


def evaluate(
    index: Index,
    questions: Sequence[EvalQuestion] | str | Path,
    *,
    k: int = DEPTH,
    ranking: RankingConfig | None = None,
    rounds: int = ROUNDS,
    seed: int = SEED,
    progress: Progress | None = None,
) -> EvalReport:
    """How well ``index`` answers ``questions`` (a JSON Lines file or :class:`EvalQuestion`
    values): R@1, R@5, MRR@10, nDCG@10 at the article level and the answer-sentence check,
    overall and per question language, with 95 % bootstrap intervals (seeded by ``seed``).

    Args:
        k: articles asked for per question (the metrics look at the first 10).
        ranking: rank this way instead of the index's own ranking (same loaded index).
        rounds: bootstrap resamples per interval.
        progress: called after each question.

    Raises:
        QuestionsError: the questions file is bad (the message names the line), empty, or
            names an article the index does not hold.
    """
    asked = _questions(index, questions)
    searched = index if ranking is None else index.with_ranking(ranking)
    results = []
    for done, question in enumerate(asked, start=1):
        results.append(ask(searched, question, k))
        if progress is not None:
            progress(done, len(asked))
    return EvalReport.of(results, k, searched.ranking, rounds, seed)


def compare(
    index: Index,
    questions: Sequence[EvalQuestion] | str | Path,
    variants: str | Sequence[Variant],
    *,
    k: int = DEPTH,
    rounds: int = ROUNDS,
    seed: int = SEED,
    progress: Progress | None = None,
) -> Comparison:
    """The same questions under several rankings of one loaded index, each against the first
    with paired 95 % intervals of the difference. ``variants``: ``"dictionary=on,off"``,
    ``"ranking.use_weight=0"`` (then the current setting beside it) or :class:`Variant` values.

    Raises:
        VariantError: the specification names no setting or a value it cannot take.
        QuestionsError: as :func:`evaluate`.
    """
    if isinstance(variants, str):
        key, variants = parse_variants(variants, index.ranking)
    else:
        key = ", ".join(v.label for v in variants)
    runs = [(variant.label, index, variant.ranking) for variant in variants]
    return _side_by_side(key, runs, _questions(index, questions), k, rounds, seed, progress)


def compare_indexes(
    indexes: Mapping[str, Index],
    questions: Sequence[EvalQuestion] | str | Path,
    *,
    k: int = DEPTH,
    rounds: int = ROUNDS,
    seed: int = SEED,
    progress: Progress | None = None,
) -> Comparison:
    """The same questions over several indexes of the same articles (built with other passage
    sizes, another model or runtime), each against the first with paired 95 % intervals of the
    difference: what a build-time setting does, which :func:`compare` cannot vary on one
    loaded index. ``indexes``: label → index, the first the baseline.

    Raises:
        QuestionsError: as :func:`evaluate`, for any of the indexes (a relevant article one
            of them does not hold).
    """
    if len(indexes) < 2:
        raise ValueError("give two indexes or more to compare")
    first, *others = indexes.values()
    asked = _questions(first, questions)  # read once, then checked against every index
    for index in others:
        _questions(index, asked)
    runs = [(label, index, None) for label, index in indexes.items()]
    return _side_by_side("index", runs, asked, k, rounds, seed, progress)


def _side_by_side(
    key: str,
    runs: Sequence[tuple[str, Index, RankingConfig | None]],
    asked: list[EvalQuestion],
    k: int,
    rounds: int,
    seed: int,
    progress: Progress | None,
) -> Comparison:
    """The questions ``asked`` under each run (label, index, ranking or None for the
    index's own), the first the baseline; ``progress`` counts over all of them."""
    total = len(asked) * len(runs)
    reports = {}
    for n, (label, index, ranking) in enumerate(runs):

        def step(done: int, _: int, before: int = n * len(asked)) -> None:
            if progress is not None:
                progress(before + done, total)

        reports[label] = evaluate(
            index, asked, k=k, ranking=ranking, rounds=rounds, seed=seed, progress=step
        )
    return Comparison.of(key, reports, rounds, seed)


def rank_summary(
    rankings: Sequence[Sequence[str]],
    questions: Sequence[EvalQuestion],
    scores: Sequence[Sequence[float]] | None = None,
    *,
    rounds: int = ROUNDS,
    seed: int = SEED,
) -> Summary:
    """The summary of article rankings made another way (a baseline such as the raw model or
    BM25; ``scores`` beside them for ties), scored as :func:`evaluate` scores a search: an
    article's later entries dropped, no answer-sentence check."""
    values = []
    for n, (ranked, question) in enumerate(zip(rankings, questions, strict=True)):
        first = {a: i for i, a in reversed(list(enumerate(ranked)))}
        order = sorted(first.values())[:DEPTH]
        relevant = [ranked[i] in question.relevant for i in order]
        tied = None if scores is None else [scores[n][i] for i in order]
        metrics = rank_metrics(relevant, len(set(question.relevant)), tied)
        values.append([metrics[m] for m in METRICS] + [math.nan])
    return Summary.of(np.asarray(values, dtype=np.float64).reshape(-1, len(COLUMNS)), rounds, seed)
