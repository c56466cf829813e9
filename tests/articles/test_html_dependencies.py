"""The HTML stack is installed by ``pip install diploqa`` with any pip, not only a new one.

trafilatura's jusText imports ``lxml.html.clean``, which since lxml 5.2 is only a shim over the
separate package lxml_html_clean. Asked for as the extra ``lxml[html_clean]``, pip 23.2 (what
``python3 -m venv`` gives) does not find the extra in lxml 6 (spelled ``html-clean`` there),
installs lxml alone, and every web page is then skipped with "Install lxml[html-clean] or
lxml_html_clean directly".
"""

from __future__ import annotations

import importlib
import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
#: What reading a web page imports, directly or through trafilatura's jusText.
HTML_STACK = ("trafilatura", "lxml", "lxml-html-clean")


def _dependencies() -> dict[str, Requirement]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(line) for line in project["dependencies"]]
    return {canonicalize_name(r.name): r for r in requirements}


def test_the_html_stack_is_required_by_name_without_extras() -> None:
    dependencies = _dependencies()
    for name in HTML_STACK:
        assert name in dependencies, f"{name} is not a dependency of its own"
        requirement = dependencies[name]
        assert not requirement.extras, f"{requirement}: an extra, which an old pip may miss"
        assert requirement.marker is None, f"{requirement}: not required everywhere"


def test_the_installed_packages_clean_html_as_jusText_needs() -> None:
    dependencies = _dependencies()
    for name in HTML_STACK:
        version = importlib.metadata.version(name)
        assert dependencies[name].specifier.contains(version, prereleases=True), (name, version)
    lxml_html_clean = importlib.import_module("lxml_html_clean")
    clean = importlib.import_module("lxml.html.clean")  # the shim jusText imports
    assert clean.Cleaner is lxml_html_clean.Cleaner
    justext = importlib.import_module("justext.core")
    assert justext.Cleaner is lxml_html_clean.Cleaner
    html = "<p>Lawrow traf Kerry.</p><script>alert(1)</script>"
    assert "script" not in clean.Cleaner(scripts=True).clean_html(html)
