"""The data that moves through indexing: documents, their sections, passages and sentences.

Every span is a pair of character offsets into `Document.text`; `document.text[start:end] == text`.
"""
from __future__ import annotations

import hashlib
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Section:
    """A heading. `start`/`end` is the heading's own span; its body runs to the next heading of level <= this."""

    heading: str
    start: int
    end: int
    level: int = 1


@dataclass(frozen=True, slots=True)
class Document:
    """One file's text, as indexed. `skip` spans (boilerplate, page headers and numbers) stay in `text` but are
    never indexed; `pages` is the start offset of each page of a paged file (PDF), empty for the others."""

    doc_id: str
    source: str
    title: str
    text: str
    sections: tuple[Section, ...] = ()
    skip: tuple[tuple[int, int], ...] = ()
    content_hash: str = field(default="")
    pages: tuple[int, ...] = ()

    def section_path(self, offset: int) -> str:
        """'Heading › Subheading' of the sections that hold `offset` ('' before the first heading)."""
        path: list[Section] = []
        for section in self.sections:
            if section.start > offset:
                break
            while path and path[-1].level >= section.level:
                path.pop()
            path.append(section)
        return " › ".join(s.heading for s in path)


def page_of(document: Document, offset: int) -> int | None:
    """The 1-based page that holds `offset` in a paged document; None for a document without pages."""
    return max(bisect_right(document.pages, offset), 1) if document.pages else None


@dataclass(frozen=True, slots=True)
class Passage:
    """A chunk of a document. Invariant: document.text[start:end] == text."""

    doc_id: str
    start: int
    end: int
    text: str
    section: str = ""


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a passage, the unit an answer quotes. Invariant: document.text[start:end] == text."""

    doc_id: str
    start: int
    end: int
    text: str


def content_hash(data: bytes) -> str:
    """sha256 of a file's bytes: equal hashes mean nothing needs re-indexing."""
    return hashlib.sha256(data).hexdigest()


def doc_id_for(path: str | Path, root: str | Path) -> str:
    """A stable id for a file: its path relative to `root` (the folder that holds the index) when inside it.

    The same file gets the same id from any working directory, re-indexing a changed file keeps it, and so does
    moving the folder together with its index.
    """
    resolved = Path(path).resolve()
    try:
        key = resolved.relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        key = resolved.as_posix()
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
