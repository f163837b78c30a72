"""BM25 over passages or sentences (bm25s), with one tokenizer shared by indexing and questions.

Terms are lower-cased words without English stopwords, lightly stemmed ("banks" ~ "bank",
"supervised" ~ "supervise"); no language-specific analysis beyond that.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

import numpy as np

_WORD = re.compile(r"\w+")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves s t d ll m o re ve y
    does did tell say says said""".split()
)


def stem(word: str) -> str:
    """A light suffix stripper: plurals, simple verb forms and -sion/-tion nouns meet
    ("supervised", "supervises", "supervision" -> "supervis")."""
    if len(word) <= 3:
        return word
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if word.endswith("ization"):                            # tokenization ~ tokenize
        word = word[:-5]
    elif word.endswith(("sion", "tion")) and len(word) > 6:   # supervision ~ supervise, regulation ~ regulated
        word = word[:-3]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


_TERM_OF: dict[str, str] = {}   # word -> its term ("" for a stopword): a look-up instead of a stem per word
_TERM_CACHE_MAX = 1 << 20       # distinct words kept (about 100 MB at most); past it, words are stemmed anew


def _term(word: str) -> str:
    term = _TERM_OF.get(word)
    if term is None:
        term = "" if word in STOPWORDS else stem(word)
        if len(_TERM_OF) < _TERM_CACHE_MAX:
            _TERM_OF[word] = term
    return term


def terms(text: str) -> list[str]:
    """Content terms of `text`, in order, stemmed."""
    return [t for t in map(_term, _WORD.findall(text.lower())) if t]


class Lexical:
    """A BM25 index over a list of texts; row i is text i."""

    def __init__(self, bm25, size: int) -> None:
        self._bm25 = bm25
        self.size = size
        self._sorted: bool | None = None   # are each term's postings in row order? (checked once, on first need)

    @classmethod
    def build(cls, texts: list[str]) -> Lexical:
        import bm25s

        if not texts:
            return cls(None, 0)
        bm25 = bm25s.BM25()
        bm25.index([terms(t) or ["\u2205"] for t in texts], show_progress=False)
        return cls(bm25, len(texts))

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """(size,) float32 BM25 scores; all zero when no term of the query is in the index."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        known = [t for t in query_terms if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def scores_of(self, query_terms: list[str], rows: np.ndarray) -> np.ndarray:
        """(len(rows),) float32: `scores(query_terms)[rows]`, without scoring every row of the index.

        Looks each row up in the postings of each query term, so the cost follows the rows asked for and the
        terms' postings, not the index size (a question's ~40 candidate sentences out of millions).
        """
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float32)
        if self._bm25 is None or not len(rows):
            return out
        if not self._postings_sorted():
            return self.scores(query_terms)[rows]
        vocab, matrix = self._bm25.vocab_dict, self._bm25.scores
        indptr, indices, data = matrix["indptr"], matrix["indices"], matrix["data"]
        for term in query_terms:   # in query order, repeats included: the same float32 sums as get_scores
            token = vocab.get(term)
            if token is None:
                continue
            lo, hi = int(indptr[token]), int(indptr[token + 1])
            if hi == lo:
                continue
            at = np.minimum(np.searchsorted(indices[lo:hi], rows), hi - lo - 1)
            hit = indices[lo:hi][at] == rows
            out[hit] += data[lo:hi][at[hit]]
        return out

    def _postings_sorted(self) -> bool:
        if self._sorted is None:
            matrix = self._bm25.scores
            step = np.diff(matrix["indices"].astype(np.int64))
            cross = matrix["indptr"][1:-1].astype(np.int64) - 1   # where one term's postings end and the next begin
            step[cross[(cross >= 0) & (cross < len(step))]] = 1
            self._sorted = bool((step > 0).all())
        return self._sorted

    @property
    def vocabulary(self) -> Collection[str]:
        """Every indexed term (a live view: no copy per question)."""
        return self._bm25.vocab_dict.keys() if self._bm25 is not None else frozenset()

    def idf(self, query_terms: list[str]) -> np.ndarray:
        """BM25-style inverse document frequency of each term (unknown terms get the highest)."""
        n = max(self.size, 1)
        if self._bm25 is None:
            return np.full(len(query_terms), np.log(1 + n), dtype=np.float32)
        indptr = self._bm25.scores["indptr"]   # CSC by token: docs holding token t are indptr[t]:indptr[t+1]
        vocab = self._bm25.vocab_dict
        df = np.array([indptr[vocab[t] + 1] - indptr[vocab[t]] if t in vocab else 0 for t in query_terms], dtype=np.float32)
        return np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def save(self, folder: Path) -> None:
        if self._bm25 is not None:
            self._bm25.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> Lexical:
        import bm25s

        if size == 0:
            return cls(None, 0)
        return cls(bm25s.BM25.load(str(folder)), size)
