"""Calibrate the reader on development data: `python -m eval.calibrate_reader`.

Fits how the reader's logit and the ranker's logit combine (the mix that puts an answering sentence first most
often), scales the result so that the top sentence's score is a calibrated probability that it answers
(Platt), and picks the abstention threshold; writes them into assistant/reader/reader.json.

Development data only: the corpus dev set (eval/data/corpus_dev.jsonl), SQuAD v1.1 and v2.0 dev questions
*outside* the eval samples (1,000, seed 0), and the CUAD contracts of the "calibrate" part (`eval.cuad.part`:
the reader trains on others, and the "measure" part is kept to measure). The gold test set and the sampled SQuAD
questions are never seen.
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant import Assistant
from assistant.answerer import best_rows, quote_of, reader_logits
from assistant.reader import READER_DIR, Calibration, logit
from embeddings.settings import Settings
from eval import cuad, squad
from eval.datasets import Item, load_jsonl, sample
from eval.metrics import contains

SHARED = Path("../shared/benchmarks")
DEV = Path("eval/data/corpus_dev.jsonl")


@dataclass(frozen=True, slots=True)
class Group:
    """One question's candidates, the ranker's best first: reader logits, ranker logits, 1/0 labels."""

    reader: np.ndarray
    ranker: np.ndarray
    labels: np.ndarray
    answerable: bool

    def top(self, n: int) -> Group:
        """The group as `ask` reads it with reader_candidates = n."""
        return Group(self.reader[:n], self.ranker[:n], self.labels[:n], self.answerable)


def collect(bot: Assistant, items: list[Item], desc: str, pool: int) -> list[Group]:
    """The reader's and the ranker's logits of each question's `pool` best candidates by the ranker, each
    labelled by whether the quote it would give (with the neighbours `ask` joins to it) holds an answer."""
    groups = []
    for item in tqdm(items, desc=desc, unit="q", dynamic_ncols=True, mininterval=10):
        query, scored = bot.scored(item.question, item.history, item.docs or None)
        order = best_rows(scored, pool)
        texts = [scored.texts[i] for i in order]
        shown = [quote_of(bot.index, scored, int(i)).text for i in order]   # labelled as the eval counts a hit
        groups.append(Group(reader_logits(bot.reader, query, texts), logit(scored.prob[order]),
                            np.array([contains(t, item.answers) for t in shown], dtype=np.float64), item.answerable))
    return groups


def _logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, steps: int = 3000, lr: float = 0.5) -> np.ndarray:
    """Weights (last one the bias) of a weighted logistic regression, by gradient descent on standardised x."""
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    xs = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = w / w.sum()
    beta = np.zeros(xs.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(xs @ beta, -30, 30)))
        beta -= lr * xs.T @ ((p - y) * w)
    coef = beta[:-1] / sd
    return np.append(coef, beta[-1] - float(coef @ mu))


def top1(alpha: float, sets: dict[str, list[Group]]) -> float:
    """Mean over the sets of the share of answerable questions whose best candidate under
    alpha * reader logit + (1 - alpha) * ranker logit answers them."""
    means = []
    for groups in sets.values():
        hits = [float(g.labels[int(np.argmax(alpha * g.reader + (1 - alpha) * g.ranker))]) if len(g.labels) else 0.0
                for g in groups if g.answerable]
        means.append(np.mean(hits) if hits else 0.0)
    return float(np.mean(means))


def fit(sets: dict[str, list[Group]], alpha: float | None = None) -> Calibration:
    """The mix of the two logits that ranks best (alpha searched in steps of 0.05 for the highest mean top-1
    over the sets, unless given), then Platt scaling on each question's top candidate (each set weighing
    alike); the threshold is left at 0.5 (see `pick`). A ranking objective, not the candidates' log-loss:
    fitted that way the reader took too much weight and the corpus dev set lost 4 points."""
    if alpha is None:
        alpha = max(np.arange(0.0, 1.0001, 0.05), key=lambda a: (round(top1(float(a), sets), 6), -a))
    z, y, w = [], [], []
    for groups in sets.values():
        for g in groups:
            if len(g.labels):
                logit = alpha * g.reader + (1 - alpha) * g.ranker
                i = int(np.argmax(logit))
                z.append([logit[i]])
                y.append(g.labels[i])
                w.append(1.0 / len(groups))
    s, t = _logistic(np.array(z), np.array(y), np.array(w))
    return Calibration(float(s * alpha), float(s * (1 - alpha)), float(t))


def best_of(cal: Calibration, g: Group) -> tuple[float, float]:
    """(confidence, label) of the question's best candidate under `cal`; (0, 0) when it has none."""
    if not len(g.labels):
        return 0.0, 0.0
    p = cal.probability(g.reader, g.ranker)
    i = int(np.argmax(p))
    return float(p[i]), float(g.labels[i])


