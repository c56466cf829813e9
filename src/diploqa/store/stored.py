"""One loaded generation of an index, whatever engine holds it.

It carries its keyword index once known (the build's, or read once from the location and kept
on this object), so that the next update and every search start from it; nothing about a
generation is kept anywhere else in the process. A caller that holds the generation it served
hands it on (``build(previous=…)``, ``load_index(previous=…)``).
"""

from __future__ import annotations

import threading
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..articles import Article
from ..chunking import Chunk, passages_for_embedding
from ..lexical import KEYWORDS_FILE, Bm25Index, shared_titles
from .manifest import Manifest
from .metadata import Stories
from .vectors import VectorStore

if TYPE_CHECKING:
    from .location import Location


class _Keywords:
    """The keyword index a generation knows, and the one it may be made from."""

    def __init__(self, index: Bm25Index | None) -> None:
        self.index = index
        #: The keyword index of the generation served before this one (see
        #: :meth:`StoredIndex.inherit_keywords`); dropped once this one's is known.
        self.fallback: Bm25Index | None = None
        self.lock = threading.Lock()


@dataclass(frozen=True)
class StoredIndex:
    """A loaded, verified index generation (immutable: a new build makes a new one).

    ``keywords``: the keyword index of its passages where the caller has it (a build).
    """

    path: Path | str | None  # the index folder, or the Milvus address
    manifest: Manifest
    vectors: VectorStore
    articles: dict[str, Article]
    chunks: list[Chunk]
    stories: Stories = field(default_factory=Stories)
    #: Where it lives: reads its saved keyword index; :meth:`close` releases it.
    location: Location | None = field(default=None, repr=False, compare=False)
    keywords: InitVar[Bm25Index | None] = None
    _keywords: _Keywords = field(init=False, repr=False, compare=False)

    def __post_init__(self, keywords: Bm25Index | None) -> None:
        object.__setattr__(self, "_keywords", _Keywords(keywords))

    @property
    def model(self) -> str:
        return self.manifest.model

    @property
    def dimension(self) -> int:
        return self.manifest.dimension

    def passages(self) -> list[str]:
        """The text each chunk was embedded as (see :func:`passages_for_embedding`), row ``i``
        belonging to ``chunks[i]`` (the keyword index scores the same texts)."""
        return passages_for_embedding(self.articles, self.chunks)

    def all_vectors(self):
        """Every stored vector, row ``i`` belonging to ``chunks[i]`` (for incremental reuse)."""
        return self.vectors.all_vectors()

    @property
    def lacks_keywords(self) -> bool:
        """Whether this generation was written before generations kept their keyword index
        (the next build writes one, even with no article changed)."""
        return KEYWORDS_FILE not in self.manifest.files

    def is_generation(self, path: Path | str | None, manifest: Manifest) -> bool:
        """Whether this is the generation ``manifest`` names of the index at ``path``."""
        same_path = str(self.path) == str(path)
        return same_path and self.manifest.as_dict() == manifest.as_dict()

    @property
    def known_keywords(self) -> Bm25Index | None:
        """The keyword index this object holds already (nothing is read)."""
        return self._keywords.index

    def saved_keywords(self) -> Bm25Index | None:
        """The keyword index of the passages (with shared titles left out, the default
        ranking's): the one this object holds, else the one saved with the generation, read
        once and kept; None where there is none or it is damaged (an older index: the caller
        builds it)."""
        kept = self._keywords
        if kept.index is not None or KEYWORDS_FILE not in self.manifest.files:
            return kept.index
        if self.location is None:
            return None
        with kept.lock:
            if kept.index is None:
                kept.index = self.location.read_keywords(self.manifest, len(self.chunks))
            return kept.index

    def keyword_index(self) -> Bm25Index:
        """:meth:`saved_keywords`, else made from the passages and kept: from the keyword
        index of the generation served before (:meth:`inherit_keywords`; only the passages
        it lacks are split), or from every passage."""
        found = self.saved_keywords()
        if found is not None:
            return found
        kept = self._keywords
        with kept.lock:
            if kept.index is None:
                titles = shared_titles(self.articles, self.chunks)
                if kept.fallback is not None:
                    kept.index = kept.fallback.matching(self.passages(), titles)
                else:
                    kept.index = Bm25Index.build(self.passages(), None, shared_titles=titles)
            kept.fallback = None
            return kept.index

    def inherit_keywords(self, previous: StoredIndex) -> None:
        """Take what ``previous`` (the generation a server served until now) knows: its
        keyword index where it is this generation, else the one to make this generation's
        from should its saved files be missing or damaged (:meth:`keyword_index`)."""
        known = previous.known_keywords
        if known is None or previous is self:
            return
        kept = self._keywords
        with kept.lock:
            if kept.index is not None:
                return
            if self.is_generation(previous.path, previous.manifest):
                kept.index = known
            else:
                kept.fallback = known

    def close(self) -> None:
        """Release what its location opened (a Milvus client); see
        :meth:`~diploqa.store.Location.close`."""
        if self.location is not None:
            self.location.close()
