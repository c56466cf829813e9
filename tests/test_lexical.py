"""BM25 with German stemming, English name spellings and dictionary translations."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from diploqa import config
from diploqa.config import RankingConfig
from diploqa.dictionary import Dictionary, build_table, open_dictionary, parse_ding
from diploqa.lexical import (
    KEYWORDS_FILE,
    STOPWORDS_EN,
    STOPWORDS_GERMAN,
    Bm25Index,
    passage_digests,
)

PASSAGES = [
    "Kerry traf Lawrow in Sotschi am Schwarzen Meer.",
    "In München sprachen die Außenminister über eine Waffenruhe in Syrien.",
    "Tillerson kritisierte die Herrschaft der Assad-Familie.",
]


def test_german_question_finds_its_passage_with_full_coverage():
    bm25 = Bm25Index(PASSAGES)
    result = bm25.score("Wen traf Kerry in Sotschi?")
    assert int(result.scores.argmax()) == 0
    assert result.coverage > 0.6


def test_english_spellings_are_mapped_to_german_ones():
    bm25 = Bm25Index(PASSAGES)
    result = bm25.score("Lavrov in Sochi")
    assert int(result.scores.argmax()) == 0
    result = bm25.score("ceasefire talks in Munich")
    assert int(result.scores.argmax()) == 1


def test_english_question_has_low_coverage():
    bm25 = Bm25Index(PASSAGES)
    english = bm25.score("What did the foreign ministers discuss about the war?")
    german = bm25.score("Worüber sprachen die Außenminister in München?")
    assert english.coverage < german.coverage


def test_stemming_matches_inflections():
    bm25 = Bm25Index(PASSAGES)
    assert int(bm25.score("Herrschaften der Familien").scores.argmax()) == 2


def test_no_known_word_scores_zero():
    bm25 = Bm25Index(PASSAGES)
    result = bm25.score("xyzzy quux")
    assert result.coverage == 0 and not result.scores.any()


def test_overlap_weights_rare_words_higher():
    bm25 = Bm25Index(PASSAGES * 3 + ["Syrien Syrien Syrien"])
    weights = bm25.overlap(bm25.query_terms("Sotschi Syrien"), ["Sotschi", "Syrien"])
    assert weights[0] > weights[1] > 0


# --- English → German translation through a Ding-format dictionary ---------------------------

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
    plain = Bm25Index(TRANSLATED, dictionary=None)
    translated = Bm25Index(TRANSLATED, dictionary=sample_dictionary)
    question = "How long did the truce hold?"
    assert not plain.score(question).scores.any()
    result = translated.score(question)
    assert int(result.scores.argmax()) == 0
    assert result.coverage == 0  # no word of the question itself occurs in the corpus
    n_words = len(plain.query_terms(question))  # only "truce" is found, by translation
    assert result.bm25_coverage == pytest.approx(RankingConfig.translated_word_weight / n_words)
    assert result.terms == tuple(plain.query_terms(question))


def test_a_word_scores_its_best_translation_not_the_sum(sample_dictionary):
    plain = Bm25Index(TRANSLATED, dictionary=None)
    translated = Bm25Index(TRANSLATED, dictionary=sample_dictionary)
    # passage 0 has both Feuerpause and Waffenruhe: "truce" counts once, at the better one
    expected = np.maximum(plain.score("Feuerpause").scores, plain.score("Waffenruhe").scores)
    np.testing.assert_allclose(translated.score("truce").scores, expected, rtol=1e-6)
    assert translated.score("truce").scores[0] < plain.score("Feuerpause Waffenruhe").scores[0]


def test_words_add_up_and_own_words_count_fully(sample_dictionary):
    plain = Bm25Index(TRANSLATED, dictionary=None)
    translated = Bm25Index(TRANSLATED, dictionary=sample_dictionary)
    result = translated.score("Genf talks negotiated")
    expected = sum(plain.score(w).scores for w in ("Genf", "Gespräche", "verhandelt"))
    np.testing.assert_allclose(result.scores, expected, rtol=1e-6)
    # Genf occurs as it is (1), talks and negotiated only translated (0.5 each), of 3 words
    assert result.coverage == pytest.approx(1 / 3)
    weight = RankingConfig.translated_word_weight
    assert result.bm25_coverage == pytest.approx((1 + 2 * weight) / 3)


def test_a_known_word_also_scores_its_translations(sample_dictionary):
    corpus = [*TRANSLATED, "Der Talk im Fernsehen."]  # "talk" occurs as it is
    plain = Bm25Index(corpus, dictionary=None)
    result = Bm25Index(corpus, dictionary=sample_dictionary).score("talk")
    assert result.scores[1] > 0 and result.scores[4] > 0  # Gespräche and "Talk" itself
    assert result.coverage == result.bm25_coverage == 1.0
    expected = np.maximum(plain.score("Talk").scores, plain.score("Gespräch").scores)
    np.testing.assert_allclose(result.scores, expected, rtol=1e-6)


def test_german_questions_score_exactly_as_without_dictionary(sample_dictionary):
    plain = Bm25Index(TRANSLATED, dictionary=None)
    translated = Bm25Index(TRANSLATED, dictionary=sample_dictionary)
    for question in ("Wie lange hielt die Waffenruhe?", "Gespräche in Genf", "xyzzy"):
        a, b = plain.score(question), translated.score(question)
        np.testing.assert_array_equal(a.scores, b.scores)
        assert (a.coverage, a.bm25_coverage, a.terms) == (b.coverage, b.bm25_coverage, b.terms)


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
    return Bm25Index(TRANSLATED)


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


SYSTEM_DICTIONARY = config.dictionary_path()  # /usr/share/trans/de-en unless configured


@pytest.mark.skipif(
    SYSTEM_DICTIONARY is None or not SYSTEM_DICTIONARY.is_file(),
    reason="no Ding dictionary installed (Debian package trans-de-en)",
)
def test_real_dictionary_translates_news_words(tmp_path):
    dictionary = open_dictionary(SYSTEM_DICTIONARY, tmp_path / "cache")
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
    index = Bm25Index(passages, dictionary=dictionary)
    assert int(index.score("Why did the truce negotiations fail?").scores.argmax()) == 0
    assert int(index.score("Is the embassy closed?").scores.argmax()) == 1
    words = ["who", "signed", "the", "treaty", "between", "two", "countries", "after", "war"]
    start = time.perf_counter()
    for _ in range(100):
        dictionary.translations(words)
    assert (time.perf_counter() - start) / 100 < 0.001  # well under a millisecond per question


def test_scores_are_those_of_bm25s_lucene_variant():
    """The keyword index computes BM25 from counts at question time; bm25s (the reference,
    which stores the scores) must give the same scores for the same words."""
    import bm25s

    passages = PASSAGES * 2 + [
        "Lawrow und Kerry verhandelten in Genf über eine Waffenruhe in Syrien.",
        "Die Sanktionen gegen Russland wurden verlängert; Sanktionen, Sanktionen.",
        "",
        "Das Wetter in Hamburg bleibt mild.",
    ]
    index = Bm25Index(passages, dictionary=None)
    reference = bm25s.BM25()
    reference.index([index.tokenize(p) for p in passages], show_progress=False)
    for question in ("Waffenruhe Syrien Syrien", "Wo traf Kerry Lawrow?", "Sanktionen", "xyz"):
        terms = [t for t in index.query_terms(question) if t in reference.vocab_dict]
        expected = reference.get_scores(terms) if terms else np.zeros(len(passages))
        np.testing.assert_allclose(index.score(question).scores, expected, rtol=1e-6)
        assert question == "xyz" or expected.max() > 0


def test_the_stopwords_are_bm25s_lists():
    from bm25s import stopwords

    assert tuple(stopwords.STOPWORDS_GERMAN) == STOPWORDS_GERMAN
    assert tuple(stopwords.STOPWORDS_EN) == STOPWORDS_EN


def test_an_updated_index_scores_like_one_built_from_nothing():
    """An update keeps the old passages' counts (by row), adds the new ones' and drops the
    removed ones'; what it gives must be exactly what a build of the new passages gives."""
    passages = [
        "Lawrow und Kerry verhandelten in Genf über eine Waffenruhe in Syrien.",
        "Die Sanktionen gegen Russland wurden verlängert.",
        "Das Wetter in Hamburg bleibt mild.",
        "The ministers met in Geneva.",
    ]
    old = Bm25Index(passages, dictionary=None)
    new = [passages[3], "Kerry traf Lawrow in Sotschi; die Waffenruhe hielt.", passages[0]]
    tokenized = []
    original = Bm25Index.tokenize
    Bm25Index.tokenize = lambda self, text: tokenized.append(text) or original(self, text)
    try:
        updated = old.updated(new, np.array([3, -1, 0]))
    finally:
        Bm25Index.tokenize = original
    assert tokenized == [new[1]]  # only the new passage is split and stemmed
    fresh = Bm25Index(new, dictionary=None)
    for question in ("Waffenruhe Syrien", "Wo traf Kerry Lawrow?", "Sanktionen", "Geneva"):
        a, b = updated.score(question), fresh.score(question)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-6)
        assert (a.coverage, a.by_language) == (b.coverage, b.by_language)
    assert updated.languages.tolist() == fresh.languages.tolist()
    assert updated.score("Sanktionen").coverage == 0  # the removed passage's words are gone


