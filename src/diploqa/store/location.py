"""Where an index lives, behind one interface the build, the load and the server use: the
FAISS index folder (the default, :mod:`.faiss`) or a Milvus engine (:mod:`.milvus`).

Both keep the same rules: immutable generations, a commit point a reader never sees half of
(the manifest's rename; the alias switch), a build lock, and the cleanup of what a killed
build left. What a build writes, and in which order, is decided once
(:func:`~diploqa.store.commit.write_generation`); an engine fills in the steps
(:class:`PendingGeneration`).

A location owns what it opened (a Milvus client): :meth:`Location.close` releases it, and a
generation it loaded keeps using it (``stored.location``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..config import Settings, VectorSettings
from .address import StoreAddress, parse_store

if TYPE_CHECKING:
    from ..lexical import Bm25Index
    from .commit import GenerationContent
    from .manifest import Manifest
    from .stored import StoredIndex
    from .vectors import VectorStore


@runtime_checkable
class Location(Protocol):
    """Where one index lives; what :func:`diploqa.build.build`,
    :func:`diploqa.index.load_index` and the server's index holder need of a store."""

    @property
    def path(self) -> Path | str:
        """The index folder, or the Milvus address (as shown to users)."""
        ...

    def prepare(self) -> None:
        """Check that the index can be written (create the folder, connect)."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Held while a build runs (a second build waits, or fails saying who builds)."""
        ...

    def has_index(self) -> bool: ...

    def signature(self) -> object:
        """A value that changes when a build commits (servers poll it to reload)."""
        ...

    def read_manifest(self) -> Manifest:
        """The live generation's manifest.

        Raises:
            IndexCorruptError: there is no index, or its manifest is damaged.
            IndexMismatchError: the index was written in another format version.
        """
        ...

    def load(self, manifest: Manifest | None = None) -> StoredIndex:
        """The live generation (of ``manifest``, if the caller read it already), checked."""
        ...

    def read_keywords(self, manifest: Manifest, passages: int) -> Bm25Index | None:
        """The keyword index saved with the generation of ``manifest`` (``passages`` rows);
        None where there is none or it is damaged (it is derived data: the caller builds it)."""
        ...

    def new_generation(self, rows: int) -> AbstractContextManager[PendingGeneration]:
        """A generation of about ``rows`` vectors to write, beside the live one; left by an
        error, whatever it wrote is removed and the live index is unchanged. Called under
        :meth:`lock` by :func:`~diploqa.store.commit.write_generation`."""
        ...

    def close(self) -> None:
        """Release what this location opened (a Milvus client; a Milvus Lite file is then
        free for another process once no other client in this process uses it). A later
        call opens it again."""
        ...


class PendingGeneration(Protocol):
    """One generation being written; the steps :func:`~diploqa.store.commit.write_generation`
    calls in order, each returning the files it wrote (name → SHA-256, for the manifest)."""

    #: ``gen-NNNNNN``, recorded in the manifest.
    name: str
    #: Manifest keys of this engine (Milvus: the generation's collection).
    extra: dict

    def write_vectors(self, content: GenerationContent) -> tuple[VectorStore, dict[str, str]]:
        """Store ``content.vectors``; returns the store, ready to search."""
        ...

    def write_metadata(self, pieces: Iterable[bytes]) -> dict[str, str]:
        """Store the metadata (articles, chunks, stories): the file's bytes in the pieces
        :func:`~diploqa.store.metadata.metadata_pieces` makes them (a FAISS folder writes
        them as they come)."""
        ...

    def write_keywords(self, keywords: Bm25Index) -> dict[str, str]:
        """Store the keyword index of the generation's passages."""
        ...

    def commit(self, manifest: Manifest, before_swap: Callable[[], None]) -> None:
        """Make this generation the live one in one step (``before_swap`` runs just before
        it), then remove what no reader needs any more."""
        ...


def open_location(
    index_dir: str | Path | None,
    store: str | StoreAddress | Location | None = None,
    vectors: VectorSettings | None = None,
) -> Location:
    """The location of an index: the folder ``index_dir`` (default ``./index``) for the FAISS
    store (``store`` None or ``faiss``), else the Milvus address ``store`` (as text: without a
    token; a caller with settings passes :meth:`~diploqa.config.Settings.store_address`). A
    location given as ``store`` is returned as it is (a caller that holds one shares it, and
    its Milvus client, with what it loads and builds). ``vectors``: how the vector indexes
    created or loaded there search (default :class:`~diploqa.config.VectorSettings`).

    Raises:
        SettingsError: ``store`` is not a valid address.
    """
    if isinstance(store, Location):
        return store
    address = parse_store(store)
    vectors = vectors or VectorSettings()
    if not address.is_milvus:
        from .faiss import FolderLocation

        return FolderLocation(Path(index_dir or "index"), vectors)
    from .milvus import MilvusLocation

    return MilvusLocation(address, vectors)


def location_of(
    settings: Settings,
    index_dir: str | Path | None = None,
    store: str | StoreAddress | Location | None = None,
) -> Location:
    """The location a command or an API call names: ``store`` as the caller gave it (a
    location it holds, as it is; an address, text read with the settings' Milvus token), else
    the settings' store; ``index_dir``, else the settings' index folder; the vector indexes
    searched with the settings'.

    Raises:
        SettingsError: ``store`` is not a valid address.
    """
    if isinstance(store, Location):
        return store
    address = settings.store_address(store)
    return open_location(index_dir or settings.paths.index, address, settings.vectors)
