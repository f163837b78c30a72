"""The shape of a plain-text or Markdown page: its title, its headings, and the boilerplate lines to skip.

Works on lines and leaves the text untouched: headings become `Section`s and boilerplate becomes `skip`
spans, so offsets stay exact. It recognises the chrome of scraped pages (share buttons, "Read more",
"You may also like", counters); it does not try to understand tables or columns.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from embeddings.documents import Document, Section

BOILERPLATE = re.compile(
    r"(?:\d{1,6}|share|share this|copy|copy link|read more|see more|show more|load more|you may also like"
    r"|related(?: articles| posts| news| stories)?|popular \w+|latest [\w ]{0,30}news|trending now|subscribe"
    r"|subscribe now|follow us|sign up|sign in|log ?in|advertisement|sponsored|print|email|tweet|comments?"
    r"|back to top|next article|previous article|tags?|home)",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[•\-*–·▪◦]|\d{1,3}[.)]|\([ivxlcdm\d]{1,6}\))\s", re.IGNORECASE)
_ROMAN_HEADING = re.compile(r"^[IVXLC]{1,6}\.\s")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BYLINE = re.compile(r"^by\b\W|.*\|", re.IGNORECASE)   # "By: author|date" is metadata, not a heading
_FAQ = re.compile(r"\b(?:frequently asked questions|faqs?)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")
_DIVISION = re.compile(   # a numbered division's heading: "ARTICLE 3", "Schedule 2 Prices"
    r"(?:article|section|part|chapter|schedule|appendix|annex|exhibit|clause|title)\s+(?:\d|[ivxlc]+\b)", re.I)
TITLE_WITHIN = 5               # the title is one of the first lines of text ...
TITLE_CHARS = 1_000            # ... and starts within this many characters: no heading-like line further down
RUNNING_REPEATS = 3            # a stand-alone line with a number that recurs this often is a running header or footer
RUNNING_REPEATS_PLAIN = 5      # ... and one without a number this often ("CONFIDENTIAL TREATMENT REQUESTED")
_HEADING_MAX_WORDS = 20
# A line ending with one of these words is a sentence cut short (by a page break), not a heading.
_RUNS_ON_WORDS = frozenset(
    "the a an and or of such shall may will must which whose its their with by from between than as be is are".split())
_HEADING_MAX_CHARS = 160


@dataclass(frozen=True, slots=True)
class Layout:
    title: str
    sections: tuple[Section, ...]
    skip: tuple[tuple[int, int], ...]   # boilerplate, and the title line: kept in the text, never indexed


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line's stripped content; blank lines give start == end."""
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        lead = len(body) - len(body.lstrip())
        yield pos + lead, pos + len(body.rstrip())
        pos += len(line)


def line_shape(line: str) -> str:
    """A line with its white space collapsed and its numbers masked: "Page 3 of 9" and "Page 4  of 9" are the same
    running footer."""
    return _NUMBER.sub("#", " ".join(line.split())).lower()


def _running(lines: list[str], alone: list[bool]) -> set[int]:
    """Indexes of the stand-alone lines that recur through the text as a paged original's running headers and
    footers ("Source: ACME INC., 8-K, 1/7/2019", "E - 5", "Page 3 of 12"): a shape (`line_shape`) met
    RUNNING_REPEATS times with a number in it, RUNNING_REPEATS_PLAIN times without. A heading repeated less
    often ("Eligibility" under each of two benefits) stays a heading, and so does a numbered division ("ARTICLE 3",
    "Schedule 2 Prices")."""
    shapes = [line_shape(line) if ok and any(c.isalpha() for c in line) and not _DIVISION.match(line) else ""
              for line, ok in zip(lines, alone)]
    seen = Counter(shape for shape in shapes if shape)
    return {i for i, shape in enumerate(shapes)
            if shape and seen[shape] >= (RUNNING_REPEATS if "#" in shape else RUNNING_REPEATS_PLAIN)}


