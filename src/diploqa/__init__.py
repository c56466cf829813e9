"""diploqa: ask German or English questions about German news on US–Russian diplomacy.

The public API::

    import diploqa
    index = diploqa.build_index("seeds", "index")   # incremental
    index = diploqa.load_index("index")
    hits = index.search("Wer traf Lawrow in Sotschi?", k=5)
    hits = diploqa.search("Who met Lavrov in Sochi?")  # default ./index from ./seeds
"""

from .articles import Article
from .build import BuildReport
from .chunking import Chunk
from .config import RankingConfig
from .errors import (
    ArticlesError,
    DiploqaError,
    IndexCorruptError,
    IndexMismatchError,
    ModelError,
    QueryError,
)
from .search import Copy, Hit, Index, build_index, load_index, search

__version__ = "0.1.0"

__all__ = [
    "Article",
    "ArticlesError",
    "BuildReport",
    "Chunk",
    "Copy",
    "DiploqaError",
    "Hit",
    "Index",
    "IndexCorruptError",
    "IndexMismatchError",
    "ModelError",
    "QueryError",
    "RankingConfig",
    "build_index",
    "load_index",
    "search",
]
