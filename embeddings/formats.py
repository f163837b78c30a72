"""Text extractors for rich files (HTML, PDF, DOCX): bytes in, plain text with its title and headings out.

Each format is reduced to a list of blocks, `(level, text)` with level 0 for body text, 1-9 for a heading
and SKIP for page furniture, and one helper (`_assemble`) joins them with blank lines and records every
heading's span, so `text[s.start:s.end] == s.heading` holds for every section. Images, comments, headers
and footers, footnotes and embedded objects are left out; a PDF's running headers, footers and page
numbers cannot be told apart as reliably, so they stay in the text as skip spans (shown, never indexed).
Nothing here does OCR.
"""
from __future__ import annotations

import io
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import docx
import trafilatura
from docx.table import Table
from pypdf import PdfReader
from pypdf.errors import DependencyError
from trafilatura.settings import DEFAULT_CONFIG

from embeddings.documents import Section
from embeddings.layout import line_shape

# pypdf reports damage it reads past ("invalid pdf header", "EOF marker not found") through logging; without a
# handler of its own Python prints those on the user's terminal. They stay in the log for whoever configures one.
logging.getLogger("pypdf").addHandler(logging.NullHandler())

BLOCK_SEPARATOR = "\n\n"
SKIP = -1   # block level of page furniture: running headers and footers, page numbers
PAGE = -2   # block level of a page break marker (its text is ignored)

Block = tuple[int, str]  # (0, paragraph), (heading level 1-9, heading), (SKIP, furniture) or (PAGE, "")


@dataclass(frozen=True, slots=True)
class Extracted:
    """Text pulled out of a rich file, with its title and headings (offsets into `text`)."""

    text: str
    title: str
    sections: tuple[Section, ...]           # text[s.start:s.end] == s.heading
    skip: tuple[tuple[int, int], ...] = ()  # page furniture: kept in the text, never indexed
    pages: tuple[int, ...] = ()             # start offset of each page (PDF); empty for unpaged formats


class FormatError(Exception):
    """A file that cannot be read as its format says; the message is the reason, for the user."""


def _collapse(text: str) -> str:
    """Runs of whitespace (newlines included) as single spaces, ends stripped."""
    return " ".join(text.split())


def _assemble(blocks: Iterable[Block], title: str, empty: str, guess_title: bool = True) -> Extracted:
    """Join non-empty blocks with blank lines; headings become sections and furniture skip spans at their offsets.

    The title is `title` when given, else (with `guess_title`) the first level-1 heading, else the first line
    of the text. A PAGE block records where the next page's text starts. Raises FormatError(`empty`) when no
    block but furniture holds any text.
    """
    parts: list[str] = []
    sections: list[Section] = []
    skip: list[tuple[int, int]] = []
    pages: list[int] = []
    offset = 0
    for level, block in blocks:
        if level == PAGE:
            pages.append(offset + len(BLOCK_SEPARATOR) if parts else 0)
            continue
        block = block.strip()
        if not block:
            continue
        if parts:
            offset += len(BLOCK_SEPARATOR)
        if level == SKIP:
            skip.append((offset, offset + len(block)))
        elif level:
            sections.append(Section(block, offset, offset + len(block), level))
        parts.append(block)
        offset += len(block)
    if len(parts) == len(skip):
        raise FormatError(empty)
    text = BLOCK_SEPARATOR.join(parts)
    title = _collapse(title)
    if not title and guess_title:
        title = next((s.heading for s in sections if s.level == 1), "") or text.lstrip().split("\n", 1)[0]
    return Extracted(text, _collapse(title), tuple(sections), tuple(skip), tuple(pages))


