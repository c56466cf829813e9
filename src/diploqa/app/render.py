"""Rendering: pure functions from data to HTML, kept apart so every escape can be tested.

Every piece of article text, every file name and the question pass through
:func:`html.escape` (:func:`_e`); an article is data, never markup. Nothing here touches the
index or the disk, and nothing needs Gradio.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

from ..articles import Article
from ..build import BuildReport
from ..config import RankingConfig
from ..search import Hit, Index
from .state import BUILDING_TEXT, NO_INDEX_TEXT, IndexHolder
from .uploads import UploadOutcome

#: Below this score of the best passage the UI warns that nothing really matches (a warning;
#: the results stay visible). The value is part of the ranking settings, because it depends on
#: how scores are made: :attr:`RankingConfig.low_score_threshold`.
LOW_SCORE_THRESHOLD = RankingConfig.low_score_threshold
#: Characters of article text shown before and after a passage in "Show in article".
CONTEXT_CHARS = 400

LOW_SCORE_TEXT = (
    "Keine gute Übereinstimmung: Die Artikel beantworten diese Frage wahrscheinlich nicht. "
    "/ No good match: the articles probably do not answer this question."
)


def _e(text: object) -> str:
    """Escape anything for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def render_message(text: str, kind: Literal["info", "warning", "error"] = "info") -> str:
    """A one-line banner; errors and warnings are announced to screen readers."""
    role = ' role="alert"' if kind != "info" else ""
    return f'<div class="dq-msg dq-{kind}"{role}>{_e(text)}</div>'


def score_percent(score: float) -> int:
    """Cosine similarity as a whole percentage, clamped to 0–100 for the bar."""
    return max(0, min(100, round(score * 100)))


def render_passage(text: str, highlight: tuple[int, int]) -> str:
    """The passage with its best sentence in ``<mark>``.

    The three pieces are escaped separately: escaping first would shift the offsets, and
    marking first would let the article's own ``<``/``>`` through.
    """
    a, b = highlight
    if not 0 <= a < b <= len(text):
        return _e(text)
    return f"{_e(text[:a])}<mark>{_e(text[a:b])}</mark>{_e(text[b:])}"


def render_context(article_text: str, start: int, end: int, chars: int = CONTEXT_CHARS) -> str:
    """The passage inside ``chars`` characters of its article on each side, emphasised."""
    lo, hi = max(0, start - chars), min(len(article_text), end + chars)
    before = ("… " if lo > 0 else "") + article_text[lo:start]
    after = article_text[end:hi] + (" …" if hi < len(article_text) else "")
    return (
        f"{_e(before)}<strong class='dq-context-passage'>{_e(article_text[start:end])}</strong>"
        f"{_e(after)}"
    )


def safe_url(url: str | None) -> str | None:
    """``url`` if it is a plain web address (http or https), else None: an article's URL is
    data from the archive and must never become a ``javascript:`` link."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def render_link(text: str, url: str | None, cls: str) -> str:
    """``text`` as a link to ``url`` when that is a web address, else as plain text."""
    href = safe_url(url)
    if href is None:
        return f"<span class='{cls}'>{_e(text)}</span>"
    return (
        f"<a class='{cls}' href='{_e(href)}' target='_blank' rel='noopener noreferrer'>"
        f"{_e(text)}</a>"
    )


def render_source(hit: Hit) -> str:
    """Title (linked to the article where its URL is known), outlet, date and article id."""
    parts = [f"<strong class='dq-title'>{render_link(hit.title, hit.url, 'dq-link')}</strong>"]
    parts += [f"<span>{_e(x)}</span>" for x in (hit.outlet, hit.date_text or hit.date) if x]
    parts.append(f"<code class='dq-file'>{_e(hit.source)}</code>")
    return " · ".join(parts)


def render_copies(hit: Hit) -> str:
    """ "Also in": the other outlets that printed the hit's story, linked where known."""
    if not hit.duplicates:
        return ""
    links = ", ".join(
        render_link(copy.outlet or copy.title or copy.source, copy.url, "dq-copy")
        for copy in hit.duplicates
    )
    return f"<div class='dq-copies'>Auch in / also in: {links}</div>"


