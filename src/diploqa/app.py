"""The web UI (``diploqa serve``): ask questions, see ranked passages, add articles.

Three layers, so that everything but the wiring can be tested without a browser:

* **State** — :class:`IndexHolder` keeps the one live :class:`~diploqa.search.Index` shared by
  all sessions. An update builds a new index and swaps the reference under a lock; a search
  that already picked up the old index finishes with it. An index committed by another process
  (``diploqa index`` on the same folder) is picked up by the next search: each access stats
  ``manifest.json`` (one system call) and reloads when it was replaced.
* **Handlers and rendering** — plain functions: :func:`answer_html` / :func:`search_records`
  answer a question, :func:`save_upload` validates and stores one uploaded file,
  :func:`upload_articles` stores several and updates the index, ``render_*`` build HTML.
  Every piece of article text, every file name and the question pass through
  :func:`html.escape`; an article is data, never markup.
* **Wiring** — :func:`create_app` lays out the Gradio Blocks and :func:`serve` launches it.

The search is the named API (and MCP) endpoint ``search`` (HTML, as the page shows it) and
``search_json`` (a list of dicts for programs).
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import logging
import os
import re
import sys
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from . import config
from .articles import ARTICLE_SUFFIXES, Article, decode_bytes, load_articles, parse_article
from .encoders import get_encoder
from .errors import ArticlesError, DiploqaError, QueryError
from .search import Hit, Index, build_index, load_index
from .store import MANIFEST, BuildReport, Progress, read_manifest

# No telemetry: Gradio reads this when it is imported.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
import gradio as gr

log = logging.getLogger("diploqa")

#: Below this score of the best passage the UI warns that nothing really matches. Measured
#: on the seeds with the default ranking (e5 + USE + BM25): the 22 seed questions of
#: tests/test_search.py scored 0.72–0.96 (English 0.72–0.84, German 0.79–0.96), 20 off-topic
#: questions 0.55–0.67. It is a warning; the results stay visible.
LOW_SCORE_THRESHOLD = 0.69
#: Characters of article text shown before and after a passage in "Show in article".
CONTEXT_CHARS = 400
#: Largest accepted upload (also passed to Gradio's ``max_file_size``).
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
#: Searches that may run at once; index updates always run one at a time.
SEARCH_CONCURRENCY = 4
#: Default and maximum number of passages.
DEFAULT_K, MAX_K = 5, 20
#: Hosts that are not reachable from the network.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Longest file-name stem kept for an upload, in characters and in UTF-8 bytes (file systems
#: allow 255 bytes; room is left for "-999" and the suffix).
MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 200

EXAMPLES = [
    "Mit wem sprach Kerry in Sotschi?",
    "Who did Kerry meet in Sochi?",
    "Wer schätzte die Chance auf eine Waffenruhe auf 49 Prozent?",
    "What did Tillerson say about Assad?",
    "Worum ging es bei den Gesprächen in Lausanne?",
    "Worüber telefonierten Obama und Putin?",
    "Why did the US stop the talks about a ceasefire?",
]

NO_INDEX_TEXT = (
    "Noch kein Index – im Tab „Artikel / Articles“ aufbauen oder `diploqa index` ausführen. "
    "/ No index yet – build it in the Articles tab or with `diploqa index`."
)
EMPTY_QUESTION_TEXT = "Bitte eine Frage eingeben. / Please type a question."
UNEXPECTED_TEXT = (
    "Unerwarteter Fehler – Details im Server-Log. / Unexpected error – see the server log."
)
LOW_SCORE_TEXT = (
    "Keine gute Übereinstimmung: Die Artikel beantworten diese Frage wahrscheinlich nicht. "
    "/ No good match: the articles probably do not answer this question."
)


# ============================================================================================
# State
# ============================================================================================


class IndexHolder:
    """The live index shared by every session, and how to replace it.

    Reading :attr:`index` is cheap and never blocks on an update: an update builds a complete
    new :class:`Index` first and only then swaps the reference, so a search sees either the
    old or the new index, never a half-built one. Updates are serialised by their own lock
    (and across processes by the store's build lock).
    """

    def __init__(self, index_dir: str | Path, articles_dir: str | Path) -> None:
        self.index_dir = Path(index_dir)
        self.articles_dir = Path(articles_dir)
        self._index: Index | None = None
        self._problem: str | None = NO_INDEX_TEXT
        self._pending: str | None = None
        self._last_report: BuildReport | None = None
        self._signature: tuple[int, int, int] | None = None  # of the manifest we serve
        self._swap_lock = threading.Lock()
        self._update_lock = threading.Lock()

    @property
    def index(self) -> Index | None:
        """The current index, or None while there is none (see :attr:`problem`).

        First picks up an index another process committed meanwhile (see :meth:`refresh`).
        """
        self.refresh()
        with self._swap_lock:
            return self._index

    def _manifest_signature(self) -> tuple[int, int, int] | None:
        """Identity of the manifest on disk: a build replaces it (new inode), never edits it."""
        try:
            info = (self.index_dir / MANIFEST).stat()
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _adopt(self, index: Index, signature: tuple[int, int, int] | None) -> None:
        """Serve ``index``. ``signature`` (taken before it was loaded) is remembered only if
        it is still that index's manifest; otherwise the next access reloads (harmless).
        The index is warmed first, so that no question waits for its keyword index."""
        index.warm()
        if signature is not None and signature == self._manifest_signature():
            try:
                current = read_manifest(self.index_dir)["generation"]
            except DiploqaError:
                current = None
            if current != index.stored.manifest["generation"]:
                signature = None
        with self._swap_lock:
            self._index, self._problem, self._signature = index, None, signature

    def refresh(self) -> bool:
        """Reload if another process committed a new index since this one was loaded.

        Costs one ``stat`` when nothing changed. The request that notices a change reloads;
        requests arriving meanwhile, and any while an update runs here, keep answering from
        the current index (never a mix: each search holds one :class:`Index`). An unreadable
        new index is logged and the current one kept. Returns True if a new index was loaded.
        """
        signature = self._manifest_signature()
        if signature is None or signature == self._signature:
            return False
        if not self._update_lock.acquire(blocking=False):
            return False
        try:
            signature = self._manifest_signature()
            if signature is None or signature == self._signature:
                return False
            try:
                index = load_index(self.index_dir)
            except DiploqaError as err:
                log.warning("the index on disk changed but cannot be loaded: %s", err)
                if self._index is None:
                    self._problem = f"Index nicht lesbar / Index unreadable: {err}"
                self._signature = signature  # retried when the manifest changes again
                return False
            self._adopt(index, signature)
            log.info("loaded the index another process committed in %s", index.path)
        finally:
            self._update_lock.release()
        threading.Thread(target=self._note_pending, args=(index,), daemon=True).start()
        return True

    def _note_pending(self, index: Index) -> None:
        self._pending = describe_pending(self.articles_dir, index)

    @property
    def problem(self) -> str | None:
        """Why there is no usable index (missing or unreadable), else None."""
        return self._problem

    @property
    def pending(self) -> str | None:
        """Article changes on disk the index does not have yet, as one readable line."""
        return self._pending

    @property
    def last_report(self) -> BuildReport | None:
        """What the last update in this process did."""
        return self._last_report

    def load(self) -> None:
        """Load index and model once at start-up; never build (a fast start matters more).

        A missing or unreadable index is not an error here: the UI starts and says how to
        build one. The model is loaded anyway so the first build does not wait for it.
        """
        signature = self._manifest_signature()
        if signature is None:
            self._problem = NO_INDEX_TEXT
            get_encoder()
            return
        try:
            index = load_index(self.index_dir)
        except DiploqaError as err:
            self._problem = f"Index nicht lesbar / Index unreadable: {err}"
            self._signature = signature
            log.warning("cannot load the index: %s", err)
            get_encoder()
            return
        self._adopt(index, signature)
        self._pending = describe_pending(self.articles_dir, index)

    def update(self, rebuild: bool = False, progress: Progress | None = None) -> BuildReport:
        """Bring the index up to date with the articles folder and swap it in.

        Raises:
            DiploqaError: the articles folder holds no readable article or the index folder
                cannot be written; the current index stays live.
        """
        with self._update_lock:
            index = build_index(
                self.articles_dir, self.index_dir, rebuild=rebuild, progress=progress
            )
            self._adopt(index, self._manifest_signature())
            self._last_report = index.build_report
            self._pending = None
        return index.build_report


def describe_pending(articles_dir: Path, index: Index) -> str | None:
    """Compare the articles on disk with the index; None when the index is current.

    Reads the files but cleans only those whose bytes differ from the indexed ones (no
    embedding), so it is cheap enough for start-up: 0.1 s instead of 2.8 s for 2,000 articles.
    """
    try:
        articles, _ = load_articles(articles_dir, index.stored.articles)
    except ArticlesError as err:
        return f"Artikelordner / Articles folder: {err}"
    indexed = index.stored.manifest.get("articles", {})
    on_disk = {a.id: a.content_hash for a in articles}
    new_or_changed = sum(1 for aid, h in on_disk.items() if indexed.get(aid) != h)
    removed = sum(1 for aid in indexed if aid not in on_disk)
    if not (new_or_changed or removed):
        return None
    return (
        f"{new_or_changed} neue oder geänderte und {removed} entfernte Artikel sind noch nicht "
        f"im Index – „Index aktualisieren“ klicken. / {new_or_changed} new or changed and "
        f"{removed} removed articles are not indexed yet – click “Update index”."
    )


# ============================================================================================
# Rendering (pure functions: data in, escaped HTML out)
# ============================================================================================


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


def render_source(hit: Hit) -> str:
    """Title, outlet, date (where known) and file name of a hit's article."""
    parts = [f"<strong class='dq-title'>{_e(hit.title)}</strong>"]
    parts += [f"<span>{_e(x)}</span>" for x in (hit.outlet, hit.date) if x]
    parts.append(f"<code class='dq-file'>{_e(hit.source)}</code>")
    return " · ".join(parts)


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
        f'<div class="dq-source">{render_source(hit)}</div>{context}</article>'
    )


