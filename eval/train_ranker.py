"""Calibrate the sentence ranker (assistant/ranker.json) on held-out questions: `python -m eval.train_ranker`.

Training questions are SQuAD v1.1 dev questions *outside* the eval sample (1,000, seed 0) and the corpus
dev set (eval/data/corpus_dev.jsonl); the gold set corpus_qa.jsonl and the sampled SQuAD questions that the
eval reports are never seen. A sentence is a positive when it contains a gold answer. The feature
weights set the ranking order; this fits the scale and offset (Platt scaling) that make the top sentence's
score a calibrated probability of answering, the `confidence` of the Answer JSON. Also prints the
abstention threshold the dev set supports.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant import Assistant
from assistant.ranking import FEATURES, Ranker
from embeddings.settings import Settings
from eval import squad
from eval.datasets import Item, load_jsonl, sample
from eval.metrics import contains

SQUAD = Path("../shared/benchmarks/squad/dev-v1.1.json")
DEV = Path("eval/data/corpus_dev.jsonl")


def collect(bot: Assistant, items: list[Item]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per question: (features of its candidate sentences, 1/0 labels); unanswerable questions give labels all 0."""
    groups = []
    for item in tqdm(items, desc="features", unit="q"):
        _, scored = bot.scored(item.question, item.history, item.docs or None)
        labels = np.array([contains(t, item.answers) for t in scored.texts], dtype=np.float32)
        quotable = scored.prob > 0
        groups.append((scored.x[quotable], labels[quotable]))
    return groups


def calibrate(ranker: Ranker, groups: list[tuple[np.ndarray, np.ndarray]], weights: list[float],
              steps: int = 4000, lr: float = 0.5) -> Ranker:
    """Platt scaling: a and c so that sigmoid(a * z + c) is the probability that a question's top-scored
    sentence answers it (z = the ranker's logit). The ranking order does not change, only its calibration."""
    z, y, w = [], [], []
    for (x, labels), weight in zip(groups, weights):
        if not len(labels):
            continue
        logits = x @ np.asarray(ranker.weights) + ranker.bias
        top = int(np.argmax(logits))
        z.append(logits[top])
        y.append(labels[top])
        w.append(weight)
    z, y, w = np.array(z), np.array(y), np.array(w) / np.sum(w)
    a, c = 1.0, 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(a * z + c)))
        g = (p - y) * w
        a -= lr * float(g @ z)
        c -= lr * float(g.sum())
    return Ranker(tuple(a * v for v in ranker.weights), a * ranker.bias + c)


def threshold(ranker: Ranker, groups: list[tuple[np.ndarray, np.ndarray]], answerable: list[bool],
              max_false: float = 0.10) -> tuple[float, float, float]:
    """(threshold, abstention recall, false-abstention rate): the highest threshold whose false-abstention
    rate on the answerable questions stays within `max_false`."""
    best = np.array([ranker.probability(g[0]).max() if len(g[1]) else 0.0 for g in groups])
    ok = np.array(answerable)
    candidates = sorted(set(best.tolist()))   # unrounded: a rounded-up value would put its own question below it
    pick = (0.0, 0.0, 0.0)
    for t in candidates:
        false = float((best[ok] < t).mean()) if ok.any() else 0.0
        if false > max_false:
            break
        pick = (t, float((best[~ok] < t).mean()) if (~ok).any() else 0.0, false)
    return pick


def pipeline_hit(bot: Assistant, items: list[Item], ranker: Ranker) -> float:
    """hit@1 of the whole answer pipeline (quotes joined as users see them) with `ranker`, never abstaining."""
    twin = bot.with_settings(bot.settings.replace(abstain_below=0.0, reader=False))
    twin.ranker = ranker
    hits = [bool(a.quotes) and contains(a.quotes[0].text, i.answers)
            for i in items if i.answerable for a in [twin.ask(i.question, i.history)]]
    return float(np.mean(hits)) if hits else 0.0


