"""The tools a user would pick instead, over the same passages and the same local model: txtai and LangChain FAISS.

Each peer only retrieves (passages for a question); it neither chunks documents nor quotes sentences.
Both are bench-only dependencies (the "bench" extra); a peer that cannot be imported is reported, not fatal.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PEERS = ("txtai", "langchain")
TOP_K = 8   # passages a peer returns per question, as many as the assistant retrieves by default


@dataclass
class Peer:
    """A built peer: `search(question)` returns its top passages; `build(texts)` re-indexes from scratch."""

    name: str
    build: Callable[[Sequence[str]], None]
    search: Callable[[str], object]


def open_peer(name: str, model_path: str) -> Peer:
    """The peer `name` with the model loaded (not timed as indexing); ImportError when it is not installed."""
    if name == "txtai":
        return _txtai(model_path)
    if name == "langchain":
        return _langchain(model_path)
    raise ValueError(f"unknown peer {name!r}; choose among {', '.join(PEERS)}")


def _txtai(model_path: str) -> Peer:
    from txtai import Embeddings

    # txtai's defaults for a local sentence-transformers folder: its faiss backend, vectors only.
    embeddings = Embeddings(path=model_path, content=False)   # loads the model; loading is not indexing

    def build(texts: Sequence[str]) -> None:
        embeddings.index(list(texts))   # overwrites the index, keeps the loaded model

    build(["warm up the model"])
    return Peer("txtai", build, lambda q: embeddings.search(q, TOP_K))


def _langchain(model_path: str) -> Peer:
    from langchain_community.vectorstores import FAISS

    with warnings.catch_warnings():   # the class moved to langchain-huggingface; this one is the same code
        warnings.simplefilter("ignore")
        from langchain_community.embeddings import HuggingFaceEmbeddings

        embeddings = HuggingFaceEmbeddings(model_name=model_path, model_kwargs={"device": "cpu"},
                                           encode_kwargs={"normalize_embeddings": True})
    holder: dict[str, FAISS] = {"s": FAISS.from_texts(["warm up the model"], embeddings)}

    def build(texts: Sequence[str]) -> None:
        holder["s"] = FAISS.from_texts(list(texts), embeddings)

    return Peer("langchain", build, lambda q: holder["s"].similarity_search(q, k=TOP_K))
