"""Acronyms of a question matched to the names they abbreviate in a sentence: "RWA" ~ "Real-World Assets",
"PBOC" ~ "People's Bank of China", "CSRC" ~ "The China Securities Regulatory Commission".

A sentence that spells out the name a question abbreviates gets the acronym as a term of its own, so term
coverage counts it. A name counts when it is capitalised and its words' initials (with or without the small
words "of", "and", ...) make the acronym, or, in any case, when the documents define the acronym somewhere
("... and Real-World Assets (RWA)") and the sentence holds the defining words ("real-world asset tokenization").
An acronym the documents never spell out is left as it is.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from embeddings.lexical import terms

_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,5}s?\b")
_SMALL = r"(?:of|and|for|the|on|in|to|&)"
_NAME = re.compile(rf"[A-Z][\w'’]*(?:(?:[\s-]+{_SMALL}){{0,2}}[\s-]+[A-Z][\w'’]*)+")
_DEFINED = re.compile(r"((?:[\w'’]+[\s-]+){1,8})\(([A-Z][A-Z0-9]{1,5})s?\)")
_SPLIT = re.compile(r"[\s-]+")
_SMALL_WORDS = frozenset({"of", "and", "for", "the", "on", "in", "to", "&"})
MAX_WORDS = 8


def _key(letters: str) -> str:
    return next(iter(terms(letters)), "")   # as the acronym's own term reads: "rwas" -> "rwa"


def acronyms_in(text: str) -> frozenset[str]:
    """The terms of the acronyms (2-6 capitals, an optional plural s) written in `text`."""
    return frozenset(t for m in _ACRONYM.findall(text) for t in terms(m))


def _initials(words: list[str]) -> tuple[str, str]:
    """The acronym keys of a run of words: every word's initial, and the initials of all but the small words."""
    return (_key("".join(w[0] for w in words)),
            _key("".join(w[0] for w in words if w.lower() not in _SMALL_WORDS)))


def definitions(texts: Iterable[str]) -> dict[str, frozenset[str]]:
    """Acronyms the texts define in brackets after their name ("Real-World Assets (RWA)"), with the terms of
    the name: the shortest run of words before the bracket whose initials make the acronym."""
    found: dict[str, frozenset[str]] = {}
    for text in texts:
        for match in _DEFINED.finditer(text):
            words = [w for w in _SPLIT.split(match.group(1)) if w]
            acronym = _key(match.group(2))
            for first in range(len(words) - 2, -1, -1):
                run = words[first:]
                if acronym in _initials(run) and run[0].lower() not in _SMALL_WORDS:
                    found.setdefault(acronym, frozenset(terms(" ".join(run))))
                    break
    return found


def abbreviated(text: str, text_terms: frozenset[str], acronyms: frozenset[str],
                defined: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """Those of `acronyms` that `text` (whose terms are `text_terms`) spells out: a capitalised name in it
    (any run of its words, whole or without its small words), or the words of the acronym's definition."""
    if not acronyms:
        return frozenset()
    found = {a for a in acronyms if a in defined and defined[a] <= text_terms}
    for match in _NAME.finditer(text):
        words = [w for w in _SPLIT.split(match.group()) if w][:MAX_WORDS]
        for first in range(len(words)):
            for last in range(first + 2, len(words) + 1):
                run = words[first:last]
                if run[0].lower() in _SMALL_WORDS or run[-1].lower() in _SMALL_WORDS:
                    continue
                found.update(k for k in _initials(run) if k in acronyms)
    return frozenset(found)
