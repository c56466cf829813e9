"""How well does diploqa answer on this archive? (``diploqa eval``, :func:`evaluate`).

A question set (a JSON Lines file of questions and the articles that answer them, or proxy
questions made from the archive) is asked through the real search, and scored at the article
level: R@1, R@5, MRR@10, nDCG@10, and whether the highlighted sentence holds the answer, with
95 % bootstrap intervals, per question language and overall. :func:`compare` puts rankings
side by side on one loaded index. The benchmarks (``benchmarks/quality.py``) score with the
same functions, so published numbers and a user's are computed alike.

Modules: :mod:`.questions` (reading questions), :mod:`.metrics` (one question's scores),
:mod:`.bootstrap` (intervals), :mod:`.results` (typed results), :mod:`.runner` (asking),
:mod:`.proxy` (questions from the archive), :mod:`.variants` (``--compare``), :mod:`.text`
(tables), :mod:`.command` (the CLI command).
"""

from __future__ import annotations

from .bootstrap import Estimate
from .metrics import METRICS, contains_answer, rank_metrics
from .proxy import proxy_questions
from .questions import EvalQuestion, QuestionsError, read_questions
from .results import COLUMNS, Comparison, EvalReport, QuestionResult, Summary
from .runner import ask, compare, compare_indexes, evaluate, rank_summary
from .variants import Variant, VariantError, parse_variants

__all__ = [
    "COLUMNS",
    "METRICS",
    "Comparison",
    "Estimate",
    "EvalQuestion",
    "EvalReport",
    "QuestionResult",
    "QuestionsError",
    "Summary",
    "Variant",
    "VariantError",
    "ask",
    "compare",
    "compare_indexes",
    "contains_answer",
    "evaluate",
    "parse_variants",
    "proxy_questions",
    "rank_metrics",
    "rank_summary",
    "read_questions",
]
