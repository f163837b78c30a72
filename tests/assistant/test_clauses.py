"""Quotes from real documents: a quote ends with its own numbered clause and never runs on into the next; a
sentence that a page break cuts in two is quoted whole; a sentence a page repeats is quoted once; a party named
once is asked about in the words the contract then uses."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answerer import breaks_across, opens_clause

CONTRACT = """SUPPLY AGREEMENT

8. GENERAL

8.04 Assignment. Neither party may assign or transfer this Agreement without the prior written consent of the \
other party, which consent shall not be unreasonably withheld.

8.05 Notices. Any notice given by a party under this Agreement shall be in writing and delivered to the other \
party at its address above.

8.06 Governing Law. This Agreement shall be governed by the laws of the State of New York.

8.07 Entire Agreement. This Agreement is the entire agreement of the parties and supersedes all prior agreements \
between them.
"""


@pytest.mark.parametrize("sentence, opens", [
    ("8.05     GOVERNING  LAW.  All disputes shall be resolved by arbitration.", True),
    ("13.4 Waiver. The failure of either Party to insist on performance is no waiver.", True),
    ("2.1. Scope. This policy applies to all staff.", True),
    ("5. Term. This Agreement lasts two years.", True),
    ("Section 4. Term", True),
    ("ARTICLE 7 - CONFIDENTIALITY", True),
    ("Article 3 - Fees", True),
    ("Section 12 of the Act says otherwise.", False),   # prose naming a section, not a clause of its own
    ("10 Downing Street is the Prime Minister's office.", False),
    ("2015 was the first year of the scheme.", False),
    ("(b) keep records for three years; and", False),   # an item of its clause's list
    ("This clause survives termination.", False),
])
def test_opens_clause(sentence, opens):
    assert opens_clause(sentence) is opens


@pytest.fixture(scope="module")
def contract_bot(pages_bot):
    return pages_bot("clauses", {"supply.txt": CONTRACT})


@pytest.mark.parametrize("question, clause", [
    ("Can a party assign the agreement to someone else?", "8.04 Assignment."),
    ("Does a party need consent to transfer the agreement?", "8.04 Assignment."),
    ("Which law governs the agreement?", "8.06 Governing Law."),
])
def test_a_quote_stops_at_the_end_of_its_clause(contract_bot, question, clause):
    """With the real model the next clause scores close enough to the best to be joined to its quote, were it
    not a clause of its own: "8.04 ... withheld.\\n\\n8.05 Notices. ..." before the rule."""
    quote = contract_bot.ask(question).quotes[0]
    assert quote.text.startswith(clause)
    assert quote.text.count(". ") <= 2 and "\n" not in quote.text


# A contract saved as text from a paged original: a sentence runs over a page's end, past the page number and the
# filing's running footer (recurring, so skipped as furniture by the layout).
PAGED = """MASTER SERVICES AGREEMENT

1.1 Services. The Provider shall perform the services set out in each Statement of Work.

1.2 Records. The Provider shall keep complete and accurate records of all services performed and shall make such

E - 1

Source: ACME CORP, 8-K, 1/7/2019



records available to the Customer for inspection during normal business hours on ten days' notice.

2.1 Fees. The Customer shall pay the fees set out in each Statement of Work.

E - 2

Source: ACME CORP, 8-K, 1/7/2019

2.2 Invoices. Invoices are payable within thirty days of receipt.

E - 3

Source: ACME CORP, 8-K, 1/7/2019

3.1 Term. This Agreement lasts for two years from the Effective Date.

E - 4

Source: ACME CORP, 8-K, 1/7/2019
"""

# Items of a list set apart by blank lines run on in lower case too: they are not a sentence broken by a page.
ITEMS = """# Who can get it

You can get it if all of the following apply

you're 16 or over

you spend at least 35 hours a week caring for someone

