"""The shape of the bundled page and the sentence splitter on its hard cases."""
from __future__ import annotations

from conftest import CORPUS_FILE
from embeddings.documents import Document
from embeddings.layout import analyse, segments
from embeddings.sentences import split_sentences

TEXT = CORPUS_FILE.read_text(encoding="utf-8")


def _doc() -> Document:
    layout = analyse(TEXT)
    return Document("d", str(CORPUS_FILE), layout.title, TEXT, layout.sections, layout.skip)


def test_bundled_page_title_sections_and_boilerplate():
    layout = analyse(TEXT)
    assert layout.title.startswith("SoFi Launches Crypto Trading")
    headings = [s.heading for s in layout.sections]
    assert "Frequently Asked Questions" in headings
    assert "What is SoFi USD, and how is it backed?" in headings
    assert any(h.startswith("China's Central Bank and Eight Other Departments") for h in headings)
    assert "II. Sound Work Mechanism" in headings
    assert any(h.startswith("Why Bitcoin Is Falling Now") for h in headings)   # a teaser is a section
    for s in layout.sections:
        assert TEXT[s.start:s.end] == s.heading
    skipped = {TEXT[a:b] for a, b in layout.skip}
    assert {"Share", "copy", "0", "You may also like", "Popular coins", "Latest Crypto News", "Read more"} <= skipped
    assert not any("SoFi USD is a forthcoming stablecoin" in TEXT[a:b] for a, b in layout.skip)


def test_section_paths_nest_faq_and_notice_clauses():
    doc = _doc()
    faq = TEXT.index("SoFi USD is a forthcoming stablecoin")
    assert doc.section_path(faq) == "Frequently Asked Questions › What is SoFi USD, and how is it backed?"
    clause = TEXT.index("(XIV) Domestic entities")
    path = doc.section_path(clause)
    assert path.startswith("China's Central Bank") and path.endswith("IV. Strict Supervision of Domestic Entities Engaging in Overseas Business Activities")


def test_segments_leave_out_headings_and_boilerplate():
    doc = _doc()
    indexed = "".join(TEXT[a:b] for a, b, _ in segments(doc))
    assert "Read more" not in indexed and "Popular coins" not in indexed and "You may also like" not in indexed
    assert "What is SoFi USD, and how is it backed?" not in indexed
    assert "SoFi USD is a forthcoming stablecoin" in indexed
    assert "Kyle knew his game" in indexed   # teaser text is content


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def test_splitter_keeps_abbreviations_and_numbers_whole():
    s = _sentences("SoFi opened its platform to select U.S. clients, with expanded access. Next one here.")
    assert s == ["SoFi opened its platform to select U.S. clients, with expanded access.", "Next one here."]
    s = _sentences('It was notice "Yinfa [2026] No. 42" from the bank. It repealed No. 237 of 2021.')
    assert len(s) == 2 and s[0].endswith("from the bank.")
    assert _sentences("Mr. Noto said so. Dr. Smith agreed, e.g. on Jan. 5 in the U.S. market.") == [
        "Mr. Noto said so.", "Dr. Smith agreed, e.g. on Jan. 5 in the U.S. market."]


def test_splitter_on_the_bundled_hard_cases():
    doc = _doc()
    spans = [sp for a, b, _ in segments(doc) for sp in split_sentences(TEXT, a, b)]
    sentences = [TEXT[a:b] for a, b in spans]
    for a, b in spans:
        assert TEXT[a:b] == TEXT[a:b].strip() and b > a
    # bullets are sentences of their own
    bullets = [s for s in sentences if s.startswith("•")]
    assert len(bullets) == 5 and all("\n" not in s for s in bullets)
    # "U.S." and "No. 42" do not end a sentence
    assert any("to select U.S. clients, with expanded access planned for the coming weeks." in s for s in sentences)
    assert any("(Yinfa [2026] No. 42)\", the latest regulatory requirements" in s for s in sentences)
    # a clause number stays with its clause; a clause label stays with its first sentence
    assert any(s.startswith("(XIV) Domestic entities engaging directly") for s in sentences)
    assert any(s.startswith("(5) Enhanced Risk Monitoring. The People's Bank of China") for s in sentences)
    # the FAQ answer is split into its sentences, and the question (a heading) is not among them
    assert "SoFi USD is a forthcoming stablecoin designed to be fully backed one-to-one by US dollars held in reserves." in sentences
    assert "What is SoFi USD, and how is it backed?" not in sentences
    # the numbered teaser list is one sentence, not "1." fragments
    assert not any(len(s) <= 3 for s in sentences)


def test_splitter_joins_wrapped_lines_but_not_paragraphs():
    text = "The bank said the rules\nwould change soon.\n\nA new paragraph starts here."
    assert _sentences(text) == ["The bank said the rules\nwould change soon.", "A new paragraph starts here."]


