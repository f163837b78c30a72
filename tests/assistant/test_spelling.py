"""Misspelt words of a question read as the documents spell them; real words, names and near-misses left alone."""
from __future__ import annotations

from assistant.spelling import Spellings, english, respelled, respellings

POLICY = """You can apply online. Carer's Allowance is paid every week. The Provider guarantees the service will be
available 99.8% of the time. The Provider's total liability shall not exceed the fees paid. Medica Health runs the
occupational health service. A carer may claim an allowance for their expenses; the allowance is taxable."""


def fixes(question: str, text: str = POLICY) -> dict[str, str]:
    return respellings(question, Spellings([text]))


def test_a_word_one_edit_from_a_document_word_is_read_as_the_documents_spell_it():
    assert fixes("can he aply before his birthday?") == {"aply": "apply"}                 # a letter left out
    assert fixes("how much is carers allowence") == {"allowence": "allowance"}            # one changed
    assert fixes("whats the uptime gaurantee?")["gaurantee"] == "guarantees"   # two swapped, as the documents' stem
    assert fixes("what's the liabilty cap?") == {"liabilty": "liability"}                 # one added
    assert fixes("is it payed weekly?") == {}                                             # "payed": an English word


def test_a_contraction_typed_without_its_apostrophe_is_read_with_it():
    assert fixes("whats the cap? i dont know, ive looked", "It is done. What is the cap?") == \
        {"whats": "what's", "dont": "don't", "ive": "i've"}                            # not "done"
    assert fixes("its lets well") == {}                                                # words of their own


def test_chat_shorthand_is_read_in_full_unless_the_documents_use_it():
    assert fixes("can u send me the info asap? ppl keep asking") == {
        "u": "you", "info": "information", "asap": "as soon as possible", "ppl": "people"}
    assert fixes("whats company mat pay? and pat leave?") == {"whats": "what's", "mat": "maternity", "pat": "paternity"}
    assert fixes("is the mat in the gym mine?") == {}                     # a mat, not maternity
    assert fixes("where is the info desk?", "Ask at the info desk.") == {}   # the documents' own word
    assert fixes("Is U-boat info in here?", "info") == {}                 # "U" as typed is no shorthand


def test_real_words_names_and_words_far_off_are_left_alone():
    assert fixes("can I use chatgpt at work?") == {}            # no document word one edit away
    assert fixes("what does the insurer cover?") == {}           # an English word the documents lack
    assert fixes("is the Medicca helpline open at night?") == {}   # capitalised inside the question: a name
    assert fixes("how do I apply?") == {}                        # the documents' own word
    assert fixes("a licence (incl. sublicence)", "Inc. grants a licence") == {}   # an abbreviation, not "inc"
    assert fixes("does it liken the fees to a tax?") == {}       # in the English dictionary, though not the documents
    assert fixes("do carers get it?") == {}                      # "carers": its stem is indexed ("carer")
    assert fixes("is it taxble?", "It is taxable.") == {"taxble": "taxable"}
    assert fixes("what's the allowwence?", "allowance") == {}   # two edits away: not guessed
    assert fixes("hepl", "help") == {"hepl": "help"} and fixes("hlp", "help") == {}   # under 4 letters: left alone


def test_of_several_spellings_the_one_the_documents_use_most_wins():
    text = "The claim form. The claim. The claim. A clam."
    assert fixes("how do I cliam?", text) == {"cliam": "claim"}


def test_a_question_is_respelled_word_by_word_keeping_its_case_and_punctuation_elsewhere():
    assert respelled("Can he aply? Aply online!", {"aply": "apply", "Aply": "apply"}) == "Can he apply? apply online!"
    assert respelled("is U ur", {"u": "you", "ur": "your"}) == "is U your"   # as typed: "U" is no "u"
    assert respelled("no change", {}) == "no change"


def test_the_dictionary_is_the_bundled_models_whole_words():
    words = english()
    assert len(words) > 20000 and {"apply", "guarantee", "liability"} <= words and "aply" not in words


def test_a_word_in_the_other_countrys_spelling_is_read_as_the_documents_write_it():
    uk = "The organisation will analyse the colour of the centre under each licence and programme; we travelled."
    assert fixes("does the organization analyze the color at the center? license program traveled", uk) == {
        "organization": "organisation", "analyze": "analyse", "color": "colour", "center": "centre",
        "license": "licence", "program": "programme", "traveled": "travelled"}
    us = "The organization will analyze the color under each license."
    assert fixes("does the organisation analyse the colour? licence", us) == {
        "organisation": "organization", "analyse": "analyze", "colour": "color", "licence": "license"}
    assert fixes("is the door minor?", uk) == {}   # no other spelling the documents hold
