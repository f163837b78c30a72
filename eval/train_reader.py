"""Train the reader (assistant/reader/) on SQuAD train and CUAD contracts: `python -m eval.train_reader`.

A cross-encoder initialised from the bundled all-MiniLM-L6-v2 learns whether a sentence answers a question. Per
SQuAD question: the positive is the sentence (split as the index splits) that holds the answer; the negatives are
the most word-sharing and one random other sentence of its paragraph, and the two most word-sharing sentences of
*other* paragraphs of the same article (topical neighbours that do not answer: the ranker's typical miss). With
`--mine-with` an earlier reader reads the most word-sharing sentences of both kinds and the three it rates highest
replace the two of other paragraphs: its own mistakes, to learn from, while its paragraph's sentences stay
(`--skip` picks questions it never saw). Sentences holding the answer text are never negatives. SQuAD's yes/no
questions ("Does England have its own Parliament?") are few, and staff ask many: `--yes-no N` adds those of the
questions not chosen, N times. SQuAD v1 has no question its paragraph leaves unanswered: `--unanswerable F` makes
some, as SQuAD v2 does by hand, by swapping a name or number of about F of the questions that their answering
sentence holds for another question's, a name their article lacks; that sentence is their negative. A share of the
questions (`--follow-ups`) is asked as the chat reads a follow-up: after another question on the same paragraph,
whose answering sentence is then one more negative (answer the latest question, not the earlier one).
Per CUAD question of the training contracts (odd rank by file name, `eval.cuad.part`; the others stay for
calibration and measuring): the sentences holding an answer piece are positives, the most word-sharing other
sentences of the contract are negatives; a question its contract does not answer gets negatives only.
Questions written against documents like the ones staff use (`--documents`, an eval dataset folder such as
eval/data/staff_wide: benefit pages, policies and contracts, asked the way staff type, a quarter of them not answered
by their document) pair in the same way (`document_pairs`). `--start-from` trains on from an earlier reader's ONNX
(`eval.onnx_weights`) instead of the bundled weights (tried with the staff wide set, not shipped: see the README).
Fixed seed; a progress bar with an ETA; a checkpoint every `--checkpoint-every` steps in `--work`, from which an
interrupted run resumes. The result is exported to ONNX, quantised to int8 when that keeps the held-out
accuracy within half a point, and written with its metadata to `--out`. Questions of SQuAD's dev sets are
never seen.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import random
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.sentences import split_sentences
from embeddings.settings import bundled_model_dir

SQUAD_TRAIN = Path("../shared/benchmarks/squad/train-v1.0.json")
CUAD_DEV = Path("../shared/benchmarks/cuad")
_WORD = re.compile(r"\w+")
_NAME = re.compile(r"\b(?:[A-Z][\w'’-]*|\d[\d,.]*\d|\d)(?:\s+(?:[A-Z][\w'’-]*|\d[\d,.]*\d|\d))*")   # Eiffel Tower, 1889
_YES_NO = re.compile(r"\s*(is|are|am|can|could|does|do|did|was|were|will|would|should|has|have|had|may|must)\b", re.I)


@dataclass(frozen=True, slots=True)
class Pair:
    question: str
    sentence: str
    label: float


@dataclass(frozen=True, slots=True)
class Example:
    """One training question: its positive sentence and its paragraph's and article's other sentences."""

    question: str
    answer: str
    positive: str
    paragraph: tuple[str, ...]   # the other sentences of its paragraph
    article: tuple[str, ...]     # sentences of the other paragraphs of its article
    where: int = 0               # its paragraph's number in the file


def load_examples(path: Path) -> list[Example]:
    """Questions of a SQuAD train file whose answer lies inside one sentence, in file order."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    out: list[Example] = []
    where = 0
    for article in data:
        paragraphs = []
        for p in article["paragraphs"]:
            text = p["context"]
            paragraphs.append((text, [text[a:b] for a, b in split_sentences(text)], split_sentences(text)))
        for i, (text, sents, spans) in enumerate(paragraphs):
            others = tuple(s for j, (_, ss, _) in enumerate(paragraphs) if j != i for s in ss)
            for qa in article["paragraphs"][i]["qas"]:
                gold = qa["answers"][0]
                start, answer = int(gold["answer_start"]), gold["text"]
                hit = [k for k, (a, b) in enumerate(spans) if a <= start and start + len(answer) <= b]
                if not hit or not answer.strip():
                    continue   # the answer runs across sentences: no single positive
                k = hit[0]
                out.append(Example(qa["question"], answer, sents[k], tuple(s for j, s in enumerate(sents) if j != k),
                                   tuple(s for s in others if answer not in s), where + i))
        where += len(paragraphs)
    return out


