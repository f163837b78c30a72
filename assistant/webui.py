"""What the web chat shows and does, as plain functions: escaped HTML for answers, sources and documents;
questions, uploads and removals with their notices; keeping up with the index on disk; sign-in settings.
app.py lays these out and wires them to events; nothing here imports gradio.

Every piece of document text, title, source, section and question goes through `html.escape`. A <mark> is
placed from character offsets (Quote/Found start/end into Document.text), never by searching for the text.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import sys
import traceback
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from assistant.answer import ABSTAIN_TEXT, Answer, Found, Quote, QuestionError
from assistant.question import MAX_HISTORY
from assistant.topic import last_document
from embeddings.documents import Document
from embeddings.indexer import IndexBusy, Summary, counted
from embeddings.loaders import SUPPORTED, LoadError, load
from embeddings.store import IndexUnusable

HIT_ID = "verbatim-hit"      # the <mark> the document viewer scrolls into view
CONTEXT_CHARS = 320          # a source card shows this much of its passage on each side of the quotes
# Bounds on what one answer or click sends to the browser, whatever the document: a page stays quick
# even for a multi-megabyte file or a "sentence" with no full stop in it.
QUOTE_CHARS = 4_000          # a quote longer than this is shown cut, ending in "…"
CARD_CHARS = 4_000           # a source card shows at most this much text
VIEWER_CHARS = 200_000       # the viewer shows at most this much of a document, around the quote
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


# ---------------------------------------------------------------- citations


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered source of an answer: the passage that holds some of its quotes (document offsets).

    For an abstention each nearest passage is a citation without quotes.
    """

    number: int
    doc_id: str
    source: str
    title: str
    section: str
    start: int
    end: int
    text: str                   # document.text[start:end]
    score: float
    quotes: tuple[Quote, ...]   # best first
    pages: tuple[int, ...] = ()   # PDF pages of its quotes (of the passage, for a nearest passage), ascending

    @property
    def where(self) -> str:
        """'title › section', falling back to the file name when the document has no title."""
        title = self.title or Path(self.source).name or self.doc_id
        return f"{title} › {self.section}" if self.section else title


def _holder(quote: Quote, passages: Sequence[Found]) -> Found | None:
    for p in passages:
        if p.doc_id == quote.doc_id and p.start <= quote.start and quote.end <= p.end:
            return p
    return None


def page_of(span: Any) -> int | None:
    """The PDF page a quote or passage starts on (1-based), or None: only paged documents carry one."""
    return getattr(span, "page", None)


def _pages(spans: Iterable[Any]) -> tuple[int, ...]:
    return tuple(sorted({p for p in map(page_of, spans) if p is not None}))


def page_label(pages: Sequence[int]) -> str:
    """'p. 4', 'pp. 3–5' (first to last), or '' for a document without pages."""
    if not pages:
        return ""
    return f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"


def citations(answer: Answer) -> tuple[Citation, ...]:
    """Citations numbered in the order of the quotes (best first); quotes in one passage share a number.

    A quote that no retrieved passage holds is cited on its own; an abstention cites its nearest passages.
    """
    if answer.abstained:
        return tuple(
            Citation(i, p.doc_id, p.source, p.title, p.section, p.start, p.end, p.text, p.score, (), _pages([p]))
            for i, p in enumerate(answer.passages, 1)
        )
    groups: dict[tuple[str, int, int], tuple[Quote | Found, list[Quote]]] = {}
    for quote in answer.quotes:
        span: Quote | Found = _holder(quote, answer.passages) or quote
        key = (span.doc_id, span.start, span.end)
        groups.setdefault(key, (span, []))[1].append(quote)
    return tuple(
        Citation(i, span.doc_id, span.source, span.title, span.section, span.start, span.end, span.text,
                 max(q.score for q in quotes), tuple(quotes), _pages(quotes))
        for i, (span, quotes) in enumerate(groups.values(), 1)
    )


def citation_numbers(cites: Iterable[Citation]) -> dict[tuple[str, int, int], int]:
    """(doc_id, start, end) of each quote -> the number it is cited by."""
    return {(q.doc_id, q.start, q.end): c.number for c in cites for q in c.quotes}