def render_results(
    question: str, hits: list[Hit], article_of: Callable[[str], Article | None]
) -> str:
    """All cards for a question, with the low-score warning above them when it applies."""
    de, en = ("Passage", "passage") if len(hits) == 1 else ("Passagen", "passages")
    head = f'<p class="dq-summary">{len(hits)} {de} zu / {en} for „{_e(question)}“</p>'
    if not hits:
        body = render_message("Der Index enthält keine Passagen. / The index has no passages.")
    else:
        body = "".join(render_card(hit, article_of(hit.source)) for hit in hits)
        if hits[0].score < LOW_SCORE_THRESHOLD:
            body = render_message(LOW_SCORE_TEXT, "warning") + body
    return f'<div class="dq-results" data-question="{_e(question)}">{head}{body}</div>'


def render_status(holder: IndexHolder) -> str:
    """One line on the state of the index, plus a hint when articles changed on disk."""
    index = holder.index
    if index is None:
        kind = "error" if holder.problem and holder.problem != NO_INDEX_TEXT else "warning"
        return render_message(holder.problem or NO_INDEX_TEXT, kind)
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


# ============================================================================================
# Search handlers
# ============================================================================================


def _article_lookup(index: Index) -> Callable[[str], Article | None]:
    return lambda source: index.stored.articles.get(source)


