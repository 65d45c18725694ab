"""What goes wrong when printing, in words for the screen or the terminal.

PrintingError
 ├─ NothingToPrint   the order, the return or the document is not on this tablet
 └─ PrinterError     no printer configured, or it did not take the job
"""

from __future__ import annotations

__all__ = ["NothingToPrint", "PrinterError", "PrintingError"]


class PrintingError(Exception):
    """Base class: str(exc) is a sentence for the associate."""


class NothingToPrint(PrintingError):
    pass


class PrinterError(PrintingError):
    pass