you live in England, Scotland or Wales
"""


@pytest.fixture(scope="module")
def paged_bot(pages_bot):
    return pages_bot("paged", {"msa.txt": PAGED, "carers.md": ITEMS})


def test_a_sentence_cut_by_a_page_break_is_quoted_whole(paged_bot):
    """Either half found, the quote holds the sentence from "1.2 Records." to its end on the next page, with the
    page's furniture between as the document has it (a quote is one span of the text); the answer shows the
    furniture as " … "."""
    for question in ("Must the Provider keep records of the services?",
                     "Can the Customer inspect the records during business hours?"):
        answer = paged_bot.ask(question)
        quote = answer.quotes[0]
        assert quote.text.startswith("1.2 Records. The Provider shall keep")
        assert quote.text.endswith("on ten days' notice.")
        assert "E - 1" in quote.text and quote.text == paged_bot.index.documents[0].text[quote.start:quote.end]
        # shown with the furniture elided, as a quotation marks an omission
        assert quote.shown == ("1.2 Records. The Provider shall keep complete and accurate records of all services "
                               "performed and shall make such … records available to the Customer for inspection "
                               "during normal business hours on ten days' notice.")
        assert answer.text.startswith(quote.shown) and "Source:" not in answer.text


def test_list_items_are_not_joined_as_a_broken_sentence(paged_bot):
    index = paged_bot.index
    rows = {index.sentence(i).text: i for i in range(len(index.s_doc))}
    assert not breaks_across(index, rows["you're 16 or over"])
    records = next(i for t, i in rows.items() if t.startswith("1.2 Records."))
    assert breaks_across(index, records)
    assert not breaks_across(index, records + 1)   # the sentence's end: "...notice." ends it


REPEATING = """<!DOCTYPE html><html><head><title>Carer's Allowance - GOV.UK</title></head><body><main>
<h1>Carer's Allowance</h1>
<h2>How it works</h2>
<p>You could get £83.30 a week if you care for someone at least 35 hours a week and they get certain benefits.</p>
<p>You do not have to be related to, or live with, the person you care for.</p>
<p>Carer's Allowance can affect the other benefits that you and the person you care for get.</p>
<h2>What you'll get</h2>
<p>You could get £83.30 a week if you care for someone at least 35 hours a week and they get certain benefits.</p>
<h3>How you're paid</h3>
<p>You can choose to be paid weekly in advance or every 4 weeks.</p>
<p>It will be paid into an account, for example your bank account.</p>
</main></body></html>
"""


def test_a_page_that_repeats_a_sentence_quotes_it_once(pages_bot):
    """GOV.UK pages repeat their summary under a later heading; the second copy is no second answer."""
    bot = pages_bot("repeating", {"carers.html": REPEATING})
    for question in ("How much could I get?", "What is the weekly amount?"):
        texts = [" ".join(q.text.split()) for q in bot.ask(question).quotes]
        assert any(t.startswith("You could get £83.30 a week") for t in texts), texts
        assert len(texts) == len(set(texts)), texts


STAFF_DOCS = Path(__file__).resolve().parents[2] / "eval" / "data" / "staff_dev" / "docs"


@pytest.fixture(scope="module")
def staff_bot(pages_bot):
    """The staff dev set's six documents (eval/data/staff_dev), indexed with the real model."""
    return pages_bot("staff", {p.name: p.read_text(encoding="utf-8") for p in STAFF_DOCS.iterdir()})


def test_how_much_asks_for_an_amount_not_a_count(staff_bot):
    """Over the staff dev set's documents, "one" in "Only one person can get Child Benefit for a child."
    counted as the number "how much" asks for, and that sentence beat the rates table."""
    assert "£26.05" in staff_bot.ask("how much is child benefit for one kid?").quotes[0].text


def test_an_acronym_a_page_title_abbreviates_finds_that_page(staff_bot):
    """Staff write "UC" for Universal Credit; the page never does. Before, "UC" was an unknown word and the remote
    working policy's "For part-time employees..." answered."""
    answer = staff_bot.ask("I've got a part-time job, is there a max number of hours I can do while claiming UC?")
    assert answer.quotes[0].title == "Universal Credit" and "no limit" in answer.quotes[0].text
    assert answer.question.endswith("claiming UC?")   # the question as asked


def test_a_question_naming_the_other_party_finds_the_clause_that_answers(staff_bot):
    """The contract names its supplier once, in the parties clause, and then says "the Supplier". Before, that one
    sentence held the question's rarest word and was the answer to "can Kestrel subcontract...?" (and to "how long
    is the Kestrel contract for?", "who's our account manager at Kestrel?")."""
    answer = staff_bot.ask("can Kestrel hand some of the work to a subcontractor?")
    text = " ".join(q.text for q in answer.quotes[:1])
    assert "The Supplier shall not assign, transfer or subcontract" in text, text
    assert "KESTREL" not in text
    assert answer.question == "can Kestrel hand some of the work to a subcontractor?"   # shown as asked
    payment = staff_bot.ask("what are our payment terms with Kestrel?").quotes[0].text
    assert "5.0" in payment and "KESTREL" not in payment, payment


