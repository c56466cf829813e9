"""What an evaluation returns: each question's result, the summary per question language and
overall with intervals (:class:`EvalReport`), and settings side by side (:class:`Comparison`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..config import RankingConfig
from ..hits import Hit
from .bootstrap import ROUNDS, SEED, Estimate, mean_interval, paired_difference
from .metrics import METRICS
from .questions import EvalQuestion

#: The answer-sentence check's name in the tables, beside :data:`METRICS`.
SENTENCE = "answer sentence"
#: Every column of a summary, in order.
COLUMNS = (*METRICS, SENTENCE)
#: The name of the all-questions group.
OVERALL = "overall"


@dataclass(frozen=True)
class QuestionResult:
    """How one question fared.

    Attributes:
        question: what was asked.
        hits: the search's hits, one per article (the best passage of each), best first.
        relevant: for each hit, whether its article (or another printing of its story) is
            relevant.
        metrics: :data:`~.metrics.METRICS` of this question.
        answered: whether the highlighted sentence of the first relevant hit contains the
            answer (False where no relevant hit came back; None: the question has no answer).
    """

    question: EvalQuestion
    hits: tuple[Hit, ...]
    relevant: tuple[bool, ...]
    metrics: dict[str, float]
    answered: bool | None

    @property
    def rank(self) -> int | None:
        """Rank of the first relevant hit (None: none among the hits)."""
        return next((i for i, r in enumerate(self.relevant, start=1) if r), None)

    @property
    def first_relevant(self) -> Hit | None:
        rank = self.rank
        return None if rank is None else self.hits[rank - 1]

    def values(self) -> list[float]:
        """This question's value in each of :data:`COLUMNS` (NaN: does not count)."""
        answered = np.nan if self.answered is None else float(self.answered)
        return [self.metrics[m] for m in METRICS] + [answered]

    def as_dict(self) -> dict:
        top = self.hits[0] if self.hits else None
        found = self.first_relevant
        return {
            "question": self.question.question,
            "lang": self.question.lang,
            "relevant": list(self.question.relevant),
            "rank": self.rank,
            **{m: round(v, 6) for m, v in self.metrics.items()},
            "answer": self.question.answer,
            "answered": self.answered,
            "sentence": found.highlighted_sentence if found else None,
            "first": None if top is None else {"source": top.source, "title": top.title,
                                               "sentence": top.highlighted_sentence},
        }  # fmt: skip


@dataclass(frozen=True)
class Summary:
    """The mean of each column over a group of questions, with 95 % intervals.

    Attributes:
        n: questions in the group.
        metrics: column → estimate (the answer sentence over the questions that have an
            answer; its ``n`` says how many).
    """

    n: int
    metrics: dict[str, Estimate]

    @classmethod
    def of(cls, values: np.ndarray, rounds: int = ROUNDS, seed: int = SEED) -> Summary:
        """The summary of ``values`` (one row per question, one column per :data:`COLUMNS`)."""
        return cls(
            len(values),
            {c: mean_interval(values[:, i], rounds, seed) for i, c in enumerate(COLUMNS)},
        )

    def as_dict(self) -> dict:
        """``{"R@1": …, …, "answer_sentence": …, "n": …, "n_answers": …, "intervals":
        {"R@1": [low, high], …}}``."""
        out: dict = {json_key(c): e.as_dict()["value"] for c, e in self.metrics.items()}
        out["n"] = self.n
        out["n_answers"] = self.metrics[SENTENCE].n
        out["intervals"] = {json_key(c): [e.as_dict()["low"], e.as_dict()["high"]]
                            for c, e in self.metrics.items()}  # fmt: skip
        return out


def json_key(column: str) -> str:
    """A column's name in JSON: ``answer_sentence`` for the answer sentence, the others as
    they are (``R@1``, ``MRR@10``)."""
    return column.replace(" ", "_")


def _values(results: Sequence[QuestionResult]) -> np.ndarray:
    return np.asarray([r.values() for r in results], dtype=np.float64).reshape(-1, len(COLUMNS))


