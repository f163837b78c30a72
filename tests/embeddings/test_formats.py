"""Tests for embeddings.formats: each test makes a small real HTML, PDF or DOCX file and extracts it.

PDFs are drawn with reportlab (a test-only dependency), DOCX files written with python-docx.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from conftest import ROOT
from pdfs import make_pdf
from embeddings.formats import Extracted, FormatError, extract_docx, extract_html, extract_pdf

LEAVE = (
    "Every employee is entitled to twenty-five days of paid annual leave per calendar year, "
    "plus the public holidays of the office where they work."
)
CARRY = (
    "Up to five unused days can be carried over into the first quarter of the next year, "
    "with written approval from the line manager."
)
SICK = "Sick leave does not count against annual leave and needs a doctor's note after three days."


def headings(extracted: Extracted) -> list[tuple[str, int]]:
    """(heading, level) of every section, after checking each one's offsets point at its heading."""
    for section in extracted.sections:
        assert extracted.text[section.start:section.end] == section.heading
    return [(section.heading, section.level) for section in extracted.sections]


# --- HTML -------------------------------------------------------------------------------------------

ARTICLE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Annual leave policy | Acme Intranet</title>
<style>body {{ font-family: sans-serif }}</style></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/about">About us</a></li><li><a href="/jobs">Careers</a></li></ul></nav>
<div class="share-buttons"><a href="#">Share on Twitter</a> <a href="#">Share on Facebook</a></div>
<article>
  <h1>Annual leave policy</h1>
  <p>{LEAVE}</p>
  <h2>Carrying over days</h2>
  <p>{CARRY}</p>
  <ul><li>Ask your manager in writing before December.</li><li>Carried-over days expire on March 31.</li></ul>
  <h2>Sick leave</h2>
  <p>{SICK}</p>
</article>
<aside class="related"><h3>Related articles</h3><ul><li><a href="/a">Ten tips for a better commute</a></li>
<li><a href="/b">Meet the new catering team</a></li></ul></aside>
<footer><p>Copyright 2026 Acme Corp. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def test_html_keeps_the_article_with_its_headings_and_drops_the_boilerplate():
    extracted = extract_html(ARTICLE.encode("utf-8"))

    assert LEAVE in extracted.text and CARRY in extracted.text and SICK in extracted.text
    boilerplate = ("About us", "Careers", "Share on", "Related articles", "commute", "Copyright", "Privacy")
    for text in boilerplate:
        assert text not in extracted.text
    assert "font-family" not in extracted.text
    assert headings(extracted) == [("Annual leave policy", 1), ("Carrying over days", 2), ("Sick leave", 2)]
    assert extracted.title == "Annual leave policy"
    # Paragraphs and list items are blocks of their own, separated by blank lines.
    assert f"{LEAVE}\n\nCarrying over days\n\n{CARRY}\n\nAsk your manager" in extracted.text
    assert "before December.\n\nCarried-over days expire on March 31." in extracted.text


def test_html_without_an_article_element_keeps_its_headings_and_lists():
    page = f"""<html><head><title>Leave policy - Acme intranet</title></head><body>
    <div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
    <div class="header"><div class="menu"><a href="/">Home</a> <a href="/hr">HR</a> <a href="/it">IT help</a></div></div>
    <div class="container"><div class="row"><div class="col-8">
      <h1>Leave policy</h1>
      <p>{LEAVE}</p>
      <h2>Carrying over</h2>
      <p>{CARRY}</p>
      <ul><li>Ask your manager in writing before December.</li><li>Carried-over days expire on March 31.</li></ul>
      <h2>Sick leave</h2>
      <p>{SICK}</p>
    </div>
    <div class="col-4 sidebar"><h3>Popular pages</h3><ul><li><a>Expense claims explained in detail</a></li>
      <li><a>How to book a meeting room</a></li></ul>
      <h3>Newsletter</h3><p>Sign up to get the weekly staff newsletter in your inbox every Monday.</p></div>
    </div></div>
    <div class="related"><h3>You may also like</h3><div class="card"><a>Ten tips for a better commute</a></div></div>
    <div class="site-footer"><p>Copyright 2026 Acme Corp. All rights reserved.</p><a>Privacy</a></div>
    </body></html>"""

    extracted = extract_html(page.encode())

    assert headings(extracted) == [("Leave policy", 1), ("Carrying over", 2), ("Sick leave", 2)]
    assert f"{CARRY}\n\nAsk your manager in writing before December.\n\nCarried-over days expire" in extracted.text
    for boilerplate in ("cookies", "IT help", "Popular pages", "Expense claims", "newsletter", "commute", "Copyright"):
        assert boilerplate not in extracted.text


