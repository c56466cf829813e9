"""The one commit sequence of a build, the same for every engine.

A new generation is written beside the live one, step by step, and becomes live in one step
at the end; an engine fills in the steps (:class:`~diploqa.store.location.PendingGeneration`)::

    vectors → after-vectors → metadata → keyword index → manifest → before-swap → switch

The names are the fault points (:mod:`diploqa.faults`) the crash tests kill a build at. What a
build records in the manifest is decided here, once (:meth:`Manifest.for_build`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import config
from ..articles import Article
from ..chunking import Chunk, passages_for_embedding
from ..encoders import Encoder
from ..faults import fault_point
from ..lexical import Bm25Index, shared_titles
from .location import Location
from .manifest import CSV_COLUMNS_KEY, Manifest
from .metadata import Stories, metadata_pieces
from .stored import StoredIndex


@dataclass
class GenerationContent:
    """What a build commits as a new generation.

    Attributes:
        encoder: the encoder that made (or can search) the vectors.
        articles: every article of the generation.
        chunks: its chunks; row ``i`` of ``vectors`` belongs to ``chunks[i]``.
        vectors: normalised float32, one row per chunk; None once the engine holds them
            (:func:`write_generation` lets go of them there: at a million passages they are
            3.6 GB that the rest of the write does not need).
        chunking: the chunking parameters of the build.
        stories: the near-duplicate groups.
        backends: the runtimes whose vectors it holds (default ``encoder.backend``'s).
        keywords: the keyword index of its passages (built from them where not given).
        csv_columns: the CSV column spec its CSV files were read with (recorded in the
            manifest, so that later builds read them alike), or None.
    """

    encoder: Encoder
    articles: list[Article]
    chunks: list[Chunk]
    vectors: np.ndarray | None
    chunking: config.ChunkingConfig
    stories: Stories
    backends: list[str] | None = None
    keywords: Bm25Index | None = None
    csv_columns: str | None = None

    def by_id(self) -> dict[str, Article]:
        return {a.id: a for a in self.articles}


def _reading(content: GenerationContent) -> dict[str, str]:
    """What the manifest records of how the articles were read."""
    return {CSV_COLUMNS_KEY: content.csv_columns} if content.csv_columns else {}


def write_generation(location: Location, content: GenerationContent) -> StoredIndex:
    """Write ``content`` as a new generation of ``location`` and make it the live one (under
    the location's build lock).

    ``content.vectors`` is set to None once the engine holds the vectors: where the caller
    holds no other reference, the array is freed before the metadata and keyword index are
    written (the metadata goes to the engine in pieces, never as one text in a FAISS folder).

    Returns:
        The new generation as loaded, holding its keyword index, without reading back what
        was just written.

    Raises:
        DiploqaError: the store cannot be written (or, Milvus, another build committed
            first); the live index is unchanged.
    """
    by_id = content.by_id()
    keywords = content.keywords
    if keywords is None:
        passages = passages_for_embedding(by_id, content.chunks)
        titles = shared_titles(by_id, content.chunks)
        keywords = Bm25Index.build(passages, None, shared_titles=titles)
    with location.new_generation(len(content.vectors)) as pending:
        vectors, files = pending.write_vectors(content)
        content.vectors = None
        fault_point("after-vectors")
        pieces = metadata_pieces(content.articles, content.chunks, content.stories)
        files.update(pending.write_metadata(pieces))
        files.update(pending.write_keywords(keywords))
        manifest = Manifest.for_build(
            content.encoder,
            content.chunking,
            content.articles,
            len(content.chunks),
            pending.name,
            vectors.index_type,
            files,
            extra={**pending.extra, **_reading(content)},
            backends=content.backends,
        )
        pending.commit(manifest, before_swap=lambda: fault_point("before-swap"))
    return StoredIndex(
        location.path, manifest, vectors, by_id, content.chunks, content.stories, location,
        keywords,
    )  # fmt: skip
