"""Thumbs up / down on an answer, appended to a JSONL file that the eval script can read as a dataset seed.

A line: {"id", "question", "history", "answers", "feedback": "up"|"down", "answer": <Answer JSON>}.
`answers` holds the quote texts of an answer marked up (they become acceptable answers) and is empty for
"down": a "down" line says the quotes were wrong, not that the documents hold no answer, so it needs a
person to fill in `answers` before it is a gold question. Reading and deduplicating the file is left to eval.
"""
from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.answer import Answer

_lock = threading.Lock()   # one server process appends from several worker threads


def feedback_record(question: str, history: Sequence[str], answer: Answer, liked: bool) -> dict[str, Any]:
    """The JSONL line for one vote on `answer` (asked as `question` after `history`)."""
    return {
        "id": f"fb-{uuid.uuid4().hex[:12]}",
        "question": question,
        "history": list(history),
        "answers": [q.text for q in answer.quotes] if liked else [],
        "feedback": "up" if liked else "down",
        "answer": answer.to_dict(),
    }


def append_feedback(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one line (written in a single call, so concurrent votes never interleave)."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as f:
        f.write(line)