def test_tiny_html_page_falls_back_to_its_visible_text():
    page = b"""<html><head><title>Office hours</title></head><body>
    <h1>Office hours</h1><p>Open <b>9 to 5</b>.<br>Closed on Sundays.</p>
    <table><tr><td>Reception</td><td>Ground floor</td></tr></table></body></html>"""

    extracted = extract_html(page)

    assert extracted.text == "Office hours\n\nOpen 9 to 5.\n\nClosed on Sundays.\n\nReception | Ground floor"
    assert headings(extracted) == [("Office hours", 1)]
    assert extracted.title == "Office hours"


@pytest.mark.parametrize("padding", [0, 4], ids=["tiny-page", "article-page"])
def test_hostile_html_never_turns_script_into_text(padding):
    body = "".join(f"<p>{LEAVE}</p>" for _ in range(padding))
    page = f"""<html><head><script>alert(1)</script><title>Notice</title></head><body>
    <h1>Notice</h1><script type="text/javascript">alert(1); document.cookie</script>
    <p>Hello <img src="x" onerror="alert(2)">staff.<noscript>enable javascript</noscript></p>{body}
    <style>p {{ color: red }}</style><!-- alert(3) --></body></html>"""

    extracted = extract_html(page.encode())

    assert "Hello staff." in extracted.text
    for leaked in ("alert", "document.cookie", "onerror", "color: red", "javascript", "<"):
        assert leaked not in extracted.text


