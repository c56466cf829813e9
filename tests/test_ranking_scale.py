"""``RankingConfig.minority_bm25_scale``: in an archive of German and English passages, the
English group's BM25 (found through the dictionary's translations) is measured on the
archive's scale, so a weak English match is not lifted as if it were the best match there is.

Mechanics only: the deterministic encoder gives every passage a fixed vector, so a change in
a score is the keyword part alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from deterministic_encoder import DeterministicEncoder

from diploqa import config
from diploqa.articles import Article
from diploqa.chunking import Chunk
from diploqa.index import Index
from diploqa.store import Manifest, StoredIndex
from diploqa.store.faiss import FaissStore

DING = """\
Feuerpause {f}; Waffenruhe {f} [mil.] :: cease-fire; truce
Gespräch {n} | Gespräche {pl} :: talk | talks
"""

#: Twelve German and twelve English articles (each group large enough to be ranked as one).
COUNCIL_DE = "Der Stadtrat von Ort {} hat über den Haushalt und die neue Schule beraten."
COUNCIL_EN = "The council of town {} has discussed the budget and the new school in the spring."
GERMAN = [
    "Die Waffenruhe in Genf hielt nur zwei Tage, dann begannen die Kämpfe im Norden wieder.",
    *(COUNCIL_DE.format(n) for n in range(11)),
]
ENGLISH = [
    "The truce was mentioned only briefly in the report of the weather service.",
    "The talks in Genf were about the exchange of prisoners and the weather.",
    *(COUNCIL_EN.format(n) for n in range(10)),
]
QUESTION = "Wie lange hielt die Waffenruhe in Genf?"


def _index(dictionary: config.DictionarySettings | None, **ranking) -> Index:
    encoder = DeterministicEncoder(dim=16)
    texts = {f"de{n:02d}.txt": t for n, t in enumerate(GERMAN)}
    texts |= {f"en{n:02d}.txt": t for n, t in enumerate(ENGLISH)}
    articles = {
        aid: Article(aid, aid, text, None, None, None, hashlib.sha256(text.encode()).hexdigest())
        for aid, text in texts.items()
    }
    chunks = [Chunk(aid, 0, 0, len(text), text) for aid, text in texts.items()]
    vectors = FaissStore.from_vectors(encoder.encode_passages([c.text for c in chunks]), 16)
    manifest = Manifest(
        format_version=config.INDEX_FORMAT_VERSION, generation="gen-000001",
        model=encoder.model_id, backend=encoder.backend, dimension=16, files={},
        articles={a: x.content_hash for a, x in articles.items()}, chunking={},
        n_chunks=len(chunks),
    )  # fmt: skip
    stored = StoredIndex(None, manifest, vectors, articles, chunks)
    ranking = replace(config.RankingConfig(dictionary=dictionary is not None), **ranking)
    return Index(stored, encoder, ranking, dictionary)


def _scores(index: Index) -> dict[str, float]:
    return {h.source: h.score for h in index.search(QUESTION, k=len(GERMAN) + len(ENGLISH))}


@pytest.fixture()
def dictionary(tmp_path: Path) -> config.DictionarySettings:
    (tmp_path / "de-en").write_text(DING, encoding="utf-8")
    return config.DictionarySettings(tmp_path / "de-en", tmp_path / "cache")


def test_a_translated_match_is_scored_on_the_archives_scale(dictionary):
    scaled = _scores(_index(dictionary))
    own = _scores(_index(dictionary, minority_bm25_scale=False))
    # the English passage found through Waffenruhe → truce: lifted less than as its group's best
    assert scaled["en00.txt"] < own["en00.txt"]
    # the German passages (the majority group) score exactly as before
    assert {a: s for a, s in scaled.items() if a.startswith("de")} == {
        a: s for a, s in own.items() if a.startswith("de")
    }


def test_without_the_dictionary_nothing_changes():
    index = _index(None)
    assert index.lexical.score(QUESTION).scores[len(GERMAN) + 1] > 0  # "Genf", as it is
    assert _scores(index) == _scores(_index(None, minority_bm25_scale=False))