@functools.lru_cache(maxsize=1 << 20)
def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


class WordRank:
    """Sentences ordered by the idf-weighted words they share with a question (idf over `texts`)."""

    def __init__(self, texts: list[str]):
        df = Counter(w for t in texts for w in _words(t))
        self.n = max(len(texts), 1)
        self.idf = {w: math.log(self.n / c) for w, c in df.items()}

    def __call__(self, question: str, sentences: tuple[str, ...] | list[str]) -> list[str]:
        q, unseen = _words(question), math.log(self.n)
        scores = [sum(self.idf.get(w, unseen) for w in q & _words(s)) for s in sentences]
        return [sentences[i] for i in sorted(range(len(sentences)), key=lambda i: -scores[i])]


def candidates(e: Example, ranked: WordRank, inside: int = 3, outside: int = 5) -> list[str]:
    """The sentences most likely to be mistaken for e's answer by word overlap: `inside` of its paragraph and
    `outside` of the rest of its article, none holding the answer text."""
    near = ranked(e.question, [s for s in e.paragraph if e.answer not in s])[:inside]
    return near + [s for s in ranked(e.question, e.article)[:outside] if s not in near]


def mine(examples: list[Example], score, keep: int = 3) -> list[tuple[str, ...]]:
    """Per example, the `keep` candidates (see `candidates`) that `score(question, sentences)` rates highest:
    the mistakes an earlier reader makes, to learn from."""
    from tqdm import tqdm

    ranked = WordRank([e.positive for e in examples])
    out = []
    for e in tqdm(examples, desc="mining", unit="q", mininterval=5, dynamic_ncols=True):
        pool = candidates(e, ranked)
        logits = score(e.question, pool) if pool else []
        out.append(tuple(pool[i] for i in np.argsort(-np.asarray(logits), kind="stable")[:keep]))
    return out


def yes_no(question: str) -> bool:
    """Whether a question asks yes or no ("Can insurers cover ...?", "Does England have ...?")."""
    return bool(_YES_NO.match(question))


def unanswerable(examples: list[Example], share: float, seed: int) -> list[Pair]:
    """For about `share` of the examples, the question with a name or number that its answering sentence holds
    swapped for one from another question ("When was the Sydney Tower finished?"), paired as a negative with that
    sentence: a question the documents do not answer although a sentence looks as if it does (SQuAD v1 has none).
    The swapped-in name occurs nowhere in the question's article."""
    def spans(question: str) -> list[tuple[int, int, str]]:   # not the first word, capitalised as any is
        return [(m.start(), m.end(), m.group()) for m in _NAME.finditer(question) if m.start() > 0]

    rng = random.Random(seed)
    every = {t for e in examples for _, _, t in spans(e.question)}
    numbers, names = sorted(t for t in every if t[0].isdigit()), sorted(t for t in every if not t[0].isdigit())
    pairs = []
    for e in examples:
        mine = [(a, b, t) for a, b, t in spans(e.question) if t in e.positive]
        if not mine or rng.random() >= share:
            continue
        a, b, old = rng.choice(mine)
        text = " ".join((e.positive, *e.paragraph, *e.article))
        pool = numbers if old[0].isdigit() else names
        for _ in range(5):   # a few tries for a name the article lacks
            new = rng.choice(pool)
            if new not in text and old not in new:
                pairs.append(Pair(e.question[:a] + new + e.question[b:], e.positive, 0.0))
                break
    return pairs