# --- HTML -------------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
# Browsers read these labels as windows-1252 (WHATWG Encoding), which gives curly quotes and dashes
# where latin-1 would give invisible C1 control characters.
_WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii"}
# Below this many characters trafilatura distrusts its main-content pick and dumps the page flat.
_TRUSTED_SIZE = DEFAULT_CONFIG.getint("DEFAULT", "MIN_EXTRACTED_SIZE")
_HIDDEN = "//script|//style|//noscript|//template|//head|//svg|//iframe|//object|//*[@hidden]"
# Elements that end a paragraph, in HTML and in trafilatura's XML (p, head, list/item, table/row, quote, lb).
_BREAKS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "form", "header", "hr", "item", "lb", "li", "list", "main", "nav", "ol", "p", "pre", "quote",
    "row", "section", "table", "tr", "ul",
}
_CELLS = {"cell", "td", "th"}


def _decode_html(data: bytes) -> str:
    """The page as text: in its declared charset (<meta charset>) when it decodes, else UTF-8."""
    declared = _META_CHARSET.search(data[:4096])
    label = declared.group(1).decode("ascii", "replace").lower() if declared else ""
    candidates = ("cp1252", "latin-1") if label in _WINDOWS_1252_LABELS else (label,) if label else ()
    for encoding in (*candidates, "utf-8"):
        try:
            return data.decode(encoding).removeprefix("\ufeff")  # a byte-order mark is not text
        except (LookupError, UnicodeDecodeError):  # unknown label, or bytes not in that charset
            continue
    tried = f"as its declared charset {label!r} nor " if label else ""
    raise FormatError(
        f"cannot decode this HTML page {tried}as UTF-8: save it as UTF-8, or declare its real charset "
        "with <meta charset=...>"
    )


def _heading_level(element) -> int:
    """1-6 for an HTML <hN> or a trafilatura <head rend="hN">, 0 for anything else."""
    tag = element.tag
    if tag == "head":
        match = re.fullmatch(r"h([1-6])", element.get("rend", ""))
        # trafilatura also makes heads of heading-like elements without a level: subheadings, then.
        return int(match.group(1)) if match else 2
    return int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else 0


def _tree_blocks(root) -> list[Block]:
    """The text of an element tree, split into paragraphs at block elements; headings kept apart.

    Works on an HTML tree and on trafilatura's XML body alike; table cells are joined by " | ".
    """
    blocks: list[Block] = []
    line: list[str] = []

    def flush() -> None:
        blocks.append((0, _collapse("".join(line))))
        line.clear()

    def walk(element) -> None:
        for child in element:
            if not isinstance(child.tag, str):  # a comment or processing instruction: only its tail shows
                line.append(child.tail or "")
                continue
            tag = child.tag
            if level := _heading_level(child):
                flush()
                blocks.append((level, _collapse("".join(child.itertext()))))
            else:
                if tag in _CELLS and child.getprevious() is not None:
                    line.append(" | ")
                if tag in _BREAKS:
                    flush()
                line.append(child.text or "")
                walk(child)
                if tag in _BREAKS:
                    flush()
            line.append(child.tail or "")

    line.append(root.text or "")
    walk(root)
    flush()
    return blocks


def _main_content(page: str) -> tuple[list[Block], str]:
    """trafilatura's main content as blocks, and the page title from its metadata ('' if none)."""
    blocks: list[Block] = []
    title = ""
    # Without an <article>-like container trafilatura's default pass keeps only paragraphs, dropping
    # headings and lists (real content); its recall pass keeps them, with a little more boilerplate.
    for favor_recall in (False, True):
        found = trafilatura.bare_extraction(page, include_comments=False, include_tables=True,
                                            include_formatting=True, with_metadata=True,
                                            favor_recall=favor_recall)
        if found is not None and found.body is not None:
            blocks, title = _tree_blocks(found.body), found.title or title
        if any(level for level, _ in blocks):
            break
    return blocks, title


