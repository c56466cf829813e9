"""Issue #12: shared headlines and English beside German must neither lift nor bury a passage.

Small constructed archives, real model (docs/quality.md, "Robustness").
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import diploqa
from diploqa.config import ChunkingConfig
from diploqa.lexical import Bm25Index, language_of

#: Five German sections of one (English) Wikipedia-style title, and two other articles.
STEAM = [
    "Die erste brauchbare Dampfmaschine baute Thomas Newcomen im Jahr 1712, um Wasser aus "
    "Bergwerken zu pumpen. Seine Maschine war groß und langsam und verbrauchte sehr viel Kohle.",
    "James Watt verbesserte die Dampfmaschine im Jahr 1769 mit einem getrennten Kondensator. "
    "Dadurch sank der Kohleverbrauch um zwei Drittel, und die Maschine lohnte sich in Fabriken.",
    "Im 19. Jahrhundert trieben Dampfmaschinen Lokomotiven und Schiffe an. George Stephenson "
    "baute 1829 die Lokomotive Rocket, die fast fünfzig Kilometer in der Stunde fuhr.",
    "Der Wirkungsgrad der frühen Dampfmaschinen lag unter einem Prozent. Moderne Dampfturbinen "
    "in Kraftwerken wandeln dagegen mehr als vierzig Prozent der Wärme in Arbeit um.",
    "Heute erzeugen Dampfturbinen den größten Teil des Stroms in Kohle- und Atomkraftwerken. "
    "Kolbendampfmaschinen sieht man fast nur noch in Museen und auf Museumsbahnen.",
]
OTHERS = {
    "warschau.txt": "Warsaw\n\nWarschau ist die Hauptstadt Polens und liegt an der Weichsel. Im "
    "Zweiten Weltkrieg wurde die Altstadt fast vollständig zerstört und danach wieder aufgebaut.",
    "sauerstoff.txt": "Oxygen\n\nSauerstoff ist ein chemisches Element mit dem Symbol O. Er "
    "macht etwa ein Fünftel der Luft aus und wird von fast allen Lebewesen zum Atmen gebraucht.",
}
STEAM_QUESTIONS = [
    ("Who improved the steam engine with a separate condenser?", "steam1.txt"),
    ("How efficient were early steam engines?", "steam3.txt"),
    ("Which locomotive did Stephenson build in 1829?", "steam2.txt"),
    ("Why did Newcomen build his steam engine?", "steam0.txt"),
]

#: German news and English agency stories, one on a neighbouring topic.
MIXED = {
    "bayern.txt": "Hochwasser in Bayern\n\nNach tagelangem Regen sind in Bayern mehrere Flüsse "
    "über die Ufer getreten. In Passau mussten rund 3000 Menschen ihre Häuser verlassen, die Donau "
    "erreichte einen Pegel von zehn Metern. Die Bundeswehr half beim Bau von Dämmen.",
    "lufthansa.txt": "Streik bei der Lufthansa\n\nWegen eines Streiks des Bodenpersonals hat die "
    "Lufthansa am Mittwoch mehr als tausend Flüge in Frankfurt und München gestrichen. Die "
    "Gewerkschaft Verdi fordert zwölf Prozent mehr Lohn.",
    "heizung.txt": "Bundestag beschließt Heizungsgesetz\n\nDer Bundestag hat das umstrittene "
    "Heizungsgesetz verabschiedet. Neue Heizungen müssen künftig zu 65 Prozent mit erneuerbarer "
    "Energie betrieben werden; für Hausbesitzer gibt es Zuschüsse.",
    "bahn.txt": "Neue ICE-Strecke eröffnet\n\nDie Deutsche Bahn hat die Schnellfahrstrecke "
    "zwischen Wendlingen und Ulm eröffnet. Züge fahren dort mit bis zu 250 Kilometern in der "
    "Stunde, die Fahrt von Stuttgart nach Ulm dauert nur noch eine halbe Stunde.",
    "apple.txt": "Apple unveils new iPhone\n\nApple has unveiled a new iPhone that can send "
    "emergency messages by satellite. The phone will cost 999 dollars and goes on sale in the "
    "United States next Friday, the company said at its event in California.",
    "tennis.txt": "Alcaraz wins Wimbledon\n\nCarlos Alcaraz has won the men's final at "
    "Wimbledon, beating Novak Djokovic in five sets. The 20-year-old Spaniard ended the Serbian's "
    "run of four titles in a row at the All England Club.",
    "italy.txt": "Floods in northern Italy\n\nHeavy rain has caused severe flooding in the "
    "Emilia-Romagna region of Italy. More than 10,000 people were evacuated from their homes "
    "and at least nine people have died, the civil protection agency said on Wednesday.",
}
MIXED_QUESTIONS = [
    ("How many people had to leave their homes in Passau?", "bayern.txt"),
    ("Why did Lufthansa cancel flights?", "lufthansa.txt"),
    ("How fast do trains run on the new line to Ulm?", "bahn.txt"),
    ("Wie viele Menschen wurden in der Emilia-Romagna evakuiert?", "italy.txt"),
    ("Wie viele Menschen starben beim Hochwasser in Italien?", "italy.txt"),
    ("Wer hat das Finale in Wimbledon gewonnen?", "tennis.txt"),
]


def _build(folder: Path, articles: dict[str, str]) -> diploqa.Index:
    (folder / "articles").mkdir(parents=True)
    for name, text in articles.items():
        (folder / "articles" / name).write_text(text, encoding="utf-8")
    # Small passages, so the title line of a longer first paragraph becomes a passage of its
    # own, as it does for real paragraphs longer than the default 160 tokens.
    chunking = ChunkingConfig(chunk_tokens=40, overlap_tokens=8)
    return diploqa.build_index(folder / "articles", folder / "index", chunking=chunking)


@pytest.fixture(scope="module")
def steam_index(tmp_path_factory, embedder) -> diploqa.Index:
    articles = {f"steam{i}.txt": f"Steam engine\n\n{text}" for i, text in enumerate(STEAM)}
    return _build(tmp_path_factory.mktemp("steam"), articles | OTHERS)


@pytest.fixture(scope="module")
def mixed_index(tmp_path_factory, embedder) -> diploqa.Index:
    return _build(tmp_path_factory.mktemp("mixed"), MIXED)


@pytest.mark.parametrize(("question", "expected"), STEAM_QUESTIONS)
def test_a_shared_title_does_not_decide_among_its_articles(steam_index, question, expected):
    hits = steam_index.search(question, k=3)
    assert hits[0].source == expected
    assert all(h.text.strip() != "Steam engine" for h in hits)  # the title alone is no answer


def test_title_passages_exist_but_are_never_shown(steam_index):
    alone = [c for c in steam_index.stored.chunks if c.text.strip() == "Steam engine"]
    assert len(alone) == len(STEAM)  # the setting this test is about: the title on its own
    sources = {h.source for h in steam_index.search("steam engine", k=20)}
    assert {f"steam{i}.txt" for i in range(len(STEAM))} <= sources  # still found by it


def test_without_the_setting_the_title_passages_crowd_the_top(steam_index):
    """What ``skip_title_passages`` removes: five identical passages that answer nothing."""
    before = steam_index.with_ranking(replace(steam_index.ranking, skip_title_passages=False))
    texts = [h.text.strip() for h in before.search("What is a steam engine?", k=5)]
    assert texts.count("Steam engine") >= 3


@pytest.mark.parametrize(("question", "expected"), MIXED_QUESTIONS)
def test_english_and_german_articles_are_neither_favoured_nor_buried(
    mixed_index, question, expected
):
    # Language groups of three articles each (the default asks for ten before it trusts a
    # group's mean vector).
    groups = mixed_index.with_ranking(replace(mixed_index.ranking, language_group_articles=3))
    assert groups.search(question, k=1)[0].source == expected
    no_dictionary = groups.with_ranking(replace(groups.ranking, dictionary=False))
    assert no_dictionary.search(question, k=1)[0].source == expected


def test_passage_languages_are_told_by_function_words(mixed_index):
    lexical = mixed_index.lexical
    assert lexical.present == ("de", "en") and lexical.majority == "de"
    english = {
        c.article_id
        for c, lang in zip(mixed_index.stored.chunks, lexical.languages, strict=True)
        if lang == 1
    }
    assert english == {"italy.txt", "apple.txt", "tennis.txt"}
    assert language_of('Der Cyber-Angriff wurde als "the biggest hack" bezeichnet.') == "de"
    assert language_of("How many points did the Broncos score in Super Bowl 50?") == "en"
    assert language_of("Lawrow Blinken Genf") is None


def test_coverage_is_measured_per_language_group():
    bm25 = Bm25Index.build(
        [
            "Die Außenminister sprachen in Genf über eine Waffenruhe.",
            "The foreign ministers talked about a ceasefire in Geneva.",
        ],
        dictionary=None,
    )
    result = bm25.score("Which foreign ministers talked?")
    assert result.by_language is not None
    assert result.by_language["en"][0] >= 0.75 and result.by_language["de"][0] == 0.0
    assert result.coverage == 0.0  # the largest group's (here the first: German)


def test_shared_title_words_do_not_count_as_coverage():
    passages = [f"Steam engine\n\n{text}" for text in STEAM]
    question = "What is a steam engine?"
    shared = Bm25Index.build(passages, dictionary=None, shared_titles=["Steam engine"] * len(STEAM))
    plain = Bm25Index.build(passages, dictionary=None)
    assert shared.score(question).coverage == 0.0 < plain.score(question).coverage


def test_shared_title_words_do_not_score_in_bm25():
    passages = [f"Steam engine\n\n{text}" for text in STEAM]
    shared = Bm25Index.build(passages, dictionary=None, shared_titles=["Steam engine"] * len(STEAM))
    plain = Bm25Index.build(passages, dictionary=None)
    assert not shared.score("steam engine").scores.any()
    assert plain.score("steam engine").scores.all()


def test_use_is_skipped_only_where_every_group_weights_it_zero(mixed_index, monkeypatch):
    """Ranked by language group, a question weights USE by each group's coverage: it is
    encoded by USE unless its words are found in every group; the hits are those of the
    full path either way."""
    groups = mixed_index.with_ranking(replace(mixed_index.ranking, language_group_articles=3))
    questions = [q for q, _ in MIXED_QUESTIONS]
    for index in (mixed_index, groups):
        for q in questions:
            lexical = index.lexical.score(q)
            grouped = index is groups and lexical.by_language is not None
            coverages = [lexical.coverage] + (
                [c for c, _ in lexical.by_language.values()] if grouped else []
            )
            assert index.ranker.weighs_partner(index.lexical, lexical) == (min(coverages) < 1)
        fast = [index.search(q, k=5) for q in questions]
        with monkeypatch.context() as patch:
            patch.setattr(index.ranker, "weighs_partner", lambda keywords, lexical: True)
            assert [index.search(q, k=5) for q in questions] == fast