def answer_html(holder: IndexHolder, question: str, k: int | float = DEFAULT_K) -> str:
    """What the results area shows for a question: cards, a state or an error, never a
    traceback."""
    index = holder.index
    if index is None:
        return render_status(holder)
    try:
        hits = index.search(question, k)
    except QueryError as err:
        if isinstance(question, str) and not question.strip():
            return render_message(EMPTY_QUESTION_TEXT, "error")
        return render_message(f"Fehler / Error: {err}", "error")
    except DiploqaError as err:
        return render_message(f"Fehler / Error: {err}", "error")
    except Exception:
        log.exception("search failed")
        return render_message(UNEXPECTED_TEXT, "error")
    return render_results(" ".join(question.split()), hits, _article_lookup(index))


def hit_record(hit: Hit) -> dict[str, Any]:
    """A hit as a JSON-ready dict for the API."""
    return {
        "rank": hit.rank,
        "score": round(hit.score, 4),
        "title": hit.title,
        "source": hit.source,
        "date": hit.date,
        "outlet": hit.outlet,
        "text": hit.text,
        "answer_sentence": hit.highlighted_sentence,
        "low_score": hit.score < LOW_SCORE_THRESHOLD,
    }


def search_records(
    holder: IndexHolder, question: str, k: int | float = DEFAULT_K
) -> list[dict[str, Any]]:
    """The ranked passages as dicts.

    Raises:
        DiploqaError: there is no index, or the question or ``k`` is invalid.
    """
    index = holder.index
    if index is None:
        raise DiploqaError(holder.problem or NO_INDEX_TEXT)
    return [hit_record(hit) for hit in index.search(question, k)]


