"""Acronyms of a question matched to the names they abbreviate in a sentence: "RWA" ~ "Real-World Assets",
"PBOC" ~ "People's Bank of China", "CSRC" ~ "The China Securities Regulatory Commission".

A sentence that spells out the name a question abbreviates gets the acronym as a term of its own, so term
coverage counts it. A name counts when it is capitalised and its words' initials (with or without the small
words "of", "and", ...) make the acronym, or, in any case, when the documents define the acronym somewhere
("... and Real-World Assets (RWA)") and the sentence holds the defining words ("real-world asset tokenization").
An acronym the documents never spell out is left as it is; one that a document's title or heading abbreviates
("UC" for a page titled "Universal Credit") is searched for by that name too (`named`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from embeddings.lexical import terms

_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,5}s?\b")
_SMALL_WORDS = frozenset({"of", "and", "for", "the", "on", "in", "to", "&"})
_SMALL = "(?:" + "|".join(map(re.escape, sorted(_SMALL_WORDS))) + ")"
_NAME = re.compile(rf"[A-Z][\w'’]*(?:(?:[\s-]+{_SMALL}){{0,2}}[\s-]+[A-Z][\w'’]*)+")
_DEFINED = re.compile(r"\(([A-Z][A-Z0-9]{1,5})s?\)")
_WORD = re.compile(r"[\w'’]+")
_SPLIT = re.compile(r"[\s-]+")
MAX_WORDS = 8


def _key(letters: str) -> str:
    return next(iter(terms(letters)), "")   # as the acronym's own term reads: "rwas" -> "rwa"


def acronyms_in(text: str) -> dict[str, str]:
    """The acronyms (2-6 capitals, an optional plural s) written in `text`: their letters in lower case (what
    a name's initials must spell) -> their terms."""
    found = {}
    for m in _ACRONYM.findall(text):
        term = _key(m)
        if term:
            found[m.removesuffix("s").lower()] = term
    return found


def _initials(words: list[str], small: list[bool]) -> tuple[str, str]:
    """What a run of words abbreviates to, in lower case: every word's initial, and all but the small words'."""
    return ("".join(w[0] for w in words).lower(),
            "".join(w[0] for w, s in zip(words, small) if not s).lower())


def definitions(texts: Iterable[str]) -> dict[str, frozenset[str]]:
    """Acronyms the texts define in brackets after their name ("Real-World Assets (RWA)"), with the terms of
    the name: the shortest run of words before the bracket whose initials make the acronym."""
    found: dict[str, frozenset[str]] = {}
    for text in texts:
        for match in _DEFINED.finditer(text):
            before = text[max(match.start() - 200, 0):match.start()]
            if not before[-1:].isspace():   # "Assets (RWA)", not "f(X)"
                continue
            words = _WORD.findall(before)[-MAX_WORDS:]
            small = [w.lower() in _SMALL_WORDS for w in words]
            letters = match.group(1).lower()
            for first in range(len(words) - 2, -1, -1):
                if not small[first] and letters in _initials(words[first:], small[first:]):
                    found.setdefault(_key(match.group(1)), frozenset(terms(" ".join(words[first:]))))
                    break
    return found


def named(texts: Iterable[str]) -> dict[str, str]:
    """Acronyms that the capitalised names in `texts` (the documents' titles and headings) abbreviate -> the name,
    as written: "uc" -> "Universal Credit", "hicbc" -> "High Income Child Benefit Charge". Any run of two or more of a
    name's words counts, with or without its small words; letters that two different names make are left out."""
    found: dict[str, dict[frozenset[str], str]] = {}
    for text in texts:
        for match in _NAME.finditer(text):
            words = [w for w in _SPLIT.split(match.group()) if w][:MAX_WORDS]
            small = [w.lower() in _SMALL_WORDS for w in words]
            for first in range(len(words)):
                for last in range(first + 2, len(words) + 1):
                    if small[first] or small[last - 1]:
                        continue
                    name = " ".join(words[first:last])
                    for letters in set(_initials(words[first:last], small[first:last])):
                        found.setdefault(letters, {}).setdefault(frozenset(terms(name)), name)
    return {letters: next(iter(names.values())) for letters, names in found.items() if len(names) == 1}


def abbreviated(text: str, text_terms: frozenset[str], acronyms: Mapping[str, str],
                defined: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """The terms of those `acronyms` (from `acronyms_in`) that `text`, whose terms are `text_terms`, spells out:
    a capitalised name in it (any run of its words, whole or without its small words), or the words of the
    acronym's definition."""
    if not acronyms:
        return frozenset()
    found = {t for t in acronyms.values() if t in defined and defined[t] <= text_terms}
    for match in _NAME.finditer(text):
        words = [w for w in _SPLIT.split(match.group()) if w][:MAX_WORDS]
        small = [w.lower() in _SMALL_WORDS for w in words]
        for first in range(len(words)):
            if small[first]:
                continue
            for last in range(first + 2, len(words) + 1):
                if not small[last - 1]:
                    found.update(acronyms[k] for k in _initials(words[first:last], small[first:last]) if k in acronyms)
    return frozenset(found)
