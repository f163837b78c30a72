"""The web chat's renderers and helpers, without a browser: escaping, marks placed by offsets, numbering."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant import webui
from assistant.answer import ABSTAIN_TEXT, Answer, Found, Quote
from assistant.feedback import append_feedback, feedback_record
from embeddings.documents import Document

EVIL = 'Intro <script>alert(1)</script> and <img src=x onerror="alert(2)"> <a href="javascript:alert(3)">x</a>.'
TEXT = (
    "Leave policy\n\n"
    "Staff get 25 days of annual leave. Unused days expire in March. "
    "The office closes at six. " + EVIL + "\n"
    "Parking is free on level two. Bikes go in the basement."
)
DOC = Document("d1", "docs/leave.txt", "Leave policy", TEXT)


def span(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """Offsets of the nth occurrence — test setup only; the code under test never searches."""
    starts = [m.start() for m in re.finditer(re.escape(needle), text)]
    return starts[nth], starts[nth] + len(needle)


def quote(needle: str, score: float = 0.9, doc: str = "d1", text: str = TEXT, nth: int = 0) -> Quote:
    s, e = span(text, needle, nth)
    return Quote(doc, s, e, text[s:e], score, source="docs/leave.txt", title="Leave <b>policy</b>",
                 section="Annual & other")


def found(s: int, e: int, score: float = 0.5, doc: str = "d1", text: str = TEXT) -> Found:
    return Found(doc, s, e, text[s:e], score, source="docs/leave.txt", title="Leave <b>policy</b>",
                 section="Annual & other")


def strip_tags(fragment: str) -> str:
    return re.sub(r"<[^>]+>", "", fragment)


def answers_from(answer: Answer, source_name: str) -> bool:
    """The answer quotes the file named `source_name`."""
    return any(Path(q.source).name == source_name for q in answer.quotes)


def test_citations_number_quotes_by_the_passage_that_holds_them():
    p1 = found(*span(TEXT, "Staff get 25 days of annual leave. Unused days expire in March."))
    p2 = found(*span(TEXT, "Parking is free on level two. Bikes go in the basement."))
    q1, q2, q3 = quote("Parking is free on level two."), quote("Staff get 25 days"), quote("Bikes go in the basement.")
    answer = Answer("q?", (q1, q2, q3), (p1, p2), 0.8)

    cites = webui.citations(answer)

    assert [c.number for c in cites] == [1, 2]
    assert (cites[0].start, cites[0].end) == (p2.start, p2.end)     # first quote's passage is [1]
    assert cites[0].quotes == (q1, q3) and cites[1].quotes == (q2,)
    html = webui.answer_html(answer, cites)
    assert [m for m in re.findall(r"\[(\d)\]", strip_tags(html))] == ["1", "2", "1"]


def test_a_quote_outside_every_passage_is_cited_on_its_own():
    q = quote("The office closes at six.")
    other = found(*span(TEXT, "Parking is free on level two."))
    (cite,) = webui.citations(Answer("q?", (q,), (other,), 0.7))
    assert (cite.start, cite.end, cite.text, cite.quotes) == (q.start, q.end, q.text, (q,))


def test_an_abstention_cites_the_nearest_passages_and_says_so():
    near = found(*span(TEXT, "Parking is free on level two."), score=0.2)
    answer = Answer("Who is the CEO?", (), (near,), 0.1)
    cites = webui.citations(answer)
    assert len(cites) == 1 and cites[0].quotes == ()
    assert ABSTAIN_TEXT.split(".")[0] in webui.answer_html(answer, cites).replace("&#x27;", "'")
    sources = webui.sources_html(answer, cites)
    assert "Nearest passages" in sources and "<mark" not in sources and "Parking is free" in sources


def test_nearest_passages_after_an_abstention_show_no_scores():
    near = [found(*span(TEXT, "Parking is free on level two."), score=1.0),
            found(*span(TEXT, "Bikes go in the basement."), score=0.93)]
    sources = webui.sources_html(Answer("Who is the CEO?", (), tuple(near), 0.1), webui.citations(
        Answer("Who is the CEO?", (), tuple(near), 0.1)))
    assert "score" not in sources and "1.00" not in sources and "0.93" not in sources and "vb-score" not in sources
    assert sources.count("vb-near-card") == 2 and "Nearest passages" in sources


def test_marks_sit_exactly_on_the_offsets_even_when_the_text_repeats():
    text = "A cat. A cat. A cat."
    s, e = span(text, "A cat.", nth=1)
    html = webui.marked(text, 0, [(s, e)], hit=True)
    assert html == 'A cat. <mark id="verbatim-hit">A cat.</mark> A cat.'
    # base offset: the text is a slice starting at document offset 100
    assert webui.marked("xyz", 100, [(101, 102)]) == "x<mark>y</mark>z"


def test_marks_are_clipped_merged_and_only_the_first_is_the_hit():
    html = webui.marked("0123456789", 0, [(6, 8), (1, 3), (2, 4), (9, 20), (-5, 0)], hit=True)
    assert html == '0<mark id="verbatim-hit">123</mark>45<mark>67</mark>8<mark>9</mark>'


def test_document_text_is_escaped_everywhere():
    q = quote(EVIL)
    p = found(0, len(TEXT))
    answer = Answer('<script>alert("q")</script>', (q,), (p,), 0.9)
    cites = webui.citations(answer)
    turn = webui.Turn(answer.question, (), answer)
    pages = [
        webui.answer_html(answer, cites),
        webui.sources_html(answer, cites),
        webui.viewer_html(Document("d1", "uploads/<script>.txt", "<img src=x onerror=alert(4)>", TEXT), cites[0]),
        *(m["content"] for m in webui.chat_messages([turn])),
        webui.status_html('<img src=x onerror="alert(5)">', ok=False),
        webui.library_html([type("Info", (), {"doc_id": "d", "title": "<img src=x onerror=alert(6)>",
                                              "source": "<script>.txt", "passages": 1, "chars": 9,
                                              "indexed_at": "<script>"})]),
    ]
    for html in pages:
        assert "<script" not in html.lower()
        assert "<img" not in html.lower()
        assert "<a " not in html.lower() and 'href="javascript' not in html.lower()
        assert "<b>" not in html   # the title's markup is shown, not applied
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]
    assert "onerror=&quot;alert(2)&quot;" in pages[2]


def test_source_card_shows_where_score_and_the_quote_highlighted_in_its_passage():
    p = found(*span(TEXT, "Staff get 25 days of annual leave. Unused days expire in March."), score=0.031)
    q = quote("Unused days expire in March.", score=0.87)
    answer = Answer("When do days expire?", (q,), (p,), 0.87)
    html = webui.sources_html(answer, webui.citations(answer))
    assert 'data-cite="1"' in html
    assert 'title="Leave &lt;b&gt;policy&lt;/b&gt; › Annual &amp; other"' in html
    assert "Leave &lt;b&gt;policy&lt;/b&gt; ›" in html and '<span class="vb-section">Annual &amp; other</span>' in html
    assert "score 0.87" in html and "confidence 0.87" in html
    assert "Staff get 25 days of annual leave. <mark>Unused days expire in March.</mark>" in html


@dataclass(frozen=True, slots=True)
class PagedQuote(Quote):
    page: int | None = None


@dataclass(frozen=True, slots=True)
class PagedFound(Found):
    page: int | None = None


def test_a_quote_from_a_pdf_is_cited_by_its_page():
    p = found(*span(TEXT, "Staff get 25 days of annual leave. Unused days expire in March."))
    s1, e1 = span(TEXT, "Staff get 25 days")
    s2, e2 = span(TEXT, "Unused days expire in March.")
    q1 = PagedQuote("d1", s2, e2, TEXT[s2:e2], 0.9, page=5)
    q2 = PagedQuote("d1", s1, e1, TEXT[s1:e1], 0.8, page=4)
    answer = Answer("?", (q1, q2), (p,), 0.9)
    cites = webui.citations(answer)
    assert cites[0].pages == (4, 5)
    assert "[1, p. 5]" in webui.answer_html(answer, cites) and "[1, p. 4]" in webui.answer_html(answer, cites)
    assert '<span class="vb-page">pp. 4–5</span>' in webui.sources_html(answer, cites)
    assert '<span class="vb-page">pp. 4–5</span>' in webui.viewer_html(DOC, cites[0])
    near = PagedFound("d1", s1, e1, TEXT[s1:e1], 0.7, page=2)
    assert '<span class="vb-page">p. 2</span>' in webui.sources_html(Answer("?", (), (near,), 0.1),
                                                                     webui.citations(Answer("?", (), (near,), 0.1)))
    plain = Answer("?", (quote("Staff get 25 days"),), (p,), 0.9)   # a text file: no pages anywhere
    assert "vb-page" not in webui.sources_html(plain, webui.citations(plain)) and \
        "p." not in strip_tags(webui.answer_html(plain, webui.citations(plain)))


def test_a_long_passage_is_cut_around_the_quote_at_whitespace():
    text = " ".join(f"word{i}" for i in range(400))
    s, e = span(text, "word200")
    q = Quote("d", s, e, text[s:e], 0.9)
    cite = webui.citations(Answer("?", (q,), (Found("d", 0, len(text), text, 0.5),), 0.9))[0]
    html = webui.sources_html(Answer("?", (q,), (), 0.9), (cite,))
    context = strip_tags(re.search(r'<div class="vb-context">(.*?)</div>', html).group(1))
    assert context.startswith("…word") and context.endswith("…")
    assert all(re.fullmatch(r"word\d+", w) for w in context.strip("…").split())   # no word cut in two
    assert "<mark>word200</mark>" in html and len(context) < 2 * webui.CONTEXT_CHARS + 20


def test_a_card_with_quotes_far_apart_is_capped_at_whitespace():
    text = " ".join(f"word{i}" for i in range(2_000))
    quotes = tuple(Quote("d", *span(text, w), w, 0.9) for w in ("word10", "word1500"))
    cite = webui.citations(Answer("?", quotes, (Found("d", 0, len(text), text, 0.5),), 0.9))[0]
    html = webui.sources_html(Answer("?", quotes, (), 0.9), (cite,))
    context = strip_tags(re.search(r'<div class="vb-context">(.*?)</div>', html).group(1))
    assert len(context) <= webui.CARD_CHARS + 2 and context.endswith("…")
    numbers = [int(w.removeprefix("word")) for w in context.strip("…").split()]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))   # whole words: the last one not cut short


def test_viewer_shows_the_whole_document_with_the_hit_on_the_first_quote():
    p = found(*span(TEXT, "Staff get 25 days of annual leave. Unused days expire in March."))
    q1, q2 = quote("Unused days expire in March.", 0.9), quote("Staff get 25 days", 0.8)
    cite = webui.citations(Answer("?", (q1, q2), (p,), 0.9))[0]
    html = webui.viewer_html(DOC, cite)
    assert html.count('id="verbatim-hit"') == 1
    assert '<mark id="verbatim-hit">Staff get 25 days</mark>' in html   # first in reading order
    assert "<mark>Unused days expire in March.</mark>" in html
    body = re.search(r'<div class="vb-doc">(.*)</div></div>$', html, re.S).group(1)
    import html as html_lib
    assert html_lib.unescape(strip_tags(body)) == TEXT


def test_viewer_marks_a_nearest_passage_and_refuses_stale_offsets():
    p = found(*span(TEXT, "Parking is free on level two."))
    cite = webui.citations(Answer("?", (), (p,), 0.1))[0]
    assert '<mark id="verbatim-hit" class="vb-near">Parking is free on level two.</mark>' in \
        webui.viewer_html(DOC, cite)
    changed = Document("d1", "docs/leave.txt", "Leave policy", "New first line.\n" + TEXT)
    assert "changed since the answer" in webui.viewer_html(changed, cite)
    assert "Click a source" in webui.viewer_html(None, None)


def test_chat_messages_alternate_user_and_assistant():
    q = quote("Parking is free on level two.")
    turns = [webui.Turn("Where do I park?", (), Answer("Where do I park?", (q,), (), 0.9)),
             webui.Turn("And bikes?", ("Where do I park?",), Answer("And bikes?", (), (), 0.1))]
    messages = webui.chat_messages(turns)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert "Parking is free on level two." in messages[1]["content"] and "[1]" in messages[1]["content"]
    assert "vb-abstain" in messages[3]["content"]


@pytest.mark.parametrize("name, expected", [
    ("report.PDF", "report.pdf"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\bob\\notes.md", "notes.md"),
    ("..hidden.txt", "hidden.txt"),
    ("my report (v2).docx", "my report _v2_.docx"),
    ("<script>.html", "_script_.html"),
])
def test_upload_names_are_made_safe(name, expected):
    assert webui.upload_name(name, {".txt", ".md", ".pdf", ".docx", ".html"}) == expected


@pytest.mark.parametrize("name, problem", [
    ("evil.exe", ".exe files can't be read"),
    ("noext", "no suffix"),
    ("a\x00b.txt", "NUL"),
    ("...txt", "no usable characters"),
    ("../", "no suffix"),
])
def test_bad_upload_names_are_refused_with_the_reason(name, problem):
    with pytest.raises(webui.LibraryError, match=re.escape(problem)):
        webui.upload_name(name, {".txt"})


def test_upload_over_the_size_limit_is_refused(tmp_path: Path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2_000_001)
    with pytest.raises(webui.LibraryError, match="over the 2 MB limit"):
        webui.check_size(path, "big.txt", 2_000_000)
    webui.check_size(path, "big.txt", 3_000_000)


def test_uploads_and_feedback_live_beside_the_index_folder():
    class S:
        index_dir = Path("/srv/.verbatim")
    assert webui.uploads_dir(S) == Path("/srv/.verbatim-uploads")
    assert webui.feedback_path(S) == Path("/srv/.verbatim-feedback.jsonl")


def test_library_table_and_choices():
    class Info:
        doc_id, title, source, passages, chars, indexed_at = "abc", "", "up/x.txt", 3, 36_336, "2025-11-25T09:56:12+00:00"
    table = webui.library_html([Info])
    assert "<td>x.txt</td><td class=\"vb-source\">up/x.txt</td><td>36.3 k chars</td><td>3</td>" \
           "<td>2025-11-25 09:56</td>" in table
    assert "No documents yet" in webui.library_html([])
    assert webui.library_choices([Info]) == [("x.txt — up/x.txt", "abc")]
    assert "1 document · 3 passages" in webui.library_line([Info])


@pytest.mark.parametrize("value, expected", [
    (None, []), ("", []), ([], []), (["a", "b"], ["a", "b"]), ('["a"]', ["a"]),
])
def test_history_from_a_list_or_json(value, expected):
    assert webui.parse_history(value) == expected


@pytest.mark.parametrize("value", ["not json", '{"a": 1}', [1, 2], '"a"'])
def test_bad_history_is_refused(value):
    with pytest.raises(ValueError, match="history must be"):
        webui.parse_history(value)


def test_users_from_env_and_file(tmp_path: Path):
    file = tmp_path / "users"
    file.write_text("# staff\ncarol:s3:cret\n\n dave : pw \n", encoding="utf-8")
    env = {"VERBATIM_USERS": "alice:pw,bob:pw2", "VERBATIM_USERS_FILE": str(file)}
    assert webui.users_from_env(env) == [("alice", "pw"), ("bob", "pw2"), ("carol", "s3:cret"), ("dave", "pw")]
    assert webui.users_from_env({}) == []
    with pytest.raises(ValueError, match="VERBATIM_USERS entry 2 is not user:password"):
        webui.users_from_env({"VERBATIM_USERS": "alice:pw,bob"})
    with pytest.raises(ValueError, match="is not a file"):
        webui.users_from_env({"VERBATIM_USERS_FILE": str(tmp_path / "missing")})


def test_without_sign_in_the_server_stays_on_localhost():
    assert webui.server_name({}, signed_in=False) == ("127.0.0.1", "")
    host, note = webui.server_name({"GRADIO_SERVER_NAME": "0.0.0.0"}, signed_in=False)
    assert host == "127.0.0.1" and "VERBATIM_USERS" in note
    assert webui.server_name({"GRADIO_SERVER_NAME": "0.0.0.0"}, signed_in=True) == ("0.0.0.0", "")
    assert webui.server_name({"GRADIO_SERVER_NAME": "localhost"}, signed_in=False) == ("localhost", "")


def test_feedback_lines_are_a_dataset_seed(tmp_path: Path):
    q = quote("Parking is free on level two.")
    answer = Answer("And parking?", (q,), (found(q.start, q.end),), 0.9)
    path = tmp_path / "sub" / "feedback.jsonl"
    append_feedback(path, feedback_record("And parking?", ["Where is the office?"], answer, liked=True))
    append_feedback(path, feedback_record("And parking?", [], answer, liked=False))
    up, down = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert set(up) == {"id", "question", "history", "answers", "feedback", "answer"}
    assert up["answers"] == [q.text] and up["feedback"] == "up" and up["history"] == ["Where is the office?"]
    assert up["answer"] == answer.to_dict()
    assert down["answers"] == [] and down["feedback"] == "down" and down["id"] != up["id"]


@pytest.fixture
def own_bot(settings, encoder, index_copy):
    """A real Assistant over a private copy of the bundled index, free to change."""
    from assistant import Assistant
    from embeddings import store

    s = settings.replace(index_dir=index_copy)
    return Assistant(s, store.load(index_copy, s.model_name), encoder)


def test_uploads_are_indexed_answerable_and_removable(own_bot, tmp_path: Path):
    uploads = webui.uploads_dir(own_bot.settings)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "Zephyr parking.md"
    good.write_text("# Zephyr parking\n\nVisitor permits are issued by the front desk on level two.\n", encoding="utf-8")
    before = own_bot.documents()

    report = webui.add_uploads(own_bot, [good], uploads, own_bot.settings.max_upload_bytes)

    assert report.ok and report.line().startswith("1 added") and (uploads / "Zephyr parking.md").is_file()
    assert answers_from(own_bot.ask("Who issues visitor permits?"), "Zephyr parking.md")
    added = next(i for i in own_bot.documents() if i.source == str(uploads / "Zephyr parking.md"))
    assert "Removed" in webui.remove_document(own_bot, added.doc_id, uploads)
    assert not (uploads / "Zephyr parking.md").exists()
    assert [i.doc_id for i in own_bot.documents()] == [i.doc_id for i in before]


@pytest.mark.parametrize("name, data, reason", [
    ("binary.txt", b"\x00\x01\x02 not text", "binary data, not text (it holds NUL bytes); convert it"),
    ("empty.md", b"", "the file is empty; put text in it and upload it again"),
    ("tool.exe", b"MZ", ".exe files can't be read; upload one of"),
    ("setup.docx", b"MZ\x90\x00" + bytes(64), "corrupt DOCX"),
])
def test_a_bad_upload_is_refused_with_its_reason_and_the_good_ones_are_indexed(own_bot, tmp_path: Path, name, data,
                                                                                reason):
    uploads = webui.uploads_dir(own_bot.settings)
    good, bad = tmp_path / "fine.txt", tmp_path / name
    good.write_text("The Quokka cafeteria serves lentil soup every Thursday at noon.", encoding="utf-8")
    bad.write_bytes(data)
    before = own_bot.documents()

    report = webui.add_uploads(own_bot, [bad, good], uploads, own_bot.settings.max_upload_bytes)

    refused, added = report.outcomes
    assert (added.name, added.status) == ("fine.txt", "added")
    assert (refused.name, refused.status) == (name, "refused") and reason in refused.detail
    assert ";" in refused.detail   # the reason comes with the fix
    assert not report.ok and report.line().startswith("1 added, 0 updated, 0 unchanged, 1 refused")
    assert len(own_bot.documents()) == len(before) + 1 and sorted(p.name for p in uploads.iterdir()) == ["fine.txt"]
    assert answers_from(own_bot.ask("What does the Quokka cafeteria serve on Thursday?"), "fine.txt")


def test_a_mixed_upload_names_every_file(own_bot, tmp_path: Path):
    """DOCX + empty PDF + an .exe renamed to .docx: the DOCX is indexed, each bad file named with its reason."""
    import docx

    uploads = webui.uploads_dir(own_bot.settings)
    report_doc = docx.Document()
    report_doc.add_heading("Quokka cafeteria", 1)
    report_doc.add_paragraph("The Quokka cafeteria serves lentil soup every Thursday at noon.")
    report_doc.save(tmp_path / "cafeteria.docx")
    (tmp_path / "scan.pdf").write_bytes(b"")
    (tmp_path / "setup.docx").write_bytes(b"MZ\x90\x00\x03" + bytes(200))
    files = [tmp_path / n for n in ("cafeteria.docx", "scan.pdf", "setup.docx")]

    report = webui.add_uploads(own_bot, files, uploads, own_bot.settings.max_upload_bytes)
    lines = report.line().splitlines()

    assert lines[0].startswith("1 added, 0 updated, 0 unchanged, 2 refused; the library holds")
    assert lines[1] == "✓ cafeteria.docx: added — 1 passage"
    assert lines[2].startswith("✗ scan.pdf: refused — the file is empty; ")
    assert lines[3].startswith("✗ setup.docx: refused — corrupt DOCX") and "; " in lines[3]
    assert answers_from(own_bot.ask("What does the Quokka cafeteria serve on Thursday?"), "cafeteria.docx")

    again = webui.add_uploads(own_bot, files[:1], uploads, own_bot.settings.max_upload_bytes)
    assert again.outcomes == (webui.Outcome("cafeteria.docx", "unchanged"),) and again.ok
    report_doc.add_paragraph("On Fridays it serves fish.")
    report_doc.save(tmp_path / "cafeteria.docx")
    changed = webui.add_uploads(own_bot, files[:1], uploads, own_bot.settings.max_upload_bytes)
    assert changed.outcomes[0].status == "updated" and changed.line().startswith("0 added, 1 updated")
    html = webui.upload_html(report)
    assert html.count("<li") == 3 and "vb-error" in html and 'class="vb-refused"' in html


def test_an_upload_of_one_bad_file_changes_nothing(own_bot, tmp_path: Path):
    uploads = webui.uploads_dir(own_bot.settings)
    (tmp_path / "empty.txt").write_bytes(b"  \n")
    before = own_bot.documents()
    report = webui.add_uploads(own_bot, [tmp_path / "empty.txt"], uploads, own_bot.settings.max_upload_bytes)
    assert report.summary is None and report.outcomes[0].status == "refused"
    assert own_bot.documents() == before and not uploads.exists()


def test_two_files_of_one_name_the_second_is_refused(own_bot, tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder, fact in (("a", "Lockers are on level one."), ("b", "Lockers are on level nine.")):
        (tmp_path / folder / "lockers.txt").write_text(fact, encoding="utf-8")
    report = webui.add_uploads(own_bot, [tmp_path / "a" / "lockers.txt", tmp_path / "b" / "lockers.txt"],
                               webui.uploads_dir(own_bot.settings), own_bot.settings.max_upload_bytes)
    assert [o.status for o in report.outcomes] == ["added", "refused"]
    assert "same name; rename one" in report.outcomes[1].detail


def test_the_upload_notice_never_raises(tmp_path: Path):
    class Broken:
        def documents(self):
            raise RuntimeError("disk on fire")

    (tmp_path / "ok.txt").write_text("Some text.", encoding="utf-8")
    notice = webui.upload_notice(Broken(), [tmp_path / "ok.txt"], tmp_path / "up", 10_000)
    assert "vb-error" in notice and "RuntimeError: disk on fire" in notice
    assert "No file received" in webui.upload_notice(Broken(), [], tmp_path / "up", 10_000)


@pytest.mark.parametrize("reason, fix", [
    ("the file is empty", "put text in it"),
    ("no text found in the file", "OCR"),
    ("corrupt PDF: EOF marker not found", "save a fresh copy"),
    ("something new", "fix the file and upload it again"),
    ("not UTF-8 text (byte 0xff at offset 3); save the file as UTF-8", "save the file as UTF-8"),
])
def test_every_refusal_says_the_fix(reason, fix):
    assert webui.with_fix(reason).startswith(reason) and fix in webui.with_fix(reason)


# ---------------------------------------------------------------- questions


class FakeBot:
    """Records what the page asked; refuses like Assistant.ask does."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.asked: list[tuple] = []
        self.refreshed = 0
        self.fail = fail

    def refresh(self) -> bool:
        self.refreshed += 1
        return False

    def documents(self):
        return [Info("d1"), Info("d2")]

    def ask(self, question, history=(), doc_ids=None, chat_document=None):
        from assistant.question import check

        self.asked.append((question, tuple(history), doc_ids))
        self.chat_document = chat_document
        if self.fail is not None:
            raise self.fail
        return Answer(check(question, 2_000), (), (), 0.1, tuple(doc_ids or ()))


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_an_empty_question_does_nothing(question):
    bot = FakeBot()
    assert webui.take_question(bot, question, []) == webui.Reply(None, "")
    assert bot.asked == []


