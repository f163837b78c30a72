"""Verbatim web chat: `python app.py` serves the chat over the default index (built from corpus/ on first start).

Layout and wiring only: what the page shows and does is built by assistant.webui, tested without a browser.
Binds 127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise; a network address needs
sign-in (VERBATIM_USERS or VERBATIM_USERS_FILE).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import Assistant, webui
from assistant.cli import open_assistant
from assistant.feedback import append_feedback, feedback_record
from embeddings.loaders import SUPPORTED
from embeddings.settings import Settings

EXAMPLES = (   # about the bundled corpus; shown on an empty chat
    "How is SoFi USD backed?",
    "Why did SoFi leave the crypto market and then come back?",
    "What does the notice say about RWA tokenization?",
    "Which earlier notice does it repeal?",
)

SYNC_SECONDS = 2.0   # how often an open page checks for an index saved by another process (the CLI)

# Runs once per component; clicks are delegated, so cards re-rendered later still open the viewer.
SOURCES_JS = """
const open = (card) => {
  element.querySelectorAll('.vb-card.vb-active').forEach((c) => c.classList.remove('vb-active'));
  card.classList.add('vb-active');
  trigger('click', {cite: Number(card.dataset.cite)});
};
element.addEventListener('click', (e) => { const card = e.target.closest('[data-cite]'); if (card) open(card); });
element.addEventListener('keydown', (e) => {
  const card = e.target.closest('[data-cite]');
  if (card && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); open(card); }
});
"""

# Scroll the document (not the page) so the quote sits a third of the way down, then bring the viewer into view.
VIEWER_JS = """
watch('value', () => {
  const hit = element.querySelector('#verbatim-hit');
  const box = element.querySelector('.vb-doc');
  if (!hit || !box) return;
  box.scrollTop = Math.max(0, hit.offsetTop - box.clientHeight / 3);
  element.scrollIntoView({block: 'nearest', behavior: 'smooth'});
});
"""

CSS = """
.vb-brand h1 { margin: 0; font-size: 1.6rem; }
.vb-brand p { margin: 2px 0 0; color: var(--body-text-color-subdued); }
#vb-stats { text-align: right; align-self: center; }
.vb-stats { font-size: 0.85rem; color: var(--body-text-color-subdued); }
.vb-empty { padding: 14px; border: 1px dashed var(--border-color-primary); border-radius: 10px;
            color: var(--body-text-color-subdued); font-size: 0.9rem; }
.vb-sources { display: flex; flex-direction: column; gap: 10px; }
.vb-head { font-weight: 600; font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.04em;
           color: var(--body-text-color-subdued); }
.vb-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
           cursor: pointer; background: var(--background-fill-primary); transition: border-color 0.15s; }