def test_each_row_of_a_markdown_table_is_a_sentence():
    """As an HTML table's rows are: before, the whole table was one sentence, longer than the reader reads and
    quoted whole for any of its figures."""
    text = ("You can claim at the rates below.\n| Vehicle | Rate |\n|---|---|\n| Car or van | 45p |\n| Bicycle | 20p |\n"
            "Rates follow HMRC's\napproved amounts | as set.")
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "You can claim at the rates below.", "| Vehicle | Rate |", "|---|---|", "| Car or van | 45p |",
        "| Bicycle | 20p |", "Rates follow HMRC's\napproved amounts | as set."]   # a wrapped line with a pipe stays


def test_markdown_headings_become_sections():
    text = "# Policy Handbook\n\nIntro text here.\n\n## Travel\n\nBook trains early.\n\n### Abroad\n\nCarry a passport.\n"
    layout = analyse(text, markdown=True)
    assert layout.title == "Policy Handbook"
    assert [(s.heading, s.level) for s in layout.sections] == [("Travel", 2), ("Abroad", 3)]
    doc = Document("m", "m.md", layout.title, text, layout.sections, layout.skip)
    assert doc.section_path(text.index("Carry")) == "Travel › Abroad"
    # what is indexed is the text under the headings: no "##" left over as a sentence
    assert [text[a:b] for a, b, _ in segments(doc)] == ["Intro text here.", "Book trains early.", "Carry a passport."]


def test_text_without_full_stops_is_cut_into_bounded_sentences():
    from embeddings.sentences import MAX_SENTENCE_CHARS

    text = " ".join(["word"] * 3000) + " " + "x" * 5000
    spans = split_sentences(text)
    assert all(0 < b - a <= MAX_SENTENCE_CHARS for a, b in spans)
    assert "".join(text[a:b] for a, b in spans).replace(" ", "") == text.replace(" ", "")


def _paged_contract(pages: int = 4) -> str:
    """A contract saved as text from a paged original: each page ends with its number and the filing's running
    footer, as EDGAR exhibits do; one clause heading recurs (twice, as headings may)."""
    body = []
    for page in range(1, pages + 1):
        body.append(f"{page}.1 Services. The Supplier shall provide the services described in Schedule {page} to the "
                    "Customer with reasonable skill and care.")
        body.append("Payment Terms" if page <= 2 else f"Clause {page} Notes")
        body.append(f"{page}.2 The Customer shall pay each invoice within thirty days of receiving it.")
        body.append(f"E - {page}")
        body.append("Source: ACME CORP, 8-K, 1/7/2019")
        body.append("CONFIDENTIAL TREATMENT REQUESTED")
    return "SUPPLY AGREEMENT\n\n" + "\n\n".join(body) + "\n"


def test_running_headers_and_footers_of_a_paged_text_are_skipped_not_headings():
    text = _paged_contract(pages=5)
    layout = analyse(text)
    skipped = {" ".join(text[a:b].split()) for a, b in layout.skip}
    headings = {s.heading for s in layout.sections}
    assert layout.title == "SUPPLY AGREEMENT"
    assert {"Source: ACME CORP, 8-K, 1/7/2019", "E - 3", "CONFIDENTIAL TREATMENT REQUESTED"} <= skipped
    assert not any(h.startswith(("Source:", "E - ", "CONFIDENTIAL")) for h in headings)
    assert "Payment Terms" in headings and "Clause 3 Notes" in headings   # a heading met twice stays a heading


def test_a_line_recurring_less_often_stays_in_the_text():
    text = _paged_contract(pages=2)   # the footer twice, the unnumbered line twice: too few to tell
    layout = analyse(text)
    skipped = {" ".join(text[a:b].split()) for a, b in layout.skip}
    assert "Source: ACME CORP, 8-K, 1/7/2019" not in skipped and "CONFIDENTIAL TREATMENT REQUESTED" not in skipped


def test_the_title_is_one_of_the_first_lines():
    text = ("This agreement is made between the parties named below on the date written at its end.\n\n"
            "It sets out the terms on which the Supplier supplies goods.\n\nThe Customer agrees to them.\n\n"
            "Each party signs below.\n\nThe schedules form part of it.\n\nIN WITNESS WHEREOF\n\nSigned by both parties.\n")
    assert analyse(text).title == ""   # a heading-like line near the end names no document
    assert analyse("SUPPLY AGREEMENT\n\n" + text).title == "SUPPLY AGREEMENT"


def test_a_sentence_cut_by_a_page_break_is_no_heading():
    text = ("SUPPLY AGREEMENT\n\n4.1 The Supplier shall deliver the goods to the premises of the\n\n7\n\n"
            "Customer within ten days of each order.\n\n4.2 Delivery Costs\n\nThe Supplier pays for delivery to the "
            "Customer's premises\n\n8\n\nwhere they lie within the United Kingdom.\n")
    layout = analyse(text)
    assert layout.title == "SUPPLY AGREEMENT"
    assert [s.heading for s in layout.sections] == ["4.2 Delivery Costs"]   # the cut lines run on below
