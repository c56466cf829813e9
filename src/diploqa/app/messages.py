"""Every text the web app shows a user, in German and English, in one place.

Kept apart from the code that decides when to show them, so the wording can be read and
changed (or translated) in one file. Texts are plain: the renderers escape them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .archive import ArchiveFacts
    from .live import BuildState


def _de(number: int) -> str:
    return f"{number:,}".replace(",", ".")


# --- The index and its updates ------------------------------------------------------------

NO_INDEX_TEXT = (
    "Noch kein Index – im Tab „Artikel / Articles“ aufbauen oder `diploqa index` ausführen. "
    "/ No index yet – build it in the Articles tab or with `diploqa index`."
)
BUILDING_TEXT = (
    "Noch kein Index – er wird gerade aufgebaut; Fragen werden beantwortet, sobald er fertig "
    "ist. / No index yet – it is being built; questions are answered as soon as it is done."
)
UNEXPECTED_BUILD_TEXT = (
    "Unerwarteter Fehler – Details im Server-Log / unexpected error – see the server log"
)
NOTHING_NEW_TEXT = "Nichts Neues zu indexieren. / Nothing new to index."


def unreadable_index(err: object) -> str:
    return f"Index nicht lesbar / Index unreadable: {err}"


def build_failed(error: str) -> str:
    """Why there is no index: its first build failed."""
    return f"Der Index konnte nicht aufgebaut werden / The index could not be built: {error}"


def describe_build(state: BuildState) -> str | None:
    """One line for the status area: a running update's progress, or why the last one
    failed; None when idle."""
    if state.running:
        if not state.total:
            return "Index wird aufgebaut … / building the index …"
        de = f"{_de(state.done)} von {_de(state.total)} Passagen eingebettet"
        en = f"{state.done:,} of {state.total:,} passages embedded"
        if state.done >= state.total:
            de, en = f"{de}, wird gespeichert", f"{en}, saving"
        return f"Index wird aufgebaut: {de} / building: {en}"
    if state.error:
        return f"Indexaktualisierung fehlgeschlagen / index update failed: {state.error}"
    return None


def _count(number: int, de: tuple[str, str], en: tuple[str, str]) -> str:
    """``number`` with its German and English noun, singular or plural: "3 Medien / outlets"."""
    one = number == 1
    return f"{_de(number)} {de[0] if one else de[1]} / {en[0] if one else en[1]}"


def _span(first: str | None, last: str | None) -> str:
    return first if first == last else f"{first} – {last}"


def index_summary(facts: ArchiveFacts) -> str:
    """The status line: what the archive holds."""
    parts = [
        _count(facts.articles, ("Artikel", "Artikel"), ("article", "articles")),
        _count(facts.passages, ("Passage", "Passagen"), ("passage", "passages")),
    ]
    if facts.outlets:
        parts.append(_count(len(facts.outlets), ("Medium", "Medien"), ("outlet", "outlets")))
    if facts.first is not None:
        parts.append(_span(facts.first, facts.last))
    return "Index: " + " · ".join(parts)


def pending_changes(new_or_changed: int, removed: int) -> str:
    return (
        f"{new_or_changed} neue oder geänderte und {removed} entfernte Artikel sind noch nicht "
        f"im Index – „Index aktualisieren“ klicken. / {new_or_changed} new or changed and "
        f"{removed} removed articles are not indexed yet – click “Update index”."
    )


def articles_folder_problem(err: object) -> str:
    return f"Artikelordner / Articles folder: {err}"


def index_updated(summary: str) -> str:
    return f"Index aktualisiert / Index updated – {summary}"


def index_not_updated(error: str) -> str:
    return f"Index nicht aktualisiert / Index not updated: {error}"


def skipped_file(path: object, reason: str) -> str:
    return f"Übersprungen / skipped: {path} ({reason})"


# --- Questions and answers ----------------------------------------------------------------

WELCOME_TEXT = "Frage eingeben und „Fragen / Ask“ klicken. / Type a question and click “Ask”."
EMPTY_QUESTION_TEXT = "Bitte eine Frage eingeben. / Please type a question."
UNEXPECTED_TEXT = (
    "Unerwarteter Fehler – Details im Server-Log. / Unexpected error – see the server log."
)
LOW_SCORE_TEXT = (
    "Keine gute Übereinstimmung: Die Artikel beantworten diese Frage wahrscheinlich nicht. "
    "/ No good match: the articles probably do not answer this question."
)
NO_MATCH_TEXT = "Keine Passage passt zu den Filtern. / No passage matches the filters."
NO_PASSAGES_TEXT = "Der Index enthält keine Passagen. / The index has no passages."
BY_DATE_TEXT = "nach Datum / by date"
ALSO_IN_TEXT = "Auch in / also in"
SHOW_IN_ARTICLE_TEXT = "Im Artikel zeigen / Show in article"
SCORE_TITLE_TEXT = "Kosinus-Ähnlichkeit / cosine similarity"
TABLE_HEADINGS = (
    "Titel / Title",
    "Datum / Date",
    "Medium / Outlet",
    "Datei / File",
    "Passagen / Passages",
)


def error(err: object) -> str:
    return f"Fehler / Error: {err}"


def results_for(count: int, question: str) -> str:
    """The summary line above the answers (``question`` escaped by the caller)."""
    de, en = ("Passage", "passage") if count == 1 else ("Passagen", "passages")
    return f"{count} {de} zu / {en} for „{question}“"


# --- Uploads ------------------------------------------------------------------------------


def only_suffixes(suffixes: Sequence[str]) -> str:
    listed = ", ".join(suffixes[:-1])
    return f"nur {listed} und {suffixes[-1]} / only {listed} and {suffixes[-1]} files are accepted"


INVALID_NAME_TEXT = "ungültiger Dateiname / invalid file name"


def too_large(shown: str, size: int, limit_mb: float) -> str:
    return (
        f"{shown}: zu groß / too large ({size / (1024 * 1024):.1f} MB, höchstens / at "
        f"most {limit_mb:.3g} MB)"
    )


def not_an_article(shown: str, err: object) -> str:
    return f"{shown}: kein lesbarer Artikel / not a readable article ({err})"


def already_there(shown: str, existing: str) -> str:
    return f"{shown}: schon vorhanden als / already there as {existing}"


def not_saved(shown: str, reason: object) -> str:
    return f"{shown}: nicht gespeichert / not saved ({reason})"


def saved(shown: str, name: str) -> str:
    if name == shown:
        return f"{shown}: gespeichert / saved"
    return f"{shown}: gespeichert als / saved as {name}"


def unreadable_upload(name: str, reason: object) -> str:
    return f"{name}: nicht lesbar / unreadable ({reason})"


# --- The page -----------------------------------------------------------------------------

#: The heading of a page whose operator set none (:mod:`.page_texts`).
ARCHIVE_TITLE = "Nachrichtenarchiv / News archive"
#: The line under it while there is no index to describe.
NO_ARCHIVE_ABOUT = (
    "Fragen auf Deutsch oder Englisch, sobald das Archiv indexiert ist. / Ask in German or "
    "English once the archive is indexed."
)
#: Outlets named in the description; with more, only their number.
NAMED_OUTLETS = 3


def archive_about(facts: ArchiveFacts) -> str:
    """The line under the heading of a page whose operator set none: what it searches."""
    de = f"Fragen auf Deutsch oder Englisch an {_de(facts.articles)} Artikel"
    en = f"Ask in German or English about {facts.articles:,} article"
    en += "" if facts.articles == 1 else "s"
    outlets = facts.outlets
    if 1 <= len(outlets) <= NAMED_OUTLETS:
        names = ", ".join(outlets[:-1])
        de += f" aus {names} und {outlets[-1]}" if names else f" aus {outlets[0]}"
        en += f" from {names} and {outlets[-1]}" if names else f" from {outlets[0]}"
    elif outlets:
        de, en = f"{de} aus {_de(len(outlets))} Medien", f"{en} from {len(outlets):,} outlets"
    if facts.first is not None and facts.last is not None:
        years = _span(facts.first[:4], facts.last[:4])
        de, en = f"{de}, {years}", f"{en}, {years}"
    return f"{de}. / {en}."


def passages_wanted(k: int) -> str:
    return _count(k, ("Passage", "Passagen"), ("passage", "passages"))


def per_article_chosen(limit: int) -> str:
    if limit == 0:
        return "ohne Grenze je Artikel / no limit per article"
    return f"höchstens {limit} je Artikel / at most {limit} per article"


def filters_label(chosen: str) -> str:
    """The folded filters' label: which filters (and which order) are set, if any."""
    label = "Filter und Sortierung / Filters and order"
    return f"{label}: {chosen}" if chosen else label