def test_an_update_splits_again_the_passages_whose_title_became_shared():
    """A new article with the same title makes the old one's title shared: its passages'
    title words stop scoring, as in a build from nothing (and the reverse on removal)."""
    passages = ["Liveblog Ukraine\nKerry traf Lawrow.", "Tillerson kritisierte Assad."]
    old = Bm25Index(passages, dictionary=None, shared_titles=["", ""])
    new = [*passages, "Liveblog Ukraine\nDie Waffenruhe hielt."]
    titles = ["Liveblog Ukraine", "", "Liveblog Ukraine"]
    updated = old.updated(new, np.array([0, 1, -1]), titles)
    fresh = Bm25Index(new, dictionary=None, shared_titles=titles)
    _same_scores(updated, fresh, new)
    assert updated.score("Liveblog").coverage == 0
    back = updated.updated(passages, np.array([0, 1]), ["", ""])
    _same_scores(back, Bm25Index(passages, dictionary=None, shared_titles=["", ""]), passages)
    assert back.score("Liveblog").coverage > 0


def test_an_old_row_taken_twice_is_split_again_for_the_second():
    old = Bm25Index(["Kerry traf Lawrow.", "Assad"], dictionary=None)
    new = ["Kerry traf Lawrow.", "Kerry traf Lawrow."]  # two renamed copies of one article
    updated = old.updated(new, np.array([0, 0]))
    _same_scores(updated, Bm25Index(new, dictionary=None), new)


