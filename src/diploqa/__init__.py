"""diploqa: ask German or English questions about German news on US–Russian diplomacy.

The public API::

    import diploqa
    index = diploqa.build_index("seeds", "index")   # incremental
    index = diploqa.load_index("index")
    hits = index.search("Wer traf Lawrow in Sotschi?", k=5)
    hits = index.search(diploqa.Query("Who met Lavrov?", k=3, since="2016", sort="date"))
    timeline = index.timeline("Waffenruhe in Syrien", interval="month")  # articles per month
    outlets = index.facets("Waffenruhe in Syrien")                        # articles per outlet
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .articles import Article
from .chunking import Chunk
from .config import ChunkingConfig, RankingConfig, Settings
from .errors import (
    ArticlesError,
    DiploqaError,
    IndexCorruptError,
    IndexMismatchError,
    ModelError,
    QueryError,
)
from .hits import Answer, Copy, Hit
from .index import Index, load_index
from .query import Query
from .timeline import Period, Timeline

if TYPE_CHECKING:
    from .build import BuildReport, build_index

__version__ = "0.1.0"

#: The write side, imported on first use: the read path (load, search) never imports it.
_BUILD_NAMES = ("BuildReport", "build_index")


def __getattr__(name: str) -> Any:
    if name in _BUILD_NAMES:
        return getattr(importlib.import_module(".build", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_BUILD_NAMES})


__all__ = [
    "Answer",
    "Article",
    "ArticlesError",
    "BuildReport",
    "Chunk",
    "ChunkingConfig",
    "Copy",
    "DiploqaError",
    "Hit",
    "Index",
    "IndexCorruptError",
    "IndexMismatchError",
    "ModelError",
    "Period",
    "Query",
    "QueryError",
    "RankingConfig",
    "Settings",
    "Timeline",
    "build_index",
    "load_index",
]
