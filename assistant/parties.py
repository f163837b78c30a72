"""Parties a contract names once and then calls by a defined term: "(2) KESTREL DATA SERVICES LIMITED, incorporated
... (the "Supplier")". A question that names the party ("can Kestrel subcontract the work?") is read as the contract
says it ("can the Supplier subcontract the work?"): else the one sentence holding the name, the parties clause,
outranks the clause that answers.

A party is a company's name (capitalised words ending in a legal form: "Limited", "Inc.", "LLC") followed, before
the next definition, by a bracket defining the term ("(the "Supplier")", "(hereinafter referred to as "Licensee")").
Only the name's first word is looked for in questions, and only when the documents write it at most `MAX_USES`
times: a party they keep calling by its name ("Bolt Corp. ("Bolt")", the company whose policies they are) stays a
name. People, and names without a legal form, are left alone.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from embeddings.lexical import terms

_DEFINITION = re.compile(   # (the "Supplier"), ("TDA"), (together, the "Parties"), (hereinafter referred to as "CBC")
    r"\((?:[^()\"“”]{0,60}?,\s*)?(?:hereinafter\s+)?(?:(?:referred\s+to|called|known)\s+as\s+)?(the\s+)?[\"“]"
    r"(?:the\s+)?([A-Z][\w&'’.-]*(?:\s+[A-Z][\w&'’.-]*){0,3})[\"”]\s*\)")
_LEGAL_FORMS = frozenset(
    "limited ltd inc incorporated llc plc corp corporation company co lp llp gmbh ag sa bv nv pty pte srl spa".split())
_FORM = "|".join(sorted(_LEGAL_FORMS))
# a company's name: capitalised words ending in its legal form, then a comma or a bracket ("KESTREL DATA LIMITED,",
# "Wren Holdings, Inc. ("); not what kind of company it is ("a Delaware corporation")
_PARTY = re.compile(rf"(?<!\ba\s)(?<!\ban\s)\b((?:[A-Z][\w&'’-]*\.?\s+(?:(?:of|and|&)\s+)?)*[A-Z][\w&'’-]*\.?,?\s+"
                    rf"(?i:{_FORM})\b\.?)\s*[,(]")
MAX_USES = 3     # a name the documents write at most this often is one they call by its defined term
REACH = 400      # characters before a definition's bracket that its name may be


def aliases(texts: Iterable[str]) -> dict[str, tuple[str, frozenset[str]]]:
    """The first words of party names (lower case) -> (the defined term the document calls the party by, as written
    with its "the"; the name's other words): "kestrel" -> ("the Supplier", {"data", "services", "limited"}). A
    word two documents define differently is left out."""
    found: dict[str, set[tuple[str, frozenset[str]]]] = {}
    texts = list(texts)
    for text in texts:
        after = 0   # a name is sought after the previous definition: each party is named before its own bracket
        for match in _DEFINITION.finditer(text):
            lo = max(match.start() - REACH, after)
            after = match.end()
            names = list(_PARTY.finditer(text, lo, match.start()))
            if not names:
                continue
            alias = ("the " if match.group(1) else "") + match.group(2)
            words = [w.strip("'’.,").lower() for w in names[-1].group(1).split()]
            first = words[0]
            if len(first) > 2 and first not in _LEGAL_FORMS and not set(terms(first)) & set(terms(alias)):
                found.setdefault(first, set()).add((alias, frozenset(words[1:])))
    if not found:
        return {}
    any_name = re.compile(r"\b(?:" + "|".join(map(re.escape, found)) + r")\b", re.I)
    uses = Counter(m.group().lower() for t in texts for m in any_name.finditer(t))   # one pass over the texts
    return {word: next(iter(named)) for word, named in found.items() if len(named) == 1 and uses[word] <= MAX_USES}


def as_defined(question: str, names: dict[str, tuple[str, frozenset[str]]]) -> str:
    """`question` with each party it names (the name's first word, with a "the" before it, more of the name and a
    legal form after it) replaced by the party's defined term: "can Kestrel Data hand it on?" -> "can the Supplier
    hand it on?", "Kestrel's fees" -> "the Supplier's fees"."""
    for first, (alias, rest) in names.items():
        question = _naming(first, rest).sub(alias, question)
    return question


@lru_cache(maxsize=1024)
def _naming(first: str, rest: frozenset[str]) -> re.Pattern[str]:
    """A party's name in a question: its first word, a "the" before it, more of the name and a legal form after it;
    compiled once per party, not per question."""
    more = "|".join(map(re.escape, sorted(rest | _LEGAL_FORMS, key=len, reverse=True)))
    return re.compile(rf"\b(?:the\s+)?{re.escape(first)}\b(?:\s+(?:{more})\b\.?)*", re.I)
