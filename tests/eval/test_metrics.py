"""Metric functions against hand-computed values, on small hand-made answers (pure logic: no model)."""
from __future__ import annotations

import json

import pytest

from assistant.answer import Answer, Found, Quote
from eval import metrics
from eval.datasets import Item
from eval.runner import Outcome


def quote(text: str, start: int = 0, doc_id: str = "d") -> Quote:
    return Quote(doc_id=doc_id, start=start, end=start + len(text), text=text, score=0.5)


def found(text: str, start: int = 0, doc_id: str = "d") -> Found:
    return Found(doc_id=doc_id, start=start, end=start + len(text), text=text, score=0.5)


def answer(quotes: tuple[str, ...] = (), passages: tuple[str, ...] = (), confidence: float = 0.9) -> Answer:
    return Answer("q?", tuple(quote(t) for t in quotes), tuple(found(t) for t in passages), confidence)


def outcome(answers: tuple[str, ...], ans: Answer, history: tuple[str, ...] = (), seconds: float = 0.0) -> Outcome:
    return Outcome(Item("id", "q?", answers, history), ans, seconds)


# --- folding and containment ---

def test_fold_case_whitespace_and_curly_quotes():
    assert metrics.fold("  SoFi’s\n\t “Super  Cycle”\u00a0Tech ") == "sofi's \"super cycle\" tech"


def test_contains_after_folding_and_never_for_blank_answers():
    assert metrics.contains("SoFi’s CEO,\nAnthony  Noto, said", ["sofi's ceo, anthony noto"])
    assert not metrics.contains("SoFi's CEO", ["Anthony Noto"])
    assert not metrics.contains("anything", ["", "  "])
    assert metrics.contains("anything", ["", "thing"])


# --- SQuAD EM / F1 ---

def test_normalize_answer_drops_articles_punctuation_and_case():
    assert metrics.normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert metrics.normalize_answer("an apple, a pear") == "apple pear"
    assert metrics.normalize_answer("theatre") == "theatre"  # articles only as whole words


def test_exact_match_takes_the_best_gold():
    assert metrics.exact_match("the Denver Broncos.", ["Carolina Panthers", "Denver Broncos"]) == 1.0
    assert metrics.exact_match("Denver", ["Denver Broncos"]) == 0.0
    assert metrics.exact_match("", []) == 0.0


def test_f1_by_hand():
    # prediction tokens: denver broncos won (3); gold: denver broncos (2); common 2 → P 2/3, R 1, F1 0.8
    assert metrics.f1("The Denver Broncos won", ["Denver Broncos"]) == pytest.approx(0.8)
    # best of two golds: "broncos" → P 1/3 R 1 → 0.5; "panthers" → 0
    assert metrics.f1("Denver Broncos won", ["Panthers", "Broncos"]) == pytest.approx(0.5)
    assert metrics.f1("nothing shared", ["Broncos"]) == 0.0
    assert metrics.f1("", ["Broncos"]) == 0.0
    # repeated tokens count only as often as they occur in both: common {la: 1, land: 1} → P 2/3, R 1 → 0.8
    assert metrics.f1("la la land", ["la land"]) == pytest.approx(0.8)


# --- one answer ---

def test_hit_at_1_and_hit_at_shown():
    ans = answer(("Denver won.", "The Broncos won the game."))
    assert not metrics.hit(ans, ["Broncos"], 1)
    assert metrics.hit(ans, ["Broncos"], 2)
    assert metrics.hit(ans, ["Broncos"], None)
    assert not metrics.hit(answer(), ["Broncos"], None)


def test_answer_rank_is_first_passage_holding_a_gold_answer():
    ans = answer(passages=("no", "nope", "Denver  BRONCOS", "Broncos again"))
    assert metrics.answer_rank(ans, ["denver broncos", "Broncos"]) == 3
    assert metrics.answer_rank(ans, ["Panthers"]) is None


def test_abstained_at_threshold():
    assert metrics.abstained_at(answer(), 0.0)
    assert not metrics.abstained_at(answer(("x",), confidence=0.4), 0.4)
    assert metrics.abstained_at(answer(("x",), confidence=0.4), 0.41)


def test_not_verbatim_finds_spans_off_their_offsets():
    doc = "Alpha beta. Gamma delta."
    good = Quote("d", 6, 11, "beta.", 1.0)
    bad = Quote("d", 0, 5, "Gamma", 1.0)
    unknown = Found("other", 0, 5, "Alpha", 1.0)
    texts = {"d": doc, "other": ""}
    ans = Answer("q", (good, bad), (Found("d", 0, len(doc), doc, 1.0), unknown), 0.9)
    assert metrics.not_verbatim(ans, texts.__getitem__) == [bad, unknown]


