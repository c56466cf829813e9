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


def cpu() -> str:
    """The processor's name and the cores this process may use."""
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    name = next((x.split(":", 1)[1].strip() for x in lines if x.startswith("model name")), "?")
    return f"{name} ({len(os.sched_getaffinity(0))} cores)"


def write_section(path: Path, marker: str, title: str, body: str) -> None:
    """Put ``## title`` and ``body`` after ``<!-- marker -->`` in ``path``, replacing what the
    last run wrote there (up to the next ``## `` heading), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    tag = f"<!-- {marker} -->"
    section = f"{tag}\n## {title}\n\n{body}\n"
    if tag in text:
        before, _, rest = text.partition(tag)
        after = rest.split("\n## ", 2)
        text = before + section + ("\n## " + after[2] if len(after) > 2 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")