def _groups(results: Sequence[QuestionResult]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, result in enumerate(results):
        groups.setdefault(result.question.lang, []).append(i)
    return dict(sorted(groups.items()))


@dataclass(frozen=True)
class EvalReport:
    """The evaluation of one setting over a question set.

    Attributes:
        overall: every question.
        by_lang: per question language (``lang`` of each question).
        results: each question's result, in the order asked.
        k: articles each search returned.
        ranking: the ranking it was searched with.
        proxy: the questions were made from the archive (:mod:`.proxy`), not asked by people.
    """

    overall: Summary
    by_lang: dict[str, Summary]
    results: tuple[QuestionResult, ...]
    k: int
    ranking: RankingConfig
    proxy: bool = False

    @classmethod
    def of(
        cls,
        results: Sequence[QuestionResult],
        k: int,
        ranking: RankingConfig,
        rounds: int = ROUNDS,
        seed: int = SEED,
    ) -> EvalReport:
        values = _values(results)
        by_lang = {
            lang: Summary.of(values[rows], rounds, seed) for lang, rows in _groups(results).items()
        }
        return cls(
            Summary.of(values, rounds, seed),
            by_lang,
            tuple(results),
            k,
            ranking,
            any(r.question.proxy for r in results),
        )

    @property
    def groups(self) -> dict[str, Summary]:
        """``overall`` first, then each language."""
        return {OVERALL: self.overall, **self.by_lang}

    def worst(self, n: int = 5) -> list[QuestionResult]:
        """The ``n`` questions answered worst: lowest MRR@10, then nDCG@10, then the answer
        sentence missed, in the order asked among equals."""
        order = sorted(
            range(len(self.results)),
            key=lambda i: (
                self.results[i].metrics["MRR@10"],
                self.results[i].metrics["nDCG@10"],
                self.results[i].answered is not False,
                i,
            ),
        )
        return [self.results[i] for i in order[:n] if _imperfect(self.results[i])]

    def as_dict(self, worst: int = 5) -> dict:
        """The JSON of ``diploqa eval --json``."""
        return {
            "overall": self.overall.as_dict(),
            "by_lang": {lang: s.as_dict() for lang, s in self.by_lang.items()},
            "k": self.k,
            "proxy": self.proxy,
            "worst": [r.as_dict() for r in self.worst(worst)],
        }


def _imperfect(result: QuestionResult) -> bool:
    return result.metrics["MRR@10"] < 1 or result.answered is False


@dataclass(frozen=True)
class Comparison:
    """Settings side by side over the same questions and the same loaded index.

    Attributes:
        key: what was varied (``dictionary``, ``ranking.use_weight``, …).
        reports: label → report, the first the baseline.
        differences: label → group → column → the paired difference to the baseline with
            its 95 % interval (every label but the baseline's).
    """

    key: str
    reports: dict[str, EvalReport]
    differences: dict[str, dict[str, dict[str, Estimate]]]

    @classmethod
    def of(
        cls, key: str, reports: dict[str, EvalReport], rounds: int = ROUNDS, seed: int = SEED
    ) -> Comparison:
        labels = list(reports)
        base = reports[labels[0]]
        base_values = _values(base.results)
        groups = {OVERALL: list(range(len(base.results))), **_groups(base.results)}
        differences = {}
        for label in labels[1:]:
            values = _values(reports[label].results)
            differences[label] = {
                group: {
                    c: paired_difference(values[rows, i], base_values[rows, i], rounds, seed)
                    for i, c in enumerate(COLUMNS)
                }
                for group, rows in groups.items()
            }
        return cls(key, reports, differences)

    @property
    def baseline(self) -> str:
        return next(iter(self.reports))

    def as_dict(self, worst: int = 5) -> dict:
        return {
            "compare": self.key,
            "baseline": self.baseline,
            "variants": {label: r.as_dict(worst) for label, r in self.reports.items()},
            "differences": {
                label: {
                    group: {json_key(c): e.as_dict() | {"outside_interval": e.excludes_zero}
                            for c, e in columns.items()}
                    for group, columns in groups.items()
                }
                for label, groups in self.differences.items()
            },
        }  # fmt: skip
