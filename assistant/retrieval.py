"""Passages for a question: dense (FAISS) and lexical (BM25) rankings fused, best first.

Two fusions: reciprocal-rank fusion ("rrf", the default: the eval found it at least as good and it needs
no score scaling) and a convex mix of the cosine with the max-scaled BM25 score ("convex").
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from embeddings.settings import Settings
from embeddings.store import Index

POOL = 4   # each ranking contributes this many times top_k candidates to the fusion


@dataclass(frozen=True, slots=True)
class Retrieved:
    rows: np.ndarray      # (k,) passage rows, best first
    fused: np.ndarray     # (k,) fused score, in [0, 1]
    dense: np.ndarray     # (k,) cosine of each passage with the question


@contextmanager
def one_thread() -> Iterator[None]:
    """FAISS on the calling thread alone, inside the block. One query gains little from FAISS's OpenMP threads
    and, on a busy 2-core machine, lost 12x to them waiting on each other (48 ms against 4 ms over 34k
    passages). The setting is this thread's own."""
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def dense_ranking(index: Index, query_vec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cosines) of the k nearest passages by inner product, searched on the calling thread alone."""
    k = min(k, index.size)
    with one_thread():
        scores, rows = index.dense.search(np.ascontiguousarray(query_vec.reshape(1, -1), dtype=np.float32), k)
    keep = rows[0] >= 0
    return rows[0][keep].astype(np.int64), scores[0][keep]


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the k highest scores, best first (positive scores only)."""
    k = min(k, int((scores > 0).sum()))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def fuse_rrf(rankings: list[np.ndarray], rrf_k: int) -> dict[int, float]:
    """Reciprocal-rank fusion: sum of 1 / (rrf_k + rank) over the rankings a row appears in (rank from 1)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking.tolist(), start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (rrf_k + rank)
    return fused


def fuse_convex(dense: dict[int, float], lexical: dict[int, float], weight: float) -> dict[int, float]:
    """weight * cosine + (1 - weight) * BM25 / max BM25, over the union of both candidate sets."""
    top = max(lexical.values(), default=0.0) or 1.0
    rows = set(dense) | set(lexical)
    return {r: weight * max(dense.get(r, 0.0), 0.0) + (1 - weight) * lexical.get(r, 0.0) / top for r in rows}


def retrieve(index: Index, query_vec: np.ndarray, query_terms: list[str], settings: Settings,
             within: np.ndarray | None = None) -> Retrieved:
    """The settings.top_k best passages for a question's vector and terms; only rows in `within` when given
    (the passages of the documents a question is asked about: searched exactly, whatever the FAISS index)."""
    empty = np.zeros(0)
    if index.size == 0 or (within is not None and not len(within)):
        return Retrieved(empty.astype(np.int64), empty, empty)
    pool = settings.top_k * POOL
    bm25 = index.bm25_passages.scores(query_terms)
    if within is None:
        d_rows, d_scores = dense_ranking(index, query_vec, pool)
    else:
        cos = index.passage_vecs[within] @ query_vec.reshape(-1)   # (len(within),)
        best = top_rows(cos + 2.0, pool)   # shifted: top_rows keeps positive scores only
        d_rows, d_scores = within[best], cos[best]
        kept = np.zeros_like(bm25)
        kept[within] = bm25[within]
        bm25 = kept
    l_rows = top_rows(bm25, pool)
    if settings.fusion == "rrf":
        fused = fuse_rrf([d_rows, l_rows], settings.rrf_k)
        best = 2.0 / (settings.rrf_k + 1)   # first in both rankings
    else:
        fused = fuse_convex(dict(zip(d_rows.tolist(), d_scores.tolist())),
                            {r: float(bm25[r]) for r in l_rows.tolist()}, settings.dense_weight)
        best = 1.0
    order = sorted(fused, key=lambda r: -fused[r])[: settings.top_k]
    rows = np.array(order, dtype=np.int64)
    cos = index.passage_vecs[rows] @ query_vec.reshape(-1)
    return Retrieved(rows, np.array([fused[r] / best for r in order]), cos)