def extract_html(data: bytes) -> Extracted:
    """The main content of a web page: navigation, share buttons, footers and link lists are dropped.

    Uses trafilatura's main-content extraction (`_main_content`). On a tiny page (less text than
    trafilatura trusts, where it would dump the page flat) falls back to all visible text, split at
    block elements so headings and paragraphs survive. Scripts, styles and images never become text.
    Title: the page's metadata (<title>, og:title), else the first h1. Raises FormatError when the
    bytes do not decode or the page holds no text.
    """
    page = _decode_html(data)
    blocks, title = _main_content(page)
    root = trafilatura.load_html(page) if sum(len(text) for _, text in blocks) < _TRUSTED_SIZE else None
    if root is not None:
        title = title or root.findtext(".//title") or ""
        for hidden in root.xpath(_HIDDEN):
            hidden.drop_tree()  # keeps the element's tail, which is visible text of its parent
        visible = _tree_blocks(root)
        blocks = visible if any(text for _, text in visible) else blocks
    return _assemble(blocks, title, "no text found in this HTML page")


# --- PDF --------------------------------------------------------------------------------------------

_NUMBERED = re.compile(r"(\d+(?:\.\d+)*)\.?\s+\S")  # "2.1 Scope" -> level 2
# A line that is only a page number: "7", "- 7 -", "(7)", "Page 7", "Page 7 of 12", "7 / 12", "p. 7", "vii".
_ROMAN = r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_PAGE_NUMBER = re.compile(
    rf"(?:page|p\.|pg\.?)?\s*[-–—(\[]?\s*(?:\d{{1,4}}|{_ROMAN})\s*[-–—)\]]?(?:\s*(?:of|/)\s*\d{{1,4}})?", re.IGNORECASE
)
_EDGE_LINES = 4   # lines at either end of a page's text where running headers and footers are looked for
_PLACEHOLDER_TITLES = {"untitled", "untitled document", "document", "title"}  # reportlab's and printers' defaults


