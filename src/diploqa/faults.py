"""Named crash points, so the tests can kill or hold a build at a known step.

A build passes ``while-embedding``, ``before-write``, ``after-vectors`` and ``before-swap``
(the last two in :mod:`diploqa.store.commit`, whatever the store);
``DIPLOQA_FAULT`` names the one to act on. Unset, each point costs one dictionary lookup.

A test hook, not a setting: it is read here, at each point, from the environment (the crash
tests set it for a child process), and is the one ``DIPLOQA_*`` variable that
:class:`~diploqa.config.Settings` does not hold; users never set it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def fault_injection() -> tuple[str | None, Path | None]:
    """``DIPLOQA_FAULT`` and ``DIPLOQA_FAULT_GATE``: where the crash tests stop a build;
    unset for users."""
    fault = os.environ.get("DIPLOQA_FAULT") or None
    gate = os.environ.get("DIPLOQA_FAULT_GATE")
    return fault, Path(gate) if gate else None


def fault_point(name: str) -> None:
    """Crash here when ``DIPLOQA_FAULT`` names this point.

    ``DIPLOQA_FAULT=pause:<point>`` instead creates ``$DIPLOQA_FAULT_GATE.reached`` and waits
    (at most two minutes) until the file ``$DIPLOQA_FAULT_GATE`` exists: the concurrency tests
    use it to hold a build at a known point.
    """
    fault, gate = fault_injection()
    if fault == name:
        os.kill(os.getpid(), 9)
    elif fault == f"pause:{name}" and gate is not None:
        Path(f"{gate}.reached").touch()
        deadline = time.monotonic() + 120
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
