"""The manifest: what an index holds and how it was made, read once per load.

``manifest.json`` is the commit point of an index folder (a build replaces it in one rename)
and the one place that says whether an encoder's vectors belong to the index. Two rules, each
defined once here:

* :meth:`Manifest.compatible_with`: may this encoder *search* the index (same model, same
  dimension)? ``load_index`` and a build both ask it first.
* :meth:`Manifest.reusable_for`: may a build *keep* the stored vectors (also the same chunking,
  and the same runtime or one whose vectors were measured interchangeable with it,
  :data:`INTERCHANGEABLE_BACKENDS`)? Vectors of two runtimes differ slightly; an index
  mixes them only where that difference was measured not to matter.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .. import config
from ..encoders import Encoder
from ..errors import IndexCorruptError, IndexMismatchError

if TYPE_CHECKING:
    from ..articles import Article

MANIFEST = "manifest.json"
REBUILD_HINT = "run `diploqa index --rebuild`"
GENERATION = re.compile(r"^gen-(\d{6})$")
#: Indexes written before the runtime was recorded were all PyTorch fp32.
LEGACY_BACKEND = "torch-fp32"
#: The manifest key of the CSV column spec a build used (see :attr:`Manifest.csv_columns`).
CSV_COLUMNS_KEY = "csv_columns"

#: Runtimes of one model whose passage vectors may share an index, so that an update on the
#: CPU keeps the vectors of a GPU build (and the reverse) instead of re-embedding everything.
#: Measured for the default model on XQuAD, questions always encoded by OpenVINO int8
#: (``benchmarks/device_vectors.py``, docs/benchmarks.md "Issue #13"): passages embedded by
#: the PyTorch bf16 or fp16 path instead of OpenVINO int8 moved MRR@10 by at most 0.004 (bound
#: 0.005; default ranking ≤ 0.001), e5 cosine to the int8 vectors 0.9957 mean, 0.9874 min.
#: ``torch-cpu-*`` is that path run on the CPU (benchmark and tests only). ``openvino-f32``,
#: the faster runtime on CPUs without VNNI (docs/benchmarks.md, "This machine's CPU"; what
#: ``auto`` picks there, :mod:`diploqa.encoders.runtime`), was
#: measured against int8 both ways (``benchmarks/backend_pairs.py``): no pairing lowered MRR@10
#: by more than 0.0036 (f32 questions on int8 passages gained up to 0.0050), so switching a
#: server to it keeps its index. Other models run on ``torch-fp32`` on the CPU, which is in no
#: group: their GPU and CPU vectors never mix.
INTERCHANGEABLE_BACKENDS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "openvino-int8",
            "openvino-f32",
            "torch-cuda-bf16",
            "torch-cuda-fp16",
            "torch-cpu-bf16",
            "torch-cpu-fp16",
        }
    ),
)


@dataclass(frozen=True)
class Manifest:
    """The parsed, checked ``manifest.json`` (same keys on disk as attribute names).

    Attributes:
        format_version: :data:`config.INDEX_FORMAT_VERSION` when written.
        generation: the live generation folder, ``gen-NNNNNN``.
        model: the encoder's ``model_id``.
        dimension: length of every vector.
        files: file name in the generation → SHA-256, checked before anything is parsed.
        articles: article id → content hash (what an update compares against).
        chunking: :meth:`config.ChunkingConfig.as_dict` of the build.
        backend: the runtime of the build that wrote this manifest (e.g. ``openvino-int8``).
        backends: every runtime whose vectors the index holds (an update keeps the old
            vectors of unchanged articles); empty in manifests written before it was recorded,
            where all vectors came from ``backend``.
        index_type: the vector index kind (e.g. ``flat-ip``).
        n_chunks: passages and sections stored.
        extra: keys this version does not know, written back unchanged.
        created: ISO time of the build.
    """

    format_version: int
    generation: str
    model: str
    dimension: int
    files: dict[str, str]
    articles: dict[str, str]
    chunking: dict[str, int]
    backend: str = LEGACY_BACKEND
    backends: list[str] = field(default_factory=list)
    index_type: str = ""
    n_chunks: int | None = None  # None only in indexes written before it was recorded
    created: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def for_build(
        cls,
        encoder: Encoder,
        chunking: config.ChunkingConfig,
        articles: list[Article],
        n_chunks: int,
        generation: str,
        index_type: str,
        files: dict[str, str],
        extra: dict | None = None,
        backends: list[str] | None = None,
    ) -> Manifest:
        """The manifest a build commits, the same for every store (one place decides what a
        build records, so the FAISS folder and Milvus never drift apart). ``backends``: every
        runtime whose vectors the index holds (:func:`backends_after_build`; default: this
        build's only)."""
        return cls(
            format_version=config.INDEX_FORMAT_VERSION,
            generation=generation,
            model=encoder.model_id,
            backend=encoder.backend,
            backends=backends or [encoder.backend],
            dimension=encoder.dim,
            index_type=index_type,
            chunking=chunking.as_dict(),
            articles={a.id: a.content_hash for a in articles},
            n_chunks=n_chunks,
            files=files,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            extra=extra or {},
        )

    def as_dict(self) -> dict:
        """The JSON form, keys in the order they have always been written."""
        data = asdict(self)
        extra = data.pop("extra")
        order = ("format_version", "generation", "model", "backend", "backends", "dimension",
                 "index_type", "chunking", "articles", "n_chunks", "files", "created")  # fmt: skip
        if not data["backends"]:  # an older manifest is written back as it was
            order = tuple(key for key in order if key != "backends")
        return {**{key: data[key] for key in order}, **extra}

    @property
    def csv_columns(self) -> str | None:
        """The CSV column spec the build read its CSV files with (``--csv-columns``), or None
        where they were read by their header; later builds keep it unless told otherwise."""
        value = self.extra.get(CSV_COLUMNS_KEY)
        return value if isinstance(value, str) and value.strip() else None

    @property
    def runtimes(self) -> set[str]:
        """The runtimes whose vectors the index holds."""
        return set(self.backends) or {self.backend}

    def to_json(self) -> bytes:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False).encode("utf-8")

    def compatible_with(self, encoder: Encoder) -> str | None:
        """Why ``encoder`` cannot search this index (another model or dimension), else None."""
        if self.model != encoder.model_id or self.dimension != encoder.dim:
            return (
                f"built with model {self.model!r} (dimension {self.dimension}), not "
                f"{encoder.model_id!r} (dimension {encoder.dim})"
            )
        return None

    def reusable_for(self, encoder: Encoder, chunking: config.ChunkingConfig) -> str | None:
        """Why a build with ``encoder`` and ``chunking`` must re-embed everything, else None."""
        if self.compatible_with(encoder) is not None:
            return f"model changed from {self.model!r}"
        if not interchangeable(self.runtimes | {encoder.backend}):
            return f"backend changed from {self.backend} to {encoder.backend}"
        if self.chunking != chunking.as_dict():
            return "chunking parameters changed"
        return None

    def check_compatible(self, encoder: Encoder, index_dir: Path) -> None:
        """Raise :class:`IndexMismatchError` unless ``encoder`` can search this index."""
        problem = self.compatible_with(encoder)
        if problem:
            raise IndexMismatchError(
                f"the index at {index_dir} was {problem}: {REBUILD_HINT} --model {encoder.model_id}"
            )


