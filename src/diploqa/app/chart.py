"""The overview beside the answers: how many articles match, when (a bar chart of the
:class:`~diploqa.timeline.Timeline`) and in which outlets (chips), with the export buttons
and the link to the search.

Pure functions from an :class:`~diploqa.hits.Answer` to escaped HTML, as :mod:`.render` is,
plus the page's side of it: :data:`CHART_CSS` and :data:`OVERVIEW_JS`. Every control is a
real ``<button>`` (keyboard and screen readers work) that says what it does in ``data-``
attributes; the script turns a click into one event for :mod:`.results`:

* ``select`` with ``{since, until}`` (a bar, or "all dates": both empty), ``{outlet}`` (a
  chip, or "all outlets": empty) or ``{interval}``;
* ``click`` with ``{export: "csv" | "jsonl"}``.

It also puts the search's link (``data-link``) into the page's address whenever the overview
changes, and copies it (as the readers' page's address: on the editors' ``/edit/`` too, since
a reader may not open that; an editor opening it is sent on to ``/edit/`` with the search).
The bars are HTML, not an image: their labels keep their size on a phone, and a long timeline
scrolls sideways inside the chart, never the page.
"""

from __future__ import annotations

import html

from ..export import FORMATS
from ..hits import Answer
from ..query import Query
from ..timeline import INTERVAL_CHOICES, Timeline
from . import messages

#: The smallest visible height of a bar with articles (percent of the chart's), so that a
#: period with one article among hundreds still shows.
MIN_BAR_PERCENT = 3


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_overview(answer: Answer, query: Query, interval: str, link: str) -> str:
    """The overview of ``answer`` (asked with a timeline and facets) to ``query``; ``interval``
    as chosen (``auto`` or a period), ``link`` the query string that reopens the search."""
    timeline = answer.timeline or Timeline("month")
    facets = answer.facets or {}
    matched = timeline.articles
    head = (
        f'<div class="dq-ov-head"><span class="dq-matched">'
        f"{_e(messages.matching_articles(matched, timeline.capped))}</span>{_tools()}</div>"
        f'<input class="dq-link-text" type="text" readonly hidden '
        f'aria-label="{_e(messages.LINK_LABEL)}">'
    )
    body = _intervals(interval) + render_timeline(timeline)
    if query.since or query.until:
        body += _button(messages.ALL_DATES_TEXT, "dq-clear", since="", until="")
    body += render_facets(facets, query.outlet)
    return (
        f'<section class="dq-overview" data-link="{_e(link)}" '
        f'data-interval="{_e(timeline.interval)}">{head}{body}</section>'
    )


def render_timeline(timeline: Timeline) -> str:
    """The bars (each a button for its period, the highest marked ``dq-peak``), an axis with
    the first, the highest and the last period, and the articles in no bar."""
    caption = f'<p class="dq-chart-caption">{_e(messages.per_period(timeline.interval))}</p>'
    peak = timeline.peak()
    top = peak.articles if peak is not None else 0
    bars = []
    for period in timeline:
        share = round(100 * period.articles / top) if top else 0
        if period.articles:
            share = max(share, MIN_BAR_PERCENT)
        name = messages.period_count(period.label, period.articles)
        css = "dq-period dq-peak" if period is peak else "dq-period"
        bars.append(
            f'<button type="button" class="{css}" data-since="{_e(period.start)}" '
            f'data-until="{_e(period.end)}" data-label="{_e(period.label)}" '
            f'data-articles="{period.articles}" title="{_e(name)}" aria-label="{_e(name)}" '
            f'style="--h:{share}%"><span class="dq-period-bar"></span></button>'
        )
    chart = ""
    if bars:
        chart = (
            f'<div class="dq-chart" role="group" aria-label="{_e(messages.CHART_HINT)}" '
            f'title="{_e(messages.CHART_HINT)}">{"".join(bars)}</div>'
            f"{_axis(timeline, peak)}"
        )
    apart = []
    if timeline.undated:
        apart.append(f'<span class="dq-undated">{_e(messages.undated(timeline.undated))}</span>')
    if timeline.imprecise:
        apart.append(
            f'<span class="dq-imprecise">{_e(messages.imprecise(timeline.imprecise))}</span>'
        )
    rest = f'<p class="dq-apart">{" · ".join(apart)}</p>' if apart else ""
    return f'<div class="dq-timeline">{caption}{chart}{rest}</div>'


def _axis(timeline: Timeline, peak) -> str:
    first, last = timeline[0], timeline[-1]
    high = f"{messages.PEAK_TEXT}: {peak.label} ({peak.articles})" if peak is not None else ""
    ends = [first.label] if first is last else [first.label, last.label]
    spans = [f"<span>{_e(ends[0])}</span>", f'<span class="dq-axis-peak">{_e(high)}</span>']
    if len(ends) > 1:
        spans.append(f"<span>{_e(ends[1])}</span>")
    return f'<div class="dq-axis">{"".join(spans)}</div>'


def render_facets(facets: dict[str, int], chosen: tuple[str, ...] = ()) -> str:
    """The outlets of the matching articles as chips (a click keeps only that outlet), and
    "all outlets" while an outlet filter is set."""
    chips = [
        _button(f"{name} ", "dq-chip", count=count, outlet=name) for name, count in facets.items()
    ]
    if chosen:
        chips.append(_button(messages.ALL_OUTLETS_TEXT, "dq-chip dq-clear", outlet=""))
    if not chips:
        return ""
    label = _e(messages.OUTLET_CHIPS_LABEL)
    return f'<div class="dq-facets" role="group" aria-label="{label}">{"".join(chips)}</div>'