def render_card(hit: Hit, article: Article | None) -> str:
    """One ranked passage as a card; ``data-source`` names the file for tests and scripts."""
    pct = score_percent(hit.score)
    context = ""
    if article is not None and article.text[hit.start : hit.end] == hit.text:
        context = (
            "<details class='dq-context'><summary>Im Artikel zeigen / Show in article"
            f"</summary><div class='dq-context-text'>"
            f"{render_context(article.text, hit.start, hit.end)}</div></details>"
        )
    return (
        f'<article class="dq-card" data-source="{_e(hit.source)}" data-rank="{hit.rank}">'
        f'<div class="dq-card-head"><span class="dq-rank">#{hit.rank}</span>'
        f'<span class="dq-score" title="Kosinus-Ähnlichkeit / cosine similarity '
        f'{hit.score:.3f}"><span class="dq-bar"><span class="dq-bar-fill" '
        f'style="width:{pct}%"></span></span><span class="dq-pct">{pct} %</span></span></div>'
        f'<p class="dq-passage">{render_passage(hit.text, hit.highlight)}</p>'
        f'<div class="dq-source">{render_source(hit)}</div>{render_copies(hit)}{context}'
        "</article>"
    )


def render_results(
    question: str,
    hits: list[Hit],
    article_of: Callable[[str], Article | None],
    low_score: float = LOW_SCORE_THRESHOLD,
    filters: str = "",
) -> str:
    """All cards for a question, with the low-score warning above them when it applies;
    ``filters`` describes the active filters for the summary line."""
    de, en = ("Passage", "passage") if len(hits) == 1 else ("Passagen", "passages")
    head = f'<p class="dq-summary">{len(hits)} {de} zu / {en} for „{_e(question)}“'
    head += f' <span class="dq-filters">({_e(filters)})</span></p>' if filters else "</p>"
    if not hits and filters:
        body = render_message(
            "Keine Passage passt zu den Filtern. / No passage matches the filters.", "warning"
        )
    elif not hits:
        body = render_message("Der Index enthält keine Passagen. / The index has no passages.")
    else:
        body = "".join(render_card(hit, article_of(hit.source)) for hit in hits)
        if hits[0].score < low_score:
            body = render_message(LOW_SCORE_TEXT, "warning") + body
    return f'<div class="dq-results" data-question="{_e(question)}">{head}{body}</div>'


def render_status(holder: IndexHolder) -> str:
    """One line on the state of the index, plus a hint when articles changed on disk."""
    index = holder.index
    if index is None:
        coming = holder.problem in (None, NO_INDEX_TEXT, BUILDING_TEXT)  # not an error
        return render_message(holder.problem or NO_INDEX_TEXT, "warning" if coming else "error")
    text = f"Index: {len(index.articles)} Artikel / articles, {len(index)} Passagen / passages."
    out = render_message(text)
    if holder.pending:
        out += render_message(holder.pending, "warning")
    return out


def render_articles_table(index: Index | None) -> str:
    """The indexed articles as an HTML table (title, date, outlet, file, passages)."""
    if index is None:
        return render_message(NO_INDEX_TEXT, "warning")
    counts = Counter(chunk.article_id for chunk in index.stored.chunks)
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Titel / Title",
            "Datum / Date",
            "Medium / Outlet",
            "Datei / File",
            "Passagen / Passages",
        )
    )
    rows = "".join(
        f'<tr data-source="{_e(a.id)}"><td>{_e(a.title)}</td><td>{_e(a.date or "")}</td>'
        f"<td>{_e(a.outlet or '')}</td><td><code>{_e(a.id)}</code></td>"
        f"<td class='dq-num'>{counts.get(a.id, 0)}</td></tr>"
        for a in index.articles
    )
    return f'<table class="dq-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def render_upload_report(
    outcomes: list[UploadOutcome], report: BuildReport | None, error: str | None = None
) -> str:
    """The result of an upload or update: one line per file, then what the build did."""
    icons = {"saved": "✓", "renamed": "✓", "duplicate": "=", "rejected": "✗"}
    items = "".join(
        f'<li class="dq-upload-{o.kind}">{icons[o.kind]} {_e(o.message)}</li>' for o in outcomes
    )
    out = f'<ul class="dq-uploads">{items}</ul>' if outcomes else ""
    if error:
        out += render_message(f"Index nicht aktualisiert / Index not updated: {error}", "error")
    elif report is not None:
        out += render_message(f"Index aktualisiert / Index updated – {report.summary()}")
        for skipped in report.skipped:
            out += render_message(
                f"Übersprungen / skipped: {skipped.path} ({skipped.reason})", "warning"
            )
    elif outcomes:
        out += render_message("Nichts Neues zu indexieren. / Nothing new to index.")
    state = "error" if error else "done"
    return f'<div class="dq-upload-report" data-state="{state}">{out}</div>'
