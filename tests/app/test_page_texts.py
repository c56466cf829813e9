"""The page's own words (title, description, examples) from their three sources: the flags
of ``diploqa serve``, a ``page.toml`` beside the index, and the archive itself; hostile text
in any of them is shown as text."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from conftest import NEW_ARTICLE, free_port

from diploqa.app import messages, server, ui
from diploqa.app.archive import ArchiveFacts, shown_texts
from diploqa.app.events import Events, describe_choices
from diploqa.app.page_texts import (
    PAGE_FILE,
    PageTexts,
    page_texts,
    read_examples_file,
    read_page_file,
)
from diploqa.app.render import render_intro, render_status
from diploqa.app.updater import Updater
from diploqa.cli import main
from diploqa.errors import SettingsError

HOSTILE = "<script>alert(1)</script> & <img src=x onerror=alert(1)>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- The file beside the index ------------------------------------------------------------


def test_a_page_file_sets_every_text_and_keeps_markup_as_text(tmp_path):
    path = write(tmp_path / PAGE_FILE, f"""# what the page says
title = "Sportarchiv"
about = '{HOSTILE}'
examples = ["Wer gewann 2014?", "  Who won in 2014?  "]
""")  # fmt: skip
    texts = read_page_file(path)
    assert texts == PageTexts("Sportarchiv", HOSTILE, ("Wer gewann 2014?", "Who won in 2014?"))
    assert read_page_file(write(tmp_path / "none.toml", "examples = []\n")).examples == ()
    assert read_page_file(write(tmp_path / "empty.toml", "")) == PageTexts()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("title = 3", "title: must be text (a quoted string), not a number"),
        ('title = "a\\nb"', "title: must be one line of plain text, without a line break"),
        (
            'about = "a\\u0007b"',
            "about: must be one line of plain text, without the control character U+0007",
        ),
        (
            'title = "abc\\u202egpj.exe"',
            "title: must be one line of plain text, without the control character U+202E",
        ),
        ('title = "  "', "title: must not be empty"),
        (f'title = "{"x" * 121}"', "title: at most 120 characters, not 121"),
        ('titel = "Archiv"', "titel: unknown key (known: title, about, examples)"),
        ('examples = "Wer?"', "examples: must be a list of questions, not text"),
        (
            'examples = ["Wer?", 5]',
            "examples, item 2: must be text (a quoted string), not a number",
        ),
        (
            'examples = ["Wer?", [""]]',
            "examples, item 2: must be text (a quoted string), not a list",
        ),
        ("examples = [" + ", ".join(['"Wer?"'] * 21) + "]", "examples: at most 20 examples"),
        ('[title]\ntext = "x"', "title: must be text (a quoted string), not a table"),
        ('title = "unclosed', "not valid TOML: "),
    ],
)
def test_a_bad_page_file_is_one_line_naming_the_file_and_the_key(tmp_path, content, message):
    path = write(tmp_path / PAGE_FILE, content + "\n")
    with pytest.raises(SettingsError) as caught:
        read_page_file(path)
    error = str(caught.value)
    assert error.startswith(f"{path}: ") and message in error, error
    assert "\n" not in error


def test_a_page_file_that_is_not_text_or_too_large_is_refused(tmp_path):
    latin = tmp_path / "latin1.toml"
    latin.write_bytes('title = "Übersicht"\n'.encode("latin-1"))
    with pytest.raises(SettingsError, match=r"latin1\.toml: not UTF-8 text \(byte 9\)"):
        read_page_file(latin)
    huge = write(tmp_path / "huge.toml", "# " + "x" * 70_000 + "\n")
    with pytest.raises(SettingsError, match=r"huge\.toml: larger than 64 KB"):
        read_page_file(huge)
    with pytest.raises(SettingsError, match=r"missing\.toml: cannot be read"):
        read_page_file(tmp_path / "missing.toml")


def test_the_flags_win_over_the_file_beside_the_index_or_the_one_named(tmp_path):
    index = tmp_path / "index"
    write(index / PAGE_FILE, 'title = "Beside"\nabout = "From the file."\nexamples = ["A?"]\n')
    named = write(tmp_path / "named.toml", 'title = "Named"\n')
    assert page_texts(index) == PageTexts("Beside", "From the file.", ("A?",))
    flags = PageTexts(title="Flag")
    assert page_texts(index, flags) == PageTexts("Flag", "From the file.", ("A?",))
    assert page_texts(index, flags, named) == PageTexts("Flag", None, None)  # not merged
    assert page_texts(index, None, named) == PageTexts("Named")
    assert page_texts(tmp_path / "no-index") == PageTexts()  # nothing beside: all derived
    with pytest.raises(SettingsError, match=r"gone\.toml: cannot be read"):
        page_texts(index, None, tmp_path / "gone.toml")  # a named file must be there


# --- The flags ----------------------------------------------------------------------------


def test_an_examples_file_has_one_question_a_line(tmp_path):
    path = write(tmp_path / "examples.txt", "# for the sports archive\n\nWer gewann?\n  Who won?\n")
    assert read_examples_file(path) == ("Wer gewann?", "Who won?")
    bad = write(tmp_path / "bad.txt", "Wer gewann?\n" + "x" * 201 + "\n")
    with pytest.raises(SettingsError, match=rf"^{bad}: line 2: at most 200 characters, not 201$"):
        read_examples_file(bad)
    many = write(tmp_path / "many.txt", "Wer?\n" * 21)
    with pytest.raises(SettingsError, match=r"many\.txt: at most 20 examples, not 21"):
        read_examples_file(many)


def test_serve_passes_the_flags_and_the_page_file_on(monkeypatch, tmp_path):
    examples = write(tmp_path / "examples.txt", f"Wer gewann?\n{HOSTILE}\n")
    seen = {}

    def fake_serve(**kwargs):
        seen.update(kwargs)
        return server.Stopped()

    monkeypatch.setattr(server, "serve", fake_serve)
    argv = ["serve", "--index", str(tmp_path / "index"), "--articles", str(tmp_path),
            "--title", f" {HOSTILE} ", "--examples", str(examples),
            "--page-config", str(tmp_path / "page.toml")]  # fmt: skip
    assert main(argv) == 0
    assert seen["texts"] == PageTexts(title=HOSTILE, examples=("Wer gewann?", HOSTILE))
    assert seen["page_file"] == tmp_path / "page.toml"


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (
            ["--title", "a\nb"],
            "error: --title: must be one line of plain text, without a line break",
        ),
        (["--about", "x" * 501], "error: --about: at most 500 characters, not 501"),
        (
            ["--examples", "{missing}"],
            "error: {missing}: cannot be read (No such file or directory)",
        ),
    ],
)
def test_a_bad_flag_is_one_line_before_anything_is_served(tmp_path, capsys, flags, error):
    missing = str(tmp_path / "missing.txt")
    flags = [f.format(missing=missing) for f in flags]
    argv = ["serve", "--index", str(tmp_path / "index"), "--articles", str(tmp_path),
            "--port", str(free_port()), *flags]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err == error.format(missing=missing) + "\n"


def test_serve_refuses_a_bad_page_file_beside_the_index_before_binding(tmp_path):
    index = tmp_path / "index"
    bad = write(index / PAGE_FILE, "examples = 7\n")
    port = free_port()
    with pytest.raises(SettingsError, match=rf"^{bad}: examples: must be a list of questions"):
        server.serve(index, tmp_path, port=port)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # still free: nothing was bound


def test_python_callers_get_the_same_checks():
    assert PageTexts(title="  Archiv ").title == "Archiv"
    with pytest.raises(SettingsError, match=r"^PageTexts\.examples, item 1: must not be empty$"):
        PageTexts(examples=("",))
    with pytest.raises(SettingsError, match=r"^PageTexts\.about: must be text"):
        PageTexts(about=b"bytes")  # type: ignore[arg-type]


# --- Derived from the archive -------------------------------------------------------------


def test_without_texts_the_page_describes_its_archive(seed_index):
    facts = ArchiveFacts.of(seed_index)
    assert ArchiveFacts.of(seed_index) is facts  # once per index
    assert (facts.articles, facts.first, facts.last) == (5, "2016-10", "2016-10")
    assert facts.outlets == ("Süddeutsche Zeitung", "ZEIT ONLINE")
    shown = shown_texts(PageTexts(), seed_index)
    assert shown.title == messages.ARCHIVE_TITLE
    assert shown.about == (
        "Fragen auf Deutsch oder Englisch an 5 Artikel aus Süddeutsche Zeitung und ZEIT ONLINE, "
        "2016. / Ask in German or English about 5 articles from Süddeutsche Zeitung and ZEIT "
        "ONLINE, 2016."
    )
    # The only dated article's title was shortened from its first line: not an example; the
    # undated ones follow by id.
    assert shown.examples == (
        "Kerry in Moskau:USA und Russland suchen nach Gemeinsamkeiten",
        "Gehen wir davon aus, dass im US-Außenministerium keine Vollidioten sitzen.",
        "US-Aussenminister in Russland Frostiger Empfang in Moskau",
        "Münchner Sicherheitskonferenz Obama und Putin telefonierten wegen Syrien",
    )


def test_the_operators_texts_win_one_by_one(seed_index):
    derived = shown_texts(PageTexts(), seed_index)
    shown = shown_texts(PageTexts(title="Diplomatie", examples=()), seed_index)
    assert (shown.title, shown.about, shown.examples) == ("Diplomatie", derived.about, ())
    empty = shown_texts(PageTexts(), None)
    assert (empty.about, empty.examples) == (messages.NO_ARCHIVE_ABOUT, ())


def test_the_seeds_keep_their_texts_as_their_configuration(seed_index):
    seeds = read_page_file(Path(__file__).resolve().parents[2] / "seeds" / PAGE_FILE)
    assert seeds.title == "diploqa" and "US-russische Diplomatie" in seeds.about
    assert seeds.examples[:2] == (
        "Mit wem sprach Kerry in Sotschi?",
        "Who did Kerry meet in Sochi?",
    )
    assert shown_texts(PageTexts(), seed_index).about != seeds.about  # not the default


def test_the_status_line_says_what_the_archive_holds(seed_index):
    line = render_status(seed_index, None, None)
    passages = f"{len(seed_index)} Passagen / passages"
    assert f"Index: 5 Artikel / articles · {passages} · 2 Medien / outlets · 2016-10" in line


def test_derived_texts_follow_an_update_of_the_index(app_updater):
    events = Events(app_updater, 2)
    intro, examples = events._archive_views()
    assert "5 Artikel" in intro and "Lawrow und Blinken in Genf" not in str(examples.raw_samples)
    key = events.on_tick(None)[2]
    (app_updater.articles_dir / "genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    app_updater.update()
    views = events.on_tick(key)
    intro, examples = views[5], views[6]
    assert "an 6 Artikel aus Süddeutsche Zeitung, Testzeitung und ZEIT ONLINE, 2016 – 2022" in intro
    assert examples.raw_samples[0] == ["Lawrow und Blinken in Genf"]  # the newest headline
    fixed = Events(app_updater, 2, PageTexts(about="Fest.", examples=("Wer?",)))
    intro, examples = fixed._archive_views()
    assert "Fest." in intro and examples.raw_samples == [["Wer?"]]


# --- Shown as text ------------------------------------------------------------------------


def test_hostile_texts_are_escaped_in_the_page(app_holder, seed_copy):
    texts = PageTexts(title=HOSTILE, about=HOSTILE, examples=(HOSTILE, "Wer?"))
    html = render_intro(shown_texts(texts, None))
    assert html.count(ESCAPED) == 2 and "<script" not in html and "<img" not in html
    demo = ui.create_app(Updater(app_holder, seed_copy), texts=texts)
    config = demo.get_config_file()
    values = {c["props"].get("elem_id"): c["props"] for c in config["components"]}
    assert ESCAPED in values["intro"]["value"] and "<script" not in values["intro"]["value"]
    assert values["examples"]["samples"] == [[HOSTILE], ["Wer?"]]  # a text sample: shown as text
    assert config["title"] == HOSTILE  # the browser's tab title: text, never markup
    derived = ui.create_app(Updater(app_holder, seed_copy)).get_config_file()
    assert derived["title"] == messages.ARCHIVE_TITLE  # the heading's own words, not "diploqa"


def test_the_folded_filters_say_which_are_set():
    assert describe_choices([], "", "", "", 5, 2, "relevance", 2) == ""
    chosen = describe_choices(["ZEIT ONLINE"], "2016", "", " sz/* ", 10, 0, "date", 2)
    assert chosen == (
        "ZEIT ONLINE; 2016 – …; sz/*; 10 Passagen / passages; ohne Grenze je Artikel / no "
        "limit per article; nach Datum / by date"
    )
    assert messages.filters_label(chosen).startswith("Filter und Sortierung / Filters and order: ")