def make_pairs(examples: list[Example], seed: int, follow_ups: float = 0.0,
               hard: list[tuple[str, ...]] | None = None) -> list[Pair]:
    """1 positive and up to 5 negatives per example (see the module docstring), shuffled with `seed`; with
    `hard` (from `mine`, one tuple per example), those mined sentences replace the two of other paragraphs."""
    rng = random.Random(seed)
    ranked = WordRank([e.positive for e in examples])
    by_paragraph: dict[int, list[Example]] = {}
    for e in examples:
        by_paragraph.setdefault(e.where, []).append(e)
    pairs: list[Pair] = []
    for n, e in enumerate(examples):
        question, extra = e.question, []
        earlier = [o for o in by_paragraph[e.where] if o.positive != e.positive and e.answer not in o.positive]
        if earlier and rng.random() < follow_ups:
            before = rng.choice(earlier)
            question, extra = f"{before.question} {e.question}", [before.positive]
        pairs.append(Pair(question, e.positive, 1.0))
        inside = [s for s in e.paragraph if e.answer not in s and s not in extra]
        near = ranked(e.question, inside)[:1]
        rest = [s for s in inside if s not in near]
        picked = extra + near + ([rng.choice(rest)] if rest else [])
        far = ranked(e.question, e.article)[:2] if hard is None else [s for s in hard[n] if s not in picked]
        negatives = picked + far
        pairs += [Pair(question, s, 0.0) for s in negatives]
    rng.shuffle(pairs)
    return pairs


def _answering(sentences: list[str], answers) -> tuple[list[str], list[str]]:
    """(the sentences holding an answer, the others that are no part of one either)."""
    from eval.metrics import contains, fold

    good = [s for s in sentences if answers and contains(s, answers)]
    pieces = [fold(a) for a in answers]
    return good, [s for s in sentences if s not in good and not any(fold(s) in a for a in pieces)]


def cuad_pairs(folder: Path, negatives: int = 5, max_positives: int = 3) -> list[Pair]:
    """Pairs from the CUAD questions of the training contracts (eval.cuad.part "train"), in file order."""
    from eval.cuad import load, part

    items = part(load(folder), "train")
    pairs: list[Pair] = []
    for doc in sorted({i.docs[0] for i in items}):
        text = (Path(folder) / "docs" / doc).read_text(encoding="utf-8")
        sentences = [text[a:b] for a, b in split_sentences(text) if b - a >= 20]
        ranked = WordRank(sentences)
        for item in (i for i in items if i.docs[0] == doc):
            good, bad = _answering(sentences, item.answers)
            pairs += [Pair(item.question, s, 1.0) for s in good[:max_positives]]
            pairs += [Pair(item.question, s, 0.0) for s in ranked(item.question, bad)[:negatives]]
    return pairs


def document_pairs(folder: Path, seed: int, score=None, negatives: int = 4, max_positives: int = 2) -> list[Pair]:
    """Pairs from questions written against documents like the ones staff use (an eval dataset folder, docs/ and
    qa*.jsonl, each question asked within one document, `docs`; eval/data/staff_wide): per question, the sentences
    holding an answer are positives and the most word-sharing other sentences of its document plus one random one
    negatives, as the
    reader reads them (`answerer.as_read`); with `score` (a reader's `logits`), the 3 of the 10 most word-sharing
    that it rates highest and the most word-sharing one: its own mistakes. A question its document does not answer
    has negatives only. A follow-up is asked as the chat resolves it and again as asked alone, as the answerer
    reads it twice."""
    from assistant.answerer import as_read
    from assistant.question import plain, resolve
    from embeddings.loaders import load

    rng = random.Random(seed)
    sentences: dict[str, list[str]] = {}
    ranks: dict[str, WordRank] = {}
    pairs: list[Pair] = []
    for qa in sorted((Path(folder)).glob("qa*.jsonl")):
        for line in qa.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            doc = Path(item["docs"][0]).name
            if doc not in sentences:
                text = load(Path(folder) / "docs" / doc).text
                sentences[doc] = [as_read(text[a:b].strip()) for a, b in split_sentences(text) if b - a >= 12]
                ranks[doc] = WordRank(sentences[doc])
            pool = sentences[doc]
            good, bad = _answering(pool, item["answers"])
            readings = [resolve(item["question"], item["history"]).text]
            if item["history"] and plain(item["question"]) != readings[0]:
                readings.append(plain(item["question"]))
            for question in readings:
                near = ranks[doc](question, bad)[:negatives if score is None else 10]
                if score is not None and near:
                    rated = np.argsort(-np.asarray(score(question, near)), kind="stable")
                    near = near[:1] + [near[i] for i in rated if i > 0][:negatives - 1]
                rest = [s for s in bad if s not in near]
                pairs += [Pair(question, s, 1.0) for s in good[:max_positives]]
                pairs += [Pair(question, s, 0.0) for s in near + ([rng.choice(rest)] if rest else [])]
    return pairs


