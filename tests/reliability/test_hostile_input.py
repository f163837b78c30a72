"""Hostile and bad input, generated: random Unicode documents, questions and file names never crash the
loader, splitter, answerer or renderer; offsets stay exact; everything shown is escaped.

hypothesis draws the inputs (a modest number in the default run, many with `-m slow`); the parts that
index with the real model draw few, since each example builds a real index.
"""
from __future__ import annotations

import html
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st

from assistant import Assistant, QuestionError, webui
from assistant.answer import Answer, Found, Quote
from embeddings import store
from embeddings.chunking import chunk_document
from embeddings.documents import Document
from embeddings.indexer import Indexer
from embeddings.layout import segments
from embeddings.loaders import SUPPORTED, LoadError, load
from embeddings.sentences import split_sentences

from .conftest import SCALES, SHORT, Scale, record

# Planted in documents, titles and questions: each must come out as text, never as markup or a link.
PAYLOADS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    '<a href="javascript:window.__xss = 3">map</a>',
    "[map](javascript:window.__xss = 4)",
    "<svg onload=alert(5)>",
    '"><iframe srcdoc="<script>alert(6)</script>">',
    "</textarea></div></span><b>bold",
    "${alert(7)} {{constructor.constructor('alert(8)')()}}",
    "&lt;script&gt; &amp;#x3C; &#60;b&#62;",
]
HEAVY = "<>&\"'`/\\=;:()[]{}#*_~|!.?,-•\n\n\n \t\r\x00\u2028\u200b\ufeffé中𝔘"
LIGHT = "abcdefghij ABCDEFG 0123456789 .,;:!?\"'()-\n"

texts = (st.text(max_size=1_500)
         | st.text(alphabet=HEAVY + LIGHT, max_size=1_500)
         | st.lists(st.sampled_from(PAYLOADS + ["Staff get 25 days of leave.", "# Leave\n", "\n\n", "- a bullet\n",
                                              "Mr. Smith arrived. ", "No. 42 applies. ", "区"]),
                    max_size=40).map("".join))
questions = st.text(max_size=2_500) | st.sampled_from(PAYLOADS) | st.text(alphabet=HEAVY + LIGHT, max_size=300)

TAG = re.compile(r'<(/?)([a-z]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*>')
ATTR = re.compile(r'([a-z-]+)="')
ENTITY = re.compile(r"&(?:[a-z]+|#[0-9]+|#x[0-9a-f]+);", re.I)
TAGS = {"div", "span", "mark", "p", "br", "table", "thead", "tbody", "tr", "th", "td"}
ATTRS = {"class", "id", "title", "data-cite", "role", "tabindex"}


