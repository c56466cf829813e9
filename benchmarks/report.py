"""What every benchmark report says about where it ran, and how it writes its section of a
document in docs/ (replacing its earlier results, leaving the rest)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def commit() -> str:
    """The short hash of the checked-out commit."""
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()


#: Vector instructions that decide how fast the encoders run (int8 needs VNNI to gain).
VECTOR_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")


def cpu() -> str:
    """The processor's name, the cores this process may use and its vector instructions (the
    same "AMD EPYC" ran the int8 encoder 4-6× faster with AVX-512 VNNI than without)."""
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    name = next((x.split(":", 1)[1].strip() for x in lines if x.startswith("model name")), "?")
    flags = set(next((x.split(":", 1)[1].split() for x in lines if x.startswith("flags")), []))
    vector = ", ".join(f for f in VECTOR_FLAGS if f in flags) or "no AVX2"
    return f"{name} ({len(os.sched_getaffinity(0))} cores; {vector})"


def write_section(path: Path, marker: str, title: str, body: str) -> None:
    """Put ``## title`` and ``body`` after ``<!-- marker -->`` in ``path``, replacing what the
    last run wrote there (up to the next ``## `` heading or the next section's marker, which
    stands on the line before its heading), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    tag = f"<!-- {marker} -->"
    section = f"{tag}\n## {title}\n\n{body}\n"
    if tag in text:
        before, _, rest = text.partition(tag)
        heading = rest.find("\n## ", rest.find("\n## ") + 1)  # the heading after this one's
        following = rest.find("\n<!-- ")
        ends = [i for i in (heading, following) if i >= 0]
        text = before + section + ("\n" + rest[min(ends) :].lstrip("\n") if ends else "")
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")