SIGN_OUT_TEXT = "Abmelden / Sign out"
ASK_TAB = "Fragen / Ask"
ARTICLES_TAB = "Artikel / Articles"
QUESTION_LABEL = "Frage / Question"
QUESTION_PLACEHOLDER = "Frage auf Deutsch oder Englisch … / A question in German or English …"
ASK_BUTTON = "Fragen / Ask"
OUTLETS_LABEL = "Medien / Outlets"
OUTLETS_INFO = "leer: alle / empty: all"
SINCE_LABEL = "Von / From"
UNTIL_LABEL = "Bis / Until"
SOURCE_LABEL = "Artikel-ID / Article id"
SOURCE_INFO = "Muster, z. B. / pattern, e.g. sz/*"
K_LABEL = "Anzahl Passagen / Number of passages"
PER_ARTICLE_LABEL = "Je Artikel höchstens / At most per article"
PER_ARTICLE_INFO = "0: keine Grenze / no limit"
ORDER_LABEL = "Sortierung / Order"
ORDER_CHOICES = [("Relevanz / Relevance", "relevance"), ("Datum / Date", "date")]
EXAMPLES_LABEL = "Beispiele / Examples"
UPDATE_BUTTON = "Index aktualisieren / Update index"
REBUILD_BUTTON = "Index neu aufbauen / Rebuild whole index"
EMBEDDING_PROGRESS = "Passagen einbetten / Embedding passages"
STARTING_TEXT = "diploqa startet … / diploqa is starting …"