# ============================================================================================
# Uploads
# ============================================================================================

_UNSAFE_CHARS = re.compile(r"[^\w\-. ()]+")
_DOTS = re.compile(r"\.{2,}")

UploadKind = Literal["saved", "renamed", "duplicate", "rejected"]


@dataclass(frozen=True)
class UploadOutcome:
    """What happened to one uploaded file.

    Attributes:
        name: the name the file was uploaded with.
        kind: ``saved``, ``renamed`` (saved under another name), ``duplicate`` (identical
            content already there, nothing written) or ``rejected``.
        saved_as: the file name written in the articles folder, else None.
        message: one bilingual line for the user.
    """

    name: str
    kind: UploadKind
    saved_as: str | None
    message: str


def sanitize_filename(name: str) -> str:
    """A safe file name for the articles folder, or ValueError with a readable reason.

    Only the last path component is kept (so ``../x.txt`` becomes ``x.txt``); characters
    other than letters (umlauts included), digits, space, ``-_.()`` become ``_``; runs of
    dots collapse; leading dots, spaces and dashes go (no hidden files); the suffix must be
    ``.txt`` or ``.md``; the stem is cut to ``MAX_NAME_CHARS`` characters and
    ``MAX_NAME_BYTES`` UTF-8 bytes. NUL and control characters become ``_``.
    """
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    base = _DOTS.sub(".", _UNSAFE_CHARS.sub("_", base))
    base = " ".join(base.split()).lstrip(". -_")
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in ARTICLE_SUFFIXES:
        raise ValueError("nur .txt- und .md-Dateien / only .txt and .md files are accepted")
    stem = stem[:MAX_NAME_CHARS]
    while len(stem.encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.strip(" .")
    if not stem:
        raise ValueError("ungültiger Dateiname / invalid file name")
    return f"{stem}.{suffix.lower()}"


def _article_files(folder: Path) -> Iterable[Path]:
    """Every visible article file below ``folder`` (as :func:`load_articles` sees them)."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and name.lower().endswith(ARTICLE_SUFFIXES):
                yield Path(dirpath, name)


def find_identical(folder: Path, data: bytes) -> str | None:
    """The id of an article file with exactly these bytes, if there is one."""
    digest = hashlib.sha256(data).digest()
    for path in _article_files(folder):
        try:
            if path.stat().st_size == len(data) and (
                hashlib.sha256(path.read_bytes()).digest() == digest
            ):
                return path.relative_to(folder).as_posix()
        except OSError:
            continue
    return None


def _write_new(folder: Path, name: str, data: bytes) -> str:
    """Write ``data`` under ``name`` or, if taken, ``name-2``, ``name-3`` …; never overwrite.

    The file appears complete or not at all: it is written under a hidden temporary name
    (ignored by the article loader) and then hard-linked, which fails if the name exists.
    """
    stem, suffix = name.rsplit(".", 1)
    tmp = folder / f".upload-{os.getpid()}-{threading.get_ident()}.tmp"
    tmp.write_bytes(data)
    try:
        for n in range(1, 1000):
            candidate = name if n == 1 else f"{stem}-{n}.{suffix}"
            if Path(candidate).name != candidate:  # sanitize_filename guarantees this
                raise DiploqaError(f"refusing to write outside the articles folder: {candidate}")
            try:
                os.link(tmp, folder / candidate)  # fails on any existing entry, symlinks too
            except FileExistsError:
                continue
            return candidate
        raise DiploqaError(f"too many files named like {name}")
    finally:
        tmp.unlink(missing_ok=True)


def _shown_name(name: str | Path) -> str:
    """The name as uploaded, for messages (escaped when rendered)."""
    return str(name)


def _check_name_and_size(name: str | Path, size: int) -> str | UploadOutcome:
    """The safe file name, or the rejection if the name or the size is not acceptable."""
    shown = _shown_name(name)
    try:
        safe = sanitize_filename(str(name))
    except ValueError as err:
        return UploadOutcome(shown, "rejected", None, f"{shown}: {err}")
    max_bytes = min(MAX_UPLOAD_BYTES, config.max_article_bytes())  # else skipped at indexing
    if size > max_bytes:
        limit = max_bytes / (1024 * 1024)
        return UploadOutcome(
            shown,
            "rejected",
            None,
            f"{shown}: zu groß / too large ({size / (1024 * 1024):.1f} MB, höchstens / at "
            f"most {limit:.3g} MB)",
        )
    return safe


def _store(articles_dir: Path, shown: str, safe: str, data: bytes) -> UploadOutcome:
    """Store checked bytes unless they are not an article or are already there."""
    try:
        parse_article(decode_bytes(data), safe)
    except ArticlesError as err:
        reason = str(err).removeprefix(f"{safe}: ")
        message = f"{shown}: kein lesbarer Artikel / not a readable article ({reason})"
        return UploadOutcome(shown, "rejected", None, message)
    existing = find_identical(articles_dir, data) if articles_dir.is_dir() else None
    if existing is not None:
        message = f"{shown}: schon vorhanden als / already there as {existing}"
        return UploadOutcome(shown, "duplicate", None, message)
    try:
        articles_dir.mkdir(parents=True, exist_ok=True)
        saved = _write_new(articles_dir, safe, data)
    except (OSError, DiploqaError) as err:
        reason = getattr(err, "strerror", None) or err
        message = f"{shown}: nicht gespeichert / not saved ({reason})"
        return UploadOutcome(shown, "rejected", None, message)
    if saved == shown:
        return UploadOutcome(shown, "saved", saved, f"{shown}: gespeichert / saved")
    return UploadOutcome(shown, "renamed", saved, f"{shown}: gespeichert als / saved as {saved}")


def save_upload(articles_dir: Path, name: str, data: bytes) -> UploadOutcome:
    """Validate one uploaded file and store it in the articles folder.

    Checks, in order: the name (suffix, sanitising), the size, that it reads as an article
    (the same parser as the index build, so a stored upload is never skipped later), and that
    the same bytes are not already there. Never overwrites an existing file.
    """
    checked = _check_name_and_size(name, len(data))
    if isinstance(checked, UploadOutcome):
        return checked
    return _store(Path(articles_dir), _shown_name(name), checked, data)


def save_uploaded_path(articles_dir: Path, path: str | Path) -> UploadOutcome:
    """Like :func:`save_upload` for a file Gradio stored; its base name is the upload's name.

    Name and size are checked before the file is read, so a huge upload is never loaded.
    """
    path = Path(path)
    try:
        checked = _check_name_and_size(path.name, path.stat().st_size)
        if isinstance(checked, UploadOutcome):
            return checked
        data = path.read_bytes()
    except OSError as err:
        message = f"{path.name}: nicht lesbar / unreadable ({err.strerror or err})"
        return UploadOutcome(path.name, "rejected", None, message)
    return _store(Path(articles_dir), path.name, checked, data)


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


def upload_articles(
    holder: IndexHolder, paths: Iterable[str | Path] | None, progress: Progress | None = None
) -> str:
    """Store uploaded files, update the index if any was stored, and report both."""
    outcomes = [save_uploaded_path(holder.articles_dir, p) for p in paths or []]
    if not any(o.saved_as for o in outcomes):
        return render_upload_report(outcomes, None)
    return _run_update(holder, outcomes, rebuild=False, progress=progress)


def update_index(holder: IndexHolder, rebuild: bool, progress: Progress | None = None) -> str:
    """The "update" and "rebuild" buttons: rebuild the index from the articles folder."""
    return _run_update(holder, [], rebuild=rebuild, progress=progress)


def _run_update(
    holder: IndexHolder,
    outcomes: list[UploadOutcome],
    rebuild: bool,
    progress: Progress | None,
) -> str:
    try:
        report = holder.update(rebuild=rebuild, progress=progress)
    except DiploqaError as err:
        return render_upload_report(outcomes, None, str(err))
    except Exception:
        log.exception("index update failed")
        return render_upload_report(outcomes, None, UNEXPECTED_TEXT)
    return render_upload_report(outcomes, report)


# ============================================================================================
# Gradio wiring
# ============================================================================================

CSS = """
.dq-msg { padding: .6em .9em; border-radius: 8px; margin: .4em 0;
          border: 1px solid var(--border-color-primary); }
.dq-warning { background: #fff4d6; border-color: #e0b43a; color: #5a4300; }
.dq-error { background: #fde2e1; border-color: #d9534f; color: #6b1513; }
.dq-summary { color: var(--body-text-color-subdued); margin: .3em 0; }
.dq-card { border: 1px solid var(--border-color-primary); border-radius: 10px;
           padding: .8em 1em; margin: .7em 0; background: var(--block-background-fill); }
.dq-card-head { display: flex; align-items: center; gap: .8em; margin-bottom: .3em; }
.dq-rank { font-weight: 700; font-size: 1.1em; }
.dq-score { display: inline-flex; align-items: center; gap: .4em; }
.dq-bar { display: inline-block; width: 120px; height: 8px; border-radius: 4px;
          background: var(--border-color-primary); overflow: hidden; }
.dq-bar-fill { display: block; height: 100%; background: var(--color-accent); }
.dq-pct { font-variant-numeric: tabular-nums; color: var(--body-text-color-subdued); }
.dq-passage { line-height: 1.5; margin: .3em 0; white-space: pre-wrap; }
.dq-passage mark { background: #fff1a8; color: inherit; padding: 0 .1em; }
.dq-source { font-size: .92em; color: var(--body-text-color-subdued); }
.dq-context summary { cursor: pointer; margin-top: .4em; }
.dq-context-text { white-space: pre-wrap; line-height: 1.5; font-size: .95em;
                   color: var(--body-text-color-subdued); padding: .4em 0; }
.dq-context-passage { color: var(--body-text-color); background: #eef3ff; }
.dq-table { width: 100%; border-collapse: collapse; }
.dq-table th, .dq-table td { text-align: left; padding: .3em .5em;
                             border-bottom: 1px solid var(--border-color-primary); }
.dq-num { text-align: right; }
.dq-uploads { list-style: none; padding-left: 0; }
.dq-upload-rejected { color: #b52a25; }
"""

_INTRO = (
    "<h1 style='margin-bottom:0'>diploqa</h1><p style='margin-top:.2em'>Fragen auf Deutsch "
    "oder Englisch zu deutschen Nachrichtenartikeln über US-russische Diplomatie. / Ask in "
    "German or English about German news articles on US–Russian diplomacy.</p>"
)


def _theme() -> gr.themes.Base:
    """A theme with system fonts only: the page loads nothing from third-party servers."""
    return gr.themes.Soft(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )


def _welcome(holder: IndexHolder) -> str:
    if holder.index is None:
        return render_status(holder)
    return render_message(
        "Frage eingeben und „Fragen / Ask“ klicken. / Type a question and click “Ask”."
    )


def _gradio_progress(progress: gr.Progress) -> Progress:
    """Adapt Gradio's progress bar to the ``progress(done, total)`` callback of a build."""

    def report(done: int, total: int) -> None:
        progress((done, total), desc="Passagen einbetten / Embedding passages", unit="passages")

    return report


def create_app(
    index_dir: str | Path | None = None,
    articles_dir: str | Path | None = None,
    holder: IndexHolder | None = None,
) -> gr.Blocks:
    """Build the Blocks app (queue configured, not launched); loads index and model once."""
    if holder is None:
        holder = IndexHolder(index_dir or config.index_dir(), articles_dir or config.articles_dir())
        holder.load()

    def search(question: str, k: int = DEFAULT_K) -> str:
        """Find the passages in German news articles on US–Russian diplomacy that best answer a
        question, as HTML cards (rank, score, passage with the answering sentence marked,
        source article).

        Args:
            question: the question, in German or English, e.g. "Wer traf Lawrow in Sotschi?".
            k: how many passages to return (1–20).
        """
        return answer_html(holder, question, k)

    def search_json(question: str, k: int = DEFAULT_K) -> list[dict]:
        """Find the passages in German news articles on US–Russian diplomacy that best answer a
        question. Returns a list of dicts, best first: rank, score (cosine similarity),
        title, source (file name), date, outlet, text (the passage), answer_sentence and
        low_score (true if the passage probably does not answer the question).

        Args:
            question: the question, in German or English, e.g. "Who did Kerry meet in Sochi?".
            k: how many passages to return (1–20).
        """
        try:
            return search_records(holder, question, k)
        except DiploqaError as err:
            raise gr.Error(str(err), print_exception=False) from None

    def on_upload(files: list[str] | None, progress: gr.Progress = gr.Progress()):  # noqa: B008
        report = upload_articles(holder, files, _gradio_progress(progress))
        return report, render_articles_table(holder.index), render_status(holder), None

    def on_update(progress: gr.Progress = gr.Progress()):  # noqa: B008
        report = update_index(holder, rebuild=False, progress=_gradio_progress(progress))
        return report, render_articles_table(holder.index), render_status(holder)

    def on_rebuild(progress: gr.Progress = gr.Progress()):  # noqa: B008
        report = update_index(holder, rebuild=True, progress=_gradio_progress(progress))
        return report, render_articles_table(holder.index), render_status(holder)

    def on_load():
        return render_status(holder), render_articles_table(holder.index)

    with gr.Blocks(title="diploqa", analytics_enabled=False) as demo:
        gr.HTML(_INTRO)
        status = gr.HTML(render_status(holder), elem_id="index-status")
        with gr.Tabs():
            with gr.Tab("Fragen / Ask", id="ask-tab"):
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="Frage / Question",
                        placeholder="z. B. / e.g. Wer traf Lawrow in Sotschi?",
                        lines=1,
                        max_lines=4,
                        scale=6,
                        autofocus=True,
                        elem_id="question",
                    )
                    ask = gr.Button("Fragen / Ask", variant="primary", scale=1, elem_id="ask")
                k = gr.Slider(
                    1,
                    MAX_K,
                    value=DEFAULT_K,
                    step=1,
                    label="Anzahl Passagen / Number of passages",
                    elem_id="k",
                )
                gr.Examples(
                    examples=[[q] for q in EXAMPLES],
                    inputs=[question],
                    label="Beispiele / Examples",
                )
                results = gr.HTML(_welcome(holder), elem_id="results")
            with gr.Tab("Artikel / Articles", id="articles-tab"):
                table = gr.HTML(render_articles_table(holder.index), elem_id="articles-table")
                files = gr.File(
                    label="Artikel hochladen (.txt, .md, höchstens 2 MB) / "
                    "Upload articles (.txt, .md, at most 2 MB)",
                    file_count="multiple",
                    file_types=list(ARTICLE_SUFFIXES),
                    type="filepath",
                    elem_id="upload",
                )
                with gr.Row():
                    update = gr.Button("Index aktualisieren / Update index", elem_id="update")
                    rebuild = gr.Button(
                        "Index neu aufbauen / Rebuild whole index",
                        variant="stop",
                        elem_id="rebuild",
                    )
                upload_report = gr.HTML(elem_id="upload-report")

        gr.on(
            triggers=[ask.click, question.submit],
            fn=search,
            inputs=[question, k],
            outputs=results,
            api_name="search",
            concurrency_limit=SEARCH_CONCURRENCY,
            concurrency_id="search",
            show_progress="minimal",
        )
        gr.api(
            search_json,
            api_name="search_json",
            concurrency_limit=SEARCH_CONCURRENCY,
            concurrency_id="search",
        )
        index_outputs = [upload_report, table, status]
        private: dict[str, Any] = {
            "concurrency_limit": 1,
            "concurrency_id": "index-update",
            "api_visibility": "private",
        }
        files.upload(on_upload, inputs=files, outputs=[*index_outputs, files], **private)
        update.click(on_update, outputs=index_outputs, **private)
        rebuild.click(on_rebuild, outputs=index_outputs, **private)
        demo.load(on_load, outputs=[status, table], api_visibility="private")
    demo.queue(default_concurrency_limit=SEARCH_CONCURRENCY)
    return demo


def mcp_available() -> bool:
    """True if Gradio's MCP server can run (the ``mcp`` package of ``gradio[mcp]``)."""
    return importlib.util.find_spec("mcp") is not None


def serve(
    index_dir: str | Path | None = None,
    articles_dir: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
) -> int:
    """Start the web UI and block until it is stopped; returns the exit code.

    Loads index and model before the server opens; never builds at start (see
    :meth:`IndexHolder.load`).
    """
    index_dir = Path(index_dir) if index_dir else config.index_dir()
    articles_dir = Path(articles_dir) if articles_dir else config.articles_dir()
    if host not in LOCAL_HOSTS:
        print(
            f"warning: listening on {host}: the app is exposed to the network, and anyone "
            "who can reach it can upload articles and rebuild the index",
            file=sys.stderr,
        )
    demo = create_app(index_dir, articles_dir)
    try:
        demo.launch(
            server_name=host,
            server_port=port,
            share=False,
            max_file_size=MAX_UPLOAD_BYTES,
            mcp_server=mcp_available(),
            ssr_mode=False,
            show_error=False,
            theme=_theme(),
            css=CSS,
        )
    except OSError as err:
        print(f"error: cannot serve on {host}:{port}: {err}", file=sys.stderr)
        return 1
    return 0
