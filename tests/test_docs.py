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


#: Limits the second restructure (issue #24) set: a README a newcomer reads top-down, and one
#: concept per module.
README_LINES = 250
MODULE_LINES = 450


def test_the_readme_stays_short_enough_to_read_top_down():
    lines = (REPO / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_LINES, f"README.md has {lines} lines, at most {README_LINES}"


def test_no_module_grows_past_the_limit():
    long = {
        path.relative_to(PACKAGE).as_posix(): n
        for path in PACKAGE.rglob("*.py")
        if (n := path.read_text(encoding="utf-8").count("\n")) > MODULE_LINES
    }
    assert not long, f"modules over {MODULE_LINES} lines (split them): {long}"
