"""The staff wide set (eval/data/staff_wide): an eval dataset the eval reads, each answer inside one sentence of the
document its question is asked within, as the product loads it, and nothing shared with the other gold sets."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from embeddings.loaders import load
from embeddings.sentences import split_sentences
from eval.datasets import load_jsonl
from eval.metrics import contains

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "eval" / "data"
WIDE = DATA / "staff_wide"


def test_the_eval_reads_it_with_enough_of_each_kind():
    items = load_jsonl(WIDE / "qa.jsonl")
    assert not [k for k, n in Counter(i.id for i in items).items() if n > 1]
    assert all(len(i.docs) == 1 and (ROOT / i.docs[0]).is_file() for i in items)   # as indexed from the repo root
    unanswered = sum(not i.answerable for i in items)
    follow_ups = sum(bool(i.history) for i in items)
    assert len(items) >= 800 and 0.15 <= unanswered / len(items) <= 0.35 and follow_ups / len(items) >= 0.3
    assert len({i.docs[0] for i in items}) == len(list((WIDE / "docs").iterdir())) >= 20


def test_every_answer_lies_inside_one_sentence_of_its_document():
    texts: dict[str, str] = {}
    missing = []
    for item in load_jsonl(WIDE / "qa.jsonl"):
        if not item.answerable:
            continue
        text = texts.setdefault(item.docs[0], load(ROOT / item.docs[0]).text)
        if not any(contains(text[a:b], item.answers) for a, b in split_sentences(text)):
            missing.append(item.id)
    assert not missing


def test_no_document_or_question_is_shared_with_the_other_gold_sets():
    wide = {p.name for p in (WIDE / "docs").iterdir()}
    for name in ("staff_dev", "staff_check"):
        assert not wide & {p.name for p in (DATA / name / "docs").iterdir()}
    asked = {i.question.lower() for i in load_jsonl(WIDE / "qa.jsonl")}
    for path in (DATA / "staff_dev" / "qa.jsonl", DATA / "staff_check" / "qa.jsonl", DATA / "corpus_qa.jsonl",
                 DATA / "corpus_dev.jsonl"):
        assert not asked & {json.loads(line)["question"].lower()
                            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}, path