@pytest.mark.parametrize("question, notice", [
    ("???", "only punctuation"),
    ("x" * 2_001, "characters long"),
])
def test_a_refused_question_leaves_the_chat_and_says_why(question, notice):
    turns = [webui.Turn("Earlier?", (), Answer("Earlier?", (), (), 0.1))]
    reply = webui.take_question(FakeBot(), question, turns)
    assert reply.turns is None and notice in reply.notice
    assert "vb-error" in webui.status_html(reply.notice, ok=False)


def test_a_fault_while_answering_is_a_notice_not_an_exception():
    reply = webui.take_question(FakeBot(fail=RuntimeError("boom")), "Where do I park?", [])
    assert reply.turns is None and "RuntimeError: boom" in reply.notice


def test_a_question_is_asked_within_the_chosen_documents_after_a_refresh():
    bot = FakeBot()
    turns = [webui.Turn("Where do I park?", (), Answer("Where do I park?", (), (), 0.1))]
    reply = webui.take_question(bot, "  And bikes?  ", turns, ["d1", "d2"])
    assert bot.refreshed == 1 and bot.asked == [("  And bikes?  ", ("Where do I park?",), ["d1", "d2"])]
    assert bot.chat_document is None   # the earlier answer quoted nothing
    assert reply.notice == "" and len(reply.turns) == 2
    assert reply.turns[-1].question == "And bikes?" and reply.turns[-1].answer.doc_ids == ("d1", "d2")
    webui.take_question(bot, "Where?", [], [])
    assert bot.asked[-1][2] is None   # an empty filter asks every document