def is_boilerplate(line: str) -> bool:
    return bool(BOILERPLATE.fullmatch(line.strip()))


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    return (
        2 <= len(words) <= _HEADING_MAX_WORDS
        and len(line) <= _HEADING_MAX_CHARS
        and line[-1] not in ".,;:!\"”'’)"
        and not _BULLET.match(line)
        and not _BYLINE.match(line)
        and any(c.isalpha() for c in line)
        and words[-1].lower() not in _RUNS_ON_WORDS
    )


def analyse(text: str, markdown: bool = False) -> Layout:
    """Title, headings and skip spans of `text`; a heading must stand alone between blank or boilerplate lines.
    Running headers and footers of a paged original (`_running`) are skipped like boilerplate."""
    spans = list(_lines(text))
    kinds: list[str] = []
    for start, end in spans:
        line = text[start:end]
        kinds.append("blank" if start == end else "skip" if is_boilerplate(line) else "text")

    def alone(i: int) -> bool:
        before = i == 0 or kinds[i - 1] in ("blank", "skip")
        after = i == len(spans) - 1 or kinds[i + 1] in ("blank", "skip")
        return before and after

    def cut_short(i: int) -> bool:
        """Whether the next line of text opens in lower case: line i is a sentence a page break cut, no heading."""
        following = next((j for j in range(i + 1, len(spans)) if kinds[j] == "text"), None)
        return following is not None and text[spans[following][0]:spans[following][0] + 1].islower()

    lines = [text[start:end] for start, end in spans]
    for i in _running(lines, [kind == "text" and alone(i) and not (markdown and _MD_HEADING.match(lines[i]))
                              for i, kind in enumerate(kinds)]):
        kinds[i] = "skip"
    title = ""
    sections: list[Section] = []
    skip: list[tuple[int, int]] = [(s, e) for (s, e), k in zip(spans, kinds) if k == "skip"]
    in_faq = False
    lines_before = 0       # lines of text up to this one
    for i, ((start, end), kind) in enumerate(zip(spans, kinds)):
        if kind != "text":
            continue
        lines_before += 1
        line = text[start:end]
        md = _MD_HEADING.match(line) if markdown else None
        if md:
            level = len(md.group(1))
            h_start = start + md.start(2)
            heading = Section(md.group(2), h_start, h_start + len(md.group(2)), level)
            # the "##" before it (and any after it) is markup, not text to index
            skip.extend(span for span in ((start, h_start), (heading.end, end)) if text[span[0]:span[1]].strip())
        elif (not title and not sections and lines_before <= TITLE_WITHIN and start <= TITLE_CHARS
              and _looks_like_heading(line) and alone(i) and not cut_short(i)):
            heading = Section(line, start, end, 0)
        elif not markdown and alone(i) and _looks_like_heading(line) and not cut_short(i):
            level = 2 if _ROMAN_HEADING.match(line) or (in_faq and line.endswith("?")) else 1
            heading = Section(line, start, end, level)
        else:
            continue
        if heading.level <= 1:
            in_faq = bool(_FAQ.search(heading.heading))
        if heading.level == 0 or (markdown and not title and heading.level == 1):
            title = heading.heading   # the title names the document; it is not one of its sections
            skip.append((start, end))
            continue
        sections.append(heading)
    skip.sort()
    return Layout(title=title, sections=tuple(sections), skip=tuple(skip))


def segments(document: Document) -> list[tuple[int, int, str]]:
    """(start, end, section path) of the spans to index: text between headings, without skip spans.

    Whitespace at either end of a span is trimmed; empty spans are dropped.
    """
    cuts = sorted([(s.start, s.end) for s in document.sections] + list(document.skip))
    out: list[tuple[int, int, str]] = []
    pos = 0
    text = document.text
    for cut_start, cut_end in cuts + [(len(text), len(text))]:
        start, end = pos, cut_start
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            out.append((start, end, document.section_path(start)))
        pos = max(pos, cut_end)
    return out
