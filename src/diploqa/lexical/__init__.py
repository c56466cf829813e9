"""Keyword ranking (BM25 with German stemming) to back up the dense model.

Dense retrieval finds paraphrases across languages but misses a share of questions that repeat an
article's rare words verbatim (a name, a place, a number); BM25 finds those almost always. The
fusion in :mod:`diploqa.ranking` weights BM25 by how many of the question's words occur in the
corpus at all, so an English question over German articles, whose words mostly do not occur,
is left to the dense model.

Modules: :mod:`.words` (splitting, stopwords, stemming), :mod:`.language` (a text's language
group), :mod:`.spellings` (English spellings of names → German ones, for questions),
:mod:`.postings` (term counts an update changes instead of rebuilding), :mod:`.corpus` (what the
passages determine, built or updated), :mod:`.files` (the corpus saved with a generation),
:mod:`.scoring` (a question's scores, coverage and translations), :mod:`.bm25`
(:class:`Bm25Index`, the corpus with the settings questions are scored with).

Each generation keeps its keyword index beside its vectors (:meth:`Bm25Index.save`, written by
the build; in the folder, or in the Milvus engine), and an update changes it
(:meth:`Bm25Index.updated`) rather than rebuilding it. An index without readable keyword files
(older, or damaged) has its keyword index built from the stored passages when it is loaded;
nothing has to be rebuilt.
"""

from __future__ import annotations

from .bm25 import Bm25Index
from .corpus import Corpus, passage_digests, shared_titles
from .files import KEYWORDS_FILE, KEYWORDS_VERSION
from .language import LANGUAGES, language_of
from .scoring import LexicalScores, Lookup, QuerySettings
from .spellings import NAME_SPELLINGS
from .words import STOPWORDS_EN, STOPWORDS_GERMAN

__all__ = [
    "KEYWORDS_FILE",
    "KEYWORDS_VERSION",
    "LANGUAGES",
    "NAME_SPELLINGS",
    "STOPWORDS_EN",
    "STOPWORDS_GERMAN",
    "Bm25Index",
    "Corpus",
    "LexicalScores",
    "Lookup",
    "QuerySettings",
    "language_of",
    "passage_digests",
    "shared_titles",
]