def test_matching_reuses_the_rows_whose_text_it_holds():
    """A server that loads a generation another process wrote splits only the passages its
    previous keyword index does not hold (by text), with the result of a build."""
    old = Bm25Index(["Kerry traf Lawrow.", "Assad regiert.", "Die Waffenruhe hielt."], None)
    new = ["Die Waffenruhe hielt.", "Neue Sanktionen gegen Moskau.", "Kerry traf Lawrow."]
    tokenized = []
    original = Bm25Index.tokenize
    Bm25Index.tokenize = lambda self, text: tokenized.append(text) or original(self, text)
    try:
        matched = old.matching(new)
    finally:
        Bm25Index.tokenize = original
    assert tokenized == [new[1]]
    _same_scores(matched, Bm25Index(new, dictionary=None), new)
    np.testing.assert_array_equal(matched.digests, passage_digests(new))
    unrelated = Bm25Index(["Das Wetter bleibt mild."], None).matching(new)
    _same_scores(unrelated, Bm25Index(new, dictionary=None), new)
    empty = Bm25Index([], None).matching(new)
    _same_scores(empty, Bm25Index(new, dictionary=None), new)


def test_an_origin_that_does_not_fit_is_refused():
    old = Bm25Index(["Kerry traf Lawrow."], dictionary=None)
    with pytest.raises(ValueError, match="origin"):
        old.updated(["a", "b"], np.array([0]))
    with pytest.raises(ValueError, match="origin"):
        old.updated(["a"], np.array([5]))


def test_highlight_overlap_matches_english_words_through_their_translations(sample_dictionary):
    bm25 = Bm25Index(TRANSLATED, dictionary=sample_dictionary)
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


# --- The keyword index saved with a generation ------------------------------------------------

MIXED = [
    "Liveblog Ukraine\nKerry traf Lawrow in Sotschi am Schwarzen Meer.",
    "Liveblog Ukraine\nIn München sprachen die Außenminister über eine Waffenruhe.",
    "The foreign ministers met in Geneva and discussed the sanctions against Russia.",
    "Tillerson kritisierte die Herrschaft der Assad-Familie.",
]
TITLES = ["Liveblog Ukraine", "Liveblog Ukraine", "", ""]
QUESTIONS = [
    "Wen traf Kerry in Sotschi?",
    "Liveblog Ukraine Waffenruhe",
    "Where did the foreign ministers discuss sanctions?",
    "ceasefire talks in Munich",
    "xyzzy",
]


def _same_scores(a: Bm25Index, b: Bm25Index, texts: list[str] = MIXED) -> None:
    assert a.languages.tolist() == b.languages.tolist()
    assert (a.present, a.majority) == (b.present, b.majority)
    for question in QUESTIONS:
        x, y = a.score(question), b.score(question)
        np.testing.assert_allclose(x.scores, y.scores, rtol=1e-6)
        assert (x.coverage, x.bm25_coverage, x.by_language) == (
            y.coverage,
            y.bm25_coverage,
            y.by_language,
        )
        assert x.groups == y.groups
        np.testing.assert_array_equal(a.overlap(x.groups, texts), b.overlap(y.groups, texts))


