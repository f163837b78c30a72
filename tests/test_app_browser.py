"""The web chat in a real browser: `python app.py` on a free port over an index built from corpus/,
driven by headless Chromium through Playwright. Waits on selectors, never on network idleness.

The screenshot goes to $VERBATIM_SCREENSHOT when set (docs/screenshot.png is made that way), else tmp.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from test_app_api import running_app

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
    assert "front desk on level two" in answer
    assert "<script>window.__xss = 2</script>" in answer   # the quote holds the planted tags, as text
    assert "<script>window.__xss = 2</script>" in page.locator("#vb-sources").inner_text()
    page.locator("#vb-sources .vb-card", has_text="zephyr").first.click()
    page.locator("#vb-viewer mark#verbatim-hit").wait_for()
    viewer = page.locator("#vb-viewer .vb-doc").inner_text()
    assert '<script>window.__xss = 2</script>' in viewer and 'onerror="window.__xss = 1"' in viewer
    assert "${window.__xss = 3} {{constructor}}" in viewer
    assert_no_script_ran(page)

    page.get_by_role("tab", name="Library").click()
    page.locator("#vb-pick input").click()
    page.get_by_role("option").filter(has_text="zephyr_parking.txt").click()
    page.click("#vb-remove")
    page.locator("#vb-status", has_text="Removed").wait_for()
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
    assert "'empty.txt' can't be read: the file is empty" in page.locator("#vb-status").inner_text()
    assert library.inner_text() == before
    assert not (app["index"].with_name("index-uploads") / "empty.txt").exists()