def coordinate_search(sets: list[tuple[Assistant, list[Item]]], ranker: Ranker, rounds: int = 2,
                      gain: float = 0.004) -> Ranker:
    """Scale one weight at a time (x0, x0.5, x1.5, x2; a zero weight tries -1, -0.5, 0.5, 1), keeping a change
    when the mean pipeline hit@1 over `sets` rises by more than `gain`; tuned on held-out questions only."""
    def score(r: Ranker) -> float:
        return float(np.mean([pipeline_hit(bot, items, r) for bot, items in sets]))

    best = score(ranker)
    for _ in range(rounds):
        for k, name in enumerate(FEATURES):
            for step in (0.0, 0.5, 1.5, 2.0) if ranker.weights[k] else (-1.0, -0.5, 0.5, 1.0):
                weights = list(ranker.weights)
                weights[k] = weights[k] * step if weights[k] else step
                trial = Ranker(tuple(weights), ranker.bias)
                value = score(trial)
                if value > best + gain:
                    best, ranker = value, trial
                    print(f"  {name} -> {weights[k]:.3f}: mean hit@1 {best:.3f}", flush=True)
    return ranker


def hit_at_1(ranker: Ranker, groups: list[tuple[np.ndarray, np.ndarray]]) -> float:
    answerable = [g for g in groups if len(g[1])]
    hits = [g[1][int(np.argmax(ranker.probability(g[0])))] for g in answerable]
    return float(np.mean(hits)) if hits else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=Path, default=SQUAD)
    ap.add_argument("--train", type=int, default=1500, help="SQuAD questions (outside the eval sample) to calibrate on")
    ap.add_argument("--dev-weight", type=float, default=5.0, help="weight of a corpus dev question against a SQuAD one")
    ap.add_argument("--cached", action="store_true", help="reuse the features of the last run")
    ap.add_argument("--search", type=int, default=0, metavar="N",
                    help="first tune the weights by coordinate search on the dev set and N SQuAD pool questions")
    ap.add_argument("--rounds", type=int, default=1, help="passes of the coordinate search over the features")
    ap.add_argument("--dry-run", action="store_true", help="report, but leave ranker.json as it is")
    args = ap.parse_args()
    base = Settings.from_env()
    cache = squad.default_cache(args.squad)
    dev_items = load_jsonl(DEV)
    saved = cache / "ranker_features.npy"
    if args.search or not args.cached:
        articles, items = squad.load(args.squad)
        held_out = {i.id for i in sample(items, 1000, 0)}
        pool = [i for i in items if i.id not in held_out]
        squad_bot = squad.open_assistant(articles, cache, base.replace(index_dir=cache / "index"))
        dev_bot = Assistant.open(base)
    if args.search:
        sets = [(dev_bot, dev_items), (squad_bot, random.Random(2).sample(pool, args.search))]
        coordinate_search(sets, Ranker.load(), rounds=args.rounds).save(fitted_on="coordinate search, not yet calibrated")
    if args.cached:
        if not saved.is_file():
            ap.error(f"no cached features at {saved}; run once without --cached")
        groups = list(np.load(saved, allow_pickle=True))
        if groups and groups[0][0].shape[1] != len(FEATURES):
            ap.error(f"the cached features have {groups[0][0].shape[1]} columns, the ranker now {len(FEATURES)}; "
                     "run once without --cached")
    else:
        train = random.Random(1).sample(pool, min(args.train, len(pool)))
        groups = collect(squad_bot, train) + collect(dev_bot, dev_items)
        np.save(saved, np.array(groups, dtype=object), allow_pickle=True)
    squad_groups, dev_groups = groups[: -len(dev_items)], groups[-len(dev_items):]
    ranker = Ranker.load()
    print(f"top-sentence hit@1: SQuAD {hit_at_1(ranker, squad_groups):.3f}, corpus dev "
          f"{hit_at_1(ranker, [g for g, i in zip(dev_groups, dev_items) if i.answerable]):.3f}")
    # The corpus dev questions weigh more: they are the staff's kind of question, and hold the off-corpus ones.
    calibrated = calibrate(ranker, groups, [1.0] * len(squad_groups) + [args.dev_weight] * len(dev_groups))
    t, recall, false = threshold(calibrated, dev_groups, [i.answerable for i in dev_items])
    print(f"dev: abstain below {t:.3f} -> abstention recall {recall:.2f}, false abstention {false:.2f}")
    if not args.dry_run:
        dataclasses.replace(calibrated, abstain_below=float(np.floor(t * 1000) / 1000)).save(
            fitted_on=f"weights hand-set, then tuned by coordinate search (--search 400) on the corpus dev set and "
                      f"SQuAD v1.1 questions outside the eval sample (fitted logistic and listwise models ranked no "
                      f"better); scale and offset calibrated (Platt) on {len(squad_groups)} SQuAD v1.1 dev "
                      f"questions outside the eval sample (1000, seed 0) + {len(dev_groups)} corpus dev "
                      f"questions; python -m eval.train_ranker")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