.vb-card:hover, .vb-card:focus { border-color: var(--color-accent); outline: none; }
.vb-card.vb-active { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.vb-card-head, .vb-doc-head { display: flex; gap: 8px; align-items: baseline; font-size: 0.85rem; }
.vb-num { font-weight: 700; color: var(--color-accent); }
.vb-where { flex: 1; min-width: 0; display: flex; flex-direction: column; }
.vb-title, .vb-doc-title { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.vb-title { color: var(--body-text-color-subdued); font-size: 0.8rem; }
.vb-section, .vb-doc-title { font-weight: 600; }
.vb-doc-title { flex: 1; min-width: 0; }
.vb-score { color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums; white-space: nowrap; }
.vb-context { white-space: pre-wrap; font-size: 0.9rem; line-height: 1.5; margin-top: 6px; }
.vb-source { font-size: 0.75rem; color: var(--body-text-color-subdued); margin-top: 4px; word-break: break-all; }
.vb-viewer { border: 1px solid var(--border-color-primary); border-radius: 10px; overflow: hidden; }
.vb-doc-head { padding: 8px 12px; background: var(--background-fill-secondary);
               border-bottom: 1px solid var(--border-color-primary); }
.vb-doc-head { flex-wrap: wrap; }
.vb-doc-head .vb-source { margin: 0; flex-basis: 100%; }
.vb-doc { position: relative; white-space: pre-wrap; font-size: 0.9rem; line-height: 1.55; padding: 10px 14px;
          max-height: 440px; overflow: auto; }
.vb-passage { background: rgba(250, 204, 21, 0.16); }
.vb-sources mark, .vb-doc mark { background: #fde047; color: #1c1917; border-radius: 2px; padding: 0 1px; }
.vb-doc mark.vb-near { background: #bfdbfe; }
.vb-clip { font-style: italic; color: var(--body-text-color-subdued); margin: 4px 0; }
#verbatim-hit { outline: 2px solid #f59e0b; }
.vb-quote { margin: 0 0 8px; }
.vb-cite { font-weight: 700; color: var(--color-accent); white-space: nowrap; }
.vb-abstain { margin: 0; font-style: italic; }
#vb-library .vb-library { width: 100%; border-collapse: collapse; border: none; font-size: 0.9rem; }
#vb-library .vb-library tr { border: none; }
#vb-library .vb-library th, #vb-library .vb-library td { border: none; border-bottom: 1px solid var(--border-color-primary);
                                 padding: 6px 8px; text-align: left; vertical-align: top; }
.vb-library th { font-weight: 600; color: var(--body-text-color-subdued); }
.vb-library td.vb-source { margin: 0; }
.vb-status { padding: 8px 12px; border-radius: 8px; font-size: 0.9rem; }
.vb-ok { background: rgba(34, 197, 94, 0.12); border: 1px solid rgba(34, 197, 94, 0.5); }
.vb-error { background: rgba(239, 68, 68, 0.12); border: 1px solid rgba(239, 68, 68, 0.6); }
.vb-files { margin: 6px 0 0; padding-left: 0; list-style: none; }
.vb-files li { margin: 2px 0; white-space: pre-wrap; }
.vb-files li.vb-refused { color: var(--color-red-600, #dc2626); }
.vb-page { color: var(--body-text-color-subdued); white-space: nowrap; font-size: 0.8rem; }
#vb-notice .vb-status { margin-top: 4px; }
#vb-confirm { align-items: center; }
"""


def build_app(bot: Assistant, settings: Settings) -> gr.Blocks:
    """The chat page over `bot`: chat with sources, document viewer and document filter, library, feedback,
    and the /ask API. Every SYNC_SECONDS an open page swaps in an index another process (the CLI) saved, and
    redraws its library when that changed.

    Uploads and feedback are kept beside the index folder (webui.uploads_dir, webui.feedback_path).
    """
    uploads_dir = webui.uploads_dir(settings)
    feedback_path = webui.feedback_path(settings)

    def chat_outputs(turns: list[webui.Turn], shown: int | None) -> tuple[Any, ...]:
        answer = turns[shown].answer if shown is not None else None
        cites = webui.citations(answer) if answer is not None else ()
        return (webui.chat_messages(turns), turns, shown, webui.sources_html(answer, cites),
                webui.viewer_html(None, None))

    def respond(question: str, turns: list[webui.Turn], within: list[str] | None) -> tuple[Any, ...]:
        reply = webui.take_question(bot, question, turns, within)
        if reply.turns is None:   # nothing asked, or refused: every panel stays as it was
            return (*[gr.skip()] * 6, webui.status_html(reply.notice, ok=False) if reply.notice else gr.skip())
        return ("", *chat_outputs(reply.turns, len(reply.turns) - 1), "")

    def respond_example(turns: list[webui.Turn], within: list[str] | None, evt: gr.SelectData) -> tuple[Any, ...]:
        return respond(evt.value["text"], turns, within)

    def show_turn(turns: list[webui.Turn], evt: gr.SelectData) -> tuple[Any, ...]:
        return chat_outputs(turns, evt.index // 2)[2:]

    def clear() -> tuple[Any, ...]:
        return (*chat_outputs([], None), "")

    def open_source(turns: list[webui.Turn], shown: int | None, evt: gr.EventData) -> str:
        number = (evt._data or {}).get("cite")   # sent by SOURCES_JS
        cite = next((c for c in webui.citations(turns[shown].answer) if c.number == number), None) \
            if shown is not None else None
        if cite is None:
            return webui.viewer_html(None, None)
        try:
            document = bot.document(cite.doc_id)
        except KeyError:
            return webui.status_html("That document has been removed from the library.", ok=False)
        return webui.viewer_html(document, cite)

    def vote(turns: list[webui.Turn], evt: gr.LikeData) -> None:
        if evt.liked not in (True, False):   # a vote withdrawn: nothing to record
            return
        turn = turns[evt.index // 2]
        append_feedback(feedback_path, feedback_record(turn.question, turn.history, turn.answer, evt.liked))
        gr.Info("Thanks: your vote was saved.")

    def library(pick: str | None = None, within: list[str] | None = None) -> tuple[Any, ...]:
        """Header, table, remove picker, document filter (choices kept where still indexed) and the page's key."""
        infos = bot.documents()
        choices, kept = webui.library_choices(infos), webui.still_indexed(pick, infos)
        return (webui.library_line(infos), webui.library_html(infos),
                gr.Dropdown(choices=choices, value=kept[0] if kept else None),
                gr.Dropdown(choices=choices, value=webui.still_indexed(within, infos)), webui.library_key(infos))

    def sync(seen: tuple, pick: str | None, within: list[str] | None) -> Any:
        webui.refresh(bot)
        if webui.library_key(bot.documents()) == seen:
            return gr.skip()
        return library(pick, within)

    def upload(files: list[str] | None, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, ...]:
        progress(0, desc="Indexing…")
        try:
            notice = webui.upload_notice(bot, files or [], uploads_dir, settings.max_upload_bytes)
        finally:
            # Gradio's own copies in its upload folder: the library keeps its copy, so no second one lingers.
            for received in files or []:
                Path(received).unlink(missing_ok=True)
        infos = bot.documents()
        choices = webui.library_choices(infos)   # added files only: the pickers keep what they hold
        return (notice, None, webui.library_line(infos), webui.library_html(infos), gr.Dropdown(choices=choices),
                gr.Dropdown(choices=choices), webui.library_key(infos))

    def ask_removal(doc_id: str | None) -> tuple[Any, ...]:
        try:
            question = webui.removal_question(bot.documents(), doc_id)
        except webui.LibraryError as e:
            return webui.status_html(str(e), ok=False), gr.skip(), gr.Row(visible=False), None
        return "", webui.status_html(question, ok=False), gr.Row(visible=True), doc_id

    def remove(doc_id: str | None, pick: str | None, within: list[str] | None) -> tuple[Any, ...]:
        try:
            notice = webui.status_html(webui.remove_document(bot, doc_id or "", uploads_dir))
        except webui.LibraryError as e:
            notice = webui.status_html(str(e), ok=False)
        return (notice, gr.Row(visible=False), None, *library(pick, within))

    def ask(question: str, history: list[str] | str | None = None,
            doc_ids: list[str] | str | None = None, chat_document: str | None = None) -> dict[str, Any]:
        """Answer `question` (after the earlier questions `history`, a list or its JSON) with the Answer JSON;
        only from the documents `doc_ids` (ids or indexed paths, a list or its JSON) when given; `chat_document`:
        the doc_id the chat's previous answer quoted first, the page a follow-up naming no topic stays on."""
        webui.refresh(bot)
        try:
            return bot.ask(question, history=webui.parse_history(history), doc_ids=webui.parse_doc_ids(doc_ids),
                           chat_document=webui.parse_chat_document(chat_document)).to_dict()
        except ValueError as e:   # QuestionError is a ValueError too
            raise gr.Error(str(e)) from None

    infos = bot.documents()
    with gr.Blocks(title="Verbatim", fill_width=True, analytics_enabled=False) as demo:
        turns = gr.State([])
        shown = gr.State(None)
        seen = gr.State(webui.library_key(infos))   # the library this page shows
        pending = gr.State(None)                    # the document a removal waits to be confirmed for
        with gr.Row(equal_height=True):
            gr.HTML('<div class="vb-brand"><h1>Verbatim</h1><p>Answers quoted word for word from your '
                    'documents, with every source one click away.</p></div>', scale=4)
            stats = gr.HTML(webui.library_line(infos), scale=1, elem_id="vb-stats", min_width=160)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        chatbot = gr.Chatbot(
                            label="Chat", show_label=False, elem_id="vb-chat", height=580, buttons=["copy"],
                            latex_delimiters=[], allow_tags=False, examples=[{"text": q} for q in EXAMPLES],
                            placeholder="Ask a question; the answer quotes the documents word for word.",
                        )
                        within = gr.Dropdown(label="Ask within", choices=webui.library_choices(infos), value=[],
                                             multiselect=True, elem_id="vb-within",
                                             info="Pick documents to ask only them; leave empty to ask all.")
                        with gr.Row():
                            question = gr.Textbox(placeholder="Ask about the documents…", show_label=False,
                                                  scale=8, autofocus=True, elem_id="vb-question", max_lines=4)
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="vb-ask")
                            clear_btn = gr.Button("Clear chat", scale=1, min_width=130, elem_id="vb-clear")
                        notice = gr.HTML(elem_id="vb-notice")
                    with gr.Column(scale=4):
                        sources = gr.HTML(webui.sources_html(None, ()), js_on_load=SOURCES_JS,
                                          elem_id="vb-sources", max_height=430)
                        viewer = gr.HTML(webui.viewer_html(None, None), js_on_load=VIEWER_JS,
                                         elem_id="vb-viewer")
            with gr.Tab("Library", id="library"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2):
                        files = gr.File(label="Add documents: drop files here or click to choose "
                                              f"({' '.join(sorted(SUPPORTED))})",
                                        file_count="multiple", file_types=sorted(SUPPORTED), type="filepath",
                                        elem_id="vb-upload")
                        status = gr.HTML(elem_id="vb-status")
                    with gr.Column(scale=3):
                        table = gr.HTML(webui.library_html(infos), elem_id="vb-library")
                        with gr.Row():
                            pick = gr.Dropdown(label="Remove a document", choices=webui.library_choices(infos),
                                               value=None, scale=4, elem_id="vb-pick")
                            remove_btn = gr.Button("Remove…", variant="stop", scale=1, elem_id="vb-remove")
                        with gr.Row(visible=False, elem_id="vb-confirm") as confirm:
                            confirm_text = gr.HTML(elem_id="vb-confirm-text")
                            yes_btn = gr.Button("Yes, remove it", variant="stop", scale=0, min_width=150,
                                                elem_id="vb-remove-yes")
                            no_btn = gr.Button("Cancel", scale=0, elem_id="vb-remove-no")
        timer = gr.Timer(SYNC_SECONDS)

        chat_io = [chatbot, turns, shown, sources, viewer]
        lib_io = [stats, table, pick, within, seen]
        quiet = {"api_visibility": "private", "show_progress": "hidden"}
        asking = {"api_visibility": "private", "show_progress_on": chatbot}
        question.submit(respond, [question, turns, within], [question, *chat_io, notice], **asking)
        ask_btn.click(respond, [question, turns, within], [question, *chat_io, notice], **asking)
        chatbot.example_select(respond_example, [turns, within], [question, *chat_io, notice], **asking)
        chatbot.select(show_turn, [turns], [shown, sources, viewer], **quiet)
        clear_btn.click(clear, None, [*chat_io, notice], **quiet)
        chatbot.clear(clear, None, [*chat_io, notice], **quiet)
        chatbot.like(vote, [turns], None, **quiet)
        sources.click(open_source, [turns, shown], viewer, api_visibility="private", show_progress_on=viewer)
        # One progress display, on the upload box (the indexer's tqdm bars feed it).
        files.upload(upload, [files], [status, files, *lib_io], api_visibility="private", show_progress_on=files)
        remove_btn.click(ask_removal, [pick], [status, confirm_text, confirm, pending], **quiet)
        yes_btn.click(remove, [pending, pick, within], [status, confirm, pending, *lib_io],
                      api_visibility="private", show_progress_on=status)
        no_btn.click(lambda: (gr.Row(visible=False), None), None, [confirm, pending], **quiet)
        timer.tick(sync, [seen, pick, within], lib_io, **quiet)
        demo.load(sync, [seen, pick, within], lib_io, **quiet)
        gr.api(ask, api_name="ask")
    return demo


def launch_options(settings: Settings, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments of `launch`: sign-in, the address to bind, the upload limit, the page style."""
    env = dict(os.environ if env is None else env)
    users = webui.users_from_env(env)
    host, note = webui.server_name(env, signed_in=bool(users))
    if note:
        print(note, file=sys.stderr)
    return {
        "server_name": host,
        "auth": users or None,
        "auth_message": "Sign in with your staff account." if users else None,
        "max_file_size": settings.max_upload_bytes,
        "blocked_paths": webui.private_paths(settings),
        "css": CSS,
        # System fonts: the default theme fetches web fonts, which a staff network may not reach.
        "theme": gr.themes.Soft(primary_hue="amber", secondary_hue="slate",
                                font=["ui-sans-serif", "system-ui", "sans-serif"],
                                font_mono=["ui-monospace", "monospace"]),
        "footer_links": ["api"],
        "run_history": False,   # questions about staff documents stay out of the browser's storage
    }


def main(settings: Settings | None = None) -> None:
    """Open the assistant (building the index from corpus/ when missing, with progress) and serve the chat."""
    settings = settings or Settings.from_env()
    bot = open_assistant(settings, progress=True)
    done = webui.catch_up(bot, webui.uploads_dir(settings))
    if done:
        print(f"Uploads: {done}", file=sys.stderr, flush=True)
    build_app(bot, settings).queue().launch(**launch_options(settings))


if __name__ == "__main__":
    main()
