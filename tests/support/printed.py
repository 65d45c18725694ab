"""Read a printed document back as a person and a scanner would: its text (pypdf) and the
barcodes and QR codes on its pages (rendered by pypdfium2, decoded by zxing-cpp)."""

from __future__ import annotations

import io

import pypdfium2
import zxingcpp
from pypdf import PdfReader

__all__ = ["codes", "page_count", "text"]


def text(pdf: bytes) -> str:
    """Every page's text, one string (whitespace runs made one space)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def codes(pdf: bytes, scale: float = 3.0) -> list[tuple[str, str]]:
    """(format, value) of every barcode and QR code, page by page, top to bottom."""
    found: list[tuple[str, str]] = []
    doc = pypdfium2.PdfDocument(pdf)
    try:
        for page in doc:
            image = page.render(scale=scale).to_pil()
            results = zxingcpp.read_barcodes(image)
            results.sort(key=lambda r: (r.position.top_left.y, r.position.top_left.x))
            found.extend((str(r.format).split(".")[-1], r.text) for r in results)
    finally:
        doc.close()
    return found
