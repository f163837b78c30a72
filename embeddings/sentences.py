"""Sentence spans with exact offsets: the units an answer quotes.

Rules, not a model: a sentence ends at . ! ? (with any closing quotes or brackets) before a space and a
capital, digit, quote or bracket, unless the word before is an abbreviation ("U.S.", "No. 42", "e.g.");
a blank line always ends one, a single line break only before a bullet, after end punctuation or at a
Markdown table's row ("| Weeks 1 to 6 | 100% |": each row a sentence, as an HTML table's are), so PDF-style
wrapped lines stay whole. A clause label such as "(5) Enhanced Risk Monitoring." is kept with
the sentence after it, since it is no answer on its own. Languages without spaces between sentences are
split at line breaks only.
"""
from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr inc ltd co corp no nos vs art sec para approx fig figs p pp vol rev gen gov"
    " sen rep dept est jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e cf al ca op viz".split()
)
_END = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9\u00C0-\u024F•])")
_BREAK = re.compile(r"\n[ \t]*\n\s*|\n")
_BULLET = re.compile(r"[ \t]*(?:[•\-*–·▪◦]|\d{1,3}[.)]|\([ivxlcdm\d]{1,6}\))\s", re.IGNORECASE)
_TABLE_ROW = re.compile(r"[ \t]*\|")   # a line opening with a pipe: a Markdown table's row
_LABEL = re.compile(r"^\(?[0-9ivxlcdmIVXLCDM]{1,6}[).]\s*([^.!?]{0,120})[.:]$")
_LAST_WORD = re.compile(r"(\S+)$")
MAX_SENTENCE_CHARS = 2_000   # text without full stops is cut into pieces of this size, at a space where it can


def _is_abbreviation(before: str) -> bool:
    """True when the text ending in a period ends with an abbreviation rather than a sentence."""
    match = _LAST_WORD.search(before)
    if not match:
        return False
    word = match.group(1).lstrip("(\"'“‘[").rstrip(".")
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):   # U.S, e.g, i.e: dotted initialisms
        return True
    if re.fullmatch(r"[A-Z]", word):                       # an initial: "John F. Kennedy"
        return True
    if re.fullmatch(r"\d{1,2}", word):                    # a list number: "1. On-chain flows ... 2. Gainers"
        return True
    return word.lower() in ABBREVIATIONS


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split [start, end) at blank lines, and at single line breaks that start a bullet or a table row or follow end
    punctuation or a table row."""
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for m in _BREAK.finditer(text, start, end):
        blank = m.group(0).count("\n") > 1
        prev = text[piece_start:m.start()].rstrip()
        ends_sentence = bool(prev) and prev[-1] in ".!?:;\"”)|"
        if blank or ends_sentence or _BULLET.match(text, m.end()) or _TABLE_ROW.match(text, m.end()):
            pieces.append((piece_start, m.start()))
            piece_start = m.end()
    pieces.append((piece_start, end))
    return pieces


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in text[start:end], stripped of surrounding white space."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line_start, line_end in _lines(text, start, end):
        cut = line_start
        for m in _END.finditer(text, line_start, line_end):
            stop = m.end() - len(m.group(0)) + len(m.group(0).rstrip())
            if text[stop - 1] == "." and _is_abbreviation(text[cut:stop]):
                continue
            spans.append((cut, stop))
            cut = m.end()
        spans.append((cut, line_end))
    return _cut_long(text, _merge_labels(text, [s for s in (_strip(text, a, b) for a, b in spans) if s]))


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _is_label(sentence: str) -> bool:
    """A numbered clause title: short, or mostly capitalised words ("(6) Strengthened Oversight of ...")."""
    match = _LABEL.match(sentence)
    if not match:
        return False
    words = match.group(1).split()
    capitalised = sum(w[:1].isupper() for w in words)
    return len(words) <= 6 or (len(words) <= 14 and capitalised >= 0.6 * len(words))


def _merge_labels(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a clause label ("(5) Enhanced Risk Monitoring.") to the sentence that follows it on its line."""
    out: list[tuple[int, int]] = []
    for span in spans:
        if out and _is_label(text[out[-1][0]:out[-1][1]]) and "\n" not in text[out[-1][1]:span[0]]:
            out[-1] = (out[-1][0], span[1])
        else:
            out.append(span)
    return out


def _cut_long(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans over MAX_SENTENCE_CHARS cut at the last space before the limit (or at the limit)."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        while end - start > MAX_SENTENCE_CHARS:
            cut = text.rfind(" ", start + 1, start + MAX_SENTENCE_CHARS)
            cut = cut if cut > start else start + MAX_SENTENCE_CHARS
            piece = _strip(text, start, cut)
            if piece:
                out.append(piece)
            start = cut
            while start < end and text[start].isspace():
                start += 1
        piece = _strip(text, start, end)
        if piece:
            out.append(piece)
    return out
