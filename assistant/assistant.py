"""The Python API: open an index (building it from the bundled corpus when missing) and ask it questions."""
from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant import answerer
from assistant.answer import Answer
from assistant.question import check, check_history, resolve
from assistant.ranking import Ranker
from assistant.retrieval import retrieve
from embeddings import store
from embeddings.documents import Document
from embeddings.encoder import Encoder, SentenceEncoder
from embeddings.indexer import Indexer, Summary, default_corpus
from embeddings.settings import Settings
from embeddings.store import DocInfo, Index


class Assistant:
    """Answers questions from one index folder. Safe to share between threads: adding or removing a
    document builds a new index and swaps it in, so a question in flight sees the old one whole."""

    def __init__(self, settings: Settings, index: Index, encoder: Encoder, ranker: Ranker | None = None) -> None:
        self.settings = settings
        self.encoder = encoder
        self.ranker = ranker or Ranker.load()
        self._write = threading.Lock()
        self._swap(index)

    @classmethod
    def open(cls, settings: Settings | None = None, corpus: str | Path | None = None, progress: bool = False) -> Assistant:
        """The assistant over `settings.index_dir`; indexes `corpus` (default: the bundled corpus/) when it holds no index."""
        settings = settings or Settings.from_env()
        encoder = SentenceEncoder(settings.model_path, settings.model_name, settings.batch_size)
        if store.read_manifest(Path(settings.index_dir)) is None:
            Indexer(settings, encoder).index([corpus or default_corpus()], progress=progress)
        return cls(settings, store.load(Path(settings.index_dir), settings.model_name), encoder)

    def _swap(self, index: Index) -> None:
        # Assigned at once: a question in flight keeps the Prepared it started with.
        self._state = answerer.prepare(index)

    @property
    def index(self) -> Index:
        return self._state.index

    def with_settings(self, settings: Settings) -> Assistant:
        """Another assistant with other answering settings over the same loaded index and model."""
        if Path(settings.index_dir) != Path(self.settings.index_dir) or settings.model_name != self.settings.model_name:
            return Assistant.open(settings)
        twin = Assistant.__new__(Assistant)
        twin.settings, twin.encoder, twin.ranker, twin._write, twin._state = (
            settings, self.encoder, self.ranker, self._write, self._state)
        return twin

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        """Quotes that answer `question` (after the earlier questions `history`), or an abstention.

        Raises QuestionError for a question that cannot be asked as given (the message says the fix).
        """
        question = check(question, self.settings.max_question_chars)
        history = check_history(history, self.settings.max_question_chars)
        query = resolve(question, history)
        prepared = self._state
        index = prepared.index
        query_vec = self.encoder.encode([query.text])[0] if index.size else np.zeros(0, np.float32)
        found = retrieve(index, query_vec, list(query.terms), self.settings)
        return answerer.answer(prepared, query, query_vec, found, self.ranker, self.settings)

    def document(self, doc_id: str) -> Document:
        return self.index.document(doc_id)

    def documents(self) -> list[DocInfo]:
        return list(self.index.infos)

    def add(self, paths: Sequence[str | Path], progress: bool = False) -> Summary:
        """Index files (new or changed ones only) and swap the new index in."""
        with self._write:
            summary = Indexer(self.settings, self.encoder).index(paths, progress=progress)
            if summary.added or summary.updated:   # else the index on disk is the one already loaded
                self._swap(store.load(Path(self.settings.index_dir), self.settings.model_name))
        return summary

    def remove(self, doc_id_or_path: str) -> DocInfo:
        """Take a document out of the index (KeyError if none matches) and swap the new index in."""
        with self._write:
            gone = Indexer(self.settings, self.encoder).remove(doc_id_or_path)
            self._swap(store.load(Path(self.settings.index_dir), self.settings.model_name))
        return gone
