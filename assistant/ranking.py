"""Scoring sentences for how well they *answer* a question, not only how alike they are.

Each candidate sentence gets a few features (its cosine with the question, its passage's retrieval score,
how much of the question's weighted terms it and its neighbours cover, what new words it brings, whether
it holds the kind of thing asked for: a date, a number, a name) and a logistic model turns them into the
probability that it answers. The weights live in ranker.json, fitted on held-out questions by
`python -m eval.train_ranker`; they are not tuned on the questions the eval judges.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.question import Kind

FEATURES = (
    "cos", "passage_cos", "fused", "passage_rank", "bm25", "cover", "cover_context", "novel",
    "kind_match", "kind_miss", "short", "is_question", "log_words", "unknown_terms", "unseen_terms", "window_cos",
)
WEIGHTS_FILE = Path(__file__).with_name("ranker.json")

_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b"
_EVIDENCE: dict[str, re.Pattern[str]] = {
    "when": re.compile(rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})\b|\b{_MONTH}|\b\d{{1,2}}(?:st|nd|rd|th)\b|\b(?:century|decade|today|yesterday|recently|ago|since|until|upon)\b"
                       rf"|\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a few|several)\s+(?:working\s+|business\s+|calendar\s+)?(?:days?|weeks?|months?|years?|hours?)\b|\bas soon as\b", re.I),
    "amount": re.compile(r"\d|[£$€¥%]|\b(?:half|halves|thirds?|quarters?|percent|per cent|hundreds?|thousands?|millions?|billions?|trillions?|dollars?|pounds?|euros?|cents?|pence|free|nothing|double|twice)\b", re.I),
    "number": re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|trillion|dozen|half|third|quarter|percent)\b", re.I),
    "who": re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+(?:of|and|the|for|de|von)?\s*[A-Z][a-z]+)+|\b(?:[A-Z]{2,})\b|(?i:\b(?:commission|ministry|department|bank|court|council|administration|agency|government|authority|company|ceo|president|founder)\b)"),
    "where": re.compile(r"\b(?:in|at|from|to|near|across|within)\s+(?:the\s+)?[A-Z][a-z]+|\b(?:country|city|province|region|territory|overseas|domestic)\b"),
}
# A sentence that opens by pointing back ("This means...", "It is designed...", "For payments, it...") needs the
# sentence before it to be understood.
_ANAPHORIC = re.compile(
    r"^\W*(?:(?:this|that|these|those|it|its|they|their|them|he|his|she|her|such|in (?:addition|particular|turn)"
    r"|however|instead|accordingly|meanwhile|additionally|moreover|also|otherwise)\b|for (?:\w+ )?\w+,)",
    re.I,
)


def points_back(sentence: str) -> bool:
    """Whether a sentence opens by pointing back at the one before it ("This means...", "For payments, it...")."""
    return bool(_ANAPHORIC.search(sentence))


@dataclass(frozen=True, slots=True)
class Candidate:
    """What ranking needs to know of one sentence; built by the answerer from the index."""

    cos: float               # cosine of the sentence vector with the question vector
    window_cos: float        # best cosine of the sentence joined with a neighbour
    passage_cos: float       # cosine of its best retrieved passage with the question
    fused: float             # fused retrieval score of that passage, in [0, 1]
    passage_rank: int        # 0 = the best retrieved passage
    bm25: float              # sentence BM25, scaled by the best candidate's
    terms: frozenset[str]
    context_terms: frozenset[str]   # the sentence's terms, its neighbours' and its document title's
    text: str


def features(
    candidates: list[Candidate], query_terms: tuple[str, ...], idf: dict[str, float], kind: Kind,
    is_known: Callable[[str], bool] | None = None,
) -> np.ndarray:
    """(n, len(FEATURES)) float32 feature matrix, columns in FEATURES order.

    `unknown_terms` and `unseen_terms` are the same for every candidate of a question: the weighted share of its
    terms that no document holds (`is_known` says whether the documents hold a term), and that no candidate's
    context holds. They let the model doubt a question about something the documents never mention.
    """
    q = set(query_terms)
    total = sum(idf.get(t, 0.0) for t in q) or 1.0
    evidence = _EVIDENCE.get(kind)
    unknown = sum(idf.get(t, 0.0) for t in q if not is_known(t)) / total if is_known else 0.0
    seen = set().union(*(c.context_terms for c in candidates)) if candidates else set()
    unseen = sum(idf.get(t, 0.0) for t in q - seen) / total
    rows = []
    for c in candidates:
        words = len(c.text.split())
        has = bool(evidence.search(c.text)) if evidence else False
        rows.append((
            c.cos, c.passage_cos, c.fused, 1.0 / (1 + c.passage_rank), c.bm25,
            sum(idf.get(t, 0.0) for t in q & c.terms) / total,
            sum(idf.get(t, 0.0) for t in q & c.context_terms) / total,
            len(c.terms - q) / max(len(c.terms), 1),
            float(evidence is not None and has), float(evidence is not None and not has),
            float(words < 6), float(c.text.rstrip().endswith("?")), float(np.log1p(words)), unknown, unseen,
            c.window_cos,
        ))
    return np.asarray(rows, dtype=np.float32).reshape(len(candidates), len(FEATURES))


@dataclass(frozen=True, slots=True)
class Ranker:
    """A logistic model over FEATURES: probability that a sentence answers the question."""

    weights: tuple[float, ...]
    bias: float
    abstain_below: float = 0.5   # the confidence under which to abstain, picked on development data

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise ValueError(f"the ranker needs {len(FEATURES)} weights ({', '.join(FEATURES)}), got {len(self.weights)}")

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = x @ np.asarray(self.weights, dtype=np.float32) + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Ranker:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(tuple(float(raw["weights"][name]) for name in FEATURES), float(raw["bias"]),
                   float(raw.get("suggested_abstain_below", 0.5)))

    def save(self, path: Path = WEIGHTS_FILE, **about: object) -> None:
        data = {"weights": dict(zip(FEATURES, self.weights)), "bias": self.bias,
                "suggested_abstain_below": self.abstain_below, **about}
        Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