# --- aggregates over a hand-made run ---

@pytest.fixture
def run() -> list[Outcome]:
    """6 questions: 4 answerable (1 a follow-up), 2 unanswerable; hand-computed values in each test."""
    return [
        # answerable, hit@1, answer in passage 1
        outcome(("Broncos",), answer(("Broncos won.",), ("Broncos won. More.", "x"), 0.9), seconds=0.010),
        # answerable, hit only in second quote, answer in passage 2
        outcome(("Panthers",), answer(("Denver won.", "Panthers lost."), ("y", "Panthers lost."), 0.6), seconds=0.020),
        # answerable follow-up, abstained (false abstention), answer in passage 3
        outcome(("Levi's Stadium",), answer((), ("a", "b", "at Levi’s Stadium"), 0.1), ("Where?",), seconds=0.030),
        # answerable, wrong quote, answer nowhere
        outcome(("Santa Clara",), answer(("Denver won.",), ("z",), 0.3), seconds=0.040),
        # unanswerable, abstained (right)
        outcome((), answer((), ("p",), 0.2), seconds=0.050),
        # unanswerable, answered anyway (wrong) with confidence 0.5
        outcome((), answer(("Something.",), ("p",), 0.5), seconds=0.060),
    ]


def test_hit_rates_over_answerable_only(run):
    assert metrics.hit_rate(run, 1) == pytest.approx(1 / 4)
    assert metrics.hit_rate(run, None) == pytest.approx(2 / 4)
    assert metrics.hit_rate([o for o in run if o.item.followup], 1) == 0.0
    assert metrics.hit_rate([o for o in run if not o.item.followup], 1) == pytest.approx(1 / 3)
    assert metrics.hit_rate(run[4:], 1) is None  # no answerable questions: not measured


def test_em_f1_of_first_quote(run):
    # EM: none equal. F1: "Broncos won." vs Broncos → P 1/2, R 1 → 2/3; "Denver won." vs Panthers → 0;
    # abstained → 0; "Denver won." vs "Santa Clara" → 0. Mean F1 = (2/3)/4
    em, f1 = metrics.em_f1(run)
    assert em == 0.0
    assert f1 == pytest.approx((2 / 3) / 4)
    assert metrics.em_f1(run[4:]) == (None, None)


def test_recall_at_k_and_mrr(run):
    # ranks over answerable: 1, 2, 3, None
    assert [metrics.recall_at(run, k) for k in (1, 2, 3, 8)] == pytest.approx([1 / 4, 2 / 4, 3 / 4, 3 / 4])
    assert metrics.mrr(run) == pytest.approx((1 + 1 / 2 + 1 / 3 + 0) / 4)


def test_abstention_recall_and_false_abstention(run):
    assert metrics.abstention_recall(run) == pytest.approx(1 / 2)
    assert metrics.false_abstention_rate(run) == pytest.approx(1 / 4)
    # withholding answers under 0.55 also silences the unanswerable 0.5 and the answerable 0.3
    assert metrics.abstention_recall(run, 0.55) == 1.0
    assert metrics.false_abstention_rate(run, 0.55) == pytest.approx(2 / 4)
    assert metrics.abstention_recall(run[:4]) is None


def test_tradeoff_curve_by_hand(run):
    curve = metrics.tradeoff(run)
    # thresholds: 0 and the confidences of non-abstained answers: 0.3, 0.5, 0.6, 0.9
    assert [p.threshold for p in curve] == [0.0, 0.3, 0.5, 0.6, 0.9]
    assert [p.abstention_recall for p in curve] == pytest.approx([0.5, 0.5, 0.5, 1.0, 1.0])
    assert [p.false_abstention_rate for p in curve] == pytest.approx([0.25, 0.25, 0.5, 0.5, 0.75])
    assert [p.hit_at_1 for p in curve] == pytest.approx([0.25, 0.25, 0.25, 0.25, 0.25])


def test_tradeoff_equals_direct_computation_at_each_threshold(run):
    """The bisect sweep against the brute-force reference: each metric recomputed at each threshold."""
    for point in metrics.tradeoff(run):
        assert point.abstention_recall == metrics.abstention_recall(run, point.threshold)
        assert point.false_abstention_rate == metrics.false_abstention_rate(run, point.threshold)
        assert point.hit_at_1 == metrics.hit_rate(run, 1, point.threshold)


def test_pick_threshold(run):
    curve = metrics.tradeoff(run)
    assert metrics.pick_threshold(curve, 0.5, 0.3).threshold == 0.0
    assert metrics.pick_threshold(curve, 1.0, 0.5).threshold == 0.6
    assert metrics.pick_threshold(curve, 1.0, 0.3) is None     # full recall costs half the answerable ones
    assert metrics.pick_threshold(metrics.tradeoff(run[:4]), 0.5, 1.0) is None  # nothing to abstain on


