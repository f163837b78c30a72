"""The Answer shown to the user and its JSON: quotes read as sentences, PDF quotes cited by page."""
from __future__ import annotations

from assistant.answer import Answer, Found, Quote
from assistant.cli import _render

WRAPPED = "Passwords must be at least twelve characters long and must\nbe changed again every\nnight."


def _quote(text: str, page: int | None = None) -> Quote:
    return Quote("d1", 100, 100 + len(text), text, 0.9, "policy.pdf", "IT Security Policy", "Passwords", page=page)


def test_answer_text_joins_line_wraps_but_quotes_stay_exact():
    answer = Answer("How often do passwords change?", (_quote(WRAPPED, page=2),), (), 0.9)

    assert answer.text == "Passwords must be at least twelve characters long and must be changed again every night."
    data = answer.to_dict()
    assert data["answer"] == answer.text and data["quotes"][0]["text"] == WRAPPED


def test_answer_text_keeps_list_items_and_sentence_ends_on_their_lines():
    listed = "Report a loss:\n- to the service desk\n- within the hour"
    two = "Laptops are encrypted.\nLost laptops are reported."
    answer = Answer("q", (_quote(listed), _quote(two)), (), 0.9)

    assert answer.text == f"{listed}\n\n{two}"


def test_page_is_in_the_json_only_for_paged_documents():
    passage = Found("d1", 0, 40, "Passwords must be at least twelve\ncharacters.", 0.5, "policy.pdf", page=2)
    data = Answer("q", (_quote(WRAPPED, page=2), _quote("Plain text quote.")), (passage,), 0.9).to_dict()

    assert data["quotes"][0]["page"] == 2 and "page" not in data["quotes"][1]
    assert data["passages"][0]["page"] == 2


def test_terminal_cites_a_pdf_by_page_and_other_files_by_characters():
    paged = _render(Answer("q", (_quote(WRAPPED, page=3),), (), 0.9))
    assert "(policy.pdf, p. 3, score 0.90)" in paged and "characters 1" not in paged
    assert "again every night." in paged
    plain = _render(Answer("q", (_quote("Plain text quote."),), (), 0.9))
    assert "characters 100–117" in plain and "p. " not in plain
