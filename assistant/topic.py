"""A chat's document: where a follow-up is looked for too.

In a chat on one page, "What documents do I need?" or "When was the bridge built?" asks about that page, though
it neither points back ("it", "what about") nor carries the page's words; and "How do I report it?" in a chat
on the IT policy asks about the IT policy, though "report" is said best by another page. A follow-up is answered
over all documents (one that points back read with the earlier questions, `question.resolve`) and again within
the chat's document (the page the chat's previous answer quoted, where the caller keeps its answers as the web
chat does; else that of the passage retrieval finds first for the question before it, as the chat read that one),
and the chat's document gets a head start of TOPIC_ODDS in log-odds: another document must answer clearly better
to take the follow-up away from it. A chat asked within chosen documents is already kept to them.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from assistant.answer import Answer
from assistant.reader import logit
from assistant.retrieval import Retrieved
from embeddings.store import Index

# The chat's document's head start, in log-odds: with it, its answer wins unless another document's is about e
# times as likely. Picked on SQuAD dev v1.1 asked as chats, even-numbered articles (README, "The reader").
TOPIC_ODDS = 1.0


def stays_on_topic(history: Sequence[str]) -> bool:
    """Whether a question asked after `history` is a follow-up to keep to the chat's document: one with an earlier
    question, whether it points back or not."""
    return any(isinstance(h, str) and h.strip() for h in history)


def chat_document(index: Index, earlier: Retrieved) -> int | None:
    """The document row of the passage found first for the chat's previous question; None if nothing was."""
    return int(index.p_doc[earlier.rows[0]]) if len(earlier.rows) else None


def prefer(everywhere: Answer, in_chat_document: Answer, head_start: float = TOPIC_ODDS) -> Answer:
    """The answer from the chat's document unless the answer over all documents is more likely by more than
    `head_start` in log-odds; never an abstention over a quote (the chat's document not answering is no reason
    to withhold another's answer)."""
    if in_chat_document.confidence <= 0 or (everywhere.quotes and not in_chat_document.quotes):
        return everywhere
    gain = float(logit(np.float64(in_chat_document.confidence)) - logit(np.float64(everywhere.confidence)))
    return in_chat_document if gain + head_start >= 0 else everywhere


def last_document(answers: Iterable[Answer]) -> str | None:
    """The id of the document the latest of a chat's answers quoted first; None when it abstained or there is none."""
    latest = None
    for latest in answers:
        pass
    return latest.quotes[0].doc_id if latest is not None and latest.quotes else None
