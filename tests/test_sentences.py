"""Where sentences end (diploqa.sentences): the rule shared by the chunker and highlighting."""

import pytest

from diploqa.sentences import first_sentence, sentence_spans


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


@pytest.mark.parametrize(
    "text",
    [
        # the cuts that once made highlights of fragments (XQuAD and German news)
        "Er wohnt am Ufer des St. Johns River, ca. 25 Meilen südlich der Grenze.",
        "Es gibt Kategorien für Baufirmen (z. B. Ingenieurwesen) und Bauleiter.",
        "Kaiser Heinrich III. adelte 1047 den Anführer Drogo.",
        "Die Gebühren betragen 30 Mio. GBP im Jahr.",
        "Die Verkehrsbetriebe VAG bzw. VGN erhöhen die Preise.",
        "Er löste Dr. Gerd Niebaum ab.",
        "Satellitenschüsseln usw. bekämpfen sie auch.",
        "Jones et al. 1998 stützen den Befund.",
        "Sen. McCain met the U.S. President.",
        "Die Messe mit Papst Benedikt XVI. auf dem Marienfeld.",
        "Seit dem 3. Oktober sitzen sie wieder an einem Tisch.",
    ],
)
def test_a_full_stop_inside_a_sentence_does_not_end_it(text):
    assert _sentences(text) == [text]


def test_sentences_end_before_a_capital_a_digit_or_a_quote():
    text = (
        "Kerry traf Lawrow in Sotschi. 2012 stand das Land auf dem letzten Platz. "
        "„Wir reden“, sagte er. Was nun? Die Gespräche gehen weiter!"
    )
    assert _sentences(text) == [
        "Kerry traf Lawrow in Sotschi.",
        "2012 stand das Land auf dem letzten Platz.",
        "„Wir reden“, sagte er.",
        "Was nun?",
        "Die Gespräche gehen weiter!",
    ]


def test_lines_are_sentences_and_offsets_point_into_the_text():
    text = "Titel ohne Punkt\nErster Satz. Zweiter Satz."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Titel ohne Punkt", "Erster Satz.", "Zweiter Satz."]


def test_a_headline_cut_from_a_lead_skips_the_same_abbreviations():
    assert first_sentence("Sen. McCain trifft Lawrow. Weitere Gespräche folgen") == (
        "Sen. McCain trifft Lawrow."
    )
    assert first_sentence("Umsatz steigt auf 30 Mio. Euro. Der Konzern jubelt") == (
        "Umsatz steigt auf 30 Mio. Euro."
    )
    assert first_sentence("Kerry trifft Lawrow am 3. Mai. Weitere Gespräche") == (
        "Kerry trifft Lawrow am 3. Mai."
    )


def test_a_german_word_that_looks_like_an_abbreviation_still_ends_its_sentence():
    text = "Die Forscher fanden das Gen. Art und Umfang bleiben offen."
    assert _sentences(text) == ["Die Forscher fanden das Gen.", "Art und Umfang bleiben offen."]