def test_saved_keyword_index_scores_like_the_one_it_was_built_from(tmp_path):
    built = Bm25Index(MIXED, dictionary=None, shared_titles=TITLES)
    checksums = built.save(tmp_path)
    assert KEYWORDS_FILE in checksums and "keywords.body.rows.npy" in checksums
    loaded = Bm25Index.load(tmp_path, checksums, len(MIXED), dictionary=None)
    assert loaded is not None
    _same_scores(built, loaded)
    np.testing.assert_array_equal(loaded.digests, passage_digests(MIXED))
    # the shared title is still no keyword evidence once read back
    assert loaded.score("Liveblog").coverage == 0


@pytest.mark.skipif(
    SYSTEM_DICTIONARY is None or not SYSTEM_DICTIONARY.is_file(),
    reason="no Ding dictionary installed (Debian package trans-de-en)",
)
def test_saved_keyword_index_takes_the_query_settings_of_the_ranking(tmp_path):
    checksums = Bm25Index(MIXED, dictionary=None, shared_titles=TITLES).save(tmp_path)
    loaded = Bm25Index.load(tmp_path, checksums, len(MIXED), dictionary="configured")
    built = Bm25Index(MIXED, dictionary="configured", shared_titles=TITLES)
    _same_scores(built, loaded)
    plain = loaded.with_query_settings(None)
    assert plain.translations(["ceasefire"]) == {} and loaded.translations(["ceasefire"])


def test_a_keyword_index_without_keywords_round_trips(tmp_path):
    built = Bm25Index(["und der die", "the and of"], dictionary=None)
    checksums = built.save(tmp_path)
    loaded = Bm25Index.load(tmp_path, checksums, 2, dictionary=None)
    _same_scores(built, loaded)


@pytest.mark.parametrize(
    "damage",
    [
        "missing from the manifest",
        "checksum",
        "truncated",
        "other version",
        "passage count",
        "crafted settings",
        "crafted postings",
        "crafted languages",
        "crafted digests",
    ],
)
def test_a_damaged_or_foreign_keyword_index_is_not_read(tmp_path, damage, caplog):
    checksums = Bm25Index(MIXED, dictionary=None, shared_titles=TITLES).save(tmp_path)
    passages = len(MIXED)
    state = tmp_path / KEYWORDS_FILE
    segment = next(n for n in checksums if n.startswith("keywords.seg-"))
    if damage == "missing from the manifest":
        checksums.pop(KEYWORDS_FILE)
    elif damage == "checksum":
        checksums[segment] = "0" * 64
    elif damage == "truncated":
        (tmp_path / segment).write_bytes(b"PK\x03\x04")
    elif damage == "other version":
        text = state.read_text().replace('"version": 3', '"version": 999')
        state.write_text(text)
        checksums[KEYWORDS_FILE] = diploqa_sha(state)
    elif damage == "passage count":
        passages += 1
    elif damage in ("crafted settings", "crafted languages"):  # wrong, but matching checksums
        saved = json.loads(state.read_text())
        if damage == "crafted settings":
            saved["k1"] = "eins"
        else:
            saved["languages"] = "7" * passages
        state.write_text(json.dumps(saved))
        checksums[KEYWORDS_FILE] = diploqa_sha(state)
    elif damage == "crafted digests":
        digests = tmp_path / "keywords.digests.npy"
        np.save(digests, np.zeros(passages + 1, np.uint64))
        checksums[digests.name] = diploqa_sha(digests)
    else:
        rows = tmp_path / "keywords.body.rows.npy"
        np.save(rows, np.load(rows) + 1000)
        checksums[rows.name] = diploqa_sha(rows)
    with caplog.at_level(logging.INFO, logger="diploqa.lexical"):
        assert Bm25Index.load(tmp_path, checksums, passages, dictionary=None) is None
    assert caplog.records or damage == "missing from the manifest"  # said why


def diploqa_sha(path: Path) -> str:
    from diploqa.files import sha256_file

    return sha256_file(path)


def test_a_loaded_index_updated_and_saved_again_scores_like_a_fresh_one(tmp_path):
    """The next generation of a saved keyword index, made in a new process from the
    files, is what a build from nothing gives, and shares the unchanged segment's file."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    many = MIXED * 10
    first = Bm25Index(many, dictionary=None, shared_titles=TITLES * 10)
    checksums = first.save(one)
    loaded = Bm25Index.load(one, checksums, len(many), dictionary=None)
    new = [*many, "Lawrow sprach in Genf über Sanktionen."]
    updated = loaded.updated(new, np.r_[np.arange(len(many)), -1], [*TITLES * 10, ""])
    again = Bm25Index.load(two, updated.save(two), len(new), dictionary=None)
    _same_scores(again, Bm25Index(new, dictionary=None, shared_titles=[*TITLES * 10, ""]), new)
    shared = set(checksums) & set(updated.save(two)) - {KEYWORDS_FILE}
    assert any(n.startswith("keywords.seg-") for n in shared)
