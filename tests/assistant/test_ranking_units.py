"""Unit tests of pure ranking logic (no model): fusion, question analysis, features, the logistic ranker."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.answer import QuestionError
from assistant.question import check, kind_of, leans_on_history, plain, resolve
from assistant.ranking import FEATURES, Candidate, Ranker, features, points_back
from assistant.retrieval import fuse_convex, fuse_rrf, top_rows


def test_rrf_matches_hand_computed_values():
    fused = fuse_rrf([np.array([7, 3, 5]), np.array([3, 9])], rrf_k=60)
    assert fused[3] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[7] == pytest.approx(1 / 61)
    assert fused[9] == pytest.approx(1 / 62)
    assert max(fused, key=fused.get) == 3


def test_convex_scales_bm25_by_its_max():
    fused = fuse_convex({1: 0.8, 2: 0.4}, {2: 10.0, 3: 5.0}, weight=0.5)
    assert fused == pytest.approx({1: 0.4, 2: 0.7, 3: 0.25})


def test_top_rows_is_a_stable_argsort_of_positive_scores():
    assert top_rows(np.array([0.0, 3.0, 1.0, 3.0, 0.0]), 10).tolist() == [1, 3, 2]
    assert top_rows(np.zeros(4), 3).tolist() == []


@pytest.mark.parametrize("question, kind", [
    ("When was the notice issued?", "when"),
    ("What year did SoFi pause crypto?", "when"),
    ("How many members does SoFi have?", "number"),
    ("How much revenue did SoFi report?", "amount"),
    ("how much is child benefit for one kid?", "amount"),
    ("What rate applies to a company car?", "amount"),
    ("Who supervises it?", "who"),
    ("Which departments issued the notice?", "who"),
    ("Where may RMB stablecoins not be issued?", "where"),
    ("What is SoFi USD?", "other"),
])
def test_kind_of_question(question, kind):
    assert kind_of(question) == kind


def test_followups_fold_in_the_topic_back_to_a_standalone_question():
    assert leans_on_history("Who supervises it?")
    assert not leans_on_history("How is SoFi USD backed?")
    assert leans_on_history("What was the old one's document number?")
    assert leans_on_history("Mostly in which coin?") and leans_on_history("Who bears the losses then?")
    assert not leans_on_history("In which year did SoFi exit crypto?")
    q = resolve("Who supervises it?", ["How is SoFi USD backed?", "What does the notice say about RWA tokenization?"])
    assert q.text == "What does the notice say about RWA tokenization? Who supervises it?"
    assert q.kind == "who" and "rwa" in q.terms
    chain = resolve("And when?", ["What does the notice say about mining?", "Who controls it?"])
    assert chain.text == "What does the notice say about mining? Who controls it? And when?"
    assert resolve("How is SoFi USD backed?", ["Who supervises it?"]).text == "How is SoFi USD backed?"


@pytest.mark.parametrize("question, history, kind", [
    ("And for a couple?", ["how much universal credit would I get a month?"], "amount"),
    ("and the second one?", ["how much is child benefit for one kid?"], "amount"),
    ("What about in Scotland?", ["When does Child Benefit stop?"], "when"),
    ("Ok, and for the board?", ["Who approves it?", "How many days' notice?"], "number"),   # the latest that asked
    ("What does it cover?", ["How much is the allowance?"], "other"),   # a question of its own
    ("Who supervises it?", ["How much is it?"], "who"),
    ("And for a couple?", [], "other"),
])
def test_a_follow_up_that_is_no_question_asks_what_its_question_asked(question, history, kind):
    """"And for a couple?" after "how much...?" asks for an amount too: the rates table's rows, not "Universal
    Credit is paid once a month"."""
    assert resolve(question, history).kind == kind


@pytest.mark.parametrize("said, question", [
    ("Thanks! What about tax?", "What about tax?"),
    ("ok and the mobility part?", "and the mobility part?"),
    ("Great, thank you. How do I apply?", "How do I apply?"),
    ("Okay cool, who pays it?", "who pays it?"),
    ("Hi there, can I claim PIP?", "can I claim PIP?"),
    ("Ok thanks so much, and for a couple?", "and for a couple?"),
    ("How do I apply, please?", "How do I apply?"),
    # as they were: no courtesy, or one that is part of the question
    ("Right to buy: who qualifies?", "Right to buy: who qualifies?"),
    ("Great Britain has how many counties?", "Great Britain has how many counties?"),
    ("No. of employees?", "No. of employees?"),
    ("Which issues may members vote on as they please?", "Which issues may members vote on as they please?"),
    ("Thanks!", "Thanks!"),   # nothing else to ask
])
def test_plain_leaves_out_what_is_said_around_a_question(said, question):
    assert plain(said) == question


def test_a_courtesy_neither_makes_a_follow_up_nor_hides_one():
    history = ["How is SoFi USD backed?"]
    assert resolve("Hi there, who is SoFi's CEO?", history).text == "who is SoFi's CEO?"   # "there" is no pointer
    said = resolve("Ok, thanks. And who supervises it?", history)
    assert said.text == "How is SoFi USD backed? And who supervises it?" and said.kind == "who"
    assert said.question == "Ok, thanks. And who supervises it?"   # as asked, for the Answer JSON
    assert "thank" not in resolve("Great, thank you. How is SoFi USD backed?").terms