def _pdf_furniture(pages: list[list[str]]) -> list[set[int]]:
    """Per page, the indexes of its running header and footer lines and its page number.

    Furniture is a run of lines from the top or the bottom of a page's text (at most `_EDGE_LINES`), each a
    page number or a line that (numbers masked) starts or ends at least half the pages (two at least), and
    does not start in lower case; a line repeated within the run (a title equal to the running header) ends
    it. Body text in the middle of a page is never furniture.
    """
    repeats = max(2, (len(pages) + 1) // 2)

    def edges(lines: list[str]) -> tuple[list[int], list[int]]:
        filled = [i for i, line in enumerate(lines) if line]
        return filled[:_EDGE_LINES], filled[::-1][:_EDGE_LINES]

    seen_top: Counter[str] = Counter()
    seen_bottom: Counter[str] = Counter()
    for lines in pages:
        top, bottom = edges(lines)
        seen_top.update({line_shape(lines[i]) for i in top})
        seen_bottom.update({line_shape(lines[i]) for i in bottom})
    furniture: list[set[int]] = []
    for lines in pages:
        found: set[int] = set()
        for run, seen in zip(edges(lines), (seen_top, seen_bottom)):
            shapes: set[str] = set()
            for i in run:
                shape = line_shape(lines[i])
                running = seen[shape] >= repeats and not lines[i][0].islower()  # body text runs on in lower case
                if shape in shapes or not (running or _PAGE_NUMBER.fullmatch(lines[i])):
                    break
                shapes.add(shape)
                found.add(i)
        furniture.append(found)
    return furniture


def _looks_like_heading(line: str) -> bool:
    """A short capitalised line with no final punctuation."""
    return (
        0 < len(line) <= 80 and len(line.split()) <= 12
        and (line[0].isupper() or line[0].isdigit()) and any(c.isalpha() for c in line)
        and line[-1] not in ".,;:!?"
    )


def _pdf_page_blocks(
    lines: list[str], furniture: set[int], outlined: dict[str, int] | None, repeated: set[str]
) -> Iterator[Block]:
    """A page's lines as blocks: furniture and heading lines apart, runs of body lines kept with their newlines.

    With an outline, a heading is a line equal to a pending outline title (`outlined`, title -> level, each
    used once). Without (`outlined` None), a heading is a line that starts a paragraph, looks like one
    (`_looks_like_heading`), does not repeat on other pages, and is followed by longer text or by another
    heading ("Policy title" over "1. Scope"); a line whose text runs on (the next line starts in lower case,
    or it is nearly as long as the page's longest line) is a wrapped sentence, not a heading.
    """
    text_lines = [i for i, line in enumerate(lines) if line and i not in furniture]
    width = max((len(lines[i]) for i in text_lines), default=0)

    def heading_level(at: int, starts_paragraph: bool) -> int:
        line = lines[text_lines[at]]
        if not starts_paragraph or line in repeated or not _looks_like_heading(line) or at + 1 == len(text_lines):
            return 0
        following = lines[text_lines[at + 1]]
        if following[0].islower() or (len(line) >= 30 and len(line) > 0.7 * width):  # a sentence wrapping on
            return 0
        if len(following) <= len(line) and not heading_level(at + 1, True):
            return 0
        numbered = _NUMBERED.match(line)
        return numbered.group(1).count(".") + 1 if numbered else 1

    position = {i: at for at, i in enumerate(text_lines)}
    body: list[str] = []
    edge: list[str] = []
    ends_paragraph = True  # does the line before end a paragraph (or stand alone: a heading)?
    for i, line in enumerate(lines):
        if i in furniture:
            if body:
                yield 0, "\n".join(body)
                body.clear()
            edge.append(line)
            continue
        if edge:
            yield SKIP, "\n".join(edge)
            edge.clear()
        if not line:   # a blank line ends a paragraph, and stays in it as one
            body.append(line)
            ends_paragraph = True
            continue
        if outlined is not None:
            level = outlined.pop(_collapse(line), 0)
        else:
            level = heading_level(position[i], ends_paragraph)
        if level:
            yield 0, "\n".join(body)
            body.clear()
            yield level, line
        else:
            body.append(line)
        ends_paragraph = bool(level) or line[-1] in ".!?:"
    yield 0, "\n".join(body)
    yield SKIP, "\n".join(edge)


def _pdf_outline(reader) -> dict[int, dict[str, int]] | None:
    """Outline titles by the page they point at, {page: {title: level}}; None without a usable outline."""
    by_page: dict[int, dict[str, int]] = {}

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):  # the children of the item before it
                walk(item, level + 1)
                continue
            page = max(reader.get_destination_page_number(item), 0)  # -1: points nowhere known
            by_page.setdefault(page, {}).setdefault(_collapse(item.title or ""), min(level, 9))

    try:
        walk(reader.outline, 1)
    except Exception:  # a broken outline is no reason to refuse readable pages: use the heuristic
        return None
    return by_page or None


def _pdf_title(metadata_title: str, blocks: list[Block]) -> str:
    """The metadata title (placeholders and "Microsoft Word - x.docx" wrappers undone), else a title line: the
    first heading when it opens the text, else the very first line (often the running header that names the
    document) when it looks like a heading; never a numbered heading ("1. Introduction") or a page number."""
    title = _collapse(metadata_title)
    if title.startswith("Microsoft Word - "):
        title = re.sub(r"\.docx?$", "", title.removeprefix("Microsoft Word - "), flags=re.IGNORECASE)
    if title and title.lower() not in _PLACEHOLDER_TITLES:
        return title
    texts = [(level, text.strip()) for level, text in blocks if level != PAGE and text.strip()]
    opening = next(((level, text) for level, text in texts if level != SKIP), (0, ""))
    first_line = texts[0][1].split("\n", 1)[0] if texts else ""
    for line, ok in ((opening[1], opening[0] > 0), (first_line, _looks_like_heading(first_line))):
        if ok and not _NUMBERED.match(line) and not _PAGE_NUMBER.fullmatch(line):
            return line
    return ""


