"""The runtime ``auto`` picks for the CPU (issue #28): int8 where the CPU has VNNI or AMX, else
f32; overridable; logged once; and an index moves between the two kinds of machine without
re-embedding."""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace

import pytest
from conftest import GENEVA_QUESTION, NEW_ARTICLE, SEEDS

from diploqa.build import build
from diploqa.config import DEFAULT_BACKEND, EncoderSettings, Settings
from diploqa.encoders import get_embedder
from diploqa.encoders.cpu import cpu_info
from diploqa.encoders.runtime import (
    announce,
    auto_runtime,
    choose_runtime,
    resolve_backend,
)
from diploqa.index import load_index

#: What each chosen runtime is recorded as (its precision named).
RECORDED = {"openvino": "openvino-int8", "openvino-f32": "openvino-f32"}


@pytest.mark.parametrize(
    ("flags", "backend"),
    [
        # the kinds of machine the project ran on, as /proc/cpuinfo names their flags
        ({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}, "openvino"),  # AMD EPYC, VNNI
        ({"avx2", "fma", "f16c"}, "openvino-f32"),  # AMD EPYC, AVX2 only
        ({"avx2", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"}, "openvino"),  # Xeon
        ({"avx2", "avx_vnni"}, "openvino"),  # VNNI without AVX-512 (Intel client cores)
        ({"avx2", "amx_int8"}, "openvino"),  # AMX alone is enough
        ({"avx2", "avx512f", "avx512_bf16", "amx_bf16"}, "openvino-f32"),  # bf16 is not int8
        ({"fp", "asimd", "asimddp"}, "openvino-f32"),  # an ARM CPU
        (set(), "openvino-f32"),  # no /proc/cpuinfo: nothing known
    ],
)
def test_the_flags_decide_the_runtime(flags, backend):
    choice = choose_runtime(flags)
    assert choice.backend == backend
    assert choice == choose_runtime(sorted(flags, reverse=True))  # the flags' order: no matter
    if backend == "openvino":
        assert any(flag in choice.reason for flag in flags)  # names the flag that decided
    else:
        assert "no VNNI or AMX" in choice.reason


def test_auto_is_the_default_and_a_set_runtime_overrides_it():
    assert DEFAULT_BACKEND == "auto" == EncoderSettings().backend
    assert Settings.from_env({}).encoder.backend == "auto"
    assert Settings.from_env({"DIPLOQA_BACKEND": " AUTO "}).encoder.backend == "auto"
    for backend in ("openvino", "openvino-f32", "openvino-bf16", "torch"):
        assert Settings.from_env({"DIPLOQA_BACKEND": backend}).encoder.backend == backend
        assert resolve_backend(backend) == backend  # no CPU overrides a set runtime
    assert resolve_backend("auto") == choose_runtime(cpu_info()[1]).backend


def test_the_choice_is_logged_with_the_cpu_and_the_reason(caplog):
    with caplog.at_level(logging.INFO, logger="diploqa"):
        announce("Test CPU", {"avx2"})
        announce("Other CPU", {"avx2", "avx512_vnni"})
    assert [r.getMessage() for r in caplog.records] == [
        "runtime auto on Test CPU: openvino-f32, no VNNI or AMX: int8 would be no faster than f32",
        "runtime auto on Other CPU: openvino, int8 in hardware (avx512_vnni)",
    ]


def test_this_process_decides_and_logs_once(caplog):
    auto_runtime.cache_clear()  # as if the process had just started
    with caplog.at_level(logging.INFO, logger="diploqa"):
        first = resolve_backend("auto")
        assert resolve_backend("auto") == first and auto_runtime().backend == first
        resolve_backend("openvino-f32")
    lines = [r.getMessage() for r in caplog.records if r.name == "diploqa.encoders.runtime"]
    assert lines == [f"runtime auto on {cpu_info()[0]}: {first}, {auto_runtime().reason}"]


def test_the_default_model_loads_the_runtime_chosen_or_set():
    """``auto`` is resolved before the process-wide model is looked up: the default and the
    runtime it stands for are one loaded model, not two."""
    chosen = auto_runtime().backend
    assert get_embedder() is get_embedder(backend=chosen)
    assert get_embedder().backend == RECORDED[chosen]
    f32 = get_embedder(settings=EncoderSettings(backend="openvino-f32"))  # DIPLOQA_BACKEND
    assert f32.backend == "openvino-f32"


def _settings(backend: str) -> Settings:
    """Settings whose runtime is ``backend`` (e5 alone: USE's vectors do not depend on it)."""
    return replace(Settings(), encoder=EncoderSettings(backend=backend, ensemble=False))


@pytest.mark.parametrize(
    ("first", "second"), [("openvino", "openvino-f32"), ("openvino-f32", "openvino")]
)
def test_an_index_moves_between_int8_and_f32_machines_without_re_embedding(tmp_path, first, second):
    """Built on one kind of machine, the index is searched as it is on the other, and an
    update there embeds only the new article; the manifest records both runtimes."""
    articles = tmp_path / "articles"
    articles.mkdir()
    kept = sorted(path.name for path in SEEDS.glob("*.txt"))[:2]
    for name in kept:
        shutil.copy(SEEDS / name, articles / name)
    report, built = build(articles, tmp_path / "index", settings=_settings(first))
    assert report.full_rebuild and built.manifest.backends == [RECORDED[first]]

    moved = load_index(tmp_path / "index", settings=_settings(second))  # the other machine
    assert moved.encoder.backend == RECORDED[second]
    assert moved.search("Wer traf Lawrow?", k=1)[0].source in kept

    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    before = moved.encoder.passages_encoded
    report, updated = build(articles, tmp_path / "index", settings=_settings(second))
    assert not report.full_rebuild, report.reason
    assert (report.unchanged, report.added) == (kept, ["005_genf.txt"])
    new_chunks = sum(chunk.article_id == "005_genf.txt" for chunk in updated.chunks)
    assert moved.encoder.passages_encoded - before == report.embedded == new_chunks > 0
    assert updated.manifest.backends == sorted(RECORDED.values())
    for backend in (first, second):  # either machine searches the mixed index
        index = load_index(tmp_path / "index", settings=_settings(backend))
        assert index.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"
