"""Shared fixtures: the real model, loaded once, and the bundled corpus indexed once per test session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CORPUS_FILE = CORPUS / "000_14d5362b27054530.txt"


@pytest.fixture(scope="session")
def settings():
    from embeddings.settings import Settings

    return Settings()


@pytest.fixture(scope="session")
def encoder(settings):
    from embeddings.encoder import SentenceEncoder

    return SentenceEncoder(settings.model_path, settings.model_name, settings.batch_size)


@pytest.fixture(scope="session")
def corpus_index_dir(tmp_path_factory, settings, encoder) -> Path:
    """The bundled corpus indexed with the real model (read-only: copy it before changing it)."""
    from embeddings.indexer import Indexer

    folder = tmp_path_factory.mktemp("bundled") / "index"
    Indexer(settings.replace(index_dir=folder), encoder).index([CORPUS])
    return folder


@pytest.fixture
def index_copy(tmp_path, corpus_index_dir) -> Path:
    """A private copy of the bundled index that a test may change."""
    target = tmp_path / "index"
    shutil.copytree(corpus_index_dir, target)
    return target


@pytest.fixture(scope="session")
def bot(settings, encoder, corpus_index_dir):
    """An Assistant over the bundled corpus with the real model and index."""
    from assistant import Assistant
    from embeddings import store

    s = settings.replace(index_dir=corpus_index_dir)
    return Assistant(s, store.load(corpus_index_dir, s.model_name), encoder)


@pytest.fixture(scope="session")
def pages_bot(tmp_path_factory, settings, encoder):
    """`make(name, {file name: text})`: an Assistant over those pages, written and indexed with the real model."""
    def make(name: str, pages: dict[str, str]):
        from assistant import Assistant
        from embeddings.indexer import Indexer

        folder = tmp_path_factory.mktemp(name)
        for file, text in pages.items():
            (folder / file).write_text(text, encoding="utf-8")
        s = settings.replace(index_dir=folder / "index")
        Indexer(s, encoder).index([folder / file for file in pages])
        return Assistant.open(s)
    return make
