"""Lists in quotes: a lead-in is quoted with its items, an item with its lead-in, within bounds."""
from __future__ import annotations

import pytest

from assistant.answerer import LEAD_IN_REACH, MAX_LIST_CHARS, MAX_LIST_ROWS, _list_span, is_list_item

PAGE = """# Claiming

## What you need

Before you apply, you'll need:

- your National Insurance number
- your bank or building society details
- your employer's name and address

You can apply online. It takes about 30 minutes.

## Supplier duties

The Supplier shall:

(a) deliver the goods on time;

(b) keep records for three years; and

(c) allow audits by the Customer.

This clause survives termination.

## Codes

The valid codes are:

{codes}

Other codes are refused.
"""
CODES = "\n".join(f"- code number {i}" for i in range(1, 21))


@pytest.mark.parametrize("sentence, item", [
    ("- your National Insurance number", True),
    ("• Attendance Allowance.", True),
    ("(b) keep records for three years; and", True),
    ("2. Fill in the form.", True),
    ("you're 16 or over", True),
    ("Attendance Allowance", True),
    ("You can apply online.", False),
    ("Before you apply, you'll need:", False),
    ("I. Definitions.", False),   # a capital letter and a full stop: a heading-like sentence, not a marker
])
def test_is_list_item(sentence, item):
    assert is_list_item(sentence) is item


@pytest.fixture(scope="module")
def page_bot(tmp_path_factory, settings, encoder):
    from assistant import Assistant
    from embeddings.indexer import Indexer

    folder = tmp_path_factory.mktemp("lists")
    (folder / "claiming.md").write_text(PAGE.format(codes=CODES), encoding="utf-8")
    s = settings.replace(index_dir=folder / "index")
    Indexer(s, encoder).index([folder / "claiming.md"])
    return Assistant.open(s)


def rows(bot, *starts: str) -> list[int]:
    texts = [bot.index.sentence(i).text for i in range(len(bot.index.s_doc))]
    return [next(i for i, t in enumerate(texts) if t.startswith(s)) for s in starts]


def span_text(bot, first: int, last: int) -> str:
    doc = bot.index.documents[0]
    return doc.text[int(bot.index.s_start[first]):int(bot.index.s_end[last])]


def test_a_lead_in_is_quoted_with_all_its_items_and_no_further(page_bot):
    lead, last_item = rows(page_bot, "Before you apply", "- your employer")
    assert _list_span(page_bot.index, lead, lead) == (lead, last_item)
    duties, audits = rows(page_bot, "The Supplier shall", "(c) allow audits")
    assert _list_span(page_bot.index, duties, duties) == (duties, audits)   # "This clause survives" is not an item


def test_an_item_is_quoted_from_its_lead_in(page_bot):
    duties, records = rows(page_bot, "The Supplier shall", "(b) keep records")
    assert _list_span(page_bot.index, records, records) == (duties, records)
    online, = rows(page_bot, "You can apply online")
    assert _list_span(page_bot.index, online, online) == (online, online)   # not an item: as it was


def test_a_long_list_is_cut_at_the_bounds(page_bot):
    lead, = rows(page_bot, "The valid codes are")
    first, last = _list_span(page_bot.index, lead, lead)
    assert first == lead and last - first == MAX_LIST_ROWS
    assert len(span_text(page_bot, first, last)) <= MAX_LIST_CHARS
    near, far, last = rows(page_bot, f"- code number {LEAD_IN_REACH}", f"- code number {LEAD_IN_REACH + 1}",
                           "- code number 19")
    assert _list_span(page_bot.index, near, near) == (lead, near)
    for item in (far, last):
        assert _list_span(page_bot.index, item, item) == (item, item)   # its lead-in is too far back


def test_the_answer_quotes_the_whole_list(page_bot):
    answer = page_bot.ask("What do I need before I apply?")
    assert answer.quotes[0].text == ("Before you apply, you'll need:\n\n- your National Insurance number\n"
                                     "- your bank or building society details\n- your employer's name and address")
