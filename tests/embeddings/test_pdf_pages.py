"""A PDF through the loader, chunker and store: page starts, page furniture left out, headings kept apart."""
from __future__ import annotations

import json

from test_formats import LAPTOPS, PASSWORDS, POLICY, POLICY_PAGES, SCOPE, make_paged_pdf, make_pdf

from embeddings.chunking import chunk_document
from embeddings.documents import Document, page_of
from embeddings.loaders import load
from embeddings.store import _doc_from_json, _doc_to_json


def _policy(tmp_path) -> Document:
    path = tmp_path / "it_security.pdf"
    path.write_bytes(make_paged_pdf(POLICY_PAGES))
    return load(path)


def _words(text: str) -> str:
    return " ".join(text.split())


def test_pdf_document_knows_the_page_of_every_offset(tmp_path):
    doc = _policy(tmp_path)

    assert doc.title == POLICY and len(doc.pages) == 3
    assert page_of(doc, 0) == 1
    assert page_of(doc, doc.text.index("Passwords must")) == 2
    assert page_of(doc, doc.text.index("Laptops are")) == 3 and page_of(doc, len(doc.text)) == 3
    assert page_of(Document("t", "t.txt", "T", "Plain text."), 0) is None


def test_pdf_sentences_and_passages_leave_the_page_furniture_out(tmp_path):
    doc = _policy(tmp_path)

    chunks = chunk_document(doc, lambda text: len(text.split()), chunk_tokens=60, overlap_tokens=10)

    for span in (*chunks.passages, *chunks.sentences):
        assert doc.text[span.start:span.end] == span.text
        assert "Internal use only" not in span.text and "of 3" not in span.text
        assert not span.text.startswith(("Passwords\n", POLICY))   # no heading glued to its sentence
    sentences = [_words(s.text) for s in chunks.sentences]
    assert PASSWORDS in sentences and SCOPE in sentences   # whole, though wrapped over three lines
    assert "\n" in next(s.text for s in chunks.sentences if _words(s.text) == PASSWORDS)  # the text stays exact
    assert LAPTOPS.split(". ")[0] + "." in sentences
    sections = {_words(p.text)[:20]: p.section for p in chunks.passages}
    assert sections[PASSWORDS[:20]] == "Passwords" and sections[SCOPE[:20]] == "1. Introduction"


def test_saved_documents_keep_their_pages_and_old_lines_still_load(tmp_path):
    doc = _policy(tmp_path)

    assert _doc_from_json(_doc_to_json(doc)) == doc
    plain = Document("t", "t.txt", "T", "Plain text.", content_hash="h")
    assert "pages" not in json.loads(_doc_to_json(plain)) and _doc_from_json(_doc_to_json(plain)) == plain
    old = json.loads(_doc_to_json(doc))
    del old["pages"]   # a line saved before documents had pages
    assert _doc_from_json(json.dumps(old)).pages == ()


def test_pdf_without_a_title_line_is_named_after_its_file(tmp_path):
    path = tmp_path / "it_security_2026.pdf"
    path.write_bytes(make_pdf([[(1, "1. Introduction"), (0, SCOPE)], [(1, "2. Passwords"), (0, PASSWORDS)]]))

    assert load(path).title == "it security 2026"