def test_a_question_within_real_documents(bot):
    info = next(i for i in bot.documents() if "SoFi" in i.title)
    reply = webui.take_question(bot, "How is SoFi USD backed?", [], [info.doc_id])
    answer = reply.turns[-1].answer
    assert answer.doc_ids == (info.doc_id,) and {q.doc_id for q in answer.quotes} <= {info.doc_id}
    assert "within 1 chosen document" in webui.sources_html(answer, webui.citations(answer))
    gone = webui.take_question(bot, "How is SoFi USD backed?", [], [info.doc_id, "removed-meanwhile"])
    assert gone.turns is None and "no longer in the library" in gone.notice and "choose again" in gone.notice


def test_a_failed_refresh_keeps_the_loaded_index(capsys):
    class Half(FakeBot):
        def refresh(self):
            from embeddings.store import IndexUnusable
            raise IndexUnusable("the index in x is damaged")

    assert webui.refresh(Half()) is False
    assert "answering from the one loaded" in capsys.readouterr().err
    assert webui.take_question(Half(), "Where do I park?", []).turns is not None


@pytest.mark.parametrize("value, expected", [
    (None, None), ("", None), ([], None), (["a", "b"], ["a", "b"]), ('["a"]', ["a"]), ("abc", ["abc"]),
])
def test_doc_ids_from_a_list_or_json(value, expected):
    assert webui.parse_doc_ids(value) == expected


