"""What `ask` returns: quotes and passages with their offsets, and the Answer JSON of DESIGN.md."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ABSTAIN_TEXT = "The documents don't say. The nearest passages are listed below, in case they help."
# A single line break inside a sentence (PDF lines, hard-wrapped text): not after end punctuation, not before a
# list item, not part of a blank line.
_WRAP = re.compile(r"(?<=[^\s.!?:;])[ \t]*\n[ \t]*(?=\S)(?!(?:[•\-*–·▪◦]|\d{1,3}[.)]|\([ivxlcdm\d]{1,6}\))\s)",
                   re.IGNORECASE)


class QuestionError(ValueError):
    """A question that cannot be asked as given (empty, only punctuation, too long); the message says the fix."""


@dataclass(frozen=True, slots=True)
class SourcedSpan:
    """A span of a document with its score and where it is from. Invariant: document.text[start:end] == text."""

    doc_id: str
    start: int
    end: int
    text: str
    score: float
    source: str = ""
    title: str = ""
    section: str = ""
    page: int | None = None   # 1-based page where the span starts, for paged documents (PDF)


@dataclass(frozen=True, slots=True)
class Quote(SourcedSpan):
    """A sentence (or neighbouring sentences) quoted verbatim; `score` is its probability of answering. `elided`:
    spans of page furniture inside it (a sentence that runs over a page's end), as document offsets."""

    elided: tuple[tuple[int, int], ...] = ()

    @property
    def shown(self) -> str:
        """The quote as shown in an answer: its page furniture replaced by " … " (its `text` stays exact)."""
        if not self.elided:
            return self.text
        out, at = [], self.start
        for a, b in self.elided:
            piece = self.text[at - self.start:a - self.start].strip()
            if piece or not out:   # furniture after furniture: one omission
                out.append(piece)
            at = b
        out.append(self.text[at - self.start:].strip())
        return " … ".join(out)


@dataclass(frozen=True, slots=True)
class Found(SourcedSpan):
    """A passage retrieval found for a question; `score` is its fused retrieval score."""


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    quotes: tuple[Quote, ...]      # best first; empty: the documents do not answer it
    passages: tuple[Found, ...]    # what retrieval found, best first
    confidence: float              # calibrated probability that the first quote answers the question
    doc_ids: tuple[str, ...] = ()  # the documents it was asked within; empty: all of them

    @property
    def abstained(self) -> bool:
        return not self.quotes

    @property
    def text(self) -> str:
        """The answer shown to the user: the quotes' texts only (as read: line wraps joined, page furniture elided),
        or the plain abstention."""
        if self.abstained:
            return ABSTAIN_TEXT
        return "\n\n".join(reading(q.shown) for q in self.quotes)

    def to_dict(self, id: str | None = None) -> dict[str, Any]:
        """The Answer JSON of DESIGN.md (with `id` first when given)."""
        out: dict[str, Any] = {} if id is None else {"id": id}
        out.update(
            question=self.question,
            answer=self.text,
            abstained=self.abstained,
            confidence=round(self.confidence, 4),
            quotes=[_span_dict(q) for q in self.quotes],
            passages=[_span_dict(p) for p in self.passages],
        )
        if self.doc_ids:
            out["doc_ids"] = list(self.doc_ids)
        return out


def reading(text: str) -> str:
    """A quote as the reader reads it: line wraps inside a sentence joined with a space (the quote itself, with
    its offsets, keeps the document's own line breaks)."""
    return _WRAP.sub(" ", text)


def _span_dict(span: SourcedSpan) -> dict[str, Any]:
    out = {
        "text": span.text,
        "doc_id": span.doc_id,
        "source": span.source,
        "title": span.title,
        "section": span.section,
        "start": span.start,
        "end": span.end,
        "score": round(span.score, 4),
    }
    if span.page is not None:
        out["page"] = span.page
    return out
