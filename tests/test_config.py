"""Settings: environment variables read in one place, once, into a value passed down; ranking
settings as a value."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from diploqa import config
from diploqa.config import RankingConfig, Settings
from diploqa.errors import DiploqaError
from diploqa.faults import fault_injection
from diploqa.store import StoreAddress

SRC = Path(config.__file__).parent
#: Where the settings are resolved from the environment (the CLI, the server, the public API).
EDGES = {"cli.py", "index.py", "build.py", "app/live.py", "app/server.py"}


def test_backend_setting_is_checked():
    assert Settings.from_env({"DIPLOQA_BACKEND": "Torch"}).encoder.backend == "torch"
    with pytest.raises(ValueError, match="DIPLOQA_BACKEND"):
        Settings.from_env({"DIPLOQA_BACKEND": "tensorrt"})


@pytest.mark.parametrize(
    ("value", "breadth"), [(None, None), ("auto", None), (" Auto ", None), ("300", 300), ("4", 16)]
)
def test_the_hnsw_search_breadth_is_auto_or_an_integer(value, breadth):
    """None is ``auto``: by the size of each graph (tests/store/test_vectors.py); an integer
    is taken as it is, at least 16."""
    environ = {} if value is None else {"DIPLOQA_HNSW_EF_SEARCH": value}
    assert Settings.from_env(environ).vectors.ef_search == breadth
    assert config.VectorSettings().ef_search is None  # the default: auto


@pytest.mark.parametrize("value", ["fast", "1.5", "auto2"])
def test_a_search_breadth_neither_integer_nor_auto_is_one_clear_line(value):
    with pytest.raises(DiploqaError) as raised:
        Settings.from_env({"DIPLOQA_HNSW_EF_SEARCH": value})
    assert str(raised.value) == f"DIPLOQA_HNSW_EF_SEARCH={value!r} is not an integer or auto"


def test_ranking_config_is_a_frozen_value():
    default = RankingConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        default.use_weight = 0.3  # type: ignore[misc]
    variant = dataclasses.replace(default, use_weight=0.0, sections=False)
    assert (variant.use_weight, variant.sections) == (0.0, False)
    assert default.use_weight == 0.15 and default.sections


def test_fault_injection_is_off_unless_set(monkeypatch):
    monkeypatch.delenv("DIPLOQA_FAULT", raising=False)
    monkeypatch.delenv("DIPLOQA_FAULT_GATE", raising=False)
    assert fault_injection() == (None, None)
    monkeypatch.setenv("DIPLOQA_FAULT", "pause:before-write")
    monkeypatch.setenv("DIPLOQA_FAULT_GATE", "/tmp/gate")
    assert fault_injection() == ("pause:before-write", Path("/tmp/gate"))


def test_without_variables_the_settings_are_the_documented_defaults(tmp_path):
    home = {"XDG_CACHE_HOME": str(tmp_path)}
    settings = Settings.from_env(home)
    assert settings.encoder.cache == settings.dictionary.cache == tmp_path / "diploqa"
    assert (
        dataclasses.replace(
            settings,
            encoder=dataclasses.replace(settings.encoder, cache=config.DEFAULT_CACHE),
            dictionary=dataclasses.replace(settings.dictionary, cache=config.DEFAULT_CACHE),
        )
        == Settings()
    )
    assert Settings.from_env({}) == Settings() and Settings().store == StoreAddress("faiss")
    assert (Settings().paths.index, Settings().server.passages_per_article) == (Path("index"), 2)


def test_every_variable_reaches_its_part(tmp_path):
    environ = {
        "DIPLOQA_ARTICLES": str(tmp_path / "a"), "DIPLOQA_INDEX": str(tmp_path / "i"),
        "DIPLOQA_MODEL": "some/model", "DIPLOQA_CACHE": str(tmp_path / "c"),
        "DIPLOQA_BATCH_SIZE": "8", "DIPLOQA_BACKEND": "openvino-f32",
        "DIPLOQA_ANN_THRESHOLD": "10", "DIPLOQA_HNSW_EF_SEARCH": "4",
        "DIPLOQA_MAX_ARTICLE_BYTES": "1000", "DIPLOQA_MAX_JSON_BYTES": "2000",
        "DIPLOQA_DICTIONARY": "OFF", "DIPLOQA_WATCH_SETTLE": "2.5",
        "DIPLOQA_WATCH_DEBOUNCE_MS": "300", "DIPLOQA_PASSAGES_PER_ARTICLE": "0",
        "DIPLOQA_USERS": str(tmp_path / "users.json"), "DIPLOQA_SESSION_MINUTES": "5",
        "DIPLOQA_STORE": "milvus://db:19530/news", "DIPLOQA_MILVUS_TOKEN": "user:s3cret",
        "DIPLOQA_DEVICE": "CUDA", "DIPLOQA_GPU_BATCH_SIZE": "64", "DIPLOQA_USE_THREADS": "6",
        "DIPLOQA_ENSEMBLE": "off", "DIPLOQA_ALERTS": str(tmp_path / "al"),
        "DIPLOQA_WEBHOOK_HOLD": "3", "DIPLOQA_USE_RUNTIME": "Numpy",
    }  # fmt: skip
    s = Settings.from_env(environ)
    assert s.paths == config.Paths(tmp_path / "a", tmp_path / "i")
    assert s.encoder == config.EncoderSettings(
        "some/model", "openvino-f32", tmp_path / "c", 8, 64, "cuda", 6, False, "numpy"
    )
    assert s.limits == config.ReadLimits(1000, 2000)
    assert s.vectors == config.VectorSettings(10, 16)  # efSearch at least the candidates
    assert s.dictionary == config.DictionarySettings(None, tmp_path / "c")
    assert s.watch == config.WatchSettings(2.5, 300)
    assert s.server == config.ServerSettings(None, tmp_path / "users.json", 5, tmp_path / "al", 3)
    assert (str(s.store), s.store.token) == ("milvus://db:19530/news", "user:s3cret")
    assert "s3cret" not in repr(s)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("DIPLOQA_BATCH_SIZE", "many", "DIPLOQA_BATCH_SIZE='many' is not an integer"),
     ("DIPLOQA_WATCH_SETTLE", "soon", "DIPLOQA_WATCH_SETTLE='soon' is not a number"),
     ("DIPLOQA_DEVICE", "TPU", "the device must be one of cpu, cuda, not 'tpu'"),
     ("DIPLOQA_STORE", "mongodb://x", "the store must be 'faiss'")],
)  # fmt: skip
def test_a_bad_value_is_one_line_naming_it(name, value, message):
    with pytest.raises(DiploqaError, match=message) as caught:
        Settings.from_env({name: value})
    assert isinstance(caught.value, ValueError) and "\n" not in str(caught.value)


def test_flags_and_arguments_override_the_environment(tmp_path):
    environ = {"DIPLOQA_INDEX": "elsewhere", "DIPLOQA_MILVUS_TOKEN": "s3cret"}
    settings = Settings.from_env(environ)
    same = settings.overridden(index=None, store="", device=None)
    assert same == settings
    given = settings.overridden(index=tmp_path, store="milvus://h:1", device="CUDA", model="m")
    assert given.paths.index == tmp_path and given.paths.articles == Path("seeds")
    assert (given.store.uri, given.store.token) == ("http://h:1", "s3cret")
    assert (given.encoder.device, given.encoder.model) == ("cuda", "m")
    with pytest.raises(DiploqaError, match="the device must be one of cpu, cuda"):
        settings.overridden(device="tpu")


def test_use_threads_follow_the_device(monkeypatch):
    monkeypatch.delenv("DIPLOQA_USE_THREADS", raising=False)
    encoder = Settings.from_env().encoder
    assert encoder.threads_for("cpu") == 1  # beside e5 on the CPU
    assert encoder.threads_for("cuda") >= 1
    assert Settings.from_env({"DIPLOQA_USE_THREADS": "6"}).encoder.threads_for("cpu") == 6


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines that read a ``DIPLOQA_*`` variable from the environment."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name.endswith(("environ.get", "getenv", "environ.pop")) and node.args:
                key = node.args[0]
            else:
                continue
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
            key = node.slice
        else:
            continue
        if not isinstance(key, ast.Constant) or str(key.value).startswith("DIPLOQA_"):
            lines.append(node.lineno)
    return lines


def _problems(name: str, tree: ast.AST) -> list[str]:
    """What module ``name`` does that only config.py may: read a ``DIPLOQA_*`` variable
    (faults.py: its test hook), resolve the settings outside the edges, call a getter."""
    problems = []
    if name not in ("config.py", "faults.py"):
        problems += [f"{name}:{line}: reads the environment" for line in _environment_reads(tree)]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        called = ast.unparse(node.func)
        if node.func.attr == "from_env" and name not in EDGES | {"config.py"}:
            problems.append(f"{name}:{node.lineno}: resolves the settings ({called})")
        if called.startswith("config.") and called[len("config.")].islower():
            problems.append(f"{name}:{node.lineno}: calls {called}")
    return problems


def test_no_module_but_config_reads_the_settings_from_the_environment():
    """``Settings.from_env`` reads the ``DIPLOQA_*`` variables (faults.py its test hook); only
    the edges call it, and nothing calls a getter of config.py: settings are passed down."""
    assert [problem for name, tree in _modules() for problem in _problems(name, tree)] == []


def test_the_check_finds_an_environment_read_a_getter_and_a_stray_resolution():
    """The check above can fail: each kind is found, in any module but the allowed ones."""
    tree = ast.parse(
        "import os\nfrom diploqa import config\n"
        "x = os.environ.get('DIPLOQA_BATCH_SIZE')\ny = os.environ['DIPLOQA_INDEX']\n"
        "z = config.batch_size()\nw = Settings.from_env()\nv = os.environ.get('HOME')\n"
        "u = config.ChunkingConfig()\n"
    )
    assert _problems("watch.py", tree) == [
        "watch.py:3: reads the environment",
        "watch.py:4: reads the environment",
        "watch.py:5: calls config.batch_size",
        "watch.py:6: resolves the settings (Settings.from_env)",
    ]
    assert _problems("cli.py", tree) == ["cli.py:3: reads the environment",
                                         "cli.py:4: reads the environment",
                                         "cli.py:5: calls config.batch_size"]  # fmt: skip
    assert _problems("faults.py", tree)[:1] == ["faults.py:5: calls config.batch_size"]
