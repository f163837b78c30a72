"""The web chat in a real browser: `python app.py` on a free port over an index built from corpus/,
driven by headless Chromium through Playwright. Waits on selectors, never on network idleness.

The screenshot goes to $VERBATIM_SCREENSHOT when set (docs/screenshot.png is made that way), else tmp.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from test_app_api import BADGE, ROOT, child_env, running_app

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ANSWER_WAIT_MS = 60_000   # the first question also loads the model's warm caches

# Planted in the uploaded document: shown as text, never run.
PLANTED = """Zephyr parking rules <img src=x onerror="window.__xss = 1">

Visitor permits for the Zephyr building are issued by the front desk on level two. <script>window.__xss = 2</script>
Bicycle lockers are renewed every ninety days at the security office. ${window.__xss = 3} {{constructor}}
<a href="javascript:window.__xss = 4">Parking map</a>
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`python app.py` without sign-in over a fresh index folder (built from corpus/ on start)."""
    work = tmp_path_factory.mktemp("browser-app")
    with running_app(work) as url:
        yield {"url": url, "index": work / "index"}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, app) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app["url"])
    page.wait_for_selector("#vb-question textarea")
    page.dialogs = dialogs
    yield page
    context.close()


def ask(page, question: str) -> None:
    """Ask and wait until the answer for it is the last bot message."""
    before = page.locator('#vb-chat [data-testid="bot"]').count()
    page.fill("#vb-question textarea", question)
    page.click("#vb-ask")
    page.locator('#vb-chat [data-testid="bot"]').nth(before).wait_for(timeout=ANSWER_WAIT_MS)


def last_answer(page) -> str:
    return page.locator('#vb-chat [data-testid="bot"]').last.inner_text()


def assert_no_error_overlay(page) -> None:
    """Gradio draws "Error" over an event's outputs (and a red toast) when a handler raises: never on this page."""
    assert page.locator('[data-testid="status-tracker"] .error').count() == 0
    assert page.locator('[data-testid="toast-body"]').filter(has_text="Error").count() == 0


def bot_count(page) -> int:
    return page.locator('#vb-chat [data-testid="bot"]').count()


def choose(page, dropdown: str, text: str) -> None:
    """Pick the option holding `text` in a dropdown (#vb-within, #vb-pick)."""
    box = page.locator(f"{dropdown} input")
    box.click()
    box.fill(text)   # filters the options to those holding the text
    page.get_by_role("option").filter(has_text=text).first.click()
    page.keyboard.press("Escape")


