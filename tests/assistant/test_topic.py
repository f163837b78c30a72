"""A follow-up that names no topic of its own is answered from the chat's document, unless another answers clearly better."""
from __future__ import annotations

import pytest

from assistant.answer import Answer, Quote
from assistant.topic import TOPIC_ODDS, last_document, prefer, stays_on_topic

ATTENDANCE = """# Attendance Allowance

Attendance Allowance helps with extra costs if you have a disability severe enough that you need someone to help look after you.

You must be State Pension age or older to get it. It is paid at two rates, depending on the level of care you need.

To claim it you need your National Insurance number and your GP's name and address. You fill in a paper form and send it by post.

A decision on an Attendance Allowance claim usually takes about 8 weeks.

You'll get a letter telling you whether you'll get Attendance Allowance.
"""
CARERS = """# Carer's Allowance

You could get Carer's Allowance if you care for someone for at least 35 hours a week.

To claim, you need your National Insurance number, your bank details and your employer's details.

You can claim online. It takes about 30 minutes to complete the form.

You'll usually get a decision within 6 weeks of claiming.

You must report a change of circumstances straight away.
"""


def answer(confidence: float, quoted: bool = True, doc_id: str = "a") -> Answer:
    quotes = (Quote(doc_id, 0, 4, "text", confidence),) if quoted else ()
    return Answer("q", quotes, (), confidence)


@pytest.mark.parametrize("history, stays", [
    (["Who can get Attendance Allowance?"], True),
    ([], False),
    (["", "  "], False),
])
def test_which_questions_stay_on_the_chats_document(history, stays):
    assert stays_on_topic(history) is stays


def test_the_chats_document_wins_unless_another_is_clearly_more_likely():
    near = answer(0.80, doc_id="elsewhere")
    assert prefer(near, there := answer(0.75)) is there                    # a little less likely: stays
    far = answer(0.97, doc_id="elsewhere")
    assert prefer(far, answer(0.75)) is far                                 # odds 10x: the other document
    # the head start is TOPIC_ODDS in log-odds, either side of it
    import math
    p = 1 / (1 + math.exp(-(math.log(0.75 / 0.25) + TOPIC_ODDS)))
    assert prefer(answer(p - 0.01), there) is there
    assert prefer(other := answer(p + 0.01), there) is other


def test_the_chats_document_not_answering_never_withholds_another_documents_answer():
    everywhere = answer(0.5, doc_id="elsewhere")
    assert prefer(everywhere, answer(0.45, quoted=False)) is everywhere
    assert prefer(everywhere, answer(0.0, quoted=False)) is everywhere
    both_abstain = answer(0.1, quoted=False)
    assert prefer(answer(0.05, quoted=False), both_abstain) is both_abstain


@pytest.fixture(scope="module")
def two_pages(pages_bot):
    return pages_bot("benefits", {"attendance.md": ATTENDANCE, "carers.md": CARERS})


def test_a_follow_up_is_answered_from_the_chats_document(two_pages):
    question = "What do I need to claim?"
    alone = two_pages.ask(question)
    assert alone.quotes[0].title == "Carer's Allowance"   # asked alone, the other page answers it
    after = two_pages.ask(question, history=["Who can get Attendance Allowance?"])
    assert after.quotes[0].title == "Attendance Allowance"
    assert "GP's name and address" in after.quotes[0].text
    assert after.confidence == pytest.approx(two_pages.ask(question, doc_ids=[after.quotes[0].doc_id]).confidence)
    assert two_pages.ask(question, history=["Who can get Carer's Allowance?"]).quotes[0].title == "Carer's Allowance"


def test_a_follow_up_that_another_document_answers_clearly_leaves_the_chats_document(two_pages):
    after = two_pages.ask("How many hours a week must I care for someone to get Carer's Allowance?",
                          history=["Who can get Attendance Allowance?"])
    assert after.quotes[0].title == "Carer's Allowance"
    assert "35 hours a week" in after.quotes[0].text


def test_a_chat_asked_within_chosen_documents_stays_within_them(two_pages):
    carers = next(d.doc_id for d in two_pages.documents() if d.title == "Carer's Allowance")
    within = two_pages.ask("What do I need to claim?", history=["Who can get Attendance Allowance?"], doc_ids=[carers])
    assert within.quotes[0].title == "Carer's Allowance"


def test_a_chat_session_keeps_to_its_document(two_pages):
    from assistant.chat import ChatSession

    chat = ChatSession(two_pages)
    assert chat.ask("Who can get Attendance Allowance?").quotes[0].title == "Attendance Allowance"
    assert chat.ask("What do I need to claim?").quotes[0].title == "Attendance Allowance"
    chat.clear()
    assert chat.ask("What do I need to claim?").quotes[0].title == "Carer's Allowance"   # a new chat: no topic


def test_last_document_is_what_the_latest_answer_quoted_first():
    assert last_document([answer(0.9, doc_id="a"), answer(0.8, doc_id="b")]) == "b"
    assert last_document([answer(0.9, doc_id="a"), answer(0.1, quoted=False)]) is None   # it abstained
    assert last_document([]) is None


DRIFT = ["Who can get Attendance Allowance?", "What do I need to claim?"]   # the second answered from that page
LATER = "How long until I get a decision?"


def test_a_chat_that_keeps_its_answers_stays_on_the_page_it_answered_from(two_pages):
    # From the earlier questions alone the chat's document is what "What do I need to claim?" finds by itself
    # (the Carer's page): the web chat and ChatSession pass the page its previous answer quoted instead.
    assert two_pages.ask(LATER, history=DRIFT).quotes[0].title == "Carer's Allowance"
    attendance = two_pages.ask(DRIFT[1], history=DRIFT[:1]).quotes[0].doc_id
    kept = two_pages.ask(LATER, history=DRIFT, chat_document=attendance)
    assert kept.quotes[0].title == "Attendance Allowance" and "8 weeks" in kept.quotes[0].text
    # a document no longer indexed is no error: the chat's document is found from the previous question
    assert two_pages.ask(LATER, history=DRIFT, chat_document="gone").quotes[0].title == "Carer's Allowance"


def test_the_chat_session_and_the_web_chat_pass_the_page_they_answered_from(two_pages):
    from assistant.chat import ChatSession
    from assistant.webui import take_question

    chat = ChatSession(two_pages)
    for question in DRIFT:
        chat.ask(question)
    assert chat.ask(LATER).quotes[0].title == "Attendance Allowance"
    turns = []
    for question in [*DRIFT, LATER]:
        turns = take_question(two_pages, question, turns).turns
    assert [t.answer.quotes[0].title for t in turns[1:]] == ["Attendance Allowance", "Attendance Allowance"]


def test_a_follow_up_that_points_back_stays_on_the_chats_document_too(two_pages):
    """ "How long does it take to get a decision?" is read with "What do I need to claim?", which names no page
    either: over all documents the Carer's page's "It takes about 30 minutes" answers it; the chat is on the
    Attendance page, whose answer is nearly as likely."""
    from assistant.chat import ChatSession

    chat = ChatSession(two_pages)
    chat.ask("Who can get Attendance Allowance?")
    assert chat.ask("What do I need to claim?").quotes[0].title == "Attendance Allowance"
    third = chat.ask("How long does it take to get a decision?")
    assert third.quotes[0].title == "Attendance Allowance" and "8 weeks" in third.quotes[0].text
