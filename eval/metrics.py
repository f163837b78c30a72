"""Answer-quality and retrieval metrics: plain functions of answers and gold answer strings, and the CI gate.

Aggregates take `Outcome`s (eval.runner). Answer metrics count answerable questions only, abstention
recall unanswerable ones only; a rate over no questions is None ("not measured"), never 0.
"""
from __future__ import annotations

import json
import math
import re
import string
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answer import Answer, Found, Quote

if TYPE_CHECKING:
    from eval.runner import Outcome

_STRAIGHT = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


# --- one answer ------------------------------------------------------------------------------------------

def fold(text: str) -> str:
    """Case-folded, curly quotes made straight, runs of whitespace (any Unicode space) made one space."""
    return " ".join(text.translate(_STRAIGHT).casefold().split())


def contains(text: str, answers: Iterable[str]) -> bool:
    """Whether `text` contains one of `answers`, both folded. Blank answers never match."""
    folded = fold(text)
    return any(g and g in folded for g in map(fold, answers))


def normalize_answer(text: str) -> str:
    """SQuAD's official normalisation: lower case, ASCII punctuation and articles dropped, spaces collapsed."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer (SQuAD EM), else 0.0."""
    return max((float(normalize_answer(prediction) == normalize_answer(a)) for a in answers), default=0.0)


