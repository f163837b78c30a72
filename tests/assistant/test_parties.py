"""Parties a contract names once and then calls by a defined term: which names count, and how a question is read."""
from __future__ import annotations

from assistant.parties import aliases, as_defined

PARTIES = """PARTIES

(1) ACME LTD, incorporated and registered in England and Wales with company number 04839211, whose registered \
office is at 14 Harbour Street, Bristol BS1 4QA (the "Customer").

(2) KESTREL DATA SERVICES LIMITED, incorporated and registered in England and Wales with company number 11029384, \
whose registered office is at Unit 7, Meridian Park, Leeds LS11 5RT (the "Supplier").

"Services" means the managed IT support described in Schedule 1 (the "Schedule").
"""


def test_a_party_named_once_is_known_by_its_defined_term():
    found = aliases([PARTIES])
    assert found["kestrel"] == ("the Supplier", frozenset({"data", "services", "limited"}))
    assert found["acme"][0] == "the Customer"
    assert set(found) == {"kestrel", "acme"}   # "Services ... (the "Schedule")" names no company


def test_names_that_are_no_party_or_that_the_documents_keep_using_are_left_alone():
    us = ('This Agreement is made between Bolt Corp., a Delaware corporation ("Bolt"), and Wren Widgets LLC, a Nevada '
          'company (hereinafter referred to as "Distributor").')
    assert aliases([us]) == {"wren": ("Distributor", frozenset({"widgets", "llc"}))}   # not "delaware", not "bolt"
    assert aliases(['by Wren Holdings, Inc., a Delaware corporation ("Licensee")'])["wren"][0] == "Licensee"
    policy = "Acme will not pay for broadband. Acme staff must lock their screens. Ask Acme IT. Acme Ltd, 2025."
    assert "acme" not in aliases([PARTIES, policy])   # a name other documents keep using stays a name
    # two documents calling the same name by different terms: neither is taken
    other = PARTIES.replace('(the "Supplier")', '(the "Contractor")')
    assert "kestrel" not in aliases([PARTIES, other])


def test_a_question_naming_a_party_reads_as_the_contract_says_it():
    found = aliases([PARTIES])
    assert as_defined("can Kestrel hand the work to a subcontractor?", found) == \
        "can the Supplier hand the work to a subcontractor?"
    assert as_defined("how long is the Kestrel contract for?", found) == "how long is the Supplier contract for?"
    assert as_defined("what's the cap on KESTREL's liability?", found) == "what's the cap on the Supplier's liability?"
    assert as_defined("who manages Kestrel Data Services Ltd. for us?", found) == "who manages the Supplier for us?"
    assert as_defined("is a kestrels nest protected?", found) == "is a kestrels nest protected?"   # another word
    assert as_defined("can Kestrel subcontract?", {}) == "can Kestrel subcontract?"
