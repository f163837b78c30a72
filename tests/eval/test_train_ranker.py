"""The ranker's fitting steps on made-up groups: the search, Platt calibration and the threshold pick."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.ranking import FEATURES, Ranker
from eval import train_ranker


def _ranker(**weights: float) -> Ranker:
    return Ranker(tuple(weights.get(name, 0.0) for name in FEATURES), 0.0)


def test_coordinate_search_gives_a_zero_weight_a_value_when_that_helps(monkeypatch):
    k = FEATURES.index("bm25")
    # A stand-in for the pipeline's hit@1: best when the bm25 weight is 0.5, and cos must stay positive.
    monkeypatch.setattr(train_ranker, "pipeline_hit",
                        lambda bot, items, r: 0.6 - abs(r.weights[k] - 0.5) - (0.3 if r.weights[0] <= 0 else 0.0))
    found = train_ranker.coordinate_search([(None, [])], _ranker(cos=1.0), rounds=1)
    assert found.weights[k] == pytest.approx(0.5)
    assert found.weights[0] == pytest.approx(1.0)   # scaling cos to 0 was tried and refused


def test_calibration_keeps_the_order_and_matches_how_often_the_top_sentence_is_right():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(400):
        x = np.zeros((3, len(FEATURES)), np.float32)
        x[:, 0] = rng.normal(size=3)
        right = rng.random() < 1 / (1 + np.exp(-2 * x[:, 0].max()))   # the top is right more often when it scores high
        labels = np.zeros(3, np.float32)
        labels[int(np.argmax(x[:, 0]))] = float(right)
        groups.append((x, labels))
    calibrated = train_ranker.calibrate(_ranker(cos=1.0), groups, [1.0] * len(groups))
    assert calibrated.weights[0] > 0 and all(w == 0 for w in calibrated.weights[1:])
    top = np.array([calibrated.probability(x).max() for x, _ in groups])
    right = np.array([labels.max() for _, labels in groups])
    assert abs(top.mean() - right.mean()) < 0.03
    high = top > np.median(top)
    assert right[high].mean() > right[~high].mean() + 0.1


def test_threshold_is_the_highest_that_keeps_false_abstention_within_the_limit():
    def group(score: float, answerable: bool):
        x = np.zeros((1, len(FEATURES)), np.float32)
        x[0, 0] = score
        return x, np.array([1.0 if answerable else 0.0], np.float32)

    answerable = [0.1, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
    off = [-1.0, -0.5, 0.0, 0.55]
    groups = [group(s, True) for s in answerable] + [group(s, False) for s in off]
    ranker = _ranker(cos=4.0)
    t, recall, false = train_ranker.threshold(ranker, groups, [True] * 10 + [False] * 4, max_false=0.10)
    assert false <= 0.10
    assert t == pytest.approx(float(ranker.probability(groups[1][0])[0]))   # one answerable (10%) may fall below
    assert recall == pytest.approx(0.75)   # 0.55 scores above the second answerable question: not abstained on