def f1(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD token F1 of the prediction against the best-matching gold answer."""
    return max((_token_f1(prediction, a) for a in answers), default=0.0)


def _token_f1(prediction: str, gold: str) -> float:
    predicted, wanted = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not wanted:
        return float(predicted == wanted)  # as SQuAD v2.0: two empty answers agree
    same = sum((Counter(predicted) & Counter(wanted)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(wanted)
    return 2 * precision * recall / (precision + recall)


def abstained_at(answer: Answer, threshold: float = 0.0) -> bool:
    """Whether the answer counts as an abstention when answers under `threshold` confidence are withheld."""
    return answer.abstained or answer.confidence < threshold


def hit(answer: Answer, answers: Sequence[str], k: int | None = 1) -> bool:
    """Whether one of the first `k` quotes (all shown quotes when k is None) contains a gold answer."""
    return any(contains(q.text, answers) for q in answer.quotes[:k])


def answer_rank(answer: Answer, answers: Sequence[str]) -> int | None:
    """1-based rank of the first retrieved passage that contains a gold answer; None when none does."""
    return next((rank for rank, p in enumerate(answer.passages, start=1) if contains(p.text, answers)), None)


def not_verbatim(answer: Answer, text_of: Callable[[str], str]) -> list[Quote | Found]:
    """The quotes and passages whose text is not `text_of(doc_id)[start:end]`; the contract wants none."""
    return [s for s in (*answer.quotes, *answer.passages) if text_of(s.doc_id)[s.start:s.end] != s.text]


# --- many answers ----------------------------------------------------------------------------------------

def rate(flags: Iterable[bool]) -> float | None:
    """Share of true flags; None for no flags."""
    values = list(flags)
    return sum(values) / len(values) if values else None


def answerable(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.item.answerable]


def hit_rate(outcomes: Sequence[Outcome], k: int | None = 1, threshold: float = 0.0) -> float | None:
    """hit@k over answerable questions: not abstained (at `threshold`) and a first-k quote contains an answer."""
    return rate(not abstained_at(o.answer, threshold) and hit(o.answer, o.item.answers, k) for o in answerable(outcomes))


def em_f1(outcomes: Sequence[Outcome]) -> tuple[float | None, float | None]:
    """Mean SQuAD EM and F1 of the first quote over answerable questions; an abstention scores 0."""
    scored = answerable(outcomes)
    if not scored:
        return None, None
    best = [o.answer.quotes[0].text if o.answer.quotes else "" for o in scored]
    em = sum(exact_match(b, o.item.answers) for b, o in zip(best, scored)) / len(scored)
    return em, sum(f1(b, o.item.answers) for b, o in zip(best, scored)) / len(scored)


def recall_at(outcomes: Sequence[Outcome], k: int) -> float | None:
    """Retrieval recall@k: share of answerable questions with an answer-holding passage in the first k."""
    ranks = [answer_rank(o.answer, o.item.answers) for o in answerable(outcomes)]
    return rate(r is not None and r <= k for r in ranks)


def mrr(outcomes: Sequence[Outcome]) -> float | None:
    """Mean reciprocal rank of the first answer-holding passage over answerable questions (0 when none)."""
    ranks = [answer_rank(o.answer, o.item.answers) for o in answerable(outcomes)]
    return sum(1 / r for r in ranks if r) / len(ranks) if ranks else None


def abstention_recall(outcomes: Sequence[Outcome], threshold: float = 0.0) -> float | None:
    """Share of unanswerable questions that abstained (at `threshold`)."""
    return rate(abstained_at(o.answer, threshold) for o in outcomes if not o.item.answerable)


def false_abstention_rate(outcomes: Sequence[Outcome], threshold: float = 0.0) -> float | None:
    """Share of answerable questions that abstained (at `threshold`)."""
    return rate(abstained_at(o.answer, threshold) for o in answerable(outcomes))


def verbatim_share(outcomes: Sequence[Outcome]) -> float | None:
    """Share of checked quotes and passages that are verbatim at their offsets (the contract wants 1.0)."""
    checked = sum(o.spans for o in outcomes)
    return 1 - sum(o.not_verbatim for o in outcomes) / checked if checked else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), interpolating linearly between ranks as numpy's default does."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- the abstention trade-off ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Point:
    """The metrics an eval would have scored had answers under `threshold` confidence been withheld."""

    threshold: float
    abstention_recall: float | None
    false_abstention_rate: float | None
    hit_at_1: float | None


def tradeoff(outcomes: Sequence[Outcome]) -> list[Point]:
    """Points at threshold 0 and at every distinct confidence of a non-abstained answer, ascending.

    Uses the confidences already returned; nothing is asked again. Equals calling abstention_recall,
    false_abstention_rate and hit_rate at each threshold, in O(n log n).
    """
    unanswerable = [o.answer for o in outcomes if not o.item.answerable]
    scored = answerable(outcomes)
    # confidences of the answers that a rising threshold can still turn into abstentions, sorted for bisect
    open_unanswerable = sorted(a.confidence for a in unanswerable if not a.abstained)
    open_answerable = sorted(o.answer.confidence for o in scored if not o.answer.abstained)
    hits = sorted(o.answer.confidence for o in scored if not o.answer.abstained and hit(o.answer, o.item.answers))
    closed_unanswerable = len(unanswerable) - len(open_unanswerable)
    closed_answerable = len(scored) - len(open_answerable)

    def share(count: int, total: int) -> float | None:
        return count / total if total else None

    return [
        Point(
            threshold=t,
            abstention_recall=share(closed_unanswerable + bisect_left(open_unanswerable, t), len(unanswerable)),
            false_abstention_rate=share(closed_answerable + bisect_left(open_answerable, t), len(scored)),
            hit_at_1=share(len(hits) - bisect_left(hits, t), len(scored)),
        )
        for t in sorted({0.0, *open_unanswerable, *open_answerable})
    ]


def pick_threshold(curve: Sequence[Point], min_recall: float, max_false: float) -> Point | None:
    """The lowest-threshold point with abstention recall >= min_recall and false-abstention <= max_false.

    None when no point qualifies (or abstention recall is not measured: no unanswerable questions).
    """
    for point in sorted(curve, key=lambda p: p.threshold):
        if point.abstention_recall is not None and point.abstention_recall >= min_recall:
            # both rates only rise with the threshold: if the first point with enough recall abstains too
            # often on answerable questions, every later one does as well
            if point.false_abstention_rate is None or point.false_abstention_rate <= max_false:
                return point
            return None
    return None


# --- everything for one run ------------------------------------------------------------------------------

def summarize(outcomes: Sequence[Outcome], top_k: int, max_quotes: int, min_recall: float, max_false: float) -> dict[str, Any]:
    """All metrics of one run as a JSON-ready dict (k-curves keyed by str(k); latency in milliseconds)."""
    em, f1_ = em_f1(outcomes)
    latencies = [o.seconds * 1000 for o in outcomes]
    curve = tradeoff(outcomes)
    pick = pick_threshold(curve, min_recall, max_false)
    return {
        "questions": len(outcomes),
        "answerable": len(answerable(outcomes)),
        "unanswerable": len(outcomes) - len(answerable(outcomes)),
        "followups": sum(o.item.followup for o in outcomes),
        "hit_at_1": hit_rate(outcomes, 1),
        "hit_at_shown": hit_rate(outcomes, None),
        "em": em,
        "f1": f1_,
        "mrr": mrr(outcomes),
        "abstention_recall": abstention_recall(outcomes),
        "false_abstention_rate": false_abstention_rate(outcomes),
        "hit_at_1_first": hit_rate([o for o in outcomes if not o.item.followup], 1),
        "hit_at_1_followup": hit_rate([o for o in outcomes if o.item.followup], 1),
        "verbatim_share": verbatim_share(outcomes),
        "verbatim_failures": sum(o.not_verbatim for o in outcomes),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "hit_at_k": {str(k): hit_rate(outcomes, k) for k in range(1, max_quotes + 1)},
        "recall_at_k": {str(k): recall_at(outcomes, k) for k in range(1, top_k + 1)},
        "threshold_pick": {
            "min_abstention_recall": min_recall,
            "max_false_abstention_rate": max_false,
            "point": asdict(pick) if pick else None,
        },
        "tradeoff": [asdict(p) for p in curve],
    }


# --- the CI gate -----------------------------------------------------------------------------------------

GATEABLE = ("hit_at_1", "hit_at_shown", "em", "f1", "mrr", "abstention_recall", "false_abstention_rate",
            "hit_at_1_first", "hit_at_1_followup", "verbatim_share", "verbatim_failures",
            "latency_p50_ms", "latency_p95_ms")


def load_floors(path: Path) -> dict[str, dict[str, float]]:
    """`{"floors": {metric: min}, "ceilings": {metric: max}}` from a JSON file, checked.

    Raises ValueError naming the problem when the file is missing, malformed or names an unknown metric.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file; give the floors file, e.g. --gate eval/floors.json") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg}, line {e.lineno})") from None
    if not isinstance(data, dict) or not set(data) & {"floors", "ceilings"}:
        raise ValueError(f"{path}: expected an object with 'floors' and/or 'ceilings'")
    limits: dict[str, dict[str, float]] = {}
    for kind in ("floors", "ceilings"):
        given = data.get(kind, {})
        if not isinstance(given, dict):
            raise ValueError(f"{path}: '{kind}' must be an object of metric: number")
        for name, value in given.items():
            if name not in GATEABLE:
                raise ValueError(f"{path}: {kind} names unknown metric {name!r}; use one of {', '.join(GATEABLE)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{path}: {kind}.{name} must be a number, not {value!r}")
        limits[kind] = {name: float(value) for name, value in given.items()}
    return limits


def gate(summary: dict[str, Any], limits: dict[str, dict[str, float]]) -> list[str]:
    """One line per broken limit (empty: the gate passes). An unmeasured metric breaks its limit."""
    broken = []
    for kind, below in (("floors", True), ("ceilings", False)):
        for name, limit in limits.get(kind, {}).items():
            value = summary.get(name)
            if value is None:
                broken.append(f"{name} not measured (no questions of its kind) but has a {kind[:-1]} of {limit:g}")
            elif (value < limit) if below else (value > limit):
                word = "below its floor" if below else "above its ceiling"
                broken.append(f"{name} {value:.4g} is {word} {limit:g}")
    return broken
