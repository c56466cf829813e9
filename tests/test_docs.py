"""The documents a newcomer reads stay true: docs/architecture.md names every module and no
module that is gone."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "diploqa"


def _modules() -> set[str]:
    """Every module (``app/api.py``) and package (``app/``) below src/diploqa."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if path.name == "__init__.py":
            if path.parent != PACKAGE:
                found.add(relative.removesuffix("__init__.py"))
        else:
            found.add(relative)
    return found


def test_the_architecture_page_names_every_module_and_no_other():
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"^\| `([\w/]+(?:\.py|/))` \|", text, flags=re.M))
    missing = sorted(_modules() - named)
    gone = sorted(named - _modules())
    assert not missing, f"docs/architecture.md does not name: {missing}"
    assert not gone, f"docs/architecture.md names modules that do not exist: {gone}"
