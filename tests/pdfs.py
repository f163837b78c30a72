"""Real PDF files for the loader and command-line tests, drawn with reportlab."""
from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas


def make_pdf(pages: list[list[tuple[int, str]]], title: str = "", outline: bool = False,
             header: Sequence[str] = (), footer: bool = False, width: int = 450) -> bytes:
    """A PDF with one list of (level, text) blocks per page: level 0 a paragraph wrapped at `width` points,
    else a heading. `header`: running header strings drawn first on every page (left, then right);
    `footer`: a "Page N of M" footer drawn last, as word processors do."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    if title:
        pdf.setTitle(title)
    for number, blocks in enumerate(pages, 1):
        pdf.setFont("Helvetica", 9)
        for x, text in zip((72, 440), header):
            pdf.drawString(x, 810, text)
        y = 770 if header else 780
        for i, (level, text) in enumerate(blocks):
            if level:
                if outline:
                    pdf.bookmarkPage(f"p{number}h{i}", top=y + 20)
                    pdf.addOutlineEntry(text, f"p{number}h{i}", level=level - 1)
                pdf.setFont("Helvetica-Bold", 18 - 2 * level)
                pdf.drawString(72, y, text)
                y -= 26
            else:
                pdf.setFont("Helvetica", 11)
                for line in simpleSplit(text, "Helvetica", 11, width):
                    pdf.drawString(72, y, line)
                    y -= 14
                y -= 12
        if footer:
            pdf.setFont("Helvetica", 9)
            pdf.drawString(280, 40, f"Page {number} of {len(pages)}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
