"""A sentence's terms as a question reads them: longer or shorter word forms, and acronyms (no model)."""
from __future__ import annotations

from assistant.variants import Variants
from embeddings.lexical import terms


def _variants(question: str, defined=None) -> Variants:
    return Variants(question, terms(question), defined or {})


def test_a_longer_or_shorter_form_of_a_question_word_counts_as_the_word():
    v = _variants("Which crypto regulator lets people invest?")
    assert {"crypto", "regulator", "invest"} <= v.terms("Cryptocurrency rules are regulatory matters for investment.")
    assert "crypto" not in v.terms("Banks hold cash.")


def test_short_stems_do_not_match_by_their_beginning():
    v = _variants("Which bank holds the state funds?")
    sentence = v.terms("Banknotes and statues.")
    assert "bank" not in sentence and "stat" not in sentence


def test_acronyms_join_in_and_are_reported_where_spelled_out():
    v = _variants("What did the PBOC say?")
    spelled = v.terms("The People's Bank of China said so.")
    assert "pboc" in spelled
    assert v.spelled_out([spelled, frozenset({"bank"})]) == {"pboc"}
    assert v.spelled_out([frozenset({"bank"})]) == frozenset()


def test_an_everyday_word_is_held_by_the_word_documents_use_for_it():
    """ "my husband's on about 70k - do we lose our child benefit?": the page says "your partner"; before, the
    sentence that held "lose" ("you could lose money if you wait") covered more of the question."""
    question = "my husband's on about 70k - do we lose our child benefit for the kids?"
    variants = _variants(question)
    held = variants.terms("If you or your partner have an individual income of more than £60,000, your children...")
    assert {"husband", "kid"} <= held
    assert "husband" not in variants.terms("This means you could lose money if you wait.")
    assert "son" not in _variants("Who was the son of the king?").terms("The king had no children.")   # a son is
    # not always a child