def test_a_courtesy_does_not_change_the_answer(bot):
    history = ["How is SoFi USD backed?"]
    plain_answer = bot.ask("Who supervises it?", history=history)
    polite = bot.ask("Ok, thanks! Who supervises it?", history=history)
    assert polite.question == "Ok, thanks! Who supervises it?"
    assert [q.text for q in polite.quotes] == [q.text for q in plain_answer.quotes]
    assert polite.confidence == pytest.approx(plain_answer.confidence)


@pytest.mark.parametrize("bad, says", [("", "empty"), ("   \n ", "empty"), ("?!?...", "punctuation"), ("x" * 10_000, "10,000 characters")])
def test_bad_questions_are_refused_with_the_fix(bad, says):
    with pytest.raises(QuestionError, match=says):
        check(bad, 2_000)


def _candidate(text: str, cos: float = 0.5, **kw) -> Candidate:
    from embeddings.lexical import terms

    t = frozenset(terms(text))
    base = dict(cos=cos, window_cos=cos, passage_cos=0.5, fused=0.5, passage_rank=0, bm25=0.5, terms=t, context_terms=t, text=text)
    base.update(kw)
    return Candidate(**base)


def test_features_see_answer_kind_coverage_and_question_form():
    cands = [_candidate("SoFi paused its crypto services in 2023 to secure a bank charter."),
             _candidate("When did SoFi pause crypto?")]
    x = features(cands, ("sofi", "paus", "crypto"), {"sofi": 1.0, "paus": 2.0, "crypto": 1.0}, "when")
    col = {name: i for i, name in enumerate(FEATURES)}
    assert x.shape == (2, len(FEATURES))
    assert x[0, col["kind_match"]] == 1 and x[0, col["kind_miss"]] == 0
    assert x[1, col["kind_match"]] == 0 and x[1, col["kind_miss"]] == 1
    assert x[1, col["is_question"]] == 1 and x[0, col["is_question"]] == 0
    assert x[0, col["cover"]] == pytest.approx(1.0)
    assert x[0, col["novel"]] > x[1, col["novel"]]


@pytest.mark.parametrize("sentence, holds", [
    ("Eldest or only child | £26.05", True),
    ("The charge is 1% of the Child Benefit for every £200 of income.", True),
    ("It raised over a million dollars.", True),
    ("Only one person can get Child Benefit for a child.", False),   # a count is no amount
    ("There are two rates.", False),
])
def test_an_amount_is_a_figure_a_currency_or_a_share_not_a_count(sentence, holds):
    """ "How much..." asks for an amount: "one person" does not hold one (it counted for "number", so the sentence
    naming Child Benefit beat the rates table for "how much is child benefit for one kid?")."""
    assert _holds(sentence, "amount") is holds


def _holds(sentence: str, kind: str) -> bool:
    """Whether the features say `sentence` holds what a question of `kind` asks for (and not that it misses it)."""
    x = features([_candidate(sentence)], ("pay",), {"pay": 1.0}, kind)
    col = {name: i for i, name in enumerate(FEATURES)}
    assert x[0, col["kind_match"]] + x[0, col["kind_miss"]] == 1
    return bool(x[0, col["kind_match"]])


@pytest.mark.parametrize("sentence, holds", [
    ("SoFi paused its crypto services in 2023.", True),
    ("It usually takes around 5 weeks to get your first payment.", True),   # "when" answered by how long it takes
    ("Report it within two working days.", True),
    ("You can claim as soon as you've registered the birth.", True),
    ("You can apply for Universal Credit online.", False),
    ("Five people sit on the board.", False),
])
def test_a_time_is_a_date_a_span_or_as_soon_as(sentence, holds):
    """ "When does the first payment land?" is answered by "around 5 weeks": before, only dates and time words
    counted, and "you may be able to get an advance on your first payment" beat it."""
    assert _holds(sentence, "when") is holds


@pytest.mark.parametrize("sentence, points", [
    ("This means a heightened level of regulatory oversight.", True),
    ("For payments, it means instant, low-cost settlements.", True),
    ("It is designed not only for regular payments.", True),
    ("Moreover, the notice repeals the old one.", True),
    ("Items listed here are prohibited.", False),
    ("Thereafter the rules apply.", False),
    ("The centerpiece of SoFi's strategy is SoFi USD.", False),
])
def test_points_back_spots_sentences_that_lean_on_the_one_before(sentence, points):
    assert points_back(sentence) is points


def test_ranker_weights_round_trip_and_refuse_wrong_length(tmp_path):
    ranker = Ranker(tuple(float(i) for i in range(len(FEATURES))), -1.0)
    ranker.save(tmp_path / "r.json", fitted_on="test")
    assert Ranker.load(tmp_path / "r.json") == ranker
    with pytest.raises(ValueError, match="weights"):
        Ranker((1.0,), 0.0)
    assert 0.0 < float(Ranker.load().probability(np.zeros((1, len(FEATURES))))[0]) < 1.0
