"""The reader's calibration steps on made-up groups: the mix of the two logits and the threshold pick."""
from __future__ import annotations

import numpy as np
import pytest

from assistant.reader import Calibration
from eval.calibrate_reader import Group, fit, pick, rates


def _group(reader: list[float], ranker: list[float], right: int | None) -> Group:
    labels = np.zeros(len(reader))
    if right is not None:
        labels[right] = 1.0
    return Group(np.array(reader), np.array(ranker), labels, right is not None)


def test_the_mix_follows_the_logit_that_ranks_the_answer_first():
    # the reader puts the answer first every time, the ranker never: the mix must take in the reader
    groups = [_group([2.0, 0.0, -1.0], [0.0, 1.0, 0.5], 0) for _ in range(20)]
    cal = fit({"a": groups})
    assert cal.reader > 0
    assert rates(cal, groups, 0.0)["hit_at_1"] == 1.0
    # ... and where the ranker is the one that is right, the least reader that ranks as well: none
    swapped = [_group([0.0, 1.0, 0.5], [2.0, 0.0, -1.0], 0) for _ in range(20)]
    assert fit({"a": swapped}).reader == 0.0


def test_the_threshold_keeps_every_set_within_the_false_abstention_limit():
    cal = Calibration(reader=1.0, ranker=0.0, bias=0.0)
    # set "easy": answerable questions score high; set "hard": a fifth of them score low
    easy = [_group([3.0], [0.0], 0) for _ in range(10)] + [_group([-3.0], [0.0], None) for _ in range(10)]
    hard = ([_group([s], [0.0], 0) for s in (-1.0, -0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0, 3.0, 3.0)]
            + [_group([-2.0], [0.0], None) for _ in range(10)])
    t = pick(cal, {"easy": easy, "hard": hard}, max_false=0.10)
    assert rates(cal, hard, t)["false_abstention"] <= 0.10   # an average over the sets would allow 0.2 here
    assert rates(cal, easy, t)["abstention_recall"] == 1.0
    assert rates(cal, hard, t)["abstention_recall"] == 1.0
    assert t == pytest.approx(0.375, abs=0.01)   # the highest step under sigmoid(-0.5): one of ten may fall below