def interchangeable(backends: set[str]) -> bool:
    """Whether the vectors of ``backends`` may share one index: all the same runtime, or all
    in one group of :data:`INTERCHANGEABLE_BACKENDS` (measured on XQuAD)."""
    return len(backends) <= 1 or any(backends <= group for group in INTERCHANGEABLE_BACKENDS)


def backends_after_build(old: Manifest | None, encoder: Encoder, kept_vectors: bool) -> list[str]:
    """What a build's manifest records in ``backends``: its own runtime, plus the old index's
    where it kept some of the old vectors (an update over an index another runtime built)."""
    runtimes = {encoder.backend} | (old.runtimes if old is not None and kept_vectors else set())
    return sorted(runtimes)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_map(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _problem(data: dict, required_files: tuple[str, ...]) -> str | None:
    """What is structurally wrong with a parsed manifest (it is not checksummed), else None."""
    if not (isinstance(data["model"], str) and data["model"]):
        return "model is not a name"
    if not (_is_int(data["dimension"]) and data["dimension"] > 0):
        return f"dimension {data['dimension']!r} is not a positive whole number"
    if not (isinstance(data["generation"], str) and GENERATION.fullmatch(data["generation"])):
        return "it names no valid generation"
    files = data["files"]
    if not (_is_str_map(files) and all(name in files for name in required_files)):
        return "files is not a map of file names to checksums"
    if not _is_str_map(data["articles"]):
        return "articles is not a map of article ids to hashes"
    if not isinstance(data["chunking"], dict):
        return "chunking is not a map"
    n_chunks = data.get("n_chunks", 0)
    if not (_is_int(n_chunks) and n_chunks >= 0):
        return f"n_chunks {n_chunks!r} is not a count"
    for key in ("backend", "index_type", "created"):
        if not isinstance(data.get(key, ""), str):
            return f"{key} is not text"
    backends = data.get("backends", [])
    if not (isinstance(backends, list) and all(isinstance(b, str) for b in backends)):
        return "backends is not a list of runtime names"
    return None


def read_manifest(index_dir: Path, required_files: tuple[str, ...] = ()) -> Manifest:
    """The manifest of an index folder, checked for shape and format version.

    Raises:
        IndexCorruptError: no index there, or the manifest is unreadable or malformed.
        IndexMismatchError: another format version (a rebuild is needed).
    """
    index_dir = Path(index_dir)
    path = index_dir / MANIFEST
    if not index_dir.is_dir():
        raise IndexCorruptError(f"no index at {index_dir}: run `diploqa index` to build one")
    if not path.is_file():
        raise IndexCorruptError(f"no index at {index_dir} ({MANIFEST} missing): {REBUILD_HINT}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as err:
        raise IndexCorruptError(
            f"{path} is unreadable or corrupt ({err}): {REBUILD_HINT}"
        ) from None
    return parse_manifest(text, str(path), required_files)


def parse_manifest(text: str, where: str, required_files: tuple[str, ...] = ()) -> Manifest:
    """A manifest from its JSON text (``where`` names it in messages), checked for shape and
    format version; the same rules for a file and for a record in a Milvus collection.

    Raises:
        IndexCorruptError: the text is malformed.
        IndexMismatchError: another format version (a rebuild is needed).
    """
    try:
        data = json.loads(text)
        version = data["format_version"]
        for key in ("model", "dimension", "generation", "files", "articles", "chunking"):
            data[key]
    except (ValueError, KeyError, TypeError, RecursionError) as err:
        raise IndexCorruptError(
            f"{where} is unreadable or corrupt ({err}): {REBUILD_HINT}"
        ) from None
    if version != config.INDEX_FORMAT_VERSION:
        raise IndexMismatchError(
            f"{where} has index format {version!r}, this diploqa reads format "
            f"{config.INDEX_FORMAT_VERSION}: {REBUILD_HINT}"
        )
    problem = _problem(data, required_files)
    if problem:
        raise IndexCorruptError(f"{where} is corrupt ({problem}): {REBUILD_HINT}")
    known = {"format_version", "generation", "model", "dimension", "files", "articles",
             "chunking", "backend", "backends", "index_type", "n_chunks", "created"}  # fmt: skip
    return Manifest(
        **{key: value for key, value in data.items() if key in known},
        extra={key: value for key, value in data.items() if key not in known},
    )