@dataclass(frozen=True, slots=True)
class Turn:
    """One question of a chat and its answer; `history` holds the questions asked before it, oldest first."""

    question: str
    history: tuple[str, ...]
    answer: Answer


@dataclass(frozen=True, slots=True)
class Reply:
    """What a question does to the chat: `turns` is the chat with its answer added, or None when the chat stays
    as it was; `notice` is a short message for the user ('' for none)."""

    turns: list[Turn] | None
    notice: str = ""


def take_question(bot: Any, question: str, turns: Sequence[Turn], doc_ids: Sequence[str] | None = None) -> Reply:
    """Ask `question` after the chat's earlier questions, within `doc_ids` (empty or None: every document).

    An empty question does nothing; one the assistant refuses (only punctuation, too long, a document that
    is no longer indexed) leaves the chat as it was, with the reason and the fix as the notice. The index on
    disk is swapped in first when another process (the CLI) saved a newer one.
    """
    if not isinstance(question, str) or not question.strip():
        return Reply(None)
    refresh(bot)
    doc_ids = list(doc_ids or ())
    if len(still_indexed(doc_ids, bot.documents())) < len(doc_ids):   # removed meanwhile, e.g. from another page
        return Reply(None, "a document chosen under “Ask within” is no longer in the library; the list is "
                           "refreshed in a moment: choose again, or clear it to ask every document")
    history = tuple(t.question for t in turns[-MAX_HISTORY:])
    try:
        answer = bot.ask(question, history=history, doc_ids=doc_ids or None,
                         chat_document=last_document(t.answer for t in turns))
    except QuestionError as e:
        return Reply(None, str(e))
    except Exception as e:   # a fault of ours: logged, and the page stays usable
        traceback.print_exc()
        return Reply(None, f"the question could not be answered ({type(e).__name__}: {e}); try again, and if it "
                           "keeps failing tell whoever runs this server (the details are in its log)")
    return Reply([*turns, Turn(question.strip(), history, answer)])


def refresh(bot: Any) -> bool:
    """`bot.refresh()` (swap in a newer index saved by another process), never failing the caller: when the
    index on disk cannot be read now (half-saved, damaged), the loaded one keeps answering and the reason is
    logged; the next call tries again."""
    try:
        return bot.refresh()
    except (OSError, ValueError, IndexUnusable) as e:
        print(f"the index on disk was not reloaded ({e}); answering from the one loaded", file=sys.stderr, flush=True)
        return False


# ---------------------------------------------------------------- HTML


def marked(text: str, base: int, spans: Iterable[tuple[int, int]], hit: bool = False, css: str = "") -> str:
    """`text` (which starts at document offset `base`) escaped, with each span (document offsets) in <mark>.

    Spans are clipped to the text and merged where they overlap; with `hit` the first gets id="verbatim-hit".
    """
    end_of_text = base + len(text)
    clipped = sorted((max(s, base), min(e, end_of_text)) for s, e in spans)
    merged: list[list[int]] = []
    for s, e in clipped:
        if s >= e:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out: list[str] = []
    pos = base
    for i, (s, e) in enumerate(merged):
        attrs = (f' id="{HIT_ID}"' if hit and i == 0 else "") + (f' class="{css}"' if css else "")
        out.append(_esc(text[pos - base:s - base]))
        out.append(f"<mark{attrs}>{_esc(text[s - base:e - base])}</mark>")
        pos = e
    out.append(_esc(text[pos - base:]))
    return "".join(out)


def _window(cite: Citation, radius: int, cap: int) -> tuple[int, int]:
    """Document offsets of the part of the citation's passage a card shows: its quotes and `radius` around them,
    at most `cap` characters, cut at whitespace so no word is split."""
    text = cite.text

    def back_to_space(hi: int, floor: int) -> int:   # the last whitespace before `hi`, if past `floor`
        gap_at = max(text.rfind(" ", 0, hi - cite.start), text.rfind("\n", 0, hi - cite.start))
        return max(cite.start + gap_at, floor) if gap_at >= 0 else hi

    if not cite.quotes:
        lo, hi = cite.start, min(cite.end, cite.start + 2 * radius)
    else:
        lo = max(cite.start, min(q.start for q in cite.quotes) - radius)
        hi = min(cite.end, max(q.end for q in cite.quotes) + radius)
        if lo > cite.start:
            gap = re.search(r"\s", text[lo - cite.start:])
            lo = min(lo + gap.end(), min(q.start for q in cite.quotes)) if gap else lo
        if hi < cite.end:
            hi = back_to_space(hi, max(q.end for q in cite.quotes))
    if hi - lo > cap:
        hi = back_to_space(lo + cap, lo + 1)
    return lo, hi


