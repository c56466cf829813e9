"""English → German translation of question words through a Ding-format dictionary."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from diploqa.config import RankingConfig, Settings
from diploqa.dictionary import (
    Dictionary,
    build_table,
    open_dictionary,
    parse_ding,
    reverse_table,
    shared_dictionary,
)
from diploqa.lexical import Bm25Index

DING_SAMPLE = """\
# Version :: test sample in the format of Debian's trans-de-en
Feuerpause {f}; Waffenruhe {f} (zwischen jdm.) [mil.] | eine Waffenruhe vereinbaren :: \
cease-fire; truce (between sb.) | to reach a cease-fire agreement
Gespräch {n}; Unterredung {f} | Gespräche {pl}; Unterredungen {pl} :: talk | talks
verhandeln {v} | verhandelnd | verhandelt :: to negotiate sth. | negotiating | negotiated
Krieg {m} | Kriege {pl} | einen Krieg gegen jdn. führen :: war | wars | to wage war on sb.
Außenminister {m} | Außenminister {pl} :: foreign minister | foreign ministers
Schwarzes Meer {n} [geogr.] :: Black Sea
Hauptstadt {f} | Hauptstädte {pl} :: capital | capitals | capital city
die Sanktionen lockern :: loosen
"""

TRANSLATED = [
    "Die Waffenruhe, eine Feuerpause, hielt nur zwei Tage.",
    "Die Gespräche über das Abkommen wurden in Genf fortgesetzt.",
    "Beide Seiten verhandelt seit Monaten über den Gefangenenaustausch.",
    "Im Krieg und danach: Waffenruhe im Hinterland.",
]


@pytest.fixture()
def ding(tmp_path) -> Path:
    path = tmp_path / "de-en"
    path.write_text(DING_SAMPLE, encoding="utf-8")
    return path


@pytest.fixture()
def sample_dictionary(ding, tmp_path) -> Dictionary:
    dictionary = open_dictionary(ding, tmp_path / "cache")
    assert dictionary is not None
    return dictionary


def test_ding_lines_pair_sub_entries_and_keep_single_english_words():
    table = parse_ding(DING_SAMPLE.splitlines())
    # annotations stripped, synonyms split, sub-entries paired (singular ↔ singular only)
    assert table["truce"] == {"Feuerpause", "Waffenruhe"}
    assert table["talk"] == {"Gespräch", "Unterredung"}
    assert table["talks"] == {"Gespräche", "Unterredungen"}
    # leading "to " and "sth." placeholders removed; inflections paired one to one
    assert table["negotiate"] == {"verhandeln"}
    assert table["negotiated"] == {"verhandelt"}
    assert table["wars"] == {"Kriege"}
    # English phrases ("foreign minister", "Black Sea", "cease-fire agreement") are no keys
    assert not {"foreign", "minister", "black", "sea", "agreement"} & table.keys()
    # a line whose sub-entries do not pair up keeps only the first pair
    assert table["capital"] == {"Hauptstadt"} and "capitals" not in table
    # German phrases of more than two words are left out
    assert "loosen" not in table
    assert "cease-fire" in table  # one English token, though never a query word (\w+ split)


def test_translation_finds_the_passage_plain_bm25_cannot(sample_dictionary):
    plain = Bm25Index.build(TRANSLATED, dictionary=None)
    translated = Bm25Index.build(TRANSLATED, dictionary=sample_dictionary)
    question = "How long did the truce hold?"
    assert not plain.score(question).scores.any()
    result = translated.score(question)
    assert int(result.scores.argmax()) == 0
    assert result.coverage == 0  # no word of the question itself occurs in the corpus
    n_words = len(plain.query_terms(question))  # only "truce" is found, by translation
    assert result.bm25_coverage == pytest.approx(RankingConfig.translated_word_weight / n_words)
    assert result.terms == tuple(plain.query_terms(question))


def test_a_word_scores_its_best_translation_not_the_sum(sample_dictionary):
    plain = Bm25Index.build(TRANSLATED, dictionary=None)
    translated = Bm25Index.build(TRANSLATED, dictionary=sample_dictionary)
    # passage 0 has both Feuerpause and Waffenruhe: "truce" counts once, at the better one
    expected = np.maximum(plain.score("Feuerpause").scores, plain.score("Waffenruhe").scores)
    np.testing.assert_allclose(translated.score("truce").scores, expected, rtol=1e-6)
    assert translated.score("truce").scores[0] < plain.score("Feuerpause Waffenruhe").scores[0]


def test_words_add_up_and_own_words_count_fully(sample_dictionary):
    plain = Bm25Index.build(TRANSLATED, dictionary=None)
    translated = Bm25Index.build(TRANSLATED, dictionary=sample_dictionary)
    result = translated.score("Genf talks negotiated")
    expected = sum(plain.score(w).scores for w in ("Genf", "Gespräche", "verhandelt"))
    np.testing.assert_allclose(result.scores, expected, rtol=1e-6)
    # Genf occurs as it is (1), talks and negotiated only translated (0.5 each), of 3 words
    assert result.coverage == pytest.approx(1 / 3)
    weight = RankingConfig.translated_word_weight
    assert result.bm25_coverage == pytest.approx((1 + 2 * weight) / 3)


def test_a_known_word_also_scores_its_translations(sample_dictionary):
    corpus = [*TRANSLATED, "Der Talk im Fernsehen."]  # "talk" occurs as it is
    plain = Bm25Index.build(corpus, dictionary=None)
    result = Bm25Index.build(corpus, dictionary=sample_dictionary).score("talk")
    assert result.scores[1] > 0 and result.scores[4] > 0  # Gespräche and "Talk" itself
    assert result.coverage == result.bm25_coverage == 1.0
    expected = np.maximum(plain.score("Talk").scores, plain.score("Gespräch").scores)
    np.testing.assert_allclose(result.scores, expected, rtol=1e-6)


def test_german_questions_score_exactly_as_without_dictionary(sample_dictionary):
    plain = Bm25Index.build(TRANSLATED, dictionary=None)
    translated = Bm25Index.build(TRANSLATED, dictionary=sample_dictionary)
    for question in ("Wie lange hielt die Waffenruhe?", "Gespräche in Genf", "xyzzy"):
        a, b = plain.score(question), translated.score(question)
        np.testing.assert_array_equal(a.scores, b.scores)
        assert (a.coverage, a.bm25_coverage, a.terms) == (b.coverage, b.bm25_coverage, b.terms)


#: English passages beside the German ones: a mixed archive.
ENGLISH = [
    "The truce held for two days, and then the fighting in the north began again.",
    "The negotiations in Geneva were about the exchange of prisoners.",
]


def test_german_stems_lead_to_english_words():
    reverse = reverse_table(parse_ding(DING_SAMPLE.splitlines()))
    assert reverse["waffenruh"] == {"truce", "cease-fire"}  # Waffenruhe, by its stem
    assert reverse["gesprach"] == {"talk", "talks"}  # Gespräch and Gespräche: one stem
    assert reverse["verhandelt"] == {"negotiated"}
    assert "schwarz" not in reverse  # "Schwarzes Meer" is a phrase, not a word


def test_a_german_question_finds_english_passages_of_a_mixed_archive(sample_dictionary):
    corpus = [*TRANSLATED, *ENGLISH]
    plain = Bm25Index.build(corpus, dictionary=None)
    both = Bm25Index.build(corpus, dictionary=sample_dictionary)
    question = "Wie lange hielt die Waffenruhe?"
    before, after = plain.score(question), both.score(question)
    german = slice(0, len(TRANSLATED))
    # the English passage about the truce is found through "Waffenruhe" → truce
    assert before.scores[len(TRANSLATED)] == 0 < after.scores[len(TRANSLATED)]
    # German passages score exactly as without the dictionary
    np.testing.assert_array_equal(after.scores[german], before.scores[german])
    assert after.by_language["de"] == before.by_language["de"]
    coverage, bm25_coverage = after.by_language["en"]
    assert coverage == before.by_language["en"][0] and bm25_coverage > coverage
    # switched off (RankingConfig.german_to_english=False): as before
    one_way = both.with_query_settings(sample_dictionary, german_to_english=False)
    np.testing.assert_array_equal(one_way.score(question).scores, before.scores)


def test_a_german_word_found_in_english_passages_as_it_is_is_not_translated(sample_dictionary):
    capital = "The capital of the country was quiet during the night of the talks."
    as_is = "The Hauptstadt exhibition opened in London and was a success with the visitors."
    question = "Die Hauptstadt in Genf"
    found = Bm25Index.build([*TRANSLATED, *ENGLISH, capital], sample_dictionary).score(question)
    assert "capital" in set().union(*found.groups)  # Hauptstadt → capital
    kept = Bm25Index.build([*TRANSLATED, *ENGLISH, capital, as_is], sample_dictionary)
    assert "capital" not in set().union(*kept.score(question).groups)


def test_the_table_is_built_once_and_rebuilt_when_the_dictionary_changes(ding, tmp_path):
    cache = tmp_path / "cache"
    first = build_table(ding, cache)
    built = first.stat().st_mtime_ns
    assert build_table(ding, cache) == first and first.stat().st_mtime_ns == built
    with ding.open("a", encoding="utf-8") as f:
        f.write("Frieden {m} :: peace\n")
    second = build_table(ding, cache)
    assert second != first and not first.exists()  # the stale table is removed
    assert [p.name for p in cache.iterdir()] == [second.name]  # no temporary files left
    assert Dictionary(second).translations(["peace", "truce"])["peace"] == ("Frieden",)


BUILDER = """
import logging, sys
from pathlib import Path
from diploqa.dictionary import Dictionary, build_table
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
table = build_table(Path(sys.argv[1]), Path(sys.argv[2]))
print(Dictionary(table).translations(["word7"])["word7"][0])
"""


def test_processes_started_together_build_the_table_once(tmp_path):
    ding = tmp_path / "de-en"  # large enough that parsing it takes a while
    ding.write_text("".join(f"Wort{i} {{n}} | Wörter{i} {{pl}} :: word{i} | words{i}\n"
                            for i in range(60_000)), encoding="utf-8")  # fmt: skip
    builders = [
        subprocess.Popen([sys.executable, "-c", BUILDER, str(ding), str(tmp_path / "cache")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]  # fmt: skip
    done = [p.communicate(timeout=120) for p in builders]
    assert [out.strip() for out, _ in done] == ["Wort7"] * 3
    assert sum(err.count("Indexing the dictionary") for _, err in done) == 1
    assert len(list((tmp_path / "cache").iterdir())) == 1  # the table; no lock file left


def test_lookups_from_many_threads_agree(sample_dictionary):
    words = ["truce", "talks", "war", "unknown"]
    expected = sample_dictionary.translations(words)
    assert set(expected) == {"truce", "talks", "war"}
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: sample_dictionary.translations(words), range(400)))
    assert all(r == expected for r in results)


def _configured_index(monkeypatch, dictionary: str, cache: Path) -> Bm25Index:
    monkeypatch.setenv("DIPLOQA_DICTIONARY", dictionary)
    monkeypatch.setenv("DIPLOQA_CACHE", str(cache))
    return Bm25Index.build(TRANSLATED, Settings.from_env().dictionary)


def test_configured_dictionary_is_used(monkeypatch, ding, tmp_path):
    index = _configured_index(monkeypatch, str(ding), tmp_path / "cache")
    assert int(index.score("the truce").scores.argmax()) == 0


@pytest.mark.parametrize("setting", ["off", "OFF", "missing"])
def test_without_dictionary_search_is_plain_bm25(monkeypatch, tmp_path, caplog, setting):
    value = str(tmp_path / "no-such-file") if setting == "missing" else setting
    with caplog.at_level(logging.INFO, logger="diploqa.dictionary"):
        index = _configured_index(monkeypatch, value, tmp_path / "cache")
        result = index.score("How long did the truce hold?")
        _configured_index(monkeypatch, value, tmp_path / "cache")
    assert not result.scores.any() and result.bm25_coverage == 0
    assert not (tmp_path / "cache").exists()
    notes = [r for r in caplog.records if r.name == "diploqa.dictionary"]
    if setting == "missing":  # said once, at info level
        assert [r.levelno for r in notes] == [logging.INFO] and "no-such-file" in notes[0].message
    else:
        assert notes == []


def test_unwritable_cache_means_no_translation_and_one_warning(monkeypatch, ding, tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.INFO, logger="diploqa.dictionary"):
        index = _configured_index(monkeypatch, str(ding), blocker / "cache")
        result = index.score("How long did the truce hold?")
        _configured_index(monkeypatch, str(ding), blocker / "cache")
    assert not result.scores.any()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(ding) in warnings[0].message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "de-en"]


def test_damaged_table_means_no_translation(ding, tmp_path, caplog):
    cache = tmp_path / "cache"
    table = build_table(ding, cache)
    table.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="diploqa.dictionary"):
        assert open_dictionary(ding, cache) is None
    assert "not usable" in caplog.text


SYSTEM_DICTIONARY = Settings.from_env().dictionary.path  # /usr/share/trans/de-en unless set


@pytest.mark.skipif(
    SYSTEM_DICTIONARY is None or not SYSTEM_DICTIONARY.is_file(),
    reason="no Ding dictionary installed (Debian package trans-de-en)",
)
def test_real_dictionary_translates_news_words():
    """The installed dictionary as search opens it (its table in the settings' cache folder,
    parsed there once per dictionary file and parser version; the parsing into a fresh cache
    is tested on the sample above)."""
    dictionary = shared_dictionary(Settings.from_env().dictionary)
    assert dictionary is not None
    found = dictionary.translations(["sanctions", "ceasefire", "negotiations", "embassy"])
    assert "Sanktionen" in found["sanctions"]
    assert "Waffenruhe" in found["ceasefire"]
    assert "Verhandlungen" in found["negotiations"]
    assert "Botschaft" in found["embassy"]
    passages = [
        "Die Verhandlungen über eine Waffenruhe sind gescheitert.",
        "Die Botschaft in Moskau bleibt geschlossen.",
        "Der Außenminister reiste nach Genf.",
    ]
    index = Bm25Index.build(passages, dictionary=dictionary)
    assert int(index.score("Why did the truce negotiations fail?").scores.argmax()) == 0
    assert int(index.score("Is the embassy closed?").scores.argmax()) == 1
    words = ["who", "signed", "the", "treaty", "between", "two", "countries", "after", "war"]
    start = time.perf_counter()
    for _ in range(100):
        dictionary.translations(words)
    assert (time.perf_counter() - start) / 100 < 0.001  # well under a millisecond per question


def test_highlight_overlap_matches_english_words_through_their_translations(sample_dictionary):
    bm25 = Bm25Index.build(TRANSLATED, dictionary=sample_dictionary)
    question = "How long did the truce hold?"
    result = bm25.score(question)
    truce = next(g for g in result.groups if len(g) > 1)
    assert {"waffenruh", "feuerpaus"} <= truce
    sentences = ["Die Gespräche gingen weiter.", "Die Waffenruhe, eine Feuerpause, hielt."]
    # without translations nothing matches; with them the answering sentence does, and a word
    # matched by two of its translations counts once
    assert not bm25.overlap(result.terms, sentences).any()
    weights = bm25.overlap(result.groups, sentences)
    assert weights[0] == 0 < weights[1]
    assert weights[1] == pytest.approx(bm25.overlap([truce], ["Waffenruhe"])[0]) or weights[
        1
    ] == pytest.approx(bm25.overlap([truce], ["Feuerpause"])[0])
    # German questions: one group per word, the word itself, as before
    german = bm25.score("Wie lange hielt die Waffenruhe?")
    assert german.groups == tuple(frozenset({t}) for t in german.terms)
