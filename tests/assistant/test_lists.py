"""Lists and tables in quotes: a lead-in is quoted with its items, an item with its lead-in, a table row with its
table's header, within bounds."""
from __future__ import annotations

import pytest

from assistant.answerer import LEAD_IN_REACH, MAX_LIST_CHARS, MAX_LIST_ROWS, _list_span, is_list_item, is_table_row

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
def page_bot(pages_bot):
    return pages_bot("lists", {"claiming.md": PAGE.format(codes=CODES)})


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


RATES = """<html><head><title>Benefit rates</title></head><body><main><article>
<h1>Benefit rates 2026 to 2027</h1>
<p>This page lists the weekly rates of the main benefits paid by the department from April 2026.</p>
<h2>Carers and disability</h2>
<table>
<tr><th>Benefit</th><th>Rate</th><th>Weekly amount</th></tr>
<tr><td>Attendance Allowance</td><td>Lower rate</td><td>£73.90</td></tr>
<tr><td>Attendance Allowance</td><td>Higher rate</td><td>£110.40</td></tr>
<tr><td>Carer's Allowance</td><td>Standard rate</td><td>£83.30</td></tr>
</table>
<p>Rates for Scotland are set by Social Security Scotland and may differ.</p>
<h2>Reference codes</h2>
<table>
<tr><th>Code</th><th>Meaning</th></tr>
{codes}
</table>
</article></main></body></html>
"""
TABLE_CODES = "\n".join(f"<tr><td>R{i}</td><td>reference number {i}</td></tr>" for i in range(1, 21))


@pytest.mark.parametrize("sentence, row", [
    ("Attendance Allowance | Higher rate | £110.40", True),
    ("Benefit | Rate | Weekly amount", True),
    ("You could get £83.30 a week.", False),
    ("either|or", False),
])
def test_is_table_row(sentence, row):
    assert is_table_row(sentence) is row


@pytest.fixture(scope="module")
def rates_bot(pages_bot):
    return pages_bot("tables", {"rates.html": RATES.format(codes=TABLE_CODES)})


def test_a_table_row_is_quoted_from_its_header(rates_bot):
    header, higher, carers = rows(rates_bot, "Benefit | Rate", "Attendance Allowance | Higher", "Carer's Allowance |")
    assert _list_span(rates_bot.index, higher, higher) == (header, higher)
    assert _list_span(rates_bot.index, header, header) == (header, carers)   # a header alone: the rows it heads
    scotland, = rows(rates_bot, "Rates for Scotland")
    assert _list_span(rates_bot.index, scotland, scotland) == (scotland, scotland)   # no row: as it was


def test_a_row_deep_in_a_long_table_stands_alone(rates_bot):
    header, near, far = rows(rates_bot, "Code | Meaning", "R3 |", "R15 |")
    assert _list_span(rates_bot.index, near, near) == (header, near)
    assert _list_span(rates_bot.index, far, far) == (far, far)   # its header is too far back
    first, last = _list_span(rates_bot.index, header, header)
    assert first == header and last - first == MAX_LIST_ROWS   # as a lead-in with its items


def test_the_answer_quotes_a_row_with_its_header(rates_bot):
    answer = rates_bot.ask("How much is the higher rate of Attendance Allowance?")
    assert answer.quotes[0].text.startswith("Benefit | Rate | Weekly amount\n\n")
    assert "Attendance Allowance | Higher rate | £110.40" in answer.quotes[0].text