def _text_html(text: str, limit: int | None = None) -> str:
    # Escaped, and newlines as <br>: in a chat message a blank line would end the HTML block and let
    # Markdown reinterpret the rest. Past `limit` characters the text is cut and ends in "…".
    cut = limit is not None and len(text) > limit
    shown = _esc(text[:limit] if cut else text).replace("\r\n", "\n").replace("\n", "<br>")
    return shown + "…" if cut else shown


def answer_html(answer: Answer, cites: Sequence[Citation]) -> str:
    """The chat message: each quote verbatim with its citation number, or the plain abstention."""
    if answer.abstained:
        return f'<p class="vb-abstain">{_esc(ABSTAIN_TEXT)}</p>'
    numbers = citation_numbers(cites)
    return "".join(
        f'<p class="vb-quote">“{_text_html(q.shown, QUOTE_CHARS)}” '
        f'<span class="vb-cite">[{numbers[(q.doc_id, q.start, q.end)]}'
        f'{", " + page_label(_pages([q])) if page_of(q) is not None else ""}]</span></p>'
        for q in answer.quotes
    )


def chat_messages(turns: Iterable[Turn]) -> list[dict[str, str]]:
    """The chat as Chatbot messages, a user and an assistant message per turn (message i//2 is turn i)."""
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": f'<p class="vb-question">{_text_html(turn.question)}</p>'})
        messages.append({"role": "assistant", "content": answer_html(turn.answer, citations(turn.answer))})
    return messages


def _where_html(cite: Citation) -> str:
    # 'title ›' on a line of its own, cut to fit, so the section (what tells sources apart) shows whole.
    title = cite.where[: -len(cite.section) - 3] if cite.section else cite.where
    section = f'<span class="vb-section">{_esc(cite.section)}</span>' if cite.section else ""
    return (f'<span class="vb-where" title="{_esc(cite.where)}"><span class="vb-title">{_esc(title)}'
            f'{" ›" if cite.section else ""}</span>{section}</span>')


def _page_html(pages: Sequence[int]) -> str:
    return f'<span class="vb-page">{page_label(pages)}</span>' if pages else ""


def sources_html(answer: Answer | None, cites: Sequence[Citation]) -> str:
    """Cards beside the answer: 'title › section', the PDF page, and the quote highlighted inside its passage;
    a quote's card shows its score. After an abstention the cards are the nearest passages, without scores:
    a retrieval score beside text that does not answer would read as certainty.

    Each card carries data-cite="N"; app.py turns a click on it into opening that citation in the viewer.
    """
    if answer is None:
        return '<div class="vb-empty">Sources of the answer appear here, with the quoted sentences highlighted.</div>'
    if not cites:
        return '<div class="vb-empty">Nothing in the documents came close to this question.</div>'
    within = len(answer.doc_ids)
    scope = f" · within {within} chosen document{'s' if within != 1 else ''}" if within else ""
    if answer.abstained:
        head = (f'<div class="vb-head vb-head-near">Nearest passages{scope} — '
                f'{_esc(ABSTAIN_TEXT.split(".")[0])}</div>')
    else:
        head = f'<div class="vb-head">Sources · confidence {answer.confidence:.2f}{scope}</div>'
    cards = []
    for c in cites:
        lo, hi = _window(c, CONTEXT_CHARS, CARD_CHARS)
        body = marked(c.text[lo - c.start:hi - c.start], lo, [(q.start, q.end) for q in c.quotes])
        score = f'<span class="vb-score">score {c.score:.2f}</span>' if c.quotes else ""
        cards.append(
            f'<div class="vb-card{"" if c.quotes else " vb-near-card"}" data-cite="{c.number}" role="button" '
            f'tabindex="0" title="Open in the document viewer">'
            f'<div class="vb-card-head"><span class="vb-num">[{c.number}]</span>'
            f'{_where_html(c)}{_page_html(c.pages)}{score}</div>'
            f'<div class="vb-context">{"…" if lo > c.start else ""}{body}{"…" if hi < c.end else ""}</div>'
            f'<div class="vb-source">{_esc(c.source)}</div></div>'
        )
    return f'<div class="vb-sources">{head}{"".join(cards)}</div>'


