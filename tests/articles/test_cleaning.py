"""Tests for diploqa.articles.cleaning: debris rules, the seeds, characters, titles."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from conftest import SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

from diploqa.articles import RULES, Article, clean_text, load_articles, parse_article

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
    ("teaser_link", "Lesen Sie mehr: Wie die Belagerung Aleppos den Westen spaltet", ""),
    ("teaser_link", "» Lesen Sie mehr: Das Minsker Abkommen – eine Chronik", ""),
    ("teaser_link", "Lesen Sie auch: Was will Putin in Syrien?", ""),
    ("teaser_link", "Mehr zum Thema: Sanktionen gegen Russland", ""),
    ("teaser_link", "Lesen Sie mehr über die Hintergründe in unserem Dossier.", None),
    ("teaser_link", "Mehr dazu: Der Kreml sagte ab. Dann reiste Kerry ab.", None),
    ("teaser_link", "Siehe auch die Erklärung des Außenministeriums.", None),
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
    ("agency_credit", "(mkl/dpa)", ""),
    ("agency_credit", "(AFP)", ""),
    ("agency_credit", "(dpa meldete eine Einigung)", None),
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


# --- characters ----------------------------------------------------------------------------
def test_mixed_line_endings() -> None:
    raw = "Titel\r\n\r\nErster Absatz.\rZweite Zeile.\n\n\n\nDritter.\r\n"
    assert clean_text(raw) == "Titel\n\nErster Absatz.\nZweite Zeile.\n\nDritter."


def test_invisible_characters_and_spaces() -> None:
    raw = "\ufeffAu\u200bßen\u200cminister\u2060 Kerry\u00a0\u00a0sagt:\t„Ja“.\x07  Mu\u0308nchen "
    assert clean_text(raw) == "Außenminister Kerry sagt: „Ja“. München"


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
