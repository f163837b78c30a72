"""The shape of a plain-text or Markdown page: its title, its headings, and the boilerplate lines to skip.

Works on lines and leaves the text untouched: headings become `Section`s and boilerplate becomes `skip`
spans, so offsets stay exact. It recognises the chrome of scraped pages (share buttons, "Read more",
"You may also like", counters); it does not try to understand tables or columns.
"""
from __future__ import annotations

import re
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
_HEADING_MAX_WORDS = 20
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
    )


def analyse(text: str, markdown: bool = False) -> Layout:
    """Title, headings and skip spans of `text`; a heading must stand alone between blank or boilerplate lines."""
    spans = list(_lines(text))
    kinds: list[str] = []
    for start, end in spans:
        line = text[start:end]
        kinds.append("blank" if start == end else "skip" if is_boilerplate(line) else "text")

    def alone(i: int) -> bool:
        before = i == 0 or kinds[i - 1] in ("blank", "skip")
        after = i == len(spans) - 1 or kinds[i + 1] in ("blank", "skip")
        return before and after

    title = ""
    sections: list[Section] = []
    skip: list[tuple[int, int]] = [(s, e) for (s, e), k in zip(spans, kinds) if k == "skip"]
    in_faq = False
    for i, ((start, end), kind) in enumerate(zip(spans, kinds)):
        if kind != "text":
            continue
        line = text[start:end]
        md = _MD_HEADING.match(line) if markdown else None
        if md:
            level = len(md.group(1))
            h_start = start + md.start(2)
            heading = Section(md.group(2), h_start, h_start + len(md.group(2)), level)
            # the "##" before it (and any after it) is markup, not text to index
            skip.extend(span for span in ((start, h_start), (heading.end, end)) if text[span[0]:span[1]].strip())
        elif not title and not sections and _looks_like_heading(line) and alone(i):
            heading = Section(line, start, end, 0)
        elif not markdown and alone(i) and _looks_like_heading(line):
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
