"""A question made ready for retrieval: checked, follow-ups folded into their topic, answer kind guessed.

Follow-ups are resolved with rules, not a language model: a question that leans on earlier turns
(a pronoun, "what about ...", or too few words of its own) is read together with the earlier questions
back to the last one that stood on its own.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.answer import QuestionError
from embeddings.lexical import terms

Kind = Literal["when", "amount", "number", "who", "where", "other"]

_KINDS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("when", re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|time|period)\b|\bsince when\b|\bhow long ago\b", re.I)),
    ("amount", re.compile(r"\bhow much\b|\bwhat (?:amount|rate|fee|price|cost)s?\b|\bhow much does\b", re.I)),
    ("number", re.compile(r"\bhow (?:many|much|long|far|old|big|large|often|high|low)\b|\bwhat (?:percentage|percent|share|number|amount|proportion|size)\b", re.I)),
    ("who", re.compile(r"^\W*(?:and\s+)?who(?:m|se)?\b|\bwhich (?:person|people|company|companies|department|departments|agency|agencies|bank|banks|authority|authorities|organi[sz]ations?|regulators?|body|bodies|ministry|ministries)\b|\bwho\b", re.I)),
    ("where", re.compile(r"\bwhere\b|\bwhich (?:country|countries|city|cities|state|region|regions|province|place)\b|\bin what (?:country|city|place)\b", re.I)),
)
_LEANS = re.compile(
    r"\b(?:it|its|it's|they|them|their|theirs|this|that|these|those|he|him|his|she|her|hers|there|such|the same)\b"
    r"|\b(?:old|new|other|former|latter|previous|earlier|same|first|second|last) ones?\b|\bthe (?:former|latter)\b"
    r"|^\W*(?:and|but|also|so|or|what about|how about|and what about|what else|anything else|why not"
    r"|mostly|mainly|chiefly|primarily|only|just)\b"
    r"|\b(?:then|in that case|in this case|if so|if not)\W*$",
    re.I,
)
MAX_HISTORY = 100   # earlier questions a chat may send along with a question
_LETTERS = re.compile(r"\w", re.UNICODE)
# What people say around a question in a chat ("Ok, thanks. And for a couple?", "How do I apply, please?"): a word
# of courtesy or assent before a question, ended by punctuation or followed by how a question goes on.
_COURTESY = (r"(?:ok(?:ay)?|thanks?|thank you|cheers|great|cool|alright|all right|right|sure|yes|yeah|yep|hmm+|hi"
             r"|hello|hey|please|perfect|got it|i see|understood|fine|good|nice|excellent|brilliant|lovely)"
             r"(?: (?:so|very) much| there| all)?")
_OPENER = re.compile(
    rf"^\W*(?:{_COURTESY}(?:\s*[,.!;:]+\s*|\s+(?=(?:{_COURTESY}|and|but|so|or|also|what|what's|how|who|whom|whose"
    r"|when|where|which|why|can|could|do|does|did|is|are|was|were|will|would|should|may|might|must|if|then)\b)))+",
    re.I,
)
# A follow-up that is no question of its own ("And for a couple?", "What about Paris?", "the second one?") asks for
# what the question it follows asked for: no question word, or "what/how about"; not a condition ("And if...?").
_ASKS = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|will"
                   r"|would|should|may|might|must|has|have|had|am|if)\b", re.I)
_ABOUT = re.compile(r"^\W*(?:(?:and|but|so|or|ok(?:ay)?)\W+)?(?:what|how) about\b", re.I)
OPENING_WORDS = 4   # the words of a question that say what it asks for ("How much...", not "...who help")
_CLOSER = re.compile(r"\s*,\s*(?:please|thanks|thank you|cheers)(?=\W*$)", re.I)   # ", please?" (not "as they please")


@dataclass(frozen=True, slots=True)
class Query:
    question: str          # as asked
    text: str              # what retrieval reads: the question with the topic of its follow-up chain
    terms: tuple[str, ...]
    kind: Kind
    asked: str             # the question alone as retrieval reads it (`plain`, in the documents' names)


def check(question: str, max_chars: int) -> str:
    """The question stripped; QuestionError (saying the fix) when it is empty, all punctuation or too long."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, not {type(question).__name__}")
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty; type a question about the documents")
    if not _LETTERS.search(question):
        raise QuestionError("the question has no words in it, only punctuation or symbols; ask it in words")
    if len(question) > max_chars:
        raise QuestionError(
            f"the question is {len(question):,} characters long; keep it under {max_chars:,} "
            "(ask about one thing at a time)"
        )
    return question


def check_history(history: Sequence[str], max_chars: int) -> list[str]:
    """The earlier questions of a chat as a list; QuestionError (saying the fix) for more than MAX_HISTORY of them
    or one longer than `max_chars`."""
    history = list(history)
    if len(history) > MAX_HISTORY:
        raise QuestionError(f"the chat holds {len(history):,} earlier questions; send at most {MAX_HISTORY}, "
                            "the latest ones")
    too_long = next((h for h in history if isinstance(h, str) and len(h) > max_chars), None)
    if too_long is not None:
        raise QuestionError(f"an earlier question of the chat is {len(too_long):,} characters long; keep each "
                            f"under {max_chars:,}")
    return history


def leans_on_history(question: str) -> bool:
    """True when the question cannot stand alone: it points back ("it", "they", "what about") or says too little."""
    return bool(_LEANS.search(question)) or len(terms(question)) < 2


def kind_of(question: str) -> Kind:
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return "other"


def plain(question: str) -> str:
    """The question without what is said around it in a chat: "Ok, thanks. And for a couple?" -> "And for a
    couple?", "How do I apply, please?" -> "How do I apply?"; as it was when nothing else is left."""
    left = _CLOSER.sub("", _OPENER.sub("", question)).strip()
    return left if _LETTERS.search(left) else question.strip()


def resolve(question: str, history: Sequence[str] = ()) -> Query:
    """The Query for `question` after `history` (earlier questions, oldest first); what is said around a question
    (`plain`) is left out of what retrieval reads. A follow-up that is no question of its own ("And for a couple?"
    after "How much would I get?") asks for the kind of thing the question it leans on asked for."""
    asked = plain(question)
    parts = [asked]
    if leans_on_history(asked):
        for earlier in reversed([plain(h) for h in history if isinstance(h, str) and h.strip()][-3:]):
            parts.insert(0, earlier)
            if not leans_on_history(earlier):
                break
    text = " ".join(parts)
    kind = kind_of(asked)
    if kind == "other" and (_ABOUT.search(asked) or not _ASKS.search(asked)):   # asks what the one before asked
        opening = (" ".join(p.split()[:OPENING_WORDS]) for p in reversed(parts[:-1]))
        kind = next((k for k in map(kind_of, opening) if k != "other"), kind)
    return Query(question=question, text=text, terms=tuple(terms(text)), kind=kind, asked=asked)
