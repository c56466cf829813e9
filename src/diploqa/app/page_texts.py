"""The page's own words: its title, a one-line description and example questions.

They belong to the archive a server serves, not to the program. The operator sets them
(``diploqa serve --title … --about … --examples FILE``, a :data:`PAGE_FILE` beside the index,
or :func:`~diploqa.app.create_app`'s ``texts``); whatever is left unset is derived from the
archive itself (:mod:`.archive`), so a page never promises what its archive does not hold.
They are read once, at the edge (:func:`page_texts`), and passed on as a :class:`PageTexts`.

Every text is checked here: a bad one is a one-line error naming its file (or flag) and key.
Markup is not refused but shown as text: :mod:`.render` escapes every one, as it escapes
articles. The file is TOML (read with the standard library's :mod:`tomllib`), every key
optional::

    # index/page.toml: what the page of this archive says
    title = "Diplomatie-Archiv"
    about = "Fragen auf Deutsch oder Englisch zu … / Ask in German or English about …"
    examples = ["Wer traf Lawrow in Sotschi?", "Who did Kerry meet in Sochi?"]

``examples = []`` shows none. An examples file (``--examples``) holds one question per line;
blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import SettingsError

#: The page texts file a server reads from its index folder, when there is one.
PAGE_FILE = "page.toml"
#: The keys of the file, each with the most characters its text may have.
LIMITS = {"title": 120, "about": 500, "examples": 200}
#: The most examples a page shows (a longer list is an error, not cut silently).
MAX_EXAMPLES = 20
#: The largest page texts or examples file read (it is a few lines of text).
MAX_FILE_BYTES = 64 * 1024
#: Characters that would reorder what is shown around them (bidirectional embeddings,
#: overrides and isolates): a title must read as it is written.
_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_text(value: object, label: str, limit: int) -> str:
    """``value`` stripped, if it is one line of text of at most ``limit`` characters.

    Raises:
        SettingsError: it is not; the message starts with ``label`` (the file and key).
    """
    if not isinstance(value, str):
        raise SettingsError(f"{label}: must be text (a quoted string), not {_kind(value)}")
    text = value.strip()
    if not text:
        raise SettingsError(f"{label}: must not be empty")
    if len(text) > limit:
        raise SettingsError(f"{label}: at most {limit} characters, not {len(text)}")
    bad = next((c for c in text if ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in _REORDERING), "")
    if bad:
        what = "a line break" if bad in "\r\n" else f"the control character U+{ord(bad):04X}"
        raise SettingsError(f"{label}: must be one line of plain text, without {what}")
    return text


def check_examples(value: object, label: str) -> tuple[str, ...]:
    """``value`` as a tuple of checked questions (see :func:`check_text`).

    Raises:
        SettingsError: it is not a list of at most :data:`MAX_EXAMPLES` questions.
    """
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise SettingsError(f"{label}: must be a list of questions, not {_kind(value)}")
    if len(value) > MAX_EXAMPLES:
        raise SettingsError(f"{label}: at most {MAX_EXAMPLES} examples, not {len(value)}")
    limit = LIMITS["examples"]
    return tuple(check_text(v, f"{label}, item {i}", limit) for i, v in enumerate(value, 1))


def _kind(value: object) -> str:
    names = {str: "text", bool: "true/false", int: "a number", float: "a number", list: "a list",
             tuple: "a list", dict: "a table", type(None): "nothing"}  # fmt: skip
    return names.get(type(value), f"a {type(value).__name__}")


@dataclass(frozen=True)
class PageTexts:
    """What the operator set for the page; None: derived from the archive.

    Attributes:
        title: the heading (and the browser tab's name).
        about: one line under it: what the archive holds and what to ask.
        examples: questions a click puts into the question field (``()``: none).

    Raises:
        SettingsError: a text is not one line of plain text, or too long.
    """

    title: str | None = None
    about: str | None = None
    examples: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for key in ("title", "about"):
            value = getattr(self, key)
            if value is not None:
                object.__setattr__(self, key, check_text(value, f"PageTexts.{key}", LIMITS[key]))
        if self.examples is not None:
            examples = check_examples(self.examples, "PageTexts.examples")
            object.__setattr__(self, "examples", examples)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], where: str) -> PageTexts:
        """The texts of a parsed file; ``where`` names it in every error.

        Raises:
            SettingsError: a key is unknown, or its value is not what it may be.
        """
        unknown = sorted(set(data) - set(LIMITS))
        if unknown:
            known = ", ".join(LIMITS)
            raise SettingsError(f"{where}: {unknown[0]}: unknown key (known: {known})")
        found: dict[str, object] = {}
        for key in ("title", "about"):
            if key in data:
                found[key] = check_text(data[key], f"{where}: {key}", LIMITS[key])
        if "examples" in data:
            found["examples"] = check_examples(data["examples"], f"{where}: examples")
        return cls(**found)

    def over(self, base: PageTexts) -> PageTexts:
        """These texts where set, else ``base``'s."""
        return PageTexts(
            title=self.title if self.title is not None else base.title,
            about=self.about if self.about is not None else base.about,
            examples=self.examples if self.examples is not None else base.examples,
        )


@dataclass(frozen=True)
class ShownTexts:
    """What the page shows: every text set, from the operator or from the archive."""

    title: str
    about: str
    examples: tuple[str, ...]


def _read_small(path: Path) -> str:
    """The text of a small UTF-8 file.

    Raises:
        SettingsError: it is missing, unreadable, too large or not UTF-8.
    """
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise SettingsError(f"{path}: cannot be read ({err.strerror or err})") from None
    if len(data) > MAX_FILE_BYTES:
        raise SettingsError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KB, not a texts file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SettingsError(f"{path}: not UTF-8 text (byte {err.start})") from None


def read_page_file(path: str | Path) -> PageTexts:
    """The texts of a page texts file (TOML; see the module's docstring).

    Raises:
        SettingsError: it cannot be read, is not TOML, or a key or value is not allowed; one
            line naming the file (and the key).
    """
    path = Path(path)
    try:
        data = tomllib.loads(_read_small(path))
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"{path}: not valid TOML: {err}") from None
    return PageTexts.from_mapping(data, str(path))