def extract_pdf(data: bytes) -> Extracted:
    """The text of every page, pages separated by blank lines, with headings from the outline or layout.

    Running headers, footers and page numbers (`_pdf_furniture`) stay in the text as skip spans, and every
    page's start offset is recorded. Headings come from the PDF outline (bookmarks) when it has one: each
    title is matched to the first whole line equal to it, from the page it points at on (titles that match
    no line are left out). Otherwise a heuristic picks them (`_pdf_page_blocks`), numbered ones ("2.1 Scope")
    getting their depth as level. Title: the metadata title, else a title line (`_pdf_title`), else '' (the
    loader names the document after its file). Raises FormatError for corrupt or password-protected files and
    for PDFs with no text layer (scans).
    """
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # many "protected" PDFs only restrict printing/copying
            except DependencyError as exc:  # AES needs the cryptography package, which we do not ship
                raise FormatError(f"encrypted PDF ({exc}); save an unprotected copy and add that") from exc
            if not opened:
                raise FormatError("encrypted PDF: it needs a password; save an unprotected copy and add that")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "")
    except FormatError:
        raise
    except Exception as exc:  # pypdf raises many types on malformed files (PdfReadError, KeyError, ...)
        raise FormatError(f"corrupt PDF: {exc or type(exc).__name__}") from exc
    empty = "no text found in this PDF (scanned image? run OCR first)"
    if not any(page.strip() for page in pages):
        raise FormatError(empty)
    outline = _pdf_outline(reader)
    lines = [[line.strip() for line in page.splitlines()] for page in pages]
    furniture = _pdf_furniture(lines)
    pages_with = Counter(
        line for page, skip in zip(lines, furniture) for line in {x for i, x in enumerate(page) if i not in skip}
    )
    repeated = {line for line, count in pages_with.items() if count > 1}
    pending: dict[str, int] = {}  # outline titles not yet matched; they may start a later page
    blocks: list[Block] = []
    for number, (page, skip) in enumerate(zip(lines, furniture)):
        if outline is not None:
            pending.update(outline.get(number, {}))
        blocks.append((PAGE, ""))
        blocks.extend(_pdf_page_blocks(page, skip, None if outline is None else pending, repeated))
    return _assemble(blocks, _pdf_title(title, blocks), empty, guess_title=False)


# --- DOCX -------------------------------------------------------------------------------------------

_HEADING_STYLE = re.compile(r"Heading ([1-9])")


def _docx_level(paragraph) -> int:
    """1-9 for Title / Heading N paragraphs (or styles based on them), 0 for body text."""
    style, depth = paragraph.style, 0
    while style is not None and depth < 5:  # custom styles often derive from a built-in heading
        if style.name == "Title":
            return 1
        if match := _HEADING_STYLE.fullmatch(style.name or ""):
            return int(match.group(1))
        style, depth = style.base_style, depth + 1
    return 0


def _docx_blocks(document) -> Iterator[Block]:
    """Paragraphs and table rows (cells joined by " | ") in document order; nested tables are left out."""
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells: list = []
                for cell in row.cells:
                    if not cells or cell is not cells[-1]:  # a cell spanning columns repeats in row.cells
                        cells.append(cell)
                yield 0, " | ".join(_collapse(cell.text) for cell in cells)
        else:
            level = _docx_level(item)
            yield level, _collapse(item.text) if level else item.text  # a heading on one line


def extract_docx(data: bytes) -> Extracted:
    """The body of a Word document, paragraphs and tables; headers, footers, footnotes, images left out.

    Title / Heading N paragraphs become sections (Title at level 1). Title: the document's core
    properties, else the first Title or Heading 1, else the first line. Raises FormatError when the
    file is not a readable .docx.
    """
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_docx_blocks(document))
        title = document.core_properties.title or ""
    except Exception as exc:  # python-docx raises BadZipFile, KeyError, ValueError, ... for bad files
        raise FormatError(f"corrupt DOCX: {exc or type(exc).__name__}") from exc
    return _assemble(blocks, title, "no text found in this DOCX")
