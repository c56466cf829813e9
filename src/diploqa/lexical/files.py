"""The keyword index's files in a generation: written by the build, read at load.

Splitting, stemming and tagging the language of 10,000 passages takes seconds of a server's
start, reading them back a tenth of that (docs/benchmarks.md), so each generation keeps its
:class:`~diploqa.lexical.corpus.Corpus` beside its vectors (in the folder, or in the Milvus
engine). The files are derived data: one that is missing, of another format or damaged is not
read, and the caller builds the corpus from the stored passages; it costs time, never answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Set
from pathlib import Path

import numpy as np

from ..files import fsync_path, sha256_file, write_synced
from .corpus import Corpus
from .language import LANGUAGES
from .postings import Postings

log = logging.getLogger(__name__)

#: The saved keyword index's own file (settings, languages, segment lists) beside the
#: postings' files (:mod:`~diploqa.lexical.postings`). Its name carries the format: bump
#: :data:`KEYWORDS_VERSION` when the files, the tokenisation (:mod:`~diploqa.lexical.words`),
#: :func:`~diploqa.lexical.language.language_of` or the stopwords change; an index whose
#: manifest does not name the current file builds its keyword index at load, and its next
#: build writes the current files.
KEYWORDS_VERSION = 3
KEYWORDS_FILE = f"keywords.v{KEYWORDS_VERSION}.json"
#: The two postings of a corpus, in the order they are written: its ``body`` and ``titles``.
_ROLES = ("body", "titles")
#: Each passage's text digest (:func:`~diploqa.lexical.corpus.passage_digests`).
_DIGESTS_FILE = "keywords.digests.npy"


def save_corpus(corpus: Corpus, folder: Path, skip: Set[str] = frozenset()) -> dict[str, str]:
    """Write ``corpus`` into a generation folder, synced; returns file name → SHA-256 (for the
    manifest). Segments an earlier generation saved are hard-linked from its folder, not
    written again; segment files named in ``skip`` (a receiver that has them: the Milvus
    engine) are not written at all. Read back by :func:`load_corpus`."""
    folder = Path(folder)
    state: dict = {
        "version": KEYWORDS_VERSION,
        "passages": corpus.size,
        "k1": corpus.k1,
        "b": corpus.b,
        # one digit per passage: its language group, an index into "groups"
        "groups": list(LANGUAGES),
        "languages": "".join(map(str, corpus.languages.tolist())),
    }
    np.save(folder / _DIGESTS_FILE, corpus.digests, allow_pickle=False)
    fsync_path(folder / _DIGESTS_FILE)
    files = {_DIGESTS_FILE: sha256_file(folder / _DIGESTS_FILE)}
    for role, postings in zip(_ROLES, (corpus.body, corpus.titles), strict=True):
        state[role], written = postings.save(folder, role, skip)
        files.update(written)
    write_synced(folder / KEYWORDS_FILE, json.dumps(state, ensure_ascii=False).encode())
    files[KEYWORDS_FILE] = sha256_file(folder / KEYWORDS_FILE)
    return files


def load_corpus(folder: Path, checksums: Mapping[str, str], passages: int) -> Corpus | None:
    """The corpus :func:`save_corpus` wrote into ``folder``, checked against ``checksums``
    (the manifest's) and the number of ``passages``; None where there is none, or it is of
    another format or damaged (said in the log, but for a manifest that names none)."""
    folder = Path(folder)
    if KEYWORDS_FILE not in checksums:
        return None
    try:
        state = json.loads((folder / KEYWORDS_FILE).read_bytes())
        if state.get("version") != KEYWORDS_VERSION or state.get("groups") != list(LANGUAGES):
            log.info("%s: keyword index of another version; not read", folder)
            return None
        names = [KEYWORDS_FILE, _DIGESTS_FILE]
        for role in _ROLES:
            names += Postings.saved_files(role, state[role])
        bad = [n for n in names if sha256_file(folder / n) != checksums.get(n)]
        if bad:
            log.warning("%s: %s damaged or missing; not read", folder, bad[0])
            return None
        if state["passages"] != passages:
            log.warning("%s: keyword index for another passage count; not read", folder)
            return None
        languages = np.frombuffer(state["languages"].encode("ascii"), np.uint8) - ord("0")
        if len(languages) != passages or (passages and int(languages.max()) >= len(LANGUAGES)):
            raise ValueError("the passages' languages do not fit")
        body, titles = (Postings.load(folder, r, state[r], checksums) for r in _ROLES)
        digests = np.load(folder / _DIGESTS_FILE, allow_pickle=False)
        if body.size != passages:
            raise ValueError("the postings do not fit the passages")
        k1, b = state["k1"], state["b"]
        if not (type(k1) is float and type(b) is float):
            raise ValueError("BM25's settings are out of range")
        return Corpus(body, titles, languages.astype(np.int8), digests, k1, b)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        log.warning("%s: keyword index unreadable (%s); building it", folder, err)
        return None
