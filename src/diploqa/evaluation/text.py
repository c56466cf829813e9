"""An evaluation as text for a terminal: tables per question language, the worst questions,
settings side by side."""

from __future__ import annotations

import math
import textwrap

from .bootstrap import Estimate
from .results import COLUMNS, SENTENCE, Comparison, EvalReport, QuestionResult, Summary

PROXY_NOTE = (
    "PROXY QUESTIONS, made from the archive itself: each sampled article's headline and one "
    "sentence of its body, the article as the answer; the passages holding the sentence are "
    "left out of the search, the headline stays in every passage's embedding. They compare "
    "settings on this archive; they do not measure how well people's questions are answered "
    "(write a questions file for that)."
)
_LABEL = 14
_CELL = 21


def _number(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.3f}"


def _cell(estimate: Estimate) -> str:
    if estimate.n == 0:
        return "–"
    return f"{_number(estimate.value)} ({_number(estimate.low)}–{_number(estimate.high)})"


def _row(label: str, cells: list[str], widths: list[int]) -> str:
    return f"{label:<{_LABEL}}" + "".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))


def summary_table(groups: dict[str, Summary]) -> str:
    """One line per group: n, then each column's mean (95 % interval)."""
    widths = [6] + [_CELL] * len(COLUMNS)
    lines = [_row("", ["n", *COLUMNS], widths).rstrip()]
    for name, summary in groups.items():
        cells = [_cell(summary.metrics[c]) for c in COLUMNS]
        answers = summary.metrics[SENTENCE].n
        if answers and answers != summary.n:
            cells[-1] += f" of {answers}"
        lines.append(_row(name, [str(summary.n), *cells], widths).rstrip())
    return "\n".join(lines)


def _quote(text: str, width: int = 160) -> str:
    return "“" + textwrap.shorten(text, width, placeholder=" …") + "”"


def worst_text(results: list[QuestionResult]) -> str:
    """Each question with where its article came and what came first instead."""
    if not results:
        return "Worst questions: none; every question's article came first."
    lines = ["Worst questions (lowest MRR@10 first), and what came first instead:"]
    for n, r in enumerate(results, start=1):
        q = r.question
        lines.append(f"{n:>3}. [{q.lang}] {_quote(q.question, 200)}")
        found = f"at rank {r.rank}" if r.rank else f"not among the first {len(r.hits)}"
        lines.append(f"     relevant: {', '.join(q.relevant)}: {found}")
        if r.hits and r.rank != 1:
            top = r.hits[0]
            lines.append(f"     first: {top.source} {_quote(top.title, 80)}")
            lines.append(f"            {_quote(top.highlighted_sentence)}")
        if r.answered is False and r.first_relevant is not None:
            lines.append(
                f"     answer {_quote(q.answer or '', 60)} not in the highlighted sentence "
                f"{_quote(r.first_relevant.highlighted_sentence)}"
            )
    return "\n".join(lines)


def report_text(report: EvalReport, worst: int = 5) -> str:
    """The summary table, and the ``worst`` questions answered worst."""
    parts = []
    if report.proxy:
        parts.append(textwrap.fill(PROXY_NOTE, 100))
    parts.append(
        f"{report.overall.n} questions, {report.k} articles per question; article-level "
        "metrics, mean (95 % bootstrap interval):"
    )
    parts.append(summary_table(report.groups))
    if worst:
        parts.append(worst_text(report.worst(worst)))
    return "\n\n".join(parts)


def _difference(estimate: Estimate) -> str:
    if estimate.n == 0 or math.isnan(estimate.value):
        return "–"
    mark = " *" if estimate.excludes_zero else ""
    return (f"{estimate.value:+.3f} ({estimate.low:+.3f} to {estimate.high:+.3f}){mark}").replace(
        "-", "−"
    )


def comparison_text(comparison: Comparison, worst: int = 0) -> str:
    """Per group, each column under every setting and each setting's difference to the
    first."""
    labels = list(comparison.reports)
    base = comparison.reports[labels[0]]
    parts = []
    if base.proxy:
        parts.append(textwrap.fill(PROXY_NOTE, 100))
    intro = (
        f"Compared: {', '.join(labels)} ({labels[0]} is the baseline); {base.overall.n} "
        f"questions, {base.k} articles per question. Differences to the baseline with their "
        "95 % interval (paired bootstrap); * the interval lies on one side of 0: more than "
        "the luck of which questions were asked."
    )
    parts.append(textwrap.fill(intro, 100, break_on_hyphens=False, break_long_words=False))
    names = {group: f"{group} ({summary.n})" for group, summary in base.groups.items()}
    width = max(len(name) for name in [*COLUMNS, *names.values()])
    for group in base.groups:
        head = [names[group].ljust(width), *labels]
        head += [f"{lab} − {labels[0]}" for lab in labels[1:]]
        lines = ["   ".join(head)]
        for column in COLUMNS:
            values = [comparison.reports[lab].groups[group].metrics[column] for lab in labels]
            cells = [column.ljust(width)]
            cells += [
                _number(v.value).ljust(len(lab)) for v, lab in zip(values, labels, strict=True)
            ]
            cells += [_difference(comparison.differences[lab][group][column]) for lab in labels[1:]]
            lines.append("   ".join(cells).rstrip())
        parts.append("\n".join(lines))
    if worst:
        for label, report in comparison.reports.items():
            parts.append(f"{label}: " + worst_text(report.worst(worst)))
    return "\n\n".join(parts)
