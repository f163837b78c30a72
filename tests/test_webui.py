"""The web chat's renderers and helpers, without a browser: escaping, marks placed by offsets, numbering."""
from __future__ import annotations

import json
import re
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

    line = webui.add_uploads(own_bot, [good], uploads, own_bot.settings.max_upload_bytes)

    assert line.startswith("1 added") and (uploads / "Zephyr parking.md").is_file()
    answer = own_bot.ask("Who issues visitor permits?")
    assert "front desk on level two" in answer.text
    added = next(i for i in own_bot.documents() if i.source == str(uploads / "Zephyr parking.md"))
    assert "Removed" in webui.remove_document(own_bot, added.doc_id, uploads)
    assert not (uploads / "Zephyr parking.md").exists()
    assert [i.doc_id for i in own_bot.documents()] == [i.doc_id for i in before]


@pytest.mark.parametrize("name, data, reason", [
    ("binary.txt", b"\x00\x01\x02 not text", "can't be read"),
    ("empty.md", b"", "can't be read: the file is empty"),
    ("tool.exe", b"MZ", ".exe files can't be read"),
])
def test_a_bad_upload_changes_nothing(own_bot, tmp_path: Path, name, data, reason):
    uploads = webui.uploads_dir(own_bot.settings)
    good, bad = tmp_path / "fine.txt", tmp_path / name
    good.write_text("Fine text about nothing in particular.", encoding="utf-8")
    bad.write_bytes(data)
    before = own_bot.documents()
    with pytest.raises(webui.LibraryError, match=re.escape(reason)):
        webui.add_uploads(own_bot, [good, bad], uploads, own_bot.settings.max_upload_bytes)
    assert own_bot.documents() == before and not uploads.exists()   # the good file of the batch waits too