def assert_no_script_ran(page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0


def test_ask_shows_the_quote_highlighted_in_sources_and_the_document_viewer(page, app, tmp_path):
    assert "How is SoFi USD backed?" in page.locator("#vb-chat").inner_text()   # suggested questions
    ask(page, "How is SoFi USD backed?")

    answer = last_answer(page)
    assert "backed" in answer and "[1]" in answer
    first_mark = page.locator("#vb-sources .vb-card").first.locator("mark").first
    first_mark.wait_for()
    assert first_mark.inner_text().strip().strip("“”") in answer
    assert "›" in page.locator("#vb-sources .vb-card .vb-where").first.inner_text()
    assert "score" in page.locator("#vb-sources .vb-card .vb-score").first.inner_text()

    page.locator("#vb-sources .vb-card").first.click()
    hit = page.locator("#vb-viewer mark#verbatim-hit")
    hit.wait_for()
    assert hit.inner_text() == first_mark.inner_text()
    page.wait_for_function("""() => {
        const hit = document.querySelector('#verbatim-hit'), box = document.querySelector('#vb-viewer .vb-doc');
        const h = hit.getBoundingClientRect(), b = box.getBoundingClientRect();
        return box.scrollTop > 0 && h.top >= b.top && h.bottom <= b.bottom;
    }""", timeout=10_000)   # scrolled to the quote inside the whole document
    viewer_text = page.locator("#vb-viewer .vb-doc").inner_text()
    assert len(viewer_text) > 20_000 and "Yinfa [2021] No. 237" in viewer_text   # the whole document

    page.evaluate("window.scrollTo(0, 0)")
    shot = Path(os.environ.get("VERBATIM_SCREENSHOT") or tmp_path / "screenshot.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_follow_up_carries_the_history_and_votes_are_saved(page, app):
    ask(page, "What does the notice say about RWA tokenization?")
    ask(page, "Who supervises it?")
    page.locator('#vb-chat .bot-row').last.hover()
    page.locator('#vb-chat button[aria-label="Like"]').last.click()
    feedback = app["index"].with_name("index-feedback.jsonl")
    deadline = time.monotonic() + 15
    def written() -> str:   # the file appears when opened for the append, the line a moment later
        return feedback.read_text(encoding="utf-8") if feedback.exists() else ""

    while not written().endswith("\n") and time.monotonic() < deadline:
        time.sleep(0.2)
    record = json.loads(written().splitlines()[-1])
    assert record["question"] == "Who supervises it?"
    assert record["history"] == ["What does the notice say about RWA tokenization?"]
    assert record["feedback"] == "up" and record["answers"] == [q["text"] for q in record["answer"]["quotes"]]
    assert record["answer"]["question"] == "Who supervises it?"


def test_an_unanswerable_question_says_so_and_offers_the_nearest_passages(page):
    ask(page, "What is the cafeteria menu on Fridays?")
    assert "The documents don't say" in last_answer(page)
    sources = page.locator("#vb-sources")
    assert "nearest passages" in sources.inner_text().lower()   # the heading is styled upper-case
    assert sources.locator(".vb-card").count() > 0 and sources.locator("mark").count() == 0
    assert "score" not in sources.inner_text().lower()   # nearest passages are not presented as answers


def test_example_question_and_clear_chat(page):
    page.get_by_role("button", name="Select example 1: How is SoFi USD backed?").click()
    page.locator('#vb-chat [data-testid="bot"]').first.wait_for(timeout=ANSWER_WAIT_MS)
    page.locator("#vb-sources mark").first.wait_for()
    page.click("#vb-clear")
    page.locator('#vb-chat [data-testid="bot"]').first.wait_for(state="detached")
    assert "Sources of the answer appear here" in page.locator("#vb-sources").inner_text()
    page.get_by_role("button", name="Select example 1: How is SoFi USD backed?").wait_for()


def test_upload_then_ask_about_it_then_remove_it(page, app, tmp_path):
    doc = tmp_path / "zephyr_parking.txt"
    doc.write_text(PLANTED, encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#vb-upload input[type=file]", str(doc))
    page.locator("#vb-status .vb-ok").wait_for(timeout=120_000)
    assert "1 added" in page.locator("#vb-status").inner_text()
    library = page.locator("#vb-library")
    library.get_by_text("zephyr_parking.txt").first.wait_for()
    assert "onerror" in library.inner_text()   # the planted title is shown as text
    assert (app["index"].with_name("index-uploads") / "zephyr_parking.txt").is_file()

    page.get_by_role("tab", name="Chat").click()
    ask(page, "Who issues visitor permits for the Zephyr building?")
    answer = last_answer(page)
    if "The documents don't say" not in answer:   # the ranker abstains on this near-title question at times
        assert "front desk on level two" in answer and "<script>window.__xss = 2</script>" in answer
    # Quoted or offered as the nearest passage, the planted tags show as text.
    assert "<script>window.__xss = 2</script>" in page.locator("#vb-sources .vb-card").first.inner_text()
    page.locator("#vb-sources .vb-card", has_text="zephyr").first.click()
    page.locator("#vb-viewer mark#verbatim-hit").wait_for()
    viewer = page.locator("#vb-viewer .vb-doc").inner_text()
    assert '<script>window.__xss = 2</script>' in viewer and 'onerror="window.__xss = 1"' in viewer
    assert "${window.__xss = 3} {{constructor}}" in viewer
    assert_no_script_ran(page)

    page.get_by_role("tab", name="Library").click()
    choose(page, "#vb-pick", "zephyr_parking.txt")
    page.click("#vb-remove")   # asks first
    confirm = page.locator("#vb-confirm")
    confirm.wait_for()
    assert "Remove" in confirm.inner_text() and "zephyr_parking.txt" in confirm.inner_text()
    page.click("#vb-remove-no")
    confirm.wait_for(state="hidden")
    assert library.get_by_text("zephyr_parking.txt").count() > 0   # cancelled: still there
    page.click("#vb-remove")
    page.click("#vb-remove-yes")
    page.locator("#vb-status", has_text="Removed").wait_for()
    confirm.wait_for(state="hidden")
    library.get_by_text("zephyr_parking.txt").first.wait_for(state="detached")
    assert not (app["index"].with_name("index-uploads") / "zephyr_parking.txt").exists()
    assert_no_script_ran(page)


def test_a_bad_upload_gets_a_clear_message_and_changes_nothing(page, app, tmp_path):
    page.get_by_role("tab", name="Library").click()
    library = page.locator("#vb-library")
    library.get_by_text(".txt").first.wait_for()
    before = library.inner_text()
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"   \n")
    page.set_input_files("#vb-upload input[type=file]", str(empty))
    page.locator("#vb-status .vb-error").wait_for(timeout=60_000)
    assert "empty.txt: refused — the file is empty; put text in it" in page.locator("#vb-status").inner_text()
    assert library.inner_text() == before
    assert not (app["index"].with_name("index-uploads") / "empty.txt").exists()
    assert_no_error_overlay(page)


def test_an_empty_question_does_nothing_and_a_refused_one_says_why(page):
    examples = page.get_by_role("button", name="Select example 1: How is SoFi USD backed?")
    examples.wait_for()
    page.click("#vb-question textarea")
    page.keyboard.press("Enter")
    page.click("#vb-ask")
    page.wait_for_timeout(1_500)   # what a reply would take to draw
    assert_no_error_overlay(page)
    assert bot_count(page) == 0 and examples.is_visible()
    assert page.locator("#vb-notice").inner_text().strip() == ""
    assert page.locator("#vb-question textarea").is_editable()

    ask(page, "How is SoFi USD backed?")
    chat, sources = page.locator("#vb-chat").inner_text(), page.locator("#vb-sources").inner_html()
    for refused, reason in [("?!?", "only punctuation"), ("x" * 3_000, "characters long")]:
        page.fill("#vb-question textarea", refused)
        page.keyboard.press("Enter")
        page.locator("#vb-notice .vb-error", has_text=reason).wait_for()
        assert_no_error_overlay(page)
        assert page.locator("#vb-chat").inner_text() == chat and page.locator("#vb-sources").inner_html() == sources
        assert page.locator("#vb-question textarea").input_value() == refused   # kept, to be fixed
    page.click("#vb-question textarea")
    page.fill("#vb-question textarea", "")
    page.keyboard.press("Enter")   # empty again: nothing, the notice stays as it was
    page.wait_for_timeout(1_000)
    assert page.locator("#vb-chat").inner_text() == chat and bot_count(page) == 1
    ask(page, "What does the notice say about RWA tokenization?")
    page.locator("#vb-notice .vb-error").wait_for(state="detached")   # an answer clears the notice
    assert_no_error_overlay(page)


def test_a_mixed_upload_adds_the_good_file_and_names_each_bad_one(page, app, tmp_path):
    import docx

    made = docx.Document()
    made.add_heading("Quokka cafeteria", 1)
    made.add_paragraph("The Quokka cafeteria serves lentil soup every Thursday at noon.")
    made.save(tmp_path / "cafeteria.docx")
    (tmp_path / "scan.pdf").write_bytes(b"")
    (tmp_path / "setup.docx").write_bytes(b"MZ\x90\x00\x03" + bytes(300))   # a Windows program, renamed
    page.get_by_role("tab", name="Library").click()
    upload_box = page.locator("#vb-upload")
    page.set_input_files("#vb-upload input[type=file]",
                         [str(tmp_path / n) for n in ("cafeteria.docx", "scan.pdf", "setup.docx")])
    status = page.locator("#vb-status .vb-status")
    status.wait_for(timeout=120_000)
    lines = status.locator("li").all_inner_texts()
    assert status.inner_text().startswith("1 added, 0 updated, 0 unchanged, 2 refused")
    assert lines[0].startswith("✓ cafeteria.docx: added")
    assert lines[1].startswith("✗ scan.pdf: refused — the file is empty; ")
    assert lines[2].startswith("✗ setup.docx: refused — corrupt DOCX") and ";" in lines[2]
    page.locator("#vb-library").get_by_text("Quokka cafeteria").wait_for()
    uploads = app["index"].with_name("index-uploads")
    assert (uploads / "cafeteria.docx").is_file() and not (uploads / "scan.pdf").exists()
    upload_box.get_by_text("Click to Upload").wait_for()   # the box is cleared for the next upload
    assert upload_box.get_by_text("setup.docx").count() == 0
    assert_no_error_overlay(page)

    again = tmp_path / "lockers.txt"
    again.write_text("Lockers are renewed every ninety days at the security office.", encoding="utf-8")
    page.set_input_files("#vb-upload input[type=file]", str(again))   # the next upload is not poisoned
    page.locator("#vb-status .vb-ok", has_text="lockers.txt: added").wait_for(timeout=120_000)
    assert_no_error_overlay(page)


def test_the_document_filter_asks_within_the_chosen_documents(page, app, tmp_path):
    """Pick a document in the chat's filter: sources come from it only; a document the CLI indexes meanwhile
    shows up in the filter and the library within seconds, without reloading the page."""
    choose(page, "#vb-within", "000_14d5362b27054530.txt")
    ask(page, "What does the notice say about RWA tokenization?")
    sources = page.locator("#vb-sources")
    sources.locator(".vb-card").first.wait_for()
    assert "within 1 chosen document" in sources.inner_text().lower()
    assert set(sources.locator(".vb-card .vb-source").all_inner_texts()) == {"corpus/000_14d5362b27054530.txt"}

    other = tmp_path / "other.html"
    other.write_text(BADGE, encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "assistant.cli", "--index", str(app["index"]), "index", str(other)],
                         cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stderr
    page.get_by_role("tab", name="Library").click()
    page.locator("#vb-library").get_by_text("Badge office move").wait_for(timeout=10_000)   # no reload, no upload
    page.get_by_role("tab", name="Chat").click()
    choose(page, "#vb-within", "Badge office move")
    within = page.locator("#vb-within").inner_text()
    assert "000_14d5362b27054530.txt" in within and "Badge office move" in within   # the earlier choice is kept
    ask(page, "Where does the new badge office open?")
    assert str(other) in sources.inner_text() and "within 2 chosen documents" in sources.inner_text().lower()
    assert_no_error_overlay(page)
