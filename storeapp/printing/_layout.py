"""One printed sheet (fpdf2): headings, text, a table, and barcodes and QR codes made by their
libraries (Code 128 by python-barcode, QR by segno), placed as PNG images.

The core PDF fonts speak Latin-1 only: a character outside it prints as "?" rather than
failing the document (a customer's name is never a reason not to print).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import barcode
import segno
from barcode.writer import ImageWriter
from fpdf import FPDF
from fpdf.enums import XPos, YPos

__all__ = ["LABEL", "PAGE", "Sheet", "latin1"]

PAGE = "A4"
LABEL = (101.6, 152.4)  # 4 × 6 in, the usual parcel and shelf label, in mm


def latin1(text: object) -> str:
    return str(text).encode("latin-1", "replace").decode("latin-1")


class Sheet:
    """A PDF being written top to bottom; `pdf()` gives its bytes."""

    def __init__(self, title: str, size: str | tuple[float, float] = PAGE) -> None:
        self._pdf = FPDF(format=size)
        self._pdf.set_title(latin1(title))
        self._pdf.set_creator("storeapp")
        self._pdf.set_auto_page_break(auto=True, margin=12)
        self._pdf.set_margins(8, 8, 8)
        self._pdf.add_page()
        self._pdf.set_font("Helvetica", size=11)

    @property
    def width(self) -> float:
        return float(self._pdf.epw)

    def new_page(self) -> None:
        self._pdf.add_page()

    def heading(self, text: str, size: int = 18) -> None:
        self._pdf.set_font("Helvetica", "B", size)
        self._pdf.multi_cell(0, size * 0.5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._pdf.set_font("Helvetica", size=11)
        self._pdf.ln(1)

    def text(self, text: str, size: int = 11, bold: bool = False) -> None:
        self._pdf.set_font("Helvetica", "B" if bold else "", size)
        self._pdf.multi_cell(0, size * 0.5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._pdf.set_font("Helvetica", size=11)

    def gap(self, mm: float = 3) -> None:
        self._pdf.ln(mm)

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[int]
    ) -> None:
        """A table whose columns share the width as `widths` say (relative)."""
        self._pdf.set_font("Helvetica", size=10)
        with self._pdf.table(
            col_widths=tuple(widths), text_align="LEFT", line_height=5.5, first_row_as_headings=True
        ) as table:
            for values in (header, *rows):
                line = table.row()
                for value in values:
                    line.cell(latin1(value))
        self._pdf.set_font("Helvetica", size=11)

    def _room(self, height: float) -> None:
        if self._pdf.get_y() + height > self._pdf.h - self._pdf.b_margin:
            self._pdf.add_page()

    def code128(
        self, value: str, width: float = 70, height: float = 16, caption: bool = True
    ) -> None:
        """`value` as a Code 128 barcode, its text under it."""
        self._room(height + 6)
        image = io.BytesIO()
        barcode.get("code128", value, writer=ImageWriter()).write(
            image,
            options={"write_text": False, "module_height": 12.0, "quiet_zone": 6.5, "dpi": 300},
        )
        image.seek(0)
        self._pdf.image(image, x=self._pdf.l_margin, w=width, h=height)
        if caption:
            self.text(value, size=9)
        self._pdf.ln(1)

    def qr(self, value: str, size: float = 30) -> None:
        """`value` as a QR code (`size` mm square)."""
        self._room(size + 2)
        image = io.BytesIO()
        segno.make_qr(value, error="m").save(image, kind="png", scale=10, border=4)
        image.seek(0)
        self._pdf.image(image, x=self._pdf.l_margin, w=size, h=size)
        self._pdf.ln(1)

    def pdf(self) -> bytes:
        return bytes(self._pdf.output())