def batches(pairs: list[Pair], size: int, seed: int) -> list[list[Pair]]:
    """Batches of `size`; within each run of 50 batches, pairs of similar length go together (less padding)."""
    out: list[list[Pair]] = []
    block = size * 50
    for b in range(0, len(pairs), block):
        chunk = sorted(pairs[b:b + block], key=lambda p: len(p.question) + len(p.sentence))
        out += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    random.Random(seed).shuffle(out)
    return out


def train(pairs: list[Pair], work: Path, steps: int, batch_size: int, lr: float, max_tokens: int, seed: int,
          checkpoint_every: int, threads: int, start_from: Path | None = None):
    """The fine-tuned torch model, from the bundled weights or the reader ONNX `start_from`; resumes from
    work/checkpoint.pt when present."""
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    base = bundled_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    if start_from is not None:
        from eval.onnx_weights import load_into

        load_into(model, start_from, keep=("bert.embeddings.word_embeddings.weight",))   # never trained: bundled
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)   # kept as bundled: smaller deltas, less overfit
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warmup = max(steps // 16, 1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(steps - warmup, 1))))
    step = 0
    ckpt = work / "checkpoint.pt"
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        if state["steps"] != steps or state["n_pairs"] != len(pairs):
            raise SystemExit(f"{ckpt} is from another run ({state['steps']} steps, {state['n_pairs']} pairs); "
                             f"delete {work} or pass the same settings")
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        step = state["step"]
        print(f"resuming at step {step} of {steps}")
    plan = batches(pairs, batch_size, seed)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    smooth = None
    bar = tqdm(total=steps, initial=step, unit="step", desc="reader", dynamic_ncols=True, mininterval=5)
    while step < steps:
        batch = plan[step % len(plan)]
        enc = tokenizer([p.question for p in batch], [p.sentence for p in batch], truncation="only_second",
                        max_length=max_tokens, padding=True, return_tensors="pt")
        logits = model(**enc).logits.squeeze(-1)
        loss = loss_fn(logits, torch.tensor([p.label for p in batch]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        sched.step()
        optim.zero_grad()
        step += 1
        value = loss.item()
        smooth = value if smooth is None else 0.98 * smooth + 0.02 * value
        bar.update(1)
        bar.set_postfix(loss=f"{smooth:.3f}")
        if step % checkpoint_every == 0 or step == steps:
            tmp = ckpt.with_suffix(".tmp")
            torch.save({"model": model.state_dict(), "optim": optim.state_dict(), "sched": sched.state_dict(),
                        "step": step, "steps": steps, "n_pairs": len(pairs)}, tmp)
            os.replace(tmp, ckpt)
    bar.close()
    model.eval()
    return model, tokenizer


def export(model, tokenizer, target: Path) -> None:
    """The classifier as ONNX: input_ids, attention_mask, token_type_ids → logits (b, 1)."""
    import torch

    sample = tokenizer(["who wrote it?"], ["It was written by someone."], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"logits": {0: "batch"}}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, tuple(sample[n] for n in names), str(target), input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=17, dynamo=False)


def held_out_accuracy(score, examples: list[Example]) -> float:
    """Share of examples whose positive outscores every other sentence of its paragraph."""
    hits = 0
    for e in examples:
        sentences = [e.positive, *[s for s in e.paragraph if e.answer not in s]]
        logits = score(e.question, sentences)
        hits += int(np.argmax(logits) == 0)
    return hits / max(len(examples), 1)


def mined(examples: list[Example], reader: Path, work: Path) -> list[tuple[str, ...]]:
    """`mine` with the reader at `reader`, kept in work/mined.json so that a resumed run mines once."""
    from assistant.reader import Reader

    cache = work / "mined.json"
    key = [str(reader), reader.stat().st_size, len(examples), examples[0].question if examples else ""]
    if cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved["key"] == key:
            return [tuple(h) for h in saved["hard"]]
    hard = mine(examples, Reader(reader).logits)
    cache.write_text(json.dumps({"key": key, "hard": hard}), encoding="utf-8")
    return hard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train_reader", description=__doc__.split("\n")[0])
    parser.add_argument("--squad", type=Path, default=SQUAD_TRAIN, help="SQuAD train JSON (default: %(default)s)")
    parser.add_argument("--cuad", type=Path, default=CUAD_DEV,
                        help="CUAD folder whose odd-rank contracts also train (default: %(default)s; 'none' for SQuAD only)")
    parser.add_argument("--cuad-repeat", type=int, default=3, help="times each CUAD pair is seen (default: %(default)s)")
    parser.add_argument("--follow-ups", type=float, default=0.2,
                        help="share of SQuAD questions asked after an earlier one (default: %(default)s)")
    parser.add_argument("--questions", type=int, default=20_000, help="SQuAD training questions (default: %(default)s)")
    parser.add_argument("--skip", type=int, default=0,
                        help="SQuAD questions passed over after the held-out ones (default: %(default)s)")
    parser.add_argument("--yes-no", type=int, default=0,
                        help="times the yes/no questions of the questions not chosen are added: SQuAD has few, "
                             "staff ask many (default: %(default)s; README \"The reader\" has what 2 measured)")
    parser.add_argument("--unanswerable", type=float, default=0.0,
                        help="share of questions also asked with a name swapped, as a negative for their sentence "
                             "(default: %(default)s)")
    parser.add_argument("--mine-with", type=Path, default=None,
                        help="a reader ONNX whose highest-rated wrong sentences replace the negatives of other paragraphs "
                             "(default: word overlap)")
    parser.add_argument("--documents", type=Path, default=None,
                        help="an eval dataset folder of questions each asked within one staff-like document (docs/ and "
                             "qa*.jsonl; eval/data/staff_wide) whose pairs also train (default: none)")
    parser.add_argument("--documents-repeat", type=int, default=2,
                        help="times each pair of --documents is seen (default: %(default)s)")
    parser.add_argument("--start-from", type=Path, default=None,
                        help="a reader ONNX (int8 or fp32) to train on from, instead of the bundled weights; it also "
                             "picks the --documents negatives it rates highest (default: none)")
    parser.add_argument("--held-out", type=int, default=1_000, help="questions kept out to measure (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--work", type=Path, default=Path(".verbatim-train"), help="checkpoints (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("assistant/reader"), help="where the model goes (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.squad.is_file():
        parser.error(f"{args.squad}: no such file; give SQuAD's train-v1.0.json with --squad")
    use_cuad = str(args.cuad) != "none"
    if use_cuad and not (args.cuad / "dev.jsonl").is_file():
        parser.error(f"{args.cuad}: no dev.jsonl there; give the CUAD folder with --cuad, or --cuad none")
    examples = load_examples(args.squad)
    random.Random(args.seed).shuffle(examples)
    first = args.held_out + args.skip
    held, chosen = examples[:args.held_out], examples[first:first + args.questions]
    rest = examples[args.held_out:first] + examples[first + args.questions:]
    asked = [e for e in rest if yes_no(e.question)] if args.yes_no else []
    chosen += asked
    contract = cuad_pairs(args.cuad) * args.cuad_repeat if use_cuad else []
    if args.documents is not None and not any(args.documents.glob("qa*.jsonl")):
        parser.error(f"{args.documents}: no qa*.jsonl there; give a folder like eval/data/staff_wide")
    if args.start_from is not None and not args.start_from.is_file():
        parser.error(f"{args.start_from}: no such reader ONNX")
    if args.documents:
        from assistant.reader import Reader

        score = Reader(args.start_from).logits if args.start_from else None
        written = document_pairs(args.documents, args.seed, score) * args.documents_repeat
    else:
        written = []
    args.work.mkdir(parents=True, exist_ok=True)
    hard = mined(chosen, args.mine_with, args.work) if args.mine_with else None
    pairs = make_pairs(chosen, args.seed, args.follow_ups, hard) + contract + written
    for k in range(1, args.yes_no if asked else 1):   # again, with other random negatives and follow-ups
        pairs += make_pairs(chosen[-len(asked):], args.seed + k, args.follow_ups, hard and hard[-len(asked):])
    made = unanswerable(chosen, args.unanswerable, args.seed)
    pairs += made
    random.Random(args.seed).shuffle(pairs)
    steps = math.ceil(len(pairs) * args.epochs / args.batch_size)
    print(f"{len(examples)} usable questions; training on {len(chosen)} ({len(asked)} yes/no added) "
          f"({len(pairs) - len(contract) - len(written)} pairs, {len(made)} made unanswerable), {len(contract)} CUAD "
          f"pairs and {len(written)} of written questions: {steps} steps of {args.batch_size}; measuring on "
          f"{len(held)} held out", flush=True)
    model, tokenizer = train(pairs, args.work, steps, args.batch_size, args.lr, args.max_tokens, args.seed,
                             args.checkpoint_every, args.threads, args.start_from)

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.reader import Reader

    fp32 = args.work / "reader-fp32.onnx"
    export(model, tokenizer, fp32)
    int8 = args.work / "reader-int8.onnx"
    # From an int8 start every weight lies on its tensor's int8 grid, and a fine-tune's updates are smaller than a
    # step of it: quantised per tensor again, the encoder came back as it was (weights changed by 0.03%, the
    # written questions' in-document accuracy 0.505 before and after, 0.728 in fp32). Per output channel the grid
    # is finer and other: 0.708.
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=args.start_from is not None)

    def torch_score(question: str, sentences: list[str]) -> np.ndarray:
        with torch.no_grad():
            enc = tokenizer([question] * len(sentences), sentences, truncation="only_second",
                            max_length=args.max_tokens, padding=True, return_tensors="pt")
            return model(**enc).logits.squeeze(-1).numpy()

    measured = {"torch": held_out_accuracy(torch_score, held)}
    for name, path in (("fp32", fp32), ("int8", int8)):
        measured[name] = held_out_accuracy(Reader(path, args.max_tokens).logits, held)
    pick = "int8" if measured["int8"] >= measured["fp32"] - 0.005 else "fp32"
    print("held-out in-paragraph accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in measured.items()) + f"; keeping {pick}")
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fp32 if pick == "fp32" else int8, args.out / "reader.onnx")
    about = {
        "format": 1, "base": "all-MiniLM-L6-v2", "max_tokens": args.max_tokens, "weights": pick,
        "trained_on": f"SQuAD train-v1.0 (CC BY-SA 4.0): {len(chosen)} questions, "
                      f"{len(pairs) - len(contract) - len(written)} pairs"
                      + (f"; CUAD v1 (CC BY 4.0), odd-rank dev contracts: {len(contract)} pairs" if contract else "")
                      + (f"; questions written against staff-like documents ({args.documents}): {len(written)} pairs"
                         if written else "")
                      + (f"; trained on from {args.start_from}" if args.start_from else ""),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                     if k not in ("work", "out", "squad", "cuad", "start_from")},
        "held_out_accuracy": measured,
    }
    (args.out / "reader.json").write_text(json.dumps(about, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'reader.onnx'} ({(args.out / 'reader.onnx').stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
