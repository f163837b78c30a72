"""The Python API: open an index (building it from the bundled corpus when missing) and ask it questions."""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant import answerer, topic
from assistant.answer import Answer, QuestionError
from assistant.question import Query, check, check_history, resolve
from assistant.ranking import Ranker
from assistant.reader import Reader
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
        self.reader = Reader() if settings.reader else None   # the model loads on the first question
        self._write = threading.Lock()
        self._stamp = store.stamp(Path(settings.index_dir))
        self._swap(index)

    @classmethod
    def open(cls, settings: Settings | None = None, corpus: str | Path | None = None, progress: bool = False) -> Assistant:
        """The assistant over `settings.index_dir`. Where that holds no index, indexes `corpus` when given, else
        corpus/ when the working directory holds one (the quick start in the checkout: `python app.py`).

        Raises FileNotFoundError, saying where it looked and how to build an index, anywhere else: a mistyped
        folder never turns silently into a new index of the bundled corpus.
        """
        settings = settings or Settings.from_env()
        folder = Path(settings.index_dir)
        missing = store.read_manifest(folder) is None
        if missing and corpus is None and not Path("corpus").is_dir():
            raise FileNotFoundError(store.no_index(folder))
        encoder = SentenceEncoder(settings.model_path, settings.model_name, settings.batch_size)
        if missing:
            Indexer(settings, encoder).index([corpus or default_corpus()], progress=progress)
        return cls(settings, store.load(folder, settings.model_name), encoder)

    def _reload(self) -> None:
        """Load the index on disk and swap it in (the caller holds the write lock)."""
        stamp = store.stamp(Path(self.settings.index_dir))   # before loading: a save during the load reloads again
        self._swap(store.load(Path(self.settings.index_dir), self.settings.model_name))
        self._stamp = stamp

    def refresh(self) -> bool:
        """Swap in the index on disk when another process (the CLI, another server) saved a newer one since this
        one was loaded; True if it did. A stat of the folder when nothing changed; questions in flight keep
        answering from the index they started with."""
        if store.stamp(Path(self.settings.index_dir)) == self._stamp:
            return False
        with self._write:
            if store.stamp(Path(self.settings.index_dir)) == self._stamp:
                return False
            self._reload()
        return True

    def _swap(self, index: Index) -> None:
        # Assigned at once: a question in flight keeps the Prepared it started with.
        self._state = answerer.prepare(index)

    @property
    def abstain_below(self) -> float:
        """The confidence under which answers abstain with the current settings."""
        return answerer.abstain_below(self.settings, self.ranker, self.reader)

    @property
    def index(self) -> Index:
        return self._state.index

    def with_settings(self, settings: Settings) -> Assistant:
        """Another assistant with other answering settings over the same loaded index and model."""
        if Path(settings.index_dir) != Path(self.settings.index_dir) or settings.model_name != self.settings.model_name:
            return Assistant.open(settings)
        twin = Assistant.__new__(Assistant)
        twin.settings, twin.encoder, twin.ranker, twin._write, twin._state, twin._stamp = (
            settings, self.encoder, self.ranker, self._write, self._state, self._stamp)
        twin.reader = (self.reader or Reader()) if settings.reader else None
        return twin

    def ask(self, question: str, history: Sequence[str] = (), doc_ids: Sequence[str] | None = None,
            chat_document: str | None = None) -> Answer:
        """Quotes that answer `question` (after the earlier questions `history`), or an abstention; only from
        the documents `doc_ids` (ids or indexed paths) when given. A follow-up is also answered within the chat's
        document, which wins unless another answers clearly better (`topic`):
        `chat_document`, the id of the document the chat's previous answer quoted, where the caller keeps the
        answers (the web chat does); else the document found first for the previous question.

        Raises QuestionError for a question that cannot be asked as given, or a document that is not indexed
        (the message says the fix).
        """
        prepared, query, query_vec, found, chosen = self._find(question, history, doc_ids)
        answer = answerer.answer(prepared, query, query_vec, found, self.ranker, self.settings, self.reader)
        if not chosen and topic.stays_on_topic(history):
            answer = self._in_chat_document(prepared, query, query_vec, history, answer, chat_document)
        return dataclasses.replace(answer, doc_ids=chosen) if chosen else answer

    def _in_chat_document(self, prepared: answerer.Prepared, query: Query, query_vec: np.ndarray,
                          history: Sequence[str], answer: Answer, chat_document: str | None = None) -> Answer:
        """`answer`, or the follow-up's answer within the chat's document where `topic.prefer` picks that one."""
        index = prepared.index
        if len(index.documents) < 2:
            return answer
        doc = index.by_id.get(chat_document) if chat_document else None
        if doc is None:   # not given, or no longer indexed: the document found first for the previous question
            earlier = [h for h in history if isinstance(h, str) and h.strip()]
            before = resolve(earlier[-1], earlier[:-1])   # as the chat read it
            doc = topic.chat_document(index, retrieve(index, self.encoder.encode([before.text])[0],
                                                      list(before.terms), self.settings))
        if doc is None:
            return answer
        there = retrieve(index, query_vec, list(query.terms), self.settings, index.passages_of([doc]))
        return topic.prefer(answer, answerer.answer(prepared, query, query_vec, there, self.ranker, self.settings,
                                                    self.reader))

    def scored(self, question: str, history: Sequence[str] = (), doc_ids: Sequence[str] | None = None
               ) -> tuple[Query, answerer.Scored]:
        """The resolved question and the ranker's scores of its candidate sentences (before the reader), as
        `ask` sees them; for fitting and calibrating the scorers."""
        prepared, query, query_vec, found, _ = self._find(question, history, doc_ids)
        return query, answerer.score_sentences(prepared, query, query_vec, found, self.ranker)

    def _find(self, question: str, history: Sequence[str], doc_ids: Sequence[str] | None):
        question = check(question, self.settings.max_question_chars)
        history = check_history(history, self.settings.max_question_chars)
        prepared = self._state
        query = answerer.in_their_words(prepared, resolve(question, history))
        index = prepared.index
        within, chosen = _within(index, doc_ids)
        query_vec = self.encoder.encode([query.text])[0] if index.size else np.zeros(0, np.float32)
        return prepared, query, query_vec, retrieve(index, query_vec, list(query.terms), self.settings, within), chosen

    def document(self, doc_id: str) -> Document:
        return self.index.document(doc_id)

    def documents(self) -> list[DocInfo]:
        return list(self.index.infos)

    def add(self, paths: Sequence[str | Path], progress: bool = False) -> Summary:
        """Index files (new or changed ones only) and swap the new index in."""
        with self._write:
            summary = Indexer(self.settings, self.encoder).index(paths, progress=progress)
            if summary.added or summary.updated:   # else the index on disk is the one already loaded
                self._reload()
        return summary

    def remove(self, doc_id_or_path: str) -> DocInfo:
        """Take a document out of the index (KeyError if none matches) and swap the new index in."""
        with self._write:
            gone = Indexer(self.settings, self.encoder).remove(doc_id_or_path)
            self._reload()
        return gone


def _within(index: Index, doc_ids: Sequence[str] | None) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """(passage rows of the named documents, their ids) or (None, ()) when none are named.

    A document is named by its id or the path it was indexed from; raises QuestionError for one not indexed."""
    if not doc_ids:
        return None, ()
    if isinstance(doc_ids, str):
        doc_ids = [doc_ids]
    rows: list[int] = []
    for name in dict.fromkeys(doc_ids):
        row = next((i for i, d in enumerate(index.documents) if name in (d.doc_id, d.source)), None)
        if row is None:
            raise QuestionError(f"no indexed document has the id or path {name!r}; "
                                "`verbatim docs` lists them (or leave the documents out to ask all of them)")
        rows.append(row)
    ids = tuple(index.documents[r].doc_id for r in rows)
    return index.passages_of(rows), ids
