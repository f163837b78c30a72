"""Ask every question of a dataset, timing each answer and checking its spans against the documents.

Scoring is left to `eval.metrics`; the assistant is opened by the caller.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tqdm import tqdm

from assistant.answer import Answer, QuestionError
from assistant.topic import last_document
from eval.datasets import Item
from eval.metrics import not_verbatim

if TYPE_CHECKING:
    from assistant import Assistant
    from embeddings.settings import Settings


@dataclass(frozen=True, slots=True)
class Outcome:
    """One question, what the assistant answered, how long `ask` took, and how many spans were checked/failed."""

    item: Item
    answer: Answer
    seconds: float = 0.0
    spans: int = 0              # quotes + passages checked against their documents
    not_verbatim: int = 0       # of those, spans whose text is not document.text[start:end]


@dataclass(frozen=True, slots=True)
class Run:
    """The outcomes of one dataset under one setting; `label` names the setting ("base" or "fusion=convex")."""

    label: str
    settings: Settings
    outcomes: tuple[Outcome, ...]
    abstain_below: float = 0.0   # the threshold the answers were given under


def run(bot: Assistant, items: Sequence[Item], label: str = "base", progress: bool | None = None) -> Run:
    """Ask each item (with its history) in order, after one untimed warm-up question. A follow-up whose previous
    question was an earlier item is asked as the web chat asks it, naming the page that item's answer quoted
    (`Assistant.ask`'s `chat_document`).

    `progress=None` shows the bar only on a terminal.

    Raises QuestionError naming the item when the assistant refuses a question.
    """
    texts: dict[str, str] = {}

    def text_of(doc_id: str) -> str:
        if doc_id not in texts:
            try:
                texts[doc_id] = bot.document(doc_id).text
            except KeyError:
                texts[doc_id] = ""  # a span into an unknown document can never be verbatim
        return texts[doc_id]

    quoted: dict[tuple[str, ...], str | None] = {}   # a chat so far -> the page its latest answer quoted

    def ask(item: Item) -> Answer:
        try:
            return bot.ask(item.question, history=item.history, doc_ids=item.docs or None,
                           chat_document=quoted.get(tuple(item.history)))
        except QuestionError as e:
            raise QuestionError(f"question {item.id!r}: {e}") from None

    if items:
        ask(items[0])  # untimed: the first ask pays one-off costs (lazy loads, first kernels) no later one sees
    outcomes = []
    disable = None if progress is None else not progress  # tqdm: None = off when not a terminal
    for item in tqdm(items, desc=label, unit="q", disable=disable, dynamic_ncols=True):
        start = time.perf_counter()
        answer = ask(item)
        seconds = time.perf_counter() - start
        quoted[(*item.history, item.question)] = last_document([answer])
        failed = not_verbatim(answer, text_of)
        outcomes.append(Outcome(item, answer, seconds, len(answer.quotes) + len(answer.passages), len(failed)))
    return Run(label, bot.settings, tuple(outcomes), bot.abstain_below)
