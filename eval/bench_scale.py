"""Scale: the SQuAD index copied out to 100k or 1M passages, answering real SQuAD questions.

Nothing here is random text or random vectors (on uniform random vectors every approximate index looks
broken). Passage vectors are the real SQuAD passage and sentence vectors, each copy with small Gaussian
noise; the BM25 postings are those of the real SQuAD text, repeated once per copy (the same matrix BM25 would
build over the repeated text, up to the +0.5 terms of its idf); the sentences of each copy are the real
ones with their real vectors. The passage vectors are drawn from all the real vectors (passages and sentences,
about 12,600), so a copy's vector is not its own text's: the answers at scale are timed, not judged. FAISS is built by `store.build_dense`, so past `Settings.ann_above` passages
it is the approximate (HNSW) index the product would use, and its recall@10 is measured against exact search.
What is left out: building BM25 over a million texts (timed at the smaller size through the real path, and
extrapolated), and embedding them (estimated from the encoder's measured speed, printed first).
"""
from __future__ import annotations

import copy
import dataclasses
import math
import statistics
import time
from collections.abc import Sequence

import numpy as np

from embeddings import store
from embeddings.encoder import duration
from embeddings.lexical import Lexical
from embeddings.store import Index
from assistant.retrieval import one_thread
from eval.bench_stats import rss_peak_bytes

NOISE = 0.3     # norm of the noise added to each copied unit vector (cosine with its original about 0.96)
K = 10          # recall@K against exact search
CHUNK = 100_000


class Repeated:
    """Rows of `base` repeated `copies` times without copying them: row i is base[i % len(base)]."""

    def __init__(self, base: np.ndarray, copies: int) -> None:
        self.base = base
        self.shape = (len(base) * copies, base.shape[1])
        self.dtype = base.dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows):
        return self.base[np.asarray(rows) % len(self.base)]


def noisy_copies(base: np.ndarray, n: int, noise: float = NOISE, seed: int = 0) -> np.ndarray:
    """(n, d) float32 unit vectors: row i is base[i % len(base)] plus Gaussian noise of norm about `noise`."""
    rng = np.random.default_rng(seed)
    d = base.shape[1]
    out = np.empty((n, d), dtype=np.float32)
    for a in range(0, n, CHUNK):
        rows = np.arange(a, min(a + CHUNK, n))
        v = base[rows % len(base)] + rng.standard_normal((len(rows), d), dtype=np.float32) * (noise / math.sqrt(d))
        out[rows] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def repeated_bm25(lexical: Lexical, copies: int) -> Lexical:
    """The BM25 index of `copies` back-to-back copies of the indexed texts, built from the postings directly."""
    bm25 = lexical._bm25   # the bm25s object: its CSC score matrix is what gets repeated
    m = bm25.scores
    indptr, indices, data = m["indptr"].astype(np.int64), m["indices"], m["data"]
    size = int(m["num_docs"])
    lens = np.diff(indptr)
    column = np.repeat(np.arange(len(lens)), lens)
    base_pos = indptr[column] * copies + (np.arange(len(indices)) - indptr[column])
    new_indices = np.empty(len(indices) * copies, dtype=np.int32)
    new_data = np.empty(len(data) * copies, dtype=data.dtype)
    for c in range(copies):   # copy c of a term's postings follows copy c-1: rows stay in order
        at = base_pos + c * lens[column]
        new_indices[at] = indices + c * size
        new_data[at] = data
    twin = copy.copy(bm25)
    twin.scores = {"data": new_data, "indices": new_indices, "indptr": indptr * copies, "num_docs": size * copies}
    return Lexical(twin, size * copies)