def upload_label(kinds: str) -> str:
    return f"Artikel hochladen ({kinds}, höchstens 2 MB) / Upload articles ({kinds}, at most 2 MB)"


# --- The command line (English, as every CLI message) -------------------------------------


def ui_missing(module: str) -> str:
    """The web UI cannot start: the optional ``ui`` extra is not installed."""
    return (
        "the web UI needs the optional 'ui' extra (Gradio), which is not installed "
        f"(missing module: {module}): pip install 'diploqa[ui]'"
    )


# --- Standing questions (issue #26: the follow button and the "New" tab) -------------------

NEW_TAB = "Neu / New"
FOLLOW_BUTTON = "Frage folgen / Follow this question"
INBOX_REFRESH = "Aktualisieren / Refresh"
NOTHING_FOLLOWED_TEXT = (
    "Sie folgen noch keiner Frage: stellen Sie eine und klicken Sie „Frage folgen“. "
    "/ You follow no question yet: ask one and click “Follow this question”."
)
NO_ANSWERS_YET_TEXT = (
    "Noch keine neuen Artikel zu dieser Frage. / No new articles on this question yet."
)
NEW_BADGE = "neu / new"


def following(name: str) -> str:
    return (
        f"Sie folgen jetzt „{name}“: neue Artikel, die sie beantworten, erscheinen im Tab "
        f"„Neu“. / Now following “{name}”: new articles that answer it appear in the New tab."
    )


def feed_link_text() -> str:
    return "Atom-Feed (Adresse mit Schlüssel, nur jetzt gezeigt) / Atom feed (key shown once)"


def unread_count(unread: int, total: int) -> str:
    return f"{unread} neu von {total} / {unread} new of {total}"
