"""Acronyms of a question matched to the names a sentence spells out (pure text logic, no model)."""
from __future__ import annotations

from assistant.acronyms import abbreviated, acronyms_in, definitions, named
from embeddings.lexical import terms


def _abbreviated(text: str, question: str, defined=None) -> frozenset[str]:
    return abbreviated(text, frozenset(terms(text)), acronyms_in(question), defined or {})


def test_acronyms_are_read_from_capitals_only():
    assert acronyms_in("Did the PBOC or the CSRC ban RWAs? Is it US policy, Who knows") == {
        "pboc": "pboc", "csrc": "csrc", "rwa": "rwa", "us": "us"}
    assert acronyms_in("Is CBRE listed?") == {"cbre": "cbr"}   # the letters a name spells, and the acronym's term
    assert acronyms_in("who supervises it?") == {}


def test_a_capitalised_name_spells_out_its_acronym_with_or_without_small_words():
    bank = "The notice of the People's Bank of China was published."
    assert _abbreviated(bank, "What did the PBOC say?") == {"pboc"}
    assert _abbreviated(bank, "What did the PBC say?") == {"pbc"}
    assert _abbreviated("The China Securities Regulatory Commission leads.", "Does the CSRC lead?") == {"csrc"}
    assert _abbreviated("The National Development and Reform Commission plans.", "NDRC plans?") == {"ndrc"}


def test_no_name_no_acronym():
    assert _abbreviated("Banks must report every quarter.", "What does the PBOC require?") == frozenset()
    assert _abbreviated("Please Be On Call.", "What does the PBOC say?") == {"pboc"}   # initials alone decide
    assert _abbreviated("anything", "no acronym here") == frozenset()
    assert _abbreviated("Cushman Bell Real Estate leases offices.", "Is CBRE listed?") == {"cbr"}


def test_definitions_in_brackets_cover_the_lower_case_name():
    defined = definitions(["Speculation in virtual currency and Real-World Assets (RWA) rose.",
                           "Guidance from the Office of the Comptroller of the Currency (OCC) followed.",
                           "Digital assets like Bitcoin (BTC) are traded."])
    assert defined == {"rwa": frozenset({"real", "world", "asset"}),
                       "occ": frozenset({"offic", "comptroller", "currency"})}
    text = "Domestic entities must not engage in real-world asset tokenization."
    assert _abbreviated(text, "Is RWA tokenization allowed?", defined) == {"rwa"}
    assert _abbreviated(text, "Is RWA tokenization allowed?") == frozenset()   # not defined: the lower case name is not enough


def test_titles_and_headings_name_what_their_acronyms_stand_for():
    found = named(["Universal Credit - GOV.UK", "Carer's Allowance", "High Income Child Benefit Charge",
                   "Child Benefit", "Central Bank", "Terms of Service"])
    assert found["uc"] == "Universal Credit" and found["ca"] == "Carer's Allowance"
    assert found["hicbc"] == "High Income Child Benefit Charge"
    assert found["tos"] == found["ts"] == "Terms of Service"   # with or without its small word
    assert "cb" not in found   # Child Benefit or Central Bank: two names, so neither
    assert named(["overview", "how to claim"]) == {}   # no capitalised name