def read_examples_file(path: str | Path) -> tuple[str, ...]:
    """The questions of an examples file: one a line; blank lines and ``#`` comments skipped.

    Raises:
        SettingsError: it cannot be read, or a line is not an example (too long, control
            characters), or it holds more than :data:`MAX_EXAMPLES`.
    """
    path = Path(path)
    lines = _read_small(path).splitlines()
    found = [(n, line) for n, line in enumerate(lines, 1)
             if line.strip() and not line.lstrip().startswith("#")]  # fmt: skip
    if len(found) > MAX_EXAMPLES:
        raise SettingsError(f"{path}: at most {MAX_EXAMPLES} examples, not {len(found)}")
    return tuple(check_text(line, f"{path}: line {n}", LIMITS["examples"]) for n, line in found)


def texts_from_flags(
    title: str | None, about: str | None, examples_file: str | Path | None
) -> PageTexts:
    """The texts ``diploqa serve --title … --about … --examples FILE`` gives.

    Raises:
        SettingsError: a text is not allowed (the message names the flag), or the examples
            file cannot be read or holds what it may not.
    """
    return PageTexts(
        title=None if title is None else check_text(title, "--title", LIMITS["title"]),
        about=None if about is None else check_text(about, "--about", LIMITS["about"]),
        examples=None if examples_file is None else read_examples_file(examples_file),
    )


def page_texts(
    index_dir: str | Path | None,
    given: PageTexts | None = None,
    page_file: str | Path | None = None,
) -> PageTexts:
    """The operator's texts: ``given`` (the flags) over those of ``page_file``, or, when it is
    None, of the :data:`PAGE_FILE` in ``index_dir`` if there is one. Read once, when a server
    starts.

    Raises:
        SettingsError: the file cannot be read or holds what it may not (one line naming
            the file and the key); ``page_file``, when given, must exist.
    """
    given = given or PageTexts()
    if page_file is None and index_dir is not None:
        beside = Path(index_dir) / PAGE_FILE
        page_file = beside if beside.is_file() else None
    if page_file is None:
        return given
    return given.over(read_page_file(page_file))
