"""One `Document` per file: .txt and .md as read, .html/.htm, .pdf and .docx through their extractors.

For text files `Document.text` is exactly `Path(source).read_text(encoding="utf-8")`; boilerplate is
marked as skip spans, never cut out (a PDF's running headers and page numbers too; its page starts are kept).
Bad files raise `LoadError` with a reason a person can act on.
"""
from __future__ import annotations

from pathlib import Path

from embeddings.documents import Document, content_hash, doc_id_for
from embeddings.layout import analyse

SUPPORTED = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
             ".pdf": "pdf", ".docx": "docx"}


class LoadError(Exception):
    """A file that cannot be indexed; str() is the reason and what to do about it."""


def supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED


def load(path: Path, source: str | None = None, data: bytes | None = None, root: Path | None = None) -> Document:
    """Read and parse `path` (or its already-read `data`); `source` is the path as the user gave it, `root` the
    folder its id is keyed from (`doc_id_for`; the working directory when not given)."""
    path = Path(path)
    source = source if source is not None else str(path)
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'!r}; Verbatim reads {', '.join(SUPPORTED)}")
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise LoadError(f"cannot read the file ({exc.strerror or exc})") from exc
    if not data.strip():
        raise LoadError("the file is empty")
    if kind in ("text", "markdown"):
        text = _decode_text(data)
        layout = analyse(text, markdown=kind == "markdown")
        title, sections, skip, pages = layout.title, layout.sections, layout.skip, ()
    else:
        from embeddings import formats

        extract = {"html": formats.extract_html, "pdf": formats.extract_pdf, "docx": formats.extract_docx}[kind]
        try:
            extracted = extract(data)
        except formats.FormatError as exc:
            raise LoadError(str(exc)) from exc
        text, title, sections = extracted.text, extracted.title, extracted.sections
        skip, pages = extracted.skip, extracted.pages
    if not text.strip():
        raise LoadError("no text found in the file")
    return Document(
        doc_id=doc_id_for(path, Path.cwd() if root is None else root), source=source, title=title or path.stem.replace("_", " "),
        text=text, sections=tuple(sections), skip=tuple(skip), content_hash=content_hash(data), pages=tuple(pages),
    )


def _decode_text(data: bytes) -> str:
    """UTF-8 with universal newlines, exactly as Path.read_text(encoding="utf-8") reads it."""
    if b"\x00" in data[:8192]:
        raise LoadError("binary data, not text (it holds NUL bytes); convert it to a .txt, .pdf or .docx file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