def viewer_html(document: Document | None, cite: Citation | None) -> str:
    """The document, escaped, with the citation's passage shaded and its quotes in <mark>; the first
    quote (or, for a nearest passage, the passage itself) is <mark id="verbatim-hit"> for scrolling.

    A document longer than VIEWER_CHARS is shown as a window of that size around the hit, with a note
    of what is left out above and below. Refuses (shows a notice) when the citation's offsets no longer
    fit the text: the document changed since the answer was given.
    """
    if document is None or cite is None:
        return '<div class="vb-empty">Click a source to read it in its document, with the quote highlighted.</div>'
    text = document.text
    stale = text[cite.start:cite.end] != cite.text or any(text[q.start:q.end] != q.text for q in cite.quotes)
    if stale:
        return '<div class="vb-empty">This document changed since the answer was given; ask again.</div>'
    hit = min((q.start for q in cite.quotes), default=cite.start)
    lo = max(0, min(hit - VIEWER_CHARS // 4, len(text) - VIEWER_CHARS))
    hi = min(len(text), lo + VIEWER_CHARS)
    a, b = max(cite.start, lo), min(cite.end, hi)   # the part of the passage inside the window
    spans = [(q.start, q.end) for q in cite.quotes] if cite.quotes else [(cite.start, cite.end)]
    middle = marked(text[a:b], a, spans, hit=True, css="" if cite.quotes else "vb-near")
    above = f'<div class="vb-clip">… {lo:,} characters above are not shown</div>' if lo else ""
    below = f'<div class="vb-clip">… {len(text) - hi:,} characters below are not shown</div>' if hi < len(text) else ""
    return (
        f'<div class="vb-viewer"><div class="vb-doc-head"><span class="vb-num">[{cite.number}]</span>'
        f'<span class="vb-doc-title">{_esc(document.title or Path(document.source).name)}</span>'
        f'{_page_html(cite.pages)}'
        f'<span class="vb-source">{_esc(document.source)}</span></div>'
        f'<div class="vb-doc">{above}{_esc(text[lo:a])}<span class="vb-passage">{middle}</span>'
        f'{_esc(text[b:hi])}{below}</div></div>'
    )


def status_html(message: str, ok: bool = True) -> str:
    """A one-line notice (upload result, removal, refused question), escaped, its first letter capitalised."""
    return f'<div class="vb-status {"vb-ok" if ok else "vb-error"}">{_esc(message[:1].upper() + message[1:])}</div>'


# ---------------------------------------------------------------- library


def library_line(infos: Sequence[Any]) -> str:
    """'N documents · M passages' for the page header."""
    docs, passages = len(infos), sum(i.passages for i in infos)
    return (f'<span class="vb-stats">{docs} document{"s" if docs != 1 else ""} · '
            f'{passages:,} passage{"s" if passages != 1 else ""}</span>')


def human_size(chars: int) -> str:
    if chars < 1_000:
        return f"{chars} chars"
    if chars < 1_000_000:
        return f"{chars / 1_000:.1f} k chars"
    return f"{chars / 1_000_000:.1f} M chars"


def library_html(infos: Sequence[Any]) -> str:
    """The document list as a table: title, source, size, passages, indexed (date and minute)."""
    if not infos:
        return '<div class="vb-empty">No documents yet: drop files on the upload area.</div>'
    rows = "".join(
        f"<tr><td>{_esc(i.title or Path(i.source).name)}</td><td class=\"vb-source\">{_esc(i.source)}</td>"
        f"<td>{human_size(i.chars)}</td><td>{i.passages}</td><td>{_esc(i.indexed_at[:16].replace('T', ' '))}</td></tr>"
        for i in infos
    )
    return ('<table class="vb-library"><thead><tr><th>Title</th><th>Source</th><th>Size</th><th>Passages</th>'
            f"<th>Indexed</th></tr></thead><tbody>{rows}</tbody></table>")


def library_choices(infos: Iterable[Any]) -> list[tuple[str, str]]:
    """(label, doc_id) pairs for the remove picker and the chat's document filter."""
    return [(f"{i.title or Path(i.source).name} — {i.source}", i.doc_id) for i in infos]


def library_key(infos: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    """What a page compares to see whether the library changed since it drew it: (doc_id, indexed_at) pairs."""
    return tuple((i.doc_id, i.indexed_at) for i in infos)


def still_indexed(chosen: str | Sequence[str] | None, infos: Iterable[Any]) -> list[str]:
    """The chosen document ids (one, a list, or none) that the library still holds, in their order."""
    ids = {i.doc_id for i in infos}
    chosen = [chosen] if isinstance(chosen, str) else list(chosen or ())
    return [d for d in chosen if d in ids]


def removal_question(infos: Iterable[Any], doc_id: str | None) -> str:
    """The confirmation asked before a removal. LibraryError when nothing is picked or the document is gone."""
    if not doc_id:
        raise LibraryError("pick a document to remove first")
    info = next((i for i in infos if i.doc_id == doc_id), None)
    if info is None:
        raise LibraryError("that document is no longer in the library; pick one from the refreshed list")
    return (f"Remove {info.title or Path(info.source).name} ({info.source}) from the library? "
            "Answers will no longer quote it; an uploaded file is deleted too.")


def uploads_dir(settings: Any) -> Path:
    """Where uploaded files are kept: beside the index folder, not in it, because every index save
    replaces that folder whole (embeddings.store.save)."""
    index_dir = Path(settings.index_dir)
    return index_dir.with_name(index_dir.name + "-uploads")


def feedback_path(settings: Any) -> Path:
    """The feedback JSONL, beside the index folder for the same reason as `uploads_dir`."""
    index_dir = Path(settings.index_dir)
    return index_dir.with_name(index_dir.name + "-feedback.jsonl")


def private_paths(settings: Any) -> list[str]:
    """What the web server must never hand out as a file, even when it sits in a folder Gradio serves:
    the index (which holds every document's text), the uploaded files and the feedback."""
    return [str(p.resolve()) for p in (Path(settings.index_dir), uploads_dir(settings), feedback_path(settings))]


class LibraryError(ValueError):
    """An upload or removal refused; the message names the file, the problem and the fix."""


def upload_name(name: str, suffixes: Collection[str]) -> str:
    """A safe file name for an upload: the base name only, no NUL, no leading dots, only letters, digits,
    '.', '-', '_' and spaces, and one of the readable suffixes."""
    if "\x00" in name:
        raise LibraryError(f"{name!r}: the file name contains a NUL byte; rename the file and upload it again")
    base = re.split(r"[\\/]", name)[-1].strip()
    suffix = Path(base).suffix.lower()
    if suffix not in suffixes:
        readable = ", ".join(sorted(suffixes))
        raise LibraryError(f"{base or name!r}: {suffix or 'no suffix'} files can't be read; upload one of {readable}")
    safe = re.sub(r"[^\w.\- ]", "_", base[: -len(suffix)]).strip(" .")[:100]
    if not safe:
        raise LibraryError(f"{base!r}: the file name has no usable characters; rename the file and upload it again")
    return safe + suffix


def check_size(path: Path, name: str, max_bytes: int) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise LibraryError(
            f"{name!r} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit "
            "(VERBATIM_MAX_UPLOAD_BYTES); split it or raise the limit"
        )


Status = Literal["added", "updated", "unchanged", "refused"]

# Fixes for the loader's reasons that do not name one themselves (those that do hold a ';').
_FIXES = (
    ("the file is empty", "put text in it and upload it again"),
    ("no text found", "a scanned PDF has no text layer: run OCR on it, or upload the text as .txt or .docx"),
    ("corrupt", "open it in the program that made it, save a fresh copy and upload that"),
)


def with_fix(reason: str) -> str:
    """A loader's reason for refusing a file, with what to do about it added when it names no fix."""
    if ";" in reason:
        return reason
    fix = next((f for start, f in _FIXES if reason.startswith(start)), "fix the file and upload it again")
    return f"{reason}; {fix}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an upload did with one file; `detail` is the passages indexed, or the reason and fix of a refusal."""

    name: str
    status: Status
    detail: str = ""

    def line(self) -> str:
        mark = {"added": "✓", "updated": "✓", "unchanged": "=", "refused": "✗"}[self.status]
        text = {"added": "added", "updated": "updated (replaces the earlier upload of that name)",
                "unchanged": "unchanged (already in the library)", "refused": "refused"}[self.status]
        return f"{mark} {self.name}: {text}{' — ' + self.detail if self.detail else ''}"


@dataclass(frozen=True, slots=True)
class UploadReport:
    """Every file of one upload with its outcome, and the indexer's Summary (None when no file got that far)."""

    outcomes: tuple[Outcome, ...]
    summary: Summary | None = None

    @property
    def ok(self) -> bool:
        return all(o.status != "refused" for o in self.outcomes)

    def line(self) -> str:
        """'1 added, 0 updated, 0 unchanged, 2 refused; the library holds …', then one line per file."""
        count = {s: sum(o.status == s for o in self.outcomes) for s in ("added", "updated", "unchanged", "refused")}
        head = ", ".join(f"{n} {s}" for s, n in count.items())
        if self.summary is not None:
            head += f"; the library holds {self.summary.documents} documents, {self.summary.passages:,} passages"
        return "\n".join([head, *(o.line() for o in self.outcomes)])


def add_uploads(bot: Any, files: Sequence[str | Path], uploads_dir: Path, max_bytes: int) -> UploadReport:
    """Check every uploaded file, copy the readable ones into `uploads_dir` under safe names and index them;
    a report says per file: added, updated, unchanged, or refused with the reason and the fix. A refused file
    is neither kept nor indexed, and never stops the others.

    Raises LibraryError (naming the fix) only when the batch as a whole fails: no file, a copy that cannot be
    written, an index that cannot be saved or is busy. A copy appears whole or not at all (written under a
    hidden name, then renamed), so a crash mid-upload leaves no truncated document; a copy kept but not indexed
    (a crash, a full disk) is indexed by `catch_up` when the app next starts.
    """
    if not files:
        raise LibraryError("no file received; drop a file on the upload area or click it to choose one")
    outcomes: dict[int, Outcome] = {}
    staged: dict[int, tuple[Path, Path]] = {}   # position in `files` -> (received, kept copy)
    for n, raw in enumerate(files):
        path = Path(raw)
        try:
            name = upload_name(path.name, SUPPORTED)
            check_size(path, name, max_bytes)
            if any(dest.name == name for _, dest in staged.values()):
                raise LibraryError("another file of this upload has the same name; rename one and upload it again")
            load(path, str(uploads_dir / name))   # read it now, so a bad file never lands in the library
        except LibraryError as e:
            outcomes[n] = Outcome(path.name, "refused", _reason(str(e), path.name, path.name.strip()))
            continue
        except LoadError as e:
            outcomes[n] = Outcome(name, "refused", with_fix(str(e)))
            continue
        except OSError as e:
            outcomes[n] = Outcome(path.name, "refused",
                                  f"the upload could not be read ({e.strerror or e}); upload it again")
            continue
        staged[n] = (path, uploads_dir / name)
    summary = None
    if staged:
        _keep(staged.values(), uploads_dir)
        before = {i.source: i for i in bot.documents()}
        try:
            # tqdm bars feed the page's progress display
            summary = bot.add([dest for _, dest in staged.values()], progress=True)
        except (IndexUnusable, IndexBusy) as e:
            raise LibraryError(f"not indexed — {e}") from None
        after = {i.source: i for i in bot.documents()}
        refused = {s.source: s.reason for s in summary.skipped}
        for n, (_, dest) in staged.items():
            source, old = str(dest), before.get(str(dest))
            if source in refused:   # the indexer saw what the check above did not: the copy is not kept
                dest.unlink(missing_ok=True)
                outcomes[n] = Outcome(dest.name, "refused", with_fix(refused[source]))
            elif source not in after:
                outcomes[n] = Outcome(dest.name, "refused", "it was not indexed; upload it again")
            elif old is None:
                outcomes[n] = Outcome(dest.name, "added", _passages(after[source].passages))
            elif (old.content_hash, old.indexed_at) != (after[source].content_hash, after[source].indexed_at):
                outcomes[n] = Outcome(dest.name, "updated", _passages(after[source].passages))
            else:
                outcomes[n] = Outcome(dest.name, "unchanged")
    return UploadReport(tuple(outcomes[n] for n in sorted(outcomes)), summary)


def _reason(message: str, *names: str) -> str:
    # A LibraryError opens with "'name': "; the outcome line shows the name already.
    for name in names:
        if message.startswith(f"{name!r}: "):
            return message[len(repr(name)) + 2:]
    return message


def _passages(n: int) -> str:
    return counted(n, "passage")


def _keep(staged: Iterable[tuple[Path, Path]], uploads_dir: Path) -> None:
    """Copy each received file to its place in `uploads_dir`, whole or not at all; LibraryError when the disk
    refuses."""
    try:
        uploads_dir.mkdir(parents=True, exist_ok=True)
        for path, dest in staged:
            part = dest.with_name(f".{dest.name}.part")
            try:
                shutil.copyfile(path, part)
                os.replace(part, dest)
            finally:
                part.unlink(missing_ok=True)
    except OSError as e:
        raise LibraryError(f"cannot keep the upload in {uploads_dir} ({e.strerror or e}); free some disk space "
                           "or make that folder writable, then upload again") from None


def upload_notice(bot: Any, files: Sequence[str | Path], uploads_dir: Path, max_bytes: int) -> str:
    """`add_uploads` as the page shows it: the report, or why the whole upload failed (never an exception)."""
    try:
        return upload_html(add_uploads(bot, files, uploads_dir, max_bytes))
    except LibraryError as e:
        return status_html(str(e), ok=False)
    except Exception as e:   # a fault of ours: logged, and the page stays usable
        traceback.print_exc()
        return status_html(f"the upload failed ({type(e).__name__}: {e}); upload the files again, and if it keeps "
                           "failing tell whoever runs this server (the details are in its log)", ok=False)


def upload_html(report: UploadReport) -> str:
    """The upload's notice: the counts, then one line per file (escaped); red when any file was refused."""
    head, *lines = report.line().split("\n")
    items = "".join(f'<li class="vb-{o.status}">{_esc(line)}</li>' for o, line in zip(report.outcomes, lines))
    return (f'<div class="vb-status {"vb-ok" if report.ok else "vb-error"}">{_esc(head)}'
            f'<ul class="vb-files">{items}</ul></div>')


def remove_document(bot: Any, doc_id: str, uploads_dir: Path) -> str:
    """Drop a document from the index, and its file when it was uploaded here; returns a notice.

    The file is first renamed to a hidden name, so a crash half-way never brings the document back at
    the next start (`catch_up` finishes the removal instead).
    """
    info = next((i for i in bot.documents() if i.doc_id == doc_id), None)
    if info is None:
        raise LibraryError("that document is no longer in the library; pick one from the refreshed list")
    path = Path(info.source)
    uploaded = path.resolve().parent == uploads_dir.resolve() and path.is_file()
    aside = path.with_name(f".{path.name}.removing")
    if uploaded:
        os.replace(path, aside)
    try:
        bot.remove(doc_id)
    except BaseException as e:
        if uploaded:
            os.replace(aside, path)
        if isinstance(e, (IndexUnusable, IndexBusy)):
            raise LibraryError(f"not removed — {e}") from None
        raise
    if uploaded:
        aside.unlink()
    return f"Removed {info.title or path.name} ({info.source})."


def catch_up(bot: Any, uploads_dir: Path) -> str:
    """Finish what a crash interrupted in `uploads_dir`: drop half-written copies, complete removals, and
    index the uploaded files that the index lacks or holds an older version of (the indexer skips the
    unchanged ones by their content hash). Returns what it did ('' when there was nothing to do)."""
    if not uploads_dir.is_dir():
        return ""
    removed = 0
    for path in sorted(uploads_dir.glob(".*")):
        if path.name.endswith(".removing"):
            try:
                bot.remove(str(path.with_name(path.name[1:-len(".removing")])))
                removed += 1
            except KeyError:
                pass   # the removal had reached the index before the crash
        if path.is_file() and path.name.endswith((".part", ".removing")):
            path.unlink()
    notes = [f"finished removing {counted(removed, 'document')}"] if removed else []
    uploads = [p for p in sorted(uploads_dir.iterdir()) if p.is_file() and not p.name.startswith(".")]
    summary = bot.add(uploads) if uploads else None
    count = summary.added + summary.updated if summary else 0
    if count:
        notes.append(f"indexed {counted(count, 'upload')} an interruption had left out: "
                     f"{summary.line()}")
    return "; ".join(notes)


# ---------------------------------------------------------------- API and sign-in


def parse_history(value: Any) -> list[str]:
    """Earlier questions of a chat, from a list of strings or its JSON text ('' or None: no history).
    Their number and length are checked where every caller's history is: `Assistant.ask`."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError('history must be a JSON list of earlier questions, e.g. ["What is SoFi USD?"]') from None
    if not isinstance(value, list) or not all(isinstance(q, str) for q in value):
        raise ValueError('history must be a list of earlier questions (strings), oldest first')
    return value


def parse_chat_document(value: Any) -> str | None:
    """The doc_id of the page a chat is on (its previous answer's first quote), or None ('' or None: not known).
    One no longer indexed is no error: the chat's document is then found from the previous question."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("chat_document must be a document id: the doc_id of the previous answer's first quote")
    return value


def parse_doc_ids(value: Any) -> list[str] | None:
    """The documents to ask within, from a list of ids (or indexed paths) or its JSON text; None, '' or []:
    every document. Whether each is indexed is checked by `Assistant.ask`."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.lstrip().startswith("[") else [value]
        except json.JSONDecodeError:
            raise ValueError('doc_ids must be a JSON list of document ids, e.g. ["3f2a..."]') from None
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise ValueError("doc_ids must be a list of document ids or indexed paths (strings); "
                         "`verbatim docs` lists them")
    return value or None


def parse_users(text: str, where: str, separator: str = "\n") -> list[tuple[str, str]]:
    """'user:password' entries (blank entries and '#' comments skipped) -> (user, password) pairs."""
    users = []
    for n, entry in enumerate(text.split(separator), 1):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        user, sep, password = (part.strip() for part in entry.partition(":"))
        if not sep or not user or not password:
            raise ValueError(f"{where} entry {n} is not user:password; write each user as name:password")
        users.append((user, password))
    return users


def users_from_env(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """Staff who may sign in: VERBATIM_USERS="alice:pw,bob:pw2" and/or the lines of VERBATIM_USERS_FILE."""
    users = parse_users(env.get("VERBATIM_USERS", ""), "VERBATIM_USERS", ",")
    if env.get("VERBATIM_USERS_FILE"):
        path = Path(env["VERBATIM_USERS_FILE"])
        if not path.is_file():
            raise ValueError(f"VERBATIM_USERS_FILE={path} is not a file; point it at a file of user:password lines")
        users += parse_users(path.read_text(encoding="utf-8"), str(path))
    return users


def server_name(env: Mapping[str, str], signed_in: bool) -> tuple[str, str]:
    """The address to bind (GRADIO_SERVER_NAME, default 127.0.0.1) and a note when it was refused:
    without sign-in the chat stays on this machine."""
    wanted = env.get("GRADIO_SERVER_NAME", "") or "127.0.0.1"
    if signed_in or wanted in LOOPBACK:
        return wanted, ""
    return "127.0.0.1", (f"GRADIO_SERVER_NAME={wanted} ignored: without sign-in the chat is served on "
                         "127.0.0.1 only; set VERBATIM_USERS or VERBATIM_USERS_FILE to serve it on the network")