def _hypothesis(scale: Scale, examples: int):
    """The short scale draws the same examples every run (a steady CI); the full one explores afresh."""
    return hsettings(max_examples=examples, deadline=None, database=None, derandomize=scale is SHORT,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def assert_inert(fragment: str) -> str:
    """Every tag is one the renderers write, with their attributes only (no on*, href, src, style); no
    other '<', '>' or raw '&' is left, so nothing from a document can open a tag or an entity.
    Returns the visible text (tags removed, entities decoded)."""
    for match in TAG.finditer(fragment):
        assert match.group(2) in TAGS, match.group(0)
        assert set(ATTR.findall(match.group(3))) <= ATTRS, match.group(0)
    rest = TAG.sub("", fragment)
    assert "<" not in rest and ">" not in rest, rest[:300]
    assert "&" not in ENTITY.sub("", rest), rest[:300]
    return html.unescape(TAG.sub("", fragment))


def _spans(text: str, data) -> list[tuple[int, int]]:
    """Up to three non-empty spans of `text`, drawn by hypothesis."""
    if not text:
        return []
    spans = []
    for _ in range(data.draw(st.integers(0, 3))):
        start = data.draw(st.integers(0, len(text) - 1))
        spans.append((start, data.draw(st.integers(start + 1, min(len(text), start + 400)))))
    return spans


@pytest.mark.parametrize("scale", SCALES)
def test_random_files_load_and_split_with_exact_offsets(scale: Scale, encoder):
    tried = [0]

    @_hypothesis(scale, scale.examples)
    @given(text=texts, suffix=st.sampled_from([".txt", ".md"]),
           sizes=st.sampled_from([(200, 40), (24, 6), (8, 0)]))
    @example(text="\r\n".join(PAYLOADS), suffix=".md", sizes=(8, 0))
    def check(text: str, suffix: str, sizes: tuple[int, int]) -> None:
        tried[0] += 1
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"doc{suffix}"
            path.write_bytes(text.encode("utf-8", "surrogatepass"))
            try:
                doc = load(path)
            except LoadError:
                return
            assert doc.text == path.read_text(encoding="utf-8")   # exactly as read: offsets into the file
        n = len(doc.text)
        for section in doc.sections:
            assert doc.text[section.start:section.end] == section.heading
        for start, end in doc.skip:
            assert 0 <= start <= end <= n
        segs = segments(doc)
        for start, end, _ in segs:
            assert 0 <= start < end <= n
        previous = 0
        for start, end in split_sentences(doc.text):
            assert previous <= start < end <= n and doc.text[start:end] == doc.text[start:end].strip()
            previous = end
        chunks = chunk_document(doc, encoder.count_tokens, *sizes)
        for p in chunks.passages:
            assert doc.text[p.start:p.end] == p.text and p.text.strip()
            assert any(a <= p.start and p.end <= b for a, b, _ in segs)   # inside one indexed span
            assert encoder.count_tokens(p.text) <= sizes[0] or len(p.text.split()) <= 1
        for s, host in zip(chunks.sentences, chunks.hosts):
            assert doc.text[s.start:s.end] == s.text
            holders = [i for i, p in enumerate(chunks.passages) if p.start <= s.start and s.end <= p.end]
            assert host == (holders[0] if holders else -1)

    check()
    record(f"random text files ({scale.name})", f"{tried[0]} loaded, split and chunked with exact offsets")


@pytest.mark.parametrize("scale", SCALES)
def test_random_bytes_in_any_format_are_refused_with_a_reason_or_loaded(scale: Scale):
    tried = [0]

    @_hypothesis(scale, scale.examples)
    @given(data=st.binary(max_size=3_000) | texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
           suffix=st.sampled_from(sorted(SUPPORTED)))
    @example(data=b"\xff\xfe\x00\x00garbage", suffix=".docx")
    @example(data=b"%PDF-1.7\n%broken", suffix=".pdf")
    @example(data=("<html><body>" + "".join(PAYLOADS) + "</body></html>").encode(), suffix=".html")
    def check(data: bytes, suffix: str) -> None:
        tried[0] += 1
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"doc{suffix}"
            path.write_bytes(data)
            try:
                doc = load(path)
            except LoadError as e:
                assert str(e).strip()   # a reason a person can act on
                return
        assert doc.text.strip()
        for section in doc.sections:
            assert doc.text[section.start:section.end] == section.heading

    check()
    record(f"random bytes as files ({scale.name})",
           f"{tried[0]} tried across {', '.join(sorted(SUPPORTED))}: each loaded or refused with a reason")


def _holds_the_contract(bot: Assistant, answer: Answer) -> None:
    for span in (*answer.quotes, *answer.passages):
        assert bot.document(span.doc_id).text[span.start:span.end] == span.text
    assert 0.0 <= answer.confidence <= 1.0 and (answer.abstained == (not answer.quotes))
    json.dumps(answer.to_dict())
    assert_inert(webui.answer_html(answer, webui.citations(answer)))


@pytest.mark.parametrize("scale", SCALES)
def test_random_questions_get_an_answer_or_the_reason(scale: Scale, bot):
    tried, refused = [0], [0]

    @_hypothesis(scale, scale.examples)
    @given(question=questions, history=st.lists(questions, max_size=4))
    @example(question="x" * 100_000, history=[])
    @example(question="Who supervises it?", history=["<script>alert(1)</script> RWA tokenization?"])
    def check(question: str, history: list[str]) -> None:
        tried[0] += 1
        try:
            answer = bot.ask(question, history=history)
        except QuestionError as e:
            refused[0] += 1
            assert str(e).strip()
            return
        assert answer.question == question.strip()
        _holds_the_contract(bot, answer)

    check()
    record(f"random questions ({scale.name})",
           f"{tried[0]} asked ({refused[0]} refused with a reason, the rest answered within the contract)")


@pytest.mark.parametrize("scale", SCALES)
def test_random_documents_index_and_answer_with_the_real_model(scale: Scale, settings, encoder):
    tried = [0]

    @_hypothesis(scale, scale.model_examples)
    @given(text=texts, words=st.lists(st.sampled_from(PAYLOADS + ["leave", "days", "office", "区"]), max_size=4))
    @example(text="Parking\n\n" + " ".join(PAYLOADS) + "\n\nVisitors park on level two.", words=["park"])
    def check(text: str, words: list[str]) -> None:
        tried[0] += 1
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "doc.md"
            path.write_text(text + "\nStaff get 25 days of annual leave.\n", encoding="utf-8", newline="")
            s = settings.replace(index_dir=Path(tmp) / "index")
            summary = Indexer(s, encoder).index([path])
            if summary.skipped:   # e.g. NUL bytes: refused with the reason, nothing indexed
                assert summary.skipped[0].reason.strip() and summary.documents == 0
                return
            assert summary.added == 1, summary.line()
            bot = Assistant(s, store.load(s.index_dir, s.model_name), encoder)
            for question in ("How many days of annual leave do staff get?", " ".join(words) or "leave"):
                _holds_the_contract(bot, bot.ask(question))

    check()
    record(f"random documents indexed with the real model ({scale.name})",
           f"{tried[0]} indexed and asked about, offsets exact and output escaped")


@pytest.mark.parametrize("scale", SCALES)
def test_renderers_show_document_text_only_as_escaped_text(scale: Scale):
    tried = [0]

    @_hypothesis(scale, scale.examples)
    @given(text=texts.filter(bool), title=texts, source=texts, section=texts, question=questions, data=st.data())
    @example(text="Intro " + " ".join(PAYLOADS) + " end.", title=PAYLOADS[1], source=PAYLOADS[0],
             section=PAYLOADS[3], question=PAYLOADS[2], data=None)
    def check(text: str, title: str, source: str, section: str, question: str, data) -> None:
        tried[0] += 1
        doc = Document("d1", source, title, text)
        spans = _spans(text, data) if data is not None else [(6, 40), (0, len(text))]
        quotes = tuple(Quote("d1", a, b, text[a:b], 0.9, source, title, section) for a, b in spans[:2])
        found = tuple(Found("d1", a, b, text[a:b], 0.5, source, title, section) for a, b in spans)
        for answer in (Answer(question, quotes, found, 0.9), Answer(question, (), found, 0.1)):
            cites = webui.citations(answer)
            message = webui.answer_html(answer, cites)
            assert "\n" not in message   # a blank line would end the HTML block and let Markdown read the rest
            assert_inert(message)
            for turn in webui.chat_messages([webui.Turn(question, (), answer)]):
                assert "\n" not in turn["content"] and assert_inert(turn["content"]) is not None
            assert_inert(webui.sources_html(answer, cites))
            for cite in cites:
                shown = assert_inert(webui.viewer_html(doc, cite))
                assert text.replace("\r\n", "\n") in shown.replace("\r\n", "\n")   # the whole document, as text
        info = store.DocInfo("d1", title, source, 3, len(text), "2025-01-01T00:00:00+00:00")
        assert_inert(webui.library_html([info]))
        assert_inert(webui.status_html(f"{title!r} can't be read: {text[:200]}", ok=False))

    check()
    record(f"renderer inputs ({scale.name})",
           f"{tried[0]} documents, titles, sources and questions with planted markup rendered as inert text")


@pytest.mark.parametrize("scale", SCALES)
def test_upload_names_never_leave_the_upload_folder(scale: Scale, tmp_path):
    folder = (tmp_path / "uploads").resolve()
    tried, kept = [0], [0]
    parts = st.sampled_from(["..", ".", "/", "\\", "\x00", "~", "C:", "%2e%2e", "\u202e", "..\u2215", " ", "etc",
                             "passwd", "中文", ".txt", ".md", ".exe", ".TXT", "\n"])

    @_hypothesis(scale, scale.examples * 5)
    @given(name=st.lists(parts | st.text(max_size=12), max_size=10).map("".join)
           | st.text(max_size=300).map(lambda t: t + ".txt"))
    @example(name="../../etc/cron.d/evil.txt")
    @example(name="/etc/passwd.md")
    @example(name="..\\..\\windows\\win.ini.txt")
    @example(name="evil\x00.txt")
    @example(name="." * 300 + "txt")
    def check(name: str) -> None:
        tried[0] += 1
        try:
            safe = webui.upload_name(name, SUPPORTED)
        except webui.LibraryError as e:
            assert str(e).strip()
            return
        kept[0] += 1
        assert (folder / safe).resolve().parent == folder
        assert not safe.startswith(".") and not set("/\\\x00\n") & set(safe) and safe == safe.strip()
        assert Path(safe).suffix in SUPPORTED and len(safe) <= 110

    check()
    record(f"upload names ({scale.name})",
           f"{tried[0]} tried ({kept[0]} made safe inside the upload folder, the rest refused with a reason)")
