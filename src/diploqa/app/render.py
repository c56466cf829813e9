"""Rendering: pure functions from data to HTML, kept apart so every escape can be tested.

Every piece of article text, every file name and the question pass through
:func:`html.escape` (:func:`_e`); an article is data, never markup. Nothing here changes the
index or reads the disk, and nothing needs Gradio; the words come from :mod:`.messages`.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from ..articles import Article
from ..hits import Hit
from ..index import Index
from . import messages
from .archive import ArchiveFacts
from .live import BuildState
from .page_texts import ShownTexts
from .uploads import UploadOutcome

if TYPE_CHECKING:
    from ..build import BuildReport

#: Characters of article text shown before and after a passage in "Show in article".
CONTEXT_CHARS = 400


def _e(text: object) -> str:
    """Escape anything for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def render_intro(texts: ShownTexts) -> str:
    """The page's heading and the line under it (the operator's texts are data too)."""
    return (
        f'<header class="dq-intro"><h1 class="dq-title-text">{_e(texts.title)}</h1>'
        f'<p class="dq-about">{_e(texts.about)}</p></header>'
    )


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
    """Title (linked to the article where its URL is known, at the answer sentence:
    :attr:`Hit.sentence_url <diploqa.hits.Hit.sentence_url>`), outlet, date and article id."""
    link = render_link(hit.title, hit.sentence_url, "dq-link")
    parts = [f"<strong class='dq-title'>{link}</strong>"]
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
    return f"<div class='dq-copies'>{messages.ALSO_IN_TEXT}: {links}</div>"


def render_card(hit: Hit, article: Article | None) -> str:
    """One ranked passage as a card; ``data-source`` names the file for tests and scripts."""
    pct = score_percent(hit.score)
    context = ""
    if article is not None and article.text[hit.start : hit.end] == hit.text:
        context = (
            f"<details class='dq-context'><summary>{messages.SHOW_IN_ARTICLE_TEXT}"
            f"</summary><div class='dq-context-text'>"
            f"{render_context(article.text, hit.start, hit.end)}</div></details>"
        )
    return (
        f'<article class="dq-card" data-source="{_e(hit.source)}" data-rank="{hit.rank}">'
        f'<div class="dq-card-head"><span class="dq-rank">#{hit.rank}</span>'
        f'<span class="dq-score" title="{messages.SCORE_TITLE_TEXT} '
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
    low_score: float,
    filters: str = "",
) -> str:
    """All cards for a question, with the low-score warning above them when the best score
    is below ``low_score`` (the index's ``RankingConfig.low_score_threshold``); ``filters``
    describes the active filters for the summary line."""
    head = f'<p class="dq-summary">{messages.results_for(len(hits), _e(question))}'
    head += f' <span class="dq-filters">({_e(filters)})</span></p>' if filters else "</p>"
    if not hits and filters:
        body = render_message(messages.NO_MATCH_TEXT, "warning")
    elif not hits:
        body = render_message(messages.NO_PASSAGES_TEXT)
    else:
        body = "".join(render_card(hit, article_of(hit.source)) for hit in hits)
        if hits[0].score < low_score:
            body = render_message(messages.LOW_SCORE_TEXT, "warning") + body
    return f'<div class="dq-results" data-question="{_e(question)}">{head}{body}</div>'


def render_no_index(problem: str | None) -> str:
    """Why there is no index: a warning while one is missing or coming, an error when it is
    unreadable or its build failed."""
    coming = problem in (None, messages.NO_INDEX_TEXT, messages.BUILDING_TEXT)  # not an error
    return render_message(problem or messages.NO_INDEX_TEXT, "warning" if coming else "error")


def render_unanswered(problem: str | None) -> str:
    """The answer to a question asked while there is no index: :func:`render_no_index`
    inside ``<div class="dq-unanswered" data-state="no-index">``, the marker that tells the
    page to ask again once the status's ``generation`` changes (an index was installed)."""
    return f'<div class="dq-unanswered" data-state="no-index">{render_no_index(problem)}</div>'


def render_status(index: Index | None, problem: str | None, pending: str | None) -> str:
    """One line on the state of the index (or why there is none), plus a hint when articles
    changed on disk."""
    if index is None:
        return render_no_index(problem)
    out = render_message(messages.index_summary(ArchiveFacts.of(index)))
    if pending:
        out += render_message(pending, "warning")
    return out


def render_status_area(
    index: Index | None, problem: str | None, pending: str | None, build: BuildState
) -> str:
    """The status area: the index (or why there is none) and a running update's progress,
    or why the last update failed."""
    line = build.describe()
    if not build.running:
        head = render_status(index, problem, pending)  # without an index: a failed build
        return head + render_message(line, "error") if line and index is not None else head
    if index is None:  # not an error: say that it is coming
        head = render_message(problem or messages.NO_INDEX_TEXT, "warning")
    else:
        head = render_status(index, problem, pending)
    bar = f'<progress max="{build.total}" value="{build.done}"></progress>' if build.total else ""
    return (
        f'{head}<div class="dq-msg dq-info dq-build" role="status" data-state="building" '
        f'data-done="{build.done}" data-total="{build.total}">{_e(line or "")} '
        f"{bar}</div>"
    )


def render_articles_table(index: Index | None) -> str:
    """The indexed articles as an HTML table (title, date, outlet, file, passages)."""
    if index is None:
        return render_message(messages.NO_INDEX_TEXT, "warning")
    counts = Counter(chunk.article_id for chunk in index.stored.chunks)
    head = "".join(f"<th>{h}</th>" for h in messages.TABLE_HEADINGS)
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
        out += render_message(messages.index_not_updated(error), "error")
    elif report is not None:
        out += render_message(messages.index_updated(report.summary()))
        for skipped in report.skipped:
            out += render_message(messages.skipped_file(skipped.path, skipped.reason), "warning")
    elif outcomes:
        out += render_message(messages.NOTHING_NEW_TEXT)
    state = "error" if error else "done"
    return f'<div class="dq-upload-report" data-state="{state}">{out}</div>'
