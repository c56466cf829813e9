"""``metadata.json``: the articles and chunks of one generation, as plain JSON records.

Row ``i`` of the vector store belongs to ``chunks[i]``. Parsing checks the records against
each other and the manifest, so that a well-formed but wrong file is refused instead of giving
wrong answers. Nothing is pickled.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..articles import Article
from ..chunking import Chunk
from .manifest import Manifest

METADATA_FILE = "metadata.json"

_ARTICLE_TYPES = {
    "id": str,
    "title": str,
    "text": str,
    "date": (str, type(None)),
    "outlet": (str, type(None)),
    "url": (str, type(None)),
    "content_hash": str,
    "source_hash": str,
    "date_text": (str, type(None)),
}
_CHUNK_TYPES = {"article_id": str, "index": int, "start": int, "end": int, "text": str, "kind": str}


@dataclass(frozen=True)
class Stories:
    """Which articles tell the same story (:mod:`diploqa.duplicates`).

    Attributes:
        kind: ``duplicates.SIGNATURE_KIND`` the signatures were made with (others are
            recomputed, not compared).
        signatures: article id → encoded MinHash signature of its text.
        groups: near-duplicate groups, each at least two article ids.
    """

    kind: str = ""
    signatures: dict[str, str] = field(default_factory=dict)
    groups: list[list[str]] = field(default_factory=list)

    def group_of(self) -> dict[str, tuple[str, ...]]:
        """Article id → every id of its group (itself included), for grouped articles."""
        return {aid: tuple(group) for group in self.groups for aid in group}


#: Records serialised at a time when the file is written in pieces: enough for the C encoder to
#: do the work, few enough that no piece is large.
RECORDS_PER_PIECE = 1024


def metadata_pieces(
    articles: list[Article],
    chunks: list[Chunk],
    stories: Stories,
    records: int = RECORDS_PER_PIECE,
) -> Iterator[bytes]:
    """The file's bytes in pieces of at most ``records`` records each: together the same bytes
    as ``json.dumps`` of the whole (``ensure_ascii=False``, UTF-8), so that a large generation
    is written without its whole text in memory (the articles' texts are most of it).
    ``vars()``, not ``asdict()``: the records hold only plain values, and ``asdict``'s deep copy
    is slow on large indexes (docs/benchmarks.md)."""
    yield b'{"articles": ['
    yield from _joined([vars(a) for a in part] for part in _parts(articles, records))
    yield b'], "chunks": ['
    yield from _joined([vars(c) for c in part] for part in _parts(chunks, records))
    yield b'], "stories": {"kind": ' + _dumps(stories.kind) + b', "signatures": {'
    yield from _joined(dict(part) for part in _parts(list(stories.signatures.items()), records))
    yield b'}, "groups": ' + _dumps(stories.groups) + b"}}"


def _parts(items: list, size: int) -> Iterator[list]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _joined(batches: Iterable[list | dict]) -> Iterator[bytes]:
    """The items of each batch (a list's elements, a map's pairs) as JSON without the batch's
    brackets, batches separated as the items of one list or map are."""
    for n, batch in enumerate(batches):
        text = json.dumps(batch, ensure_ascii=False)
        yield (", " if n else "").encode() + text[1:-1].encode("utf-8")


def dump_metadata(articles: list[Article], chunks: list[Chunk], stories: Stories) -> bytes:
    """The file's bytes at once (the Milvus store keeps them as one text)."""
    return b"".join(metadata_pieces(articles, chunks, stories))


def _stories(value: object, articles: dict[str, Article]) -> Stories:
    """The stories section; an index written before it existed has none (an empty one)."""
    if value is None:
        return Stories()
    if not (
        isinstance(value, dict)
        and isinstance(value.get("kind"), str)
        and isinstance(value.get("signatures"), dict)
        and isinstance(value.get("groups"), list)
    ):
        raise ValueError("stories is not a map of kind, signatures and groups")
    signatures = value["signatures"]
    if not all(k in articles and isinstance(v, str) for k, v in signatures.items()):
        raise ValueError("a signature belongs to no article or is not text")
    groups = value["groups"]
    for group in groups:
        if not (isinstance(group, list) and len(group) >= 2 and all(a in articles for a in group)):
            raise ValueError("a story group is not a list of two or more article ids")
    return Stories(value["kind"], signatures, groups)


def _record(value: object, cls: type, types: dict[str, type | tuple[type, ...]]) -> dict:
    """A metadata record for dataclass ``cls``: every field without a default, no unknown
    field, and the listed fields of these types (bools are not numbers)."""
    fields = dataclasses.fields(cls)
    names = {f.name for f in fields}
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    what = cls.__name__.lower()
    if not (isinstance(value, dict) and required <= set(value) <= names):
        raise ValueError(f"a {what} record does not have the fields {sorted(required)}")
    for key, kind in types.items():
        if key in value and (not isinstance(value[key], kind) or isinstance(value[key], bool)):
            raise ValueError(f"a {what} record has a {key} of type {type(value[key]).__name__}")
    return value


def parse_metadata(
    data: bytes, manifest: Manifest
) -> tuple[dict[str, Article], list[Chunk], Stories]:
    """Articles (by id), chunks and stories from the file's bytes, checked against the
    manifest.

    Raises:
        ValueError: naming the first inconsistency.
    """
    meta = json.loads(data.decode("utf-8"))
    if not (isinstance(meta, dict) and isinstance(meta.get("articles"), list)):
        raise ValueError("no list of articles")
    if not isinstance(meta.get("chunks"), list):
        raise ValueError("no list of chunks")
    articles: dict[str, Article] = {}
    for value in meta["articles"]:
        article = Article(**_record(value, Article, _ARTICLE_TYPES))
        if article.id in articles:
            raise ValueError(f"article {article.id!r} appears twice")
        articles[article.id] = article
    expected = manifest.articles
    if set(articles) != set(expected):
        raise ValueError(f"its {len(articles)} articles are not the manifest's {len(expected)}")
    for article in articles.values():
        if article.content_hash != expected[article.id]:
            raise ValueError(f"article {article.id!r} does not match the manifest's hash")
    chunks = [Chunk(**_record(value, Chunk, _CHUNK_TYPES)) for value in meta["chunks"]]
    if manifest.n_chunks is not None and len(chunks) != manifest.n_chunks:
        raise ValueError(f"{len(chunks)} chunks, the manifest says {manifest.n_chunks}")
    for chunk in chunks:
        article = articles.get(chunk.article_id)
        if article is None:
            raise ValueError(f"a chunk belongs to the unknown article {chunk.article_id!r}")
        if not (
            0 <= chunk.start <= chunk.end <= len(article.text)
            and article.text[chunk.start : chunk.end] == chunk.text
        ):
            raise ValueError(
                f"chunk {chunk.index} of {chunk.article_id!r} has offsets "
                f"{chunk.start}–{chunk.end} that do not match its article's text"
            )
    return articles, chunks, _stories(meta.get("stories"), articles)