@pytest.mark.parametrize("value", ["[not json", [1], {"a": 1}])
def test_bad_doc_ids_are_refused(value):
    with pytest.raises(ValueError, match="doc_ids must be"):
        webui.parse_doc_ids(value)


# ---------------------------------------------------------------- library


class Info:
    def __init__(self, doc_id, title="", source="", indexed_at="2025-11-25T09:56:12+00:00"):
        self.doc_id, self.title, self.source, self.indexed_at = doc_id, title, source, indexed_at
        self.passages, self.chars = 1, 10


def test_removal_asks_first_and_names_the_document():
    infos = [Info("abc", "Leave <b>policy</b>", "up/leave.txt")]
    question = webui.removal_question(infos, "abc")
    assert question.startswith("Remove Leave <b>policy</b> (up/leave.txt) from the library?")
    assert "&lt;b&gt;" in webui.status_html(question, ok=False)
    with pytest.raises(webui.LibraryError, match="pick a document"):
        webui.removal_question(infos, None)
    with pytest.raises(webui.LibraryError, match="no longer in the library"):
        webui.removal_question(infos, "gone")


def test_a_page_sees_a_changed_library_and_keeps_what_is_still_there():
    infos = [Info("a"), Info("b")]
    key = webui.library_key(infos)
    assert webui.library_key([Info("a"), Info("b")]) == key
    assert webui.library_key([Info("a"), Info("b", indexed_at="2025-11-26T00:00:00")]) != key
    assert webui.library_key([Info("a")]) != key
    assert webui.still_indexed(["b", "gone", "a"], infos) == ["b", "a"]
    assert webui.still_indexed("a", infos) == ["a"] and webui.still_indexed(None, infos) == []


def test_a_cli_index_is_picked_up_by_the_page(own_bot, tmp_path: Path, settings, encoder):
    from embeddings.indexer import Indexer

    memo = tmp_path / "other.html"
    memo.write_text("<html><head><title>Badge office</title></head><body><p>The new badge office opens on the "
                    "third floor on Monday.</p></body></html>", encoding="utf-8")
    seen = webui.library_key(own_bot.documents())
    Indexer(own_bot.settings, encoder).index([memo])   # what `verbatim index other.html` does, from another process

    reply = webui.take_question(own_bot, "Where does the new badge office open?", [])
    assert answers_from(reply.turns[-1].answer, "other.html")
    assert webui.library_key(own_bot.documents()) != seen
    assert webui.refresh(own_bot) is False   # nothing newer since


def test_parse_chat_document():
    assert webui.parse_chat_document(None) is None and webui.parse_chat_document("") is None
    assert webui.parse_chat_document("3f2a") == "3f2a"
    with pytest.raises(ValueError, match="chat_document must be a document id"):
        webui.parse_chat_document(["3f2a"])
