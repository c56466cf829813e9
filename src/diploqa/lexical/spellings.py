"""English spellings of names and places in questions → the German ones of German news.

An English question names "Lavrov in Sochi", the German article "Lawrow in Sotschi": the
words differ, so BM25 alone would not match them. The table is data
(``data/name_spellings.tsv``), read once at import; only questions are mapped.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

_FILE = Path(__file__).parent.parent / "data" / "name_spellings.tsv"


def read_spellings(path: Path) -> dict[str, str]:
    """The pairs of ``path``: one ``english<TAB>german`` a line, ``#`` lines comments."""
    table = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        english, tab, german = line.partition("\t")
        if not tab or not english or not german or "\t" in german:
            raise ValueError(f"{path.name}:{number}: not two tab-separated words: {line!r}")
        table[english] = german
    return table


#: English (and other common) spelling → the German spelling (read-only).
NAME_SPELLINGS = MappingProxyType(read_spellings(_FILE))


def german_spelling(word: str) -> str:
    """The German spelling of a lower-cased question word (the word itself where none)."""
    return NAME_SPELLINGS.get(word, word)