def repeated_index(index: Index, copies: int, passage_vecs: np.ndarray, dense) -> Index:
    """`copies` copies of `index` (documents renamed, rows shifted) over the given passage vectors and FAISS index."""
    docs, p = len(index.documents), index.size
    documents = [dataclasses.replace(d, doc_id=f"{d.doc_id}~{c}") for c in range(copies) for d in index.documents]
    infos = [dataclasses.replace(i, doc_id=f"{i.doc_id}~{c}") for c in range(copies) for i in index.infos]
    shift = lambda arr, step: (np.tile(arr.astype(np.int64), copies) + np.repeat(np.arange(copies) * step, len(arr)))
    big = Index(
        model=index.model, dim=index.dim, documents=documents, infos=infos,
        p_doc=shift(index.p_doc, docs).astype(np.int32), p_start=np.tile(index.p_start, copies),
        p_end=np.tile(index.p_end, copies), p_section=np.tile(index.p_section, copies), sections=index.sections,
        s_doc=shift(index.s_doc, docs).astype(np.int32), s_start=np.tile(index.s_start, copies),
        s_end=np.tile(index.s_end, copies), s_host=shift(index.s_host, p).astype(np.int32),
        passage_vecs=passage_vecs, sentence_vecs=Repeated(index.sentence_vecs, copies), dense=dense,
    )
    big.bm25_passages = repeated_bm25(index.bm25_passages, copies)
    big.bm25_sentences = repeated_bm25(index.bm25_sentences, copies)
    return big


def _bm25_bytes(lexical: Lexical) -> int:
    m = lexical._bm25.scores
    return int(m["data"].nbytes + m["indices"].nbytes + m["indptr"].nbytes)


def estimate_embedding(n: int, passages_per_second: float) -> str:
    """"about 11 h 6 min" for embedding n passages at the measured speed."""
    return "about " + duration(n / max(passages_per_second, 1e-9))


def run(bot, questions: Sequence[str], n: int, passages_per_second: float, say=print) -> dict[str, object]:
    """Scale the assistant's index (SQuAD) to about `n` passages and measure search, recall, answering and memory."""
    import faiss

    from assistant import Assistant

    index = bot.index
    copies = max(1, math.ceil(n / index.size))
    n = copies * index.size
    say(f"scale {n:,} passages: embedding that many real passages would take {estimate_embedding(n, passages_per_second)} "
        f"on this machine ({passages_per_second:.0f} passages/s measured); vectors here are noisy copies of real ones")
    rss_before = rss_peak_bytes()
    base = np.concatenate([index.passage_vecs, index.sentence_vecs]).astype(np.float32)
    began = time.perf_counter()
    vecs = noisy_copies(base, n)
    made = time.perf_counter() - began
    began = time.perf_counter()
    dense = store.build_dense(vecs, bot.settings.ann_above)
    build_seconds = time.perf_counter() - began
    say(f"  {type(dense).__name__} over {n:,} vectors built in {build_seconds:.0f} s")
    qvecs = bot.encoder.encode(list(questions))
    exact = faiss.IndexFlatIP(vecs.shape[1])
    exact.add(vecs)
    began = time.perf_counter()
    _, truth = exact.search(qvecs, K)
    exact_batch = (time.perf_counter() - began) / len(qvecs)
    exact_single, got, search_single = [], [], []
    with one_thread():   # as the assistant searches: one query on the calling thread
        for q in qvecs[:20]:
            t = time.perf_counter()
            exact.search(q.reshape(1, -1), K)
            exact_single.append(time.perf_counter() - t)
        del exact
        for q in qvecs:
            t = time.perf_counter()
            _, rows = dense.search(q.reshape(1, -1), K)
            search_single.append(time.perf_counter() - t)
            got.append(rows[0])
    recall = float(np.mean([len(set(g.tolist()) & set(t.tolist())) / K for g, t in zip(got, truth)]))
    sweep = _ef_sweep(dense, qvecs, truth) if hasattr(dense, "hnsw") else {}
    say(f"  recall@{K} {recall:.3f} against exact search; search p50 {statistics.median(search_single) * 1e3:.1f} ms, "
        f"exact {statistics.median(exact_single) * 1e3:.1f} ms")
    big = repeated_index(index, copies, vecs, dense)
    scaled = Assistant(bot.settings, big, bot.encoder, bot.ranker)
    scaled.ask(questions[0])
    ask_times = []
    for q in questions:
        t = time.perf_counter()
        scaled.ask(q)
        ask_times.append(time.perf_counter() - t)
    ask_p50 = statistics.median(ask_times)
    say(f"  ask p50 {ask_p50 * 1e3:.1f} ms over {len(questions)} questions")
    parts = _parts(scaled, questions)
    say("  where a question's time goes (p50 ms): " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()))
    faiss_bytes = len(faiss.serialize_index(dense))
    sentences_per_passage = len(index.s_start) / index.size
    text_bytes = sum(len(d.text.encode("utf-8")) for d in index.documents) / index.size
    per_passage = {
        "passage_vectors": vecs.nbytes / n,
        "sentence_vectors": sentences_per_passage * index.dim * 4,
        "faiss": faiss_bytes / n,
        "bm25_passages": _bm25_bytes(big.bm25_passages) / n,
        "bm25_sentences": _bm25_bytes(big.bm25_sentences) / n,
        "spans": (big.p_doc.nbytes + big.p_start.nbytes + big.p_end.nbytes + big.p_section.nbytes + big.s_doc.nbytes
                  + big.s_start.nbytes + big.s_end.nbytes + big.s_host.nbytes) / n,
        "document_text": text_bytes,
    }
    return {
        "passages": n, "copies": copies, "noise": NOISE, "dense": type(dense).__name__,
        "ann_above": bot.settings.ann_above, "vectors_seconds": made, "dense_build_seconds": build_seconds,
        "recall_at_10": recall, "ef_search_sweep": sweep, "search_p50_ms": statistics.median(search_single) * 1e3,
        "exact_search_p50_ms": statistics.median(exact_single) * 1e3, "exact_search_batched_ms": exact_batch * 1e3,
        "ask_p50_ms": ask_p50 * 1e3, "ask_p95_ms": float(np.percentile(ask_times, 95)) * 1e3,
        "questions": len(questions), "parts_p50_ms": parts, "bytes_per_passage": {k: round(v, 1) for k, v in per_passage.items()},
        "bytes_per_passage_total": round(sum(per_passage.values()), 1),
        "process_peak_rss_bytes": rss_peak_bytes(), "peak_rss_before_bytes": rss_before,
        "embedding_estimate": estimate_embedding(n, passages_per_second),
    }



