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
_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
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
    """A light suffix stripper: plurals and simple verb forms meet ("supervised", "supervises" -> "supervis")."""
    if len(word) <= 3:
        return word
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def terms(text: str) -> list[str]:
    """Content terms of `text`, in order, stemmed."""
    words = _WORD.findall(text.translate(_FOLD).lower())
    return [stem(w) for w in words if w not in STOPWORDS]


class Lexical:
    """A BM25 index over a list of texts; row i is text i."""

    def __init__(self, bm25, size: int) -> None:
        self._bm25 = bm25
        self.size = size

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