def rates(cal: Calibration, groups: list[Group], threshold: float) -> dict[str, float]:
    """hit@1 (answered and right), abstention recall and false-abstention rate at `threshold`."""
    ans = [best_of(cal, g) for g in groups if g.answerable]
    una = [best_of(cal, g) for g in groups if not g.answerable]
    return {
        "hit_at_1": float(np.mean([c >= threshold and y > 0 for c, y in ans])) if ans else float("nan"),
        "abstention_recall": float(np.mean([c < threshold for c, _ in una])) if una else float("nan"),
        "false_abstention": float(np.mean([c < threshold for c, _ in ans])) if ans else float("nan"),
    }


def pick(cal: Calibration, sets: dict[str, list[Group]], max_false: float) -> float:
    """The highest threshold whose false-abstention rate stays within `max_false` on *every* set: an average
    let the SQuAD sets (hardly ever wrongly abstained on) lend their slack to the corpus and the contracts,
    which then lost one answer in six."""
    best = 0.0
    for t in np.arange(0.01, 0.99, 0.005):
        if max(rates(cal, g, float(t))["false_abstention"] for g in sets.values()) > max_false:
            break
        best = round(float(t), 3)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.calibrate_reader", description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED, help="folder with squad/ and cuad/ (default: %(default)s)")
    ap.add_argument("--squad-questions", type=int, default=500, help="per SQuAD set, outside the eval sample")
    ap.add_argument("--max-false", type=float, default=0.10, help="false-abstention rate the threshold allows on each set")
    ap.add_argument("--pool", type=int, default=30, help="candidates collected per question, to compare reader_candidates")
    ap.add_argument("--cached", action="store_true", help="reuse the logits of the last run")
    ap.add_argument("--dry-run", action="store_true", help="report, but leave reader.json as it is")
    args = ap.parse_args(argv)
    base = Settings.from_env(reader=True)
    saved = Path(".verbatim-eval") / "reader_calibration.npy"
    if args.cached:
        sets = np.load(saved, allow_pickle=True).item()
    else:
        sets = {}
        for name in ("dev-v1.1", "dev-v2.0"):
            path = args.shared / "squad" / f"{name}.json"
            articles, items = squad.load(path)
            held_out = {i.id for i in sample(items, 1000, 0)}
            pool = [i for i in items if i.id not in held_out]
            cache = squad.default_cache(path)
            bot = squad.open_assistant(articles, cache, base.replace(index_dir=cache / "index"))
            sets[name] = collect(bot, random.Random(1).sample(pool, min(args.squad_questions, len(pool))), name, args.pool)
        calib = cuad.part(cuad.load(args.shared / "cuad"), "calibrate")
        bot, calib = cuad.open_assistant(args.shared / "cuad", calib, base.replace(index_dir=cuad.default_cache() / "index"))
        sets["cuad-calibrate"] = collect(bot, calib, "cuad (calibrate contracts)", args.pool)
        sets["corpus-dev"] = collect(Assistant.open(base), load_jsonl(DEV), "corpus dev", args.pool)
        saved.parent.mkdir(parents=True, exist_ok=True)
        np.save(saved, np.array(sets, dtype=object), allow_pickle=True)
    n = base.reader_candidates
    for label, alpha, k in [("ranker alone", 0.0, n), ("reader alone", 1.0, n), ("reader + ranker", None, n)] + [
            ("reader + ranker", None, k) for k in (4, 8, 12, 20, args.pool) if k != n]:
        chosen = {name: [g.top(k) for g in groups] for name, groups in sets.items()}
        cal = fit(chosen, alpha)
        t = pick(cal, chosen, args.max_false)
        print(f"{label} ({k} candidates): {cal}, threshold {t:.3f}")
        for set_name, groups in chosen.items():
            r0, rt = rates(cal, groups, 0.0), rates(cal, groups, t)
            print(f"  {set_name:12} hit@1 never abstaining {r0['hit_at_1']:.3f}; at {t:.3f}: hit@1 {rt['hit_at_1']:.3f}, "
                  f"abstention {rt['abstention_recall']:.3f}, false abstention {rt['false_abstention']:.3f}")
    sets = {name: [g.top(n) for g in groups] for name, groups in sets.items()}
    cal = fit(sets)
    cal = Calibration(cal.reader, cal.ranker, cal.bias, pick(cal, sets, args.max_false))
    if not args.dry_run:
        path = READER_DIR / "reader.json"
        about = json.loads(path.read_text(encoding="utf-8"))
        about["calibration"] = asdict(cal)
        about["calibrated_on"] = {k: len(v) for k, v in sets.items()} | {"max_false": args.max_false}
        path.write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
        print(f"wrote the calibration into {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