def test_percentiles_interpolate_linearly():
    values = [10.0, 20.0, 30.0, 40.0]
    assert metrics.percentile(values, 50) == 25.0          # position 1.5
    assert metrics.percentile(values, 95) == pytest.approx(38.5)  # position 2.85
    assert metrics.percentile([7.0], 95) == 7.0
    assert metrics.percentile([], 50) is None


def test_verbatim_share():
    ok = Outcome(Item("a", "q", ("x",)), answer(("x",)), spans=4, not_verbatim=0)
    bad = Outcome(Item("b", "q", ("x",)), answer(("x",)), spans=4, not_verbatim=1)
    assert metrics.verbatim_share([ok, bad]) == pytest.approx(7 / 8)
    assert metrics.verbatim_share([]) is None


def test_summarize_is_json_ready_and_consistent(run):
    summary = metrics.summarize(run, top_k=3, max_quotes=2, min_recall=1.0, max_false=0.5)
    assert json.loads(json.dumps(summary)) == summary
    assert (summary["questions"], summary["answerable"], summary["unanswerable"], summary["followups"]) == (6, 4, 2, 1)
    assert summary["hit_at_k"] == pytest.approx({"1": 0.25, "2": 0.5})
    assert summary["recall_at_k"] == pytest.approx({"1": 0.25, "2": 0.5, "3": 0.75})
    assert summary["latency_p50_ms"] == pytest.approx(35.0)
    assert summary["threshold_pick"]["point"]["threshold"] == 0.6


# --- the gate ---

def test_gate_reports_each_broken_limit(run, tmp_path):
    summary = metrics.summarize(run, top_k=3, max_quotes=2, min_recall=0.8, max_false=0.2)
    path = tmp_path / "floors.json"
    path.write_text(json.dumps({"floors": {"hit_at_1": 0.5, "abstention_recall": 0.5},
                                "ceilings": {"false_abstention_rate": 0.2, "verbatim_failures": 0}}))
    broken = metrics.gate(summary, metrics.load_floors(path))
    assert broken == ["hit_at_1 0.25 is below its floor 0.5", "false_abstention_rate 0.25 is above its ceiling 0.2"]
    assert metrics.gate(summary, {"floors": {"hit_at_1": 0.25}}) == []


def test_gate_fails_an_unmeasured_metric(run):
    summary = metrics.summarize(run[:4], top_k=3, max_quotes=2, min_recall=0.8, max_false=0.2)
    assert metrics.gate(summary, {"floors": {"abstention_recall": 0.5}}) == [
        "abstention_recall not measured (no questions of its kind) but has a floor of 0.5"]


@pytest.mark.parametrize("content, message", [
    ('{"floors": {"hit@1": 0.5}}', "unknown metric 'hit@1'"),
    ('{"floors": {"hit_at_1": "high"}}', "must be a number"),
    ('{"limits": {}}', "'floors' and/or 'ceilings'"),
    ("{oops", "not valid JSON"),
])
def test_load_floors_refuses_bad_files(tmp_path, content, message):
    path = tmp_path / "floors.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        metrics.load_floors(path)


def test_repo_floors_file_loads():
    from pathlib import Path

    limits = metrics.load_floors(Path(__file__).parents[2] / "eval" / "floors.json")
    assert {"hit_at_1", "abstention_recall"} <= set(limits["floors"])
    assert {"false_abstention_rate", "verbatim_failures"} <= set(limits["ceilings"])


def test_the_runner_asks_a_chat_as_the_web_chat_does():
    """A follow-up whose previous question is an earlier item names the page that item's answer quoted."""
    from eval.runner import run

    class Bot:
        settings, abstain_below, seen = None, 0.2, []

        def ask(self, question, history=(), doc_ids=None, chat_document=None):
            self.seen.append((question, chat_document))
            quotes = () if question == "q2" else (Quote(f"page-{question}", 0, 1, "x", 0.9),)
            return Answer(question, quotes, (), 0.9)

        def document(self, doc_id):
            raise KeyError(doc_id)

    items = [Item("1", "q1", ("a",)), Item("2", "q2", ("a",), ("q1",)), Item("3", "q3", ("a",), ("q1", "q2")),
             Item("4", "q4", ("a",), ("q1",)), Item("5", "q5", ("a",), ("elsewhere",))]
    bot = Bot()
    run(bot, items, progress=False)
    assert bot.seen[1:] == [("q1", None), ("q2", "page-q1"), ("q3", None),   # q2's answer quoted nothing
                            ("q4", "page-q1"), ("q5", None)]                 # "elsewhere" was never asked
