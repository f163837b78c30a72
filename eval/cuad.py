"""The CUAD contract QA dev layout (`dev.jsonl` + `docs/`): every question asked of its own contract only.

Each line is `{"id", "doc", "question", "answers", "category"}`; `doc` names a file of `docs/`. The contracts
share one index (in the cache folder); a question is asked within its contract's document, never the whole set.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from eval.datasets import DatasetError, Item

if TYPE_CHECKING:
    from assistant import Assistant
    from embeddings.settings import Settings


def load(folder: Path) -> list[Item]:
    """The questions of `folder/dev.jsonl`, each with `docs` = (its contract's file name,)."""
    path = Path(folder) / "dev.jsonl"
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; give the CUAD folder that holds dev.jsonl and docs/")
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(Item(row["id"], row["question"], tuple(row["answers"]), docs=(row["doc"],)))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise DatasetError(f"{path}:{number}: not a CUAD line ({e}); each needs id, doc, question, answers") from None
        if not (Path(folder) / "docs" / row["doc"]).is_file():
            raise DatasetError(f"{path}:{number}: its contract docs/{row['doc']} is missing")
    return items


PARTS = {"all": None, "train": (1, 2), "calibrate": (0, 4), "measure": (2, 4)}


def part(items: list[Item], name: str) -> list[Item]:
    """The items of one part of the contracts, by their rank in file-name order: "train" the odd ranks (the
    reader learns from them), "calibrate" ranks 0, 4, 8, ... (its threshold is picked there), "measure" ranks
    2, 6, 10, ... (seen by neither); "all" every item."""
    if name not in PARTS:
        raise DatasetError(f"unknown CUAD part {name!r}; use one of {', '.join(PARTS)}")
    if PARTS[name] is None:
        return list(items)
    first, step = PARTS[name]
    docs = sorted({i.docs[0] for i in items})
    keep = set(docs[first::step])
    return [i for i in items if i.docs[0] in keep]


def default_cache() -> Path:
    return Path(".verbatim-eval") / "cuad"


def open_assistant(folder: Path, items: list[Item], settings: Settings) -> tuple[Assistant, list[Item]]:
    """An Assistant over the contracts of `folder/docs` (indexed incrementally into `settings.index_dir`), and
    the items with their file names replaced by the contracts' document ids."""
    from eval.squad import open_folder

    bot = open_folder(Path(folder) / "docs", settings, "cuad")
    ids = {Path(d.source).name: d.doc_id for d in bot.documents()}
    return bot, [replace(i, docs=tuple(ids[name] for name in i.docs)) for i in items]