def _ef_sweep(dense, qvecs: np.ndarray, truth: np.ndarray) -> dict[int, dict[str, float]]:
    """Recall@K and p50 ms of one query at other HNSW efSearch values (the configured one restored after)."""
    configured = dense.hnsw.efSearch
    out = {}
    try:
        for ef in sorted({128, 256, 512, 1024, 2048, 4096, configured}):
            dense.hnsw.efSearch = ef
            times, hits = [], []
            with one_thread():
                for q, t in zip(qvecs, truth):
                    began = time.perf_counter()
                    _, rows = dense.search(q.reshape(1, -1), K)
                    times.append(time.perf_counter() - began)
                    hits.append(len(set(rows[0].tolist()) & set(t.tolist())) / K)
            out[ef] = {"recall_at_10": round(float(np.mean(hits)), 4), "p50_ms": round(statistics.median(times) * 1e3, 2)}
    finally:
        dense.hnsw.efSearch = configured
    return out


def _parts(bot, questions: Sequence[str]) -> dict[str, float]:
    """p50 ms of each step of answering over the scaled index, and of scoring only the candidate sentences'
    BM25 (`Lexical.scores_of`) where the answerer scores every sentence of the index."""
    from assistant import answerer
    from assistant.question import resolve
    from assistant.retrieval import dense_ranking, retrieve

    index, prepared = bot.index, bot._state
    steps: dict[str, list[float]] = {}

    def timed(name: str, run):
        began = time.perf_counter()
        out = run()
        steps.setdefault(name, []).append((time.perf_counter() - began) * 1e3)
        return out

    for q in questions:
        query = resolve(q)
        vec = timed("encode", lambda: bot.encoder.encode([query.text])[0])
        terms = list(query.terms)
        timed("dense search", lambda: dense_ranking(index, vec, bot.settings.top_k * 4))
        timed("bm25 passages", lambda: index.bm25_passages.scores(terms))
        found = timed("retrieve (all of it)", lambda: retrieve(index, vec, terms, bot.settings))
        rows = np.array([r for r, _ in answerer.candidate_rows(index, prepared.keys, found.rows)], dtype=np.int64)
        timed("bm25 all sentences", lambda: index.bm25_sentences.scores(terms))
        timed("bm25 candidate sentences only", lambda: index.bm25_sentences.scores_of(terms, rows))
        timed("answer (all of it)", lambda: answerer.answer(prepared, query, vec, found, bot.ranker, bot.settings))
    return {name: round(statistics.median(v), 2) for name, v in steps.items()}
