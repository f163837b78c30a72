"""A sentence's terms as one question reads them: its own terms, plus the question's terms it holds in
another form: a longer or shorter word ("crypto" ~ "cryptocurrency", "regulator" ~ "regulatory", "invest" ~
"investor"; both at least MIN_FORM letters), the name an acronym of the question abbreviates
(`assistant.acronyms`), or the word documents use for an everyday one (`EVERYDAY`: "kid" ~ "child", "husband" ~
"partner", "boss" ~ "manager")."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from assistant.acronyms import abbreviated, acronyms_in
from embeddings.lexical import terms

MIN_FORM = 5   # shorter stems share too many beginnings ("bank" / "banknote", "stat" / "statue")
# How people ask -> how documents (benefit pages, policies, contracts) write it. Only words with one everyday sense
# ("son" is no child in a history of kings, "fired" no dismissal in one of wars).
_EVERYDAY_WORDS = {
    "kid kids": "child children", "baby babies newborn": "child children birth",
    "husband wife spouse boyfriend girlfriend": "partner", "boss": "manager", "mum mom dad": "parent",
    "job jobs": "work employment", "sick": "ill illness sickness", "holiday holidays vacation": "leave",
    "wage wages salary": "pay earnings income", "quit": "resign resignation",
}
EVERYDAY: dict[str, frozenset[str]] = {
    everyday: frozenset(terms(formal)) for words, formal in _EVERYDAY_WORDS.items() for everyday in terms(words)}


class Variants:
    """For one question: `terms(text)` of any sentence. Not shared between questions (it caches per term)."""

    def __init__(self, question_text: str, question_terms: Iterable[str], defined: Mapping[str, frozenset[str]]):
        self.asked = frozenset(question_terms)
        self.acronyms = acronyms_in(question_text)
        self.defined = defined
        self._forms: dict[str, frozenset[str]] = {}

    def forms(self, term: str) -> frozenset[str]:
        """The question's terms that `term` is a longer or shorter form of."""
        found = self._forms.get(term)
        if found is None:
            found = self._forms[term] = frozenset(
                q for q in self.asked if q != term and min(len(q), len(term)) >= MIN_FORM
                and (term.startswith(q) or q.startswith(term)))
        return found

    def terms(self, text: str) -> frozenset[str]:
        own = frozenset(terms(text))
        everyday = {q for q in self.asked if EVERYDAY.get(q, frozenset()) & own}
        return own.union(everyday, *map(self.forms, own)) | abbreviated(text, own, self.acronyms, self.defined)

    def spelled_out(self, sentence_terms: Iterable[frozenset[str]]) -> frozenset[str]:
        """The question's acronyms that some of these sentences spell out."""
        return frozenset(self.acronyms.values()) & frozenset().union(*sentence_terms)