def test_a_follow_up_fragment_asks_for_an_amount_like_its_question(staff_bot):
    """"And for a couple?" after a "how much" question: before, it asked for nothing in particular and neither quote
    shown held a figure ("How much Universal Credit you get will depend on your earnings.", "Universal Credit is paid
    once a month..."); now the rates table's rows for couples are shown (second, after the savings limit for couples).
    """
    answer = staff_bot.ask("And for a couple?", ["how much universal credit would I get a month? I'm 23 and live "
                                                 "on my own"])
    shown = [q.text for q in answer.quotes]
    assert any("£497.55 (for you both)" in text for text in shown), shown


def test_when_is_answered_by_how_long_it_takes(staff_bot):
    """"When does the first UC money land?": "It usually takes around 5 weeks..." answers; before, only dates
    counted as a time and "you may be able to get an advance on your first payment" was quoted first."""
    quote = staff_bot.ask("roughly when does the first UC money land after you apply?").quotes[0]
    assert quote.text.startswith("It usually takes around 5 weeks"), quote.text


MILEAGE = """# Travel and Expenses Policy

## 5. Mileage

5.1 If you use your own car, van, motorcycle or bicycle for a business journey you can claim a mileage allowance at \
the rates below. These follow HMRC's approved mileage allowance payments.

| Vehicle | First 10,000 business miles in the tax year | Each business mile over 10,000 |
|---|---|---|
| Car or van | 45p | 25p |
| Motorcycle | 24p | 24p |
| Bicycle | 20p | 20p |

5.2 Drivers of company cars cannot claim the rates in the table above.

## 6. Hotels

6.1 Book hotels through the travel portal.
"""


def test_a_markdown_table_is_quoted_with_the_sentence_that_points_at_it(pages_bot):
    """Each Markdown row is a sentence now (as an HTML table's rows are); a quote of "...at the rates below." brings
    the table it points at, header and rows, and stops at the next clause."""
    bot = pages_bot("mileage", {"expenses.md": MILEAGE})
    quote = bot.ask("what's the mileage rate if I use my own car to visit a client?").quotes[0].text
    assert "the rates below" in quote and "| Car or van | 45p | 25p |" in quote and "| Bicycle | 20p | 20p |" in quote
    assert "5.2" not in quote
    row = bot.ask("What is the rate per mile for a bicycle?").quotes[0].text
    assert "| Bicycle | 20p | 20p |" in row and "| Vehicle |" in row, row   # the row, with its header


@pytest.mark.parametrize("typed, meant", [
    ("how do i aply for child benefit?", "how do i apply for child benefit?"),
    ("whats the notise period to end the kestrel contract?", "what's the notice period to end the kestrel contract?"),
])
def test_a_misspelt_question_is_answered_as_the_question_spelt_right(staff_bot, typed, meant):
    """Staff type fast. Before, "aply" was a word no document holds: "how do i aply for child benefit?" quoted "You'll
    usually be responsible for a child if..." at 0.46, and the notice question's answer was 0.54 likely."""
    typo, right = staff_bot.ask(typed), staff_bot.ask(meant)
    assert typo.quotes[0].text == right.quotes[0].text
    assert typo.confidence == pytest.approx(right.confidence, abs=1e-4) and typo.confidence > 0.7
    assert typo.question == typed   # shown as asked


CARERS = """<html><head><title>Carer's Allowance</title></head><body><main><h1>Carer's Allowance</h1>
<h2>Eligibility</h2>
<p>You must be 16 or over.</p>
<p>You do not have to be related to, or live with, the person you care for.</p>
<p>You must spend at least 35 hours a week caring.</p>
</main></body></html>"""


def test_a_sentence_is_read_within_its_documents_title(pages_bot):
    """A benefit page names its benefit in the title and seldom again: "You do not have to be related to, or live
    with, the person you care for." answers "...to get Carer's Allowance?" though it never says so. The title's words
    count as its context (`cover_context`), as its neighbours' do."""
    from assistant.ranking import FEATURES

    bot = pages_bot("titled", {"carers.html": CARERS})
    _, scored = bot.scored("do I have to live with them to get carer's allowance?")
    i = next(i for i, t in enumerate(scored.texts) if t.startswith("You do not have to be related"))
    x = dict(zip(FEATURES, scored.x[i].tolist()))
    assert x["cover_context"] > x["cover"] + 0.3, x   # "carer", "allowance" from the title; the neighbours lack them
