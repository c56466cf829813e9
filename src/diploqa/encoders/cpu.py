"""What the processor is, as far as the encoder's kernels care.

OpenVINO's CPU plugin picks its kernels (oneDNN's) by the instructions the processor has, so
the same model can compute differently on two machines: on Intel CPUs with AMX the int8 model
gave a padded text in a batch another vector than alone (issue #23). The compiled-model cache
is keyed by what is read here, and :func:`limit_isa_for_int8` keeps the int8 model off AMX.
"""

from __future__ import annotations

import logging
import os
import platform
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

#: The environment variables that change which kernels oneDNN or the CPU plugin use.
KERNEL_ENV_PREFIXES = ("ONEDNN_", "DNNL_", "OV_CPU_")
#: The ISA the int8 model is capped at on a CPU with AMX (everything below AMX: AVX-512 with
#: VNNI and BF16), set before OpenVINO runs anything in the process.
INT8_ISA_WITHOUT_AMX = "AVX512_CORE_BF16"


@cache
def cpu_info(path: Path = Path("/proc/cpuinfo")) -> tuple[str, frozenset[str]]:
    """``(model name, instruction flags)`` of the first processor; on systems without
    ``/proc/cpuinfo`` the platform's name and no flags."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine(), frozenset()
    name, flags = "", frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not name:
            name = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = frozenset(value.split())
        if name and flags:
            break
    return name or platform.machine(), flags


def has_amx() -> bool:
    """Whether the processor has Intel AMX for int8 matrix products."""
    return "amx_int8" in cpu_info()[1]


def kernel_settings() -> dict[str, str]:
    """The environment settings of this process that change the kernels (e.g.
    ``ONEDNN_MAX_CPU_ISA``)."""
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(KERNEL_ENV_PREFIXES)}


def limit_isa_for_int8() -> str | None:
    """On a CPU with AMX, cap oneDNN below AMX for this process (``ONEDNN_MAX_CPU_ISA``)
    unless the user set it: the int8 model's AMX kernels gave a padded text another vector
    than the same text alone (cosine 0.95), capped they agree. oneDNN reads the setting once,
    when OpenVINO first runs on the CPU, so this is called before *any* model of the process
    is exported, quantised or compiled, whatever its runtime: an f32 or bf16 model loaded
    first would otherwise fix the ISA for a later int8 one (bf16 then runs on AVX-512 BF16
    instead of AMX tiles, with the same vectors). Where it still came too late (the user
    imported OpenVINO first), the self-check (:mod:`~diploqa.encoders.selfcheck`) catches the
    fault. Returns the value set, or None."""
    if not has_amx() or "ONEDNN_MAX_CPU_ISA" in os.environ:
        return None
    os.environ["ONEDNN_MAX_CPU_ISA"] = INT8_ISA_WITHOUT_AMX
    log.info(
        "this CPU has AMX: the int8 model runs without it (ONEDNN_MAX_CPU_ISA=%s)",
        INT8_ISA_WITHOUT_AMX,
    )
    return INT8_ISA_WITHOUT_AMX


def describe() -> str:
    """One line naming the CPU and the flags that decide the encoder's speed and kernels
    (benchmarks print it)."""
    name, flags = cpu_info()
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_bf16")
    present = [f for f in wanted if f in flags]
    return f"{name} ({', '.join(present) or 'none of ' + '/'.join(wanted)})"
