"""Tests for diploqa.articles: debris rules, seeds, encodings, headers, loading."""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import logging
import os
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diploqa.articles import (
    RULES,
    Article,
    SkippedFile,
    clean_text,
    decode_bytes,
    load_articles,
    parse_article,
    read_article,
)
from diploqa.errors import ArticlesError

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
RULES_BY_NAME = {rule.name: rule for rule in RULES}

# --- debris rules --------------------------------------------------------------------------
# (rule name, input line, expected clean_text output). Output "" = line removed; output
# equal to the input = a real sentence that must stay; anything else = inline fragment cut.
RULE_CASES = [
    ("skip_link", "Zum Inhalt springen", ""),
    ("skip_link", "Direkt zum Inhalt", ""),
    ("skip_link", "Zum Inhalt springen wir später, sagte Kerry.", None),
    ("sz_home_link", "Zur SZ-Startseite", ""),
    ("sz_home_link", "Zur SZ-Startseite führt ein Link, schrieb die Redaktion.", None),
    (
        "zeit_author_box",
        "© ZEIT ONLINE Carsten Luther Redakteur für internationale Politik im Ressort "
        "Politik, Wirtschaft und Gesellschaft, ZEIT ONLINE zur Autorenseite",
        "",
    ),
    ("zeit_author_box", "ZEIT ONLINE berichtete zuerst über das Treffen.", None),
    ("author_box", "Julian Hans Korrespondent in Moskau zur Autorenseite", ""),
    ("author_box", "Der Link zur Autorenseite funktionierte nicht mehr.", None),
    ("related_links", "Lesen Sie mehr zum Thema", ""),
    ("related_links", "Mehr zum Thema", ""),
    ("related_links", "Meistgelesene Artikel", ""),
    ("related_links", "Lesen Sie auch:", ""),
    ("related_links", "Mehr zum Thema Sanktionen sagte Lawrow nichts.", None),
    ("related_links", "Meistgelesene Artikel der Woche waren Berichte über Syrien.", None),
    ("section_label", "Das wichtigste in Kürze", ""),
    ("section_label", "Das Wichtigste in Kürze", ""),
    ("section_label", "Das Wichtigste in Kürze: Kerry reist nach Moskau.", None),
    ("promo", "Jetzt entdecken", ""),
    ("promo", "Gutscheine:", ""),
    ("promo", "Anzeige", ""),
    ("promo", "Newsletter abonnieren", ""),
    ("promo", "Anzeige gegen Unbekannt wurde nicht erstattet.", None),
    ("promo", "Jetzt entdecken beide Seiten neue Gemeinsamkeiten.", None),
    ("social", "Teilen", ""),
    ("social", "Kommentare", ""),
    ("social", "12 Kommentare", ""),
    ("social", "Twitter", ""),
    ("social", "Kerry teilte über Twitter mit, die Diskussionen seien offen gewesen.", None),
    ("social", "Teilen wollen beide Seiten die Verantwortung nicht.", None),
    ("photo_credit", "Foto: JONATHAN ERNST/ REUTERS", ""),
    ("photo_credit", "Foto: dpa", ""),
    ("photo_credit", "Bild: Keystone", ""),
    ("photo_credit", "Fotos: AP/Pavel Golovkin", ""),
    ("photo_credit", "Das Foto zeigt Kerry.", None),
    ("photo_credit", "Bild und Ton waren gestört, sagte ein Sprecher.", None),
    ("photo_credit", "Foto: Kerry und Lawrow in Sotschi. Beide lächeln.", None),
    ("copyright_credit", "© Reuters", ""),
    ("copyright_credit", "© dpa-infocom GmbH", ""),
    ("copyright_credit", "(c) Gespräche in Genf", None),
    ("copyright_credit", "Copyright-Fragen spielten keine Rolle", None),
    ("agency_credit", "anr/Reuters/dpa", ""),
    ("agency_credit", "dpa", ""),
    ("agency_credit", "AFP / dpa", ""),
    ("agency_credit", "Mit Material von dpa und AFP", ""),
    ("agency_credit", "Die dpa meldete am Abend eine Einigung.", None),
    ("agency_credit", "Reuters/Ipsos-Umfrage: Mehrheit für Gespräche", None),
    ("agency_credit", "Mit Material von Papier und Holz baute er ein Haus.", None),
    ("reading_time", "Lesezeit: 3 Min.", ""),
    ("reading_time", "Die Lesezeit beträgt 3 Minuten.", None),
    ("symbols_only", "***", ""),
    ("symbols_only", "---", ""),
    ("symbols_only", "•", ""),
    ("symbols_only", "49", None),
    ("symbols_only", "G20", None),
    ("photo_credit_parens", "(Foto: AFP)", ""),
    ("photo_credit_parens", "Kerry lächelt. (Foto: AFP)", "Kerry lächelt."),
    (
        "photo_credit_parens",
        "Kerry (links) traf Lawrow (Bild: dpa) in Sotschi.",
        "Kerry (links) traf Lawrow in Sotschi.",
    ),
    ("photo_credit_parens", "Kerry (links) traf Lawrow.", None),
    (
        "trailing_photo_credit",
        "Obama und Putin in Antalya. Foto: JONATHAN ERNST/REUTERS",
        "Obama und Putin in Antalya.",
    ),
    ("trailing_photo_credit", "Das Foto: ein Dokument der Zeit.", None),
    ("trailing_photo_credit", "Er sagte: Bild und Ton stimmen.", None),
]


