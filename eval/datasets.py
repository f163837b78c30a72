"""Eval questions: the JSONL gold-set format of DESIGN.md, parsed and checked, and reproducible sampling.

SQuAD JSON is read by `eval.squad`, into the same `Item`s.
"""
from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FIELDS = ("id", "question", "answers", "history", "docs")


class DatasetError(ValueError):
    """A dataset that cannot be used as given; the message names the file, the line and the fix."""


@dataclass(frozen=True, slots=True)
class Item:
    """One eval question. No answers means the documents hold none: the right response is to abstain."""

    id: str
    question: str
    answers: tuple[str, ...]
    history: tuple[str, ...] = ()   # earlier user questions of the same chat, oldest first
    docs: tuple[str, ...] = ()      # ask within these documents (ids or indexed paths); empty: all of them

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def followup(self) -> bool:
        return bool(self.history)


def load_jsonl(path: Path) -> list[Item]:
    """The items of a JSONL gold set, in file order; blank lines are skipped.

    Raises DatasetError for a line that is not a JSON object with a non-empty string `id` (unique in the
    file) and `question`, a list of non-empty strings `answers` (may be empty) and optionally `history`
    and `docs` (lists of non-empty strings), or that holds any other key.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()  # -sig: a BOM from Windows editors
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file; give the path of a JSONL gold set (e.g. eval/data/corpus_qa.jsonl)") from None
    items: list[Item] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        item = _parse_line(line, f"{path}:{number}")
        if item.id in seen:
            raise DatasetError(f"{path}:{number}: id {item.id!r} is already used on line {seen[item.id]}; give each question its own id")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: holds no questions; write one JSON object a line, as in DESIGN.md")
    return items


def _parse_line(line: str, where: str) -> Item:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{where}: not valid JSON ({e.msg} at column {e.colno}); write one JSON object on each line") from None
    if not isinstance(row, dict):
        raise DatasetError(f"{where}: a JSON {type(row).__name__}, not an object; write {{\"id\": ..., \"question\": ..., \"answers\": [...]}}")
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise DatasetError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; the keys are {', '.join(FIELDS)}")
    for key in ("id", "question"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise DatasetError(f"{where}: {key!r} is missing or not a non-empty string; give each question a {key}")
    if "answers" not in row:
        raise DatasetError(f"{where}: 'answers' is missing; give a list of answer strings, or [] when the right response is to abstain")
    return Item(
        id=row["id"],
        question=row["question"],
        answers=_strings(row["answers"], "answers", where),
        history=_strings(row.get("history", []), "history", where),
        docs=_strings(row.get("docs", []), "docs", where),
    )


def _strings(value: object, key: str, where: str) -> tuple[str, ...]:
    # an empty answer string would be "contained" in every quote and count as a hit
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DatasetError(f"{where}: {key!r} must be a list of non-empty strings; got {json.dumps(value, ensure_ascii=False)[:80]}")
    return tuple(value)


def sample(items: Sequence[Item], n: int, seed: int) -> list[Item]:
    """`n` items picked by `random.Random(seed).sample` over `items` in file order: the same seed, the same picks."""
    if not 0 < n <= len(items):
        raise DatasetError(f"--sample {n} is not between 1 and the {len(items)} questions available; give a count in that range or leave --sample out")
    return random.Random(seed).sample(list(items), n)