def test_html_in_latin1_is_decoded_by_its_meta_charset():
    page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">
    <title>Caf\xe9 r\xe8gles</title></head><body><h1>R\xe8gles du caf\xe9</h1>
    <p>Le caf\xe9 est ouvert \xe0 tous, na\xefvet\xe9 comprise. {LEAVE}</p>
    <h2>D\xe9j\xe0 vu</h2><p>\x93Quoted\x94 by the fa\xe7ade team. {CARRY}</p></body></html>"""

    extracted = extract_html(page.encode("latin-1"))

    assert "Le café est ouvert à tous, naïveté comprise." in extracted.text
    # Browsers read "iso-8859-1" as windows-1252: 0x93/0x94 are curly quotes, not control characters.
    assert "\u201cQuoted\u201d by the façade team." in extracted.text
    assert headings(extracted) == [("Règles du café", 1), ("Déjà vu", 2)]
    assert extracted.title == "Règles du café"


def test_html_that_decodes_neither_as_declared_nor_as_utf8_is_refused():
    with pytest.raises(FormatError, match="cannot decode this HTML page.*UTF-8"):
        extract_html("<html><body><p>Caf\xe9 cr\xe8me</p></body></html>".encode("latin-1"))
    with pytest.raises(FormatError, match="declared charset 'utf-8'"):
        extract_html(b'<meta charset="utf-8"><p>Caf\xe9</p>')


def test_html_without_text_is_refused():
    with pytest.raises(FormatError, match="no text found in this HTML page"):
        extract_html(b"<html><body><script>alert(1)</script><img src='x.png'></body></html>")


# --- PDF --------------------------------------------------------------------------------------------

def test_pdf_headings_found_by_layout():
    data = make_pdf([[(1, "Annual leave"), (0, LEAVE), (1, "Carrying over days"), (0, CARRY)]])

    extracted = extract_pdf(data)

    assert headings(extracted) == [("Annual leave", 1), ("Carrying over days", 1)]
    assert extracted.title == "Annual leave"  # reportlab's metadata title is the placeholder "untitled"
    assert extracted.text.startswith("Annual leave\n\nEvery employee is entitled")
    assert "\n\nCarrying over days\n\nUp to five unused days" in extracted.text
    assert " ".join(extracted.text.split()).endswith(CARRY)


def test_two_page_pdf_with_an_outline():
    data = make_pdf(
        [
            [(1, "Leave handbook"), (0, LEAVE)],
            [(2, "Carrying over days"), (0, CARRY), (2, "Sick leave"), (0, SICK)],
        ],
        title="Leave handbook 2026",
        outline=True,
    )

    extracted = extract_pdf(data)

    assert extracted.title == "Leave handbook 2026"
    assert headings(extracted) == [("Leave handbook", 1), ("Carrying over days", 2), ("Sick leave", 2)]
    page_one, page_two = extracted.text.split("\n\nCarrying over days\n\n")
    assert " ".join(page_one.split()).endswith(LEAVE)
    assert " ".join(page_two.split()).startswith(CARRY)


def test_pdf_running_headers_are_not_headings():
    header = (0, "Acme Handbook")
    data = make_pdf([[header, (1, "Annual leave"), (0, LEAVE)], [header, (1, "Sick leave"), (0, SICK)]])

    assert headings(extract_pdf(data)) == [("Annual leave", 1), ("Sick leave", 1)]


def test_pdf_without_text_asks_for_ocr():
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.rect(72, 400, 300, 200, fill=1)  # what a scan is to a text extractor: marks, no text layer
    pdf.showPage()
    pdf.save()

    with pytest.raises(FormatError, match=r"no text found in this PDF \(scanned image\? run OCR first\)"):
        extract_pdf(buffer.getvalue())


@pytest.mark.parametrize(
    "data", [b"%PDF-1.4\n1 0 obj garbage", b"not a pdf at all", b""], ids=["garbage", "text", "empty"]
)
def test_corrupt_pdf_is_refused(data):
    with pytest.raises(FormatError, match="^corrupt PDF: .+"):
        extract_pdf(data)


def test_truncated_pdf_is_refused():
    data = make_pdf([[(1, "Annual leave"), (0, LEAVE)]])
    with pytest.raises(FormatError, match="^corrupt PDF"):
        extract_pdf(data[: len(data) // 2])


def test_password_protected_pdf_is_refused_and_an_owner_only_lock_is_not():
    def encrypted(user_password: str) -> bytes:
        writer = PdfWriter()
        writer.append(PdfReader(io.BytesIO(make_pdf([[(1, "Annual leave"), (0, LEAVE)]]))))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()

    with pytest.raises(FormatError, match="encrypted PDF: it needs a password"):
        extract_pdf(encrypted("secret"))
    assert extract_pdf(encrypted("")).title == "Annual leave"


POLICY = "Acme IT Security Policy"
SCOPE = "This policy applies to every employee, contractor and temporary worker of Acme, wherever they work."
PASSWORDS = (
    "Passwords must be at least twelve characters long and must be changed again every night by the staff "
    "member who holds the account, without exception."
)
LAPTOPS = "Laptops are encrypted with the company key. Lost laptops are reported to the service desk within the hour."
POLICY_PAGES = [
    [(1, POLICY), (1, "1. Introduction"), (0, SCOPE)],
    [(2, "Passwords"), (0, PASSWORDS)],
    [(2, "Laptops"), (0, LAPTOPS)],
]


def make_paged_pdf(pages: list[list[tuple[int, str]]], title: str = "") -> bytes:
    """Narrow pages (lines wrap mid-sentence) with a running header and a "Page N of M" footer."""
    return make_pdf(pages, title, header=(POLICY, "Internal use only"), footer=True, width=300)


def test_pdf_running_headers_and_page_numbers_are_skip_spans_and_pages_are_recorded():
    extracted = extract_pdf(make_paged_pdf(POLICY_PAGES))
    text = extracted.text

    header = f"{POLICY}\nInternal use only"
    assert [text[a:b] for a, b in extracted.skip] == [header, "Page 1 of 3", header, "Page 2 of 3", header, "Page 3 of 3"]
    # every page starts at its running header; the title line under the first one is text, not furniture
    assert len(extracted.pages) == 3 and extracted.pages[0] == 0
    for start in extracted.pages:
        assert text.startswith(POLICY + "\nInternal use only", start)
    assert extracted.pages[1] < text.index("Passwords must") < extracted.pages[2] < text.index("Laptops are")


def test_pdf_heading_after_the_page_header_stays_a_heading():
    extracted = extract_pdf(make_paged_pdf(POLICY_PAGES))

    assert headings(extracted) == [(POLICY, 1), ("1. Introduction", 1), ("Passwords", 1), ("Laptops", 1)]
    # each heading is a block of its own, not glued to the sentence under it
    assert "\n\nPasswords\n\nPasswords must be at least" in extracted.text
    assert "Internal use only\nPasswords" not in extracted.text and "of 3\nPasswords" not in extracted.text


def test_pdf_title_is_the_metadata_or_the_title_line_never_a_numbered_heading():
    assert extract_pdf(make_paged_pdf(POLICY_PAGES)).title == POLICY
    assert extract_pdf(make_paged_pdf(POLICY_PAGES, title="IT Security 2026")).title == "IT Security 2026"
    word = make_paged_pdf(POLICY_PAGES, title="Microsoft Word - it-security.docx")
    assert extract_pdf(word).title == "it-security"
    numbered_first = [[(1, "1. Introduction"), (0, SCOPE)], [(1, "2. Passwords"), (0, PASSWORDS)]]
    assert extract_pdf(make_paged_pdf(numbered_first)).title == POLICY   # the running header names it
    extracted = extract_pdf(make_pdf(numbered_first))
    assert extracted.title == ""   # no title line at all: the loader names it after its file
    assert headings(extracted) == [("1. Introduction", 1), ("2. Passwords", 1)]


def test_pypdf_warnings_go_to_the_log_not_the_terminal(tmp_path):
    """A damaged but readable PDF: pypdf's complaints reach a configured log, and never the bare terminal."""
    path = tmp_path / "damaged.pdf"
    path.write_bytes(b"\n\n" + make_pdf([[(1, "Annual leave"), (0, LEAVE)]]))
    code = (
        "import logging, sys\nfrom pathlib import Path\nfrom embeddings.formats import extract_pdf\n"
        "if sys.argv[2] == 'log': logging.basicConfig(stream=sys.stdout)\n"
        "print(extract_pdf(Path(sys.argv[1]).read_bytes()).title)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bare = subprocess.run([sys.executable, "-c", code, str(path), "bare"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert bare.returncode == 0 and bare.stdout.strip() == "Annual leave"
    assert bare.stderr == ""
    logged = subprocess.run([sys.executable, "-c", code, str(path), "log"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert "invalid pdf header" in logged.stdout


# --- DOCX -------------------------------------------------------------------------------------------

def make_docx(core_title: str = "") -> bytes:
    document = docx.Document()
    document.core_properties.title = core_title
    document.add_heading("Leave handbook", level=0)  # the "Title" style
    document.add_paragraph("")  # empty paragraphs are left out
    document.add_heading("Annual leave", level=1)
    document.add_paragraph(LEAVE)
    document.add_heading("Carrying over days", level=2)
    document.add_paragraph(CARRY)
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, [("Years of service", "Days"), ("0 to 5", "25"), ("Note", "")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    table.cell(2, 0).merge(table.cell(2, 1)).text = "Part-time staff: pro rata"
    document.add_paragraph(SICK)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_headings_and_table():
    extracted = extract_docx(make_docx())

    assert extracted.text == "\n\n".join([
        "Leave handbook", "Annual leave", LEAVE, "Carrying over days", CARRY,
        "Years of service | Days", "0 to 5 | 25",
        "Part-time staff: pro rata",  # the merged cell counts once, not once per column it spans
        SICK,
    ])
    assert headings(extracted) == [("Leave handbook", 1), ("Annual leave", 1), ("Carrying over days", 2)]
    assert extracted.title == "Leave handbook"


def test_docx_title_comes_from_core_properties_first():
    assert extract_docx(make_docx(core_title="Acme leave handbook 2026")).title == "Acme leave handbook 2026"


def test_docx_without_headings_takes_its_first_line_as_title():
    document = docx.Document()
    document.add_paragraph("Minutes of the staff meeting\nheld on 3 March")
    document.add_paragraph(LEAVE)
    buffer = io.BytesIO()
    document.save(buffer)

    extracted = extract_docx(buffer.getvalue())

    assert extracted.title == "Minutes of the staff meeting"
    assert extracted.sections == ()


def test_docx_custom_style_based_on_a_heading_is_a_heading():
    document = docx.Document()
    style = document.styles.add_style("Policy Heading", WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Heading 2"]
    document.add_paragraph("Who may apply", style="Policy Heading")
    document.add_paragraph(LEAVE)
    buffer = io.BytesIO()
    document.save(buffer)

    assert headings(extract_docx(buffer.getvalue())) == [("Who may apply", 2)]


def test_docx_without_text_is_refused():
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with pytest.raises(FormatError, match="no text found in this DOCX"):
        extract_docx(buffer.getvalue())


def test_corrupt_docx_is_refused():
    not_a_docx = io.BytesIO()
    with zipfile.ZipFile(not_a_docx, "w") as archive:
        archive.writestr("hello.txt", "a zip, but not a Word document")
    for data in (b"PK\x03\x04 truncated zip", b"plain text", not_a_docx.getvalue(), make_docx()[:2000]):
        with pytest.raises(FormatError, match="^corrupt DOCX: .+"):
            extract_docx(data)
