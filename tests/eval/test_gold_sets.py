"""The two gold sets over the bundled corpus: well-formed, answers quotable verbatim, enough of each kind.

Checks the files against the corpus text only; whether the assistant answers them well is the eval's job.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus" / "000_14d5362b27054530.txt"
TEST_SET = ROOT / "eval" / "data" / "corpus_qa.jsonl"
DEV_SET = ROOT / "eval" / "data" / "corpus_dev.jsonl"
FILES = {"test": TEST_SET, "dev": DEV_SET}

# id prefix -> kind; the prefixes also keep the held-out test set apart from the dev set
KINDS = {
    "test": {"q": "answerable", "u": "off-corpus", "f": "follow-up"},
    "dev": {"d": "answerable", "du": "off-corpus", "df": "follow-up"},
}
MINIMUMS = {  # (total, off-corpus, follow-ups)
    "test": (80, 15, 10),
    "dev": (40, 8, 5),
}
KEYS = {"id", "question", "answers", "history"}
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+[\"'(\[]?[A-Z]")   # a full stop then a capital: two sentences


def fold(text: str) -> str:
    """Lower-cased, curly quotes made straight, runs of white space collapsed to one space."""
    return " ".join(text.lower().translate(_QUOTES).split())


def load(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            row = json.loads(line)
            assert isinstance(row, dict), f"{path.name}:{number}: not a JSON object"
            rows.append(row)
    return rows


def kind(name: str, row: dict) -> str:
    prefix = re.fullmatch(r"([a-z]+)\d+", row["id"])
    assert prefix and prefix.group(1) in KINDS[name], (
        f"{name} id {row['id']!r}: use one of the prefixes {sorted(KINDS[name])} followed by a number"
    )
    return KINDS[name][prefix.group(1)]


def body_text(text: str) -> str:
    """The folded text without the lines that stand alone and read like a heading or headline: the
    indexer cuts those out, so no quote can contain them."""
    lines = text.splitlines()
    kept = []
    for i, line in enumerate(lines):
        alone = (i == 0 or not lines[i - 1].strip()) and (i + 1 == len(lines) or not lines[i + 1].strip())
        stripped = line.strip()
        heading = alone and bool(stripped) and len(stripped.split()) <= 20 and stripped[-1] not in ".,;:!\"'”’)"
        kept.append("" if heading else line)
    return fold("\n".join(kept))


@pytest.fixture(scope="module")
def corpus() -> str:
    return CORPUS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sets() -> dict[str, list[dict]]:
    return {name: load(path) for name, path in FILES.items()}


def test_fold_straightens_quotes_and_collapses_space():
    assert fold("SoFi\u2019s  \u201csuper cycle\n technologies\u201d") == "sofi's \"super cycle technologies\""


@pytest.mark.parametrize("name", FILES)
def test_rows_have_the_dataset_shape(sets, name):
    for row in sets[name]:
        where = f"{name} {row.get('id')!r}"
        assert {"id", "question", "answers"} <= set(row) <= KEYS, f"{where}: keys {sorted(row)}; use {sorted(KEYS)}"
        assert isinstance(row["id"], str) and isinstance(row["question"], str) and row["question"].strip(), where
        assert isinstance(row["answers"], list), f"{where}: answers must be a list"
        assert all(isinstance(a, str) and a.strip() for a in row["answers"]), f"{where}: empty answer string"
        assert len(set(map(fold, row["answers"]))) == len(row["answers"]), f"{where}: repeated answer"
        if "history" in row:
            history = row["history"]
            assert isinstance(history, list) and all(isinstance(h, str) and h.strip() for h in history), where


@pytest.mark.parametrize("name", FILES)
def test_ids_match_their_kind(sets, name):
    for row in sets[name]:
        where = f"{name} {row['id']!r}"
        match kind(name, row):
            case "answerable":
                assert row["answers"] and "history" not in row, f"{where}: an answerable question needs answers, no history"
            case "off-corpus":
                assert not row["answers"] and "history" not in row, f"{where}: an off-corpus question has answers []"
            case "follow-up":
                assert 1 <= len(row.get("history", [])) <= 2, f"{where}: a follow-up needs 1-2 earlier questions"


def test_ids_are_unique_across_both_files(sets):
    ids = [row["id"] for rows in sets.values() for row in rows]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_no_question_is_in_both_files(sets):
    test_questions = {fold(row["question"]) for row in sets["test"]}
    shared = [row["question"] for row in sets["dev"] if fold(row["question"]) in test_questions]
    assert not shared, f"dev questions also in the test set: {shared}"


@pytest.mark.parametrize("name", FILES)
def test_every_answer_is_a_short_verbatim_span_of_one_body_sentence(corpus, sets, name):
    text, body = fold(corpus), body_text(corpus)
    for row in sets[name]:
        for answer in row["answers"]:
            where = f"{name} {row['id']!r} answer {answer!r}"
            span = fold(answer)
            assert span in text, f"{where}: not in the corpus; copy the span verbatim"
            assert 2 <= len(span.split()) <= 12, f"{where}: give a short span of 2-12 words"
            assert not _SENTENCE_END.search(answer), f"{where}: crosses a sentence end; keep it inside one sentence"
            # a span found all over the page would be "hit" by unrelated quotes
            assert text.count(span) <= 2, f"{where}: occurs {text.count(span)} times; pick a more distinctive span"
            assert span not in fold(row["question"]), f"{where}: only repeats the question's words"
            assert span in body, f"{where}: only in a heading, which is never quoted"


@pytest.mark.parametrize("name", FILES)
def test_counts_meet_the_minimums(sets, name):
    rows = sets[name]
    total, off_corpus, followups = MINIMUMS[name]
    assert len(rows) >= total, f"{name}: {len(rows)} questions, want at least {total}"
    assert sum(not row["answers"] for row in rows) >= off_corpus, f"{name}: too few off-corpus questions"
    assert sum("history" in row for row in rows) >= followups, f"{name}: too few follow-ups"
