"""Printing: the store's documents as PDF (or the OMS's ZPL label), built from the tablet's
replica so they print during a WAN outage, and the hub's printers (CUPS `lp`, raw 9100).

    printable(store, "slip", "W-1001", now)   -> Printable (bytes, media type)
    send(Printers(printer="front"), doc)      -> "Sent to the printer front."
    print_url(link_key(data_dir), "slip", "W-1001", now) -> a signed hub link

No Flet here: the CLI (`storeapp print`), the hub's page route (`storeapp.pages.documents`)
and the Print dialog's view-model use the same functions.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._errors import NothingToPrint, PrinterError, PrintingError
    from ._links import LINK_TTL, check_token, link_key, print_url, sign_token
    from ._printers import Printers, send
    from ._source import PDF, ZPL, DocKind, Printable, kinds_for, printable

# Each name is imported from its module when first asked for (PEP 562): the hub builds its
# `Printers` before it serves, and must not load fpdf2, the barcodes and the local store for it.
_HOME = {
    **dict.fromkeys(("NothingToPrint", "PrinterError", "PrintingError"), "_errors"),
    **dict.fromkeys(("LINK_TTL", "check_token", "link_key", "print_url", "sign_token"), "_links"),
    **dict.fromkeys(("Printers", "send"), "_printers"),
    **dict.fromkeys(("PDF", "ZPL", "DocKind", "Printable", "kinds_for", "printable"), "_source"),
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "LINK_TTL",
    "PDF",
    "ZPL",
    "DocKind",
    "NothingToPrint",
    "Printable",
    "PrinterError",
    "Printers",
    "PrintingError",
    "check_token",
    "kinds_for",
    "link_key",
    "print_url",
    "printable",
    "send",
    "sign_token",
]