def _intervals(chosen: str) -> str:
    buttons = "".join(
        f'<button type="button" data-interval="{name}" '
        f'aria-pressed="{"true" if name == chosen else "false"}">'
        f"{_e(messages.INTERVAL_NAMES[name])}</button>"
        for name in INTERVAL_CHOICES
    )
    label = _e(messages.INTERVALS_LABEL)
    return f'<div class="dq-intervals" role="group" aria-label="{label}">{buttons}</div>'


def _tools() -> str:
    exports = "".join(
        f'<button type="button" class="dq-tool" data-export="{fmt}" '
        f'title="{_e(messages.EXPORT_TITLE)}">{fmt.upper()} ↓</button>'
        for fmt in FORMATS
    )
    copy = (
        f'<button type="button" class="dq-tool" data-copy="" '
        f'data-copied="{_e(messages.LINK_COPIED_TEXT)}">{_e(messages.COPY_LINK_TEXT)}</button>'
    )
    return f'<span class="dq-tools">{exports}{copy}</span>'


def _button(text: str, css: str, count: int | None = None, **data: str) -> str:
    attributes = "".join(f' data-{name}="{_e(value)}"' for name, value in data.items())
    number = f'<span class="dq-chip-count">{count}</span>' if count is not None else ""
    return f'<button type="button" class="{css}"{attributes}>{_e(text)}{number}</button>'


CHART_CSS = """
#answers { flex-wrap: wrap; }
@media (max-width: 720px) {
  #answers > * { flex: 1 1 100% !important; min-width: 100% !important; } }
.dq-overview { font-size: .92em; }
.dq-overview button { font: inherit; cursor: pointer; color: var(--body-text-color);
                      box-shadow: none; margin: 0; }
.dq-ov-head { display: flex; flex-wrap: wrap; gap: .4em; align-items: center;
              justify-content: space-between; margin: .3em 0; }
.dq-matched { font-weight: 600; }
.dq-tools, .dq-intervals, .dq-facets { display: flex; flex-wrap: wrap; gap: .3em; }
.dq-tool, .dq-chip, .dq-clear, .dq-intervals button {
  border: 1px solid var(--border-color-primary); border-radius: 999px; padding: .1em .65em;
  background: var(--block-background-fill); line-height: 1.6; }
.dq-intervals { margin: .3em 0; }
.dq-intervals button[aria-pressed="true"] { background: var(--color-accent); color: #fff;
                                            border-color: var(--color-accent); }
.dq-link-text { width: 100%; font-size: .9em; margin: .2em 0; }
.dq-chart-caption, .dq-apart { margin: .2em 0; color: var(--body-text-color-subdued); }
.dq-chart { display: flex; align-items: stretch; gap: 1px; height: 120px; overflow-x: auto;
            border-bottom: 1px solid var(--border-color-primary); }
.dq-overview .dq-period { flex: 1 0 6px; max-width: 48px; display: flex; align-items: flex-end;
                          padding: 0; margin: 0; border: 0; border-radius: 0;
                          background: transparent; }
.dq-period-bar { display: block; width: 100%; height: var(--h); min-height: 0;
                 background: var(--color-accent); opacity: .6; border-radius: 2px 2px 0 0; }
.dq-period:hover .dq-period-bar, .dq-period:focus-visible .dq-period-bar,
.dq-peak .dq-period-bar { opacity: 1; }
.dq-axis { display: flex; justify-content: space-between; gap: .5em; font-size: .85em;
           color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums; }
.dq-axis-peak { color: var(--body-text-color); }
.dq-facets { margin: .5em 0 .2em; }
.dq-chip-count { margin-left: .35em; font-variant-numeric: tabular-nums;
                 color: var(--body-text-color-subdued); }
.dq-clear { margin-top: .3em; }
"""

#: The overview's behaviour (Gradio's ``js_on_load``: ``element`` is the component,
#: ``trigger`` sends an event, ``watch`` runs after each new value).
OVERVIEW_JS = r"""
const sync = () => {
  const root = element.querySelector('.dq-overview');
  const link = root && root.dataset.link;
  if (link && link !== window.location.search) {
    window.history.replaceState(window.history.state, '', link);
  }
};
const copy = (button) => {
  const address = new URL(window.location.href);  // readers' page: an editor's /edit/ is not
  address.pathname = address.pathname.replace(/edit\/?$/, '');
  const url = address.href;
  const field = element.querySelector('.dq-link-text');
  const done = () => { button.textContent = button.dataset.copied; };
  if (field) { field.value = url; field.hidden = false; field.select(); }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(url).then(done, () => {});
  } else if (document.execCommand && document.execCommand('copy')) {
    done();
  }
};
element.addEventListener('click', (event) => {
  const button = event.target.closest('button');
  if (!button || !element.contains(button)) return;
  const data = button.dataset;
  if ('export' in data) trigger('click', {export: data.export});
  else if ('copy' in data) copy(button);
  else if ('since' in data) trigger('select', {since: data.since, until: data.until});
  else if ('outlet' in data) trigger('select', {outlet: data.outlet});
  else if ('interval' in data) trigger('select', {interval: data.interval});
});
watch('value', sync);
sync();
"""