@pytest.mark.parametrize(("name", "line", "expected"), RULE_CASES)
def test_rule_table(name: str, line: str, expected: str | None) -> None:
    expected = line if expected is None else expected
    rule = RULES_BY_NAME[name]
    if rule.scope == "line":
        assert bool(rule.pattern.fullmatch(line)) == (expected == "")
    else:
        assert (rule.pattern.search(line) is not None) == (expected != line)
    assert clean_text(line) == expected


def test_every_rule_has_removed_and_kept_examples() -> None:
    for rule in RULES:
        outputs = [exp for name, _, exp in RULE_CASES if name == rule.name]
        assert any(exp is not None for exp in outputs), rule.name
        assert any(exp is None for exp in outputs), rule.name


def test_rules_are_frozen_and_named_uniquely() -> None:
    assert len(RULES_BY_NAME) == len(RULES)
    assert all(rule.scope in ("line", "inline") for rule in RULES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        RULES[0].name = "changed"  # type: ignore[misc]


def test_debris_inside_article_keeps_paragraphs() -> None:
    raw = (
        "Titel\n\nErster Absatz.\n\nTeilen\n\n\n\nZweiter Absatz.\nZur SZ-Startseite\n\nGutscheine:"
    )
    assert clean_text(raw) == "Titel\n\nErster Absatz.\n\nZweiter Absatz."


def test_repeated_caption_keeps_first() -> None:
    caption = "Kerry in Moskau: Am Wochenende hat Putin noch auf die USA geschimpft."
    raw = f"Titel\n\n{caption}\n\n{caption.removeprefix('Kerry in Moskau: ')}\n\n{caption}\n\nEnde."
    assert clean_text(raw) == f"Titel\n\n{caption}\n\nEnde."


def test_short_line_inside_paragraph_stays() -> None:
    raw = "Russland verbittet sich jegliche Kritik am Westen.\n\njegliche Kritik\n\nSyrien"
    assert clean_text(raw) == raw


def test_long_repeated_lines_are_kept() -> None:
    para = "Lawrow sagte etwas. " * 20
    raw = f"{para}\n\n{para}"
    assert clean_text(raw).count("Lawrow") == 40


def test_bullets_normalised_text_kept() -> None:
    raw = "  • Kerry reist.\n* Lawrow wartet.\n- Putin lächelt.\n·Merkel schweigt."
    assert (
        clean_text(raw) == "- Kerry reist.\n- Lawrow wartet.\n- Putin lächelt.\n- Merkel schweigt."
    )


# --- seeds ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seeds() -> dict[str, Article]:
    articles, skipped = load_articles(SEEDS)
    assert skipped == []
    assert [a.id for a in articles] == sorted(p.name for p in SEEDS.glob("*.txt"))
    return {a.id[:3]: a for a in articles}


SEED_TITLES = {
    "001": "Kerry in Moskau:USA und Russland suchen nach Gemeinsamkeiten",
    "002": "Gehen wir davon aus, dass im US-Außenministerium keine Vollidioten sitzen.",
    "003": "US-Aussenminister in Russland Frostiger Empfang in Moskau",
    "004": "Münchner Sicherheitskonferenz Obama und Putin telefonierten wegen Syrien",
}


@pytest.mark.parametrize(("key", "title"), sorted(SEED_TITLES.items()))
def test_seed_titles(seeds: dict[str, Article], key: str, title: str) -> None:
    assert seeds[key].title == title
    assert seeds[key].text.startswith(title)


def test_seed_000_header_and_long_title(seeds: dict[str, Article]) -> None:
    article = seeds["000"]
    assert article.date == "2016-10"
    assert article.text.startswith("An den Gesprächen im schweizerischen Lausanne sollen")
    assert "date" not in article.text[:20]
    assert article.title.startswith("An den Gesprächen im schweizerischen Lausanne")
    assert article.title.endswith("…")
    assert len(article.title) <= 120
    assert article.text.startswith(article.title.removesuffix("…"))


def test_seed_metadata(seeds: dict[str, Article]) -> None:
    assert [seeds[k].date for k in ("001", "002", "003", "004")] == [None] * 4
    assert seeds["001"].outlet == "Süddeutsche Zeitung"
    assert seeds["002"].outlet == "ZEIT ONLINE"
    assert seeds["000"].outlet is None
    assert all(a.url is None for a in seeds.values())


DEBRIS = [
    "Zum Inhalt springen",
    "Zur SZ-Startseite",
    "Lesen Sie mehr zum Thema",
    "Jetzt entdecken",
    "Gutscheine",
    "Meistgelesene Artikel",
    "Mehr zum Thema",
    "Das wichtigste in Kürze",
    "(Foto: AFP)",
    "Foto:",
    "REUTERS",
    "© ZEIT ONLINE",
    "zur Autorenseite",
    "anr/Reuters/dpa",
]


@pytest.mark.parametrize("debris", DEBRIS)
def test_seed_debris_gone(seeds: dict[str, Article], debris: str) -> None:
    for article in seeds.values():
        assert debris not in article.text, article.id


KEPT = [
    ("000", "Staffan de Mistura."),
    ("000", "sagt der Moskauer Sicherheitsexperte Wladimir Sotnikow."),
    ("001", "Lawrow"),
    ("001", "Sotschi am Schwarzen Meer"),
    ("001", "Von Julian Hans, Moskau"),
    ("001", "Russland verbittet sich jegliche Kritik\n"),
    ("001", "Nun wird austariert, wie viel Gemeinsamkeit möglich ist."),
    ("002", "Mehr Waffen für syrische Rebellen?"),
    ("002", "die modernste Variante russischer Luftabwehrsysteme."),
    ("003", "Tillerson"),
    ("003", "Lawrow"),
    ("003", "Man will in Kontakt bleiben"),
    ("003", "nicht dort gewesen."),
    ("004", 'sagte er: "49."'),
    ("004", "Obama und Putin bei G20-Gipfel in Antalya"),
    ("004", "auch Zivilisten und die Opposition zu treffen."),
]


@pytest.mark.parametrize(("key", "sentence"), KEPT)
def test_seed_real_sentences_kept(seeds: dict[str, Article], key: str, sentence: str) -> None:
    assert sentence in seeds[key].text


def test_seed_duplicate_captions_dropped(seeds: dict[str, Article]) -> None:
    assert seeds["001"].text.count("Am Wochenende hat Putin noch auf die USA geschimpft") == 1
    assert "Kerry in Moskau: Am Wochenende" in seeds["001"].text
    assert seeds["004"].text.count("Obama und Putin bei G20-Gipfel in Antalya") == 1


def test_seed_text_shape(seeds: dict[str, Article]) -> None:
    for article in seeds.values():
        text = article.text
        assert "\n\n\n" not in text
        assert "\r" not in text and "\u00a0" not in text and "\ufeff" not in text
        assert text == text.strip()
        assert all(line == line.strip() for line in text.split("\n"))
        expected = f"{article.title}\n{article.date or ''}\n{text}"
        assert article.content_hash == hashlib.sha256(expected.encode()).hexdigest()


# --- encodings -----------------------------------------------------------------------------
SAMPLE = "Gespräche über Außenminister – „Zitat“ kostet 5 €."


def test_decode_utf8_and_bom() -> None:
    assert decode_bytes(SAMPLE.encode()) == SAMPLE
    assert decode_bytes(codecs.BOM_UTF8 + SAMPLE.encode()) == SAMPLE


def test_decode_cp1252() -> None:
    assert decode_bytes(SAMPLE.encode("cp1252")) == SAMPLE


def test_decode_latin1_fallback() -> None:
    data = "Grüße aus München".encode("latin-1") + b"\x81"  # 0x81 is undefined in cp1252
    assert clean_text(decode_bytes(data)) == "Grüße aus München"


@pytest.mark.parametrize(
    ("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_decode_utf16_with_bom(bom: bytes, codec: str) -> None:
    assert decode_bytes(bom + SAMPLE.encode(codec)) == SAMPLE


def test_decode_rejects_binary() -> None:
    png = b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(256)
    for data in (png, b"Text\x00mit NUL", bytes(range(1, 32)) * 4, b"%PDF-1.4 xyz"):
        with pytest.raises(ArticlesError, match="binary"):
            decode_bytes(data)
    with pytest.raises(ArticlesError, match="UTF-16"):
        decode_bytes(codecs.BOM_UTF16_LE + b"abc")


def test_decode_accepts_form_feed_and_tabs() -> None:
    assert decode_bytes(b"Seite 1\fSeite 2\tEnde") == "Seite 1\fSeite 2\tEnde"


def test_mixed_line_endings() -> None:
    raw = "Titel\r\n\r\nErster Absatz.\rZweite Zeile.\n\n\n\nDritter.\r\n"
    assert clean_text(raw) == "Titel\n\nErster Absatz.\nZweite Zeile.\n\nDritter."


def test_invisible_characters_and_spaces() -> None:
    raw = "\ufeffAu\u200bßen\u200cminister\u2060 Kerry\u00a0\u00a0sagt:\t„Ja“.\x07  Mu\u0308nchen "
    assert clean_text(raw) == "Außenminister Kerry sagt: „Ja“. München"


def _write_tree(root: Path) -> None:
    files: dict[str, bytes] = {
        "a.txt": b"Erster Artikel\n\nLawrow sagte etwas.",
        "b cp1252.txt": "Zweiter Artikel\n\nGespräche über Außenpolitik.".encode("cp1252"),
        "c utf16.md": codecs.BOM_UTF16_LE + "# Dritter Artikel\n\nKerry.".encode("utf-16-le"),
        "d Ümläut mit Leerzeichen.md": b"Vierter Artikel\n\nPutin.",
        "e twin.txt": b"Erster Artikel\n\nLawrow sagte etwas.",
        "image.txt": b"\x89PNG\r\n\x1a\n" + random.Random(7).randbytes(512),
        "empty.txt": b"",
        "blank.md": b"  \n\t\n\r\n   ",
        "debris.txt": b"Zum Inhalt springen\n\nZur SZ-Startseite\n\nGutscheine:\nTeilen",
        "sub/deeper/f.TXT": "Fünfter Artikel\n\nSotschi.".encode(),
        "notes.rst": b"ignored",
        ".hidden.txt": b"Versteckt",
        ".git/g.txt": b"Versteckt",
        "sub/.cache/h.md": b"Versteckt",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_load_folder_mixed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _write_tree(tmp_path)
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == [
        "a.txt",
        "b cp1252.txt",
        "c utf16.md",
        "d Ümläut mit Leerzeichen.md",
        "sub/deeper/f.TXT",
    ]
    assert [a.title for a in articles] == [
        "Erster Artikel",
        "Zweiter Artikel",
        "Dritter Artikel",
        "Vierter Artikel",
        "Fünfter Artikel",
    ]
    assert articles[1].text == "Zweiter Artikel\n\nGespräche über Außenpolitik."
    assert skipped == [
        SkippedFile("blank.md", "empty after cleaning"),
        SkippedFile("debris.txt", "empty after cleaning"),
        SkippedFile("e twin.txt", "same title, date and text as a.txt"),  # a copy
        SkippedFile("empty.txt", "empty after cleaning"),
        SkippedFile("image.txt", "not valid text (binary data)"),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 5
    for item in skipped:
        assert any(item.path in message for message in warnings), item.path


def test_load_accepts_str_path_and_is_deterministic(tmp_path: Path) -> None:
    _write_tree(tmp_path)
    assert load_articles(str(tmp_path)) == load_articles(tmp_path)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_broken_symlink_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "ok.txt").write_text("Titel\n\nText.", encoding="utf-8")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["ok.txt"]
    assert [s.path for s in skipped] == ["dangling.txt"]
    assert skipped[0].reason.startswith("cannot read file")
    assert "dangling.txt" in caplog.text


def test_a_copy_under_another_name_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "title: Lawrow in Genf\ndate: 2022-01-21\n\nLawrow traf Blinken in Genf."
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "kopie.md").write_text(text + "\n\n", encoding="utf-8")  # same once cleaned
    (tmp_path / "b.txt").write_text(text.replace("2022-01-21", "2022-01-22"), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="diploqa"):
        articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["a.txt", "b.txt"]  # another date is another article
    assert skipped == [SkippedFile("sub/kopie.md", "same title, date and text as a.txt")]
    assert "sub/kopie.md" in caplog.text
    (tmp_path / "a.txt").unlink()  # the copy takes the original's place
    assert [a.id for a in load_articles(tmp_path)[0]] == ["b.txt", "sub/kopie.md"]


def test_all_skipped_returns_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert load_articles(tmp_path) == ([], [SkippedFile("empty.txt", "empty after cleaning")])


def test_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ArticlesError, match="not found") as err:
        load_articles(missing)
    assert str(missing) in str(err.value)


def test_folder_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "file.txt"
    file.write_text("Text", encoding="utf-8")
    with pytest.raises(ArticlesError, match="not a folder") as err:
        load_articles(file)
    assert str(file) in str(err.value)


def test_folder_without_articles(tmp_path: Path) -> None:
    (tmp_path / "notes.rst").write_text("x", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(ArticlesError, match=r"No \.txt or \.md") as err:
        load_articles(tmp_path)
    assert str(tmp_path) in str(err.value)
    assert "\n" not in str(err.value)


def test_read_article_names_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "bild.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ArticlesError, match=r"^sub/bild\.txt: .*binary"):
        read_article(path, tmp_path)
    good = tmp_path / "sub" / "gut.md"
    good.write_text("Titel\n\nText.", encoding="utf-8")
    assert read_article(good, tmp_path).id == "sub/gut.md"


def test_parse_article_empty_raises_with_id() -> None:
    with pytest.raises(ArticlesError, match=r"^x/y\.txt: empty after cleaning$"):
        parse_article("title: Nur Kopf\ndate: 2016\n\nTeilen\n", "x/y.txt")


# --- headers -------------------------------------------------------------------------------
HEADER_CASES = [
    # raw, (date, title, outlet, url), text start
    ("date: 2016-10-21\n\nText hier.", ("2016-10-21", "Text hier.", None, None), "Text hier."),
    (
        " date 2016-10 Erster Satz. Zweiter.",
        ("2016-10", "Erster Satz. Zweiter.", None, None),
        "Erster Satz.",
    ),
    ("Date 2017 Erster Satz.", ("2017", "Erster Satz.", None, None), "Erster Satz."),
    ("  DATE: 21.10.2016\nText.", ("2016-10-21", "Text.", None, None), "Text."),
    ("date 1.2.2017 Text.", ("2017-02-01", "Text.", None, None), "Text."),
    ("date: 2016-10-21T12:30:00+02:00\nText.", ("2016-10-21", "Text.", None, None), "Text."),
    ("date: Oktober 2016\nText.", ("Oktober 2016", "Text.", None, None), "Text."),
    (
        "title: Kerry in Moskau\nsource: Süddeutsche Zeitung\nurl: https://www.sueddeutsche.de/x\n\nText.",
        (None, "Kerry in Moskau", "Süddeutsche Zeitung", "https://www.sueddeutsche.de/x"),
        "Text.",
    ),
    (
        "url https://www.spiegel.de/a.html\nText.",
        (None, "Text.", "DER SPIEGEL", "https://www.spiegel.de/a.html"),
        "Text.",
    ),
    (
        "URL: https://example.org/a\nText.",
        (None, "Text.", "example.org", "https://example.org/a"),
        "Text.",
    ),
    (
        "source: Tagesspiegel\nurl: https://www.zeit.de/x\nText.",
        (None, "Text.", "Tagesspiegel", "https://www.zeit.de/x"),
        "Text.",
    ),
    (
        "url: https://www.zeit.de/x\nText.\nZur SZ-Startseite",
        (None, "Text.", "Süddeutsche Zeitung", "https://www.zeit.de/x"),
        "Text.",
    ),
    ("title Ohne Doppelpunkt\nText.", (None, "Ohne Doppelpunkt", None, None), "Text."),
    ("Title : Mit Leerzeichen\nText.", (None, "Mit Leerzeichen", None, None), "Text."),
    (
        "---\ntitle: Front\ndate: 2017-04-12\n---\n# Überschrift\nText.",
        ("2017-04-12", "Front", None, None),
        "# Überschrift",
    ),
]


@pytest.mark.parametrize(("raw", "fields", "start"), HEADER_CASES)
def test_header_parsing(raw: str, fields: tuple, start: str) -> None:
    article = parse_article(raw, "x.txt")
    assert (article.date, article.title, article.outlet, article.url) == fields
    assert article.text.startswith(start)
    for key in ("date", "title:", "source", "url"):
        assert key not in article.text.lower()


@pytest.mark.parametrize(
    "raw",
    [
        "Date palms wachsen in Oman.\nText.",
        "Title IX ist ein US-Gesetz.\nText.",
        "Source code ist offen.\nText.",
        "Dateien wurden gelöscht.",
        "URL-Kürzel sind beliebt.",
    ],
)
def test_header_lookalikes_at_top_are_text(raw: str) -> None:
    article = parse_article(raw, "x.txt")
    assert article.text == clean_text(raw)
    assert article.date is None and article.url is None and article.outlet is None


def test_header_keys_not_recognised_mid_text() -> None:
    raw = "Erster Satz.\ndate: 2016-10\ntitle: Falsch\nDate 2017 war ein Jahr."
    article = parse_article(raw, "x.txt")
    assert article.date is None
    assert article.title == "Erster Satz."
    assert article.text == raw


def test_title_header_overrides_derived_title() -> None:
    article = parse_article("title: Eigener Titel\n\nErste Zeile.\n\nZweite.", "x.txt")
    assert article.title == "Eigener Titel"
    assert article.text == "Erste Zeile.\n\nZweite."


# --- titles --------------------------------------------------------------------------------
def test_title_long_line_uses_first_sentence() -> None:
    line = (
        "Am 3. Oktober trafen sich Dr. Kerry und Lawrow in Sotschi. "
        + "Danach wurde lange verhandelt. " * 5
    )
    assert (
        parse_article(line, "x.txt").title
        == "Am 3. Oktober trafen sich Dr. Kerry und Lawrow in Sotschi."
    )


def test_title_long_sentence_cut_at_word_boundary() -> None:
    line = " ".join(["Verhandlungsergebnisse"] * 12)
    title = parse_article(line, "x.txt").title
    assert title.endswith("Verhandlungsergebnisse…")
    assert len(title) <= 120
    assert line.startswith(title.removesuffix("…"))


def test_title_markdown_and_symbols_skipped() -> None:
    assert parse_article("## **Kerry in Moskau**\n\nText.", "x.md").title == "Kerry in Moskau"
    assert parse_article("***\n\n> Zitat des Tages\n\nText.", "x.md").title == "Zitat des Tages"


# --- content hash --------------------------------------------------------------------------
def test_content_hash_stable_and_sensitive() -> None:
    raw = "date 2016-10 Kerry trifft Lawrow.\n\nSie reden."
    first = parse_article(raw, "a.txt")
    assert parse_article(raw, "b.txt").content_hash == first.content_hash
    assert parse_article(raw.replace("\n", "\r\n"), "a.txt").content_hash == first.content_hash
    assert parse_article(raw + " Lange.", "a.txt").content_hash != first.content_hash
    assert (
        parse_article(raw.replace("2016-10", "2016-11"), "a.txt").content_hash != first.content_hash
    )
    expected = hashlib.sha256(f"{first.title}\n2016-10\n{first.text}".encode()).hexdigest()
    assert first.content_hash == expected


# --- properties ----------------------------------------------------------------------------
FRAGMENTS = st.sampled_from(
    [
        "\r\n",
        "\r",
        "\n",
        "\n\n\n",
        "\u200b",
        "\ufeff",
        "\u2060",
        "\u00a0",
        "\t",
        " ",
        "\x00",
        "\x85",
        "\u2028",
        "\x0c",
        "e\u0301",
        "\u0301",
        "•",
        "* ",
        "- ",
        "(Foto: AFP)",
        "Foto: dpa",
        "Zur SZ-Startseite",
        "Kerry in Moskau: ",
        "Lawrow sagte etwas lange.",
        "anr/Reuters/dpa",
        "©",
        ". Foto: x",
        "date 2016-10 ",
    ]
)
TEXTS = st.lists(st.one_of(st.text(max_size=12), FRAGMENTS), max_size=40).map("".join)
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_clean_text_properties(raw: str) -> None:
    cleaned = clean_text(raw)
    assert clean_text(cleaned) == cleaned
    assert "\r" not in cleaned
    assert not any(ch in cleaned for ch in ZERO_WIDTH)
    assert "\n\n\n" not in cleaned
    assert cleaned == cleaned.strip()


@settings(max_examples=100, deadline=None)
@given(TEXTS)
def test_parse_article_only_raises_articles_error(raw: str) -> None:
    try:
        article = parse_article(raw, "x.txt")
    except ArticlesError as err:
        assert str(err) == "x.txt: empty after cleaning"
    else:
        assert article.text and article.title
